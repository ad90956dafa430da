package kube

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/convergesim/converge/engine"
)

// Builders.

const gi = engine.GiB

// makeNode returns a node with the hostname label, 110 pod slots and the
// given cpu (millicores) and memory (bytes).
func makeNode(name string, milliCPU, memory int64) *engine.Node {
	return &engine.Node{
		Name:        name,
		Labels:      map[string]string{engine.LabelHostname: name},
		Allocatable: engine.Resources{MilliCPU: milliCPU, Memory: memory, Pods: 110},
	}
}

func makeNodes(n int, milliCPU, memory int64) []*engine.Node {
	nodes := make([]*engine.Node, n)
	for i := range nodes {
		nodes[i] = makeNode(fmt.Sprintf("node-%d", i), milliCPU, memory)
		nodes[i].Index = i
	}
	return nodes
}

// makeTemplate returns a one-container template.
func makeTemplate(milliCPU, memory int64) *engine.PodTemplate {
	return &engine.PodTemplate{Containers: []engine.Container{{Name: "c", Image: "img", MilliCPU: milliCPU, Memory: memory}}}
}

// makePod returns a pod of a one-pod job with the template's requests.
func makePod(id int, t *engine.PodTemplate) *engine.Pod {
	j := &engine.Job{ID: id, Name: fmt.Sprintf("pod-%d", id), Kind: engine.KindPod, Template: t}
	p := &engine.Pod{ID: id, Name: j.Name, Job: j, Template: t, Requests: t.Requests(), NonZero: t.NonZeroRequests()}
	j.Pods = append(j.Pods, p)
	return p
}

// assign puts a pod on a node the way the engine does on Bind.
func assign(p *engine.Pod, n *engine.Node) {
	n.Requested = n.Requested.Add(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Add(p.NonZero)
	p.Node = n
}

// release removes a pod from its node the way the engine does when it
// finishes.
func release(p *engine.Pod) {
	n := p.Node
	n.Requested = n.Requested.Sub(p.Requests)
	n.NonZeroRequested = n.NonZeroRequested.Sub(p.NonZero)
	p.Phase = engine.PodSucceeded
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.CycleSeconds, cfg.PerNodeSeconds = 0, 0
	cfg.ClientQPS = 0
	return cfg
}

func newTestScheduler(t testing.TB, cfg Config, seed uint64) *Scheduler {
	t.Helper()
	s, err := New(cfg, engine.NewStreams(seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// harness drives a Scheduler with a scripted sequence of events, like the
// engine: items due at the same time are delivered in one Decide call;
// Bind decisions are applied at once; SetTimer decisions come back as
// TimerFired events.
type harness struct {
	t       testing.TB
	s       *Scheduler
	c       *engine.Cluster
	now     float64
	items   []hItem
	seq     int
	out     []engine.Decision
	binds   []hBind
	fails   []hFail
	timers  []hTimer // every timer set, in order
	decides int
	// onFail, if set, sees every Unschedulable decision while the cluster
	// is as the cycle saw it.
	onFail func(p *engine.Pod, reason string)
}

type hItem struct {
	at  float64
	seq int
	ev  engine.Event
	do  func() // applied just before the event is delivered
}

type hBind struct {
	at    float64
	pod   string
	node  string
	delay float64
}

type hFail struct {
	at     float64
	pod    string
	reason string
}

type hTimer struct {
	set, at float64
	tag     int64
}

func newHarness(t testing.TB, cfg Config, nodes []*engine.Node) *harness {
	for i, n := range nodes {
		n.Index = i
	}
	return &harness{t: t, s: newTestScheduler(t, cfg, 1), c: &engine.Cluster{Nodes: nodes}}
}

func (h *harness) push(at float64, ev engine.Event, do func()) {
	h.items = append(h.items, hItem{at: at, seq: h.seq, ev: ev, do: do})
	h.seq++
}

// create schedules a PodCreated event.
func (h *harness) create(at float64, p *engine.Pod) {
	h.push(at, engine.Event{Kind: engine.PodCreated, Pod: p}, nil)
}

// finish schedules the end of a bound pod: its resources are released and
// PodDeleted is delivered.
func (h *harness) finish(at float64, p *engine.Pod) {
	h.push(at, engine.Event{Kind: engine.PodDeleted, Pod: p}, func() { release(p) })
}

// nodeChanged schedules a NodeChanged event after applying change (may be nil).
func (h *harness) nodeChanged(at float64, n *engine.Node, change func()) {
	h.push(at, engine.Event{Kind: engine.NodeChanged, Node: n}, change)
}

// run delivers everything due up to and including until.
func (h *harness) run(until float64) {
	for {
		if len(h.items) == 0 {
			return
		}
		slices.SortStableFunc(h.items, func(a, b hItem) int {
			if c := cmp.Compare(a.at, b.at); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
		at := h.items[0].at
		if at > until {
			return
		}
		var events []engine.Event
		n := 0
		for n < len(h.items) && h.items[n].at == at {
			it := h.items[n]
			if it.do != nil {
				it.do()
			}
			if it.ev.Kind == engine.PodDeleted && it.ev.Node == nil {
				it.ev.Node = it.ev.Pod.Node
			}
			events = append(events, it.ev)
			n++
		}
		h.items = h.items[n:]
		h.now = at
		h.decides++
		h.out = h.s.Decide(at, events, h.c, h.out[:0])
		if h.onFail != nil {
			for _, d := range h.out {
				if d.Kind == engine.Unschedulable {
					h.onFail(d.Pod, d.Reason)
				}
			}
		}
		for _, d := range h.out {
			switch d.Kind {
			case engine.Bind:
				if d.Pod.Node != nil {
					h.t.Fatalf("t=%g: pod %s bound twice", at, d.Pod.Name)
				}
				after := d.Node.Requested.Add(d.Pod.Requests)
				if !after.LessEqual(d.Node.Allocatable) {
					h.t.Fatalf("t=%g: node %s over-committed by %s", at, d.Node.Name, d.Pod.Name)
				}
				assign(d.Pod, d.Node)
				h.binds = append(h.binds, hBind{at, d.Pod.Name, d.Node.Name, d.Delay})
			case engine.SetTimer:
				if d.At < at {
					h.t.Fatalf("t=%g: timer in the past (%g)", at, d.At)
				}
				h.timers = append(h.timers, hTimer{at, d.At, d.Tag})
				h.push(d.At, engine.Event{Kind: engine.TimerFired, Tag: d.Tag}, nil)
			case engine.Unschedulable:
				h.fails = append(h.fails, hFail{at, d.Pod.Name, d.Reason})
			}
		}
	}
}

// pendingTimers is the number of timers set but not yet fired.
func (h *harness) pendingTimers() int {
	n := 0
	for _, it := range h.items {
		if it.ev.Kind == engine.TimerFired {
			n++
		}
	}
	return n
}

func (h *harness) failTimes(pod string) []float64 {
	var ts []float64
	for _, f := range h.fails {
		if f.pod == pod {
			ts = append(ts, f.at)
		}
	}
	return ts
}

func (h *harness) bindOrder() []string {
	var names []string
	for _, b := range h.binds {
		names = append(names, b.pod)
	}
	return names
}
