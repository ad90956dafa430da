// Package enginetest holds helpers for testing package engine and the
// packages built on it: a FIFO first-fit policy, a policy adapter for
// one-off test policies, builders for nodes, templates and an exact
// (Const, dyadic) start-up model, and a byte-stable dump of a run.
//
// Everything here is deterministic: no wall clock, no global randomness,
// no map iteration that reaches an output.
package enginetest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// FirstFit is a FIFO first-fit policy: pods wait in creation order; on every
// delivery it binds the head of the queue to the first node (in cluster
// order) that is schedulable and has room, and stops at the first pod that
// fits nowhere (head-of-line blocking), recording an Unschedulable decision
// for it.
type FirstFit struct {
	// RetryEvery, if > 0, makes the policy retry a blocked queue on a timer
	// this often (like kube-scheduler's periodic flush). Without it a pod
	// that never fits leaves the engine with nothing to do.
	RetryEvery float64
	// BindDelay is passed as Decision.Delay (client-side throttling).
	BindDelay float64

	queue   []*engine.Pod
	head    int
	timerAt float64            // pending retry timer, 0 = none
	used    []engine.Resources // scratch: requests bound in this Decide call
}

// RetryTag is the tag of FirstFit's retry timer.
const RetryTag = 1

// Name implements engine.Policy.
func (f *FirstFit) Name() string { return "first-fit" }

// PendingPods implements engine.Pending.
func (f *FirstFit) PendingPods() int { return len(f.queue) - f.head }

// Decide implements engine.Policy.
func (f *FirstFit) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	for _, ev := range events {
		switch ev.Kind {
		case engine.PodCreated:
			f.queue = append(f.queue, ev.Pod)
		case engine.TimerFired:
			if ev.Tag == RetryTag && now >= f.timerAt {
				f.timerAt = 0
			}
		}
	}
	if len(f.used) != len(c.Nodes) {
		f.used = make([]engine.Resources, len(c.Nodes))
	} else {
		clear(f.used)
	}
	for f.head < len(f.queue) {
		p := f.queue[f.head]
		n := f.fit(p, c)
		if n == nil {
			out = append(out, engine.Decision{Kind: engine.Unschedulable, Pod: p, Reason: "0/" + strconv.Itoa(len(c.Nodes)) + " nodes are available: Insufficient resources"})
			break
		}
		f.used[n.Index] = f.used[n.Index].Add(p.Requests)
		out = append(out, engine.Decision{Kind: engine.Bind, Pod: p, Node: n, Delay: f.BindDelay})
		f.queue[f.head] = nil
		f.head++
	}
	if f.head == len(f.queue) {
		f.queue, f.head = f.queue[:0], 0
	}
	if f.head < len(f.queue) && f.RetryEvery > 0 && f.timerAt == 0 {
		f.timerAt = now + f.RetryEvery
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: f.timerAt, Tag: RetryTag})
	}
	return out
}

func (f *FirstFit) fit(p *engine.Pod, c *engine.Cluster) *engine.Node {
	for _, n := range c.Nodes {
		if n.Unschedulable {
			continue
		}
		if n.Requested.Add(f.used[n.Index]).Add(p.Requests).LessEqual(n.Allocatable) {
			return n
		}
	}
	return nil
}

// Func adapts a function to engine.Policy, for one-off test policies.
type Func struct {
	N string
	F func(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision
}

// Name implements engine.Policy.
func (p Func) Name() string { return p.N }

// Decide implements engine.Policy.
func (p Func) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	return p.F(now, events, c, out)
}

// Nodes returns n nodes named node-0 … node-(n−1) with the given
// allocatable resources and the hostname label.
func Nodes(n int, alloc engine.Resources) []*engine.Node {
	nodes := make([]*engine.Node, n)
	for i := range nodes {
		name := "node-" + strconv.Itoa(i)
		nodes[i] = &engine.Node{
			Name:        name,
			Allocatable: alloc,
			Labels:      map[string]string{engine.LabelHostname: name},
		}
	}
	return nodes
}

// BigNode is an allocatable that holds any test workload: 64 cores,
// 256 GiB, 110 pods.
var BigNode = engine.Resources{MilliCPU: 64000, Memory: 256 * engine.GiB, Pods: 110}

// Exact start-up latencies. They are dyadic fractions, so sums of them are
// exact in float64 and tests can compare times with ==.
const (
	CreateLatency  = 0.25   // one create API call
	BindLatency    = 0.125  // assume → PodScheduled
	SyncDelay      = 0.0625 // a pod worker trigger → its action
	Sandbox        = 1      // RunPodSandbox + CNI
	PullOverhead   = 2      // fixed part of a real pull
	ManifestCheck  = 0.75   // a pull of a present image (Always)
	ContainerStart = 0.5    // create + start of one container
)

// ExactStartup returns a start-up model with Const latencies (the constants
// above), unlimited registry and node bandwidth, parallel pulls, no
// registry pull QPS limit, and a pod-worker back-off of exactly 10 s (no
// jitter). Image back-off is the upstream 10 s doubling to 300 s.
func ExactStartup() engine.Startup {
	return engine.Startup{
		BindLatency:         engine.Const(BindLatency),
		SyncDelay:           engine.Const(SyncDelay),
		Sandbox:             engine.Const(Sandbox),
		ContainerStart:      engine.Const(ContainerStart),
		ManifestCheck:       engine.Const(ManifestCheck),
		PullOverhead:        engine.Const(PullOverhead),
		SerializeImagePulls: false,
		RegistryPullQPS:     0,
		RegistryBurst:       10,
		ImageBackoffInitial: 10,
		ImageBackoffMax:     300,
		PodWorkerBackoff:    10,
		PodWorkerJitter:     0,
	}
}

// ExactControllers returns unthrottled API clients with a Const create
// latency of CreateLatency.
func ExactControllers() engine.Controllers {
	return engine.Controllers{JobQPS: 0, JobBurst: 30, ClientQPS: 0, ClientBurst: 10, CreateLatency: engine.Const(CreateLatency)}
}

// ExactConfig returns a recording config on the nodes with ExactStartup and
// ExactControllers.
func ExactConfig(nodes []*engine.Node) engine.Config {
	return engine.Config{Seed: 1, Nodes: nodes, Startup: ExactStartup(), Controllers: ExactControllers(), Record: true}
}

// Template returns a one-container template (1 CPU, 1 GiB) of the image
// (100 MiB, IfNotPresent) that runs for runTime seconds.
func Template(image string, runTime float64) *engine.PodTemplate {
	return &engine.PodTemplate{
		Containers: []engine.Container{{
			Name: "main", Image: image, ImageSize: 100 * engine.MiB, PullPolicy: engine.PullIfNotPresent,
			MilliCPU: 1000, Memory: engine.GiB,
		}},
		RunTime: engine.Const(runTime),
	}
}

// Pod returns a bare-pod job.
func Pod(name string, t *engine.PodTemplate) *engine.Job {
	return &engine.Job{Name: name, Kind: engine.KindPod, Template: t}
}

// IndexedJob returns an Indexed Job.
func IndexedJob(name string, parallelism, completions int, t *engine.PodTemplate) *engine.Job {
	return &engine.Job{Name: name, Kind: engine.KindIndexedJob, Parallelism: parallelism, Completions: completions, Template: t}
}

// T formats a time for dumps: shortest exact representation, "-" if unset.
func T(v float64) string {
	if !engine.IsSet(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// PodLine is one pod's timeline in a fixed, byte-stable format.
func PodLine(p *engine.Pod) string {
	node := "-"
	if p.Node != nil {
		node = p.Node.Name
	}
	return fmt.Sprintf("%s node=%s created=%s assigned=%s scheduled=%s initialized=%s started=%s ready=%s finished=%s attempts=%d pullfail=%d pullsec=%s",
		p.Name, node, T(p.Created), T(p.Assigned), T(p.Scheduled), T(p.Initialized),
		T(p.ContainersStarted), T(p.Ready), T(p.Finished), p.Attempts, p.PullFailures, T(p.PullSeconds))
}

// Dump formats every job, pod and record of a result, one per line.
func Dump(res *engine.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "end=%s events=%d stopped=%q finished=%d\n", T(res.End), res.Events, res.Stopped, res.FinishedPods())
	for _, j := range res.Jobs {
		fmt.Fprintf(&b, "job %s kind=%v submitted=%s finished=%s pods=%d\n", j.Name, j.Kind, T(j.Submitted), T(j.Finished), len(j.Pods))
	}
	for _, p := range res.Pods {
		b.WriteString(PodLine(p))
		b.WriteByte('\n')
	}
	for _, r := range res.Records {
		b.WriteString(RecordLine(r))
		b.WriteByte('\n')
	}
	return b.String()
}

// RecordLine formats one trace record.
func RecordLine(r engine.Record) string {
	return fmt.Sprintf("%s %v pod=%d node=%d %s", T(r.T), r.Kind, r.Pod, r.Node, r.Msg)
}

// Records returns the records of one pod (all if pod < 0) of the given
// kinds (all if none given).
func Records(res *engine.Result, pod int, kinds ...engine.RecKind) []engine.Record {
	var out []engine.Record
	for _, r := range res.Records {
		if pod >= 0 && r.Pod != pod {
			continue
		}
		if len(kinds) > 0 {
			ok := false
			for _, k := range kinds {
				ok = ok || r.Kind == k
			}
			if !ok {
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// Kinds returns the kinds of records, in order.
func Kinds(rs []engine.Record) []engine.RecKind {
	ks := make([]engine.RecKind, len(rs))
	for i, r := range rs {
		ks[i] = r.Kind
	}
	return ks
}
