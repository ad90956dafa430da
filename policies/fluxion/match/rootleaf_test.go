package match

import (
	"testing"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
)

// TestRootLeafFilter: the root's filter for the leaf types no prune
// filter names (gpu here) follows allocations, cancels, reservations and
// partial cancels, as Fluxion's cluster-level filter does. Two nodes of 4
// cores and 2 gpus under lonode.
func TestRootLeafFilter(t *testing.T) {
	g := fluxiontest.Graph(t, 0, fluxiontest.Node{Cores: 4, GPUs: 2}, fluxiontest.Node{Cores: 4, GPUs: 2})
	m := mtMatcher(t, g, "lonode")
	if len(m.leafTypes) != 1 || m.leafTypes[0] != "gpu" {
		t.Fatalf("leaf types %v, want [gpu]", m.leafTypes)
	}
	gpusFree := func() int64 { return m.rootLeaf.AvailAt(0, 0) }
	fourGPUs := fluxiontest.Req{Slots: 4, Cores: 1, GPUs: 1, Dur: 100}.Jobspec(t)
	a := mtOK(t)(m.Match(MatchAllocate, fourGPUs, 0)) // both nodes' gpus
	if got := gpusFree(); got != 0 {
		t.Fatalf("after job %d: %d gpus free at the root, want 0", a.JobID, got)
	}
	// Cores are free, gpus not: refused (at the root), and the
	// reservation starts when the job ends.
	oneGPU := fluxiontest.Req{Slots: 1, Cores: 1, GPUs: 1, Dur: 10}.Jobspec(t)
	if _, err := m.Match(MatchAllocate, oneGPU, 0); mtErrno(err) != "EBUSY" {
		t.Errorf("a gpu with none free: %v, want EBUSY", err)
	}
	r := mtOK(t)(m.Match(MatchAllocateOrElseReserve, oneGPU, 0))
	if !r.Reserved || r.At != 100 {
		t.Errorf("reservation at %d (reserved %v), want 100", r.At, r.Reserved)
	}
	if err := m.Cancel(r.JobID); err != nil {
		t.Fatal(err)
	}
	// Releasing node1 (rank 1) gives its two gpus back; the job keeps
	// node0's.
	if full, err := m.PartialCancel(a.JobID, []byte(`{"version":1,"execution":{"R_lite":[{"rank":"1","children":{"core":"0-1","gpu":"0-1"}}],"nodelist":["n1"],"starttime":0,"expiration":100}}`)); err != nil || full {
		t.Fatalf("partial cancel of job %d: full=%v, %v; want a part left", a.JobID, full, err)
	}
	if got := gpusFree(); got != 2 {
		t.Errorf("after releasing node1: %d gpus free at the root, want 2", got)
	}
	b := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 2, Cores: 1, GPUs: 1, Dur: 100}.Jobspec(t), 0))
	for _, id := range []uint64{a.JobID, b.JobID} {
		if err := m.Cancel(id); err != nil {
			t.Fatal(err)
		}
	}
	if got := gpusFree(); got != 4 {
		t.Errorf("after cancelling everything: %d gpus free at the root, want 4", got)
	}
}
