package fluence

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

const gi = engine.GiB

// nodes returns n nodes node-0 … node-(n−1) of the given cores and GiB.
func nodes(n int, cores, memGiB int64) []*engine.Node {
	out := make([]*engine.Node, n)
	for i := range out {
		name := fmt.Sprintf("node-%d", i)
		out[i] = &engine.Node{
			Name:        name,
			Allocatable: engine.Resources{MilliCPU: cores * 1000, Memory: memGiB * gi, Pods: 110},
			Labels:      map[string]string{engine.LabelHostname: name},
		}
	}
	return out
}

// tmpl is a one-container template of milli cpu and mem bytes running
// for runTime seconds.
func tmpl(milli, mem int64, runTime float64) *engine.PodTemplate {
	return &engine.PodTemplate{
		Containers: []engine.Container{{Name: "main", Image: "app:1", MilliCPU: milli, Memory: mem}},
		RunTime:    engine.Const(runTime),
	}
}

// gang is an Indexed Job of n pods, all running together.
func gang(name string, n int, t *engine.PodTemplate) *engine.Job {
	return &engine.Job{Name: name, Kind: engine.KindIndexedJob, Parallelism: n, Completions: n, Template: t}
}

// mpi is a gang whose pods start work together and end together (a
// RunModel job of fixed duration).
func mpi(name string, n int, t *engine.PodTemplate, d float64) *engine.Job {
	j := gang(name, n, t)
	j.RunModel = fixedRun(d)
	return j
}

type fixedRun float64

func (f fixedRun) RunTime(_ []engine.NodeShare) (engine.RunResult, error) {
	return engine.RunResult{Seconds: float64(f)}, nil
}

func engineConfig(ns []*engine.Node) engine.Config {
	return engine.Config{
		Seed:        1,
		Nodes:       ns,
		Controllers: engine.Controllers{CreateLatency: engine.Const(0)},
		Horizon:     horizon,
		Record:      true,
		// Every Permit wait and rejection: the tests read retries.
		EveryAttempt: true,
	}
}

// horizon bounds every test run (a stuck group retries forever).
const horizon = 20000

// seq is a Dist that returns its values in turn (run times that differ
// between the pods of one group).
type seq struct {
	v []float64
	i *int
}

func newSeq(v ...float64) seq { return seq{v: v, i: new(int)} }

func (s seq) Sample(*rand.Rand) float64 {
	x := s.v[*s.i%len(s.v)]
	*s.i++
	return x
}
func (s seq) Mean() float64  { return s.v[0] }
func (s seq) String() string { return "seq" }

type sub struct {
	at  float64
	job *engine.Job
}

// run runs the jobs (submitted at 0) under the policy p.
func run(t testing.TB, p engine.Policy, ns []*engine.Node, jobs ...*engine.Job) *engine.Result {
	t.Helper()
	subs := make([]sub, len(jobs))
	for i, j := range jobs {
		subs[i] = sub{0, j}
	}
	return runAt(t, p, ns, subs...)
}

func runAt(t testing.TB, p engine.Policy, ns []*engine.Node, subs ...sub) *engine.Result {
	t.Helper()
	e, err := engine.New(engineConfig(ns), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if err := e.Submit(s.at, s.job); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// newFluence returns a Fluence policy with the default kube section.
func newFluence(t testing.TB, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg, kube.DefaultConfig(), engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func with(f func(*Config)) Config {
	c := DefaultConfig()
	if f != nil {
		f(&c)
	}
	return c
}

// placement lists each pod's node ("-" if none), in pod order.
func placement(res *engine.Result) string {
	var names []string
	for _, p := range res.Pods {
		if p.Node == nil {
			names = append(names, "-")
			continue
		}
		names = append(names, p.Node.Name)
	}
	return strings.Join(names, " ")
}

// jobPlacement lists the nodes of a job's pods, in pod order.
func jobPlacement(j *engine.Job) string {
	var names []string
	for _, p := range j.Pods {
		if p.Node == nil {
			names = append(names, "-")
			continue
		}
		names = append(names, p.Node.Name)
	}
	return strings.Join(names, " ")
}
