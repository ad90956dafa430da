package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// benchContended asks perPod bytes/s of each node's memory (capacity
// bw) and of its link per pod.
type benchContended struct{ perPod, bw float64 }

func (m *benchContended) RunTime(pl []NodeShare) (RunResult, error) {
	return RunResult{Seconds: 100}, nil
}

func (m *benchContended) Demand(pl []NodeShare, alone RunResult) ([]NodeDemand, error) {
	d := make([]NodeDemand, len(pl))
	for i, s := range pl {
		d[i] = NodeDemand{Memory: m.perPod * float64(s.Pods), MemoryCapacity: m.bw,
			Network: 1e8 * float64(s.Pods), NetworkCapacity: 12.5e9, Leaf: -1}
	}
	return d, nil
}

// BenchmarkContentionReprice: 1,000 jobs of 8 pods on 8 of 250 nodes
// (32 pods a node, every node's memory oversubscribed, so all jobs are
// one connected set); each op ends one job and starts another, which
// re-shares every running job twice and moves the finish of each job
// whose rate changed. jobs-repriced/op counts the finishes scheduled
// or moved (the new job's included).
func BenchmarkContentionReprice(b *testing.B) {
	const nodes, jobs, pods = 250, 1000, 8
	ns := make([]*Node, nodes)
	for i := range ns {
		ns[i] = &Node{Name: fmt.Sprintf("n%d", i)}
	}
	e, err := New(Config{Nodes: ns}, nil)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	model := &benchContended{perPod: 20e9, bw: 320e9}
	id := 0
	start := func(now float64) *Job {
		j := &Job{ID: id, Name: fmt.Sprintf("j%d", id), RunModel: model, Started: now, Finished: Unset}
		id++
		var pl []NodeShare
		for _, n := range rng.Perm(nodes)[:pods] {
			p := &Pod{ID: len(e.pods), Job: j, Node: ns[n], Phase: PodRunning}
			e.pods = append(e.pods, p)
			j.Pods = append(j.Pods, p)
			pl = append(pl, NodeShare{Node: ns[n], Pods: 1})
		}
		if ok, err := e.contend(j, pl, RunResult{Seconds: 100}, now); !ok || err != nil {
			b.Fatal(ok, err)
		}
		return j
	}
	running := make([]*Job, jobs)
	for i := range running {
		running[i] = start(0)
	}
	moved := e.contention.moved
	now := 0.0
	b.ReportAllocs()
	for b.Loop() {
		now += 0.01
		k := rng.IntN(jobs)
		old := running[k]
		e.contendedEnd(old, now)
		delete(e.contention.runs, old.ID)
		for _, p := range old.Pods {
			p.Phase = PodSucceeded
		}
		running[k] = start(now)
		if len(e.cal.items) > 1<<20 {
			b.StopTimer()
			e.cal.items = e.cal.items[:0]
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(e.contention.moved-moved)/float64(b.N), "jobs-repriced/op")
}

// TestCompactKeepsOrder: dropping stale finish events from the
// calendar keeps the others in (time, insertion) order.
func TestCompactKeepsOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	e, err := New(Config{Nodes: []*Node{{Name: "n"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.contentionState()
	jobs := []*Job{{ID: 0}, {ID: 1}}
	for _, j := range jobs {
		p := &Pod{ID: len(e.pods), Job: j}
		e.pods = append(e.pods, p)
		j.Pods = []*Pod{p}
		c.runs[j.ID] = &contendedRun{job: j, gen: 3}
	}
	var want []item
	for range 40000 {
		it := item{t: float64(rng.IntN(100)), kind: evFinish, id: int32(rng.IntN(2)), tag: int64(1 + rng.IntN(3))}
		if rng.IntN(4) == 0 {
			it = item{t: it.t, kind: evTimer, tag: int64(rng.IntN(1000))}
		}
		e.push(it)
		it.seq = e.cal.seq - 1
		if it.kind != evFinish || it.tag == 3 {
			want = append(want, it)
		} else {
			c.stale++
		}
	}
	e.compact()
	if c.stale != 0 || len(e.cal.items) != len(want) {
		t.Fatalf("after compaction: %d items, %d stale; want %d, 0", len(e.cal.items), c.stale, len(want))
	}
	slices.SortFunc(want, func(a, b item) int {
		if before(&a, &b) {
			return -1
		}
		return 1
	})
	for i := range want {
		if got := e.cal.pop(); got != want[i] {
			t.Fatalf("pop %d: %+v, want %+v", i, got, want[i])
		}
	}
}
