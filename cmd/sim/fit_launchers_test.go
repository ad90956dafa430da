package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/launchers"
)

// TestFitLaunchersBadInput: bad inputs exit 2 with one message, before
// any fit.
func TestFitLaunchersBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(bad, "operator-bootstrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "operator-bootstrap", "results-8-16-nodes.csv"),
		[]byte(",minicluster_size,name,fluxsubmit_time,fluxstart_time,lammps_time,ranks,timesteps_per_second,operator_name\na,8,m,x,1,1,8,1,mpi-operator\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exists := filepath.Join(dir, "exists.yaml")
	if err := os.WriteFile(exists, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fit", "launchers", "extra"}, "takes no arguments"},
		{[]string{"fit", "launchers", "--data", filepath.Join(dir, "none")}, "--data"},
		{[]string{"fit", "launchers", "--data", dir}, "results-8-16-nodes.csv"},
		{[]string{"fit", "launchers", "--data", bad}, `results-8-16-nodes.csv:2: fluxsubmit_time: "x" is not a time`},
		{[]string{"fit", "launchers", "--data", bad, "-o", exists}, "already exists"},
		{[]string{"fit", "bogus"}, "launchers"},
	}
	for _, tc := range cases {
		out, err := runCmd(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sim %v: %v (exit %d), want exit 2 with %q\n%s", tc.args, err, exitCode(err), tc.want, out)
		}
	}
}

// TestFitLaunchersWrites: sim fit launchers prints every part of the
// fit and writes the file the project ships, byte for byte.
func TestFitLaunchersWrites(t *testing.T) {
	needSharedData(t)
	out := filepath.Join(t.TempDir(), "launchers.yaml")
	stdout, err := runCmd(t, "fit", "launchers", "--data", sharedData, "-o", out)
	if err != nil {
		t.Fatalf("fit launchers: %v\n%s", err, stdout)
	}
	for _, want := range []string{"IN-SAMPLE", "starting points", "identified", "HELD OUT", "baseline (fitted size)", "written to " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := scenarios.LoadLauncherModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Launchers) != len(launchers.Kinds) {
		t.Errorf("%d launchers", len(f.Launchers))
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	bundled, err := os.ReadFile("../../scenarios/launchers/launchers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The bundled file was written with -o scenarios/launchers/launchers.yaml.
	got = bytes.ReplaceAll(got, []byte("--data "+sharedData+" -o "+out), []byte("-o scenarios/launchers/launchers.yaml"))
	if !bytes.Equal(got, bundled) {
		t.Error("sim fit launchers no longer gives the bundled scenarios/launchers/launchers.yaml: refit it (sim fit launchers -o scenarios/launchers/launchers.yaml --force) and update docs/validation.md")
	}
}
