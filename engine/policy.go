package engine

// EventKind says what happened.
type EventKind uint8

// Events a policy is told about.
const (
	// PodCreated: a pod object was created and waits to be scheduled.
	PodCreated EventKind = iota
	// PodBound: the bind API call of an assigned pod completed.
	PodBound
	// PodDeleted: a pod finished or was removed; its resources are free.
	PodDeleted
	// NodeChanged: a node was added or its labels, taints or
	// schedulability changed.
	NodeChanged
	// TimerFired: a timer the policy set has expired.
	TimerFired
	// JobArrived: a job (and its pod group, if it has one) was
	// submitted; its pods are created after, by its controller.
	JobArrived
)

func (k EventKind) String() string {
	return [...]string{"PodCreated", "PodBound", "PodDeleted", "NodeChanged", "TimerFired", "JobArrived"}[k]
}

// Event is one thing a policy is told.
type Event struct {
	Kind EventKind
	Pod  *Pod
	Node *Node
	Job  *Job  // JobArrived
	Tag  int64 // the timer's tag (TimerFired)
}

// DecisionKind is what a policy asks the engine to do.
type DecisionKind uint8

// Decisions.
const (
	// Bind assumes Pod on Node now (resources are held from now) and
	// issues the bind API call after Delay (client-side throttling).
	Bind DecisionKind = iota
	// SetTimer asks for a TimerFired event with Tag at time At.
	SetTimer
	// Unschedulable records a failed scheduling attempt of Pod with
	// Reason (a FailedScheduling event). The pod stays pending. At, if
	// set, is when the attempt happened (now ≤ At < Cluster.QuietUntil);
	// 0 means now.
	Unschedulable
	// Assume holds Pod's resources on Node from now without binding it:
	// the pod waits (kube-scheduler's Permit Wait, a gang plugin
	// holding a group's pods until enough of them are placed). It is
	// followed by Allow or Unreserve.
	Assume
	// Allow sends the bind API call of an assumed pod after Delay.
	Allow
	// Unreserve gives up an assumed pod's node (Permit rejected or timed
	// out): its resources are freed and it is pending again; Reason is
	// recorded.
	Unreserve
	// Allocate places several pods of Job at once, all or nothing: every
	// Slot is checked before any takes effect, then each is a Bind with
	// Delay (a whole-group match such as Fluxion's MATCH_ALLOCATE).
	Allocate
	// Reserve records that the policy plans to start Job on Nodes at At
	// (a backfilling reservation); it holds nothing.
	Reserve
	// Reject gives up Job for good with Reason: none of its pods may
	// hold a node; its pending pods are removed and no more are created.
	Reject
	// NodeUp makes Node schedulable (a Kubernetes node of a cluster
	// another scheduler brought up, now Ready) and runs it on Host, the
	// machine whose CPU, memory bandwidth and NIC it shares (nil: its
	// own). The policy is told NodeChanged.
	NodeUp
	// NodeDown cordons Node (its cluster is being torn down); pods on it
	// keep running. The policy is told NodeChanged.
	NodeDown
	// Stop ends Job's run now (flux cancel; a cluster's bring-up job
	// released): its running pods finish, its pending pods are removed.
	Stop
)

// Decision is one answer of a policy.
type Decision struct {
	Kind   DecisionKind
	Pod    *Pod
	Node   *Node
	Job    *Job    // Allocate, Reserve, Reject
	Slots  []Slot  // Allocate
	Nodes  []*Node // Reserve
	Delay  float64 // Bind, Allow, Allocate: seconds before the bind API call is sent
	At     float64 // SetTimer, Reserve: absolute time; Unschedulable: the attempt's time (0 = now)
	Tag    int64   // SetTimer
	Reason string  // Unschedulable, Unreserve, Reject, Stop
	Host   *Node   // NodeUp
}

// Slot is one pod of an Allocate and the node it goes to. For a Flux job
// of task slots without a node level, whose shells come with R, Pod is
// nil and Tasks is the task slots R gives Node: the engine creates the
// node's shell.
type Slot struct {
	Pod   *Pod
	Node  *Node
	Tasks int
}

// Policy is a scheduler model. Decide receives the events that happened at
// time now (in the order they happened) and appends its decisions to out,
// returning it. It may read the cluster but must not change it, read the
// wall clock, start goroutines or do I/O.
type Policy interface {
	Name() string
	Decide(now float64, events []Event, cluster *Cluster, out []Decision) []Decision
}

// Pending is implemented by policies that can say which pods they still
// hold, for the end-of-run accounting.
type Pending interface {
	PendingPods() int
}
