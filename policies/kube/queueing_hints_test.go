package kube

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convergesim/converge/engine"
)

// Which cluster events bring an unschedulable pod back (upstream's
// QueueingHints of the four filter plugins). The pod fails at 0 (backoff
// until 1); the event comes at 5. Moved, it is attempted again at 5;
// otherwise only the leftover flush at 330 retries it.
func TestQueueingHintRules(t *testing.T) {
	noSchedule := func(k, v string) engine.Taint { return engine.Taint{Key: k, Value: v, Effect: engine.NoSchedule} }
	type setup struct {
		nodes []*engine.Node
		tmpl  *engine.PodTemplate
	}
	// fitRejected: one node of 1 cpu, a pod of 2 cpu.
	fitRejected := func() setup {
		return setup{makeNodes(1, 1000, 4*gi), makeTemplate(2000, 0)}
	}
	// fullNode: one node of 1 cpu, full; a pod of 1 cpu.
	fullNode := func() setup {
		s := setup{makeNodes(1, 1000, 4*gi), makeTemplate(1000, 0)}
		assign(makePod(99, makeTemplate(1000, 0)), s.nodes[0])
		return s
	}
	tainted := func() setup {
		s := setup{makeNodes(1, 4000, 4*gi), makeTemplate(1000, 0)}
		s.nodes[0].Taints = []engine.Taint{noSchedule("k", "v")}
		return s
	}
	cordoned := func() setup {
		s := setup{makeNodes(1, 4000, 4*gi), makeTemplate(1000, 0)}
		s.nodes[0].Unschedulable = true
		return s
	}
	selector := func() setup {
		s := setup{makeNodes(1, 4000, 4*gi), makeTemplate(1000, 0)}
		s.tmpl.NodeSelector = map[string]string{"tier": "x"}
		return s
	}
	for _, tc := range []struct {
		name   string
		setup  func() setup
		event  func(h *harness, nodes []*engine.Node)
		moved  bool
		rejets pluginSet // the rejectors recorded at 0
	}{
		{"fit: allocatable grows to fit", fitRejected, change(func(n *engine.Node) { n.Allocatable.MilliCPU = 4000 }), true, pluginNodeResourcesFit},
		{"fit: allocatable grows, still too small", fitRejected, change(func(n *engine.Node) { n.Allocatable.MilliCPU = 1500 }), false, pluginNodeResourcesFit},
		{"fit: a label changes", fitRejected, change(func(n *engine.Node) { n.Labels["tier"] = "x" }), false, pluginNodeResourcesFit},
		{"fit: a node change that changes nothing", fitRejected, change(func(*engine.Node) {}), false, pluginNodeResourcesFit},
		{"fit: full node, one more pod slot", fullNode, change(func(n *engine.Node) { n.Allocatable.Pods++ }), true, pluginNodeResourcesFit},
		{"fit: full node, memory the pod does not request grows", fullNode, change(func(n *engine.Node) { n.Allocatable.Memory *= 2 }), false, pluginNodeResourcesFit},
		{"fit: a bound pod is deleted", fullNode, func(h *harness, nodes []*engine.Node) {
			x := makePod(98, makeTemplate(100, 0))
			assign(x, nodes[0])
			h.finish(5, x)
		}, true, pluginNodeResourcesFit},
		{"fit: a pod never bound is deleted", fullNode, func(h *harness, nodes []*engine.Node) {
			h.push(5, engine.Event{Kind: engine.PodDeleted, Pod: makePod(98, makeTemplate(100, 0))}, nil)
		}, false, pluginNodeResourcesFit},
		{"fit: a node that fits is added", fitRejected, addNode(8000), true, pluginNodeResourcesFit},
		{"fit: a node too small is added", fitRejected, addNode(1000), false, pluginNodeResourcesFit},
		{"taint: removed", tainted, change(func(n *engine.Node) { n.Taints = nil }), true, pluginTaintToleration},
		{"taint: another untolerated value", tainted, change(func(n *engine.Node) { n.Taints = []engine.Taint{noSchedule("k", "w")} }), false, pluginTaintToleration},
		{"taint: turned PreferNoSchedule", tainted, change(func(n *engine.Node) {
			n.Taints = []engine.Taint{{Key: "k", Value: "v", Effect: engine.PreferNoSchedule}}
		}), true, pluginTaintToleration},
		{"taint: a bound pod is deleted", tainted, func(h *harness, nodes []*engine.Node) {
			x := makePod(98, makeTemplate(100, 0))
			assign(x, nodes[0])
			h.finish(5, x)
		}, false, pluginTaintToleration},
		{"taint: an untainted node is added", tainted, addNode(4000), true, pluginTaintToleration},
		{"cordon: lifted", cordoned, change(func(n *engine.Node) { n.Unschedulable = false }), true, pluginNodeUnschedulable},
		{"cordon: a taint and a label change", cordoned, change(func(n *engine.Node) {
			n.Taints = []engine.Taint{noSchedule("a", "b")}
			n.Labels["tier"] = "x"
		}), false, pluginNodeUnschedulable},
		{"selector: the label appears", selector, change(func(n *engine.Node) { n.Labels["tier"] = "x" }), true, pluginNodeAffinity},
		{"selector: another label", selector, change(func(n *engine.Node) { n.Labels["tier"] = "y" }), false, pluginNodeAffinity},
		{"selector: cordon lifted elsewhere", selector, change(func(n *engine.Node) { n.Unschedulable = false }), false, pluginNodeAffinity},
		{"any: a node event naming no node", tainted, func(h *harness, _ []*engine.Node) {
			h.push(5, engine.Event{Kind: engine.NodeChanged}, nil)
		}, true, pluginTaintToleration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			su := tc.setup()
			h := newHarness(t, testConfig(), su.nodes)
			p := makePod(0, su.tmpl)
			h.create(0, p)
			h.run(1)
			if qp := h.s.q.byPod[p.ID]; qp == nil || qp.rejectors != tc.rejets {
				t.Fatalf("after the first attempt: %+v, want rejectors %b", qp, tc.rejets)
			}
			tc.event(h, su.nodes)
			h.run(100)
			retried := len(h.failTimes("pod-0")) > 1 || len(h.binds) > 0
			if retried != tc.moved {
				t.Errorf("retried before 100: %v, want %v (attempts %v, binds %v)", retried, tc.moved, h.failTimes("pod-0"), h.binds)
			}
		})
	}
}

// change applies f to node 0 at 5 and delivers NodeChanged.
func change(f func(*engine.Node)) func(*harness, []*engine.Node) {
	return func(h *harness, nodes []*engine.Node) {
		h.nodeChanged(5, nodes[0], func() { f(nodes[0]) })
	}
}

// addNode adds a node of the given cpu at 5 and delivers NodeChanged.
func addNode(milliCPU int64) func(*harness, []*engine.Node) {
	return func(h *harness, _ []*engine.Node) {
		n := makeNode(fmt.Sprint("node-", len(h.c.Nodes)), milliCPU, 4*gi)
		h.nodeChanged(5, n, func() {
			n.Index = len(h.c.Nodes)
			h.c.Nodes = append(h.c.Nodes, n)
		})
	}
}

// In a saturated backlog (random arrivals and run times, pods only
// NodeResourcesFit can reject), every retry follows upstream's rules: it
// comes no earlier than the end of the pod's backoff (1 s·2^(attempts−1),
// at most 10 s), and only after the deletion of a bound pod since the pod
// failed, or once the pod has waited 5 min in unschedulablePods (the
// leftover flush).
func TestRetriesFollowUpstreamRules(t *testing.T) {
	cfg := testConfig()
	cfg.CycleSeconds, cfg.PerNodeSeconds = 0.002, 1e-5
	nodes := makeNodes(20, 4000, 16*gi)
	h := newHarness(t, cfg, nodes)
	r := newRand(11)
	var deletions []float64
	tmpls := []*engine.PodTemplate{makeTemplate(1000, gi), makeTemplate(2500, 2*gi), makeTemplate(500, 0)}
	for i := range 600 {
		p := makePod(i, tmpls[r.IntN(len(tmpls))])
		at := r.Float64() * 30
		h.create(at, p)
		// The pod ends a while after it is bound (if it is by then).
		end := at + 20 + r.Float64()*400
		h.push(end, engine.Event{Kind: engine.PodDeleted, Pod: p}, func() {
			if p.Node != nil {
				release(p)
				deletions = append(deletions, end)
			}
		})
	}
	h.run(1e5)
	q := newSchedulingQueue(&cfg)
	type attempt struct {
		at   float64
		fail bool
	}
	byPod := map[string][]attempt{}
	for _, f := range h.fails {
		byPod[f.pod] = append(byPod[f.pod], attempt{f.at, true})
	}
	for _, b := range h.binds {
		byPod[b.pod] = append(byPod[b.pod], attempt{b.at, false})
	}
	retries := 0
	for pod, as := range byPod {
		for k := 1; k < len(as); k++ {
			prev, next := as[k-1], as[k]
			if !prev.fail || next.at < prev.at {
				t.Fatalf("%s: attempts out of order: %+v", pod, as)
			}
			retries++
			// The failed cycle ended at prev.at + its cost (at most one
			// full scan); its backoff runs from there.
			end := prev.at + cfg.CycleSeconds + cfg.PerNodeSeconds*float64(len(nodes))
			if next.at < end+q.backoffDuration(k)-1e-9 {
				t.Errorf("%s: attempt %d at %g, before its backoff (failed at %g, %g s)", pod, k+1, next.at, prev.at, q.backoffDuration(k))
			}
			helped := next.at-end > cfg.PodMaxInUnschedulablePodsDuration
			for _, d := range deletions {
				if d >= prev.at && d <= next.at {
					helped = true
					break
				}
			}
			if !helped {
				t.Errorf("%s: attempt %d at %g with no bound pod deleted since %g", pod, k+1, next.at, prev.at)
			}
		}
	}
	if retries < 500 {
		t.Fatalf("only %d retries: not a backlog", retries)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e37)) }
