package kube

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

// waitPlugin makes every pod of job "w" wait at Permit for 5 s, and
// never allows it.
type waitPlugin struct{}

func (waitPlugin) Name() string { return "WaitAlways" }

func (waitPlugin) Permit(_ *Handle, p *engine.Pod, _ *engine.Node) (Status, float64) {
	if p.Job.Name == "w" {
		return Status{Code: Wait}, 5
	}
	return OK, 0
}

// TestPermitTimeoutInFlight: a pod rejected when its Permit wait times
// out goes to unschedulablePods, and comes back on an event or the
// 5-minute flush; if a pod event its plugins register for happened while
// it waited (it was in flight), it goes to backoffQ and comes back when
// its backoff ends (upstream's in-flight events).
func TestPermitTimeoutInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other float64 // when another pod is created (−1: never)
		lo    float64 // the second wait starts in [lo, hi)
		hi    float64
	}{
		{"no event", -1, 300, 340},
		// backoffQ: 1 s of backoff from the rejection, then the flush tick.
		{"pod created while waiting", 2, 6, 8},
		{"pod created after", 9, 9, 9.01}, // the creation moves it (requeueGang)
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(DefaultConfig(), engine.NewStreams(1))
			if err != nil {
				t.Fatal(err)
			}
			s.WithPlugins(waitPlugin{})
			ecfg := engineConfig(makeNodes(1, 4000, 8*gi), 1)
			ecfg.StallTimeout = 400
			e, err := engine.New(ecfg, s)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := makeTemplate(1000, gi)
			tmpl.RunTime = engine.Const(1)
			if err := e.Submit(0, &engine.Job{Name: "w", Kind: engine.KindPod, Template: tmpl}); err != nil {
				t.Fatal(err)
			}
			if tc.other >= 0 {
				if err := e.Submit(tc.other, &engine.Job{Name: "o", Kind: engine.KindPod, Template: tmpl}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.Run()
			if err != nil {
				t.Fatal(err)
			}
			var waits, unres []engine.Record
			for _, r := range res.Records {
				if r.Pod == 0 && r.Kind == engine.RecWaiting {
					waits = append(waits, r)
				}
				if r.Pod == 0 && r.Kind == engine.RecUnreserved {
					unres = append(unres, r)
				}
			}
			if len(waits) < 2 || len(unres) == 0 {
				t.Fatalf("waits %v, unreserved %v", waits, unres)
			}
			if want := "0/1 nodes are available: 1 rejected due to timeout after waiting 5s at plugin WaitAlways."; unres[0].Msg != want {
				t.Errorf("message %q, want %q", unres[0].Msg, want)
			}
			if w := waits[1].T; w < tc.lo || w >= tc.hi {
				t.Errorf("second wait at %g, want in [%g, %g)", w, tc.lo, tc.hi)
			}
		})
	}
}
