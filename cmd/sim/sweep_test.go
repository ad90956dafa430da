package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/convergesim/converge/internal/killpoint"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
)

// testSweep writes a sweep file of kube-basic.yaml (6 points: two
// scoring strategies × 3 seeds unless body says otherwise) and returns
// its path.
func testSweep(t testing.TB, body string) string {
	t.Helper()
	base, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		body = "version: 1\nname: t\nbase: BASE\naxes:\n  - path: policy.kube.scoringStrategy.type\n    values: [LeastAllocated, MostAllocated]\n  - seeds: 3\n"
	}
	path := filepath.Join(t.TempDir(), "sweep.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "BASE", base)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// simIn runs sim in this process.
func simIn(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// readTree reads every file under dir by its path relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree reports the first difference between two folders' files.
func sameTree(a, b map[string][]byte) string {
	for _, k := range slices.Sorted(mapKeys(a)) {
		if _, ok := b[k]; !ok {
			return k + " only in the first"
		}
		if !bytes.Equal(a[k], b[k]) {
			return k + " differs"
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return k + " only in the second"
		}
	}
	return ""
}

func mapKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// The same sweep with one worker and with two writes the same bytes:
// the table, the summary, the manifest and every point's report.
func TestSweepDeterministicAcrossWorkers(t *testing.T) {
	sw := testSweep(t, "")
	base := t.TempDir()
	var trees []map[string][]byte
	for _, j := range []string{"1", "2"} {
		dir := filepath.Join(base, "j"+j)
		if code, _, stderr := simIn("sweep", sw, "-o", dir, "-j", j, "-q"); code != 0 {
			t.Fatalf("-j %s: exit %d: %s", j, code, stderr)
		}
		trees = append(trees, readTree(t, dir))
	}
	if d := sameTree(trees[0], trees[1]); d != "" {
		t.Errorf("-j 1 and -j 2 differ: %s", d)
	}
	// 6 points, each a complete report; a row per point.
	tree := trees[0]
	csv := strings.Split(strings.TrimSuffix(string(tree[scenarios.SweepTableFile]), "\n"), "\n")
	if len(csv) != 7 {
		t.Fatalf("sweep.csv has %d lines, want 7:\n%s", len(csv), tree[scenarios.SweepTableFile])
	}
	if !strings.HasPrefix(csv[0], "point,id,policy.kube.scoringStrategy.type,seed,policy,stopped,jobs,pods,pods_finished,makespan,startup_mean") {
		t.Errorf("header %s", csv[0])
	}
	if !strings.HasPrefix(csv[4], "3,p0003-") || !strings.Contains(csv[4], ",MostAllocated,1,kube,done,") {
		t.Errorf("row 3: %s", csv[4])
	}
	// Each point's report is the one `sim run` writes with the same settings.
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := simIn("run", scenario, "-q", "-o", dir, "--set", "policy.kube.scoringStrategy.type=MostAllocated", "--set", "seed=1"); code != 0 {
		t.Fatalf("sim run: exit %d: %s", code, stderr)
	}
	m, err := scenarios.ReadSweepManifest(filepath.Join(base, "j1"))
	if err != nil {
		t.Fatal(err)
	}
	pt := filepath.Join(base, "j1", "points", m.Points[3].ID)
	for _, f := range []string{report.JobsFile, report.PodsFile, report.EventsFile} {
		a, _ := os.ReadFile(filepath.Join(pt, f))
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("point 3's %s differs from sim run's", f)
		}
	}
	// The page links every point's report and shows the figures.
	index := string(tree[report.IndexFile])
	for _, want := range []string{"points/" + m.Points[5].ID + "/index.html", "makespan.png", "startup-cdf.png", "run-time.svg"} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	for _, f := range []string{"makespan.png", "startup.png", "wait.png", "run-time.png", "startup-cdf.png"} {
		if len(tree[f]) == 0 {
			t.Errorf("no %s", f)
		}
	}
	// Replicates: one group per strategy, 3 seeds each.
	sum := string(tree[scenarios.SweepSummaryFile])
	for _, want := range []string{"policy.kube.scoringStrategy.type=LeastAllocated\n  3 points (seeds 1 2 3); stopped: done 3",
		"policy.kube.scoringStrategy.type=MostAllocated\n  3 points (seeds 1 2 3)", "points                 6, 6 with results", "95% CI low"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary.txt lacks %q:\n%s", want, sum)
		}
	}
}

// Shards run separately and merged give the single-machine sweep, byte
// for byte.
func TestSweepShardsMerge(t *testing.T) {
	sw := testSweep(t, "")
	base := t.TempDir()
	whole := filepath.Join(base, "whole")
	if code, _, stderr := simIn("sweep", sw, "-o", whole, "-j", "2", "-q"); code != 0 {
		t.Fatalf("whole: exit %d: %s", code, stderr)
	}
	var shards []string
	for i := range 4 {
		d := filepath.Join(base, fmt.Sprintf("shard-%d", i))
		if code, _, stderr := simIn("sweep", sw, "--shard", fmt.Sprintf("%d/4", i), "-o", d, "-j", "1", "-q"); code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
		// Shard i holds the points i, i+4, ...
		pts := names(t, filepath.Join(d, "points"))
		for _, p := range pts {
			var idx int
			fmt.Sscanf(p, "p%d-", &idx)
			if idx%4 != i {
				t.Errorf("shard %d ran point %s", i, p)
			}
		}
		shards = append(shards, d)
	}
	// A merge without one shard lists its points and exits 1.
	part := filepath.Join(base, "part")
	code, _, stderr := simIn(append(append([]string{"sweep", "merge"}, shards[:3]...), "-o", part, "-q")...)
	if code != exitFailed || !strings.Contains(stderr, "no folder holds the report of p0003-") {
		t.Errorf("merge of 3 shards of 4: exit %d: %s", code, stderr)
	}
	merged := filepath.Join(base, "merged")
	if code, _, stderr := simIn(append(append([]string{"sweep", "merge"}, shards...), "-o", merged, "-q")...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	a, b := readTree(t, whole), readTree(t, merged)
	for _, f := range []string{scenarios.SweepTableFile, scenarios.SweepSummaryFile, scenarios.SweepManifestFile} {
		if !bytes.Equal(a[f], b[f]) {
			t.Errorf("merged %s differs from the single-machine sweep's:\n%s\n---\n%s", f, b[f], a[f])
		}
	}
	if d := sameTree(a, b); d != "" {
		t.Errorf("merged folder and single-machine folder differ: %s", d)
	}
	// Merging into an existing folder needs --force; folders of another
	// sweep are refused.
	if code, _, stderr := simIn(append(append([]string{"sweep", "merge"}, shards...), "-o", merged, "-q")...); code != exitUsage || !strings.Contains(stderr, "not empty") {
		t.Errorf("merge into an existing folder: exit %d: %s", code, stderr)
	}
	other := filepath.Join(base, "other")
	if code, _, stderr := simIn("sweep", testSweep(t, "version: 1\nname: t\nbase: BASE\naxes: [{seeds: 2}]\n"), "-o", other, "-q"); code != 0 {
		t.Fatalf("other sweep: exit %d: %s", code, stderr)
	}
	if code, _, stderr := simIn("sweep", "merge", shards[0], other, "-o", filepath.Join(base, "mixed"), "-q"); code != exitUsage || !strings.Contains(stderr, "another version of the sweep file") {
		t.Errorf("merge of two sweeps: exit %d: %s", code, stderr)
	}
}

// A sweep killed (SIGKILL) after a point and then in the middle of
// writing another resumes: the finished point is not run again, the
// interrupted one is redone, and the result is the uninterrupted
// sweep's, byte for byte.
func TestSweepResumeAfterKill(t *testing.T) {
	bin := buildSim(t)
	sw := testSweep(t, "")
	base := t.TempDir()
	sim := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal()), stderr.String()
			}
			return ee.ExitCode(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}
	ref := filepath.Join(base, "ref")
	if code, msg := sim(nil, "sweep", sw, "-o", ref, "-j", "2", "-q"); code != 0 {
		t.Fatalf("reference sweep: exit %d %s", code, msg)
	}
	dir := filepath.Join(base, "out")
	// Killed once the first point is done.
	if code, msg := sim([]string{killpoint.Env + "=sweep-point-done"}, "sweep", sw, "-o", dir, "-j", "1", "-q"); code != -int(syscall.SIGKILL) {
		t.Fatalf("sweep was not killed after a point: exit %d %s", code, msg)
	}
	done := names(t, filepath.Join(dir, "points"))
	if len(done) != 1 || !strings.HasPrefix(done[0], "p0000-") {
		t.Fatalf("after the first kill points/ holds %v, want the first point only", done)
	}
	first := filepath.Join(dir, "points", done[0], report.ResultsFile)
	st0, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	// Without --resume the folder is refused.
	if code, msg := sim(nil, "sweep", sw, "-o", dir, "-q"); code != exitUsage || !strings.Contains(msg, "--resume finishes it") {
		t.Errorf("sweep into an interrupted sweep's folder: exit %d %s", code, msg)
	}
	// Resumed, then killed while the next point writes its report: that
	// point leaves only a temporary folder and the lock.
	if code, msg := sim([]string{killpoint.Env + "=report-wrote-" + report.ResultsFile}, "sweep", sw, "-o", dir, "-j", "1", "--resume", "-q"); code != -int(syscall.SIGKILL) {
		t.Fatalf("resumed sweep was not killed while writing: exit %d %s", code, msg)
	}
	left := names(t, filepath.Join(dir, "points"))
	if len(left) != 3 || left[0] != ".p0001-"+strings.TrimPrefix(left[0], ".p0001-") || !slices.ContainsFunc(left, func(s string) bool { return strings.Contains(s, ".tmp-") }) {
		t.Fatalf("after the second kill points/ holds %v, want p0000 and p0001's lock and temporary folder", left)
	}
	// Resumed to the end.
	code, msg := sim(nil, "sweep", sw, "-o", dir, "-j", "2", "--resume")
	if code != 0 {
		t.Fatalf("resume: exit %d %s", code, msg)
	}
	if !strings.Contains(msg, "1 of 6 points already done") {
		t.Errorf("resume did not say what it skipped: %s", msg)
	}
	st1, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(st0, st1) || !st0.ModTime().Equal(st1.ModTime()) {
		t.Errorf("the finished point was written again")
	}
	if got := names(t, filepath.Join(dir, "points")); len(got) != 6 || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, ".") }) {
		t.Errorf("after the resume points/ holds %v, want the 6 points only", got)
	}
	if d := sameTree(readTree(t, ref), readTree(t, dir)); d != "" {
		t.Errorf("the resumed sweep differs from the uninterrupted one: %s", d)
	}
}

// Bad input is exit 2 with the file, line and field, before anything
// runs; an existing folder is kept unless --resume or --force.
func TestSweepBadInput(t *testing.T) {
	base := t.TempDir()
	bad := testSweep(t, "version: 1\nbase: BASE\naxes:\n  - path: policy.name\n    values: [kube, nope]\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", bad, "-o", filepath.Join(base, "a")}, `sweep.yaml:5: axes[0].values[1]: policy.name=nope: unknown policy "nope"`},
		{[]string{"sweep", filepath.Join(base, "none.yaml")}, "none.yaml: cannot read sweep file"},
		{[]string{"sweep", testSweep(t, ""), "--shard", "4/4"}, "--shard 4/4: want i/n with 0 ≤ i < n"},
		{[]string{"sweep", testSweep(t, ""), "-j", "-1"}, "-j -1: want a number of workers"},
		{[]string{"sweep", testSweep(t, ""), "--resume", "--force"}, "give one"},
		{[]string{"sweep", "merge", base, "-o", filepath.Join(base, "m")}, "is not a sweep's folder"},
		{[]string{"sweep", "merge", base}, "-o OUT is required"},
	} {
		code, _, stderr := simIn(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "a")); err == nil {
		t.Errorf("a bad sweep created its output folder")
	}
	// A folder that is not empty and holds no sweep.
	busy := filepath.Join(base, "busy")
	os.MkdirAll(busy, 0o755)
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o644)
	sw := testSweep(t, "version: 1\nbase: BASE\naxes: [{seeds: 2}]\n")
	if code, _, stderr := simIn("sweep", sw, "-o", busy, "-q"); code != exitUsage || !strings.Contains(stderr, "is not empty") {
		t.Errorf("sweep into a busy folder: exit %d %s", code, stderr)
	}
	// --resume of another sweep's folder is refused; --force runs it again.
	dir := filepath.Join(base, "s")
	if code, _, stderr := simIn("sweep", sw, "-o", dir, "-q"); code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	other := testSweep(t, "version: 1\nbase: BASE\naxes: [{seeds: 3}]\n")
	if code, _, stderr := simIn("sweep", other, "-o", dir, "-q", "--resume"); code != exitUsage || !strings.Contains(stderr, "--resume continues the same sweep only") {
		t.Errorf("resume of another sweep: exit %d %s", code, stderr)
	}
	if code, _, stderr := simIn("sweep", other, "-o", dir, "-q", "--force"); code != 0 {
		t.Errorf("--force: exit %d %s", code, stderr)
	}
	if got := names(t, filepath.Join(dir, "points")); len(got) != 3 {
		t.Errorf("after --force points/ holds %v", got)
	}
	if code, _, stderr := simIn("sweep", other, "-o", dir, "-q", "--resume"); code != 0 {
		t.Errorf("resume of a finished sweep: exit %d %s", code, stderr)
	}
}

// BenchmarkSweep measures points per second with one worker and with
// two on a small scenario (kube-basic.yaml, 16 seeds).
func BenchmarkSweep(b *testing.B) {
	sw := testSweep(b, "version: 1\nbase: BASE\naxes: [{seeds: 16}]\n")
	for _, j := range []string{"1", "2"} {
		b.Run("j"+j, func(b *testing.B) {
			base := b.TempDir()
			points := 0
			for i := 0; b.Loop(); i++ {
				dir := filepath.Join(base, fmt.Sprint(i))
				if code, _, stderr := simIn("sweep", sw, "-o", dir, "-j", j, "-q"); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr)
				}
				points += 16
			}
			b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
