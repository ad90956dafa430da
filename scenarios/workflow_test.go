package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// smallStreamML is the bundled workflow scenario with fewer runs.
func smallStreamML(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("lammps-stream-ml.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(data), "runs: 1000", "runs: 40", 1)
	return strings.Replace(doc, "runs: 250", "runs: 12", 1)
}

func TestWorkflowRunsInOrder(t *testing.T) {
	sc := mustParse(t, "lammps-stream-ml.yaml", smallStreamML(t))
	res := mustRun(t, sc)
	if err := sc.WorkflowErr(); err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 52 {
		t.Fatalf("%d jobs, want the workflow's 40 + 12 runs (the workload is not submitted on its own)", len(res.Jobs))
	}
	// One run at a time: each is submitted once the one before it has
	// finished (and, while training, the service has answered).
	for i := 1; i < len(res.Jobs); i++ {
		prev, j := res.Jobs[i-1], res.Jobs[i]
		if !(j.Submitted >= prev.Finished) {
			t.Fatalf("run %s submitted at %v before %s finished at %v", j.Name, j.Submitted, prev.Name, prev.Finished)
		}
		if !strings.HasPrefix(j.Name, "lammps-ml-") {
			t.Fatalf("job %s is not a workflow run", j.Name)
		}
	}
	wfs := sc.WorkflowReport()
	if len(wfs) != 1 || !wfs[0].Done || len(wfs[0].Models) != 3 {
		t.Fatalf("report %+v", wfs)
	}
	for _, m := range wfs[0].Models {
		// test-then-train skips the fresh model's 0 prediction (as the
		// server does): 39 of 40 training runs are scored; every test
		// run is.
		if m.Train.N != 39 || m.Test.N != 12 {
			t.Errorf("%s: %d training and %d test pairs, want 39 and 12", m.Name, m.Train.N, m.Test.N)
		}
	}
	// The sizes vary from run to run, and so do the run times.
	times := map[float64]bool{}
	for _, j := range res.Jobs {
		if !engine.IsSet(j.Finished) {
			t.Fatalf("run %s did not finish", j.Name)
		}
		times[j.Finished-j.Started] = true
	}
	if len(times) < 40 {
		t.Errorf("%d distinct run times over 52 runs of random sizes", len(times))
	}
}

func TestWorkflowMalformed(t *testing.T) {
	base := smallStreamML(t)
	cases := []struct{ old, new, want string }{
		{"after: [train]", "after: [warmup]", `workflows[0].stages[1].after[0]: "warmup" is not an earlier stage`},
		{"workload: lammps, runs: 40", "workload: amg, runs: 40", `workflows[0].stages[0].workload: "amg" is not a workload`},
		{"runs: 40", "runs: 0", "workflows[0].stages[0].runs: must be between 1"},
		{"size: [[1, 32], [1, 8], [1, 16]], learn", "size: [[1, 32], [1, 8]], learn", "workflows[0].stages[0].size: 2 ranges for the 3 dimensions"},
		{"size: [[1, 32], [1, 8], [1, 16]], learn", "size: [[0, 32], [1, 8], [1, 16]], learn", "workflows[0].stages[0].size[0]: [0, 32] must be a range"},
		{"service: {name: river, serviceTime: 0.001}", "service: {name: river, models: [{model: forest}]}", "workflows[0].service.models[0]:"},
		{"    service: {name: river, serviceTime: 0.001}\n", "", "workflows[0].service: required"},
	}
	for _, c := range cases {
		if !strings.Contains(base, c.old) {
			t.Fatalf("%q not in the scenario", c.old)
		}
		_, err := Parse("w.yaml", []byte(strings.Replace(base, c.old, c.new, 1)), Overrides{IgnoreEnv: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: error %v, want %q", c.old, c.new, err, c.want)
		}
	}
}
