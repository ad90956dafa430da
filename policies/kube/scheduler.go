package kube

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convergesim/converge/engine"
)

// Timer tags of the scheduler.
const (
	tagCycle         int64 = 1 + iota // the running cycle's time has elapsed
	tagBackoffFlush                   // flushBackoffQCompleted tick
	tagLeftoverFlush                  // flushUnschedulablePodsLeftover tick
	tagPermit                         // the earliest Permit timeout of a waiting pod
)

// Periods of the queue's background flushes (upstream constants).
const (
	backoffFlushPeriod  = 1.0
	leftoverFlushPeriod = 30.0
)

// Stats counts what the scheduler did.
type Stats struct {
	Cycles         int // scheduling cycles run
	Bound          int // cycles that chose a node
	Unschedulable  int // cycles that found no feasible node
	NodesEvaluated int // nodes run through the filters, summed over cycles
	Scored         int // cycles that ran the score plugins (≥ 2 feasible nodes)
	// CacheReloads counts cycles that found the compact node copy out of
	// date and reloaded it from the engine (0 unless a node changed
	// without a NodeChanged event).
	CacheReloads int
	// KnownFailures counts the Unschedulable cycles answered from the
	// template's remembered diagnosis (re-filtering only the nodes changed
	// since), without a scan of every node.
	KnownFailures int
	// FailedAhead counts failed cycles made ahead of their timer
	// (failAhead), included in Unschedulable.
	FailedAhead int
}

// Scheduler is the kube-scheduler model. Build it with New; it implements
// engine.Policy and engine.Pending.
type Scheduler struct {
	cfg     Config
	rng     *rand.Rand
	bucket  *engine.TokenBucket
	q       schedulingQueue
	scoring bool // some score plugin has a weight

	fit      resourceAllocationScorer // NodeResourcesFit score
	balanced resourceAllocationScorer // NodeResourcesBalancedAllocation
	fast     *fastResources           // exact fast path for both, or nil

	nextStartNodeIndex int
	busyUntil          float64 // end of the last cycle
	cycleTimer         bool    // a tagCycle timer is pending
	backoffTimer       bool
	leftoverTimer      bool

	templates    map[*engine.PodTemplate]*templateInfo
	fails        failCache
	images       []imageInfo      // by image id
	imageIDs     map[string]int32 // image name → id
	imageSpread  []float64        // scratch of scoreImageLocality
	imageCount   []int
	imageKnown   []bool
	imageContrib []int64 // scratch: per image of the template, int64(size × spread)
	nodes        nodeCache
	zoneEpoch    uint32
	spread       map[*engine.Job]*jobSpread

	// scratch, reused by every cycle
	changed         []*engine.Node // scratch: NodeChanged nodes of a batch
	before          []nodeBefore   // and what they were before
	feasible        []*engine.Node
	feasibleIdx     []int32 // their indices
	ties            []int32 // scratch of selectHost
	feasibleTainted bool    // some feasible node has taints
	podReq          podRequests
	podShape        int32 // memo key of the pod's requests (0 = none)
	total           []int64
	raw             []int64

	stats Stats

	filtersOff  pluginSet                   // in-tree filters the plugins' profile disables (FilterProfilePlugin)
	plugins     []Plugin                    // out-of-tree plugins (WithPlugins)
	waiting     map[*engine.Pod]*waitingPod // pods held at Permit
	waitMin     float64                     // their earliest deadline (+Inf: none), unless waitDirty
	waitDirty   bool                        // waitMin must be found again
	permitTimer float64                     // time of the pending tagPermit timer (NaN: none)
	h           Handle
	buf         []engine.Decision // decisions made through the Handle
	// released: a waiting pod was rejected in this Decide; the engine
	// frees its node only when Decide returns, so the cycle waits for a
	// timer at the same instant.
	released bool
	// gangEpoch counts the instants with pod events the gang plugins
	// register for (a pod added or deleted), to tell a waiting pod
	// whether one happened while it waited (in-flight events).
	gangEpoch uint64
	// forgetMove: waiting pods were rejected; their AssignedPodDelete
	// requeue is pending (flushForgotten).
	forgetMove bool

	noFailAhead bool // tests: one failed cycle per Decide, as without failAhead
}

var (
	_ engine.Policy  = (*Scheduler)(nil)
	_ engine.Pending = (*Scheduler)(nil)
)

// New returns a scheduler with the configuration (validated here) that
// breaks score ties with the stream "kube.tiebreak" of streams.
func New(cfg Config, streams *engine.Streams) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	if streams == nil {
		return nil, fmt.Errorf("kube: nil random streams")
	}
	cfg.ScoringStrategy.Resources = append([]ResourceSpec(nil), cfg.ScoringStrategy.Resources...)
	w := cfg.PluginWeights
	s := &Scheduler{
		cfg:         cfg,
		rng:         streams.Get("kube.tiebreak"),
		bucket:      engine.NewTokenBucket(cfg.ClientQPS, cfg.ClientBurst),
		q:           newSchedulingQueue(&cfg),
		fit:         newResourceAllocationScorer(cfg.ScoringStrategy.Resources, false, scoringStrategies[cfg.ScoringStrategy.Type](&cfg.ScoringStrategy)),
		balanced:    newResourceAllocationScorer(balancedResources, true, balancedResourceScorer),
		templates:   map[*engine.PodTemplate]*templateInfo{},
		imageIDs:    map[string]int32{},
		spread:      map[*engine.Job]*jobSpread{},
		waiting:     map[*engine.Pod]*waitingPod{},
		permitTimer: math.NaN(),
		waitMin:     math.Inf(1),
		scoring: w.TaintToleration+w.NodeAffinity+w.NodeResourcesFit+w.PodTopologySpread+
			w.NodeResourcesBalancedAllocation+w.ImageLocality > 0,
	}
	s.fast = newFastResources(&s.cfg)
	return s, nil
}

// Name implements engine.Policy.
func (s *Scheduler) Name() string { return "kube" }

// Config returns the configuration in use.
func (s *Scheduler) Config() Config { return s.cfg }

// Stats returns the counters so far.
func (s *Scheduler) Stats() Stats { return s.stats }

// PendingPods implements engine.Pending: the pods in activeQ, backoffQ and
// unschedulablePods.
func (s *Scheduler) PendingPods() int { return s.q.len() }

// Decide implements engine.Policy. It files the events into the queue,
// runs at most one scheduling cycle if the scheduler is free, and keeps one
// timer per pending activity: the next cycle (while activeQ is not empty),
// the 1-s backoffQ flush (while backoffQ is not empty) and the 30-s
// unschedulablePods flush (set for the tick at which its oldest pod is due).
// An idle scheduler sets no timers.
func (s *Scheduler) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	var podDeleted, everyPod, podAdded bool
	changed, before := s.changed[:0], s.before[:0]
	var h *Handle
	if len(s.plugins) > 0 {
		h = s.handle(now, c)
		s.buf = out
	}
	for i := range events {
		ev := &events[i]
		if h != nil {
			for _, pl := range s.plugins {
				if ep, ok := pl.(EventPlugin); ok {
					ep.Observe(h, ev)
				}
			}
		}
		switch ev.Kind {
		case engine.PodCreated:
			if ev.Pod.Node == nil {
				s.q.add(ev.Pod, now)
				podAdded = true
			}
		case engine.PodDeleted:
			if s.q.remove(ev.Pod) {
				continue // a pending pod went away
			}
			if n := ev.Node; n != nil {
				s.nodes.addPod(n.Index, ev.Pod, -1)
			}
			s.spreadRemove(ev.Pod, ev.Node)
			podDeleted = podDeleted || ev.Node != nil
		case engine.NodeChanged:
			if ev.Node == nil {
				everyPod = true
				continue
			}
			changed = append(changed, ev.Node)
			before = append(before, s.nodes.before(ev.Node.Index))
		case engine.TimerFired:
			switch ev.Tag {
			case tagCycle:
				s.cycleTimer = false
			case tagBackoffFlush:
				s.backoffTimer = false
				s.q.flushBackoff(now)
			case tagLeftoverFlush:
				s.leftoverTimer = false
				s.q.flushLeftover(now)
			case tagPermit:
				s.permitTimer = math.NaN()
			}
		}
	}
	if h != nil {
		s.released = false
		if podAdded || podDeleted {
			s.gangEpoch++
		}
		s.expireWaiting(h)
		s.flushForgotten(now)
		out = s.buf
		if podAdded || podDeleted {
			s.requeueGang(now)
		}
	}
	// Reload changed nodes after the pod events: the engine's node already
	// reflects everything this batch reports.
	if len(c.Nodes) != len(s.nodes.hot) {
		s.resize(c)
	} else {
		for _, n := range changed {
			s.nodes.update(n)
		}
	}
	if podDeleted || everyPod || len(before) > 0 {
		s.requeue(now, c, podDeleted, everyPod, before)
	}
	clear(changed)
	clear(before)
	s.changed, s.before = changed[:0], before[:0]
	if !s.cycleTimer && s.q.active.len() > 0 && now >= s.busyUntil && !s.released {
		out = s.scheduleOne(now, c, out)
		if h != nil {
			s.flushForgotten(s.busyUntil) // waiting pods PostFilter or Unreserve rejected
		}
		if last := len(out) - 1; out[last].Kind == engine.Unschedulable {
			out = s.failAhead(now, c, out)
		}
	}
	if !s.cycleTimer && s.q.active.len() > 0 {
		s.cycleTimer = true
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: max(s.busyUntil, now), Tag: tagCycle})
	}
	if !s.backoffTimer && s.q.backoff.len() > 0 {
		s.backoffTimer = true
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: nextTick(now, backoffFlushPeriod), Tag: tagBackoffFlush})
	}
	if !s.leftoverTimer && s.q.head != nil {
		s.leftoverTimer = true
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: max(s.q.leftoverDue(leftoverFlushPeriod), now), Tag: tagLeftoverFlush})
	}
	if d := s.nextPermitDeadline(); !math.IsInf(d, 1) && !(s.permitTimer <= d) {
		// One timer at the earliest deadline; a later timer left from
		// before fires early and is harmless.
		s.permitTimer = max(d, now)
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: s.permitTimer, Tag: tagPermit})
	}
	return out
}

// requeueGang moves the pods a gang plugin rejected back to
// backoffQ/activeQ after a pod was added or deleted.
func (s *Scheduler) requeueGang(now float64) {
	q := &s.q
	for qp := q.head; qp != nil; {
		next := qp.next
		if qp.rejectors&pluginGang != 0 {
			q.activeOrBackoff(qp, now)
		}
		qp = next
	}
}

// rejectCycle ends a cycle whose PreFilter rejected the pod: no node
// is evaluated, the pod is parked as unschedulable, and PostFilter runs.
func (s *Scheduler) rejectCycle(now float64, qp *queuedPod, h *Handle, reason string) []engine.Decision {
	s.stats.Unschedulable++
	s.busyUntil = now + s.cfg.CycleSeconds
	s.q.addUnschedulable(qp, s.busyUntil, pluginGang)
	s.buf = append(s.buf, engine.Decision{Kind: engine.Unschedulable, Pod: qp.pod, Reason: reason})
	s.postFilter(h, qp.pod)
	return s.buf
}

// permitCycle runs Permit for a pod assumed on host: Success binds it
// (and any siblings a plugin allowed), Wait holds it on host, a
// rejection gives the node back and parks the pod.
func (s *Scheduler) permitCycle(now float64, qp *queuedPod, h *Handle, host *engine.Node, cost float64) []engine.Decision {
	p := qp.pod
	st, timeout, by := s.permit(h, p, host)
	switch st.Code {
	case Success:
		s.q.done(qp)
		delay := cost + s.bucket.Reserve(s.busyUntil)
		s.buf = append(s.buf, engine.Decision{Kind: engine.Bind, Pod: p, Node: host, Delay: delay})
	case Wait:
		at := s.busyUntil
		s.wait(p, &waitingPod{qp: qp, node: host, deadline: at + timeout, timeout: timeout, plugin: by, epoch: s.gangEpoch})
		s.buf = append(s.buf, engine.Decision{Kind: engine.Assume, Pod: p, Node: host})
	default:
		s.stats.Unschedulable++
		s.forget(p, host)
		s.unreserve(h, p, host)
		s.q.addUnschedulable(qp, s.busyUntil, pluginGang)
		s.forgotten(s.busyUntil)
		s.buf = append(s.buf, engine.Decision{Kind: engine.Unschedulable, Pod: p, Reason: st.Reason})
	}
	return s.buf
}

// scheduleOne pops the head of activeQ and runs its cycle on the cluster
// as it is now. The cycle lasts CycleSeconds + PerNodeSeconds × (nodes
// evaluated); the next one starts when it ends. The pod is assumed on the
// chosen node at once (the engine holds its resources from now), and its
// bind API call leaves when the cycle has ended and the client rate limiter
// has a token: Delay = cycle time + limiter wait. A pod that fits nowhere is
// parked in unschedulablePods with the end of the cycle as its timestamp.
func (s *Scheduler) scheduleOne(now float64, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	qp := s.q.pop()
	st, shared := s.cycleState(qp.pod, c)
	return s.cycle(now, c, qp, st, shared, nil, out)
}

// cycleState is the cycle state of pod p, and whether the filters'
// verdicts depend on it only through its template (its requests are the
// template's).
func (s *Scheduler) cycleState(p *engine.Pod, c *engine.Cluster) (cycleState, bool) {
	st := cycleState{pod: p, ti: s.templateInfo(p.Template)}
	return st, len(c.Nodes) > 0 && p.Requests == st.ti.requests
}

// cycle runs the scheduling cycle of qp (popped from activeQ) at now.
// known, if set, is the template's remembered diagnosis, already found
// to say that no node passes; otherwise the cycle looks it up.
func (s *Scheduler) cycle(now float64, c *engine.Cluster, qp *queuedPod, st cycleState, shared bool, known *failRecord, out []engine.Decision) []engine.Decision {
	p := qp.pod
	s.stats.Cycles++
	n := len(c.Nodes)
	var (
		host      *engine.Node
		processed int
		msg       string
		rejectors pluginSet
	)
	var h *Handle
	if len(s.plugins) > 0 {
		h = &s.h
		s.buf = out
		nodes, pst := s.preFilter(h, p)
		if pst.Code != Success {
			return s.rejectCycle(now, qp, h, pst.Reason)
		}
		st.only = nodes
	}
	if known == nil {
		known = s.knownFailure(&st, c.Nodes, shared)
	}
	if r := known; r != nil {
		// No node passes: the cycle filters every node and fails, which
		// leaves the start index where it was.
		s.stats.KnownFailures++
		processed = n
		msg, rejectors = s.message(r, n), r.counts.rejectors()
		s.nextStartNodeIndex %= n
	} else {
		start := s.nextStartNodeIndex
		for attempt := 0; attempt < 2; attempt++ {
			host, processed = s.schedulePod(&st, c)
			consistent := true
			if host != nil {
				consistent = s.nodes.matches(host)
			} else if st.only != nil {
				// A PreFilter restricted the pod to nodes where it
				// does not fit.
				msg = fmt.Sprintf("0/%d nodes are available: %d node(s) didn't fit the pod's PreFilter result, %d node(s) were not in it.", n, len(st.only), n-len(st.only))
				rejectors = pluginGang | pluginNodeResourcesFit
			} else {
				// Diagnose on the engine's nodes, and remember the
				// diagnosis for the template's next pods.
				r := &s.fails.scratch
				if shared {
					r = s.fails.take(st.ti, n)
					s.nodes.logging = true
				}
				s.diagnoseAll(r, &st, c.Nodes)
				msg, rejectors = s.message(r, n), r.counts.rejectors()
				consistent = r.counts.passed == 0
			}
			if consistent {
				break
			}
			// The compact node copy disagrees with the engine (a change no
			// event reported): reload it and run the cycle again.
			s.stats.CacheReloads++
			s.nodes.rebuild(c)
			s.nextStartNodeIndex = start
		}
	}
	s.stats.NodesEvaluated += processed
	cost := s.cfg.CycleSeconds + s.cfg.PerNodeSeconds*float64(processed)
	s.busyUntil = now + cost
	if host == nil {
		s.stats.Unschedulable++
		s.q.addUnschedulable(qp, s.busyUntil, rejectors)
		out = append(out, engine.Decision{Kind: engine.Unschedulable, Pod: p, Reason: msg})
		if h != nil {
			s.buf = out
			s.postFilter(h, p)
			out = s.buf
		}
		return out
	}
	s.stats.Bound++
	s.nodes.addPod(host.Index, p, 1)
	s.spreadAdd(p, host)
	if s.cfg.PluginWeights.ImageLocality > 0 {
		for _, im := range st.ti.images {
			s.nodes.imageBound(host.Index, im.id)
		}
	}
	if h != nil {
		return s.permitCycle(now, qp, h, host, cost)
	}
	s.q.done(qp)
	delay := cost + s.bucket.Reserve(s.busyUntil)
	return append(out, engine.Decision{Kind: engine.Bind, Pod: p, Node: host, Delay: delay})
}

// failAhead makes, in this Decide, the cycles that would run before
// anything else can happen (Cluster.QuietUntil) and fail on their
// template's remembered diagnosis, each at the time its cycle starts (the
// end of the one before), instead of one timer and one Decide per cycle.
// Nothing but these cycles changes the queue or the cluster before
// QuietUntil, so the attempts, their times and messages, the queue and the
// start index end exactly as the cycles one by one would leave them. It
// stops at the first pod that could fit (its cycle then runs from the
// timer, at its time), and when the leftover-flush timer is still to be
// set; the backoffQ flush timer this Decide is about to set bounds the
// cycles as the engine's own events do. It runs only after a failed cycle: the engine's nodes are then
// those the policy sees (no bind of this Decide is pending).
func (s *Scheduler) failAhead(now float64, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	if s.noFailAhead {
		return out
	}
	quiet := c.QuietUntil()
	if !s.backoffTimer && s.q.backoff.len() > 0 {
		// This Decide will set the backoffQ flush timer (see Decide):
		// a cycle at or after it must wait for the flush.
		quiet = min(quiet, nextTick(now, backoffFlushPeriod))
	}
	for s.q.active.len() > 0 && s.busyUntil < quiet && (s.leftoverTimer || s.q.head == nil) {
		st, shared := s.cycleState(s.q.active.peek().pod, c)
		r := s.knownFailure(&st, c.Nodes, shared)
		if r == nil {
			break
		}
		at := s.busyUntil
		out = s.cycle(at, c, s.q.pop(), st, shared, r, out) // fails: r says no node passes
		out[len(out)-1].At = at
		s.stats.FailedAhead++
	}
	return out
}

// knownFailure returns the template's remembered diagnosis, brought up to
// date, if it says that no node passes the filters (shared: the pod has
// its template's requests); else nil.
func (s *Scheduler) knownFailure(st *cycleState, nodes []*engine.Node, shared bool) *failRecord {
	if !shared || s.fails.off {
		return nil
	}
	r := s.fails.lookup(st.ti)
	if r == nil {
		return nil
	}
	s.refresh(r, st, nodes)
	if r.counts.passed != 0 {
		return nil
	}
	return r
}

// schedulePod runs Filter and, with two or more feasible nodes, Score, and
// returns the chosen node (nil if none is feasible) and the number of nodes
// evaluated.
func (s *Scheduler) schedulePod(st *cycleState, c *engine.Cluster) (*engine.Node, int) {
	if len(c.Nodes) == 0 {
		s.feasible, s.feasibleIdx = s.feasible[:0], s.feasibleIdx[:0]
		return nil, 0
	}
	processed := s.findNodesThatFit(st, c.Nodes)
	if s.fast != nil {
		s.podReq = s.fast.podRequests(st.pod)
		s.podShape = st.ti.shape
		if p := st.pod; p.Requests != st.ti.requests || p.NonZero != st.ti.nonZero {
			s.podShape = 0 // not the template's usual requests: no memo
		}
	}
	switch len(s.feasibleIdx) {
	case 0:
		return nil, processed
	case 1:
		return c.Nodes[s.feasibleIdx[0]], processed
	}
	s.stats.Scored++
	return c.Nodes[s.feasibleIdx[s.selectHost(s.prioritize(st, c))]], processed
}

// resize rebuilds the per-node caches and scratch for the cluster's nodes.
func (s *Scheduler) resize(c *engine.Cluster) {
	s.nodes.rebuild(c)
	n := len(c.Nodes)
	s.feasible = make([]*engine.Node, 0, n)
	s.feasibleIdx = make([]int32, 0, n)
	s.ties = make([]int32, n)
	s.total = make([]int64, n)
	s.raw = make([]int64, n)
}

// String describes the scheduler's state, for debugging.
func (s *Scheduler) String() string {
	return fmt.Sprintf("kube: active=%d backoff=%d unschedulable=%d busyUntil=%g",
		s.q.active.len(), s.q.backoff.len(), s.q.unschedLen, s.busyUntil)
}
