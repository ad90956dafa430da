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
)

func (k EventKind) String() string {
	return [...]string{"PodCreated", "PodBound", "PodDeleted", "NodeChanged", "TimerFired"}[k]
}

// Event is one thing a policy is told.
type Event struct {
	Kind EventKind
	Pod  *Pod
	Node *Node
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
)

// Decision is one answer of a policy.
type Decision struct {
	Kind   DecisionKind
	Pod    *Pod
	Node   *Node
	Delay  float64 // Bind: seconds before the bind API call is sent
	At     float64 // SetTimer: absolute time; Unschedulable: the attempt's time (0 = now)
	Tag    int64   // SetTimer
	Reason string  // Unschedulable
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
