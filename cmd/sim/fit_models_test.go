package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/scenarios/calibrate"
	"github.com/convergesim/converge/workloads/apps"
)

const sharedData = "../../../shared/data"

func needSharedData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("calibration data not available (%v); it lives in ../shared/data beside the repository", err)
	}
}

// TestFitModelsBadInput: every bad input of sim fit app, startup and
// stages exits 2 with one message naming what is wrong, before any fit.
func TestFitModelsBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	existing := write("existing.yaml", "kind: AppModel\n")
	badApp := write("bad-app.yaml", "kind: AppModel\nversion: 1\napp: qmcpack\nfits:\n  - name: x\n    bogus: 1\n")
	badCSV := write("pod-times.csv", "not,a,pod,times,file\n1,2\n")
	onePull := write("pulls.csv", ",event,duration,container,cloud,environment,exp_size,exp_type,experiment\n"+
		"1,pulled,14.5,img:a,google,gke,size32,cpu,google/gke/cpu/size32\n")
	const podScenario = "../../scenarios/pod-startup.yaml"
	const pullScenario = "../../scenarios/image-pull.yaml"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "app"}, "fit app needs one fit"},
		{[]string{"fit", "app", "a/b", "c/d"}, "fit app needs one fit"},
		{[]string{"fit", "app", "nope/x"}, `unknown fit "nope/x" (valid: lammps/hpc7g-efa,`},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", filepath.Join(dir, "missing")}, "--data:"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", existing}, "is not a folder"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", empty, "--profiles", empty}, "--apps:"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", empty, "--profiles", empty, "--apps", empty}, "qmcpack_scaling.tgz"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", empty, "--profiles", empty, "--apps", empty, "-o", existing}, "already exists (use --force to overwrite)"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", empty, "--profiles", empty, "--apps", empty, "-o", badApp, "--force"}, "bad-app.yaml:6: fits[0].bogus: unknown field"},
		{[]string{"fit", "app", "qmcpack/hpc6a-efa", "--data", empty, "--profiles", empty, "--apps", empty, "-o", dir, "--force"}, "is not a regular file"},
		{[]string{"fit", "startup"}, "fit startup needs one scenario"},
		{[]string{"fit", "startup", podScenario}, "exactly one of --pod-times FILE and --pull-times FILE"},
		{[]string{"fit", "startup", podScenario, "--pod-times", badCSV, "--pull-times", onePull}, "exactly one of"},
		{[]string{"fit", "startup", filepath.Join(dir, "none.yaml"), "--pod-times", badCSV}, "cannot read scenario"},
		{[]string{"fit", "startup", badApp, "--pod-times", badCSV}, "bad-app.yaml"},
		{[]string{"fit", "startup", podScenario, "--pod-times", filepath.Join(dir, "none.csv")}, "none.csv"},
		{[]string{"fit", "startup", podScenario, "--pod-times", badCSV}, "pod-times.csv"},
		{[]string{"fit", "startup", podScenario, "--pod-times", "/dev/zero"}, "larger than the"},
		{[]string{"fit", "startup", pullScenario, "--pull-times", onePull, "--cloud", "google", "--container", "img:a"}, "1 cluster sizes, need at least 2"},
		{[]string{"fit", "startup", podScenario, "--pod-times", badCSV, "-o", existing}, "already exists"},
		{[]string{"fit", "stages", "../../scenarios/network/measured"}, "fit stages needs -o PROFILES_DIR"},
		{[]string{"fit", "stages", filepath.Join(dir, "missing"), "-o", empty}, "--measured:"},
		{[]string{"fit", "stages", "../../scenarios/network/measured", "-o", filepath.Join(dir, "nodir")}, "--output:"},
		{[]string{"fit", "stages", "../../scenarios/network/measured", "-o", empty, "--lammps", filepath.Join(dir, "none.yaml")}, "--lammps:"},
		{[]string{"fit", "stages", empty, "-o", empty, "--lammps", "../../scenarios/apps/lammps.yaml"}, "ping-veth-1500.txt"},
	} {
		out, err := runCmd(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sim %v: %v (exit %d), want exit 2 with %q\n%s", tc.args, err, exitCode(err), tc.want, out)
		}
	}
	if data, _ := os.ReadFile(existing); string(data) != "kind: AppModel\n" {
		t.Errorf("a refused output was changed: %q", data)
	}
}

// TestFitAppWrites: sim fit app writes the fit with its provenance into
// the file, keeps the file's other fits, and refuses to replace it
// without --force.
func TestFitAppWrites(t *testing.T) {
	needSharedData(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "qmcpack.yaml")
	// A file holding another fit, which must survive.
	base, err := scenarios.LoadAppModel("../../scenarios/apps/qmcpack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base.Fits[0].Name = "kept"
	data, err := calibrate.RenderAppFile(out, base)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"fit", "app", "qmcpack/hpc6a-efa", "--data", sharedData, "--profiles", "../../scenarios/profiles", "--apps", "../../scenarios/apps", "--ci", "-o", out}
	if _, err := runCmd(t, args...); exitCode(err) != exitUsage {
		t.Fatalf("existing file without --force: %v", err)
	}
	stdout, err := runCmd(t, append(args, "--force")...)
	if err != nil {
		t.Fatalf("fit app: %v\n%s", err, stdout)
	}
	for _, want := range []string{"IN-SAMPLE", "starting points", "identified", "held out, leave one node count out", "constant", "written to " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := scenarios.LoadAppModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Fits) != 2 || f.Fits[0].Name != "kept" || f.Fits[1].Name != "hpc6a-efa" {
		t.Fatalf("fits %d", len(f.Fits))
	}
	prov := f.Fits[1].Provenance
	if prov.InSampleMAPE == nil || prov.HeldOut == nil || len(prov.HeldOut.Baselines) != 2 || len(prov.Parameters) != 4 ||
		!strings.HasPrefix(prov.Command, "sim fit app qmcpack/hpc6a-efa --data "+sharedData+" --ci -o ") {
		t.Errorf("provenance %+v", prov)
	}
	if _, ok := f.Fits[1].Parameters.(*apps.QMCPACKParams); !ok {
		t.Errorf("parameters %T", f.Fits[1].Parameters)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the output folder, want 1 (no temporary left)", len(entries))
	}
}

// TestFitStagesWrites: sim fit stages writes the three vm-tcp profiles
// the project ships (the same inputs give the same bytes).
func TestFitStagesWrites(t *testing.T) {
	dir := t.TempDir()
	stdout, err := runCmd(t, "fit", "stages", "../../scenarios/network/measured", "-o", dir, "--lammps", "../../scenarios/apps/lammps.yaml")
	if err != nil {
		t.Fatalf("fit stages: %v\n%s", err, stdout)
	}
	for _, name := range []string{"vm-tcp.yaml", "vm-tcp-usernetes.yaml", "vm-tcp-usernetes-bypass4netns.yaml"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../scenarios/profiles", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from scenarios/profiles/%s", name, name)
		}
	}
	if _, err := runCmd(t, "fit", "stages", "../../scenarios/network/measured", "-o", dir, "--lammps", "../../scenarios/apps/lammps.yaml"); exitCode(err) != exitUsage {
		t.Errorf("existing profiles without --force: %v", err)
	}
}

// TestFitStartupWrites: sim fit startup writes the scenario with the
// fitted pull parameters and their provenance; it still loads.
func TestFitStartupWrites(t *testing.T) {
	needSharedData(t)
	out := filepath.Join(t.TempDir(), "image-pull.yaml")
	stdout, err := runCmd(t, "fit", "startup", "../../scenarios/image-pull.yaml", "--pull-times", sharedData+"/pod-startup/lammps-pull-times.csv",
		"--ci", "--no-holdout", "-o", out)
	if err != nil {
		t.Fatalf("fit startup: %v\n%s", err, stdout)
	}
	sc, err := scenarios.Load(out, scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := sc.Startup.Provenance; !strings.Contains(p, "sim fit startup ../../scenarios/image-pull.yaml --pull-times") || !strings.Contains(p, "In-sample") {
		t.Errorf("provenance %q", p)
	}
	if sc.Startup.NodeBandwidth == nil || *sc.Startup.NodeBandwidth <= 0 {
		t.Error("no node bandwidth")
	}
}
