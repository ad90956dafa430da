//go:build fluxion

package fluxion

// The reapi backend: cgo over flux-sched's libreapi_cli (the C binding of
// Fluxion's resource API, resource/reapi/bindings/c). flux-sched installs
// the library (${prefix}/lib/flux/libreapi_cli.so) but not its headers, so
// the prototypes below are this project's own declarations of the C API,
// written from its documented signatures; nothing from flux-sched is
// included or copied. Library and include paths come from the
// environment (CGO_LDFLAGS, CGO_CFLAGS); see docs/fluxion-reapi.md.

/*
#cgo LDFLAGS: -lreapi_cli
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct reapi_cli_ctx reapi_cli_ctx_t;

// match_op_t (resource/policies/base/match_op.h); a C enum, passed as int.
typedef enum {
	CONVERGE_MATCH_UNKNOWN = 0,
	CONVERGE_MATCH_ALLOCATE = 1,
	CONVERGE_MATCH_ALLOCATE_W_SATISFIABILITY = 2,
	CONVERGE_MATCH_ALLOCATE_ORELSE_RESERVE = 3,
	CONVERGE_MATCH_SATISFIABILITY = 4,
	CONVERGE_MATCH_WITHOUT_ALLOCATING = 5,
	CONVERGE_MATCH_WITHOUT_ALLOCATING_FUTURE = 6
} match_op_t;

extern reapi_cli_ctx_t *reapi_cli_new (void);
extern void reapi_cli_destroy (reapi_cli_ctx_t *ctx);
extern int reapi_cli_initialize (reapi_cli_ctx_t *ctx, const char *rgraph,
                                 const char *options);
extern int reapi_cli_match (reapi_cli_ctx_t *ctx, match_op_t match_op,
                            const char *jobspec, uint64_t *jobid,
                            bool *reserved, char **R, int64_t *at,
                            double *ov);
extern int reapi_cli_cancel (reapi_cli_ctx_t *ctx, const uint64_t jobid,
                             bool noent_ok);
extern int reapi_cli_info (reapi_cli_ctx_t *ctx, const uint64_t jobid,
                           char **mode, bool *reserved, int64_t *at,
                           double *ov);
extern const char *reapi_cli_get_err_msg (reapi_cli_ctx_t *ctx);
extern void reapi_cli_clear_err_msg (reapi_cli_ctx_t *ctx);
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/convergesim/converge/policies/fluxion/match"
)

// ReapiAvailable reports whether this build has the cgo backend over
// flux-sched's libreapi_cli (built with -tags fluxion).
const ReapiAvailable = true

// The C enum values must be flux-sched's match_op_t, which MatchOp mirrors.
var _ = [1]struct{}{}[int(C.CONVERGE_MATCH_WITHOUT_ALLOCATING_FUTURE)-int(match.MatchWithoutAllocatingFuture)]
var _ = [1]struct{}{}[int(C.CONVERGE_MATCH_ALLOCATE)-int(match.MatchAllocate)]

var _ Backend = (*reapiBackend)(nil)

type reapiBackend struct {
	// mu is reapiMu: every backend shares the one lock, because
	// libreapi_cli keeps process-wide state behind its contexts (the error
	// buffer reapi_cli_t::m_err_msg is a static, the resource-type
	// interner and the perf counters are globals), so two contexts must
	// not run calls at the same time.
	mu     *sync.Mutex
	ctx    *C.reapi_cli_ctx_t // nil once closed
	format string             // MatcherOptions.MatchFormat ("" = the cli's jgf)
}

// reapiMu serialises every call into libreapi_cli (see reapiBackend.mu).
var reapiMu sync.Mutex

// reapiPrimeTypes are resource types that are not among Fluxion's
// predefined ones (cluster, rack, node, socket, core, gpu, slot, ssd, …)
// but occur in this project's graphs (memory; subnet for
// GenerateOptions.Level) or in common Fluxion graphs. The first
// reapi_cli_initialize of a process finalizes Fluxion's resource-type
// interner (resource_query_t's constructor calls
// resource_type_t::storage_t::finalize), after which a graph with a type
// the interner has not seen fails to load ("This interner is finalized
// and must be open to add strings"). So before the first real context the
// backend loads a throwaway graph with one vertex of each of these types.
// A graph with a type outside this list still loads only if it is the
// first one of the process.
var reapiPrimeTypes = []string{"memory", "subnet", "numanode", "nic", "switch", "zone", "storage", "pu"}

var reapiPrimeOnce sync.Once

// reapiPrimeJGF is a graph cluster0 > one vertex per reapiPrimeTypes.
func reapiPrimeJGF() string {
	var nodes, edges []string
	nodes = append(nodes, `{"id":"0","metadata":{"type":"cluster","basename":"cluster","name":"cluster0","id":0,"uniq_id":0,"rank":-1,"exclusive":false,"unit":"","size":1,"paths":{"containment":"/cluster0"}}}`)
	for i, t := range reapiPrimeTypes {
		id := i + 1
		nodes = append(nodes, fmt.Sprintf(`{"id":"%d","metadata":{"type":%q,"basename":%q,"name":"%s0","id":0,"uniq_id":%d,"rank":-1,"exclusive":false,"unit":"","size":1,"paths":{"containment":"/cluster0/%s0"}}}`, id, t, t, t, id, t))
		edges = append(edges, fmt.Sprintf(`{"source":"0","target":"%d","metadata":{"subsystem":"containment"}}`, id))
	}
	return `{"graph":{"nodes":[` + strings.Join(nodes, ",") + `],"edges":[` + strings.Join(edges, ",") + `]}}`
}

// reapiPrime loads reapiPrimeJGF into a throwaway context, once per
// process, before the first real one (called with reapiMu held). A
// failure is ignored: the real initialize reports its own errors.
func reapiPrime() {
	reapiPrimeOnce.Do(func() {
		ctx := C.reapi_cli_new()
		if ctx == nil {
			return
		}
		cg := C.CString(reapiPrimeJGF())
		defer C.free(unsafe.Pointer(cg))
		co := C.CString(`{"load_format":"jgf"}`)
		defer C.free(unsafe.Pointer(co))
		C.reapi_cli_initialize(ctx, cg, co)
		C.reapi_cli_clear_err_msg(ctx)
		C.reapi_cli_destroy(ctx)
	})
}

// ReapiOptions returns the options JSON the reapi backend passes to
// reapi_cli_initialize for opt.
func ReapiOptions(opt match.MatcherOptions) (string, error) {
	if opt.GraphDuration != 0 && opt.GraphDuration != match.SystemMaxDuration {
		return "", fmt.Errorf("%w: reapi: the graph duration is fixed at %d s by libreapi_cli, got %d",
			match.ErrInvalid, match.SystemMaxDuration, opt.GraphDuration)
	}
	policy := opt.Policy
	if policy == "" {
		policy = "first"
	}
	pf := opt.PruneFilters
	if pf == "" {
		pf = match.DefaultPruneFilters
	}
	o := map[string]string{
		"load_format":    "jgf",
		"matcher_policy": policy,
		"prune_filters":  pf,
	}
	if opt.MatchFormat != "" {
		if err := match.CheckMatchFormat(opt.MatchFormat); err != nil {
			return "", err
		}
		o["match_format"] = opt.MatchFormat
	}
	b, err := json.Marshal(o)
	return string(b), err
}

func openReapi(graphJGF []byte, opt match.MatcherOptions) (Backend, error) {
	opts, err := ReapiOptions(opt)
	if err != nil {
		return nil, err
	}
	if strings.IndexByte(string(graphJGF), 0) >= 0 {
		return nil, fmt.Errorf("%w: reapi: graph contains a NUL byte", match.ErrInvalid)
	}
	reapiMu.Lock()
	defer reapiMu.Unlock()
	reapiPrime()
	ctx := C.reapi_cli_new()
	if ctx == nil {
		return nil, errors.New("fluxion: reapi: reapi_cli_new failed")
	}
	cg := C.CString(string(graphJGF))
	defer C.free(unsafe.Pointer(cg))
	co := C.CString(opts)
	defer C.free(unsafe.Pointer(co))
	if rc, errno := C.reapi_cli_initialize(ctx, cg, co); rc != 0 {
		err := reapiError(ctx, "reapi_cli_initialize", errno)
		C.reapi_cli_destroy(ctx)
		return nil, err
	}
	return &reapiBackend{mu: &reapiMu, ctx: ctx, format: opt.MatchFormat}, nil
}

// reapiError turns a failed call's errno and the context's error message
// into an error wrapping the matching sentinel, and clears the message.
func reapiError(ctx *C.reapi_cli_ctx_t, fn string, err error) error {
	msg := ""
	if ctx != nil {
		if m := C.reapi_cli_get_err_msg(ctx); m != nil {
			msg = strings.TrimSpace(C.GoString(m))
			C.free(unsafe.Pointer(m))
		}
		C.reapi_cli_clear_err_msg(ctx)
	}
	if msg != "" {
		msg = ": " + msg
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno == 0 {
		return fmt.Errorf("fluxion: reapi: %s failed (no errno)%s", fn, msg)
	}
	var sentinel error
	switch errno {
	case syscall.EBUSY:
		sentinel = match.ErrBusy
	case syscall.ENODEV:
		sentinel = match.ErrUnsatisfiable
	case syscall.EINVAL:
		sentinel = match.ErrInvalid
	case syscall.ENOENT:
		sentinel = match.ErrNoJob
	default:
		return fmt.Errorf("fluxion: reapi: %s: %w%s", fn, errno, msg)
	}
	// The sentinel names the errno; errors.Is(err, syscall.Errno) is not
	// offered, only the sentinels.
	return fmt.Errorf("%w: reapi: %s%s", sentinel, fn, msg)
}

func (b *reapiBackend) Match(op match.MatchOp, jobspec []byte, now int64) (*MatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, errClosed
	}
	if op < match.MatchAllocate || op > match.MatchWithoutAllocatingFuture {
		return nil, fmt.Errorf("%w: unknown match op %d", match.ErrInvalid, int(op))
	}
	if now != 0 {
		return nil, fmt.Errorf("%w: reapi: libreapi_cli has no clock; every match is at time 0, got now=%d", match.ErrInvalid, now)
	}
	if strings.IndexByte(string(jobspec), 0) >= 0 {
		return nil, fmt.Errorf("%w: reapi: jobspec contains a NUL byte", match.ErrInvalid)
	}
	cjs := C.CString(string(jobspec))
	defer C.free(unsafe.Pointer(cjs))
	var (
		jobid    C.uint64_t
		reserved C.bool
		r        *C.char
		at       C.int64_t
		ov       C.double
	)
	rc, errno := C.reapi_cli_match(b.ctx, C.match_op_t(op), cjs, &jobid, &reserved, &r, &at, &ov)
	var R []byte
	if r != nil {
		R = []byte(C.GoString(r))
		C.free(unsafe.Pointer(r))
	}
	if rc != 0 {
		return nil, reapiError(b.ctx, "reapi_cli_match", errno)
	}
	return &MatchResult{
		JobID:    uint64(jobid),
		Reserved: bool(reserved),
		At:       int64(at),
		Overhead: float64(ov),
		R:        R,
		Format:   b.resultFormat(),
	}, nil
}

func (b *reapiBackend) Cancel(jobID uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return errClosed
	}
	if rc, errno := C.reapi_cli_cancel(b.ctx, C.uint64_t(jobID), C.bool(false)); rc != 0 {
		return reapiError(b.ctx, "reapi_cli_cancel", errno)
	}
	return nil
}

func (b *reapiBackend) Info(jobID uint64) (*JobInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, errClosed
	}
	var (
		mode     *C.char
		reserved C.bool
		at       C.int64_t
		ov       C.double
	)
	rc, errno := C.reapi_cli_info(b.ctx, C.uint64_t(jobID), &mode, &reserved, &at, &ov)
	m := ""
	if mode != nil {
		m = C.GoString(mode)
		C.free(unsafe.Pointer(mode))
	}
	if rc != 0 {
		return nil, reapiError(b.ctx, "reapi_cli_info", errno)
	}
	return &JobInfo{JobID: jobID, Mode: m, Reserved: bool(reserved), At: int64(at), Overhead: float64(ov)}, nil
}

func (b *reapiBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil {
		C.reapi_cli_destroy(b.ctx)
		b.ctx = nil
	}
	return nil
}
