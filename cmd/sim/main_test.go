package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/report"
)

// runCmd runs the root command with args into buffers, as a user would.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String() + errOut.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

const scenario = "../../scenarios/kube-basic.yaml"

func TestRunIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, d := range []string{a, b} {
		if out, err := runCmd(t, "run", scenario, "-o", d, "-q"); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
	}
	if out, err := runCmd(t, "run", scenario, "-o", c, "-q", "--seed", "2"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	differs := false
	for _, f := range report.Files() {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
		z, _ := os.ReadFile(filepath.Join(c, f))
		if f == report.PodsFile && !bytes.Equal(x, z) {
			differs = true
		}
	}
	if !differs {
		t.Error("seed 2 gave the same pods.csv as seed 1")
	}
}

func TestRunPrintsSummaryAndRefusesToOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	out, err := runCmd(t, "run", scenario, "-o", dir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "pod startup delay") || !strings.Contains(out, "makespan") {
		t.Errorf("summary not printed:\n%s", out)
	}
	before, _ := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	_, err = runCmd(t, "run", scenario, "-o", dir, "--seed", "9")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second run into the same folder: err %v (code %d), want a usage error mentioning --force", err, exitCode(err))
	}
	after, _ := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	if !bytes.Equal(before, after) {
		t.Error("the refused run changed results.json")
	}
	if _, err := runCmd(t, "run", scenario, "-o", dir, "--seed", "9", "--force", "-q"); err != nil {
		t.Fatalf("--force: %v", err)
	}
	after, _ = os.ReadFile(filepath.Join(dir, report.ResultsFile))
	if bytes.Equal(before, after) {
		t.Error("--force with another seed did not replace results.json")
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\ncluster: {pools: [{name: w, count: 1, cpu: -1, memory: 1Gi}]}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run"}, exitUsage, "run needs exactly 1 argument"},
		{[]string{"run", filepath.Join(dir, "missing.yaml")}, exitUsage, "cannot read scenario"},
		{[]string{"run", bad, "-o", filepath.Join(dir, "o")}, exitUsage, "bad.yaml:2: cluster.pools[0].cpu: must not be negative"},
		{[]string{"check", bad}, exitUsage, "cluster.pools[0].cpu"},
		{[]string{"run", scenario, "--set", "policy.name=slurm", "-o", filepath.Join(dir, "o")}, exitUsage, `unknown policy "slurm"`},
		{[]string{"run", scenario, "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"check", scenario}, 0, ""},
		{[]string{"version"}, 0, ""},
	} {
		out, err := runCmd(t, tc.args...)
		if got := exitCode(err); got != tc.code {
			t.Errorf("sim %v: exit %d, want %d (%v)\n%s", tc.args, got, tc.code, err, out)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("sim %v: error %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !os.IsNotExist(err) {
		t.Error("a failed run left an output folder behind")
	}
}

func TestCheckAndVersion(t *testing.T) {
	out, err := runCmd(t, "check", scenario, "--set", "cluster.pools[0].count=32")
	if err != nil || !strings.Contains(out, "ok") || !strings.Contains(out, "33 nodes") {
		t.Errorf("check: %v\n%s", err, out)
	}
	out, _ = runCmd(t, "version")
	if !strings.HasPrefix(out, "sim ") {
		t.Errorf("version printed %q", out)
	}
	out, _ = runCmd(t, "run", "--help")
	if !strings.Contains(out, "Examples:") && !strings.Contains(out, "Example") {
		t.Errorf("run --help has no examples:\n%s", out)
	}
}
