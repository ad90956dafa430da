package scenarios

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
)

// nested: 7 machines of 8 cores; Usernetes on all of them (a control
// plane and 6 workers, 4 cores each), brought up by a Flux job; Flux
// keeps running bare-metal jobs on the other 4 cores of each machine.
const nested = `version: 1
name: un
seed: 1
cluster:
  pools:
    - {name: vm, count: 7, cpu: 8, memory: 30Gi}
policy:
  name: flux
usernetes: {name: usernetes, workers: 6, share: split, cores: 4, at: 10, bringUp: 120, tearDown: 30}
workloads:
  - name: bare
    kind: FluxJob
    count: 3
    arrival: {pattern: interval, interval: 50}
    flux: {nodes: 6, tasks: 24, walltime: 600}
    runTime: 100
  - name: pods
    kind: IndexedJob
    cluster: usernetes
    count: 2
    parallelism: 6
    runTime: 60
    pod:
      containers: [{name: c, image: busybox, cpu: 4, memory: 1Gi}]
`

func runNested(t *testing.T, doc string) (*Scenario, *engine.Result) {
	t.Helper()
	sc := mustParse(t, "un.yaml", doc)
	return sc, runToEnd(t, sc)
}

// loadToEnd loads and runs a bundled scenario to its end.
func loadToEnd(t *testing.T, file string) (*Scenario, *engine.Result) {
	t.Helper()
	sc := mustLoad(t, file)
	return sc, runToEnd(t, sc)
}

func TestUsernetesNestedInFlux(t *testing.T) {
	_, res := runNested(t, nested)
	var up *engine.Job
	for _, j := range res.Jobs {
		if j.Name == "usernetes-usernetes" {
			up = j
		}
	}
	if up == nil {
		t.Fatal("no bring-up job")
	}
	ready := up.Flux.Alloc + 120
	var lastK8s float64
	for _, j := range res.Jobs {
		if j.Flux != nil {
			for _, p := range j.Pods {
				if p.Node.Nested {
					t.Errorf("Flux job %s's shell on Kubernetes node %s", j.Name, p.Node.Name)
				}
			}
			continue
		}
		lastK8s = max(lastK8s, j.Finished)
		for _, p := range j.Pods {
			// Kubernetes places its pods on its own nodes, once they
			// are up, and each runs on a machine of the bring-up job.
			if !p.Node.Nested || p.Node.Host == nil || p.Node.Host.Nested {
				t.Fatalf("pod %s on %s (host %v)", p.Name, p.Node.Name, p.Node.Host)
			}
			if p.Assigned < ready {
				t.Errorf("pod %s assigned at %v, before the cluster was up at %v", p.Name, p.Assigned, ready)
			}
			onHost := false
			for _, s := range up.Pods {
				onHost = onHost || s.Node == p.Node.Host
			}
			if !onHost {
				t.Errorf("pod %s's node runs on %s, not a machine of the bring-up job", p.Name, p.Node.Host.Name)
			}
			if strings.Contains(p.Node.Name, "control-plane") {
				t.Errorf("pod %s on the control plane", p.Name)
			}
		}
	}
	// Torn down after the last Kubernetes job, then the machines go
	// back to Flux: the bring-up job ends TearDown later, cancelled.
	if want := lastK8s + 30; up.Finished != want || !up.Flux.Killed() {
		t.Errorf("bring-up job finished at %v (cancelled %v), want %v", up.Finished, up.Flux.Killed(), want)
	}
	// The bare-metal jobs ran beside the cluster on Flux's 4 other
	// cores of each machine: the first started at once.
	for _, j := range res.Jobs {
		if j.Name == "bare-0" && j.Flux.Alloc != 0 {
			t.Errorf("bare-0 allocated at %v, want 0 (4 cores free on every machine)", j.Flux.Alloc)
		}
	}
	// Side by side: a bare-metal job's shell and a Kubernetes pod ran
	// on one machine at the same time.
	beside := false
	for _, p := range res.Pods {
		if p.Job.Flux == nil || p.Job == up {
			continue
		}
		for _, q := range res.Pods {
			if q.Job.Flux == nil && q.Node.Host == p.Node && q.ContainersStarted < p.Finished && p.ContainersStarted < q.Finished {
				beside = true
			}
		}
	}
	if !beside {
		t.Error("no bare-metal job ran beside a Kubernetes pod on the same machine")
	}
}

// With every core shared, a Kubernetes job and a Flux job on the same
// machines contend for their CPU: both run slower than alone.
func TestUsernetesShareAllContends(t *testing.T) {
	doc := `version: 1
name: un
seed: 1
cluster:
  pools:
    - {name: vm, count: 7, cpu: 8, memory: 30Gi, memoryBandwidth: 20}
network:
  profile: profiles/vm-tcp.yaml
policy:
  name: flux
usernetes: {name: usernetes, workers: 6, share: all, bringUp: 60, tearDown: 30}
workloads:
  - name: bare
    kind: FluxJob
    arrival: {at: ARRIVAL}
    flux: {nodes: 6, tasks: 48}
    app: {model: lammps, file: apps/lammps.yaml, fit: vm8-tcp, ranksPerPod: 8, replicas: [16, 8, 8], steps: 100}
  - name: k8s
    kind: IndexedJob
    cluster: usernetes
    parallelism: 6
    arrival: {at: 100}
    app: {model: lammps, file: apps/lammps.yaml, fit: vm8-tcp, ranksPerPod: 8, replicas: [16, 8, 8], steps: 100}
    pod:
      containers: [{name: c, image: lammps, cpu: 8, memory: 1Gi}]
`
	run := func(arrival string) (bare, k8s float64) {
		t.Helper()
		res := mustRun(t, mustParse(t, "un.yaml", strings.Replace(doc, "ARRIVAL", arrival, 1)))
		for _, j := range res.Jobs {
			switch j.Workload {
			case "bare":
				bare = j.Finished - j.Started
			case "k8s":
				k8s = j.Finished - j.Started
			}
		}
		return bare, k8s
	}
	// Alone: the Flux job long before the Kubernetes one; together: the
	// Flux job arrives as the Kubernetes one starts.
	bareAlone, k8sAlone := run("0")
	bareWith, k8sWith := run("101")
	t.Logf("Flux job %.1f s alone, %.1f s sharing; Kubernetes job %.1f s alone, %.1f s sharing", bareAlone, bareWith, k8sAlone, k8sWith)
	if !(bareWith > bareAlone*1.2) || !(k8sWith > k8sAlone*1.2) {
		t.Errorf("sharing all cores: Flux job %v s (alone %v), Kubernetes job %v s (alone %v); want both slower", bareWith, bareAlone, k8sWith, k8sAlone)
	}
}

func TestUsernetesMalformed(t *testing.T) {
	cases := []struct{ old, new, want string }{
		{"workers: 6", "workers: 7", "usernetes.workers: must be between 1 and 6"},
		{"share: split", "share: half", `usernetes.share: unknown sharing "half"`},
		{"cores: 4", "cores: 8", "usernetes.cores: split gives Kubernetes some"},
		{"    cluster: usernetes\n", "", "workloads[1].cluster: required: under policy flux an IndexedJob runs in Usernetes"},
		{"cluster: usernetes", "cluster: k3s", `workloads[1].cluster: "k3s" is not a nested cluster`},
		{"tearDown: 30}", "tearDown: 30, scheduler: slurm}", `usernetes.scheduler: unknown Kubernetes scheduler "slurm"`},
		{"  name: flux\n", "  name: kube\n", "usernetes: Flux brings Usernetes up: needs policy flux"},
	}
	for _, c := range cases {
		if !strings.Contains(nested, c.old) {
			t.Fatalf("%q not in the scenario", c.old)
		}
		_, err := Parse("un.yaml", []byte(strings.Replace(nested, c.old, c.new, 1)), Overrides{IgnoreEnv: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: error %v, want %q", c.old, c.new, err, c.want)
		}
	}
}

// The talk in one command: every experiment in every runtime, one
// report. Usernetes costs a multi-node MPI code and the bandwidth
// between nodes, not a one-node run; Usernetes idle beside Flux costs
// little; the workflow finishes.
func TestBareMetalBros(t *testing.T) {
	sc, res := loadToEnd(t, "bare-metal-bros.yaml")
	sum := report.Summarize(res)
	ratio := map[string]map[string]float64{}
	for _, r := range sum.Runtimes {
		if ratio[r.Workload] == nil {
			ratio[r.Workload] = map[string]float64{}
		}
		ratio[r.Workload][r.Runtime] = r.Ratio
	}
	for _, exp := range []string{"lammps", "training-6nodes", "training-1node", "bandwidth"} {
		for _, rt := range []string{"bare-metal", "container", "usernetes", "bare-metal-with-usernetes"} {
			if _, ok := ratio[exp][rt]; !ok {
				t.Errorf("%s has no %s run in the report", exp, rt)
			}
		}
	}
	for _, exp := range []string{"lammps", "training-6nodes", "bandwidth"} {
		if r := ratio[exp]["usernetes"]; !(r > 1.5) {
			t.Errorf("%s in Usernetes: %v × bare metal, want well above 1 (its network path)", exp, r)
		}
	}
	if r := ratio["training-1node"]["usernetes"]; !(r < 1.05) {
		t.Errorf("one-node training in Usernetes: %v × bare metal, want about 1 (no network)", r)
	}
	if r := ratio["lammps"]["bare-metal-with-usernetes"]; !(r >= 1 && r < 1.1) {
		t.Errorf("LAMMPS with Usernetes idle beside: %v × bare metal, want a little above 1", r)
	}
	wfs := sc.WorkflowReport()
	if len(wfs) != 1 || !wfs[0].Done || wfs[0].Stages[0].Runs != 1000 || wfs[0].Stages[1].Runs != 250 {
		t.Errorf("workflow %+v", wfs)
	}
}

// The size estimate counts what Flux, Usernetes and the workflows
// really make (the bring-up job and the Kubernetes nodes, the workflow's
// runs, a Flux job's one pod a node).
func TestEstimateFluxScenarios(t *testing.T) {
	for _, file := range []string{"bare-metal-bros.yaml", "lammps-stream-ml.yaml"} {
		sc, res := loadToEnd(t, file)
		est := Estimate(sc)
		if est.Jobs != int64(len(res.Jobs)) || est.Pods != int64(len(res.Pods)) || est.Nodes != int64(len(res.Cluster.Nodes)) {
			t.Errorf("%s: estimated %d jobs, %d pods, %d nodes; the run made %d, %d, %d", file, est.Jobs, est.Pods, est.Nodes, len(res.Jobs), len(res.Pods), len(res.Cluster.Nodes))
		}
	}
}
