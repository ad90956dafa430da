package engine_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// memModel is a ContendedRunModel that runs alone seconds and streams
// perPod bytes/s through the memory of each node per pod at full
// speed, on nodes of bandwidth bw; net adds as much network traffic per
// pod, on links of rate link.
type memModel struct {
	alone, perPod, bw float64
	net, link         float64
	up, upCap         float64 // per pod, leaf 0's uplink
}

func (m *memModel) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: m.alone, Phases: []engine.Phase{{Name: "compute", Seconds: m.alone}}}, nil
}

func (m *memModel) Demand(pl []engine.NodeShare, alone engine.RunResult) ([]engine.NodeDemand, error) {
	d := make([]engine.NodeDemand, len(pl))
	for i, s := range pl {
		d[i] = engine.NodeDemand{Memory: m.perPod * float64(s.Pods), MemoryCapacity: m.bw, Leaf: -1,
			Network: m.net * float64(s.Pods), NetworkCapacity: m.link}
		if m.up > 0 {
			d[i].Leaf, d[i].Uplink, d[i].UplinkCapacity = 0, m.up*float64(s.Pods), m.upCap
		}
	}
	return d, nil
}

func mpiJob(name string, pods int, m engine.RunModel) *engine.Job {
	tmpl := enginetest.Template("mpi:1", 0)
	tmpl.RunTime = nil
	j := enginetest.IndexedJob(name, pods, pods, tmpl)
	j.RunModel = m
	return j
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// TestContentionNeighbourSlowsAndReleases: job A runs alone on a node;
// job B starts on the same node and both ask more memory bandwidth
// than it has, so both run at rate B/(dA+dB); when B ends, A is back at
// full speed and its finish moves earlier than at B's start. The
// expected times follow from the models' own numbers.
func TestContentionNeighbourSlowsAndReleases(t *testing.T) {
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110})
	const bw = 100e9
	a := &memModel{alone: 1000, perPod: 40e9, bw: bw} // 2 pods: 80 GB/s
	b := &memModel{alone: 200, perPod: 30e9, bw: bw}  // 2 pods: 60 GB/s
	jobA, jobB := mpiJob("a", 2, a), mpiJob("b", 2, b)
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, jobA), at(300, jobB))
	ra, rb := res.Jobs[0], res.Jobs[1]
	sA, sB := ra.Started, rb.Started
	x := bw / (80e9 + 60e9)
	fB := sB + b.alone/x
	near(t, "b finished", rb.Finished, fB)
	doneA := (sB-sA)/a.alone + x*(fB-sB)/a.alone
	fA := fB + (1-doneA)*a.alone
	near(t, "a finished", ra.Finished, fA)
	if !(ra.Finished > sA+a.alone) {
		t.Errorf("a finished at %v, not later than alone (%v)", ra.Finished, sA+a.alone)
	}
	// At B's start A's finish was pushed to sB + (1−done)·alone/x; B's
	// end pulled it in.
	pushed := sB + (1-(sB-sA)/a.alone)*a.alone/x
	if !(fA < pushed) {
		t.Errorf("a finished at %v, not before the finish B's start gave it (%v)", fA, pushed)
	}
	for _, p := range res.Pods {
		near(t, p.Name+" RunTime", p.RunTime, p.Finished-p.Job.Started)
	}
	// The trace: A slowed at B's start, A back at full speed at B's end,
	// and each job's slowdown at its end.
	var got []string
	for _, r := range res.Records {
		if r.Kind == engine.RecContention {
			got = append(got, fmt.Sprintf("%s@%g: %s", res.Jobs[r.Job].Name, r.T, r.Msg))
		}
	}
	if len(got) != 5 {
		t.Fatalf("Contention records:\n%s\nwant 5 (a and b slowed, b's slowdown, a at full speed, a's slowdown)", strings.Join(got, "\n"))
	}
	progress := fmt.Sprintf("progress %.4g", x)
	bRan := fB - sB
	for i, want := range []string{"a@" + fmt.Sprint(sB) + ": " + progress, "b@" + fmt.Sprint(sB) + ": " + progress,
		"b@" + fmt.Sprint(rb.Finished) + fmt.Sprintf(": ran %.6g s, %.4g×", bRan, bRan/b.alone), "a@" + fmt.Sprint(rb.Finished) + ": progress 1 ", "a@" + fmt.Sprint(ra.Finished) + ": ran"} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("record %d = %q, want prefix %q", i, got[i], want)
		}
	}
	if !strings.Contains(got[0], "memory bandwidth of node-0, 100 GB/s shared by 2 jobs") {
		t.Errorf("record %q does not name the bottleneck", got[0])
	}
	// Phases: the slowdown is a phase of its own.
	last := ra.Phases[len(ra.Phases)-1]
	if last.Name != "contention" {
		t.Fatalf("a's phases %+v: no contention phase", ra.Phases)
	}
	near(t, "a's contention phase", last.Seconds, ra.Finished-sA-a.alone)
}

// TestContentionFitsNoChange: neighbours whose demands fit the node
// run as fast as alone, and nothing is recorded.
func TestContentionFitsNoChange(t *testing.T) {
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110})
	a := &memModel{alone: 1000, perPod: 20e9, bw: 100e9}
	b := &memModel{alone: 200, perPod: 20e9, bw: 100e9}
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, mpiJob("a", 2, a)), at(300, mpiJob("b", 2, b)))
	eq(t, "a finished", res.Jobs[0].Finished, res.Jobs[0].Started+1000)
	eq(t, "b finished", res.Jobs[1].Finished, res.Jobs[1].Started+200)
	for _, r := range res.Records {
		if r.Kind == engine.RecContention {
			t.Errorf("unexpected record %s", enginetest.RecordLine(r))
		}
	}
}

// TestContentionAcrossNodes: a two-node job shares one node with a
// neighbour and the other with nobody: the shared node's memory sets
// both jobs' rate (the program is one bulk-synchronous whole), and a
// third job alone on a node of its own is not touched. The network
// link of the shared node is a second resource; the tighter one wins.
func TestContentionAcrossNodes(t *testing.T) {
	nodes := enginetest.Nodes(3, engine.Resources{MilliCPU: 2000, Memory: 16 * engine.GiB, Pods: 110})
	// Each pod 1 CPU: wide fills node-0 and node-1 (2 pods each), then
	// small lands... first fit puts small's two pods on node-2, so
	// make wide 3 pods: node-0 ×2, node-1 ×1; small 2 pods: node-1 ×1,
	// node-2 ×1.
	wide := &memModel{alone: 500, perPod: 50e9, bw: 100e9, net: 4e9, link: 12.5e9}
	small := &memModel{alone: 100, perPod: 80e9, bw: 100e9, net: 10e9, link: 12.5e9}
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, mpiJob("wide", 3, wide)), at(10, mpiJob("small", 2, small)))
	w, s := res.Jobs[0], res.Jobs[1]
	// node-1: wide 1 pod (50 GB/s mem, 4 GB/s net), small 1 pod (80, 10).
	// memory: x·130 ≤ 100 → 0.769; network: x·14 ≤ 12.5 → 0.893. Memory
	// is the bottleneck for both.
	x := 100e9 / 130e9
	fS := s.Started + small.alone/x
	near(t, "small finished", s.Finished, fS)
	doneW := (s.Started-w.Started)/wide.alone + x*(fS-s.Started)/wide.alone
	near(t, "wide finished", w.Finished, fS+(1-doneW)*wide.alone)
}

// TestContentionFixedModelsUntouched: a plain RunModel beside a
// contended one keeps its fixed run time and is not counted on any
// resource.
func TestContentionFixedModelsUntouched(t *testing.T) {
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110})
	a := &memModel{alone: 1000, perPod: 40e9, bw: 100e9}
	fixed := &perNodeModel{base: 50}
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, mpiJob("a", 2, a)), at(30, mpiJob("fixed", 2, fixed)))
	eq(t, "a finished", res.Jobs[0].Finished, res.Jobs[0].Started+1000)
	eq(t, "fixed finished", res.Jobs[1].Finished, res.Jobs[1].Started+50)
}

// TestContentionDeterministic: many contended jobs with random
// arrivals give the same trace twice.
func TestContentionDeterministic(t *testing.T) {
	dump := func() string {
		nodes := enginetest.Nodes(4, engine.Resources{MilliCPU: 8000, Memory: 64 * engine.GiB, Pods: 110})
		e, err := engine.New(enginetest.ExactConfig(nodes), &enginetest.FirstFit{RetryEvery: 30})
		if err != nil {
			t.Fatal(err)
		}
		r := e.Streams().Get("arrivals")
		now := 0.0
		for i := range 40 {
			now += engine.Exponential{MeanValue: 20}.Sample(r)
			m := &memModel{alone: 50 + 400*r.Float64(), perPod: 5e9 + 30e9*r.Float64(), bw: 100e9, net: 1e9 * r.Float64(), link: 12.5e9}
			if err := e.Submit(now, mpiJob(fmt.Sprintf("j%d", i), 1+r.IntN(6), m)); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.Run()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, rec := range res.Records {
			if rec.Kind == engine.RecContention {
				n++
			}
		}
		if n == 0 {
			t.Fatal("no job was slowed: the test does not exercise contention")
		}
		return enginetest.Dump(res)
	}
	if a, b := dump(), dump(); a != b {
		t.Error("two runs of the same contended workload differ")
	}
}

// TestContentionErrors: a demand list of the wrong length or an
// impossible capacity is an invariant violation, not a panic.
func TestContentionErrors(t *testing.T) {
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 4000, Memory: 16 * engine.GiB, Pods: 110})
	_, err := tryRun(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, mpiJob("a", 1, &memModel{alone: 10, perPod: 1e9, bw: 0})))
	wantErr(t, err, "job a: node node-0: memory demand 1e+09 B/s of capacity 0 B/s")
}

// TestContentionUplink: two jobs on different nodes of one leaf share
// nothing but the leaf's uplink, which their traffic leaving the leaf
// oversubscribes: both run at capacity over the sum of their demands.
func TestContentionUplink(t *testing.T) {
	nodes := enginetest.Nodes(2, engine.Resources{MilliCPU: 1000, Memory: 16 * engine.GiB, Pods: 110})
	a := &memModel{alone: 100, perPod: 1e9, bw: 100e9, net: 9e9, link: 12.5e9, up: 8e9, upCap: 10e9}
	b := &memModel{alone: 100, perPod: 1e9, bw: 100e9, net: 9e9, link: 12.5e9, up: 8e9, upCap: 10e9}
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, mpiJob("a", 1, a)), at(0, mpiJob("b", 1, b)))
	ja, jb := res.Jobs[0], res.Jobs[1]
	if ja.Pods[0].Node == jb.Pods[0].Node {
		t.Fatal("the jobs share a node; the case needs them apart")
	}
	x := 10e9 / 16e9
	s := max(ja.Started, jb.Started)
	first := min(ja.Started, jb.Started)
	// The first runs alone until the second starts, then both at x.
	fFirst := s + (1-(s-first)/100)*100/x
	near(t, "first finished", min(ja.Finished, jb.Finished), fFirst)
	if !strings.Contains(fmt.Sprint(res.Records), "uplink of leaf 0, 10 GB/s shared by 2 jobs") {
		t.Error("no record names the uplink as the bottleneck")
	}
}
