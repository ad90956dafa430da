package fluence

import (
	"fmt"
	"math"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

// group is a PodGroup as Fluence's PodGroupManager sees it.
type group struct {
	job *engine.Job
	// solo is an operator's launcher pod (an MPIJob's), alone in its own
	// group: Fluence's webhook groups pods by the object that owns them,
	// and the launcher belongs to the launcher Job, not to the workers
	// (the canopie22 kubeflux logs map only the workers).
	solo      *engine.Pod
	name      string
	minMember int
	timeout   float64 // Permit wait: scheduleTimeoutSeconds, else 300 s
	start     int64   // status.scheduleStartTime, µs (MicroTime)
	// jobID is the group's live Fluxion allocation (groupToJobId); 0: none.
	jobID uint64
	// permittedUntil: the group passed PreFilter's match and is in the
	// permittedpodGroup cache until then (−Inf: not permitted).
	permittedUntil float64
	// memo is the answer of the group's last ask that left no
	// allocation (Fluxion failed, or the allocation was cancelled at
	// once because its nodes were fewer than the pods), valid while
	// Fluxion's state is still memoGen: the same ask gets it again
	// without a match. A group that can never be placed (slots sharing
	// a node) is asked again every few cycles for as long as the run
	// lasts; the answer does not change until something else does.
	memo    *askResult
	memoGen uint64
}

// askResult is an ask's answer: its nodes or its error.
type askResult struct {
	nodes []*engine.Node
	err   error
}

// Stats counts what Fluence did.
type Stats struct {
	Asks        int // AskFlux calls (one MATCH_ALLOCATE each)
	Allocated   int // matches that allocated
	Failed      int // matches that failed (no room in Fluxion's graph, or an error)
	Mismatches  int // allocations cancelled at once because their node count was not the pod count
	StaleCancel int // allocations cancelled by a new ask of the same group
	Released    int // allocations cancelled because a pod of the group finished (or went away)
	Stuck       int // PreFilter calls that found no node for a pod of a permitted group
	Memo        int // asks answered from the group's last answer on an unchanged Fluxion (counted in Asks and Failed or Mismatches too)
}

// Plugin is the Fluence kube-scheduler plugin (flux-k8s
// sig-scheduler-plugins/pkg/fluence: fluence.go, core/core.go,
// core/flux.go) with its sidecar: QueueSort, PreFilter, PostFilter,
// Permit, Unreserve and the pod informer's handlers.
type Plugin struct {
	cfg     Config
	sc      sidecar
	started bool
	groups  map[*engine.Job]*group
	solos   map[*engine.Pod]*group       // launcher pods' own groups
	noMemo  bool                         // tests: always ask Fluxion
	podNode map[*engine.Pod]*engine.Node // podToNode
	stats   Stats
}

var (
	_ kube.QueueSortPlugin  = (*Plugin)(nil)
	_ kube.PreFilterPlugin  = (*Plugin)(nil)
	_ kube.PostFilterPlugin = (*Plugin)(nil)
	_ kube.PermitPlugin     = (*Plugin)(nil)
	_ kube.UnreservePlugin  = (*Plugin)(nil)
	_ kube.EventPlugin      = (*Plugin)(nil)

	_ kube.FilterProfilePlugin = (*Plugin)(nil)
)

func newPlugin(cfg Config) *Plugin {
	p := &Plugin{cfg: cfg, groups: map[*engine.Job]*group{}, podNode: map[*engine.Pod]*engine.Node{}}
	p.sc.cfg = &p.cfg
	p.sc.live = cfg.Graph == GraphLive
	// The memo holds only where an allocation and its cancel leave the
	// next answer as it was: the id-ordered policies. Under first (and
	// firstnodex) allocating and cancelling changes the order the next
	// traversal meets the candidates in, so the same ask can get another
	// answer; locality and variation are not assumed either.
	p.noMemo = !memoPolicies[cfg.Policy]
	return p
}

// memoPolicies are the match policies whose answer on a Fluxion state
// restored by a cancel is the answer it gave before.
var memoPolicies = map[string]bool{"low": true, "high": true, "lonode": true, "hinode": true, "lonodex": true, "hinodex": true}

// Name implements kube.Plugin.
func (pl *Plugin) Name() string { return "Fluence" }

// Stats returns the counters so far.
func (pl *Plugin) Stats() Stats { return pl.stats }

// DisabledFilters implements kube.FilterProfilePlugin: the Helm chart's
// profile disables every in-tree filter but NodeResourcesFit
// (values.yaml plugins.disabledAll), so a pod goes to the node Fluxion
// chose even if it is cordoned or tainted NoSchedule, which the kubelet
// does not check. NodeAffinity stays: the kubelet checks it at admission.
func (pl *Plugin) DisabledFilters() []string {
	return []string{"NodeUnschedulable", "TaintToleration"}
}

// Err is why the sidecar could not start (nil if it did, or has not yet).
func (pl *Plugin) Err() error { return pl.sc.err }

// startOnce starts the sidecar on the cluster as it is when the
// scheduler first runs.
func (pl *Plugin) startOnce(c *engine.Cluster) {
	if !pl.started {
		pl.started = true
		pl.sc.start(c)
	}
}

// groupOf returns the pod's group, creating it if the plugin has not
// seen its job arrive (its scheduleStartTime is then now).
func (pl *Plugin) groupOf(j *engine.Job, now float64) *group {
	if g := pl.groups[j]; g != nil {
		return g
	}
	// The webhook sizes a Job's group by its parallelism and a lone pod's
	// as 1; an explicit PodGroup gives minMember and the timeout.
	g := &group{job: j, name: j.Name, minMember: 1, timeout: PermitWaitingTimeSeconds,
		start: micro(now), permittedUntil: math.Inf(-1)}
	switch {
	case j.Group != nil:
		g.minMember = max(j.Group.MinMember, 1)
		if j.Group.Name != "" {
			g.name = j.Group.Name
		}
		if j.Group.ScheduleTimeoutSeconds > 0 {
			g.timeout = j.Group.ScheduleTimeoutSeconds
		}
	case j.Kind != engine.KindPod:
		g.minMember = max(j.Parallelism, 1)
	}
	if op := j.Operator; op != nil && op.Launcher != nil {
		// The launcher pod is not in the workers' group (see group.solo).
		g.minMember = min(g.minMember, max(j.Completions, 1))
	}
	pl.groups[j] = g
	return g
}

// groupOfPod is the group of pod p: its job's, or its own for an
// operator's launcher pod.
func (pl *Plugin) groupOfPod(p *engine.Pod, now float64) *group {
	if !p.Launcher {
		return pl.groupOf(p.Job, now)
	}
	if g := pl.solos[p]; g != nil {
		return g
	}
	if pl.solos == nil {
		pl.solos = map[*engine.Pod]*group{}
	}
	g := &group{job: p.Job, solo: p, name: "fluence-solo-" + p.Name, minMember: 1, timeout: PermitWaitingTimeSeconds,
		start: micro(now), permittedUntil: math.Inf(-1)}
	pl.solos[p] = g
	return g
}

// pods are the group's members in creation order (the lister): the
// job's pods without its launcher, or the launcher alone.
func (g *group) pods() []*engine.Pod {
	if g.solo != nil {
		return []*engine.Pod{g.solo}
	}
	if op := g.job.Operator; op == nil || op.Launcher == nil {
		return g.job.Pods
	}
	out := make([]*engine.Pod, 0, len(g.job.Pods))
	for _, p := range g.job.Pods {
		if !p.Launcher {
			out = append(out, p)
		}
	}
	return out
}

// micro truncates a time to the microseconds of a MicroTime.
func micro(t float64) int64 { return int64(math.Floor(t * 1e6)) }

// Less implements kube.QueueSortPlugin (Fluence.Less): higher priority
// first, then the earlier group scheduleStartTime (the pod's first
// attempt if it has no group), then namespace/name.
func (pl *Plugin) Less(a, b *kube.QueuedPodInfo) bool {
	pa, pb := a.Pod.Template.Priority, b.Pod.Template.Priority
	if pa != pb {
		return pa > pb
	}
	ta, tb := pl.startOf(a), pl.startOf(b)
	if ta != tb {
		return ta < tb
	}
	return a.Pod.Name < b.Pod.Name
}

func (pl *Plugin) startOf(q *kube.QueuedPodInfo) int64 {
	if q.Pod.Launcher {
		if g := pl.solos[q.Pod]; g != nil {
			return g.start
		}
		return micro(q.InitialAttemptTimestamp)
	}
	if g := pl.groups[q.Pod.Job]; g != nil {
		return g.start
	}
	return micro(q.InitialAttemptTimestamp)
}

// Observe implements kube.EventPlugin: the group appears when its job
// arrives (the controller records scheduleStartTime), and the pod
// informer's UpdatePod/DeletePod release the allocation.
func (pl *Plugin) Observe(h *kube.Handle, ev *engine.Event) {
	pl.startOnce(h.Cluster())
	switch ev.Kind {
	case engine.JobArrived:
		pl.groupOf(ev.Job, h.Now())
	case engine.PodCreated:
		pl.groupOfPod(ev.Pod, h.Now())
	case engine.PodDeleted:
		g := pl.groups[ev.Pod.Job]
		if ev.Pod.Launcher {
			g = pl.solos[ev.Pod]
		}
		if g == nil || g.jobID == 0 {
			return
		}
		// first-pod: any member that finishes (Succeeded/Failed) or is
		// deleted cancels the allocation, while its siblings still run.
		if pl.cfg.Release == ReleaseLastPod && pl.assigned(g, ev.Pod) > 0 {
			return
		}
		if pl.cancelFluxJob(g) == nil {
			pl.stats.Released++
		}
	}
}

// assigned counts the group's pods holding a node (assumed or bound,
// not finished), leaving out except.
func (pl *Plugin) assigned(g *group, except *engine.Pod) int {
	n := 0
	for _, p := range g.pods() {
		if p != except && p.Node != nil && !finished(p) {
			n++
		}
	}
	return n
}

// cancelFluxJob cancels the group's allocation and forgets the node of
// every pod of the group (core/flux.go cancelFluxJob and cleanup).
func (pl *Plugin) cancelFluxJob(g *group) error {
	if g.jobID == 0 {
		return nil
	}
	pl.sc.cover(g, g.jobID, false)
	if err := pl.sc.cancel(g.jobID); err != nil {
		return err
	}
	g.jobID = 0
	for _, p := range g.pods() {
		delete(pl.podNode, p)
	}
	return nil
}

// only is the PreFilter result for p: its node, or no node at all.
func (pl *Plugin) only(p *engine.Pod) []*engine.Node {
	if n := pl.podNode[p]; n != nil {
		return []*engine.Node{n}
	}
	pl.stats.Stuck++
	return []*engine.Node{}
}

// PreFilter implements kube.PreFilterPlugin (Fluence.PreFilter and
// PodGroupManager.PreFilter): a pod with a node goes there; otherwise,
// once the group has minMember pods and is not already permitted, the
// group is matched as a whole and its pods, in lister order, get the
// nodes of the allocation.
func (pl *Plugin) PreFilter(h *kube.Handle, p *engine.Pod) ([]*engine.Node, kube.Status) {
	pl.startOnce(h.Cluster())
	if n := pl.podNode[p]; n != nil {
		return []*engine.Node{n}, kube.OK
	}
	now := h.Now()
	g := pl.groupOfPod(p, now)
	pods := g.pods() // the lister: every pod of the group, in creation order
	if len(pods) < g.minMember {
		return nil, kube.Status{Code: kube.UnschedulableAndUnresolvable, Reason: fmt.Sprintf(
			"pre-filter pod %s cannot find enough sibling pods, current pods number: %d, minMember of group: %d", p.Name, len(pods), g.minMember)}
	}
	if now < g.permittedUntil {
		return pl.only(p), kube.OK
	}
	nodes, err := pl.askFlux(h, g, pods)
	if err != nil {
		return nil, kube.Status{Code: kube.UnschedulableAndUnresolvable, Reason: err.Error()}
	}
	if len(nodes) != len(pods) {
		// Fluxion's answer does not give every pod a node: the
		// allocation is cancelled, yet the pods that got a node keep it.
		pl.stats.Mismatches++
		if err := pl.cancelFluxJob(g); err != nil {
			return nil, kube.Status{Code: kube.UnschedulableAndUnresolvable, Reason: err.Error()}
		}
		// Fluxion is back where it was: the same ask gets these nodes.
		if g.memo == nil {
			g.memo, g.memoGen = &askResult{nodes: nodes}, pl.sc.gen
		}
	}
	for i, n := range nodes {
		if i < len(pods) {
			pl.podNode[pods[i]] = n
		}
	}
	g.permittedUntil = now + PermitWaitingTimeSeconds
	return pl.only(p), kube.OK
}

// askFlux is AskFlux: cancel the group's stale allocation if it has
// one, then one MATCH_ALLOCATE of minMember slots shaped like the
// group's first pod. The answer is the allocation's distinct nodes in R
// order (assign: distinct-nodes), or each node once per slot it holds
// (assign: by-slot).
func (pl *Plugin) askFlux(h *kube.Handle, g *group, pods []*engine.Pod) ([]*engine.Node, error) {
	if g.jobID != 0 {
		pl.stats.StaleCancel++
		if err := pl.cancelFluxJob(g); err != nil {
			return nil, err
		}
	}
	if err := pl.sc.reconcile(h.Cluster()); err != nil {
		return nil, fmt.Errorf("fluence: updating the live graph: %w", err)
	}
	pl.stats.Asks++
	if m := g.memo; m != nil && g.memoGen == pl.sc.gen && !pl.noMemo {
		pl.stats.Memo++
		if m.err != nil {
			pl.stats.Failed++
		}
		return m.nodes, m.err
	}
	g.memo = nil
	rep := pods[0]
	jobID, alloc, err := pl.sc.match(jobspecFor(rep.Template, g.minMember, g.name))
	if err != nil {
		pl.stats.Failed++
		err = fmt.Errorf("fluxion could not allocate %d slots for pod group %s: %s", g.minMember, g.name, strings.TrimPrefix(err.Error(), "fluxion: "))
		g.memo, g.memoGen = &askResult{err: err}, pl.sc.gen
		return nil, err
	}
	pl.stats.Allocated++
	g.jobID = jobID
	pl.sc.cover(g, jobID, true)
	nodes := make([]*engine.Node, 0, len(alloc))
	per := cpuPerPod(rep.Template)
	for _, a := range alloc {
		if pl.cfg.Assign == AssignBySlot {
			for range a.cores / per {
				nodes = append(nodes, a.node)
			}
			continue
		}
		nodes = append(nodes, a.node)
	}
	return nodes, nil
}

// PostFilter implements kube.PostFilterPlugin: a member that found no
// node rejects its waiting siblings and drops the group's permit, unless
// minMember pods already hold nodes. The Fluxion allocation is kept.
func (pl *Plugin) PostFilter(h *kube.Handle, p *engine.Pod) {
	g := pl.groupOfPod(p, h.Now())
	if pl.assigned(g, nil) >= g.minMember {
		return
	}
	pl.rejectWaiting(h, g, "optimistic rejection in PostFilter")
	g.permittedUntil = math.Inf(-1)
}

// Permit implements kube.PermitPlugin as Coscheduling's: the pod that
// completes minMember lets every waiting sibling bind; the others wait
// (the first one also moves its siblings to activeQ).
func (pl *Plugin) Permit(h *kube.Handle, p *engine.Pod, _ *engine.Node) (kube.Status, float64) {
	g := pl.groupOfPod(p, h.Now())
	assigned := pl.assigned(g, p)
	if assigned+1 >= g.minMember {
		for _, q := range g.pods() {
			if h.Waiting(q) {
				h.Allow(q)
			}
		}
		return kube.OK, 0
	}
	if assigned == 0 {
		for _, q := range g.pods() {
			if q != p && q.Node == nil && !finished(q) {
				h.Activate(q)
			}
		}
	}
	return kube.Status{Code: kube.Wait}, g.timeout
}

// Unreserve implements kube.UnreservePlugin: a member that lost its node
// (rejected or timed out at Permit) rejects its waiting siblings and
// drops the group's permit. The Fluxion allocation is kept; the next
// ask of the group cancels it.
func (pl *Plugin) Unreserve(h *kube.Handle, p *engine.Pod, _ *engine.Node) {
	g := pl.groupOfPod(p, h.Now())
	pl.rejectWaiting(h, g, "rejection in Unreserve")
	g.permittedUntil = math.Inf(-1)
}

func (pl *Plugin) rejectWaiting(h *kube.Handle, g *group, reason string) {
	for _, q := range g.pods() {
		if h.Waiting(q) {
			h.Reject(q, reason)
		}
	}
}
