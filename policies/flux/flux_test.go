package flux

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// nodes returns n nodes of the given cores.
func nodes(n int, cores int64) []*engine.Node {
	out := make([]*engine.Node, n)
	for i := range out {
		name := fmt.Sprintf("n%d", i)
		out[i] = &engine.Node{Name: name, Allocatable: engine.Resources{MilliCPU: cores * 1000, Memory: 64 * engine.GiB, Pods: 110},
			Labels: map[string]string{engine.LabelHostname: name}}
	}
	return out
}

// sub is a job to submit: at, name, nodes (-N, exclusive), walltime,
// run time, urgency (0: default).
type sub struct {
	at       float64
	name     string
	nodes    int
	walltime float64
	run      float64
	urgency  int
	slots    int  // -n without -N when nodes is 0
	shared   bool // with nodes: 2 one-core tasks a node, not exclusive
}

func fluxJob(s sub) *engine.Job {
	f := &engine.FluxSpec{Nodes: s.nodes, Slots: s.nodes, CoresPerSlot: 1, Exclusive: s.nodes > 0, Walltime: s.walltime, Urgency: s.urgency, RunTime: s.run}
	if s.nodes == 0 {
		f.Slots = s.slots
	}
	if s.shared && s.nodes > 0 {
		f.Exclusive, f.Slots = false, 2*s.nodes
	}
	if f.Urgency == 0 {
		f.Urgency = DefaultUrgency
	}
	return &engine.Job{Name: s.name, Flux: f, Template: &engine.PodTemplate{}}
}

type run struct {
	res  *engine.Result
	jobs map[string]*engine.Job
	pol  *Policy
}

func simulate(t *testing.T, cfg Config, ns []*engine.Node, shell engine.ShellStart, subs ...sub) run {
	t.Helper()
	return simulateWith(t, cfg, ns, shell, nil, subs...)
}

// simulateWith runs the jobs under Flux with cfg, on the resource module
// open makes (nil: the configured one), and fails the test if the run
// breaks or stops short.
func simulateWith(t *testing.T, cfg Config, ns []*engine.Node, shell engine.ShellStart, open func([]*engine.Node) resources, subs ...sub) run {
	t.Helper()
	pol, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if open != nil {
		pol.res, pol.nodes = open(ns), ns
	}
	e, err := engine.New(engine.Config{Seed: 1, Nodes: ns, Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers(), Record: true, Shell: shell}, pol)
	if err != nil {
		t.Fatal(err)
	}
	r := run{jobs: map[string]*engine.Job{}, pol: pol}
	for _, s := range subs {
		j := fluxJob(s)
		if err := e.Submit(s.at, j); err != nil {
			t.Fatal(err)
		}
		r.jobs[s.name] = j
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "" {
		t.Fatalf("run stopped: %s (%s)", res.Stopped, res.StallReason)
	}
	r.res = res
	return r
}

// sameSchedule fails the test unless runs a and b of subs allocated,
// finished and rejected every job alike, each pod on the same node.
func sameSchedule(t *testing.T, label string, subs []sub, a, b run) {
	t.Helper()
	for _, s := range subs {
		x, y := a.jobs[s.name], b.jobs[s.name]
		if x.Flux.Alloc != y.Flux.Alloc || x.Finished != y.Finished || x.IsRejected() != y.IsRejected() {
			t.Fatalf("%s: job %s: alloc %v finished %v, against alloc %v finished %v", label, s.name, x.Flux.Alloc, x.Finished, y.Flux.Alloc, y.Finished)
		}
		for k := range x.Pods {
			if x.Pods[k].Node != nil && x.Pods[k].Node.Name != y.Pods[k].Node.Name {
				t.Fatalf("%s: job %s pod %d on %s, against %s", label, s.name, k, x.Pods[k].Node.Name, y.Pods[k].Node.Name)
			}
		}
	}
}

func (r run) alloc(name string) float64 { return r.jobs[name].Flux.Alloc }

func cfgOf(queue, match string) Config {
	c := DefaultConfig()
	c.QueuePolicy = queue
	c.MatchPolicy = match
	return c
}

// A blocked head job: under fcfs nothing behind it starts, even what
// fits now; under easy a short job that fits before the head's
// reservation is backfilled.
func TestBlockedHead(t *testing.T) {
	jobs := []sub{
		{at: 0, name: "A", nodes: 2, walltime: 100, run: 100},
		{at: 1, name: "B", nodes: 4, walltime: 100, run: 50},
		{at: 2, name: "C", nodes: 1, walltime: 10, run: 10},
	}
	fc := simulate(t, cfgOf(FCFS, "first"), nodes(4, 4), engine.ShellStart{}, jobs...)
	// A holds 2 nodes until 100; B needs all 4: it starts at 100 and
	// runs 50 s; C waits behind B although 2 nodes are free.
	if got := fc.alloc("B"); got != 100 {
		t.Errorf("fcfs: B allocated at %v, want 100 (when A ends)", got)
	}
	if got, want := fc.alloc("C"), fc.alloc("B")+50; got != want {
		t.Errorf("fcfs: C allocated at %v, want %v (after B: head-of-line blocking)", got, want)
	}
	ez := simulate(t, cfgOf(EASY, "first"), nodes(4, 4), engine.ShellStart{}, jobs...)
	if got := ez.alloc("C"); got != 2 {
		t.Errorf("easy: C allocated at %v, want 2 (backfilled: it ends by 12, before B's reservation at 100)", got)
	}
	if got := ez.alloc("B"); got != 100 {
		t.Errorf("easy: B allocated at %v, want 100", got)
	}
}

// A backfilled job must not delay the reservation, judged by its
// requested walltime: D would finish in 5 s, but it asks for 200 s,
// which would overlap B's reservation on every node, so it waits.
func TestBackfillByWalltimeNotRunTime(t *testing.T) {
	for _, q := range []string{EASY, Hybrid, Conservative} {
		r := simulate(t, cfgOf(q, "first"), nodes(4, 4), engine.ShellStart{},
			sub{at: 0, name: "A", nodes: 2, walltime: 100, run: 100},
			sub{at: 1, name: "B", nodes: 4, walltime: 100, run: 50},
			sub{at: 3, name: "D", nodes: 1, walltime: 200, run: 5},
		)
		if got := r.alloc("B"); got != 100 {
			t.Errorf("%s: B allocated at %v, want 100 (not delayed by D)", q, got)
		}
		if got, want := r.alloc("D"), r.alloc("B")+50; got != want {
			t.Errorf("%s: D allocated at %v, want %v (after B: its walltime overlaps B's reservation)", q, got, want)
		}
		// The same job asking for 90 s fits before B's reservation.
		r = simulate(t, cfgOf(q, "first"), nodes(4, 4), engine.ShellStart{},
			sub{at: 0, name: "A", nodes: 2, walltime: 100, run: 100},
			sub{at: 1, name: "B", nodes: 4, walltime: 100, run: 50},
			sub{at: 3, name: "D", nodes: 1, walltime: 90, run: 5},
		)
		if got := r.alloc("D"); got != 3 {
			t.Errorf("%s: D (walltime 90) allocated at %v, want 3 (backfilled)", q, got)
		}
	}
}

// Conservative protects every queued job; easy only the first. Under
// the low policy (lowest node ids first) B's reservation takes n0, n1,
// so D fits on n3 without touching B: easy backfills it and the 4-node
// job C behind B waits until D ends; conservative reserved C first, so
// D waits instead.
func TestConservativeProtectsEveryJob(t *testing.T) {
	jobs := []sub{
		{at: 0, name: "A", nodes: 3, walltime: 100, run: 100},
		{at: 1, name: "B", nodes: 2, walltime: 100, run: 100},
		{at: 2, name: "C", nodes: 4, walltime: 50, run: 50},
		{at: 3, name: "D", nodes: 1, walltime: 300, run: 300},
	}
	ez := simulate(t, cfgOf(EASY, "low"), nodes(4, 4), engine.ShellStart{}, jobs...)
	if ez.alloc("B") != 100 || ez.alloc("D") != 3 || ez.alloc("C") != 3+300 {
		t.Errorf("easy: B, C, D allocated at %v, %v, %v; want 100, 303 (after D), 3 (backfilled)", ez.alloc("B"), ez.alloc("C"), ez.alloc("D"))
	}
	cons := simulate(t, cfgOf(Conservative, "low"), nodes(4, 4), engine.ShellStart{}, jobs...)
	if cons.alloc("B") != 100 || cons.alloc("C") != 200 || cons.alloc("D") != 250 {
		t.Errorf("conservative: B, C, D allocated at %v, %v, %v; want 100, 200 (protected), 250 (after C)", cons.alloc("B"), cons.alloc("C"), cons.alloc("D"))
	}
	// hybrid with reservation depth 2 protects B and C, as conservative.
	hy := cfgOf(Hybrid, "low")
	hy.ReservationDepth = 2
	h := simulate(t, hy, nodes(4, 4), engine.ShellStart{}, jobs...)
	if h.alloc("C") != cons.alloc("C") || h.alloc("D") != cons.alloc("D") {
		t.Errorf("hybrid (depth 2): C, D at %v, %v; want conservative's %v, %v", h.alloc("C"), h.alloc("D"), cons.alloc("C"), cons.alloc("D"))
	}
	// hybrid with depth 1 is easy.
	hy.ReservationDepth = 1
	h = simulate(t, hy, nodes(4, 4), engine.ShellStart{}, jobs...)
	if h.alloc("C") != ez.alloc("C") || h.alloc("D") != ez.alloc("D") {
		t.Errorf("hybrid (depth 1): C, D at %v, %v; want easy's %v, %v", h.alloc("C"), h.alloc("D"), ez.alloc("C"), ez.alloc("D"))
	}
}

// A job that outruns its walltime is killed when R expires (alloc +
// walltime), with a timeout exception, and its nodes go to the next job.
func TestTimeLimitKill(t *testing.T) {
	for _, q := range QueuePolicies {
		r := simulate(t, cfgOf(q, "first"), nodes(2, 4), engine.ShellStart{},
			sub{at: 0, name: "long", nodes: 2, walltime: 50, run: 1000},
			sub{at: 1, name: "next", nodes: 2, walltime: 10, run: 5},
		)
		long := r.jobs["long"]
		if !long.Flux.TimedOut() || long.Finished != 50 {
			t.Errorf("%s: long job timed out %v, finished at %v; want killed at 50", q, long.Flux.TimedOut(), long.Finished)
		}
		if got := r.alloc("next"); got != 50 {
			t.Errorf("%s: next allocated at %v, want 50", q, got)
		}
		if r.jobs["next"].Flux.TimedOut() {
			t.Errorf("%s: next job timed out", q)
		}
		var exc []string
		for _, rec := range r.res.Records {
			if rec.Kind == engine.RecException {
				exc = append(exc, rec.Msg)
			}
		}
		if len(exc) != 1 || !strings.Contains(exc[0], "timeout") {
			t.Errorf("%s: exceptions %q, want one timeout", q, exc)
		}
	}
}

// A job that can never run is rejected (alloc exception), and fcfs goes
// on with the next.
func TestUnsatisfiableRejected(t *testing.T) {
	for _, q := range QueuePolicies {
		r := simulate(t, cfgOf(q, "first"), nodes(2, 4), engine.ShellStart{},
			sub{at: 0, name: "huge", nodes: 3, walltime: 10, run: 5},
			sub{at: 0, name: "ok", nodes: 2, walltime: 10, run: 5},
		)
		if !r.jobs["huge"].IsRejected() {
			t.Errorf("%s: a 3-node job on 2 nodes was not rejected", q)
		}
		if got := r.alloc("ok"); got != 0 {
			t.Errorf("%s: the job behind it allocated at %v, want 0", q, got)
		}
	}
}

// Priority (urgency) before submit time.
func TestPriorityOrder(t *testing.T) {
	for _, q := range QueuePolicies {
		r := simulate(t, cfgOf(q, "first"), nodes(2, 4), engine.ShellStart{},
			sub{at: 0, name: "X", nodes: 2, walltime: 100, run: 100},
			sub{at: 1, name: "Y", nodes: 2, walltime: 100, run: 10},
			sub{at: 2, name: "Z", nodes: 2, walltime: 100, run: 10, urgency: 31},
		)
		if r.alloc("Z") != 100 || r.alloc("Y") != 110 {
			t.Errorf("%s: Z (urgency 31) at %v, Y (16) at %v; want 100 and 110", q, r.alloc("Z"), r.alloc("Y"))
		}
	}
}

// Slots without a node count go where cores are free, several to a node:
// one shell per node of R runs that node's slots and holds their cores.
func TestSlotsPacked(t *testing.T) {
	r := simulate(t, cfgOf(FCFS, "lonode"), nodes(3, 4), engine.ShellStart{},
		sub{at: 0, name: "s", slots: 6, walltime: 10, run: 5},
	)
	// tasksPerNode is the task slots of each node's shell; one shell a node.
	tasksPerNode := func(j *engine.Job) map[string]int {
		t.Helper()
		per := map[string]int{}
		for _, p := range j.Pods {
			if _, two := per[p.Node.Name]; two {
				t.Errorf("job %s: two shells on node %s", j.Name, p.Node.Name)
			}
			if p.Requests.MilliCPU != int64(p.Tasks)*1000 {
				t.Errorf("job %s: the shell on %s holds %d millicores for %d one-core tasks", j.Name, p.Node.Name, p.Requests.MilliCPU, p.Tasks)
			}
			per[p.Node.Name] = p.Tasks
		}
		if j.Completions != len(j.Pods) {
			t.Errorf("job %s: %d completions for %d shells", j.Name, j.Completions, len(j.Pods))
		}
		return per
	}
	per := tasksPerNode(r.jobs["s"])
	// lonode: lowest node first, so n0's 4 cores, then 2 of n1's.
	if per["n0"] != 4 || per["n1"] != 2 || len(per) != 2 {
		t.Errorf("6 one-core slots on 3 nodes of 4 cores under lonode: %v, want n0:4 n1:2", per)
	}
	// low without node_centric takes the lowest core ids across all
	// nodes (core0 of every node first): the slots spread.
	r = simulate(t, cfgOf(FCFS, "low"), nodes(3, 4), engine.ShellStart{},
		sub{at: 0, name: "s", slots: 6, walltime: 10, run: 5},
	)
	per = tasksPerNode(r.jobs["s"])
	if per["n0"] != 2 || per["n1"] != 2 || per["n2"] != 2 {
		t.Errorf("6 one-core slots under low: %v, want 2 on each node", per)
	}
}

// The job's eventlog carries RFC 21's events in order, with the shell's
// start-up between alloc and start.
func TestEventlog(t *testing.T) {
	shell := engine.ShellStart{Base: 0.25, PerNode: 0.5}
	r := simulate(t, DefaultConfig(), nodes(2, 4), shell,
		sub{at: 10, name: "j", nodes: 2, walltime: 100, run: 30},
	)
	var names []string
	at := map[string]float64{}
	for _, rec := range r.res.Records {
		if rec.Job == r.jobs["j"].ID {
			names = append(names, rec.Kind.String())
			at[rec.Kind.String()] = rec.T
			// The submit record says what the job asked for.
			if want := r.jobs["j"].Flux.RequestText(); rec.Kind == engine.RecSubmit && rec.Msg != want {
				t.Errorf("submit record's message %q, want the request %q", rec.Msg, want)
			}
		}
	}
	want := "submit validate depend priority alloc start finish release free clean"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("eventlog %q, want %q", got, want)
	}
	if got, want := at["start"]-at["alloc"], shell.Start(2); got != want {
		t.Errorf("alloc → start %v s, want the shell's %v s", got, want)
	}
	if got, want := at["finish"]-at["start"], 30.0; got != want {
		t.Errorf("start → finish %v s, want the run time %v s", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.QueuePolicy = "sjf" }, "queuePolicy"},
		{func(c *Config) { c.QueueDepth = 0 }, "queueDepth"},
		{func(c *Config) { c.ReservationDepth = 5 }, "reservationDepth"},
		{func(c *Config) { c.MatchPolicy = "best" }, "matchPolicy"},
		{func(c *Config) { c.Backend = "slurm" }, "backend"},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.field+":") {
			t.Errorf("%s: error %v, want one naming the field", c.field, err)
		}
	}
	if err := (&Config{QueuePolicy: Hybrid, QueueDepth: 8, ReservationDepth: 100, MatchPolicy: "first", Backend: "go"}).Validate(); err != nil {
		t.Errorf("hybrid with a reservation depth: %v", err)
	}
}

// A Flux job costs the engine a few calendar events whatever its size:
// its shells are bound, started and ended together (one event each for
// the whole allocation), each ready as it starts, each ending after the
// job's run time.
func TestShellsCostEventsPerJob(t *testing.T) {
	shell := engine.ShellStart{Base: 0.05, PerNode: 0.001}
	events := map[int]int{}
	for _, n := range []int{1, 64} {
		r := simulate(t, cfgOf(FCFS, "first"), nodes(64, 4), shell,
			sub{at: 0, name: "a", nodes: n, walltime: 100, run: 30},
			sub{at: 10, name: "b", nodes: n, walltime: 100, run: 20},
		)
		events[n] = r.res.Events
		for _, name := range []string{"a", "b"} {
			j := r.jobs[name]
			start := j.Flux.Alloc + shell.Start(n)
			for _, p := range j.Pods {
				if p.Scheduled != j.Flux.Alloc || p.ContainersStarted != start || p.Ready != start || p.Finished != start+p.RunTime || p.RunTime != j.Flux.RunTime {
					t.Fatalf("%d nodes: job %s alloc %v: shell %s scheduled %v, started %v (want %v), ready %v, finished %v after %v s",
						n, name, j.Flux.Alloc, p.Name, p.Scheduled, p.ContainersStarted, start, p.Ready, p.Finished, p.RunTime)
				}
			}
		}
	}
	if events[64] != events[1] {
		t.Errorf("calendar events: %d for jobs of 64 nodes, %d for jobs of 1; want the same", events[64], events[1])
	}
}

// job-exec starts one shell per node of R, so the shell start-up grows
// with the nodes of a job of task slots, not with its slots: 8 one-core
// tasks packed on 2 nodes of 4 cores start after Start(2), as a job of
// 2 whole nodes does.
func TestShellStartCountsNodes(t *testing.T) {
	shell := engine.ShellStart{Base: 0.25, PerNode: 0.5}
	r := simulate(t, cfgOf(FCFS, "first"), nodes(4, 4), shell,
		sub{at: 0, name: "n", slots: 8, walltime: 100, run: 30},
	)
	j := r.jobs["n"]
	held := map[string]int{}
	for _, p := range j.Pods {
		held[p.Node.Name] += p.Tasks
	}
	if len(j.Pods) != 2 || len(held) != 2 {
		t.Fatalf("8 one-core tasks on nodes of 4 cores: %d shells running %v tasks, want 2 on 2 nodes", len(j.Pods), held)
	}
	if got, want := j.Pods[0].ContainersStarted-j.Flux.Alloc, shell.Start(2); got != want {
		t.Errorf("alloc → shells up %v s, want the start-up of 2 nodes (%v s), not of 8 slots (%v s)", got, want, shell.Start(8))
	}
}

// placementModel records the placement an app model is priced on.
type placementModel struct{ got []engine.NodeShare }

func (m *placementModel) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	m.got = slices.Clone(pl)
	return engine.RunResult{Seconds: 10}, nil
}

// An app model prices a job of task slots by its slots per node: one
// shell a node runs them all, and the placement counts each shell as its
// slots (the ranks a model gives each).
func TestShellPlacementCountsTasks(t *testing.T) {
	pol, err := New(cfgOf(FCFS, "lonode"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Seed: 1, Nodes: nodes(3, 4), Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers()}, pol)
	if err != nil {
		t.Fatal(err)
	}
	j := fluxJob(sub{name: "app", slots: 6, walltime: 100})
	m := &placementModel{}
	j.RunModel = m
	if err := e.Submit(0, j); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(); err != nil {
		t.Fatal(err)
	}
	// lonode: n0's 4 cores, then 2 of n1's.
	if len(j.Pods) != 2 || len(m.got) != 2 || m.got[0].Pods != 4 || m.got[1].Pods != 2 {
		t.Errorf("6 slots under lonode: %d shells, priced on %v; want 2 shells priced as 4 and 2 slots", len(j.Pods), m.got)
	}
	if !engine.IsSet(j.Finished) || j.Finished-j.Started != 10 {
		t.Errorf("job started %v, finished %v; want it to run the model's 10 s", j.Started, j.Finished)
	}
}
