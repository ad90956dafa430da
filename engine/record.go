package engine

import "fmt"

// RecKind names a recorded event. The names follow the Kubernetes event
// reasons and pod conditions where one exists.
type RecKind uint8

// Recorded events.
const (
	RecJobSubmitted     RecKind = iota // the job object was created
	RecPodCreated                      // the pod object was created
	RecFailedScheduling                // a scheduling attempt failed
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
)

var recNames = [...]string{
	"JobSubmitted", "PodCreated", "FailedScheduling", "Assigned", "Scheduled",
	"SandboxReady", "Pulling", "Pulled", "PullFailed", "PullBackOff",
	"Initialized", "Started", "Ready", "Succeeded", "JobComplete", "Stalled",
}

func (k RecKind) String() string {
	if int(k) < len(recNames) {
		return recNames[k]
	}
	return fmt.Sprintf("RecKind(%d)", k)
}

// Record is one entry of the event trace. Job, Pod and Node are indexes
// into Result.Jobs, Result.Pods and Cluster.Nodes, −1 when not applicable.
type Record struct {
	T    float64
	Kind RecKind
	Job  int
	Pod  int
	Node int
	Msg  string
}

// recordJob records a job-level event.
func (e *Engine) recordJob(now float64, k RecKind, j *Job) {
	if e.cfg.Record {
		e.records = append(e.records, Record{T: now, Kind: k, Job: j.ID, Pod: -1, Node: -1})
	}
}

func (e *Engine) record(now float64, k RecKind, p *Pod, n *Node, msg string) {
	if !e.cfg.Record {
		return
	}
	r := Record{T: now, Kind: k, Job: -1, Pod: -1, Node: -1, Msg: msg}
	if p != nil {
		r.Pod = p.ID
		r.Job = p.Job.ID
	}
	if n != nil {
		r.Node = n.Index
	}
	e.records = append(e.records, r)
}
