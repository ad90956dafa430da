package scenarios

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/workloads/apps"
)

// qmcpackScenario is the canopie22 QMCPACK run on 4 hpc6a nodes (94
// ranks a node, 1504 walkers, two VMC sections and a DMC of 10 blocks
// of 5 steps), as the README's reference shows it.
const qmcpackScenario = `version: 1
name: qmc
cluster:
  pools:
    - {name: hpc6a, count: 4, cpu: 96, memory: 370Gi}
network:
  profile: profiles/aws-hpc7g-efa-bare-metal.yaml
policy:
  name: kube
workloads:
  - name: nio
    kind: IndexedJob
    parallelism: 4
    app:
      model: qmcpack
      file: apps/qmcpack.yaml
      fit: hpc6a-efa
      ranksPerPod: 94
      walkers: 1504
      sections:
        - {name: vmc1, blocks: 1, steps: 5}
        - {name: vmc2, blocks: 1, steps: 5}
        - {name: dmc, blocks: 10, steps: 5, dmc: true}
    pod:
      containers:
        - {name: qmcpack, image: "ghcr.io/converged-computing/metric-qmcpack:latest", cpu: 94, memory: 300Gi}
`

// TestQMCPACKScenario: QMCPACK can be named in a scenario, and the job
// runs for what the QMCPACK model gives on the placement it got (4 nodes
// of 94 ranks, the walkers and sections of the scenario, the EFA
// profile), with a phase per section.
func TestQMCPACKScenario(t *testing.T) {
	sc, err := Parse("qmc.yaml", []byte(qmcpackScenario), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, sc)
	j := res.Jobs[0]
	if !engine.IsSet(j.Finished) {
		t.Fatalf("job %s did not finish (%s)", j.Name, res.Stopped)
	}
	fit := sc.res.apps[0]
	p, ok := fit.Parameters.(*apps.QMCPACKParams)
	if !ok {
		t.Fatalf("fit %s holds %T", fit.Name, fit.Parameters)
	}
	prof, _, err := network.ReadProfile("efa", mustOpen(t, "profiles/aws-hpc7g-efa-bare-metal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := &apps.QMCPACK{Params: p, Walkers: 1504, Sections: []apps.QMCSection{
		{Name: "vmc1", Blocks: 1, Steps: 5}, {Name: "vmc2", Blocks: 1, Steps: 5}, {Name: "dmc", Blocks: 10, Steps: 5, DMC: true}}}
	want, err := m.RunTime(&apps.Env{
		Fabric:      &network.Fabric{Inter: prof, Intra: network.DefaultIntra(), Topology: network.OneSwitch()},
		Placement:   network.Placement{RanksPerNode: []int{94, 94, 94, 94}},
		Node:        apps.Node{Cores: 96, MemoryBandwidth: fit.Node.MemoryBandwidth},
		PodsPerNode: []int{1, 1, 1, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Finished - j.Started; math.Abs(got-want.Seconds) > 1e-9 || !(got > 0) {
		t.Errorf("run time %.6f s, want the model's %.6f s", got, want.Seconds)
	}
	var phases []string
	for _, ph := range j.Phases {
		phases = append(phases, ph.Name)
	}
	if s := strings.Join(phases, ","); !strings.Contains(s, "vmc1,vmc2,dmc") {
		t.Errorf("phases %s, want the sections vmc1, vmc2, dmc in order", s)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestQMCPACKScenarioErrors: the qmcpack block's mistakes name the field.
func TestQMCPACKScenarioErrors(t *testing.T) {
	ed := func(old, new string) string {
		if !strings.Contains(qmcpackScenario, old) {
			t.Fatalf("%q not in the scenario", old)
		}
		return strings.Replace(qmcpackScenario, old, new, 1)
	}
	for _, tc := range []struct{ doc, want string }{
		{ed("      walkers: 1504\n", ""), "qmc.yaml:15: workloads[0].app.walkers: required for qmcpack: the walkers over all ranks, a positive integer"},
		{ed("{name: vmc2, blocks: 1, steps: 5}", "{name: vmc2, blocks: 0, steps: 5}"), "qmc.yaml:22: workloads[0].app.sections[1].blocks: must be between 1 and 1000000000, got 0"},
		{ed("{name: vmc2,", "{name: vmc1,"), `qmc.yaml:22: workloads[0].app.sections[1].name: duplicate section "vmc1"`},
		{ed("{name: dmc, blocks: 10, steps: 5, dmc: true}", "{name: dmc, blocks: 10, steps: 5, dmc: \"true\"}"), `qmc.yaml:23: workloads[0].app.sections[2].dmc: must be true or false, got the quoted string "true" (a quoted value is a string; write numbers and booleans without quotes)`},
		{ed("steps: 5, dmc: true}", "steps: 1000000000, dmc: true}"), "qmc.yaml:15: workloads[0].app: the qmcpack model prices a job of 4 pods on 4 nodes of pool hpc6a at"},
		{ed("model: qmcpack", "model: lammps"), "qmc.yaml:19: workloads[0].app.walkers: unknown field for the lammps model; valid fields: cfsPeriod, cpuQuota, file, fit, model, ranksPerPod, replicas, steps"},
	} {
		_, err := Parse("qmc.yaml", []byte(tc.doc), Overrides{IgnoreEnv: true})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("\n got: %v\nwant: %s", err, tc.want)
		}
	}
}
