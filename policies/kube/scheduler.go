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

	nextStartNodeIndex int
	busyUntil          float64 // end of the last cycle
	cycleTimer         bool    // a tagCycle timer is pending
	backoffTimer       bool
	leftoverTimer      bool

	templates   map[*engine.PodTemplate]*templateInfo
	imageSize   map[string]int64 // largest declared size per image name
	imageSpread []float64        // scratch
	nodes       nodeCache
	zoneEpoch   uint32
	spread      map[*engine.Job]*jobSpread

	// scratch, reused by every cycle
	feasible []*engine.Node
	total    []int64
	raw      []int64

	stats Stats
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
		cfg:       cfg,
		rng:       streams.Get("kube.tiebreak"),
		bucket:    engine.NewTokenBucket(cfg.ClientQPS, cfg.ClientBurst),
		q:         newSchedulingQueue(&cfg),
		fit:       newResourceAllocationScorer(cfg.ScoringStrategy.Resources, false, scoringStrategies[cfg.ScoringStrategy.Type](&cfg.ScoringStrategy)),
		balanced:  newResourceAllocationScorer(balancedResources, true, balancedResourceScorer),
		templates: map[*engine.PodTemplate]*templateInfo{},
		imageSize: map[string]int64{},
		spread:    map[*engine.Job]*jobSpread{},
		scoring: w.TaintToleration+w.NodeAffinity+w.NodeResourcesFit+w.PodTopologySpread+
			w.NodeResourcesBalancedAllocation+w.ImageLocality > 0,
	}
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
	s.sync(c)
	var moves pluginSet
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case engine.PodCreated:
			if ev.Pod.Node == nil {
				s.q.add(ev.Pod, now)
			}
		case engine.PodDeleted:
			if s.q.remove(ev.Pod) {
				continue // a pending pod went away
			}
			s.spreadRemove(ev.Pod, ev.Node)
			moves |= eventPodDeleted
		case engine.NodeChanged:
			if ev.Node != nil {
				s.nodes.update(ev.Node)
			}
			moves |= eventNodeChanged
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
			}
		}
	}
	if moves != 0 {
		s.q.moveOnEvent(moves, now)
	}
	if !s.cycleTimer && s.q.active.len() > 0 && now >= s.busyUntil {
		out = s.scheduleOne(now, c, out)
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
	return out
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
	p := qp.pod
	st := cycleState{pod: p, ti: s.templateInfo(p.Template)}
	s.stats.Cycles++
	processed := 0
	if len(c.Nodes) > 0 {
		processed = s.findNodesThatFit(&st, c.Nodes)
	}
	s.stats.NodesEvaluated += processed
	cost := s.cfg.CycleSeconds + s.cfg.PerNodeSeconds*float64(processed)
	s.busyUntil = now + cost

	var host *engine.Node
	switch len(s.feasible) {
	case 0:
		msg, rejectors := diagnose(&st, c.Nodes)
		s.stats.Unschedulable++
		s.q.addUnschedulable(qp, s.busyUntil, rejectors)
		return append(out, engine.Decision{Kind: engine.Unschedulable, Pod: p, Reason: msg})
	case 1:
		host = s.feasible[0]
	default:
		s.stats.Scored++
		host = s.feasible[s.selectHost(s.prioritize(&st, c))]
	}
	s.stats.Bound++
	s.spreadAdd(p, host)
	s.q.done(qp)
	delay := cost + s.bucket.Reserve(s.busyUntil)
	return append(out, engine.Decision{Kind: engine.Bind, Pod: p, Node: host, Delay: delay})
}

// sync sizes the per-node caches and scratch to the cluster.
func (s *Scheduler) sync(c *engine.Cluster) {
	if len(c.Nodes) == len(s.nodes.zone) {
		return
	}
	s.nodes.rebuild(c)
	n := len(c.Nodes)
	s.feasible = make([]*engine.Node, 0, n)
	s.total = make([]int64, n)
	s.raw = make([]int64, n)
}

// nodeCache holds the per-node data of PodTopologySpread: the node's zone
// (an interned id, −1 without the label) and whether it has the hostname
// label. It is refreshed on NodeChanged.
type nodeCache struct {
	zone        []int32
	hasHostname []bool
	zoneIDs     map[string]int32
	zoneMark    []uint32 // scratch: epoch of the cycle that saw the zone
	zoneCount   []int64  // scratch: matching pods per zone
}

func (nc *nodeCache) rebuild(c *engine.Cluster) {
	if nc.zoneIDs == nil {
		nc.zoneIDs = map[string]int32{}
	}
	nc.zone = make([]int32, len(c.Nodes))
	nc.hasHostname = make([]bool, len(c.Nodes))
	for _, n := range c.Nodes {
		nc.update(n)
	}
}

func (nc *nodeCache) update(n *engine.Node) {
	if n.Index < 0 || n.Index >= len(nc.zone) {
		return // a new node: sync rebuilds on the next Decide
	}
	_, nc.hasHostname[n.Index] = n.Labels[engine.LabelHostname]
	z, ok := n.Labels[engine.LabelZone]
	if !ok {
		nc.zone[n.Index] = -1
		return
	}
	id, ok := nc.zoneIDs[z]
	if !ok {
		id = int32(len(nc.zoneIDs))
		nc.zoneIDs[z] = id
		nc.zoneMark = append(nc.zoneMark, 0)
		nc.zoneCount = append(nc.zoneCount, 0)
	}
	nc.zone[n.Index] = id
}

// String describes the scheduler's state, for debugging.
func (s *Scheduler) String() string {
	return fmt.Sprintf("kube: active=%d backoff=%d unschedulable=%d busyUntil=%s",
		s.q.active.len(), s.q.backoff.len(), s.q.unschedLen, fmtTime(s.busyUntil))
}

func fmtTime(t float64) string {
	if math.IsInf(t, 0) {
		return "-"
	}
	return fmt.Sprintf("%g", t)
}
