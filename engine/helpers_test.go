package engine_test

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// submission is a job and its arrival time.
type submission struct {
	at  float64
	job *engine.Job
}

func at(t float64, j *engine.Job) submission { return submission{t, j} }

// run builds an engine, submits the jobs and runs it; it fails the test on
// a construction, submission or run error.
func run(t testing.TB, cfg engine.Config, p engine.Policy, subs ...submission) *engine.Result {
	t.Helper()
	res, err := tryRun(t, cfg, p, subs...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func tryRun(t testing.TB, cfg engine.Config, p engine.Policy, subs ...submission) (*engine.Result, error) {
	t.Helper()
	e, err := engine.New(cfg, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, s := range subs {
		if err := e.Submit(s.at, s.job); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	return e.Run()
}

// runToEnd is run plus the check that the run reached its natural end
// (examples-to-follow §14): no stop reason, every pod and every job finished.
func runToEnd(t testing.TB, cfg engine.Config, p engine.Policy, subs ...submission) *engine.Result {
	t.Helper()
	res := run(t, cfg, p, subs...)
	assertEnded(t, res)
	return res
}

func assertEnded(t testing.TB, res *engine.Result) {
	t.Helper()
	if res.Stopped != "" {
		t.Fatalf("run stopped early: %q at %v\n%s", res.Stopped, res.End, enginetest.Dump(res))
	}
	if res.FinishedPods() != len(res.Pods) || len(res.Pods) == 0 {
		t.Fatalf("%d of %d pods finished\n%s", res.FinishedPods(), len(res.Pods), enginetest.Dump(res))
	}
	for _, j := range res.Jobs {
		if !engine.IsSet(j.Finished) {
			t.Fatalf("job %s did not finish\n%s", j.Name, enginetest.Dump(res))
		}
		if got := len(j.Pods); got < j.Completions {
			t.Fatalf("job %s has %d pods, want ≥ %d completions", j.Name, got, j.Completions)
		}
	}
}

func podByName(t testing.TB, res *engine.Result, name string) *engine.Pod {
	t.Helper()
	for _, p := range res.Pods {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no pod %q", name)
	return nil
}

// eq compares times exactly: the exact start-up model uses dyadic
// constants, so every derived time is exact in float64.
func eq(t testing.TB, what string, got, want float64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantErr(t testing.TB, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Run succeeded, want an error containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}
