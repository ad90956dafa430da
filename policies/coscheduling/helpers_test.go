package coscheduling

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/policies/kube"
)

const gi = engine.GiB

// nodes returns n nodes of cpu millicores, 32 GiB and 110 pods.
func nodes(n int, cpu int64) []*engine.Node {
	return enginetest.Nodes(n, engine.Resources{MilliCPU: cpu, Memory: 32 * gi, Pods: 110})
}

// ecfg is an exact, cheap engine set-up: no start-up latencies, no
// client throttling, instant pod creation.
func ecfg(ns []*engine.Node) engine.Config {
	return engine.Config{
		Seed:        1,
		Nodes:       ns,
		Startup:     engine.Startup{},
		Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
		Record:      true,
		// Every Permit wait and rejection: the tests read retries.
		EveryAttempt: true,
	}
}

// tmpl is a one-container template of cpu millicores and 1 GiB that
// runs for runTime seconds (0: no run time, for RunModel jobs).
func tmpl(cpu int64, runTime float64) *engine.PodTemplate {
	t := &engine.PodTemplate{Containers: []engine.Container{{Name: "main", Image: "img", MilliCPU: cpu, Memory: gi}}}
	if runTime > 0 {
		t.RunTime = engine.Const(runTime)
	}
	return t
}

// fixedModel is a RunModel of a fixed run time: the job's pods start
// together once all run, as an MPI program does.
type fixedModel float64

func (m fixedModel) RunTime([]engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: float64(m)}, nil
}

// gang returns an Indexed Job of size pods in one PodGroup of
// minMember size (the group is named after the job).
func gang(name string, size int, t *engine.PodTemplate) *engine.Job {
	j := enginetest.IndexedJob(name, size, size, t)
	j.Group = &engine.PodGroup{Name: name, MinMember: size}
	return j
}

// mpi is gang with a RunModel of run seconds: pods hold their nodes
// until every pod of the job runs.
func mpi(name string, size int, cpu int64, run float64) *engine.Job {
	j := gang(name, size, tmpl(cpu, 0))
	j.RunModel = fixedModel(run)
	return j
}

type arrival struct {
	at  float64
	job *engine.Job
}

func at(t float64, j *engine.Job) arrival { return arrival{t, j} }

// run runs the policy on the engine with the jobs.
func run(t testing.TB, p engine.Policy, cfg engine.Config, jobs ...arrival) *engine.Result {
	t.Helper()
	e, err := engine.New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range jobs {
		if err := e.Submit(a.at, a.job); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cosched returns Coscheduling on the default kube configuration.
func cosched(t testing.TB, args Args, seed uint64) *Scheduler {
	t.Helper()
	s, err := New(kube.DefaultConfig(), args, engine.NewStreams(seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plainKube returns the default kube-scheduler.
func plainKube(t testing.TB, seed uint64) *kube.Scheduler {
	t.Helper()
	s, err := kube.New(kube.DefaultConfig(), engine.NewStreams(seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// records returns the records of the given kinds as "t kind pod msg".
func records(res *engine.Result, kinds ...engine.RecKind) []string {
	var out []string
	for _, r := range enginetest.Records(res, -1, kinds...) {
		name := "-"
		if r.Pod >= 0 {
			name = res.Pods[r.Pod].Name
		}
		out = append(out, fmt.Sprintf("%s %v %s %s", enginetest.T(r.T), r.Kind, name, r.Msg))
	}
	return out
}

// firstRecord returns the first record of kind for pod (nil if none).
func firstRecord(res *engine.Result, pod *engine.Pod, kind engine.RecKind) *engine.Record {
	for i := range res.Records {
		r := &res.Records[i]
		if r.Pod == pod.ID && r.Kind == kind {
			return r
		}
	}
	return nil
}

// holding lists, for an unfinished run, which job's pods hold which
// node: "job: node-0 node-1 …" per job with any pod on a node.
func holding(res *engine.Result) string {
	var lines []string
	for _, j := range res.Jobs {
		var on []string
		for _, p := range j.Pods {
			if p.Node != nil && p.Phase != engine.PodSucceeded {
				on = append(on, p.Node.Name)
			}
		}
		if len(on) > 0 {
			lines = append(lines, j.Name+": "+strings.Join(on, " "))
		}
	}
	return strings.Join(lines, "\n")
}

// tap runs a policy and keeps every decision it makes about pods, so a
// test sees each failed attempt (the engine's trace aggregates them).
type tap struct {
	engine.Policy
	log []tapped
}

type tapped struct {
	t      float64
	kind   engine.DecisionKind
	pod    *engine.Pod
	reason string
}

func (tp *tap) PendingPods() int { return tp.Policy.(engine.Pending).PendingPods() }

func (tp *tap) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	n := len(out)
	out = tp.Policy.Decide(now, events, c, out)
	for _, d := range out[n:] {
		if d.Pod == nil {
			continue
		}
		t := now
		if d.Kind == engine.Unschedulable && d.At != 0 {
			t = d.At
		}
		tp.log = append(tp.log, tapped{t, d.Kind, d.Pod, d.Reason})
	}
	return out
}

// failures returns the tapped Unschedulable decisions as "t pod reason".
func (tp *tap) failures() []tapped {
	var out []tapped
	for _, d := range tp.log {
		if d.kind == engine.Unschedulable {
			out = append(out, d)
		}
	}
	return out
}

func (d tapped) String() string {
	return fmt.Sprintf("%s %s %s", enginetest.T(d.t), d.pod.Name, d.reason)
}
