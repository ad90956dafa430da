package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/fschuetz04/simgo"
)

// The hold model (the classic event-list benchmark): keep `pending` events
// outstanding; each step pops the earliest and schedules one more at
// now + Exp(1). Every variant draws its delays from PCG(1, 2).
const pending = 1000

// --- plain-heap: a minimal typed binary heap of (time, seq) -------------

type hItem struct {
	t   float64
	seq uint64
}

type plainHeap struct {
	items []hItem
	seq   uint64
}

func (h *plainHeap) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

func (h *plainHeap) push(t float64) {
	h.items = append(h.items, hItem{t, h.seq})
	h.seq++
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *plainHeap) pop() hItem {
	top := h.items[0]
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items = h.items[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// plainHold runs n events of the hold model on the plain heap.
func plainHold(b *testing.B, n int) float64 {
	r := rand.New(rand.NewPCG(1, 2))
	h := &plainHeap{items: make([]hItem, 0, pending+1)}
	for range pending {
		h.push(r.ExpFloat64())
	}
	if b != nil {
		b.ResetTimer()
	}
	now := 0.0
	for range n {
		now = h.pop().t
		h.push(now + r.ExpFloat64())
	}
	return now
}

// --- calendar: the engine's calendar under simgo's clock -----------------

func calendarHold(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	e := benchEngine(b, 1)
	for range pending {
		e.cal.push(item{t: r.ExpFloat64(), kind: evTimer})
	}
	if b != nil {
		b.ResetTimer()
	}
	for range n {
		it := e.cal.pop()
		if it.t > e.sim.Now() {
			e.sim.RunUntil(it.t)
		}
		e.cal.push(item{t: it.t + r.ExpFloat64(), kind: evTimer, tag: it.tag})
	}
}

// --- engine: a real Run where the policy keeps 1,000 timers outstanding ---

// holdPolicy binds the one pod and sets `pending` timers; each TimerFired
// sets another at now + Exp(1) until `total` timers were set. The pod runs
// for ever (so the run is neither done nor stalled while timers fire).
type holdPolicy struct {
	r     *rand.Rand
	total int // timers to set in all
	set   int
	fired int
}

func (h *holdPolicy) Name() string { return "hold" }

func (h *holdPolicy) Decide(now float64, events []Event, c *Cluster, out []Decision) []Decision {
	for _, ev := range events {
		switch ev.Kind {
		case PodCreated:
			out = append(out, Decision{Kind: Bind, Pod: ev.Pod, Node: c.Nodes[0]})
			for h.set < min(pending, h.total) {
				h.set++
				out = append(out, Decision{Kind: SetTimer, At: now + h.r.ExpFloat64()})
			}
		case TimerFired:
			h.fired++
			if h.set < h.total {
				h.set++
				out = append(out, Decision{Kind: SetTimer, At: now + h.r.ExpFloat64()})
			}
		}
	}
	return out
}

func benchEngine(b testing.TB, nodes int) *Engine {
	ns := make([]*Node, nodes)
	for i := range ns {
		ns[i] = &Node{Name: fmt.Sprintf("node-%d", i), Allocatable: Resources{MilliCPU: 32000, Memory: 128 * GiB, Pods: 110}}
	}
	e, err := New(Config{Seed: 1, Nodes: ns, StallTimeout: 1e18}, &holdPolicy{})
	if err != nil {
		panic(err)
	}
	return e
}

// engineHold runs n timer events through Engine.Run and returns how many
// fired and how many calendar events the run processed.
func engineHold(b *testing.B, n int) (fired, events int) {
	pol := &holdPolicy{r: rand.New(rand.NewPCG(1, 2)), total: n}
	e := benchEngine(b, 1)
	e.policy = pol
	tmpl := &PodTemplate{Containers: []Container{{Name: "c", Image: "i", MilliCPU: 1}}, RunTime: Const(1e15)}
	if err := e.Submit(0, &Job{Name: "forever", Kind: KindPod, Template: tmpl}); err != nil {
		panic(err)
	}
	if b != nil {
		b.ResetTimer()
	}
	res, err := e.Run()
	if err != nil {
		panic(err)
	}
	if res.Stopped != "" || pol.fired != n {
		panic(fmt.Sprintf("hold run stopped %q after %d of %d timers", res.Stopped, pol.fired, n))
	}
	return pol.fired, res.Events
}

// --- simgo: Timeout + AddHandler per event --------------------------------

func simgoHold(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	sim := simgo.NewSimulation()
	fired, set := 0, 0
	var handler simgo.Handler
	handler = func(*simgo.Event) {
		fired++
		if set < n {
			set++
			sim.Timeout(r.ExpFloat64()).AddHandler(handler)
		}
	}
	for range pending {
		set++
		sim.Timeout(r.ExpFloat64()).AddHandler(handler)
	}
	if b != nil {
		b.ResetTimer()
	}
	for fired < n && sim.Step() {
	}
}

func reportEvents(b *testing.B, events int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(events)
	b.ReportMetric(ns, "ns/event")
	b.ReportMetric(1e9/ns, "events/s")
}

// BenchmarkEventLoop compares events per second of the engine with a plain
// typed binary-heap loop on the hold model (1,000 events pending, each
// event schedules the next at now + Exp(1)). One op is one event.
//
//   - plain-heap: a minimal typed binary heap of (time, seq).
//   - calendar: the engine's calendar with simgo's clock advanced by
//     RunUntil per event (the engine's queue and clock, no dispatch).
//   - engine: a real Engine.Run; the events are policy timers, so each one
//     is a TimerFired calendar event, a delivery event, a Decide call and a
//     SetTimer decision (two calendar events per timer).
//   - simgo: simgo.Timeout + AddHandler per event, for reference.
//   - ratio: plain-heap and engine on b.N events each, timed back to back
//     (ns/op is their sum); reports engine events/s ÷ plain events/s as
//     "engine/plain" (the goal is ≥ 0.333).
func BenchmarkEventLoop(b *testing.B) {
	b.Run("plain-heap", func(b *testing.B) {
		b.ReportAllocs()
		plainHold(b, b.N)
		reportEvents(b, b.N)
	})
	b.Run("calendar", func(b *testing.B) {
		b.ReportAllocs()
		calendarHold(b, b.N)
		reportEvents(b, b.N)
	})
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		_, events := engineHold(b, b.N)
		reportEvents(b, b.N)
		b.ReportMetric(float64(events)/float64(b.N), "calendar-events/event")
	})
	b.Run("simgo", func(b *testing.B) {
		b.ReportAllocs()
		simgoHold(b, b.N)
		reportEvents(b, b.N)
	})
	b.Run("ratio", func(b *testing.B) {
		// b.N events of each model, timed back to back in one run.
		t0 := time.Now()
		plainHold(nil, b.N)
		t1 := time.Now()
		engineHold(nil, b.N)
		t2 := time.Now()
		plain, eng := t1.Sub(t0), t2.Sub(t1)
		// events/s ratio = (N/eng) / (N/plain) = plain/eng.
		b.ReportMetric(plain.Seconds()/eng.Seconds(), "engine/plain")
		b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "plain-ns/event")
		b.ReportMetric(float64(eng.Nanoseconds())/float64(b.N), "engine-ns/event")
	})
}

// --- bytes per pod --------------------------------------------------------

// fifoFit is a strict-FIFO first-fit policy for the memory benchmark
// (package engine's tests cannot import enginetest).
type fifoFit struct {
	queue []*Pod
	used  []Resources
	armed bool
}

func (f *fifoFit) Name() string { return "fifo-fit" }

func (f *fifoFit) PendingPods() int { return len(f.queue) }

func (f *fifoFit) Decide(now float64, events []Event, c *Cluster, out []Decision) []Decision {
	for _, ev := range events {
		switch ev.Kind {
		case PodCreated:
			f.queue = append(f.queue, ev.Pod)
		case TimerFired:
			f.armed = false
		}
	}
	if len(f.used) != len(c.Nodes) {
		f.used = make([]Resources, len(c.Nodes))
	}
	clear(f.used)
	i := 0
	for ; i < len(f.queue); i++ {
		p := f.queue[i]
		var node *Node
		for _, n := range c.Nodes {
			if n.Requested.Add(f.used[n.Index]).Add(p.Requests).LessEqual(n.Allocatable) {
				node = n
				break
			}
		}
		if node == nil {
			break
		}
		f.used[node.Index] = f.used[node.Index].Add(p.Requests)
		out = append(out, Decision{Kind: Bind, Pod: p, Node: node})
	}
	f.queue = f.queue[:copy(f.queue, f.queue[i:])]
	if len(f.queue) > 0 && !f.armed {
		f.armed = true
		out = append(out, Decision{Kind: SetTimer, At: now + 30})
	}
	return out
}

// memoryRun runs 10,000 pods (100 Indexed Jobs of 100, one every 5 s) on
// 100 nodes of 32 cores with the default start-up model.
// discardSink takes the streamed trace and keeps nothing (what a run
// writing events.jsonl keeps in memory).
type discardSink struct{ n int }

func (d *discardSink) Record(*Record, *Pod, *Job, *Node) error { d.n++; return nil }

func memoryRun(mode string) *Result {
	const jobs, perJob = 100, 100
	nodes := make([]*Node, 100)
	for i := range nodes {
		nodes[i] = &Node{Name: fmt.Sprintf("node-%03d", i), Allocatable: Resources{MilliCPU: 32000, Memory: 128 * GiB, Pods: 110}}
	}
	st := DefaultStartup()
	st.RegistryBandwidth, st.NodeBandwidth = 1e9, 200e6
	cfg := Config{Seed: 1, Nodes: nodes, Startup: st, Controllers: DefaultControllers(), Record: mode == "memory"}
	if mode == "stream" {
		cfg.Sink = &discardSink{}
	}
	e, err := New(cfg, &fifoFit{})
	if err != nil {
		panic(err)
	}
	for j := range jobs {
		tmpl := &PodTemplate{
			Containers: []Container{{Name: "main", Image: fmt.Sprintf("img-%d", j%5), ImageSize: 500 * MiB, PullPolicy: PullIfNotPresent, MilliCPU: 1000, Memory: GiB}},
			RunTime:    LogNormal{Median: 120, Sigma: 0.5},
		}
		job := &Job{Name: fmt.Sprintf("job-%d", j), Kind: KindIndexedJob, Parallelism: perJob, Completions: perJob, Template: tmpl}
		if err := e.Submit(float64(j)*5, job); err != nil {
			panic(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		panic(err)
	}
	if res.Stopped != "" || res.FinishedPods() != jobs*perJob {
		panic(fmt.Sprintf("memory run: stopped %q, %d finished", res.Stopped, res.FinishedPods()))
	}
	return res
}

// BenchmarkBytesPerPod runs 10,000 pods on 100 nodes and reports the bytes
// allocated per pod over the whole run (B/pod), the bytes still live after
// the run with the Result held (live-B/pod), and the time per pod.
func BenchmarkBytesPerPod(b *testing.B) {
	// off: no trace; memory: the trace kept in Result.Records (tests);
	// stream: the trace handed to a sink as sim run does.
	for _, mode := range []string{"off", "memory", "stream"} {
		b.Run("trace="+mode, func(b *testing.B) {
			b.ReportAllocs()
			var pods, events int
			var live, alloc uint64
			for range b.N {
				var before, after runtime.MemStats
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				res := memoryRun(mode)
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.StartTimer()
				pods += len(res.Pods)
				alloc += after.TotalAlloc - before.TotalAlloc
				events += res.Events
				if after.HeapAlloc > before.HeapAlloc {
					live += after.HeapAlloc - before.HeapAlloc
				}
				runtime.KeepAlive(res)
			}
			// B/op from ReportAllocs is per run of 10,000 pods; B/pod is the
			// same from MemStats.TotalAlloc, divided by the pods.
			b.ReportMetric(float64(alloc)/float64(pods), "B/pod")
			b.ReportMetric(float64(live)/float64(pods), "live-B/pod")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pods), "ns/pod")
			b.ReportMetric(float64(events)/float64(pods), "events/pod")
		})
	}
}
