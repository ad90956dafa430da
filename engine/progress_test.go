package engine

import (
	"math/rand/v2"
	"testing"
)

// OnProgress is called every ProgressEvery calendar events with the
// simulated time of that event, which never goes back, and the count.
func TestOnProgress(t *testing.T) {
	const timers = 3 * ProgressEvery
	pol := &holdPolicy{r: rand.New(rand.NewPCG(1, 2)), total: timers}
	e := benchEngine(t, 1)
	e.policy = pol
	tmpl := &PodTemplate{Containers: []Container{{Name: "c", Image: "i", MilliCPU: 1}}, RunTime: Const(1e15)}
	if err := e.Submit(0, &Job{Name: "forever", Kind: KindPod, Template: tmpl}); err != nil {
		t.Fatal(err)
	}
	var calls []int
	last := 0.0
	e.OnProgress(func(now float64, events int) {
		if now < last {
			t.Errorf("progress at %g after %g", now, last)
		}
		last = now
		calls = append(calls, events)
	})
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != res.Events/ProgressEvery || len(calls) < 3 {
		t.Fatalf("%d calls for %d events, want %d", len(calls), res.Events, res.Events/ProgressEvery)
	}
	for i, n := range calls {
		if n != (i+1)*ProgressEvery {
			t.Errorf("call %d at %d events, want %d", i, n, (i+1)*ProgressEvery)
		}
	}
	if last <= 0 || last > res.End {
		t.Errorf("last progress at %g s, run ended at %g s", last, res.End)
	}
}
