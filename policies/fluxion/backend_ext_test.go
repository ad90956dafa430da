package fluxion

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// backendExtCheck exercises UpdateAllocate, PartialCancel and SetStatus
// of a backend opened over a flat graph of 3 nodes with 4 cores each,
// policy lonode, match format rv1. It runs on the Go backend in every
// build and on the reapi backend with -tags fluxion (reapi_ext_test.go).
func backendExtCheck(t *testing.T, open func(jgf []byte, opt match.MatcherOptions) (Backend, error)) {
	g := fluxiontest.Flat(t, 4, 4, 4)
	b, err := open(backendJGF(t, g), match.MatcherOptions{Policy: "lonode", MatchFormat: match.FormatRV1})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer b.Close()
	two := []byte(fluxiontest.Req{Nodes: 2, Slots: 1, Cores: 4, Dur: 100}.YAML())
	one := []byte(fluxiontest.Req{Nodes: 1, Slots: 1, Cores: 4, Dur: 100}.YAML())
	sum := func(res *MatchResult) string {
		t.Helper()
		s, err := SummarizeR(res.Format, res.R)
		if err != nil {
			t.Fatalf("SummarizeR(%s): %v\n%s", res.Format, err, res.R)
		}
		return s.String()
	}

	res, err := b.Match(match.MatchAllocate, two, 0)
	if err != nil || res.Format != match.FormatRV1 || !strings.Contains(string(res.R), `"scheduling"`) {
		t.Fatalf("allocate: %+v, %v", res, err)
	}
	if got := sum(res); got != "node0:core=4 node1:core=4" {
		t.Errorf("allocate: %s", got)
	}
	R1 := res.R

	// Partial cancel of rank 0, then a match that takes node0 again.
	full, err := b.PartialCancel(1, []byte(`{"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0-3"}}],"nodelist":["node0"]}}`))
	if err != nil || full {
		t.Fatalf("PartialCancel(rank 0) = %v, %v", full, err)
	}
	res, err = b.Match(match.MatchAllocate, one, 0)
	if err != nil || sum(res) != "node0:core=4" {
		t.Fatalf("allocate after partial cancel: %+v, %v", res, err)
	}
	full, err = b.PartialCancel(1, []byte(`{"version":1,"execution":{"R_lite":[{"rank":"1","children":{"core":"0-3"}}],"nodelist":["node1"]}}`))
	if err != nil || !full {
		t.Fatalf("PartialCancel(rank 1) = %v, %v", full, err)
	}
	if _, err := b.PartialCancel(1, []byte(`{"version":1,"execution":{"R_lite":[{"rank":"1","children":{}}]}}`)); !errors.Is(err, match.ErrNoJob) {
		t.Errorf("PartialCancel of a removed job: %v, want ErrNoJob", err)
	}

	// Re-install job 1 from its rv1 R: node0 is job 2's now, so busy;
	// after cancelling job 2 it fits.
	// (The Go model says ErrBusy; the cli's readers fail with the
	// planner's errno.)
	if _, err := b.UpdateAllocate(1, R1, 0); err == nil {
		t.Error("UpdateAllocate over job 2: no error")
	}
	if err := b.Cancel(2); err != nil {
		t.Fatal(err)
	}
	res, err = b.UpdateAllocate(1, R1, 0)
	if err != nil {
		t.Fatalf("UpdateAllocate: %v", err)
	}
	if res.JobID != 1 || res.At != 0 || sum(res) != "node0:core=4 node1:core=4" {
		t.Errorf("UpdateAllocate: %+v %s", res, sum(res))
	}
	if _, err := b.UpdateAllocate(1, R1, 0); !errors.Is(err, match.ErrJobExists) {
		t.Errorf("UpdateAllocate of a live job: %v, want ErrJobExists", err)
	}
	if _, err := b.UpdateAllocate(5, []byte(`{"version":1,`), 0); err == nil {
		t.Error("UpdateAllocate of truncated R: no error")
	}

	// Status: node2 down makes a one-node match busy; up again, it fits.
	if err := b.SetStatus("/cluster0/node2", false); err != nil {
		t.Fatalf("SetStatus down: %v", err)
	}
	if _, err := b.Match(match.MatchAllocate, one, 0); !errors.Is(err, match.ErrBusy) {
		t.Errorf("match with node2 down: %v, want ErrBusy", err)
	}
	if err := b.SetStatus("/cluster0/node2", true); err != nil {
		t.Fatalf("SetStatus up: %v", err)
	}
	if res, err := b.Match(match.MatchAllocate, one, 0); err != nil || sum(res) != "node2:core=4" {
		t.Errorf("match with node2 up: %+v, %v", res, err)
	}
	if err := b.SetStatus("/cluster0/node9", false); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("SetStatus of a missing path: %v, want ErrInvalid", err)
	}
}

func TestGoBackendExt(t *testing.T) {
	backendExtCheck(t, func(jgf []byte, opt match.MatcherOptions) (Backend, error) {
		return OpenBackend(BackendGo, jgf, opt)
	})
	b, err := NewGoBackend(fluxiontest.Flat(t, 2), match.MatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := b.UpdateAllocate(1, []byte(`{}`), 0); !errors.Is(err, errClosed) {
		t.Errorf("closed UpdateAllocate: %v", err)
	}
	if _, err := b.PartialCancel(1, []byte(`{}`)); !errors.Is(err, errClosed) {
		t.Errorf("closed PartialCancel: %v", err)
	}
	if err := b.SetStatus("/cluster0", true); !errors.Is(err, errClosed) {
		t.Errorf("closed SetStatus: %v", err)
	}
	if _, err := OpenBackend(BackendGo, backendJGF(t, fluxiontest.Flat(t, 2)), match.MatcherOptions{MatchFormat: "rlite"}); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("MatchFormat rlite: %v, want ErrInvalid", err)
	}
}
