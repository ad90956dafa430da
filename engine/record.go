package engine

import "fmt"

// RecKind names a recorded event. The names follow the Kubernetes event
// reasons and pod conditions where one exists.
type RecKind uint8

// Recorded events.
const (
	RecJobSubmitted     RecKind = iota // the job object was created
	RecPodCreated                      // the pod object was created
	RecFailedScheduling                // a scheduling attempt failed (or a series of them ended)
	RecAssigned                        // the scheduler assumed the pod on a node
	RecScheduled                       // PodScheduled=True: the bind completed
	RecSandboxReady                    // PodReadyToStartContainers
	RecPulling                         // an image pull started
	RecPulled                          // an image pull finished
	RecPullFailed                      // ErrImagePull (pull QPS exceeded)
	RecPullBackOff                     // ImagePullBackOff
	RecInitialized                     // Initialized=True
	RecStarted                         // all app containers started
	RecReady                           // Ready=True
	RecSucceeded                       // the pod completed; resources released
	RecJobComplete                     // the job reached its completions
	RecStalled                         // the run made no progress
	RecWaiting                         // the pod was assumed on a node and waits (Permit)
	RecUnreserved                      // a waiting pod lost its node (Permit rejected or timed out)
	RecReserved                        // the policy reserved nodes for a job's future start
	RecRejected                        // the policy gave up a job
	RecContention                      // a job's progress rate changed, or a slowed job ended
	// A Flux job's main eventlog (RFC 21), under its event names.
	RecSubmit    // submit: the job was submitted
	RecValidate  // validate: the job was accepted
	RecDepend    // depend: its dependencies are met
	RecPriority  // priority: it has a priority (Msg) and waits for the scheduler
	RecAlloc     // alloc: the scheduler granted its resources (R)
	RecStart     // start: its job shells run
	RecFinish    // finish: its tasks exited
	RecRelease   // release: the shells released its resources
	RecFree      // free: the scheduler has them back
	RecClean     // clean: the job is inactive
	RecException // exception: a fatal exception (Msg: type, severity, note)
)

var recNames = [...]string{
	"JobSubmitted", "PodCreated", "FailedScheduling", "Assigned", "Scheduled",
	"SandboxReady", "Pulling", "Pulled", "PullFailed", "PullBackOff",
	"Initialized", "Started", "Ready", "Succeeded", "JobComplete", "Stalled",
	"Waiting", "Unreserved", "Reserved", "Rejected", "Contention",
	"submit", "validate", "depend", "priority", "alloc", "start", "finish",
	"release", "free", "clean", "exception",
}

func (k RecKind) String() string {
	if int(k) < len(recNames) {
		return recNames[k]
	}
	return fmt.Sprintf("RecKind(%d)", k)
}

// Record is one entry of the event trace. Job, Pod and Node are indexes
// into Result.Jobs, Result.Pods and Cluster.Nodes, −1 when not applicable.
//
// Repeated FailedScheduling events of a pod are aggregated as the
// scheduler's event recorder does (client-go tools/events: one series per
// pod and reason, whatever the message): the first attempt of a series is
// a record of its own; the series' later attempts are counted, and when
// the series ends (the pod is assigned, no attempt for SeriesFinish
// seconds, or the run ends) one more record says how many attempts it
// held (Count, including the first) and when the last was (LastObserved).
// Its Msg is the first attempt's, as in the real series.
type Record struct {
	T    float64
	Kind RecKind
	Job  int
	Pod  int
	Node int
	Msg  string
	// Count > 0 marks the end of a FailedScheduling series of Count
	// attempts, the last at LastObserved.
	Count        int
	LastObserved float64
}

// SeriesFinish is how long after its last attempt a FailedScheduling
// series ends (client-go tools/events finishTime, 6 minutes); a later
// attempt starts a new series.
const SeriesFinish = 360.0

// RecordSink receives the event trace while the run goes, in time order.
// Pod, job and node are the record's objects (nil when not applicable).
// An error stops the run; Run returns it wrapped in a *SinkError.
type RecordSink interface {
	Record(r *Record, pod *Pod, job *Job, node *Node) error
}

// SinkError is a failure of the RecordSink or the PodSink (the disk is
// full, say), not of the simulation. Pods tells which.
type SinkError struct {
	Err  error
	Pods bool // the PodSink's
}

func (e *SinkError) Error() string {
	if e.Pods {
		return "writing the pods: " + e.Err.Error()
	}
	return "writing the event trace: " + e.Err.Error()
}
func (e *SinkError) Unwrap() error { return e.Err }

// failSeries is an open FailedScheduling series of one pod.
type failSeries struct {
	last  float64
	count int
	msg   string
}

func (e *Engine) recording() bool { return e.cfg.Record || e.cfg.Sink != nil }

// recordJob records a job-level event.
func (e *Engine) recordJob(now float64, k RecKind, j *Job) {
	if e.recording() {
		e.emit(Record{T: now, Kind: k, Job: j.ID, Pod: -1, Node: -1}, nil, j, nil)
	}
}

func (e *Engine) record(now float64, k RecKind, p *Pod, n *Node, msg string) {
	if !e.recording() {
		return
	}
	if p != nil && p.Job.Flux != nil {
		// A Flux job's trace is its job eventlog (RFC 21): its shells
		// have no API objects whose changes are recorded.
		return
	}
	r := Record{T: now, Kind: k, Job: -1, Pod: -1, Node: -1, Msg: msg}
	var j *Job
	if p != nil {
		r.Pod = p.ID
		r.Job = p.Job.ID
		j = p.Job
	}
	if n != nil {
		r.Node = n.Index
	}
	e.emit(r, p, j, n)
}

func (e *Engine) emit(r Record, p *Pod, j *Job, n *Node) {
	e.nrecords++
	if e.cfg.Sink == nil {
		e.records = append(e.records, r)
		return
	}
	if e.err != nil {
		return
	}
	if err := e.cfg.Sink.Record(&r, p, j, n); err != nil {
		e.err = &SinkError{Err: err}
	}
}

// recordFailure records a failed scheduling attempt of p, aggregated into
// the pod's FailedScheduling series.
func (e *Engine) recordFailure(now float64, p *Pod, msg string) {
	if !e.recording() {
		return
	}
	if s, ok := e.series[p.ID]; ok {
		if now-s.last <= SeriesFinish {
			s.count++
			s.last = now
			return
		}
		e.endSeries(now, p)
	}
	if e.series == nil {
		e.series = map[int]*failSeries{}
	}
	e.series[p.ID] = &failSeries{last: now, count: 1, msg: msg}
	e.record(now, RecFailedScheduling, p, nil, msg)
}

// endSeries closes p's open FailedScheduling series, if any, with a
// record of its count when it held more than one attempt.
func (e *Engine) endSeries(now float64, p *Pod) {
	s, ok := e.series[p.ID]
	if !ok {
		return
	}
	delete(e.series, p.ID)
	if s.count > 1 && e.recording() {
		e.emit(Record{T: now, Kind: RecFailedScheduling, Job: p.Job.ID, Pod: p.ID, Node: -1, Msg: s.msg, Count: s.count, LastObserved: s.last}, p, p.Job, nil)
	}
}

// endAllSeries closes every open series at the end of the run, in pod
// order.
func (e *Engine) endAllSeries(now float64) {
	if len(e.series) == 0 {
		return
	}
	for _, p := range e.pods {
		if _, ok := e.series[p.ID]; ok {
			e.endSeries(now, p)
		}
	}
}
