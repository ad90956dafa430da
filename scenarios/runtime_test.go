package scenarios

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
)

// appMinimal is a valid app scenario; paths resolve from this package's
// folder (scenarios/), where the bundled profiles and app files live.
const appMinimal = `version: 1
name: app
cluster:
  pools:
    - name: vm
      count: 2
      cpu: 8
      memory: 30Gi
network:
  profile: profiles/vm-tcp.yaml
runtimes:
  - name: bare
  - name: unet
    profile: profiles/vm-tcp-usernetes.yaml
    background: {load: 0.02, burst: 0.0003}
policy:
  name: kube
workloads:
  - name: lmp
    kind: IndexedJob
    parallelism: 2
    app: {model: lammps, file: apps/lammps.yaml, fit: vm8-tcp, ranksPerPod: 8, replicas: [4, 4, 4], steps: 100}
    runtimes: [bare, unet]
    arrival: {pattern: interval, interval: 1000}
    pod:
      containers:
        - {name: c, image: lammps:1, cpu: 8, memory: 1Gi}
`

func appEdit(t testing.TB, old, new string) string {
	t.Helper()
	if !strings.Contains(appMinimal, old) {
		t.Fatalf("edit: %q not in the app scenario", old)
	}
	return strings.Replace(appMinimal, old, new, 1)
}

// TestAppScenarioRuns: an app workload runs once per runtime, each job
// one program on 16 ranks over 2 nodes, for the model's time.
func TestAppScenarioRuns(t *testing.T) {
	sc, err := Parse("app.yaml", []byte(appMinimal), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
	if len(res.Jobs) != 2 || res.Jobs[0].Name != "lmp-bare" || res.Jobs[1].Name != "lmp-unet" {
		t.Fatalf("jobs %v, want lmp-bare and lmp-unet", names(res.Jobs))
	}
	for _, j := range res.Jobs {
		if !engine.IsSet(j.Finished) || len(j.Phases) == 0 {
			t.Fatalf("job %s: finished %v, phases %v", j.Name, j.Finished, j.Phases)
		}
		pl := j.Placement()
		if len(pl) != 0 { // finished pods are not placed any more
			t.Errorf("job %s still placed: %v", j.Name, pl)
		}
		for _, p := range j.Pods {
			if p.Finished != j.Finished || math.Abs(p.RunTime-(j.Finished-j.Started)) > 1e-9 {
				t.Errorf("pod %s: finished %v run %v; the job started %v, finished %v", p.Name, p.Finished, p.RunTime, j.Started, j.Finished)
			}
		}
	}
	// The second runtime's job arrives one interval later.
	if res.Jobs[1].Submitted != 1000 {
		t.Errorf("lmp-unet submitted at %v, want 1000", res.Jobs[1].Submitted)
	}
	s := report.Summarize(res)
	if len(s.Runtimes) != 2 || s.Runtimes[0].Ratio != 1 || !(s.Runtimes[1].Ratio > 1) {
		t.Errorf("runtimes %+v: want bare 1 and unet slower (slirp4netns on the path)", s.Runtimes)
	}
}

// TestAppScenarioErrors: each mistake in an app scenario is one message
// naming the file, line and field.
func TestAppScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	badProfile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badProfile, []byte("kind: NetworkProfile\nversion: 1\nname: x\nbands:\n  - {maxBytes: 0, latency: 1e-5, bandwidth: -3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, doc, want string }{
		{"unknown model", appEdit(t, "model: lammps", "model: gromacs"), "app.yaml:22: workloads[0].app.model: unknown app model \"gromacs\" (valid: amg, fixed, lammps, mpi-pattern, qmcpack, training)"},
		{"unknown runtime", appEdit(t, "runtimes: [bare, unet]", "runtimes: [bare, podman]"), "app.yaml:23: workloads[0].runtimes[1]: unknown runtime \"podman\" (valid: bare, unet)"},
		{"runtime twice", appEdit(t, "runtimes: [bare, unet]", "runtimes: [bare, bare]"), "workloads[0].runtimes[1]: runtime \"bare\" listed twice"},
		{"missing app file", appEdit(t, "file: apps/lammps.yaml", "file: apps/nope.yaml"), "workloads[0].app.file: cannot read app model"},
		{"wrong app in file", appEdit(t, "file: apps/lammps.yaml", "file: apps/amg.yaml"), "workloads[0].app.file: apps/amg.yaml holds the amg model, not lammps"},
		{"unknown fit", appEdit(t, "fit: vm8-tcp", "fit: laptop"), "workloads[0].app.fit: apps: invalid: app lammps has no fit \"laptop\"; fits: "},
		{"no replicas", appEdit(t, "replicas: [4, 4, 4], ", ""), "workloads[0].app.replicas: required for lammps: the -v x, y, z replicas"},
		{"zero steps", appEdit(t, "steps: 100", "steps: 0"), "workloads[0].app.steps: required for lammps: the time steps run"},
		{"another model's key", appEdit(t, "steps: 100", "steps: 100, walkers: 8"), "workloads[0].app.walkers: unknown field for the lammps model; valid fields: cfsPeriod, cpuQuota, file, fit, model, ranksPerPod, replicas, steps"},
		{"shape value of the wrong type", appEdit(t, "steps: 100", "steps: [100]"), "workloads[0].app.steps: must be an integer, got a list"},
		{"negative quota", appEdit(t, "ranksPerPod: 8,", "ranksPerPod: 8, cpuQuota: -1,"), "workloads[0].app.cpuQuota: must not be negative, got -1"},
		{"CFS period too long", appEdit(t, "ranksPerPod: 8,", "ranksPerPod: 8, cfsPeriod: 2,"), "workloads[0].app.cfsPeriod: must be between 0 (the kernel's 100 ms) and 1 s"},
		{"CFS period too short", appEdit(t, "ranksPerPod: 8,", "ranksPerPod: 8, cfsPeriod: 0.0001,"), "workloads[0].app.cfsPeriod: must be at least 0.001 s"},
		{"runTime with app", appEdit(t, "    arrival:", "    runTime: 5\n    arrival:"), "workloads[0].runTime: an app workload's run time comes from its model; remove runTime"},
		{"completions", appEdit(t, "parallelism: 2", "parallelism: 2\n    completions: 4"), "workloads[0].completions: an app job starts all its pods together: completions (4) must equal parallelism (2)"},
		{"missing profile file", appEdit(t, "profile: profiles/vm-tcp.yaml", "profile: profiles/none.yaml"), "app.yaml:10: network.profile: cannot read profile"},
		{"bad profile", appEdit(t, "profile: profiles/vm-tcp.yaml", "profile: "+badProfile), "bands[0].bandwidth: -3 B/s must be positive"},
		{"topology", appEdit(t, "  profile: profiles/vm-tcp.yaml\n", "  profile: profiles/vm-tcp.yaml\n  topology: {kind: torus}\n"), "network.topology.kind: unknown topology \"torus\" (valid: one-switch, two-level)"},
		{"two-level", appEdit(t, "  profile: profiles/vm-tcp.yaml\n", "  profile: profiles/vm-tcp.yaml\n  topology: {kind: two-level, nodesPerLeaf: 0, oversubscription: 2}\n"), "network.topology:"},
		{"duplicate runtime", appEdit(t, "  - name: unet\n", "  - name: bare\n"), "runtimes[1].name: duplicate runtime \"bare\""},
		{"negative background", appEdit(t, "load: 0.02", "load: -1"), "runtimes[1].background: load and burst must not be negative"},
		{"background twice", appEdit(t, "    background: {load: 0.02, burst: 0.0003}\n", "    background: {load: 0.02}\n    backgroundFrom: {file: apps/lammps.yaml, fit: hpc7g-efa, environment: usernetes}\n"), "runtimes[1].backgroundFrom: give background or backgroundFrom, not both"},
		{"background env", appEdit(t, "    background: {load: 0.02, burst: 0.0003}\n", "    backgroundFrom: {file: apps/lammps.yaml, fit: hpc7g-efa, environment: docker}\n"), "runtimes[1].backgroundFrom.environment: fit hpc7g-efa of apps/lammps.yaml has no environment \"docker\" (valid: "},
		{"runtimes without app", strings.Replace(appEdit(t, "    app: {model: lammps, file: apps/lammps.yaml, fit: vm8-tcp, ranksPerPod: 8, replicas: [4, 4, 4], steps: 100}\n", "    runTime: 5\n"), "", "", 1), "workloads[0].runtimes: runtimes apply to workloads with an app model"},
		{"no network", appEdit(t, "network:\n  profile: profiles/vm-tcp.yaml\nruntimes:\n  - name: bare\n  - name: unet\n    profile: profiles/vm-tcp-usernetes.yaml\n    background: {load: 0.02, burst: 0.0003}\n", ""), "workloads[0].runtimes[0]: unknown runtime \"bare\" (valid: (none: add a runtimes section))"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("app.yaml", []byte(c.doc), Overrides{IgnoreEnv: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n  got: %v\n want: %s", err, c.want)
			}
		})
	}
}

// TestUsernetesCollectives runs the bundled study and checks what its
// mechanisms must give: a container shares bare metal's path, so the
// same time; on one node nothing crosses the network, so Usernetes
// costs only its daemons; on six nodes slirp4netns and the overlay slow
// the collectives, and idle Usernetes beside bare metal costs less than
// running in it.
func TestUsernetesCollectives(t *testing.T) {
	sc, err := Load("usernetes-collectives.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	run := func() *engine.Result {
		e, err := Build(sc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Run()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run()
	s := report.Summarize(res)
	ratio := map[string]float64{}
	for _, r := range s.Runtimes {
		if r.Jobs != 1 {
			t.Fatalf("%s/%s: %d jobs finished, want 1", r.Workload, r.Runtime, r.Jobs)
		}
		ratio[r.Workload+"/"+r.Runtime] = r.Ratio
		t.Logf("%-16s %-26s %9.3f s  ×%.3f", r.Workload, r.Runtime, r.RunTime.Mean, r.Ratio)
	}
	// The model's run time of each job (the pods carry it exactly).
	model := map[string]float64{}
	for _, j := range res.Jobs {
		model[j.Workload+"/"+j.Runtime] = j.Pods[0].RunTime
	}
	for _, w := range []string{"lammps-1node", "lammps-6nodes", "training-1node", "training-6nodes", "allreduce-64k-6nodes", "allreduce-1m-6nodes", "barrier-6nodes"} {
		if model[w+"/container"] != model[w+"/bare-metal"] {
			t.Errorf("%s: container %v s, bare metal %v s: want exactly the same (same path)", w, model[w+"/container"], model[w+"/bare-metal"])
		}
		u, idle := ratio[w+"/usernetes"], ratio[w+"/bare-metal-with-usernetes"]
		// On one node the two differ only by rounding (no network).
		if !(u >= idle*(1-1e-12) && idle >= 1) {
			t.Errorf("%s: usernetes ×%v, idle beside ×%v: want usernetes ≥ idle ≥ 1", w, u, idle)
		}
	}
	for _, w := range []string{"lammps-1node", "training-1node"} {
		if u := ratio[w+"/usernetes"]; u > 1.05 {
			t.Errorf("%s: usernetes ×%v on one node, want within the daemons' few percent", w, u)
		}
	}
	for _, w := range []string{"lammps-6nodes", "training-6nodes", "allreduce-64k-6nodes", "allreduce-1m-6nodes", "barrier-6nodes"} {
		if u := ratio[w+"/usernetes"]; u < 1.2 {
			t.Errorf("%s: usernetes ×%v on six nodes, want the network path to show", w, u)
		}
	}
	// Same seed, same outputs.
	var a, b bytes.Buffer
	if err := report.WriteSummaryText(&a, res, report.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteSummaryText(&b, run(), report.Meta{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two runs of the same scenario and seed differ")
	}
}

func names(js []*engine.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.Name)
	}
	return out
}
