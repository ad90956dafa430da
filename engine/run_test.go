package engine_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/fschuetz04/simgo"
)

// onCreate returns a policy that answers each PodCreated event with f's
// decisions, and each other event with g's (if g is not nil).
func onCreate(name string, f, g func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision) engine.Policy {
	return enginetest.Func{N: name, F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range evs {
			switch {
			case ev.Kind == engine.PodCreated:
				out = append(out, f(now, ev, c)...)
			case g != nil:
				out = append(out, g(now, ev, c)...)
			}
		}
		return out
	}}
}

func bindTo0(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
	return []engine.Decision{{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[0]}}
}

func TestInvariantViolations(t *testing.T) {
	small := engine.Resources{MilliCPU: 1500, Memory: 4 * engine.GiB, Pods: 10} // one 1-CPU pod fits
	tests := []struct {
		name   string
		policy engine.Policy
		pods   int
		want   string
	}{
		{
			// Two 1-CPU pods on a 1.5-CPU node: 2000m > 1500m.
			name: "over-commit", pods: 2, want: "over-committed",
			policy: onCreate("greedy", bindTo0, nil),
		},
		{
			name: "bind twice in one answer", pods: 1, want: "twice",
			policy: onCreate("double", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return append(bindTo0(now, ev, c), bindTo0(now, ev, c)...)
			}, nil),
		},
		{
			name: "bind again after PodBound", pods: 1, want: "twice",
			policy: onCreate("rebind", bindTo0, func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				if ev.Kind == engine.PodBound {
					return []engine.Decision{{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[1]}}
				}
				return nil
			}),
		},
		{
			name: "bind a finished pod", pods: 1, want: "twice",
			policy: onCreate("necro", bindTo0, func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				if ev.Kind == engine.PodDeleted {
					return []engine.Decision{{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[1]}}
				}
				return nil
			}),
		},
		{
			name: "bind to nil node", pods: 1, want: "nil pod or node",
			policy: onCreate("nil", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return []engine.Decision{{Kind: engine.Bind, Pod: ev.Pod}}
			}, nil),
		},
		{
			name: "negative bind delay", pods: 1, want: "delay",
			policy: onCreate("neg", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return []engine.Decision{{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[0], Delay: -1}}
			}, nil),
		},
		{
			name: "timer in the past", pods: 1, want: "timer in the past",
			policy: onCreate("past", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return []engine.Decision{{Kind: engine.SetTimer, At: now - 1}}
			}, nil),
		},
		{
			name: "NaN timer", pods: 1, want: "timer in the past",
			policy: onCreate("nan", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return []engine.Decision{{Kind: engine.SetTimer, At: math.NaN()}}
			}, nil),
		},
		{
			name: "unknown decision", pods: 1, want: "unknown decision",
			policy: onCreate("weird", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
				return []engine.Decision{{Kind: 99, Pod: ev.Pod}}
			}, nil),
		},
		{
			// The policy drops the pod: at the end one pod is pending with
			// nothing left in the calendar.
			name: "pod never bound, nothing left to happen", pods: 1, want: "nothing left to happen",
			policy: onCreate("drop", func(float64, engine.Event, *engine.Cluster) []engine.Decision { return nil }, nil),
		},
		{
			name: "policy pending count disagrees", pods: 1, want: "pending pods",
			policy: &lyingPending{FirstFit: enginetest.FirstFit{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var subs []submission
			for i := range tc.pods {
				subs = append(subs, at(0, enginetest.Pod(fmt.Sprintf("p%d", i), enginetest.Template("a", 10))))
			}
			res, err := tryRun(t, enginetest.ExactConfig(enginetest.Nodes(2, small)), tc.policy, subs...)
			wantErr(t, err, "invariant violated")
			wantErr(t, err, tc.want)
			if res != nil {
				t.Error("a broken run returned a result")
			}
		})
	}
}

// lyingPending claims one more pending pod than it holds.
type lyingPending struct{ enginetest.FirstFit }

func (l *lyingPending) PendingPods() int { return l.FirstFit.PendingPods() + 1 }

// TestAllowOvercommit: with AllowOvercommit the same greedy policy runs to
// the end and the node gives everything back.
func TestAllowOvercommit(t *testing.T) {
	small := engine.Resources{MilliCPU: 1500, Memory: 4 * engine.GiB, Pods: 10}
	cfg := enginetest.ExactConfig(enginetest.Nodes(1, small))
	cfg.AllowOvercommit = true
	res := runToEnd(t, cfg, onCreate("greedy", bindTo0, nil),
		at(0, enginetest.Pod("a", enginetest.Template("a", 10))), at(0, enginetest.Pod("b", enginetest.Template("a", 10))))
	if !res.Cluster.Nodes[0].Requested.IsZero() {
		t.Errorf("node holds %v", res.Cluster.Nodes[0].Requested)
	}
}

// TestUnschedulableNilPod: a policy that records a scheduling failure for
// no pod is broken; the run must fail with an invariant error, not panic.
func TestUnschedulableNilPod(t *testing.T) {
	policy := onCreate("nilfail", func(now float64, ev engine.Event, c *engine.Cluster) []engine.Decision {
		return []engine.Decision{{Kind: engine.Unschedulable, Reason: "no pod"}}
	}, nil)
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Run panicked: %v", r)
			}
		}()
		_, err = tryRun(t, enginetest.ExactConfig(oneNode()), policy, at(0, enginetest.Pod("p", enginetest.Template("a", 1))))
	}()
	wantErr(t, err, "invariant violated")
}

// TestStalledPodNeverFits: a pod bigger than every node, with a policy that
// retries every 60 s, ends the run as "stalled" 900 s after the last
// progress.
func TestStalledPodNeverFits(t *testing.T) {
	huge := enginetest.Template("a", 10)
	huge.Containers[0].MilliCPU = 1e6
	res := run(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{RetryEvery: 60}, at(0, enginetest.Pod("huge", huge)))
	if res.Stopped != "stalled" {
		t.Fatalf("Stopped = %q, want stalled", res.Stopped)
	}
	// Last progress: the creation at 0.25. Attempts at 0.25 + 60k; the
	// stall is declared at the first event more than 900 s later:
	// 0.25 + 60·16 = 960.25 (900.25 is exactly 900 s: not yet).
	eq(t, "End", res.End, 960.25)
	p := res.Pods[0]
	// Attempts at k = 0 … 15.
	if p.Attempts != 16 || p.LastFailure == "" || p.Node != nil {
		t.Errorf("pod %s, last failure %q; want 16 attempts, unbound", enginetest.PodLine(p), p.LastFailure)
	}
	if res.FinishedPods() != 0 {
		t.Errorf("Finished = %d", res.FinishedPods())
	}
	st := enginetest.Records(res, -1, engine.RecStalled)
	if len(st) != 1 || !strings.Contains(st[0].Msg, "1 pods unfinished") {
		t.Errorf("stall records %v", st)
	}
	// The 16 attempts are one series (60 s apart, under SeriesFinish):
	// the first attempt's record, then at the end of the run the
	// series' record with its count and last attempt.
	fs := enginetest.Records(res, p.ID, engine.RecFailedScheduling)
	if len(fs) != 2 {
		t.Fatalf("%d FailedScheduling records, want 2 (the first attempt, the series): %+v", len(fs), fs)
	}
	if fs[0].Count != 0 || fs[0].T != 0.25 || fs[1].Count != 16 || fs[1].LastObserved != 0.25+60*15 || fs[1].T != res.End || fs[1].Msg != fs[0].Msg {
		t.Errorf("FailedScheduling records %+v, want the first at 0.25 and a series of 16 ending at %v", fs, 0.25+60*15)
	}
}

// TestFailedSchedulingSeries: attempts closer than SeriesFinish form one
// series whatever their message; a longer gap starts a new one; binding
// ends the series; a lone attempt has no series record. The expected
// records are derived from the times the policy really failed the pod.
func TestFailedSchedulingSeries(t *testing.T) {
	one := engine.Resources{MilliCPU: 1000, Memory: 4 * engine.GiB, Pods: 10}
	for _, tc := range []struct {
		name    string
		every   float64
		longRun float64
		starts  int // series started, at least
		series  int // series records (more than one attempt), at least
	}{
		{"one series", 60, 2000, 1, 1},
		{"gaps over SeriesFinish", 400, 2000, 5, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := &failLog{FirstFit: enginetest.FirstFit{RetryEvery: tc.every}}
			res := runToEnd(t, enginetest.ExactConfig(enginetest.Nodes(1, one)), pol,
				at(0, enginetest.Pod("long", enginetest.Template("a", tc.longRun))), at(0, enginetest.Pod("next", enginetest.Template("a", 1))))
			p := res.Pods[1]
			times := pol.failed[p]
			if len(times) != p.Attempts-1 {
				t.Fatalf("policy failed the pod %d times, engine counts %d attempts (one bound it)", len(times), p.Attempts)
			}
			// Expected: a record at each series start; a series record
			// (count, last attempt) when one of more than one attempt ends.
			type rec struct {
				t, last float64
				count   int
			}
			var want []rec
			last, count := 0.0, 0
			flush := func(at float64) {
				if count > 1 {
					want = append(want, rec{at, last, count})
				}
			}
			for _, ft := range times {
				if count > 0 && ft-last <= engine.SeriesFinish {
					last, count = ft, count+1
					continue
				}
				flush(ft)
				want = append(want, rec{ft, 0, 0})
				last, count = ft, 1
			}
			flush(p.Assigned)
			var got []rec
			series, starts := 0, 0
			for _, r := range enginetest.Records(res, p.ID, engine.RecFailedScheduling) {
				got = append(got, rec{r.T, r.LastObserved, r.Count})
				if r.Count > 0 {
					series++
				} else {
					starts++
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("FailedScheduling records\n got %v\nwant %v", got, want)
			}
			if series < tc.series || starts < tc.starts {
				t.Errorf("%d series records: the case does not test what it says", series)
			}
			for i, r := range res.Records[1:] {
				if r.T < res.Records[i].T {
					t.Fatalf("records out of time order at %d: %v after %v", i+1, r.T, res.Records[i].T)
				}
			}
		})
	}
}

// failLog is FirstFit that remembers when it failed each pod.
type failLog struct {
	enginetest.FirstFit
	failed map[*engine.Pod][]float64
}

func (f *failLog) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	n := len(out)
	out = f.FirstFit.Decide(now, events, c, out)
	if f.failed == nil {
		f.failed = map[*engine.Pod][]float64{}
	}
	for _, d := range out[n:] {
		if d.Kind == engine.Unschedulable {
			f.failed[d.Pod] = append(f.failed[d.Pod], now)
		}
	}
	return out
}

// TestStalledWaitsForRunningPods: a queued pod that fits only after a
// 2000 s pod finishes is not a stall (a pod is running).
func TestStalledWaitsForRunningPods(t *testing.T) {
	one := engine.Resources{MilliCPU: 1000, Memory: 4 * engine.GiB, Pods: 10}
	res := runToEnd(t, enginetest.ExactConfig(enginetest.Nodes(1, one)), &enginetest.FirstFit{RetryEvery: 60},
		at(0, enginetest.Pod("long", enginetest.Template("a", 2000))), at(0, enginetest.Pod("next", enginetest.Template("a", 1))))
	// "next" is bound at the PodDeleted delivery of "long".
	eq(t, "next.Assigned", res.Pods[1].Assigned, res.Pods[0].Finished)
}

// TestHorizon: the run stops at the horizon with work in flight.
func TestHorizon(t *testing.T) {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Horizon = 5
	res := run(t, cfg, &enginetest.FirstFit{}, at(0, enginetest.Pod("p", enginetest.Template("a", 10))), at(7, enginetest.Pod("late", enginetest.Template("a", 10))))
	if res.Stopped != "horizon" {
		t.Fatalf("Stopped = %q, want horizon", res.Stopped)
	}
	eq(t, "End", res.End, 5)
	p := res.Pods[0]
	// Started at 3.9375 < 5, would finish at 13.9375.
	eq(t, "ContainersStarted", p.ContainersStarted, 3.9375)
	if engine.IsSet(p.Finished) || res.FinishedPods() != 0 || len(res.Pods) != 1 {
		t.Errorf("%s; %d finished, %d pods", enginetest.PodLine(p), res.FinishedPods(), len(res.Pods))
	}
	if engine.IsSet(res.Jobs[1].Submitted) {
		t.Error("a job arriving after the horizon was submitted")
	}
}

// periodic is a first-fit policy that also keeps a timer ticking every
// period for ever (like kube-scheduler's periodic flushes).
type periodic struct {
	enginetest.FirstFit
	period float64
	armed  bool
	fired  int
}

func (p *periodic) Decide(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	rearm := !p.armed
	for _, ev := range evs {
		if ev.Kind == engine.TimerFired && ev.Tag == 99 {
			p.fired++
			rearm = true
		}
	}
	out = p.FirstFit.Decide(now, evs, c, out)
	if rearm {
		p.armed = true
		out = append(out, engine.Decision{Kind: engine.SetTimer, At: now + p.period, Tag: 99})
	}
	return out
}

// TestTimersAfterWorkDoneEndTheRun: a policy whose timer never stops does
// not keep a finished run alive: the run ends normally at the first timer
// after the last pod finished.
func TestTimersAfterWorkDoneEndTheRun(t *testing.T) {
	pol := &periodic{period: 3}
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), pol, at(0, enginetest.Pod("p", enginetest.Template("a", 10))))
	// The timer is armed at 0 (JobArrived) and ticks at 3, 6, 9, 12, 15;
	// the pod finishes at 13.9375, so the tick at 15 ends the run
	// without being delivered: four ticks delivered.
	eq(t, "End", res.End, 15)
	if pol.fired != 4 {
		t.Errorf("%d ticks delivered, want 4", pol.fired)
	}
}

// TestTimerAtFinishDoesNotEndJob: a periodic timer that fires at the very
// instant a Job's last running pod succeeds must not end the run: the Job
// still has completions to create.
func TestTimerAtFinishDoesNotEndJob(t *testing.T) {
	// Job parallelism 1, completions 2; the pod finishes at 13.9375.
	// The policy ticks every 0.0625 (dyadic): a tick lands exactly at
	// 13.9375 and was pushed before the pod's success queued the job sync.
	pol := &periodic{period: 0.0625}
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), pol, at(0, enginetest.IndexedJob("j", 1, 2, enginetest.Template("a", 10))))
	if len(res.Pods) != 2 {
		t.Errorf("%d pods, want 2", len(res.Pods))
	}
}

// TestLongInitContainerIsNotAStall: a pod whose init container runs for
// 1000 s (data staging) is making progress; the run must not be declared
// stalled while it runs.
func TestLongInitContainerIsNotAStall(t *testing.T) {
	tmpl := enginetest.Template("app:1", 10)
	tmpl.InitContainers = []engine.Container{{Name: "stage-in", Image: "app:1", PullPolicy: engine.PullIfNotPresent, Duration: engine.Const(1000)}}
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	// Init up at 3.9375, done at 1003.9375, app started at 1004.4375.
	eq(t, "ContainersStarted", res.Pods[0].ContainersStarted, 1004.4375)
}

// TestReadyNotAfterFinished: a pod whose containers exit before its
// readiness delay never becomes Ready (kubelet: a terminated container is
// not ready).
func TestReadyNotAfterFinished(t *testing.T) {
	tmpl := enginetest.Template("a", 2)
	tmpl.ReadinessDelay = engine.Const(10)
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	p := res.Pods[0]
	if engine.IsSet(p.Ready) {
		t.Errorf("Ready = %v for a pod that finished at %v, before its readiness delay (started %v + 10)", p.Ready, p.Finished, p.ContainersStarted)
	}
	if n := len(enginetest.Records(res, p.ID, engine.RecReady)); n != 0 {
		t.Errorf("%d Ready records, want 0", n)
	}
}

// TestTraceInTimeOrder: the recorded trace (events.jsonl) lists events in
// the order they happened.
func TestTraceInTimeOrder(t *testing.T) {
	tmpl := enginetest.Template("a", 10)
	tmpl.ReadinessDelay = engine.Const(4)
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{},
		at(0, enginetest.Pod("a", tmpl)), at(5, enginetest.Pod("b", tmpl)))
	for i := 1; i < len(res.Records); i++ {
		if res.Records[i].T < res.Records[i-1].T {
			t.Fatalf("trace not in time order: %q before %q", enginetest.RecordLine(res.Records[i-1]), enginetest.RecordLine(res.Records[i]))
		}
	}
}

// TestWorkflowProcessSubmits: a simgo process (a workflow driver) submits a
// job after the calendar ran dry.
func TestWorkflowProcessSubmits(t *testing.T) {
	e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, enginetest.Pod("first", enginetest.Template("a", 10))); err != nil {
		t.Fatal(err)
	}
	sim := e.Sim()
	sim.Process(func(proc simgo.Process) {
		proc.Wait(sim.Timeout(100))
		if err := e.Submit(e.Now(), enginetest.Pod("second", enginetest.Template("a", 10))); err != nil {
			t.Error(err)
		}
	})
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	assertEnded(t, res)
	eq(t, "second.Submitted", res.Jobs[1].Submitted, 100)
	// Image cached: 100.25 + 0.125 + 0.0625 + 1 + 0.5.
	eq(t, "second.ContainersStarted", res.Pods[1].ContainersStarted, 100+L+bindL+watch+sbx+start)
}

// TestWorkflowProcessSubmitsMidRun: the same driver, waking while the
// calendar still holds later events (the first pod runs until 13.9375).
func TestWorkflowProcessSubmitsMidRun(t *testing.T) {
	e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, enginetest.Pod("first", enginetest.Template("a", 10))); err != nil {
		t.Fatal(err)
	}
	sim := e.Sim()
	sim.Process(func(proc simgo.Process) {
		proc.Wait(sim.Timeout(5))
		if err := e.Submit(e.Now(), enginetest.Pod("second", enginetest.Template("a", 10))); err != nil {
			t.Error(err)
		}
	})
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	assertEnded(t, res)
	eq(t, "second.Submitted", res.Jobs[1].Submitted, 5)
}

// TestHorizonWithProcessBeyondIt: a simgo process sleeping past the
// horizon must not carry the run past it.
func TestHorizonWithProcessBeyondIt(t *testing.T) {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Horizon = 50
	e, err := engine.New(cfg, &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, enginetest.Pod("first", enginetest.Template("a", 10))); err != nil {
		t.Fatal(err)
	}
	sim := e.Sim()
	sim.Process(func(proc simgo.Process) {
		proc.Wait(sim.Timeout(100))
		_ = e.Submit(e.Now(), enginetest.Pod("second", enginetest.Template("a", 10)))
	})
	var res *engine.Result
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Run panicked: %v", r)
			}
		}()
		res, err = e.Run()
	}()
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != "horizon" || res.End != 50 {
		t.Errorf("Stopped %q at %v, want horizon at 50", res.Stopped, res.End)
	}
}

func TestRunTwice(t *testing.T) {
	e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, enginetest.Pod("p", enginetest.Template("a", 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run: %v, want an error", err)
	}
}

func TestSubmitValidation(t *testing.T) {
	tmpl := enginetest.Template("a", 1)
	tests := []struct {
		name string
		at   float64
		job  *engine.Job
		want string
	}{
		{"negative time", -1, enginetest.Pod("p", tmpl), "invalid arrival time"},
		{"NaN time", math.NaN(), enginetest.Pod("p", tmpl), "invalid arrival time"},
		{"infinite time", math.Inf(1), enginetest.Pod("p", tmpl), "invalid arrival time"},
		{"no template", 0, &engine.Job{Name: "j", Kind: engine.KindJob, Parallelism: 1, Completions: 1}, "no pod template"},
		{"zero parallelism", 0, enginetest.IndexedJob("j", 0, 1, tmpl), "parallelism"},
		{"zero completions", 0, enginetest.IndexedJob("j", 1, 0, tmpl), "completions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Submit(tc.at, tc.job)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Submit: %v, want error containing %q", err, tc.want)
			}
		})
	}
	// A bare pod's parallelism and completions are forced to 1.
	e, _ := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	j := &engine.Job{Name: "p", Kind: engine.KindPod, Template: tmpl}
	if err := e.Submit(0, j); err != nil || j.Parallelism != 1 || j.Completions != 1 {
		t.Errorf("bare pod: err %v, parallelism %d completions %d", err, j.Parallelism, j.Completions)
	}
}

func TestNewValidation(t *testing.T) {
	n := func(name string, cpu int64) *engine.Node {
		return &engine.Node{Name: name, Allocatable: engine.Resources{MilliCPU: cpu, Pods: 1}}
	}
	tests := []struct {
		name string
		cfg  engine.Config
		want string
	}{
		{"no nodes", engine.Config{}, "no nodes"},
		{"unnamed node", engine.Config{Nodes: []*engine.Node{n("", 1)}}, "no name"},
		{"duplicate", engine.Config{Nodes: []*engine.Node{n("a", 1), n("a", 1)}}, "duplicate"},
		{"negative allocatable", engine.Config{Nodes: []*engine.Node{n("a", -1)}}, "negative allocatable"},
		{"negative horizon", engine.Config{Nodes: []*engine.Node{n("a", 1)}, Horizon: -1}, "negative"},
		{"negative stall timeout", engine.Config{Nodes: []*engine.Node{n("a", 1)}, StallTimeout: -1}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.New(tc.cfg, &enginetest.FirstFit{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// TestNodeIndexAndStateReset: New numbers the nodes and clears engine-owned
// state, so a node list can be reused for a second run.
func TestNodeIndexAndStateReset(t *testing.T) {
	nodes := enginetest.Nodes(3, enginetest.BigNode)
	nodes[2].Requested = engine.Resources{MilliCPU: 5}
	for range 2 {
		res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", enginetest.Template("a", 1))))
		for i, n := range res.Cluster.Nodes {
			if n.Index != i {
				t.Errorf("node %s index %d, want %d", n.Name, n.Index, i)
			}
		}
		// The second run pulls again: the image cache was reset.
		eq(t, "PullSeconds", res.Pods[0].PullSeconds, pull)
	}
}

// TestQueueingOnCapacity: three 1-CPU pods created together on a 2-CPU
// node: two are bound at once, the third when the first one finishes.
func TestQueueingOnCapacity(t *testing.T) {
	two := engine.Resources{MilliCPU: 2000, Memory: 8 * engine.GiB, Pods: 110}
	res := runToEnd(t, enginetest.ExactConfig(enginetest.Nodes(1, two)), &enginetest.FirstFit{},
		at(0, enginetest.Pod("a", enginetest.Template("img", 10))),
		at(0, enginetest.Pod("b", enginetest.Template("img", 20))),
		at(0, enginetest.Pod("c", enginetest.Template("img", 10))))
	a, b, c := res.Pods[0], res.Pods[1], res.Pods[2]
	eq(t, "a.Assigned", a.Assigned, L)
	eq(t, "b.Assigned", b.Assigned, L)
	// a: started 3.9375, finished 13.9375; c is bound in that delivery.
	eq(t, "c.Assigned", c.Assigned, a.Finished)
	eq(t, "a.Finished", a.Finished, 13.9375)
	// c's image is cached: 13.9375 + 0.125 + 0.0625 + 1 + 0.5.
	eq(t, "c.ContainersStarted", c.ContainersStarted, a.Finished+bindL+watch+sbx+start)
	// FirstFit tries the queue head at every delivery: it fails at the
	// PodCreated (0.25) and PodBound (0.375) deliveries and binds at a's
	// PodDeleted: 3 attempts.
	if c.Attempts != 3 {
		t.Errorf("c: %d attempts, want 3", c.Attempts)
	}
	eq(t, "b.Finished", b.Finished, 23.9375)
}

// failingPods is a PodSink whose writes fail (a full disk).
type failingPods struct{ calls int }

func (f *failingPods) Pods([]*engine.Pod) error {
	f.calls++
	return errors.New("no space left on device")
}

// TestPodSinkErrorStopsRun: the first failed hand-over ends the run with a
// *SinkError that says it was the pods', and nothing more is handed over.
func TestPodSinkErrorStopsRun(t *testing.T) {
	e, err := engine.New(enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := e.Submit(float64(i), enginetest.Pod(fmt.Sprintf("p%d", i), enginetest.Template("a", 10))); err != nil {
			t.Fatal(err)
		}
	}
	sink := &failingPods{}
	e.SetPodSink(sink)
	_, err = e.Run()
	var se *engine.SinkError
	if !errors.As(err, &se) || !se.Pods || !strings.Contains(err.Error(), "writing the pods: no space left") {
		t.Fatalf("err = %v, want a SinkError of the pods", err)
	}
	if sink.calls != 1 {
		t.Errorf("%d hand-overs, want 1 (the run stops at the first error)", sink.calls)
	}
}
