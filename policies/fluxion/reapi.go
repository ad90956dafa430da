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
)

// ReapiAvailable reports whether this build has the cgo backend over
// flux-sched's libreapi_cli (built with -tags fluxion).
const ReapiAvailable = true

// The C enum values must be flux-sched's match_op_t, which MatchOp mirrors.
var _ = [1]struct{}{}[int(C.CONVERGE_MATCH_WITHOUT_ALLOCATING_FUTURE)-int(MatchWithoutAllocatingFuture)]
var _ = [1]struct{}{}[int(C.CONVERGE_MATCH_ALLOCATE)-int(MatchAllocate)]

var _ Backend = (*reapiBackend)(nil)

type reapiBackend struct {
	mu     sync.Mutex
	ctx    *C.reapi_cli_ctx_t // nil once closed
	format string             // MatcherOptions.MatchFormat ("" = the cli's jgf)
}

// ReapiOptions returns the options JSON the reapi backend passes to
// reapi_cli_initialize for opt.
func ReapiOptions(opt MatcherOptions) (string, error) {
	if opt.GraphDuration != 0 && opt.GraphDuration != SystemMaxDuration {
		return "", fmt.Errorf("%w: reapi: the graph duration is fixed at %d s by libreapi_cli, got %d",
			ErrInvalid, SystemMaxDuration, opt.GraphDuration)
	}
	policy := opt.Policy
	if policy == "" {
		policy = "first"
	}
	pf := opt.PruneFilters
	if pf == "" {
		pf = DefaultPruneFilters
	}
	o := map[string]string{
		"load_format":    "jgf",
		"matcher_policy": policy,
		"prune_filters":  pf,
	}
	if opt.MatchFormat != "" {
		if err := checkMatchFormat(opt.MatchFormat); err != nil {
			return "", err
		}
		o["match_format"] = opt.MatchFormat
	}
	b, err := json.Marshal(o)
	return string(b), err
}

func openReapi(graphJGF []byte, opt MatcherOptions) (Backend, error) {
	opts, err := ReapiOptions(opt)
	if err != nil {
		return nil, err
	}
	if strings.IndexByte(string(graphJGF), 0) >= 0 {
		return nil, fmt.Errorf("%w: reapi: graph contains a NUL byte", ErrInvalid)
	}
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
	return &reapiBackend{ctx: ctx, format: opt.MatchFormat}, nil
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
		sentinel = ErrBusy
	case syscall.ENODEV:
		sentinel = ErrUnsatisfiable
	case syscall.EINVAL:
		sentinel = ErrInvalid
	case syscall.ENOENT:
		sentinel = ErrNoJob
	default:
		return fmt.Errorf("fluxion: reapi: %s: %w%s", fn, errno, msg)
	}
	// The sentinel names the errno; errors.Is(err, syscall.Errno) is not
	// offered, only the sentinels.
	return fmt.Errorf("%w: reapi: %s%s", sentinel, fn, msg)
}

func (b *reapiBackend) Match(op MatchOp, jobspec []byte, now int64) (*MatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, errClosed
	}
	if op < MatchAllocate || op > MatchWithoutAllocatingFuture {
		return nil, fmt.Errorf("%w: unknown match op %d", ErrInvalid, int(op))
	}
	if now != 0 {
		return nil, fmt.Errorf("%w: reapi: libreapi_cli has no clock; every match is at time 0, got now=%d", ErrInvalid, now)
	}
	if strings.IndexByte(string(jobspec), 0) >= 0 {
		return nil, fmt.Errorf("%w: reapi: jobspec contains a NUL byte", ErrInvalid)
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
