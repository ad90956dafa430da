package match

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// TestMatchPoliciesFlat places four slot>core:2 jobs on two 4-core nodes
// (cluster0 -> node0{core0-3}, node1{core0-3}; uniq_ids: cluster 0,
// node0 1, its cores 2-5, node1 6, its cores 7-10), then a fifth that no
// longer fits.
//
// Scores (dfu_match_multilevel_id_impl.hpp, §4.6): a slot's score is its
// node factor (node_centric only: node id + 1) and then the sum of its
// core ids; low takes the smallest, high the largest. Ties (equal core
// ids on both nodes without node_centric) go to the node met first in
// pre-order. Inside a host, cores are taken in id order (descending for
// high). *nodex policies take each node they touch whole. first visits
// children by (edge weight, uniq_id) descending; weights start at
// UINT64_MAX, and after an allocation the edge into the node gets the
// node's free cores at now (a node's aggregate tracks only cores), so
// first goes to untouched nodes, then to the node with most free cores,
// ties to the higher uniq_id; cores come highest uniq_id first.
func TestMatchPoliciesFlat(t *testing.T) {
	cases := []struct {
		policy string
		want   []string // placements of jobs 1..4 ("" = EBUSY)
	}{
		// low: {0,1} scores 1 on both nodes -> node0 (pre-order); then
		// {0,1} on node1 (1) beats {2,3} on node0 (5); then {2,3} twice.
		{"low", []string{"node0:core0,core1", "node1:core0,core1", "node0:core2,core3", "node1:core2,core3"}},
		// high: mirror, cores taken 3,2 first; ties to node0.
		{"high", []string{"node0:core2,core3", "node1:core2,core3", "node0:core0,core1", "node1:core0,core1"}},
		// lonode: node factor 1 (node0) < 2 (node1): fill node0 first.
		{"lonode", []string{"node0:core0,core1", "node0:core2,core3", "node1:core0,core1", "node1:core2,core3"}},
		// hinode: node1 first, from its highest cores.
		{"hinode", []string{"node1:core2,core3", "node1:core0,core1", "node0:core2,core3", "node0:core0,core1"}},
		// lonodex: node0 whole, then node1 whole, then nothing is free.
		{"lonodex", []string{"node0!:core0,core1,core2,core3", "node1!:core0,core1,core2,core3", "", ""}},
		{"hinodex", []string{"node1!:core0,core1,core2,core3", "node0!:core0,core1,core2,core3", "", ""}},
		// first: node1 (uniq 6 > 1) cores 3,2 -> weight(node1) = 2;
		// node0 (weight MAX) cores 3,2 -> 2; tie 2 = 2 -> node1 (uniq)
		// cores 1,0 -> 0; node0 (2) cores 1,0.
		{"first", []string{"node1:core2,core3", "node0:core2,core3", "node1:core0,core1", "node0:core0,core1"}},
		{"firstnodex", []string{"node1!:core0,core1,core2,core3", "node0!:core0,core1,core2,core3", "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			m := mtMatcher(t, fluxiontest.Flat(t, 4, 4), tc.policy)
			js := fluxiontest.Req{Slots: 1, Cores: 2}.Jobspec(t)
			for i, want := range append(tc.want, "") {
				a, err := m.Match(MatchAllocate, js, 0)
				got := ""
				if err == nil {
					got = mtWhere(a)
				} else if !errors.Is(err, ErrBusy) {
					t.Fatalf("job %d: %v, want nil or ErrBusy", i+1, err)
				}
				if got != want {
					t.Errorf("job %d: got %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// TestMatchSlotsOnSockets uses two nodes of two sockets with two cores
// each (node0: socket0{core0,core1} socket1{core2,core3}; node1 the same).
// A slot lands on the first vertex whose children include a core: the
// socket, so a slot of 3 cores can never fit. node>slot:2>core:2 finds
// its slots on the sockets of one node, below the node, which Fluxion's
// select counts but its update never reaches (the node>socket edge is
// not selected), so the match allocates nothing and fails (ErrNoUpdate),
// while satisfiability says yes. The jobspec omits cluster and socket.
func TestMatchSlotsOnSockets(t *testing.T) {
	g := fluxiontest.Graph(t, 2, fluxiontest.Node{Cores: 4}, fluxiontest.Node{Cores: 4})

	m := mtMatcher(t, g, "lonode")
	// slot>core:2 on lonode: node0 (factor 1), socket0 {0,1} (score 1).
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 2}.Jobspec(t), 0))
	if got, want := mtWhere(a), "node0:core0,core1"; got != want {
		t.Errorf("slot>core:2: got %q, want %q", got, want)
	}
	// node:1>slot:2>core:2: slots on node1's sockets, allocated nothing.
	nodeSlots := fluxiontest.Req{Nodes: 1, Slots: 2, Cores: 2}.Jobspec(t)
	if _, err := m.Match(MatchAllocate, nodeSlots, 0); !errors.Is(err, ErrNoUpdate) {
		t.Errorf("node>slot:2>core:2: %v, want ErrNoUpdate", err)
	}
	if _, err := m.Match(MatchSatisfiability, nodeSlots, 0); err != nil {
		t.Errorf("node>slot:2>core:2 satisfiability: %v, want satisfiable", err)
	}
	// Under lonodex the node is taken whole, which the update reaches.
	mx := mtMatcher(t, g, "lonodex")
	a = mtOK(t)(mx.Match(MatchAllocate, nodeSlots, 0))
	if got, want := mtWhere(a), "node0!:core0,core1,core2,core3"; got != want {
		t.Errorf("lonodex node>slot:2>core:2: got %q, want %q", got, want)
	}
	// Fill node1's sockets with plain slots.
	mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 2, Cores: 2}.Jobspec(t), 0))
	// slot>core:3 spans sockets: never satisfiable.
	_, err := m.Match(MatchAllocateWithSatisfiability, fluxiontest.Req{Slots: 1, Cores: 3}.Jobspec(t), 0)
	if !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("slot>core:3 with satisfiability: %v, want ErrUnsatisfiable", err)
	}
	// slot:2>core:2: one socket left now (node0 socket1), busy.
	_, err = m.Match(MatchAllocateWithSatisfiability, fluxiontest.Req{Slots: 2, Cores: 2}.Jobspec(t), 0)
	if !errors.Is(err, ErrBusy) {
		t.Errorf("slot:2>core:2 with satisfiability: %v, want ErrBusy", err)
	}
}

// TestMatchGPUAndMemory: each node has 4 cores, 2 gpus and one memory
// vertex of 1024 MiB. Slot members are exclusive, and a pooled vertex is
// taken whole (cnt_slot), so a second slot asking for memory on the same
// node finds none.
func TestMatchGPUAndMemory(t *testing.T) {
	g := fluxiontest.Graph(t, 0, fluxiontest.Node{Cores: 4, GPUs: 2, MemMiB: 1024}, fluxiontest.Node{Cores: 4, GPUs: 2, MemMiB: 1024})
	m := mtMatcher(t, g, "lonode")
	js := fluxiontest.Req{Slots: 1, Cores: 1, GPUs: 1}.Jobspec(t)
	var got []string
	for range 5 {
		a, err := m.Match(MatchAllocate, js, 0)
		if err != nil {
			got = append(got, mtErrno(err))
			continue
		}
		got = append(got, mtWhere(a))
	}
	// Two gpus per node bound it to 4 slots: node0 core0+gpu0,
	// core1+gpu1, then node1.
	want := []string{"node0:core0,gpu0", "node0:core1,gpu1", "node1:core0,gpu0", "node1:core1,gpu1", "EBUSY"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("core+gpu slots:\n got %q\nwant %q", got, want)
	}

	m = mtMatcher(t, g, "lonode")
	mem := fluxiontest.Req{Slots: 1, Cores: 1, MemMiB: 512}.Jobspec(t)
	a := mtOK(t)(m.Match(MatchAllocate, mem, 0))
	if got, want := mtWhere(a), "node0:core0,memory0"; got != want {
		t.Errorf("memory slot 1: got %q, want %q", got, want)
	}
	a = mtOK(t)(m.Match(MatchAllocate, mem, 0))
	if got, want := mtWhere(a), "node1:core0,memory0"; got != want {
		t.Errorf("memory slot 2 (node0's pool is taken whole): got %q, want %q", got, want)
	}
	if _, err := m.Match(MatchAllocate, mem, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("memory slot 3: %v, want ErrBusy", err)
	}
	// 2048 MiB is more than any node's pool: unsatisfiable.
	if _, err := m.Match(MatchSatisfiability, fluxiontest.Req{Slots: 1, Cores: 1, MemMiB: 2048}.Jobspec(t), 0); !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("2048 MiB: %v, want ErrUnsatisfiable", err)
	}
}

// TestMatchBusyCancelAgain fills a 2x2-core cluster with four 1-core
// jobs, sees EBUSY, cancels job 2 and gets its core back. Job ids follow
// reapi_cli's counter, which also moves on after a failed match.
func TestMatchBusyCancelAgain(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 2, 2), "lonode")
	js := fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t)
	where := map[uint64]string{}
	for i := range 4 {
		a := mtOK(t)(m.Match(MatchAllocate, js, 0))
		if a.JobID != uint64(i+1) {
			t.Errorf("job id %d, want %d", a.JobID, i+1)
		}
		where[a.JobID] = mtWhere(a)
	}
	if where[2] != "node0:core1" {
		t.Errorf("job 2 on %q, want node0:core1 (lonode packs node0)", where[2])
	}
	if _, err := m.Match(MatchAllocate, js, 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("5th job: %v, want ErrBusy", err)
	}
	if err := m.Cancel(2); err != nil {
		t.Fatal(err)
	}
	if err := m.Cancel(2); !errors.Is(err, ErrNoJob) {
		t.Errorf("second cancel: %v, want ErrNoJob", err)
	}
	if info, err := m.Info(2); err != nil || !info.Canceled {
		t.Errorf("info after cancel: %+v, %v, want the cancelled job", info, err)
	}
	if _, err := m.Info(99); !errors.Is(err, ErrNoJob) {
		t.Errorf("info of an unknown job: %v, want ErrNoJob", err)
	}
	a := mtOK(t)(m.Match(MatchAllocate, js, 0))
	if got := mtWhere(a); got != "node0:core1" {
		t.Errorf("after cancel: %q, want node0:core1", got)
	}
	if a.JobID != 6 {
		t.Errorf("job id %d, want 6 (the EBUSY match used 5)", a.JobID)
	}
	if info, err := m.Info(6); err != nil || info != a || info.Reserved || info.Canceled || info.At != 0 {
		t.Errorf("Info(6) = %+v, %v", info, err)
	}
}

// TestMatchOrElseReserve: one node of 4 cores. A (4 cores, 100 s) runs
// now; B (4 cores, 100 s) is reserved at A's end, 100; C (4 cores, 50 s)
// at B's end, 200; D (1 core, 50 s) cannot run now either (A holds all
// cores) and the first candidate point after now is 100, but B holds the
// node during [100, 200) so it goes to 250 (C ends). After cancelling A,
// E (2 cores, 100 s) fits now: [0, 100) is free.
func TestMatchOrElseReserve(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 4), "lonode")
	full := func(d float64) *jobspec.Jobspec { return fluxiontest.Req{Slots: 1, Cores: 4, Dur: d}.Jobspec(t) }
	steps := []struct {
		js       *jobspec.Jobspec
		at       int64
		reserved bool
	}{
		{full(100), 0, false},
		{full(100), 100, true},
		{full(50), 200, true},
		{fluxiontest.Req{Slots: 1, Cores: 1, Dur: 50}.Jobspec(t), 250, true},
	}
	for i, s := range steps {
		a, err := m.Match(MatchAllocateOrElseReserve, s.js, 0)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if a.At != s.at || a.Reserved != s.reserved {
			t.Errorf("step %d: at %d reserved %v, want at %d reserved %v", i, a.At, a.Reserved, s.at, s.reserved)
		}
	}
	// without_allocating_future sees the same start as a reservation
	// would (after D: 300) and records nothing; like reapi_cli it reports
	// job id UINT64_MAX and reserved = false.
	if a, err := m.Match(MatchWithoutAllocatingFuture, full(10), 0); err != nil || a.At != 300 || a.Reserved || a.JobID != math.MaxUint64 || len(m.Jobs()) != 4 {
		t.Errorf("without allocating future: %+v, %v, %d jobs", a, err, len(m.Jobs()))
	}
	// Plain allocate of the same request is EBUSY.
	if _, err := m.Match(MatchAllocate, full(10), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("allocate while full: %v, want ErrBusy", err)
	}
	if err := m.Cancel(1); err != nil {
		t.Fatal(err)
	}
	a := mtOK(t)(m.Match(MatchAllocateOrElseReserve, fluxiontest.Req{Slots: 1, Cores: 2, Dur: 100}.Jobspec(t), 0))
	if a.At != 0 || a.Reserved {
		t.Errorf("backfill: at %d reserved %v, want now", a.At, a.Reserved)
	}
	// 101 s does not fit before B's reservation at 100 with 4 cores:
	// E holds 2 cores during [0, 100), B all 4 during [100, 200), C
	// [200, 250), D one core [250, 300): first point with 4 free for
	// 101 s is 300.
	a = mtOK(t)(m.Match(MatchAllocateOrElseReserve, full(101), 0))
	if a.At != 300 || !a.Reserved {
		t.Errorf("after all: at %d reserved %v, want 300 reserved", a.At, a.Reserved)
	}
	// R of a reservation carries its start and end.
	r := a.RLite()
	if r.Execution.Starttime != 300 || r.Execution.Expiration != 401 {
		t.Errorf("R times %v..%v, want 300..401", r.Execution.Starttime, r.Execution.Expiration)
	}
}

// TestMatchErrors pins the error of each op for requests that do not fit
// now, never fit, or need more nodes than exist (request_feasible in
// dfu.cpp answers EBUSY for allocate ops and ENODEV for satisfiability
// ops before matching).
func TestMatchErrors(t *testing.T) {
	g := fluxiontest.Flat(t, 4, 4)
	tooBig := fluxiontest.Req{Slots: 1, Cores: 5}.Jobspec(t)            // no node has 5 cores
	tooMany := fluxiontest.Req{Nodes: 3, Slots: 1, Cores: 1}.Jobspec(t) // 3 nodes of 2
	fits := fluxiontest.Req{Nodes: 2, Slots: 1, Cores: 4}.Jobspec(t)    // the whole cluster
	cases := []struct {
		name string
		js   *jobspec.Jobspec
		busy bool // fill the cluster first
		op   MatchOp
		want string
	}{
		{"too big/allocate", tooBig, false, MatchAllocate, "EBUSY"},
		{"too big/with sat", tooBig, false, MatchAllocateWithSatisfiability, "ENODEV"},
		{"too big/orelse", tooBig, false, MatchAllocateOrElseReserve, "ENODEV"},
		{"too big/sat", tooBig, false, MatchSatisfiability, "ENODEV"},
		{"too many nodes/allocate", tooMany, false, MatchAllocate, "EBUSY"},
		{"too many nodes/with sat", tooMany, false, MatchAllocateWithSatisfiability, "ENODEV"},
		{"too many nodes/orelse", tooMany, false, MatchAllocateOrElseReserve, "EBUSY"},
		{"too many nodes/sat", tooMany, false, MatchSatisfiability, "ENODEV"},
		{"fits/sat", fits, true, MatchSatisfiability, "ok"},
		{"busy/allocate", fits, true, MatchAllocate, "EBUSY"},
		{"busy/with sat", fits, true, MatchAllocateWithSatisfiability, "EBUSY"},
		{"busy/orelse", fits, true, MatchAllocateOrElseReserve, "ok"},
		{"busy/without allocating", fits, true, MatchWithoutAllocating, "EBUSY"},
		{"free/without allocating", fits, false, MatchWithoutAllocating, "ok"},
		{"busy/without allocating future", fits, true, MatchWithoutAllocatingFuture, "ok"},
		{"too big/without allocating future", tooBig, false, MatchWithoutAllocatingFuture, "ENODEV"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mtMatcher(t, g, "first")
			if tc.busy {
				mtOK(t)(m.Match(MatchAllocate, fits, 0))
			}
			before := len(m.Jobs())
			_, err := m.Match(tc.op, tc.js, 0)
			if got := mtErrno(err); got != tc.want {
				t.Errorf("%v: got %s (%v), want %s", tc.op, got, err, tc.want)
			}
			recorded := len(m.Jobs()) - before
			noRecord := tc.op == MatchSatisfiability || tc.op == MatchWithoutAllocating || tc.op == MatchWithoutAllocatingFuture
			if wantRec := tc.want == "ok" && !noRecord; (recorded == 1) != wantRec {
				t.Errorf("%v: %d jobs recorded", tc.op, recorded)
			}
		})
	}
	m := mtMatcher(t, g, "first")
	if _, err := m.Match(MatchAllocate, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil jobspec: %v", err)
	}
	if _, err := m.Match(MatchAllocate, fits, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative now: %v", err)
	}
	if _, err := m.Match(MatchOp(9), fits, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad op: %v", err)
	}
	// Duration longer than the graph window (100000 s in mtMatcher).
	if _, err := m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 1, Dur: 100001}.Jobspec(t), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("duration > window: %v", err)
	}
}

// TestMatchDownNode: with node0 down, lonode goes to node1; a request for
// both nodes is EBUSY for allocate and ENODEV with satisfiability (only
// one node is up); bringing node0 back makes it fit again.
func TestMatchDownNode(t *testing.T) {
	g := fluxiontest.Flat(t, 2, 2)
	if err := g.SetStatus("/cluster0/node0", graph.StatusDown); err != nil {
		t.Fatal(err)
	}
	defer g.SetStatus("/cluster0/node0", graph.StatusUp)
	m := mtMatcher(t, g, "lonode")
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node1:core0" {
		t.Errorf("got %q, want node1:core0", got)
	}
	both := fluxiontest.Req{Nodes: 2, Slots: 1, Cores: 1}.Jobspec(t)
	if _, err := m.Match(MatchAllocate, both, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("allocate 2 nodes: %v, want ErrBusy", err)
	}
	if _, err := m.Match(MatchAllocateWithSatisfiability, both, 0); !errors.Is(err, ErrUnsatisfiable) {
		t.Errorf("with sat 2 nodes: %v, want ErrUnsatisfiable", err)
	}
	// Two 1-core slots: node1 alone has 2 cores, one taken: busy. Three
	// need node0, which is down: still busy, because Fluxion's
	// satisfiability pass ignores up/down status (dfu_impl_t::prune), so
	// the job waits for node0 to come back.
	if _, err := m.Match(MatchAllocateWithSatisfiability, fluxiontest.Req{Slots: 2, Cores: 1}.Jobspec(t), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("2 slots with node0 down: %v, want ErrBusy", err)
	}
	if _, err := m.Match(MatchAllocateWithSatisfiability, fluxiontest.Req{Slots: 3, Cores: 1}.Jobspec(t), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("3 slots with node0 down: %v, want ErrBusy", err)
	}
	if err := g.SetStatus("/cluster0/node0", graph.StatusUp); err != nil {
		t.Fatal(err)
	}
	a = mtOK(t)(m.Match(MatchAllocate, both, 0))
	if got := mtWhere(a); got != "node0:core0 node1:core1" {
		t.Errorf("after up: %q, want node0:core0 node1:core1", got)
	}
}

// TestMatchExclusiveNode: node exclusive: true takes the whole node (all
// cores, node marked exclusive), so a later node-exclusive request needs
// a node nobody uses at all, and a node that holds one shared job cannot
// be taken exclusively.
func TestMatchExclusiveNode(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 4, 4, 4), "lonode")
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Nodes: 1, NodeExcl: true, Slots: 1, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node0!:core0,core1,core2,core3" {
		t.Errorf("exclusive node: %q", got)
	}
	// A 1-core job on lonode: node0 is held, node1 core0.
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node1:core0" {
		t.Errorf("shared after exclusive: %q", got)
	}
	// Exclusive again: node1 is in use, so node2.
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Nodes: 1, NodeExcl: true, Slots: 1, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node2!:core0,core1,core2,core3" {
		t.Errorf("second exclusive: %q", got)
	}
	if _, err := m.Match(MatchAllocateWithSatisfiability, fluxiontest.Req{Nodes: 1, NodeExcl: true, Slots: 1, Cores: 1}.Jobspec(t), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("third exclusive: %v, want ErrBusy", err)
	}
	// 3 more cores still fit on node1.
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 3, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node1:core1,core2,core3" {
		t.Errorf("rest of node1: %q", got)
	}
}

// TestMatchDuration: 0.2 s rounds up to 1 s; duration 0 takes the whole
// graph window, so nothing can be reserved after it.
func TestMatchDuration(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 1), "low")
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 1, Dur: 0.2}.Jobspec(t), 0))
	if a.Duration != 1 {
		t.Errorf("duration %d, want 1", a.Duration)
	}
	b := mtOK(t)(m.Match(MatchAllocateOrElseReserve, fluxiontest.Req{Slots: 1, Cores: 1, Dur: 0.2}.Jobspec(t), 0))
	if b.At != 1 {
		t.Errorf("reserved at %d, want 1", b.At)
	}
	m = mtMatcher(t, fluxiontest.Flat(t, 1), "low")
	y := strings.Replace(fluxiontest.Req{Slots: 1, Cores: 1}.YAML(), "duration: 100", "duration: 0", 1)
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Parse(t, y), 0))
	if a.Duration != m.GraphDuration() {
		t.Errorf("duration 0 -> %d, want the window %d", a.Duration, m.GraphDuration())
	}
	// The unlimited job holds the only core to the window's end: no
	// reservation, but satisfiable (Fluxion checks satisfiability after
	// every job has ended, near INT64_MAX): busy.
	if _, err := m.Match(MatchAllocateOrElseReserve, fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t), 0); !errors.Is(err, ErrBusy) {
		t.Errorf("after an unlimited job: %v, want ErrBusy", err)
	}
	// At now > 0 an unlimited job is cut at the window's end.
	m = mtMatcher(t, fluxiontest.Flat(t, 1), "low")
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Parse(t, y), 500))
	if a.At != 500 || a.Duration != m.GraphDuration()-500 {
		t.Errorf("unlimited at 500: at %d duration %d", a.At, a.Duration)
	}
}

// TestMatchNowAdvances: allocations at a later now do not collide with
// finished ones.
func TestMatchNowAdvances(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 2), "lonode")
	js := fluxiontest.Req{Slots: 1, Cores: 2, Dur: 10}.Jobspec(t)
	mtOK(t)(m.Match(MatchAllocate, js, 0))
	if _, err := m.Match(MatchAllocate, js, 9); !errors.Is(err, ErrBusy) {
		t.Errorf("at 9: %v, want ErrBusy", err)
	}
	a := mtOK(t)(m.Match(MatchAllocate, js, 10))
	if a.At != 10 {
		t.Errorf("at %d, want 10", a.At)
	}
}

func TestMatchRLite(t *testing.T) {
	g := fluxiontest.Graph(t, 0, fluxiontest.Node{Cores: 4, GPUs: 2}, fluxiontest.Node{Cores: 4, GPUs: 2}, fluxiontest.Node{Cores: 4}, fluxiontest.Node{Cores: 4})
	m := mtMatcher(t, g, "lonode")
	// node:3>slot:1>core:2 on lonode: nodes 0-2, cores 0-1 each.
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Nodes: 3, Slots: 1, Cores: 2}.Jobspec(t), 0))
	got := string(a.RLiteJSON())
	want := `{"version":1,"execution":{"R_lite":[{"rank":"0-2","children":{"core":"0-1"}}],"nodelist":["node[0-2]"],"starttime":0,"expiration":100}}`
	if got != want {
		t.Errorf("R:\n got %s\nwant %s", got, want)
	}
	// slot:2>(core:1,gpu:1) -> node0 core0? no: node0 has cores 2-3 and
	// both gpus free: core2+gpu0, core3+gpu1.
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 2, Cores: 1, GPUs: 1}.Jobspec(t), 0))
	got = string(a.RLiteJSON())
	want = `{"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"2-3","gpu":"0-1"}}],"nodelist":["node0"],"starttime":0,"expiration":100}}`
	if got != want {
		t.Errorf("R:\n got %s\nwant %s", got, want)
	}
}

func TestIDSetHostlist(t *testing.T) {
	for _, tc := range []struct {
		ids  []int64
		want string
	}{
		{nil, ""}, {[]int64{3}, "3"}, {[]int64{0, 1}, "0-1"}, {[]int64{5, 0, 1, 2, 7, 8, 2}, "0-2,5,7-8"},
	} {
		if got := IDSet(tc.ids); got != tc.want {
			t.Errorf("IDSet(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"node0"}, "node0"},
		{[]string{"node0", "node1", "node2", "node5"}, "node[0-2,5]"},
		{[]string{"node9", "node10", "foo", "bar1", "bar2"}, "node[9-10],foo,bar[1-2]"},
		{[]string{"n01", "n02", "n03"}, "n[01-03]"},
		{[]string{"n1", "n2", "m1"}, "n[1-2],m1"},
	} {
		if got := Hostlist(tc.names); got != tc.want {
			t.Errorf("Hostlist(%v) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

func TestParseMatchPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MatchPolicy
		err  bool
	}{
		{"", MatchPolicy{Name: "first", High: true, NodeCentric: true, First: true}, false},
		{"lonodex", MatchPolicy{Name: "lonodex", NodeCentric: true, NodeExclusive: true}, false},
		{"policy=low node_centric=true", MatchPolicy{Name: "policy=low node_centric=true", NodeCentric: true}, false},
		{"locality", MatchPolicy{Name: "locality", Locality: true}, false},
		{"policy=locality", MatchPolicy{}, true},
		{"policy=medium", MatchPolicy{}, true},
		{"node_centric=true", MatchPolicy{}, true},
	} {
		got, err := ParseMatchPolicy(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseMatchPolicy(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMatchPolicy(%q): %v is not ErrInvalid", tc.in, err)
		}
	}
	if _, err := NewMatcher(fluxiontest.Flat(t, 1), MatcherOptions{PruneFilters: "core"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad prune filter: %v", err)
	}
}

// TestMatchFirstWeights follows the by_outedges weights of first on three
// 4-core nodes (uniq_ids node0 1, node1 6, node2 11). Each allocation
// sets the weight of the edge into each node it used to that node's free
// cores at now; untouched nodes keep UINT64_MAX; a cancel does not
// refresh weights (dfu_impl_update.cpp: upd_by_outedges runs only on
// allocation).
func TestMatchFirstWeights(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 4, 4, 4), "first")
	steps := []struct {
		cores int64
		want  string
	}{
		// all MAX: highest uniq node2, core3; w = {MAX, MAX, 3}
		{1, "node2:core3"},
		// node1 (MAX, uniq 6 > 1): cores 3,2,1; w = {MAX, 1, 3}
		{3, "node1:core1,core2,core3"},
		// node0 (MAX): core3; w = {3, 1, 3}
		{1, "node0:core3"},
		// tie node0/node2 at 3 -> node2 (uniq 11): cores 2,1; w = {3, 1, 1}
		{2, "node2:core1,core2"},
		// node0 (3): core2; w = {2, 1, 1}
		{1, "node0:core2"},
	}
	for i, s := range steps {
		a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: s.cores}.Jobspec(t), 0))
		if got := mtWhere(a); got != s.want {
			t.Errorf("step %d: got %q, want %q", i, got, s.want)
		}
	}
	// Cancel job 2: node1 has 4 free cores but its weight stays 1, so
	// node0 (2) still comes first.
	if err := m.Cancel(2); err != nil {
		t.Fatal(err)
	}
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node0:core1" {
		t.Errorf("after cancel: got %q, want node0:core1", got)
	}
	// A 3-core slot does not fit on node0 (1 free) or node2 (1 free):
	// first fit continues to node1.
	a = mtOK(t)(m.Match(MatchAllocate, fluxiontest.Req{Slots: 1, Cores: 3}.Jobspec(t), 0))
	if got := mtWhere(a); got != "node1:core1,core2,core3" {
		t.Errorf("3 cores: got %q, want node1:core1,core2,core3", got)
	}
}

// TestMatchRacks: cluster0 > rack0{node0,node1}, rack1{node2} (nodes of
// 2 cores): node>slot>core omits cluster and rack, which are descended
// through before the first match. hinode takes node2, then node1.
func TestMatchRacks(t *testing.T) {
	nodes := fluxiontest.MakeNodes([]*fluxiontest.NodeSpec{
		{Name: "a", Rack: "r0", Milli: 2000},
		{Name: "b", Rack: "r0", Milli: 2000},
		{Name: "c", Rack: "r1", Milli: 2000},
	})
	g, err := graph.FromNodes(nodes, graph.GenerateOptions{Level: graph.LevelRack, Memory: graph.MemoryNone})
	if err != nil {
		t.Fatal(err)
	}
	m := mtMatcher(t, g, "hinode")
	js := fluxiontest.Req{Nodes: 1, Slots: 1, Cores: 2}.Jobspec(t)
	for i, want := range []string{"node2:core0,core1", "node1:core0,core1", "node0:core0,core1"} {
		a := mtOK(t)(m.Match(MatchAllocate, js, 0))
		if got := mtWhere(a); got != want {
			t.Errorf("job %d: got %q, want %q", i+1, got, want)
		}
		if i == 0 {
			if p := a.Path; len(p) != 2 || g.Vertices[p[0]].Path != "/cluster0" || g.Vertices[p[1]].Path != "/cluster0/rack1" {
				t.Errorf("path %v, want cluster0, rack1", p)
			}
		}
	}
}

// TestMatchFluenceJobspec runs Fluence's jobspec (version 9999, slot:3 >
// core:8, memory:16384, gpu:1) on a Fluence-style graph: 1 GiB memory
// pools (size 1024), so each slot takes 16 whole pools. Node w0 (16
// cores, 40 GiB, 2 gpus) holds 2 slots by memory (40 pools / 16) and
// gpus; w1 (8 cores, 16 GiB, 1 gpu) one.
func TestMatchFluenceJobspec(t *testing.T) {
	data, err := os.ReadFile("../jobspec/testdata/valid/fluence_core_memory_gpu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js := fluxiontest.Parse(t, string(data))
	nodes := fluxiontest.MakeNodes([]*fluxiontest.NodeSpec{
		{Name: "w0", Zone: "z", Milli: 16000, MemGiB: 40, GPU: 2},
		{Name: "w1", Zone: "z", Milli: 8000, MemGiB: 16, GPU: 1},
	})
	g, err := graph.Fluence(nodes, "")
	if err != nil {
		t.Fatal(err)
	}
	m := mtMatcher(t, g, "lonode")
	a := mtOK(t)(m.Match(MatchAllocate, js, 0))
	perNode := map[string][3]int{} // cores, pools, gpus
	for _, av := range a.Vertices {
		v := g.Vertex(av.ID)
		n := g.Vertex(g.Ancestor(av.ID, "node")).Name
		c := perNode[n]
		switch v.Type {
		case "core":
			c[0]++
		case "memory":
			c[1]++
		case "gpu":
			c[2]++
		}
		perNode[n] = c
	}
	want := map[string][3]int{"w00": {16, 32, 2}, "w11": {8, 16, 1}}
	if len(perNode) != 2 || perNode["w00"] != want["w00"] || perNode["w11"] != want["w11"] {
		t.Errorf("per node (cores, pools, gpus) = %v, want %v", perNode, want)
	}
	if _, err := m.Match(MatchAllocateWithSatisfiability, js, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("second group: %v, want ErrBusy", err)
	}
}

// TestMatchPoliciesSocketsGPU: two nodes, each socket0{core0,core1,gpu0}
// socket1{core2,core3,gpu1} (uniq_ids: node0 1, its sockets 2 and 6;
// node1 10, its sockets 11 and 15). slot>(core:1,gpu:1) lands on a
// socket; one gpu per socket makes one slot per socket, so four jobs
// fill the cluster. Slot score: (node factor, core id + gpu id).
func TestMatchPoliciesSocketsGPU(t *testing.T) {
	cases := []struct {
		policy string
		want   []string
	}{
		// scores n0s0 0, n1s0 0, n0s1 2+1=3, n1s1 3; ties by pre-order.
		{"low", []string{"node0:core0,gpu0", "node1:core0,gpu0", "node0:core2,gpu1", "node1:core2,gpu1"}},
		// high takes the socket's highest core: s1 3+1=4, s0 1+0=1.
		{"high", []string{"node0:core3,gpu1", "node1:core3,gpu1", "node0:core1,gpu0", "node1:core1,gpu0"}},
		{"lonode", []string{"node0:core0,gpu0", "node0:core2,gpu1", "node1:core0,gpu0", "node1:core2,gpu1"}},
		{"hinode", []string{"node1:core3,gpu1", "node1:core1,gpu0", "node0:core3,gpu1", "node0:core1,gpu0"}},
		{"lonodex", []string{"node0!:core0,core1,gpu0,core2,core3,gpu1", "node1!:core0,core1,gpu0,core2,core3,gpu1", "", ""}},
		{"hinodex", []string{"node1!:core0,core1,gpu0,core2,core3,gpu1", "node0!:core0,core1,gpu0,core2,core3,gpu1", "", ""}},
		// first: node1 > node0 and socket1 > socket0 by uniq_id, core3 >
		// core2. After job 1: w(node1) = 3 free cores, w(n1 socket1) = 1.
		// Job 2: node0 (MAX), socket1. Job 3: tie 3/3 -> node1, whose
		// socket0 (MAX) beats socket1 (1): core1. Job 4: node0 (3) beats
		// node1 (2): socket0, core1.
		{"first", []string{"node1:core3,gpu1", "node0:core3,gpu1", "node1:core1,gpu0", "node0:core1,gpu0"}},
		{"firstnodex", []string{"node1!:core0,core1,gpu0,core2,core3,gpu1", "node0!:core0,core1,gpu0,core2,core3,gpu1", "", ""}},
	}
	g := fluxiontest.Graph(t, 2, fluxiontest.Node{Cores: 4, GPUs: 2}, fluxiontest.Node{Cores: 4, GPUs: 2})
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			m := mtMatcher(t, g, tc.policy)
			js := fluxiontest.Req{Slots: 1, Cores: 1, GPUs: 1}.Jobspec(t)
			for i, want := range append(tc.want, "") {
				a, err := m.Match(MatchAllocateWithSatisfiability, js, 0)
				got := ""
				if err == nil {
					got = mtWhere(a)
				} else if !errors.Is(err, ErrBusy) {
					t.Fatalf("job %d: %v, want nil or ErrBusy", i+1, err)
				}
				if got != want {
					t.Errorf("job %d: got %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// TestMatchClone: a clone starts from the same state and then diverges.
func TestMatchClone(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 2, 2), "lonode")
	js := fluxiontest.Req{Slots: 1, Cores: 2}.Jobspec(t)
	mtOK(t)(m.Match(MatchAllocate, js, 0))
	c := m.Clone()
	// Both see node0 taken; each allocates node1 on its own.
	a := mtOK(t)(c.Match(MatchAllocate, js, 0))
	b := mtOK(t)(m.Match(MatchAllocate, js, 0))
	if mtWhere(a) != "node1:core0,core1" || mtWhere(b) != "node1:core0,core1" || a.JobID != 2 || b.JobID != 2 {
		t.Errorf("clone %s (job %d), original %s (job %d)", mtWhere(a), a.JobID, mtWhere(b), b.JobID)
	}
	// Cancelling job 1 in the clone frees node0 there only.
	if err := c.Cancel(1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Match(MatchAllocate, js, 0); err != nil {
		t.Errorf("clone after cancel: %v", err)
	}
	if _, err := m.Match(MatchAllocate, js, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("original: %v, want ErrBusy", err)
	}
	if info, _ := m.Info(1); info.Canceled {
		t.Error("the clone's cancel marked the original's job")
	}
}

// Forget drops a cancelled job's record; a live job is kept.
func TestForget(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 2, 4), "first")
	js, err := jobspec.ParseJobspec([]byte(fluxiontest.Req{Slots: 1, Cores: 1, Dur: 10}.YAML()), "js")
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Match(MatchAllocate, js, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Match(MatchAllocate, js, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Cancel(a.JobID); err != nil {
		t.Fatal(err)
	}
	m.Forget(a.JobID)
	m.Forget(b.JobID)
	if _, err := m.Info(a.JobID); !errors.Is(err, ErrNoJob) {
		t.Errorf("Info of a forgotten job: %v", err)
	}
	if info, err := m.Info(b.JobID); err != nil || info.Canceled {
		t.Errorf("Info of a live job after Forget: %v %v", info, err)
	}
}
