package kube

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

func TestBackoffDuration(t *testing.T) {
	q := newSchedulingQueue(&Config{PodInitialBackoffSeconds: 1, PodMaxBackoffSeconds: 10})
	// 1·2^(attempts−1), capped at 10: 1, 2, 4, 8, 16→10, 32→10.
	want := []float64{1, 2, 4, 8, 10, 10}
	for i, w := range want {
		if got := q.backoffDuration(i + 1); got != w {
			t.Errorf("attempts %d: %g, want %g", i+1, got, w)
		}
	}
	q = newSchedulingQueue(&Config{PodInitialBackoffSeconds: 3, PodMaxBackoffSeconds: 5})
	if got := q.backoffDuration(2); got != 5 {
		t.Errorf("3 s doubled capped at 5: %g", got)
	}
}

// A pod that never fits, with the deletion of a bound pod 0.25 s after
// every attempt: each deletion moves it to backoffQ (NodeResourcesFit
// rejected it), and the 1-s backoff flush returns it to activeQ when the
// backoff has run. Attempts at 0, 1, 3, 7, 15, 25, 35: gaps 1, 2, 4, 8,
// 10, 10 s.
func TestBackoffSequence(t *testing.T) {
	nodes := makeNodes(1, 1000, 10*gi)
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(2000, 0)))
	for k, at := range []float64{0, 1, 3, 7, 15, 25, 35} {
		other := makePod(90+k, makeTemplate(100, 0))
		assign(other, nodes[0])
		h.finish(at+0.25, other)
	}
	h.run(40)
	got := h.failTimes("pod-0")
	if fmt.Sprint(got) != "[0 1 3 7 15 25 35]" {
		t.Fatalf("attempts at %v, want [0 1 3 7 15 25 35]", got)
	}
	for _, f := range h.fails {
		if f.reason != "0/1 nodes are available: 1 Insufficient cpu." {
			t.Fatalf("reason %q", f.reason)
		}
	}
	if h.s.PendingPods() != 1 {
		t.Errorf("PendingPods = %d, want 1", h.s.PendingPods())
	}
}

// activeQ pops higher priority first, then the earlier timestamp.
func TestPriorityOrder(t *testing.T) {
	nodes := makeNodes(1, 64000, 64*gi)
	h := newHarness(t, testConfig(), nodes)
	for i, prio := range []int64{0, 5, 1, 5} {
		tmpl := makeTemplate(100, 0)
		tmpl.Priority = prio
		h.create(0, makePod(i, tmpl))
	}
	h.run(1)
	// priority 5 (pod-1, pod-3 in creation order), then 1 (pod-2), then 0.
	if got := strings.Join(h.bindOrder(), " "); got != "pod-1 pod-3 pod-2 pod-0" {
		t.Errorf("bind order %s", got)
	}
	if h.pendingTimers() != 0 || h.s.PendingPods() != 0 {
		t.Errorf("idle scheduler holds %d timers, %d pods", h.pendingTimers(), h.s.PendingPods())
	}
}

// A pod that fails a cycle is requeued with the end of that cycle as its
// timestamp, so it goes behind an equal-priority pod queued before then
// although it was created first.
func TestRequeueResetsTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.CycleSeconds = 1 // every cycle takes 1 s
	nodes := makeNodes(1, 1000, 10*gi)
	assign(makePod(99, makeTemplate(1000, 0)), nodes[0]) // the node is full
	h := newHarness(t, cfg, nodes)
	tmpl := makeTemplate(1000, 0)
	high := makeTemplate(1000, 0)
	high.Priority = 1
	a, b, c := makePod(0, tmpl), makePod(1, tmpl), makePod(2, high)
	a.Name, b.Name, c.Name = "A", "B", "C"
	h.create(0, a)   // A fails in the cycle [0, 1): timestamp 1, backoff until 2
	h.create(0.5, b) // B queued at 0.5
	h.create(0.5, c) // C (priority 1) is popped at 1, fails: timestamp 2
	// One more pod slot: NodeResourcesFit's hint queues A (it would fit the
	// empty node, and a resource grew), though the node is still full.
	h.nodeChanged(1.5, nodes[0], func() { nodes[0].Allocatable.Pods++ })
	// 1.5: A → backoffQ (until 2). 2: the backoff flush moves A to activeQ
	// with timestamp 1, behind B (0.5): B is popped before A.
	h.run(2.5)
	var got []string
	for _, f := range h.fails {
		got = append(got, fmt.Sprintf("%s@%g", f.pod, f.at))
	}
	if s := strings.Join(got, " "); s != "A@0 C@1 B@2" {
		t.Errorf("attempts %s, want A@0 C@1 B@2", s)
	}
}

// With no event, an unschedulable pod is retried by the leftover flush: on
// the first 30-s tick more than 5 min after it failed. Only those timers
// are set.
func TestUnschedulableLeftoverFlush(t *testing.T) {
	nodes := makeNodes(2, 1000, 10*gi)
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(2000, 0)))
	h.run(989)
	if got := h.failTimes("pod-0"); fmt.Sprint(got) != "[0 330 660]" {
		t.Errorf("attempts at %v, want [0 330 660]", got)
	}
	for _, tm := range h.timers {
		if tm.tag != tagLeftoverFlush {
			t.Errorf("unexpected timer %+v", tm)
		}
	}
	if len(h.timers) != 3 || h.timers[2].at != 990 {
		t.Errorf("timers %+v, want 330, 660, 990", h.timers)
	}
}

func TestMoveOnPodDeleted(t *testing.T) {
	nodes := makeNodes(1, 1000, 10*gi)
	x := makePod(99, makeTemplate(1000, 0))
	assign(x, nodes[0])
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(1000, 0)))
	h.finish(5, x) // frees the node: the pod, long out of backoff, goes to activeQ
	h.run(10)
	if len(h.binds) != 1 || h.binds[0].at != 5 {
		t.Fatalf("binds %+v, want one at 5", h.binds)
	}
	// Timers cannot be cancelled: the leftover flush set at 0 for 330 fires
	// once, finds nothing and sets no other.
	h.run(1000)
	if h.pendingTimers() != 0 || len(h.timers) != 1 {
		t.Errorf("%d timers pending on an idle scheduler", h.pendingTimers())
	}
}

func TestMoveOnPodDeletedDuringBackoff(t *testing.T) {
	nodes := makeNodes(1, 1000, 10*gi)
	x := makePod(99, makeTemplate(1000, 0))
	assign(x, nodes[0])
	h := newHarness(t, testConfig(), nodes)
	h.create(0, makePod(0, makeTemplate(1000, 0)))
	h.finish(0.5, x) // backoff runs until 1 → backoffQ → flushed on the 1-s tick
	h.run(10)
	if len(h.binds) != 1 || h.binds[0].at != 1 {
		t.Fatalf("binds %+v, want one at 1", h.binds)
	}
}

// A pod rejected only by taints is not helped by a pod deletion (only
// NodeResourcesFit registers for it) but is by a node change.
func TestQueueingHints(t *testing.T) {
	nodes := makeNodes(2, 4000, 10*gi)
	nodes[0].Taints = []engine.Taint{{Key: "k", Value: "v", Effect: engine.NoSchedule}}
	nodes[1].Taints = nodes[0].Taints
	h := newHarness(t, testConfig(), nodes)
	other := makePod(98, makeTemplate(100, 0))
	assign(other, nodes[0])
	h.create(0, makePod(0, makeTemplate(1000, 0)))
	h.finish(5, other)
	h.nodeChanged(7, nodes[1], func() { nodes[1].Taints = nil })
	h.run(20)
	if got := h.failTimes("pod-0"); fmt.Sprint(got) != "[0]" {
		t.Errorf("attempts at %v, want only [0]", got)
	}
	if len(h.binds) != 1 || h.binds[0].at != 7 || h.binds[0].node != "node-1" {
		t.Errorf("binds %+v, want node-1 at 7", h.binds)
	}
	if want := "0/2 nodes are available: 2 node(s) had untolerated taint {k: v}."; h.fails[0].reason != want {
		t.Errorf("reason %q, want %q", h.fails[0].reason, want)
	}
}

func TestPendingPodDeleted(t *testing.T) {
	nodes := makeNodes(1, 1000, 10*gi)
	h := newHarness(t, testConfig(), nodes)
	p := makePod(0, makeTemplate(2000, 0))
	h.create(0, p)
	h.push(3, engine.Event{Kind: engine.PodDeleted, Pod: p}, nil)
	h.run(3)
	if h.s.PendingPods() != 0 {
		t.Errorf("PendingPods = %d after the pending pod was deleted", h.s.PendingPods())
	}
	h.run(1000) // the leftover timer fires once and finds nothing
	if len(h.fails) != 1 || h.pendingTimers() != 0 {
		t.Errorf("fails %+v, pending timers %d", h.fails, h.pendingTimers())
	}
}

// The cycle takes cycleSeconds + perNodeSeconds × nodes evaluated; the
// next pod waits for it; the bind call leaves after the cycle and the
// client rate limiter.
func TestCycleCostAndBindDelay(t *testing.T) {
	cfg := testConfig()
	cfg.CycleSeconds, cfg.PerNodeSeconds = 0.5, 0.125 // exact in binary
	cfg.ClientQPS, cfg.ClientBurst = 2, 1
	nodes := makeNodes(4, 64000, 64*gi)
	h := newHarness(t, cfg, nodes)
	for i := range 3 {
		h.create(0, makePod(i, makeTemplate(100, 0)))
	}
	h.run(100)
	// Each cycle evaluates 4 nodes: 0.5 + 4·0.125 = 1 s. Cycles at 0, 1, 2.
	// Bind calls leave at the cycle's end (1, 2, 3) when a token is there:
	// the bucket (1 token, 2/s) has one at 1, then one every 0.5 s → no
	// wait. Delay = 1 s each.
	var got []string
	for _, b := range h.binds {
		got = append(got, fmt.Sprintf("%s@%g+%g", b.pod, b.at, b.delay))
	}
	if s := strings.Join(got, " "); s != "pod-0@0+1 pod-1@1+1 pod-2@2+1" {
		t.Errorf("binds %s", s)
	}
}

func TestClientRateLimiter(t *testing.T) {
	cfg := testConfig()
	cfg.ClientQPS, cfg.ClientBurst = 50, 100
	nodes := makeNodes(4, 640000, 640*gi)
	for _, n := range nodes {
		n.Allocatable.Pods = 1000
	}
	h := newHarness(t, cfg, nodes)
	for i := range 103 {
		h.create(0, makePod(i, makeTemplate(100, 0)))
	}
	h.run(1)
	if len(h.binds) != 103 {
		t.Fatalf("%d binds", len(h.binds))
	}
	// Zero-cost cycles all at t = 0: 100 tokens, then one per 1/50 s.
	for i, b := range h.binds {
		want := 0.0
		if i >= 100 {
			want = float64(i-99) / 50
		}
		if math.Abs(b.delay-want) > 1e-9 {
			t.Errorf("bind %d: delay %g, want %g", i, b.delay, want)
		}
	}
}
