package traces

import (
	"slices"
	"testing"
)

// The fixtures' expected values below are what the fixtures (written for
// these tests) hold.

func TestFluxJobs(t *testing.T) {
	tr := fxRead(t, "jobs.json", "flux-jobs")
	if len(tr.Jobs) != 6 {
		t.Fatalf("%d jobs, want 6", len(tr.Jobs))
	}
	for _, c := range []struct {
		id, status, user   string
		submit, start, end float64
		exit, nodes, tasks int
		nodelist           []string
		walltime           float64
	}{
		{"1294822522880", "completed", "1001", 1724384500.125, 1724384510.5, 1724384600.75, 0, 4, 16, []string{"node1", "node2", "node3", "node5"}, 3600},
		{"ƒ2Ab5Fs7", "failed", "1001", 1724384501, 1724384511, 1724384521, 3, 1, 2, []string{"node7"}, 0},
		{"1294822522881", "timeout", "alice", 1724384502, 1724384512, 1724384572, -9, 1, 1, []string{"gpu01"}, 60},
		{"1294822522882", "cancelled", "1001", 1724384503, NaN, 1724384505, -128, 0, 4, nil, 0},
		{"1294822522883", "running", "1001", 1724384504, 1724384514, NaN, -1, 2, 64, []string{"node09", "node10"}, 0},
		{"1294822522884", "pending", "1001", 1724384505, NaN, NaN, -1, 0, 128, nil, 600},
	} {
		j := fxJob(t, tr, c.id)
		if j.Status != c.status || j.User != c.user || j.ExitCode != c.exit || j.Nodes != c.nodes || j.Tasks != c.tasks ||
			!slices.Equal(j.NodeList, c.nodelist) || j.Walltime != c.walltime {
			t.Errorf("job %s: status %s user %s exit %d nodes %d tasks %d nodelist %v walltime %g; want %+v",
				c.id, j.Status, j.User, j.ExitCode, j.Nodes, j.Tasks, j.NodeList, j.Walltime, c)
		}
		if !fxSame(j.Submit, c.submit) || !fxSame(j.Start, c.start) || !fxSame(j.Alloc, c.start) || !fxSame(j.End, c.end) {
			t.Errorf("job %s: submit %v alloc %v start %v end %v; want %v, %v, %v", c.id, j.Submit, j.Alloc, j.Start, j.End, c.submit, c.start, c.end)
		}
		if j.Kind != fluxKind || j.Scheduler != "flux" {
			t.Errorf("job %s: kind %s scheduler %s", c.id, j.Kind, j.Scheduler)
		}
	}
	j := fxJob(t, tr, "1294822522880")
	if j.Name != "amg" || j.Queue != "batch" || j.Procs != 32 || j.Params["sched.resource_summary"] != "rank[0-2,4]/core[0-7]" ||
		j.Params["flux.t_inactive"] != "1724384600.8" || j.Params["flux.ranks"] != "[0-2,4]" {
		t.Errorf("job 1294822522880: %+v", j)
	}
	if j := fxJob(t, tr, "1294822522881"); j.Params["flux.exception.type"] != "timeout" || j.Params["flux.exception.note"] != "resource allocation expired" {
		t.Errorf("timeout job's exception: %v", j.Params)
	}
	for _, key := range []string{"flux-jobs-start", "flux-jobs-running", "flux-jobs-pending", "flux-jobs-nnodes"} {
		if !fxHasNote(tr, key) {
			t.Errorf("no note %s: %v", key, tr.Notes)
		}
	}

	// The array form with job-list's numeric states and results.
	tr = fxRead(t, "jobs-array.json", "flux-jobs")
	if j := fxJob(t, tr, "7"); j.Status != "completed" || j.End != 111.5 || !slices.Equal(j.NodeList, []string{"n0"}) {
		t.Errorf("job 7: %+v", j)
	}
	if j := fxJob(t, tr, "8"); j.Status != "pending" || fxSame(j.Start, 0) {
		t.Errorf("job 8: %+v", j)
	}

	// One job a line: each job names its line.
	tr = fxRead(t, "jobs.jsonl", "flux-jobs")
	if j := fxJob(t, tr, "22"); j.Line != 2 || j.Status != "failed" || j.ExitCode != -11 || j.Params["flux.waitstatus"] != "11" {
		t.Errorf("job 22: %+v", j)
	}
}

func TestFluxEventlog(t *testing.T) {
	tr := fxRead(t, "ƒ2Ab5.eventlog", "flux-eventlog")
	j := fxJob(t, tr, "ƒ2Ab5")
	if j.User != "5588" || j.Submit != 1552593348.073045 || j.Alloc != 1552593348.088391 || j.Start != 1552593348.089787 ||
		j.End != 1552593348.090927 || j.Status != "failed" || j.ExitCode != 1 || len(j.Events) != 10 ||
		j.Params["sched.resource_summary"] != "rank0/core[0-1]" {
		t.Errorf("job ƒ2Ab5: %+v", j)
	}

	tr = fxRead(t, "several.eventlog", "flux-eventlog")
	if len(tr.Jobs) != 4 {
		t.Fatalf("%d jobs, want 4", len(tr.Jobs))
	}
	for _, c := range []struct {
		id, status                string
		submit, alloc, start, end float64
		exit, events, line        int
		walltime                  float64
	}{
		{"several#1", "completed", 1000.5, 1002, 1002.1, 1092.5, 0, 10, 1, 0},
		{"several#2", "timeout", 1001, 1093, 1093.2, 1158, -15, 12, 11, 60},
		{"several#3", "cancelled", 1002, NaN, NaN, 1010, -128, 6, 23, 0},
		{"several#4", "pending", 1003, NaN, NaN, NaN, -1, 5, 29, 0},
	} {
		j := fxJob(t, tr, c.id)
		if j.Status != c.status || j.ExitCode != c.exit || len(j.Events) != c.events || j.Line != c.line || j.Walltime != c.walltime {
			t.Errorf("job %s: status %s exit %d events %d line %d walltime %g; want %+v", c.id, j.Status, j.ExitCode, len(j.Events), j.Line, j.Walltime, c)
		}
		if !fxSame(j.Submit, c.submit) || !fxSame(j.Alloc, c.alloc) || !fxSame(j.Start, c.start) || !fxSame(j.End, c.end) {
			t.Errorf("job %s: submit %v alloc %v start %v end %v; want %+v", c.id, j.Submit, j.Alloc, j.Start, j.End, c)
		}
	}
	if !fxHasNote(tr, "flux-eventlog-pending") {
		t.Errorf("no pending note: %v", tr.Notes)
	}
}

func TestFluxExecEventlog(t *testing.T) {
	tr := fxRead(t, "exec.eventlog", "flux-exec-eventlog")
	j := fxJob(t, tr, "exec")
	if j.Start != 1724384540.6720001 || j.End != 1724384631.1970003 || j.Nodes != 4 || j.Tasks != 32 ||
		j.Status != "completed" || j.ExitCode != 0 || len(j.Events) != 7 || Known(j.Submit) {
		t.Errorf("exec job: %+v", j)
	}
	if !fxHasNote(tr, "flux-exec-submit") {
		t.Errorf("no note on the missing submit: %v", tr.Notes)
	}
}

func TestJobspec(t *testing.T) {
	tr := fxRead(t, "jobspec.yaml", "jobspec")
	j := fxJob(t, tr, "jobspec")
	if j.Nodes != 4 || j.Tasks != 32 || j.CoresPerTask != 2 || j.GPUsPerTask != 1 || !j.Exclusive || j.Walltime != 1800 ||
		j.Name != "lmp" || j.App != "lmp" || j.Queue != "pbatch" || j.Status != "pending" ||
		j.Params["user.study_id"] != "lammps-4-iter-1" || j.Params["command"] != "/usr/bin/lmp -in in.reaxff.hns" {
		t.Errorf("YAML jobspec: %+v", j)
	}
	tr = fxRead(t, "jobspec.json", "jobspec")
	j = fxJob(t, tr, "jobspec")
	// 6 slots of 4 cores, 12 tasks in all: 2 cores a task.
	if j.Nodes != 0 || j.Tasks != 12 || j.CoresPerTask != 2 || j.Exclusive || j.Name != "hn" || j.App != "hostname" || j.Walltime != 0 {
		t.Errorf("JSON jobspec: %+v", j)
	}
}

func TestFluxR(t *testing.T) {
	tr := fxRead(t, "R.json", "R")
	if len(tr.Jobs) != 0 {
		t.Errorf("an instance's R (no starttime) made jobs: %v", tr.Jobs)
	}
	var names []string
	for _, n := range tr.Nodes {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"node1", "node2", "node5", "gpu01"}) {
		t.Fatalf("nodes %v", names)
	}
	if n := tr.Nodes[3]; n.CPU != 8000 || n.GPU != 2 || n.Labels["flux.rank"] != "3" || n.Labels["flux.property.gpu"] != "true" {
		t.Errorf("gpu01: %+v", n)
	}
	if n := tr.Nodes[0]; n.CPU != 16000 || n.GPU != 0 || n.Labels["flux.property.gpu"] != "" {
		t.Errorf("node1: %+v", n)
	}

	tr = fxRead(t, "job-R.json", "R")
	j := fxJob(t, tr, "job-R")
	if j.Start != 1724384510.5 || j.Alloc != j.Start || j.Walltime != 3600 || j.Nodes != 2 || j.Procs != 8 ||
		!slices.Equal(j.NodeList, []string{"node5", "node7"}) || j.Status != "" {
		t.Errorf("R job: %+v", j)
	}
	// Ranks 4 and 6 in rank order take the nodelist's names in order.
	if tr.Nodes[0].Labels["flux.rank"] != "4" || tr.Nodes[1].Labels["flux.rank"] != "6" {
		t.Errorf("nodes %+v %+v", tr.Nodes[0], tr.Nodes[1])
	}
}

func TestFluxJobspecEvents(t *testing.T) {
	tr := fxRead(t, "jobspec-events.json", "flux-jobspec-events")
	if len(tr.Jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(tr.Jobs))
	}
	j := fxJob(t, tr, "test/cpu/size2#0")
	if j.Nodes != 2 || j.Tasks != 8 || j.CoresPerTask != 2 || !j.Exclusive || j.App != "amg" || j.Start != 1001 || j.End != 1031.5 ||
		j.Status != "completed" || j.Params["experiment"] != "test/cpu/size2" || len(j.Events) != 7 {
		t.Errorf("run 0: %+v", j)
	}
	j = fxJob(t, tr, "test/cpu/size2#1")
	if j.GPUsPerTask != 1 || j.CoresPerTask != 1 || j.Exclusive || j.Status != "failed" || j.ExitCode != 2 || j.End != 1050 {
		t.Errorf("run 1: %+v", j)
	}
}
