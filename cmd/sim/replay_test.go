package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const traceDir = "../../scenarios/testdata/trace"

func TestTraceInspectAndConvert(t *testing.T) {
	out, err := runCmd(t, "trace", "inspect", filepath.Join(traceDir, "pods.json"), filepath.Join(traceDir, "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(kube-pods)", "(kube-nodes)", "2 jobs, 3 pods, 2 nodes", "2 used, 2 described"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "jobs.swf")
	if _, err := runCmd(t, "trace", "convert", filepath.Join(traceDir, "four.swf"), "-o", dst, "--to", "swf"); err != nil {
		t.Fatal(err)
	}
	// The converted file reads back with the same jobs.
	again, err := runCmd(t, "trace", "inspect", dst)
	if err != nil || !strings.Contains(again, "4 jobs") {
		t.Fatalf("converted trace: %v\n%s", err, again)
	}
	// An existing file is kept unless --force.
	before, _ := os.ReadFile(dst)
	_, err = runCmd(t, "trace", "convert", filepath.Join(traceDir, "pods.json"), "-o", dst, "--to", "swf")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("convert over an existing file: %v (exit %d)", err, exitCode(err))
	}
	if after, _ := os.ReadFile(dst); string(after) != string(before) {
		t.Error("convert changed an existing file without --force")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "convert", filepath.Join(traceDir, "four.swf"), "-o", filepath.Join(dir, "x"), "--to", "nope"}, "unknown trace format"},
		{[]string{"trace", "convert", filepath.Join(traceDir, "four.swf"), "-o", filepath.Join(dir, "x"), "--to", "jobspec"}, "does not write"},
		{[]string{"trace", "inspect", filepath.Join(traceDir, "nothere.json")}, "nothere.json"},
		{[]string{"trace", "inspect", "--format", "swf", filepath.Join(traceDir, "pods.json")}, "pods.json:1"},
	} {
		_, err := runCmd(t, c.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v (exit %d), want exit %d naming %q", c.args, err, exitCode(err), exitUsage, c.want)
		}
	}
}

func TestReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "replay")
	out, err := runCmd(t, "replay", filepath.Join(traceDir, "pods.json"), filepath.Join(traceDir, "nodes.json"),
		"--policy", "kube", "--policy", "coscheduling", "-o", dir)
	if err != nil {
		t.Fatal(err)
	}
	// kube produced the trace: its replay is compared with it, and the
	// what-if under coscheduling is not.
	if !strings.Contains(out, "replay of 2 recorded kube jobs under kube") || strings.Contains(out, "under coscheduling, against") {
		t.Errorf("replay output:\n%s", out)
	}
	for _, f := range []string{"scenario.yaml", "comparison.txt", "kube/replay.txt", "kube/replay.csv", "kube/summary.txt", "coscheduling/summary.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("replay wrote no %s: %v", f, err)
		}
	}
	// The scenario written runs as it is.
	if _, err := runCmd(t, "run", filepath.Join(dir, "scenario.yaml"), "-o", filepath.Join(dir, "again"), "-q"); err != nil {
		t.Errorf("sim run of the replayed scenario: %v", err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "kube", "pods.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "again", "pods.csv"))
	if len(a) == 0 || string(a) != string(b) {
		t.Error("sim run of scenario.yaml does not reproduce the replay's pods.csv")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", filepath.Join(traceDir, "pods.json")}, "--policy"},
		{[]string{"replay", filepath.Join(traceDir, "pods.json"), "--policy", "kube", "-o", filepath.Join(dir, "x")}, "no nodes"},
		{[]string{"replay", filepath.Join(traceDir, "four.swf"), "--policy", "kube", "--run-time", "guess"}, "--run-time"},
	} {
		_, err := runCmd(t, c.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v (exit %d), want exit %d naming %q", c.args, err, exitCode(err), exitUsage, c.want)
		}
	}
}

// A session of Flux with Usernetes beside it on the same machines
// (Flux's job records and the MiniCluster's pods) replays through the
// nested model: Flux's jobs on the machines, the pods on Usernetes'
// nodes, all compared with what was recorded.
func TestReplayFluxWithUsernetes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "session")
	out, err := runCmd(t, "replay", filepath.Join(traceDir, "session-flux.json"), filepath.Join(traceDir, "session-pods.json"),
		"--cluster", filepath.Join(traceDir, "session-cluster.yaml"), "--policy", "flux", "-o", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "replay of 4 recorded flux jobs") {
		t.Errorf("the replay does not compare Flux's 3 jobs and Kubernetes' one:\n%s", out)
	}
	pods, err := os.ReadFile(filepath.Join(dir, "flux", "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	inUsernetes, onMachines := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(pods)), "\n")[1:] {
		f := strings.Split(line, ",")
		job, node := f[3], f[5]
		switch {
		case strings.HasPrefix(job, "default.flux-sample"):
			if !strings.HasPrefix(node, "usernetes-worker-") {
				t.Errorf("pod %s of the MiniCluster ran on %s, not on a Usernetes worker", f[1], node)
			}
			inUsernetes++
		case job == "101" || job == "102" || job == "103":
			if !strings.HasPrefix(node, "node-") {
				t.Errorf("shell %s of a Flux job ran on %s, not on a machine", f[1], node)
			}
			onMachines++
		}
	}
	if inUsernetes != 2 || onMachines != 7 {
		t.Errorf("%d pods in Usernetes and %d job shells on machines, want 2 and 7 (2 + 4 + 1 nodes)", inUsernetes, onMachines)
	}
}

// A simulated run exported in the Kubernetes formats reads back as a
// trace of the same jobs, which replays under the policy that produced
// it (the exported scheduler name says which) with their run times.
func TestExportThenReplay(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if _, err := runCmd(t, "run", "../../scenarios/kube-basic.yaml", "-o", run, "-q", "--export", "kube-pods", "--export", "kube-nodes", "--export", "swf"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"kube-pods.json", "kube-nodes.json", "swf.swf"} {
		if _, err := os.Stat(filepath.Join(run, f)); err != nil {
			t.Errorf("--export wrote no %s: %v", f, err)
		}
	}
	out, err := runCmd(t, "replay", filepath.Join(run, "kube-pods.json"), filepath.Join(run, "kube-nodes.json"), "--policy", "kube", "-o", filepath.Join(dir, "replay"))
	if err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "replay", "kube", "replay.csv"))
	if err != nil {
		t.Fatalf("no replay error written (was the run recognised as kube's?): %v\n%s", err, out)
	}
	rows := strings.Split(strings.TrimSpace(string(csv)), "\n")[1:]
	if len(rows) == 0 {
		t.Fatal("no job matched")
	}
	for _, r := range rows {
		f := strings.Split(r, ",")
		// Whole-second times (as the API writes them) move each end
		// by less than a second.
		rec, sim := f[3], f[4]
		if rec == "" || sim == "" {
			t.Errorf("job %s: run time unknown (%q, %q)", f[0], rec, sim)
			continue
		}
		var a, b float64
		fmt.Sscan(rec, &a)
		fmt.Sscan(sim, &b)
		if math.Abs(a-b) > 2 {
			t.Errorf("job %s ran %v s in the replay, %v s as exported", f[0], b, a)
		}
	}
	_, err = runCmd(t, "run", "../../scenarios/kube-basic.yaml", "-o", filepath.Join(dir, "bad"), "--export", "jobspec")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--export") {
		t.Errorf("--export jobspec: %v (exit %d), want a usage error", err, exitCode(err))
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("a refused --export left an output folder")
	}
}

// An SWF trace replays on the machine its header describes. The fixture
// was served first come first served (job 2, the whole machine, waits
// for job 1; job 3 waits behind it): fcfs gives back each recorded wait
// but for the job shell's start-up, and EASY starts job 3 earlier, in
// the hole before job 2's reservation.
func TestReplaySWFOnItsMachine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "swf")
	if _, err := runCmd(t, "replay", filepath.Join(traceDir, "four.swf"), "--recorded-by", "flux",
		"--policy", "flux,policy.flux.queuePolicy=fcfs", "--policy", "flux,policy.flux.queuePolicy=easy", "-o", dir); err != nil {
		t.Fatal(err)
	}
	read := func(policy string) map[string][2]float64 {
		data, err := os.ReadFile(filepath.Join(dir, policy, "replay.csv"))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]float64{}
		for _, r := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
			f := strings.Split(r, ",")
			var rec, sim float64
			fmt.Sscan(f[1], &rec)
			fmt.Sscan(f[2], &sim)
			out[f[0]] = [2]float64{rec, sim}
		}
		return out
	}
	fcfs := read("flux-flux.queuePolicy-fcfs")
	if len(fcfs) != 4 {
		t.Fatalf("%d jobs compared, want 4", len(fcfs))
	}
	for job, w := range fcfs {
		if d := w[1] - w[0]; d < 0 || d > 1 {
			t.Errorf("fcfs: job %s waited %v s, recorded %v s (want the same but for the shell's start-up)", job, w[1], w[0])
		}
	}
	easy := read("flux-flux.queuePolicy-easy")
	if !(easy["3"][1] < fcfs["3"][1]-10) {
		t.Errorf("easy: job 3 waited %v s, fcfs %v s: it should backfill", easy["3"][1], fcfs["3"][1])
	}
}

// rebase makes a --cluster scenario's file names absolute (so that the
// replay's scenario, written elsewhere, finds them) and leaves names that
// are not files alone: an app's model (lammps) stayed a path before.
func TestRebaseFilesOnly(t *testing.T) {
	doc := map[string]any{
		"network":   map[string]any{"profile": "net/p.yaml", "intra": "net/shm.yaml"},
		"workloads": []any{map[string]any{"app": map[string]any{"model": "lammps", "file": "apps/lammps.yaml"}}},
	}
	rebase(doc, "/sc")
	net := doc["network"].(map[string]any)
	app := doc["workloads"].([]any)[0].(map[string]any)["app"].(map[string]any)
	if net["profile"] != "/sc/net/p.yaml" || net["intra"] != "/sc/net/shm.yaml" || app["file"] != "/sc/apps/lammps.yaml" || app["model"] != "lammps" {
		t.Errorf("rebased: network %v, app %v; want the three files under /sc and the model's name as it was", net, app)
	}
}
