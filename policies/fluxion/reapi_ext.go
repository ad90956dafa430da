//go:build fluxion

package fluxion

// The reapi backend's update_allocate, partial cancel and set_status:
// cgo over libreapi_cli, as in reapi.go. The prototypes are this
// project's own declarations of the documented C API
// (resource/reapi/bindings/c/reapi_cli.h); nothing from flux-sched is
// included or copied.

/*
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct reapi_cli_ctx reapi_cli_ctx_t;

// resource_status_t (resource/reapi/bindings/c/resource_status.h); a C
// enum, passed as int.
typedef enum {
	CONVERGE_RESOURCE_UP = 0,
	CONVERGE_RESOURCE_DOWN = 1
} converge_resource_status_t;

extern int reapi_cli_update_allocate (reapi_cli_ctx_t *ctx,
                                      const uint64_t jobid, const char *R,
                                      int64_t *at, double *ov,
                                      const char **R_out);
extern int reapi_cli_partial_cancel (reapi_cli_ctx_t *ctx,
                                     const uint64_t jobid, const char *R,
                                     bool noent_ok, bool *full_removal);
extern int reapi_cli_set_status (reapi_cli_ctx_t *ctx,
                                 const char *resource_path,
                                 converge_resource_status_t status);
*/
import "C"

import (
	"fmt"
	"strings"
	"syscall"
	"unsafe"

	"github.com/convergesim/converge/policies/fluxion/match"
)

// resultFormat is the Format of the R the cli writes: the match_format
// passed to reapi_cli_initialize, or the cli's default, jgf.
func (b *reapiBackend) resultFormat() string {
	if b.format == "" {
		return match.FormatJGF
	}
	return b.format
}

// reapiExtError is reapiError plus EEXIST (ErrJobExists), which only
// update_allocate sets.
func reapiExtError(ctx *C.reapi_cli_ctx_t, fn string, err error) error {
	e := reapiError(ctx, fn, err)
	if errno, ok := err.(syscall.Errno); ok && errno == syscall.EEXIST {
		return fmt.Errorf("%w: %w", match.ErrJobExists, e)
	}
	return e
}

func (b *reapiBackend) UpdateAllocate(jobID uint64, R []byte, now int64) (*MatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return nil, errClosed
	}
	if now != 0 {
		return nil, fmt.Errorf("%w: reapi: libreapi_cli has no clock; R's times are taken from time 0, got now=%d", match.ErrInvalid, now)
	}
	if strings.IndexByte(string(R), 0) >= 0 {
		return nil, fmt.Errorf("%w: reapi: R contains a NUL byte", match.ErrInvalid)
	}
	cr := C.CString(string(R))
	defer C.free(unsafe.Pointer(cr))
	var (
		at   C.int64_t
		ov   C.double
		rout *C.char
	)
	rc, errno := C.reapi_cli_update_allocate(b.ctx, C.uint64_t(jobID), cr, &at, &ov, &rout)
	var out []byte
	if rout != nil {
		out = []byte(C.GoString(rout))
		C.free(unsafe.Pointer(rout))
	}
	if rc != 0 {
		return nil, reapiExtError(b.ctx, "reapi_cli_update_allocate", errno)
	}
	return &MatchResult{JobID: jobID, At: int64(at), Overhead: float64(ov), R: out, Format: b.resultFormat()}, nil
}

func (b *reapiBackend) PartialCancel(jobID uint64, R []byte) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return false, errClosed
	}
	if strings.IndexByte(string(R), 0) >= 0 {
		return false, fmt.Errorf("%w: reapi: R contains a NUL byte", match.ErrInvalid)
	}
	cr := C.CString(string(R))
	defer C.free(unsafe.Pointer(cr))
	var full C.bool
	rc, errno := C.reapi_cli_partial_cancel(b.ctx, C.uint64_t(jobID), cr, C.bool(false), &full)
	if rc != 0 {
		return false, reapiError(b.ctx, "reapi_cli_partial_cancel", errno)
	}
	return bool(full), nil
}

func (b *reapiBackend) SetStatus(path string, up bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil {
		return errClosed
	}
	if path == "" || strings.IndexByte(path, 0) >= 0 {
		return fmt.Errorf("%w: reapi: bad resource path %q", match.ErrInvalid, path)
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	st := C.converge_resource_status_t(C.CONVERGE_RESOURCE_DOWN)
	if up {
		st = C.CONVERGE_RESOURCE_UP
	}
	if rc, errno := C.reapi_cli_set_status(b.ctx, cp, st); rc != 0 {
		return reapiError(b.ctx, "reapi_cli_set_status", errno)
	}
	return nil
}
