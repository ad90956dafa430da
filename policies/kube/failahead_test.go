package kube

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// Whole engine runs with failAhead (failed cycles made ahead of their
// timers while nothing else can happen) and without it give the same
// run: every record of the trace with its time (the FailedScheduling
// series included), every pod's attempts, last failure, node and times,
// the end and the stop reason. Random backlogs on random clusters (taints,
// cordons, selectors, several templates, priorities), with start-up
// latencies, a horizon in some, and pods that never fit (stalls).
func TestFailAheadSameRun(t *testing.T) {
	ahead := 0
	for seed := uint64(1); seed <= 20; seed++ {
		on, stOn := failAheadRun(t, seed, false)
		off, stOff := failAheadRun(t, seed, true)
		if on != off {
			t.Fatalf("seed %d: the runs differ:\n%s", seed, firstDiff(on, off))
		}
		if stOff.FailedAhead != 0 || stOn.Unschedulable != stOff.Unschedulable {
			t.Fatalf("seed %d: failures %d/%d, ahead %d without failAhead", seed, stOn.Unschedulable, stOff.Unschedulable, stOff.FailedAhead)
		}
		ahead += stOn.FailedAhead
	}
	if ahead == 0 {
		t.Error("no cycle was failed ahead: the test does not exercise failAhead")
	}
}

func failAheadRun(t *testing.T, seed uint64, off bool) (string, Stats) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 91))
	nodes := randomCluster(r, 2+r.IntN(12))
	templates := randomTemplates(r, 1+r.IntN(4))
	cfg := DefaultConfig()
	// Long cycles make batches that cross the 1-s backoffQ flush ticks
	// and reach the 30-s leftover flush.
	cfg.CycleSeconds = []float64{cfg.CycleSeconds, 0.05, 0.7}[r.IntN(3)]
	s, err := New(cfg, engine.NewStreams(seed))
	if err != nil {
		t.Fatal(err)
	}
	s.noFailAhead = off
	ecfg := engine.Config{
		Seed: seed, Nodes: nodes, Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers(),
		Record: true, Streams: engine.NewStreams(seed), StallTimeout: 300,
	}
	if r.IntN(3) == 0 {
		ecfg.Horizon = 200 + float64(r.IntN(400))
	}
	e, err := engine.New(ecfg, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 + r.IntN(250) {
		tmpl := templates[r.IntN(len(templates))]
		tmpl.RunTime = engine.Const(float64(30 + r.IntN(90)))
		j := &engine.Job{Name: fmt.Sprintf("p%d", i), Kind: engine.KindPod, Template: tmpl}
		if err := e.Submit(float64(r.IntN(60)), j); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "end %v stopped %q records %d\n", res.End, res.Stopped, res.RecordCount)
	for _, rec := range res.Records {
		fmt.Fprintf(&b, "%v %v j%d p%d n%d %q %d %v\n", rec.T, rec.Kind, rec.Job, rec.Pod, rec.Node, rec.Msg, rec.Count, rec.LastObserved)
	}
	for _, p := range res.Pods {
		node := "-"
		if p.Node != nil {
			node = p.Node.Name
		}
		fmt.Fprintf(&b, "%s %s %d %q %v %v %v\n", p.Name, node, p.Attempts, p.LastFailure, p.Assigned, p.Scheduled, p.Finished)
	}
	st := s.Stats()
	return b.String(), st
}

// A deep backlog of one-core pods on two nodes, as in
// scenarios/scale/backlog-2nodes.yaml: pods are created at 5 a second
// (the user's client) behind pods that already failed, and every deletion
// sends the backlog back, part to activeQ, part to backoffQ, so
// failAhead's batches are long and cross the backoffQ flush ticks, where
// pods whose backoff ended must go before the newer pods.
func TestFailAheadBacklog(t *testing.T) {
	for _, cycle := range []float64{0.002, 0.02} {
		var runs [2]string
		var st [2]Stats
		for k, off := range []bool{false, true} {
			cfg := DefaultConfig()
			cfg.CycleSeconds = cycle
			s, err := New(cfg, engine.NewStreams(3))
			if err != nil {
				t.Fatal(err)
			}
			s.noFailAhead = off
			ctl := engine.DefaultControllers()
			e, err := engine.New(engine.Config{Seed: 3, Nodes: makeNodes(2, 4000, 16*gi), Startup: engine.DefaultStartup(),
				Controllers: ctl, Record: true, Streams: engine.NewStreams(3)}, s)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := makeTemplate(1000, gi)
			tmpl.RunTime = engine.Const(60)
			for _, j := range barePods(5000, tmpl) {
				if err := e.Submit(0, j); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.Run()
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, rec := range res.Records {
				fmt.Fprintf(&b, "%v %v p%d n%d %d %v\n", rec.T, rec.Kind, rec.Pod, rec.Node, rec.Count, rec.LastObserved)
			}
			for _, p := range res.Pods {
				fmt.Fprintf(&b, "%s %d %v\n", p.Name, p.Attempts, p.Assigned)
			}
			runs[k], st[k] = b.String(), s.Stats()
		}
		if runs[0] != runs[1] {
			t.Fatalf("cycle %v s: the runs differ:\n%s", cycle, firstDiff(runs[0], runs[1]))
		}
		if st[0].FailedAhead < st[0].Unschedulable/2 {
			t.Errorf("cycle %v s: only %d of %d failures made ahead", cycle, st[0].FailedAhead, st[0].Unschedulable)
		}
	}
}
