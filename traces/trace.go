package traces

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Trace is what a recorded run holds, in the one model that every reader
// of a real format fills and every writer reads: jobs (what users
// submitted: a Flux job, an MPIJob, a MiniCluster, a Job, an SWF row),
// pods (the tasks Kubernetes ran, with their lifecycle times), the nodes
// of the cluster, and notes on what the recording lacked and how it was
// handled.
//
// Times are seconds as float64: Unix epoch seconds for the formats that
// record wall-clock times (Kubernetes, Flux), seconds since the trace's
// start for those that record relative times (SWF, converge's own
// events.jsonl; Relative is then true). An unknown time is NaN, never 0.
type Trace struct {
	// Files are the files the trace was read from, in order.
	Files []string
	// Formats are the formats read (one per file).
	Formats []string
	// Relative reports that times count from the trace's start rather
	// than from the Unix epoch.
	Relative bool
	// Start is, for a relative trace, the Unix time of its second 0
	// (SWF's UnixStartTime header), or NaN.
	Start float64

	Jobs  []*Job
	Pods  []*Pod
	Nodes []*Node

	// Events are the recording's events that concern no job or pod
	// (converge's Stalled), in order.
	Events []Event

	// Header holds what a format says about the whole recording
	// (SWF's header comments: MaxNodes, MaxProcs, ...), by name.
	Header map[string]string
	// Notes say what the recording lacked or held that a reader handled
	// deliberately (a missing finish time, a pod still pending when it
	// was dumped, one-second timestamps), one per kind of thing with a
	// count, in the order first met.
	Notes []*Note

	jobIndex map[string]*Job
	podIndex map[string]*Pod
	noteIdx  map[string]*Note
}

// NaN is the unknown time.
var NaN = math.NaN()

// Known reports whether t is a known time.
func Known(t float64) bool { return !math.IsNaN(t) }

// Job is one job of a trace: what a user submitted.
type Job struct {
	// ID is the job's identity in its system (a Flux job id, a
	// Kubernetes object's namespace/name, an SWF job number); unique in
	// a trace.
	ID string
	// Name is the job's name (the Flux job name, the object's name).
	Name string
	// Kind is what the job is: FluxJob, MPIJob, MiniCluster, Job,
	// PodGroup, Pod (a pod of no group), SWF.
	Kind string
	// User and Queue are as recorded ("" when not).
	User, Queue string
	// Scheduler is the scheduler that placed it: default-scheduler,
	// kubeflux/fluence, scheduler-plugins-scheduler, flux, or "".
	Scheduler string

	// Submit is when the job was submitted (Flux submit, the object's
	// creation, SWF submit time); Start when it began to run (Flux
	// start, the first container of its pods running or the MPIJob
	// running, SWF submit+wait); End when it ended (Flux finish, its
	// last pod's end, SWF start+run time). Alloc is Flux's alloc (the
	// scheduler's decision) when recorded.
	Submit, Alloc, Start, End float64
	// RunTime is a recorded run time (s) that Start and End do not give:
	// an SWF line whose wait time is unknown (-1, as in the output of
	// workload models) still records its run time. NaN otherwise; use
	// Duration for the run time whichever way it was recorded.
	RunTime float64

	// Requests: Nodes (0 when not asked in nodes), Tasks (ranks or
	// processors; SWF's requested processors), CoresPerTask,
	// GPUsPerTask, MemoryPerTask (bytes; 0 when not asked), and the
	// requested Walltime (s; 0 when none).
	Nodes, Tasks, CoresPerTask, GPUsPerTask int
	MemoryPerTask                           int64
	Exclusive                               bool
	Walltime                                float64

	// Used is what it was given: the nodes of its allocation
	// (a nodelist, the nodes of its pods) and the processors (SWF's
	// allocated processors; 0 when not recorded).
	NodeList []string
	Procs    int

	// Status is how it ended: completed, failed, cancelled, timeout,
	// running, pending (not yet started), or "" when not recorded.
	Status string
	// ExitCode is its return code (-1 when not recorded).
	ExitCode int

	// Startup is a recorded start-up delay that the times above do not
	// give (the MPIJob start-up time of the canopie22 logs: created →
	// running), NaN when none.
	Startup float64

	// App names the application when the trace says (lammps, amg, ...),
	// with its parameters (problem sizes, ranks) as recorded.
	App    string
	Params map[string]string

	// Events are the job's own event log, in order (Flux's RFC 21 main
	// eventlog and the exec eventlog, with their names).
	Events []Event

	// Pods are the job's pods (indices into Trace.Pods), in order.
	Pods []int

	// Line is the line of the file where the job was first read (0
	// when not known).
	Line int
}

// Event is one entry of an event log.
type Event struct {
	T       float64
	Name    string
	Context map[string]any
}

// Pod is one pod of a trace, with the lifecycle times the Kubernetes
// API records (conditions and container states) and the events add.
type Pod struct {
	Namespace, Name, UID string
	// Job is the ID of the job the pod belongs to ("" when none): from
	// its pod-group label, owner reference, job-name label, or
	// MiniCluster/MPIJob labels.
	Job string
	// Index is its completion index or rank in the group (-1 when none).
	Index int
	// Role is its role in the job: launcher, worker, "" when not known.
	Role string

	Scheduler string
	Node      string
	// Phase is the pod's phase as dumped: Pending, Running, Succeeded,
	// Failed, Unknown ("" for a pod known only from events).
	Phase string
	// Reason is why it was not scheduled or failed, when recorded.
	Reason string

	// Requests per pod (sum over its containers): CPU in millicores,
	// memory in bytes, GPUs.
	CPU, Memory int64
	GPU         int64

	// Created is the pod's creation; Scheduled its PodScheduled (True);
	// Initialized, SandboxReady (PodReadyToStartContainers),
	// ContainersReady and Ready the conditions; Started the first
	// container's start; Finished the last container's end. PullStart
	// and Pulled bracket its image pull (events), Pull is the pull's
	// duration as the kubelet reported it.
	Created, Scheduled, Initialized, SandboxReady, Started, ContainersReady, Ready, Finished float64
	PullStart, Pulled, Pull                                                                  float64

	// Events are the pod's own events as recorded, in order (converge's
	// events.jsonl: PodCreated, FailedScheduling, Assigned, ... with the
	// node, message and series in Context), nil when the format records
	// only the times above.
	Events []Event

	// Line is the line of the file where the pod was first read.
	Line int
}

// Node is one node of the cluster a trace was recorded on.
type Node struct {
	Name string
	// Allocatable resources: CPU in millicores, memory in bytes, GPUs,
	// pods (0 when not recorded).
	CPU, Memory, GPU, Pods int64
	Labels                 map[string]string
	// Taints are key=value:Effect or key:Effect (SplitTaint).
	Taints []string
	// Unschedulable is a cordoned node; Ready its Ready condition.
	Unschedulable bool
	Ready         bool
}

// SplitTaint splits a Node.Taints entry, key=value:Effect or key:Effect.
func SplitTaint(s string) (key, value, effect string, hasValue bool) {
	kv, effect, _ := strings.Cut(s, ":")
	key, value, hasValue = strings.Cut(kv, "=")
	return key, value, effect, hasValue
}

// Note is one thing about a trace a reader handled deliberately.
type Note struct {
	// Key groups notes of one kind; Text says what and how it was
	// handled; Count how many records it concerns; Example the first of
	// them (a pod or job name, a line).
	Key, Text string
	Count     int
	Example   string
}

// Note records one occurrence of a kind of note (key), with the text
// given the first time.
func (t *Trace) Note(key, example, format string, args ...any) {
	if t.noteIdx == nil {
		t.noteIdx = map[string]*Note{}
	}
	n := t.noteIdx[key]
	if n == nil {
		n = &Note{Key: key, Text: fmt.Sprintf(format, args...), Example: example}
		t.noteIdx[key] = n
		t.Notes = append(t.Notes, n)
	}
	n.Count++
}

// NewJob returns a job with every time unknown and no exit code.
func NewJob(id string) *Job {
	return &Job{ID: id, Submit: NaN, Alloc: NaN, Start: NaN, End: NaN, RunTime: NaN, Startup: NaN, ExitCode: -1}
}

// Duration returns the job's recorded run time: End − Start when both
// are known, else RunTime (NaN when neither is).
func (j *Job) Duration() float64 {
	if Known(j.Start) && Known(j.End) {
		return j.End - j.Start
	}
	return j.RunTime
}

// NewPod returns a pod with every time unknown and no index.
func NewPod(namespace, name string) *Pod {
	return &Pod{Namespace: namespace, Name: name, Index: -1,
		Created: NaN, Scheduled: NaN, Initialized: NaN, SandboxReady: NaN, Started: NaN,
		ContainersReady: NaN, Ready: NaN, Finished: NaN, PullStart: NaN, Pulled: NaN, Pull: NaN}
}

// Job returns the job with the id, adding a new one when there is none
// (the bool is true when it was added).
func (t *Trace) Job(id string) (*Job, bool) {
	if j := t.FindJob(id); j != nil {
		return j, false
	}
	j := NewJob(id)
	t.jobIndex[id] = j
	t.Jobs = append(t.Jobs, j)
	return j, true
}

// FindJob returns the job with the id, or nil.
func (t *Trace) FindJob(id string) *Job {
	if t.jobIndex == nil {
		t.jobIndex = map[string]*Job{}
		for _, j := range t.Jobs {
			t.jobIndex[j.ID] = j
		}
	}
	return t.jobIndex[id]
}

// Pod returns the pod namespace/name, adding a new one when there is
// none (the bool is true when it was added).
func (t *Trace) Pod(namespace, name string) (*Pod, bool) {
	key := namespace + "/" + name
	if t.podIndex == nil {
		t.podIndex = map[string]*Pod{}
		for _, p := range t.Pods {
			t.podIndex[p.Namespace+"/"+p.Name] = p
		}
	}
	if p := t.podIndex[key]; p != nil {
		return p, false
	}
	p := NewPod(namespace, name)
	t.podIndex[key] = p
	t.Pods = append(t.Pods, p)
	return p, true
}

// Span returns the first and last known time of the trace (NaN, NaN
// when it has none).
func (t *Trace) Span() (first, last float64) {
	first, last = NaN, NaN
	see := func(v float64) {
		if !Known(v) {
			return
		}
		if !Known(first) || v < first {
			first = v
		}
		if !Known(last) || v > last {
			last = v
		}
	}
	for _, j := range t.Jobs {
		for _, v := range []float64{j.Submit, j.Alloc, j.Start, j.End} {
			see(v)
		}
		for _, e := range j.Events {
			see(e.T)
		}
	}
	for _, p := range t.Pods {
		for _, v := range []float64{p.Created, p.Scheduled, p.Started, p.Ready, p.Finished, p.PullStart, p.Pulled} {
			see(v)
		}
	}
	return first, last
}

// Link groups the pods into jobs: every pod with a Job key is appended
// to that job's Pods (the job is made, of kind kind, when the trace has
// none by that id), and a job's missing Submit, Start, End, NodeList and
// Scheduler are taken from its pods (earliest creation, earliest
// container start, latest end once all have ended, the distinct nodes
// in pod order). Pods of no group stay alone. Link may run more than
// once: it rebuilds the Pods lists.
func (t *Trace) Link(kind string) {
	for _, j := range t.Jobs {
		j.Pods = j.Pods[:0]
	}
	for i, p := range t.Pods {
		if p.Job == "" {
			continue
		}
		j, added := t.Job(p.Job)
		if added {
			j.Kind = kind
			j.Name = p.Job
			j.Line = p.Line
		}
		j.Pods = append(j.Pods, i)
	}
	for _, j := range t.Jobs {
		if len(j.Pods) == 0 {
			continue
		}
		pods := make([]*Pod, len(j.Pods))
		for k, i := range j.Pods {
			pods[k] = t.Pods[i]
		}
		if !Known(j.Submit) {
			j.Submit = minKnown(pods, func(p *Pod) float64 { return p.Created })
		}
		if !Known(j.Start) {
			j.Start = minKnown(pods, func(p *Pod) float64 { return p.Started })
		}
		if !Known(j.End) {
			j.End = lastOfAll(pods, func(p *Pod) float64 { return p.Finished })
		}
		if len(j.NodeList) == 0 {
			for _, p := range pods {
				if p.Node != "" && !slices.Contains(j.NodeList, p.Node) {
					j.NodeList = append(j.NodeList, p.Node)
				}
			}
		}
		if j.Scheduler == "" {
			j.Scheduler = pods[0].Scheduler
		}
		if j.Tasks == 0 {
			j.Tasks = len(pods)
		}
		if !Known(j.Startup) && Known(j.Submit) {
			// Start-up: submission until every pod runs (an MPIJob's
			// Running condition).
			if last := lastOfAll(pods, func(p *Pod) float64 { return p.Started }); Known(last) {
				j.Startup = last - j.Submit
			}
		}
	}
}

func minKnown(ps []*Pod, f func(*Pod) float64) float64 {
	m := NaN
	for _, p := range ps {
		if v := f(p); Known(v) && (!Known(m) || v < m) {
			m = v
		}
	}
	return m
}

// lastOfAll is the latest f of the pods, unknown when one pod's is.
func lastOfAll(ps []*Pod, f func(*Pod) float64) float64 {
	m := NaN
	for _, p := range ps {
		v := f(p)
		if !Known(v) {
			return NaN
		}
		m = maxKnown(m, v)
	}
	return m
}

func maxKnown(a, b float64) float64 {
	if !Known(a) {
		return b
	}
	if Known(b) && b > a {
		return b
	}
	return a
}
