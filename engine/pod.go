package engine

import (
	"fmt"
	"math"
	"slices"
)

// PullPolicy is a container's imagePullPolicy.
type PullPolicy string

// Image pull policies.
const (
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullAlways       PullPolicy = "Always"
	PullNever        PullPolicy = "Never"
)

// Container is one container of a pod template.
type Container struct {
	Name       string
	Image      string
	ImageSize  int64 // bytes to transfer when the image is absent from the node
	PullPolicy PullPolicy
	MilliCPU   int64 // requests.cpu (0 = none)
	Memory     int64 // requests.memory in bytes (0 = none)
	GPU        int64 // nvidia.com/gpu
	// Duration is how long an init container runs (ignored for app containers).
	Duration Dist
}

// NodeSelectorRequirement is one match expression of a node selector term.
// Operator is one of In, NotIn, Exists, DoesNotExist, Gt, Lt.
type NodeSelectorRequirement struct {
	Key      string
	Operator string
	Values   []string
}

// NodeSelectorTerm is an AND of requirements.
type NodeSelectorTerm struct {
	MatchExpressions []NodeSelectorRequirement
}

// PreferredSchedulingTerm is a weighted preferred node affinity term.
type PreferredSchedulingTerm struct {
	Weight int64
	Term   NodeSelectorTerm
}

// NodeAffinity is a pod's node affinity. Required terms are ORed.
type NodeAffinity struct {
	Required  []NodeSelectorTerm
	Preferred []PreferredSchedulingTerm
}

// PodTemplate describes the pods a job creates.
type PodTemplate struct {
	Containers     []Container
	InitContainers []Container
	Overhead       Resources // pod overhead (RuntimeClass)
	Priority       int64
	NodeSelector   map[string]string
	Affinity       *NodeAffinity
	Tolerations    []Toleration
	// SpreadSelectable: a Service, ReplicaSet or StatefulSet selects these
	// pods, so PodTopologySpread's system default constraints apply.
	SpreadSelectable bool
	// ReadinessDelay is the time from containers started to Ready
	// (readiness probe initial delay and period); nil means no probe.
	ReadinessDelay Dist
	// RunTime is how long the containers run before the pod succeeds.
	RunTime Dist
}

// Requests returns the pod's effective request as the scheduler computes it:
// max(Σ containers, max init container) + overhead, with Pods = 1.
func (t *PodTemplate) Requests() Resources { return t.request(false) }

// NonZeroRequests returns the request used by the scoring plugins: every
// container without a cpu or memory request counts as 100 mCPU / 200 MiB
// (GetNonzeroRequestForResource), combined as Requests does.
func (t *PodTemplate) NonZeroRequests() Resources { return t.request(true) }

func (t *PodTemplate) request(nonZero bool) Resources {
	of := func(c *Container) Resources {
		r := Resources{MilliCPU: c.MilliCPU, Memory: c.Memory, GPU: c.GPU}
		if nonZero && r.MilliCPU == 0 {
			r.MilliCPU = DefaultMilliCPURequest
		}
		if nonZero && r.Memory == 0 {
			r.Memory = DefaultMemoryRequest
		}
		return r
	}
	var sum, initMax Resources
	for i := range t.Containers {
		sum = sum.Add(of(&t.Containers[i]))
	}
	for i := range t.InitContainers {
		c := of(&t.InitContainers[i])
		initMax = Resources{max(initMax.MilliCPU, c.MilliCPU), max(initMax.Memory, c.Memory), max(initMax.GPU, c.GPU), 0}
	}
	return Resources{
		MilliCPU: max(sum.MilliCPU, initMax.MilliCPU) + t.Overhead.MilliCPU,
		Memory:   max(sum.Memory, initMax.Memory) + t.Overhead.Memory,
		GPU:      max(sum.GPU, initMax.GPU) + t.Overhead.GPU,
		Pods:     1,
	}
}

// PodPhase is the pod's status.phase.
type PodPhase uint8

// Pod phases, plus Unassigned for a pending pod with no node.
const (
	PodPending PodPhase = iota
	PodRunning
	PodSucceeded
	// PodFailed: the pod was removed before it ran (its job was
	// rejected).
	PodFailed
)

func (p PodPhase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("PodPhase(%d)", p)
}

var phaseNames = [...]string{"Pending", "Running", "Succeeded", "Failed"}

// Unset marks a lifecycle timestamp that has not happened.
var Unset = math.NaN()

// IsSet reports whether a timestamp has been recorded.
func IsSet(t float64) bool { return !math.IsNaN(t) }

// Pod is one pod. The timestamps use the names of the pod's status
// conditions; a timestamp that has not happened is NaN (see IsSet).
type Pod struct {
	ID       int    // creation order, 0-based, unique in the run
	Name     string // metadata.name
	Job      *Job
	Index    int // completion index within the job (-1: an operator's launcher pod)
	Template *PodTemplate
	Requests Resources // effective real request (Filter)
	NonZero  Resources // request with non-zero defaults (Score)
	RunTime  float64   // sampled run time of the containers
	Node     *Node     // assigned node (nil while unassigned)
	Phase    PodPhase
	// Launcher marks an operator's extra pod (an MPIJob's launcher): it
	// runs no ranks, gates the job's program and finishes with it (see
	// Operator).
	Launcher bool
	// Tasks is the task slots a Flux job shell created with its job's
	// allocation runs on its node (a job of slots without a node level);
	// 0 for every other pod.
	Tasks int

	Created           float64 // metadata.creationTimestamp
	Assigned          float64 // the scheduler assumed it on Node (resources held from here)
	Scheduled         float64 // PodScheduled=True (the bind API call completed)
	Initialized       float64 // Initialized=True (sandbox up, init containers done)
	ContainersStarted float64 // last app container running.startedAt
	Ready             float64 // Ready=True
	Finished          float64 // containers terminated; resources released

	Attempts     int     // scheduling attempts (cycles that considered it)
	PullFailures int     // image pull errors (QPS exceeded, back-off)
	PullSeconds  float64 // time spent in image pulls
	LastFailure  string  // last FailedScheduling message

	pullStart  float64
	step       int  // kubelet: index into init then app containers
	sandboxUp  bool // kubelet: the pod sandbox exists
	syncQueued bool // kubelet: a pod worker sync is pending
	started    bool // containers running (counted in Engine.running)
	waiting    bool // assumed on Node, waiting for Allow or Unreserve
}

// Waiting reports whether the pod is assumed on its node and waits for
// the policy to allow or unreserve it.
func (p *Pod) Waiting() bool { return p.waiting }

// ended reports whether p has finished or failed: nothing changes it
// any more.
func (p *Pod) ended() bool { return p.Phase == PodSucceeded || p.Phase == PodFailed }

// StartupDelay is creation → containers started (NaN if not started).
func (p *Pod) StartupDelay() float64 { return p.ContainersStarted - p.Created }

// Job is what a user submitted: a bare pod, a Job or an Indexed Job,
// or a job an operator starts (Operator).
type Job struct {
	ID       int
	Name     string
	Workload string // the scenario workload the job came from ("" if none)
	// Experiment groups jobs of several workloads that run the same
	// thing in different runtimes (the report compares their run
	// times); "" is the workload's own name.
	Experiment  string
	Runtime     string // the runtime it runs in ("" if none given)
	Kind        JobKind
	Parallelism int // pods running at once (Job)
	Completions int // successful pods needed
	Template    *PodTemplate
	Pods        []*Pod // in creation order

	Submitted float64 // the job object was created
	Finished  float64 // Complete condition (NaN if not)
	Rejected  float64 // when the policy gave the job up (see IsRejected)

	// Group is the job's pod group (scheduling.x-k8s.io PodGroup) for
	// gang schedulers; nil: its pods are scheduled on their own.
	Group *PodGroup

	// RunModel, if set, makes the job one program: its pods start work
	// together once all Completions pods run, for the time the model
	// gives on the actual placement (see RunModel). Parallelism must
	// equal Completions.
	RunModel RunModel
	Started  float64 // all pods up, the program started (NaN if not, or no RunModel)
	Phases   []Phase // the RunModel's phases
	// Launch and Shutdown are the seconds of the run before the
	// application starts and after it ends (a launcher's bootstrap:
	// RunResult.Launch and Shutdown; see AppStarted, AppFinished).
	Launch, Shutdown float64

	// Operator, if set, creates the job's pods instead of the Job
	// controller (see Operator).
	Operator *Operator

	// Flux is a Flux job's request and lifecycle (KindFluxJob only).
	Flux *FluxSpec

	up       int  // RunModel jobs: pods with containers started
	rejected bool // the policy gave the job up (at Rejected)

	opSynced         bool // Operator: the workers' creations are scheduled
	launcherCreating bool // Operator: the launcher pod's creation is scheduled
	launcherDone     bool // Operator: the launcher pod finished

	succeeded int
	active    int // created or being created, not finished
	nextIndex int // next completion index / pod ordinal to create
	batch     int // slow-start batch size of the current sync
	syncQuota int // pods the current sync still has to create
	inBatch   int // creations of the current batch not yet done
}

// PodGroup is a job's scheduling.x-k8s.io/v1alpha1 PodGroup: how many
// of its pods must be placed together, the free resources the cluster
// must have for it, and how long its pods may wait at Permit.
type PodGroup struct {
	Name      string
	MinMember int
	// MinResources is the total the group needs (zero: not checked).
	MinResources Resources
	// ScheduleTimeoutSeconds bounds the Permit wait (0: the plugin's
	// default).
	ScheduleTimeoutSeconds float64
}

// IsRejected reports whether the policy gave the job up (Reject).
func (j *Job) IsRejected() bool { return j.rejected }

// JobKind is the kind of workload object.
type JobKind uint8

// Workload kinds.
const (
	KindPod         JobKind = iota // a bare Pod (one per Job record)
	KindJob                        // batch/v1 Job, NonIndexed
	KindIndexedJob                 // batch/v1 Job, completionMode Indexed
	KindMPIJob                     // kubeflow.org/v2beta1 MPIJob (an Operator creates its pods)
	KindMiniCluster                // flux-framework.org MiniCluster (an Indexed Job and a Flux bootstrap)
	KindPyTorchJob                 // kubeflow.org/v1 PyTorchJob (an Operator creates its pods)
	KindFluxJob                    // a Flux batch job on bare metal (see FluxSpec)
)

func (k JobKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("JobKind(%d)", k)
}

var kindNames = [...]string{"Pod", "Job", "IndexedJob", "MPIJob", "MiniCluster", "PyTorchJob", "FluxJob"}

// FirstCreated is the creation time of the job's first pod.
func (j *Job) FirstCreated() float64 {
	if len(j.Pods) == 0 {
		return Unset
	}
	return j.Pods[0].Created
}

// AllStarted is when the job's first wave was running: the time by which
// min(parallelism, completions) of its pods, and an operator's launcher
// pod (WavePods), had started their containers (for a gang-style job, the
// start of its last pod). NaN if that never happened.
func (j *Job) AllStarted() float64 {
	k := j.WavePods()
	starts := make([]float64, 0, len(j.Pods))
	for _, p := range j.Pods {
		if IsSet(p.ContainersStarted) {
			starts = append(starts, p.ContainersStarted)
		}
	}
	if k <= 0 || len(starts) < k {
		return Unset
	}
	slices.Sort(starts)
	return starts[k-1]
}
