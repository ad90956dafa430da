package kube

import (
	"math"

	"github.com/convergesim/converge/engine"
)

// The scheduling queue (upstream PriorityQueue): activeQ, a heap ordered by
// PrioritySort (higher priority first, then earlier queue timestamp);
// backoffQ, a heap ordered by backoff expiry; and unschedulablePods, a list
// in the order the pods were added (which is also timestamp order, because
// the timestamp of a failed pod is the end of its cycle and cycles run one
// after another).

type queueState uint8

const (
	stateNone queueState = iota // being scheduled, or not held
	stateActive
	stateBackoff
	stateUnschedulable
)

// pluginSet is a set of filter plugins, recorded for a pod rejected by them
// (upstream UnschedulablePlugins) to decide which cluster events may help it
// (queueing_hints.go).
type pluginSet uint8

const (
	pluginNodeUnschedulable pluginSet = 1 << iota
	pluginTaintToleration
	pluginNodeAffinity
	pluginNodeResourcesFit
	// pluginGang: an out-of-tree plugin (PreFilter, Permit) rejected the
	// pod. Coscheduling registers pod and PodGroup events, and a
	// PodGroup's status changes with its pods, so any pod event may help.
	pluginGang
)

// queuedPod is the queue's record of a pod (upstream QueuedPodInfo).
type queuedPod struct {
	pod       *engine.Pod
	priority  int64   // the pod's priority
	timestamp float64 // when it was (re)added to the queue
	initial   float64 // when it was first added (InitialAttemptTimestamp)
	seq       uint64  // order of (re)addition, for equal timestamps
	attempts  int     // scheduling cycles it went through
	expiry    float64 // end of its backoff
	rejectors pluginSet
	state     queueState
	index     int        // position in its heap
	prev      *queuedPod // unschedulablePods list
	next      *queuedPod
}

// podHeap is a binary heap of queued pods; byExpiry selects the backoffQ
// order, otherwise PrioritySort.
type podHeap struct {
	items    []*queuedPod
	byExpiry bool
	// sort, if set, is a QueueSort plugin's order (activeQ).
	sort func(a, b *QueuedPodInfo) bool
	// ia, ib: what sort is given, reused by every comparison (a
	// plugin must not keep them).
	ia, ib QueuedPodInfo
}

func (h *podHeap) less(a, b *queuedPod) bool {
	if h.byExpiry {
		if a.expiry != b.expiry {
			return a.expiry < b.expiry
		}
		return a.seq < b.seq
	}
	if h.sort != nil {
		ia, ib := &h.ia, &h.ib
		*ia = QueuedPodInfo{Pod: a.pod, Timestamp: a.timestamp, InitialAttemptTimestamp: a.initial}
		*ib = QueuedPodInfo{Pod: b.pod, Timestamp: b.timestamp, InitialAttemptTimestamp: b.initial}
		if h.sort(ia, ib) {
			return true
		}
		if h.sort(ib, ia) {
			return false
		}
		return a.seq < b.seq
	}
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if a.timestamp != b.timestamp {
		return a.timestamp < b.timestamp
	}
	return a.seq < b.seq
}

func (h *podHeap) len() int { return len(h.items) }

func (h *podHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}

func (h *podHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *podHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *podHeap) push(qp *queuedPod) {
	qp.index = len(h.items)
	h.items = append(h.items, qp)
	h.up(qp.index)
}

func (h *podHeap) peek() *queuedPod { return h.items[0] }

func (h *podHeap) pop() *queuedPod { return h.remove(0) }

func (h *podHeap) remove(i int) *queuedPod {
	qp := h.items[i]
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	h.items[last] = nil
	h.items = h.items[:last]
	if i != last {
		h.down(i)
		h.up(i)
	}
	qp.index = -1
	return qp
}

// schedulingQueue holds every pod that waits to be scheduled.
type schedulingQueue struct {
	initialBackoff, maxBackoff float64
	maxUnschedulable           float64

	active  podHeap
	backoff podHeap
	// unschedulablePods, oldest first.
	head, tail *queuedPod
	unschedLen int

	byPod []*queuedPod // by engine.Pod.ID
	seq   uint64
	free  []*queuedPod
}

func newSchedulingQueue(cfg *Config) schedulingQueue {
	return schedulingQueue{
		initialBackoff:   cfg.PodInitialBackoffSeconds,
		maxBackoff:       cfg.PodMaxBackoffSeconds,
		maxUnschedulable: cfg.PodMaxInUnschedulablePodsDuration,
		backoff:          podHeap{byExpiry: true},
	}
}

// len is the number of pods held.
func (q *schedulingQueue) len() int { return q.active.len() + q.backoff.len() + q.unschedLen }

// add queues a newly created pod in activeQ.
func (q *schedulingQueue) add(p *engine.Pod, now float64) {
	if p.ID < len(q.byPod) && q.byPod[p.ID] != nil {
		return // already held
	}
	var qp *queuedPod
	if n := len(q.free); n > 0 {
		qp = q.free[n-1]
		q.free = q.free[:n-1]
		*qp = queuedPod{}
	} else {
		qp = &queuedPod{}
	}
	qp.pod = p
	qp.priority = p.Template.Priority
	qp.initial = now
	q.stamp(qp, now)
	for p.ID >= len(q.byPod) {
		q.byPod = append(q.byPod, nil)
	}
	q.byPod[p.ID] = qp
	q.toActive(qp)
}

func (q *schedulingQueue) stamp(qp *queuedPod, now float64) {
	qp.timestamp = now
	qp.seq = q.seq
	q.seq++
}

func (q *schedulingQueue) toActive(qp *queuedPod) {
	qp.state = stateActive
	q.active.push(qp)
}

// pop takes the head of activeQ for a scheduling cycle and counts the
// attempt. The caller passes it to done or addUnschedulable.
func (q *schedulingQueue) pop() *queuedPod {
	qp := q.active.pop()
	qp.state = stateNone
	qp.attempts++
	return qp
}

// maxFree bounds the recycled queue records (enough for a steady flow;
// a burst beyond it is left to the garbage collector).
const maxFree = 1024

// done forgets a pod that was bound.
func (q *schedulingQueue) done(qp *queuedPod) {
	q.byPod[qp.pod.ID] = nil
	qp.pod = nil
	if len(q.free) < maxFree {
		if q.free == nil {
			q.free = make([]*queuedPod, 0, maxFree)
		}
		q.free = append(q.free, qp)
	}
}

// backoffDuration is initial·2^(attempts−1), capped at the maximum.
func (q *schedulingQueue) backoffDuration(attempts int) float64 {
	d := q.initialBackoff
	for i := 1; i < attempts; i++ {
		if d > q.maxBackoff-d {
			return q.maxBackoff
		}
		d += d
	}
	return min(d, q.maxBackoff)
}

// addUnschedulable parks a pod that failed its cycle at time at (the end
// of the cycle), which becomes its queue timestamp and starts its backoff.
func (q *schedulingQueue) addUnschedulable(qp *queuedPod, at float64, rejectors pluginSet) {
	q.stamp(qp, at)
	qp.expiry = at + q.backoffDuration(qp.attempts)
	qp.rejectors = rejectors
	qp.state = stateUnschedulable
	qp.prev, qp.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = qp
	} else {
		q.head = qp
	}
	q.tail = qp
	q.unschedLen++
}

func (q *schedulingQueue) unlink(qp *queuedPod) {
	if qp.prev != nil {
		qp.prev.next = qp.next
	} else {
		q.head = qp.next
	}
	if qp.next != nil {
		qp.next.prev = qp.prev
	} else {
		q.tail = qp.prev
	}
	qp.prev, qp.next = nil, nil
	q.unschedLen--
}

// activeOrBackoff moves a pod out of unschedulablePods: to backoffQ while
// its backoff runs, else to activeQ. Its timestamp is kept.
func (q *schedulingQueue) activeOrBackoff(qp *queuedPod, now float64) {
	q.unlink(qp)
	if qp.expiry > now {
		qp.state = stateBackoff
		q.backoff.push(qp)
		return
	}
	q.toActive(qp)
}

// flushBackoff moves the pods whose backoff has ended to activeQ
// (flushBackoffQCompleted).
func (q *schedulingQueue) flushBackoff(now float64) {
	for q.backoff.len() > 0 && q.backoff.peek().expiry <= now {
		q.toActive(q.backoff.pop())
	}
}

// flushLeftover moves the pods that stayed in unschedulablePods longer than
// the maximum (flushUnschedulablePodsLeftover).
func (q *schedulingQueue) flushLeftover(now float64) {
	for q.head != nil && now-q.head.timestamp > q.maxUnschedulable {
		q.activeOrBackoff(q.head, now)
	}
}

// leftoverDue is the first tick of the flush period at which the oldest
// unschedulable pod will be flushed (+Inf if there is none).
func (q *schedulingQueue) leftoverDue(period float64) float64 {
	if q.head == nil {
		return math.Inf(1)
	}
	return nextTick(q.head.timestamp+q.maxUnschedulable, period)
}

// activate moves a pending pod from backoffQ or unschedulablePods to
// activeQ (upstream Activate).
func (q *schedulingQueue) activate(p *engine.Pod) {
	if p.ID >= len(q.byPod) || q.byPod[p.ID] == nil {
		return
	}
	qp := q.byPod[p.ID]
	switch qp.state {
	case stateBackoff:
		q.backoff.remove(qp.index)
	case stateUnschedulable:
		q.unlink(qp)
	default:
		return
	}
	q.toActive(qp)
}

// remove forgets a pending pod that was deleted.
func (q *schedulingQueue) remove(p *engine.Pod) bool {
	if p.ID >= len(q.byPod) || q.byPod[p.ID] == nil {
		return false
	}
	qp := q.byPod[p.ID]
	switch qp.state {
	case stateActive:
		q.active.remove(qp.index)
	case stateBackoff:
		q.backoff.remove(qp.index)
	case stateUnschedulable:
		q.unlink(qp)
	}
	q.done(qp)
	return true
}

// nextTick is the first multiple of period strictly after t.
func nextTick(t, period float64) float64 {
	return (math.Floor(t/period) + 1) * period
}
