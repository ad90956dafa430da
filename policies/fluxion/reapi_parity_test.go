//go:build fluxion

package fluxion

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestReapiParity runs the corpus cases the cli can run (no clock, no
// status changes after loading) and the inline sequences of
// backend_parity_test.go against the Go backend and flux-sched's
// libreapi_cli, comparing per step the outcome (ok, EBUSY, ENODEV,
// EINVAL, ENOENT), the job id, reserved/at, Info's reserved/at, and the
// allocated nodes with their core and gpu counts. Cases marked
// knownDifference in the corpus log their differences instead of failing.
func TestReapiParity(t *testing.T) {
	if !ReapiAvailable {
		t.Fatal("built with -tags fluxion but ReapiAvailable is false")
	}
	for _, pc := range parityCorpus(t) {
		t.Run(pc.name, func(t *testing.T) {
			diffs := runParity(t, pc, OpenBackend, BackendGo, BackendReapi, strings.HasPrefix(pc.name, "inline-"))
			for _, d := range diffs {
				if pc.cc.KnownDifference != "" {
					t.Logf("known difference (%s): %s", pc.cc.KnownDifference, d)
				} else {
					t.Error(d)
				}
			}
		})
	}
}

// TestReapiBackendErrors checks the errno mapping and the clock rule.
func TestReapiBackendErrors(t *testing.T) {
	g := fluxiontest.Flat(t, 4, 4)
	var buf strings.Builder
	if err := g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBackend(BackendReapi, []byte(buf.String()), match.MatcherOptions{Policy: "lonode"})
	if err != nil {
		t.Fatalf("OpenBackend(reapi): %v", err)
	}
	defer b.Close()
	js := []byte(fluxiontest.Req{Slots: 1, Cores: 2}.YAML())
	if _, err := b.Match(match.MatchAllocate, js, 5); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("now=5: %v, want ErrInvalid", err)
	}
	res, err := b.Match(match.MatchAllocate, js, 0)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if res.Format != match.FormatJGF || res.JobID != 1 || res.Reserved || res.At != 0 {
		t.Errorf("allocate: %+v", res)
	}
	if _, err := b.Match(match.MatchAllocateWithSatisfiability, []byte(fluxiontest.Req{Slots: 1, Cores: 9}.YAML()), 0); !errors.Is(err, match.ErrUnsatisfiable) {
		t.Errorf("9 cores: %v, want ErrUnsatisfiable", err)
	}
	if _, err := b.Match(match.MatchAllocate, []byte(fluxiontest.Req{Nodes: 2, Slots: 1, Cores: 4}.YAML()), 0); !errors.Is(err, match.ErrBusy) {
		t.Errorf("2 whole nodes: %v, want ErrBusy", err)
	}
	if _, err := b.Match(match.MatchAllocate, []byte("version: 1\nresources: 7\n"), 0); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("bad jobspec: %v, want ErrInvalid", err)
	}
	info, err := b.Info(res.JobID)
	if err != nil || info.Reserved || info.At != 0 {
		t.Errorf("Info(%d) = %+v, %v", res.JobID, info, err)
	}
	if err := b.Cancel(res.JobID); err != nil {
		t.Errorf("Cancel: %v", err)
	}
	if err := b.Cancel(12345); !errors.Is(err, match.ErrNoJob) {
		t.Errorf("Cancel(12345): %v, want ErrNoJob", err)
	}
	if _, err := b.Info(12345); !errors.Is(err, match.ErrNoJob) {
		t.Errorf("Info(12345): %v, want ErrNoJob", err)
	}
}
