package scenarios

import "github.com/convergesim/converge/workloads/workflow"

// SchemaVersion is the scenario schema version this build reads.
const SchemaVersion = 1

// Scenario is a scenario file, version 1. Field names are the YAML keys.
type Scenario struct {
	Version      int         `yaml:"version"`
	Name         string      `yaml:"name"`
	Description  string      `yaml:"description"`
	Seed         uint64      `yaml:"seed"`
	Until        float64     `yaml:"until"`        // stop at this simulated time (0 = run to the end)
	StallTimeout float64     `yaml:"stallTimeout"` // end a run with no progress for this long (s)
	Cluster      Cluster     `yaml:"cluster"`
	Startup      Startup     `yaml:"startup"`
	Controllers  Controllers `yaml:"controllers"`
	Policy       Policy      `yaml:"policy"`
	Network      Network     `yaml:"network"`
	Runtimes     []Runtime   `yaml:"runtimes"`
	Workloads    []Workload  `yaml:"workloads"`
	// Workflows run stages of runs of workloads and the learning
	// service they post to (workloads/workflow).
	Workflows []WorkflowSpec `yaml:"workflows"`
	// Usernetes is a Kubernetes cluster that Flux brings up on some of
	// its machines (policy flux); workloads with its name as cluster
	// run there.
	Usernetes *UsernetesSpec `yaml:"usernetes"`
	Outputs   Outputs        `yaml:"outputs"`

	// Applied lists the overrides Parse applied, in order: SIM_
	// environment variables sorted by name, then --set values as given
	// (a later one wins on the same path), for the report to record.
	Applied []Override `yaml:"-"`
	// Warnings are problems that did not stop Parse (a SIM_ variable
	// that names no scenario field), for the caller to print.
	Warnings []string `yaml:"-"`

	res    *resolved        // what the file references load to (set by Parse)
	driver *workflow.Driver // the workflows of the run Build made
	lines  map[string]int   // line of every field path given in the file
	file   string           // the name Parse was given, for messages
}

// Cluster is the set of node pools.
type Cluster struct {
	Pools []Pool `yaml:"pools"`
}

// Pool is a group of identical nodes, named <name>-<i>.
type Pool struct {
	Name          string            `yaml:"name"`
	Count         int               `yaml:"count"`
	CPU           CPU               `yaml:"cpu"`    // allocatable per node
	Memory        Bytes             `yaml:"memory"` // allocatable per node
	GPUs          int64             `yaml:"gpus"`
	Pods          int64             `yaml:"pods"`  // max pods per node (default 110)
	Zones         []string          `yaml:"zones"` // nodes are spread round-robin over zones
	Racks         int               `yaml:"racks"` // nodes are split into this many racks in order
	Labels        map[string]string `yaml:"labels"`
	Taints        []Taint           `yaml:"taints"`
	Unschedulable bool              `yaml:"unschedulable"`
	// MemoryBandwidth is a node's sustained memory bandwidth in GB/s
	// and CoreSpeed its core speed relative to the machine an app was
	// fitted on (app models only; 0: the app fit's own).
	MemoryBandwidth float64 `yaml:"memoryBandwidth"`
	CoreSpeed       float64 `yaml:"coreSpeed"`
	// Images are on every node of the pool when the run starts (pulled
	// before: nodes that ran the same workload).
	Images []PoolImage `yaml:"images"`
}

// PoolImage is an image present on a pool's nodes at the start.
type PoolImage struct {
	Image string `yaml:"image"`
	Size  Bytes  `yaml:"size"`
}

// Taint is a node taint.
type Taint struct {
	Key    string `yaml:"key"`
	Value  string `yaml:"value"`
	Effect string `yaml:"effect"`
}

// Startup overrides the node-agent start-up model (engine.DefaultStartup).
// Unset fields keep the defaults.
type Startup struct {
	BindLatency         *Dist    `yaml:"bindLatency"`
	SyncDelay           *Dist    `yaml:"syncDelay"`
	Sandbox             *Dist    `yaml:"sandbox"`
	SandboxConcurrency  *int     `yaml:"sandboxConcurrency"`
	ContainerStart      *Dist    `yaml:"containerStart"`
	ManifestCheck       *Dist    `yaml:"manifestCheck"`
	PullOverhead        *Dist    `yaml:"pullOverhead"`
	RegistryBandwidth   *Bytes   `yaml:"registryBandwidth"` // bytes/s, 0 = unlimited
	NodeBandwidth       *Bytes   `yaml:"nodeBandwidth"`     // bytes/s per node, 0 = unlimited
	SerializeImagePulls *bool    `yaml:"serializeImagePulls"`
	RegistryPullQPS     *float64 `yaml:"registryPullQPS"`
	RegistryBurst       *int     `yaml:"registryBurst"`
	ImageBackoffInitial *float64 `yaml:"imageBackoffInitial"`
	ImageBackoffMax     *float64 `yaml:"imageBackoffMax"`
	PodWorkerBackoff    *float64 `yaml:"podWorkerBackoff"`
	PodWorkerJitter     *float64 `yaml:"podWorkerJitter"`
	SyncLoopPeriod      *float64 `yaml:"syncLoopPeriod"`
	// Shell is the Flux job shell's start-up on bare metal.
	Shell      *ShellSpec `yaml:"shell"`
	Provenance string     `yaml:"provenance"`
}

// Controllers overrides the API clients that create pods.
type Controllers struct {
	JobQPS        *float64 `yaml:"jobQPS"`
	JobBurst      *int     `yaml:"jobBurst"`
	ClientQPS     *float64 `yaml:"clientQPS"`
	ClientBurst   *int     `yaml:"clientBurst"`
	CreateLatency *Dist    `yaml:"createLatency"`
}

// Policy names the scheduler (policy.name) and carries the
// configuration sections given for it (policy.<section>), each decoded
// into the type its model registers (see Policies). Sections not given
// take their model's defaults.
type Policy struct {
	Name string `yaml:"name"`
	// Sections holds the decoded sections given in the file or by an
	// override, by section name (the pointer the section's Default
	// returned).
	Sections map[string]any `yaml:"-"`
}

// Section returns the named configuration section: the decoded value
// if it was given, else its defaults (nil for a section no model
// registers).
func (p *Policy) Section(name string) any {
	if v, ok := p.Sections[name]; ok {
		return v
	}
	if s := Policies.Section(name); s != nil {
		return s.Default()
	}
	return nil
}

// Workload is a group of identical jobs with an arrival pattern.
type Workload struct {
	Name        string  `yaml:"name"`
	Kind        string  `yaml:"kind"`  // Pod, Job, IndexedJob, MPIJob, MiniCluster, PyTorchJob or FluxJob
	Count       int     `yaml:"count"` // number of jobs (default 1)
	Parallelism int     `yaml:"parallelism"`
	Completions int     `yaml:"completions"`
	Arrival     Arrival `yaml:"arrival"`
	RunTime     *Dist   `yaml:"runTime"`
	Pod         PodSpec `yaml:"pod"`
	// App makes each job one MPI program priced by an application model
	// on its placement (instead of runTime); Runtimes lists the runtimes
	// it runs in: every job is submitted once per runtime.
	App      *AppSpec `yaml:"app"`
	Runtimes []string `yaml:"runtimes"`
	// PodGroup makes each job's pods one scheduling.x-k8s.io PodGroup
	// (the label gang schedulers read; kube-scheduler ignores it).
	PodGroup *PodGroupSpec `yaml:"podGroup"`
	// Launcher says how an MPIJob, MiniCluster or PyTorchJob starts its
	// program: the launcher model's parameters (workloads/launchers) and,
	// for an MPIJob, its launcher pod.
	Launcher *LauncherSpec `yaml:"launcher"`
	// Flux is a FluxJob's request (flux run's -N, -n, -c, -g,
	// --exclusive, -t, --urgency) and Batch, if set, makes the workload
	// a synthetic batch workload whose jobs draw their sizes, run times
	// and walltimes.
	Flux  *FluxSpec  `yaml:"flux"`
	Batch *BatchSpec `yaml:"batch"`
	// Cluster names the nested Kubernetes cluster (usernetes.name) the
	// workload runs in under policy flux.
	Cluster string `yaml:"cluster"`
	// Trace makes the workload replay the jobs of recorded traces
	// (their arrivals, requests and run times) instead of count copies.
	Trace *TraceSpec `yaml:"trace"`
	// Experiment puts the workload's runs in the run-time table with
	// another workload's (the same program as a FluxJob and in
	// Usernetes): their runtimes are compared with the first one's.
	Experiment string `yaml:"experiment"`

	traced *traced // the trace's jobs (set by Parse)
}

// LauncherSpec names a launcher model's entry and what the workload
// changes of it.
type LauncherSpec struct {
	// File is a launcher parameter file (kind: LauncherModel, relative
	// to the scenario file) and Entry the launcher in it, whose type
	// must match the workload's kind.
	File  string `yaml:"file"`
	Entry string `yaml:"entry"`
	// LauncherCreation (MPIJob only) overrides the entry's
	// launcherCreation: AtStartup or WaitForWorkersReady.
	LauncherCreation string `yaml:"launcherCreation"`
	// Pod (MPIJob only) is the launcher pod's spec; default: the worker
	// pod's containers with 1 cpu and 1Gi each, and the worker's
	// tolerations and priority.
	Pod *PodSpec `yaml:"pod"`
}

// PodGroupSpec is a PodGroup's spec (scheduler-plugins v1alpha1).
type PodGroupSpec struct {
	// MinMember is how many pods must be placed together (default: the
	// job's parallelism).
	MinMember int `yaml:"minMember"`
	// MinResources, if set, is checked against the cluster's free
	// resources before any pod of the group is placed.
	MinResources *ResourceSpec `yaml:"minResources"`
	// ScheduleTimeoutSeconds bounds the Permit wait (default: the
	// plugin's).
	ScheduleTimeoutSeconds float64 `yaml:"scheduleTimeoutSeconds"`
}

// Arrival is when the jobs of a workload are submitted.
type Arrival struct {
	Pattern  string  `yaml:"pattern"` // once (default), interval, poisson
	At       float64 `yaml:"at"`      // once: the time; interval/poisson: the start
	Interval float64 `yaml:"interval"`
	Rate     float64 `yaml:"rate"` // poisson: jobs per second
}

// PodSpec is the pod template of a workload.
type PodSpec struct {
	Priority         int64             `yaml:"priority"`
	Containers       []ContainerSpec   `yaml:"containers"`
	InitContainers   []ContainerSpec   `yaml:"initContainers"`
	Overhead         *ResourceSpec     `yaml:"overhead"`
	NodeSelector     map[string]string `yaml:"nodeSelector"`
	Tolerations      []Toleration      `yaml:"tolerations"`
	Affinity         *Affinity         `yaml:"affinity"`
	SpreadSelectable bool              `yaml:"spreadSelectable"`
	ReadinessDelay   *Dist             `yaml:"readinessDelay"`
}

// ResourceSpec is a resource amount.
type ResourceSpec struct {
	CPU    CPU   `yaml:"cpu"`
	Memory Bytes `yaml:"memory"`
}

// ContainerSpec is one container.
type ContainerSpec struct {
	Name       string `yaml:"name"`
	Image      string `yaml:"image"`
	ImageSize  Bytes  `yaml:"imageSize"`
	PullPolicy string `yaml:"pullPolicy"` // default: Always for :latest or untagged images, else IfNotPresent
	CPU        CPU    `yaml:"cpu"`        // requests.cpu
	Memory     Bytes  `yaml:"memory"`     // requests.memory
	GPUs       int64  `yaml:"gpus"`       // nvidia.com/gpu
	Duration   *Dist  `yaml:"duration"`   // init containers: how long they run
}

// Toleration is a pod toleration.
type Toleration struct {
	Key      string `yaml:"key"`
	Operator string `yaml:"operator"`
	Value    string `yaml:"value"`
	Effect   string `yaml:"effect"`
}

// Affinity is node affinity.
type Affinity struct {
	Required  []NodeSelectorTerm `yaml:"required"`
	Preferred []PreferredTerm    `yaml:"preferred"`
}

// NodeSelectorTerm is an AND of match expressions.
type NodeSelectorTerm struct {
	MatchExpressions []MatchExpression `yaml:"matchExpressions"`
}

// PreferredTerm is a weighted term.
type PreferredTerm struct {
	Weight           int64             `yaml:"weight"`
	MatchExpressions []MatchExpression `yaml:"matchExpressions"`
}

// MatchExpression is one node selector requirement.
type MatchExpression struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values"`
}

// Outputs says what a run writes.
type Outputs struct {
	Dir    string `yaml:"dir"`    // default out/<name>
	Events *bool  `yaml:"events"` // write events.jsonl (default true)
	// BoundedSlowdownThreshold is τ (seconds) of the batch jobs' bounded
	// slowdown, max(1, turnaround / max(run, τ)); default 10.
	BoundedSlowdownThreshold float64 `yaml:"boundedSlowdownThreshold"`
}
