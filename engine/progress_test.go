package engine

import (
	"math/rand/v2"
	"testing"
)

// OnProgress is called every ProgressEvery calendar events with the
// simulated time of that event, which never goes back, the count and
// the jobs.
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
	e.OnProgress(func(p Progress) {
		now, events := p.Now, p.Events
		if p.Jobs != 1 || p.JobsDone != 0 {
			t.Errorf("progress: %d of %d jobs done, want 0 of 1", p.JobsDone, p.Jobs)
		}
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
