package coscheduling

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

// Name is the plugin's name (in messages, as upstream).
const Name = "Coscheduling"

// namespace is the namespace of every pod and PodGroup.
const namespace = "default"

// Upstream constants: the wait when neither the group nor the args give
// one (util.DefaultWaitTime), the default expiration of the
// permitted-group cache (core.NewPodGroupManager: gocache.New(3s, 3s)),
// which an entry added with a zero TTL gets, and how a FitError prints a
// PreFilter rejection (NoNodeAvailableMsg, then the plugin's message).
const (
	defaultWaitSeconds  = 60
	permittedDefaultTTL = 3
	fitErrorFormat      = "0/%d nodes are available: %s."
)

// Plugin is the Coscheduling plugin with its PodGroupManager's state.
// It implements the QueueSort, PreFilter, PostFilter, Permit, Unreserve
// and Event extension points of policies/kube.
type Plugin struct {
	args      Args
	permitTTL float64 // permittedPG entries live this long
	backoff   float64 // podGroupBackoffSeconds (0: none)
	reject    float64 // podGroupRejectPercentage / 100

	groups   map[string]*group // by full name (namespace/name)
	byJob    []*group          // by engine.Job.ID (nil: no group, or not seen)
	assigned []bool            // by engine.Pod.ID: in its group's assigned set
	livePos  []int32           // by engine.Pod.ID: index in group.live, −1 if not there
	scratch  []*engine.Pod
	own      map[int]engine.Resources // scratch of checkClusterResource
}

// group is one PodGroup as the PodGroupManager knows it.
type group struct {
	fullName string
	spec     *engine.PodGroup
	created  float64 // creationTimestamp (whole seconds)
	// failed is lastFailedSchedulePG: the time of the group's last
	// scheduling failure (NaN: none), which QueueSort uses instead of
	// created.
	failed float64
	// live are the group's pods the pod informer holds (created, not
	// finished or deleted), in no particular order.
	live []*engine.Pod
	// assignedN is the size of assignedPodsByPG: pods that passed Permit
	// (waiting or allowed) or were added bound, not since unreserved or
	// deleted.
	assignedN int
	// permitted and backedOff are the expiry times of the group's
	// entries in permittedPG and backedOffPG (−Inf: none). An entry is
	// present while now ≤ its expiry (go-cache's Get).
	permitted, backedOff float64
	// rejecting: the group's waiting pods are being rejected; the
	// Unreserve calls this causes do the bookkeeping only.
	rejecting bool
}

// NewPlugin returns the plugin with args (checked by the caller).
func NewPlugin(args Args) *Plugin {
	ttl := float64(args.PermitWaitingTimeSeconds)
	if ttl == 0 {
		ttl = permittedDefaultTTL
	}
	return &Plugin{
		args:      args,
		permitTTL: ttl,
		backoff:   float64(args.PodGroupBackoffSeconds),
		reject:    float64(args.PodGroupRejectPercentage) / 100,
		groups:    map[string]*group{},
		own:       map[int]engine.Resources{},
	}
}

var (
	_ kube.QueueSortPlugin  = (*Plugin)(nil)
	_ kube.PreFilterPlugin  = (*Plugin)(nil)
	_ kube.PostFilterPlugin = (*Plugin)(nil)
	_ kube.PermitPlugin     = (*Plugin)(nil)
	_ kube.UnreservePlugin  = (*Plugin)(nil)
	_ kube.EventPlugin      = (*Plugin)(nil)
)

// Name implements kube.Plugin.
func (pl *Plugin) Name() string { return Name }

// groupOf returns the group of a job (nil if it has none), creating the
// manager's record on first sight: the PodGroup was created with the
// job, so its creationTimestamp is the job's submit time, truncated to
// the second as metav1.Time stores it.
func (pl *Plugin) groupOf(j *engine.Job) *group {
	if j == nil || j.Group == nil {
		return nil
	}
	if j.ID < len(pl.byJob) {
		if g := pl.byJob[j.ID]; g != nil {
			return g
		}
	}
	for j.ID >= len(pl.byJob) {
		pl.byJob = append(pl.byJob, nil)
	}
	full := namespace + "/" + j.Group.Name
	g := pl.groups[full]
	if g == nil {
		created := 0.0
		if engine.IsSet(j.Submitted) {
			created = math.Floor(j.Submitted)
		}
		g = &group{fullName: full, spec: j.Group, created: created, failed: math.NaN(),
			permitted: math.Inf(-1), backedOff: math.Inf(-1)}
		pl.groups[full] = g
	}
	pl.byJob[j.ID] = g
	return g
}

func (pl *Plugin) podGroup(p *engine.Pod) *group { return pl.groupOf(p.Job) }

// grow makes the per-pod slices hold pod id.
func (pl *Plugin) grow(id int) {
	for id >= len(pl.assigned) {
		pl.assigned = append(pl.assigned, false)
		pl.livePos = append(pl.livePos, -1)
	}
}

// assign adds p to its group's assigned set (a set: adding twice counts
// once).
func (pl *Plugin) assign(g *group, p *engine.Pod) {
	pl.grow(p.ID)
	if !pl.assigned[p.ID] {
		pl.assigned[p.ID] = true
		g.assignedN++
	}
}

// unassign removes p from its group's assigned set (the manager's
// Unreserve).
func (pl *Plugin) unassign(g *group, p *engine.Pod) {
	pl.grow(p.ID)
	if pl.assigned[p.ID] {
		pl.assigned[p.ID] = false
		g.assignedN--
	}
}

// Observe implements kube.EventPlugin: the pod informer's view of the
// group's pods (the lister PreFilter counts, the assigned set's Add and
// Delete handlers).
func (pl *Plugin) Observe(_ *kube.Handle, ev *engine.Event) {
	switch ev.Kind {
	case engine.JobArrived:
		pl.groupOf(ev.Job)
	case engine.PodCreated:
		g := pl.podGroup(ev.Pod)
		if g == nil {
			return
		}
		p := ev.Pod
		pl.grow(p.ID)
		if pl.livePos[p.ID] < 0 {
			pl.livePos[p.ID] = int32(len(g.live))
			g.live = append(g.live, p)
		}
		if p.Node != nil {
			pl.assign(g, p) // AddPodFactory: a pod created bound
		}
	case engine.PodDeleted:
		// A finished pod leaves the informer too (it selects
		// non-terminated pods only).
		g := pl.podGroup(ev.Pod)
		if g == nil {
			return
		}
		p := ev.Pod
		pl.grow(p.ID)
		if i := pl.livePos[p.ID]; i >= 0 {
			last := len(g.live) - 1
			g.live[i] = g.live[last]
			pl.livePos[g.live[i].ID] = i
			g.live[last] = nil
			g.live = g.live[:last]
			pl.livePos[p.ID] = -1
		}
		if ev.Node != nil {
			pl.unassign(g, p) // the Delete handler of a pod with a node
		}
	}
}

// sortTime is GetCreationTimestamp: the group's last failure if it has
// one, else its creation; a pod without a group: its
// InitialAttemptTimestamp.
func (pl *Plugin) sortTime(qi *kube.QueuedPodInfo) float64 {
	g := pl.podGroup(qi.Pod)
	if g == nil {
		return qi.InitialAttemptTimestamp
	}
	if !math.IsNaN(g.failed) {
		return g.failed
	}
	return g.created
}

// Less implements kube.QueueSortPlugin: priority, then the group's (or
// pod's) timestamp, then namespace/name in string order.
func (pl *Plugin) Less(a, b *kube.QueuedPodInfo) bool {
	if pa, pb := a.Pod.Template.Priority, b.Pod.Template.Priority; pa != pb {
		return pa > pb
	}
	ta, tb := pl.sortTime(a), pl.sortTime(b)
	if ta == tb {
		return a.Pod.Name < b.Pod.Name // one namespace: namespace/name orders as name
	}
	return ta < tb
}

// rejected is a PreFilter rejection: upstream returns
// UnschedulableAndUnresolvable with the manager's error, which the
// FitError prints after the node count.
func rejected(h *kube.Handle, msg string) kube.Status {
	return kube.Status{Code: kube.UnschedulableAndUnresolvable, Reason: fmt.Sprintf(fitErrorFormat, len(h.Cluster().Nodes), msg)}
}

// PreFilter implements kube.PreFilterPlugin.
func (pl *Plugin) PreFilter(h *kube.Handle, p *engine.Pod) ([]*engine.Node, kube.Status) {
	g := pl.podGroup(p)
	if g == nil {
		return nil, kube.OK
	}
	now := h.Now()
	if now <= g.backedOff {
		return nil, rejected(h, fmt.Sprintf("podGroup %s failed recently", g.fullName))
	}
	if n := len(g.live); n < g.spec.MinMember {
		return nil, rejected(h, fmt.Sprintf("pre-filter pod %s cannot find enough sibling pods, current pods number: %d, minMember of group: %d", p.Name, n, g.spec.MinMember))
	}
	if g.spec.MinResources.IsZero() {
		return nil, kube.OK
	}
	if now <= g.permitted {
		return nil, kube.OK
	}
	if gap := pl.checkClusterResource(h, g); gap != "" {
		return nil, rejected(h, "resource gap: "+gap)
	}
	g.permitted = now + pl.permitTTL
	return nil, kube.OK
}

// checkClusterResource is CheckClusterResource: the group's
// minResources, with pods = minMember, taken node by node (in the
// snapshot's order) from each node's free resources, the group's own
// pods not counted (getNodeResource). It returns "" if the nodes cover
// it, else the gap left after the last node, as upstream prints a
// ResourceList (keys in order).
func (pl *Plugin) checkClusterResource(h *kube.Handle, g *group) string {
	mr := g.spec.MinResources
	need := [4]int64{mr.MilliCPU, mr.Memory, mr.GPU, int64(g.spec.MinMember)}
	// A resource is in the request if minResources names it (non-zero
	// here); pods always are.
	var left [4]bool
	for i, x := range need {
		left[i] = x > 0 || i == 3
	}
	own := pl.own
	clear(own)
	for _, q := range g.live {
		if q.Node != nil {
			own[q.Node.Index] = own[q.Node.Index].Add(q.Requests)
		}
	}
	remaining := 0
	for _, l := range left {
		if l {
			remaining++
		}
	}
	for _, n := range h.Cluster().Nodes {
		free := n.Allocatable.Sub(n.Requested).Add(own[n.Index])
		have := [4]int64{free.MilliCPU, free.Memory, free.GPU, free.Pods}
		for i := range need {
			if !left[i] {
				continue
			}
			need[i] -= have[i]
			if need[i] <= 0 {
				left[i] = false
				remaining--
			}
		}
		if remaining == 0 {
			return ""
		}
	}
	var parts []string
	names := [4]string{"cpu", "memory", "nvidia.com/gpu", "pods"}
	for i, name := range names {
		if left[i] {
			parts = append(parts, name+":"+quantity(i, need[i]))
		}
	}
	return "map[" + strings.Join(parts, " ") + "]"
}

// quantity prints an amount as a resource.Quantity would: cpu in cores
// or millicores, memory in the largest binary unit that divides it.
func quantity(resource int, x int64) string {
	switch resource {
	case 0:
		if x%1000 == 0 {
			return strconv.FormatInt(x/1000, 10)
		}
		return strconv.FormatInt(x, 10) + "m"
	case 1:
		for _, u := range []struct {
			suffix string
			size   int64
		}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
			if x != 0 && x%u.size == 0 {
				return strconv.FormatInt(x/u.size, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(x, 10)
}

// waitingSiblings returns the group's pods that wait at Permit, other
// than p.
func (pl *Plugin) waitingSiblings(h *kube.Handle, g *group, p *engine.Pod) []*engine.Pod {
	out := pl.scratch[:0]
	for _, q := range g.live {
		if q != p && h.Waiting(q) {
			out = append(out, q)
		}
	}
	pl.scratch = out
	return out
}

// rejectWaiting rejects the group's waiting pods with msg (upstream
// WaitingPod.Reject(Coscheduling, msg), which the pod's FitError prints
// for its one node).
func (pl *Plugin) rejectWaiting(h *kube.Handle, g *group, p *engine.Pod, msg string) {
	if g.rejecting {
		return
	}
	g.rejecting = true
	reason := "0/1 nodes are available: 1 " + msg + "."
	for _, q := range pl.waitingSiblings(h, g, p) {
		h.Reject(q, reason)
	}
	g.rejecting = false
}

// Permit implements kube.PermitPlugin.
func (pl *Plugin) Permit(h *kube.Handle, p *engine.Pod, _ *engine.Node) (kube.Status, float64) {
	g := pl.podGroup(p)
	if g == nil {
		return kube.OK, 0 // PodGroupNotSpecified
	}
	pl.assign(g, p)
	if g.assignedN >= g.spec.MinMember {
		g.failed = math.NaN() // ClearPodGroupScheduleFailure
		for _, q := range pl.waitingSiblings(h, g, p) {
			h.Allow(q)
		}
		return kube.OK, 0
	}
	if g.assignedN == 1 {
		// The group's first assigned pod moves its siblings to activeQ
		// (ActivateSiblings; upstream issue #682).
		for _, q := range g.live {
			if q != p {
				h.Activate(q)
			}
		}
	}
	wait := float64(pl.args.PermitWaitingTimeSeconds)
	if t := g.spec.ScheduleTimeoutSeconds; t > 0 {
		wait = t
	} else if wait == 0 {
		wait = defaultWaitSeconds
	}
	return kube.Status{Code: kube.Wait}, wait
}

// Unreserve implements kube.UnreservePlugin.
func (pl *Plugin) Unreserve(h *kube.Handle, p *engine.Pod, _ *engine.Node) {
	g := pl.podGroup(p)
	if g == nil {
		return
	}
	pl.unassign(g, p)
	pl.rejectWaiting(h, g, p, "rejection in Unreserve")
	g.permitted = math.Inf(-1)
	g.failed = h.Now()
}

// PostFilter implements kube.PostFilterPlugin.
func (pl *Plugin) PostFilter(h *kube.Handle, p *engine.Pod) {
	g := pl.podGroup(p)
	if g == nil {
		return
	}
	minMember := g.spec.MinMember
	if g.assignedN >= minMember {
		return // enough pods are assigned already
	}
	if float64(minMember-g.assignedN)/float64(minMember) <= pl.reject {
		return // a small gap: let the next pods try
	}
	pl.rejectWaiting(h, g, p, "optimistic rejection in PostFilter")
	if now := h.Now(); pl.backoff > 0 && len(g.live) >= minMember && now > g.backedOff {
		// go-cache's Add keeps an entry that has not expired: a group
		// already backed off is not backed off longer.
		g.backedOff = now + pl.backoff
	}
	g.permitted = math.Inf(-1)
	g.failed = h.Now()
}

// GroupState is what the manager knows of a group, for tests and
// reports.
type GroupState struct {
	Pods, Assigned int
	// Failed is the time of the last failure (NaN: none); Permitted and
	// BackedOff the expiry of the group's cache entries (−Inf: none).
	Failed, Permitted, BackedOff float64
}

// Group returns the state of the PodGroup named name (ok false if the
// plugin has not seen it).
func (pl *Plugin) Group(name string) (GroupState, bool) {
	g := pl.groups[namespace+"/"+name]
	if g == nil {
		return GroupState{}, false
	}
	return GroupState{Pods: len(g.live), Assigned: g.assignedN, Failed: g.failed, Permitted: g.permitted, BackedOff: g.backedOff}, true
}
