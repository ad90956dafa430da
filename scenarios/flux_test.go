package scenarios

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/flux"
)

// fluxMinimal is a valid Flux scenario; the malformed cases edit it.
const fluxMinimal = `version: 1
name: f
seed: 3
cluster:
  pools:
    - {name: n, count: 8, cpu: 16, memory: 64Gi}
policy:
  name: flux
  flux: {queuePolicy: easy}
workloads:
  - name: sim
    kind: FluxJob
    count: 4
    flux: {nodes: 2, tasks: 32, walltime: 600}
    runTime: 300
  - name: batch
    kind: FluxJob
    count: 50
    arrival: {pattern: poisson, rate: 0.02}
    batch:
      nodes: {min: 1, max: 8, serial: 0.2, pow2: 0.75}
      runTime: {dist: lognormal, median: 600, sigma: 1}
      walltime: {factor: 4, round: [900, 3600, 14400], killed: 0.05}
`

func TestFluxScenarioRuns(t *testing.T) {
	sc := mustParse(t, "f.yaml", fluxMinimal)
	if c := sc.Policy.Section(flux.SectionName).(*flux.Config); c.QueuePolicy != flux.EASY || c.QueueDepth != flux.DefaultQueueDepth {
		t.Errorf("policy.flux decoded as %+v", c)
	}
	res := runToEnd(t, sc)
	for _, j := range res.Jobs {
		f := j.Flux
		if f == nil {
			t.Fatalf("job %s is not a Flux job", j.Name)
		}
		if j.Workload == "sim" {
			// -N 2 -n 32: 16 one-core tasks on each of 2 nodes, not
			// exclusive (tasks were given).
			if len(j.Pods) != 2 || j.Pods[0].Requests.MilliCPU != 16000 || f.Exclusive {
				t.Errorf("%s: %d pods of %v, exclusive %v", j.Name, len(j.Pods), j.Pods[0].Requests, f.Exclusive)
			}
			continue
		}
		// Batch jobs: drawn sizes within bounds, walltime one of the
		// modal values or above the last, whole nodes.
		if f.Nodes < 1 || f.Nodes > 8 || !f.Exclusive {
			t.Errorf("%s: %d nodes, exclusive %v", j.Name, f.Nodes, f.Exclusive)
		}
		if f.Walltime < 900 {
			t.Errorf("%s: walltime %v below the first modal value", j.Name, f.Walltime)
		}
		if engine.IsSet(j.Finished) && j.Finished-f.Alloc > f.Walltime+1e-9 {
			t.Errorf("%s ran %v s, past its walltime %v", j.Name, j.Finished-f.Alloc, f.Walltime)
		}
	}
}

func TestFluxMalformed(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"flux under kube", "  name: flux\n  flux: {queuePolicy: easy}", "  name: kube", "workloads[0].kind: a FluxJob needs policy flux"},
		{"unknown queue policy", "queuePolicy: easy", "queuePolicy: sjf", "policy.flux.queuePolicy: unknown queue policy"},
		{"tasks not dividing", "tasks: 32", "tasks: 31", "workloads[0].flux.tasks: 31 tasks do not divide evenly over 2 nodes"},
		{"negative nodes", "nodes: 2, tasks: 32", "nodes: -2", "workloads[0].flux.nodes: must be between 0"},
		{"pod on bare metal", "    runTime: 300\n", "    runTime: 300\n    pod: {containers: [{name: c, image: x}]}\n", "workloads[0].pod: a FluxJob runs on bare metal"},
		{"batch and runTime", "    count: 50\n", "    count: 50\n    runTime: 5\n", "workloads[1].batch: a batch generator draws each job's run time"},
		{"batch without runTime", "      runTime: {dist: lognormal, median: 600, sigma: 1}\n", "", "workloads[1].batch.runTime: required"},
		{"batch sizes", "min: 1, max: 8", "min: 4, max: 2", "workloads[1].batch.nodes: max: 2 must be at least min (4)"},
		{"walltime factor", "factor: 4", "factor: 0.5", "workloads[1].batch.walltime: factor: 0.5 must be at least 1"},
		{"round order", "round: [900, 3600, 14400]", "round: [900, 600]", "workloads[1].batch.walltime: round[1]: 600 must be greater than round[0]"},
		{"urgency", "walltime: 600}", "walltime: 600, urgency: 40}", "workloads[0].flux.urgency: must be in 0..31"},
		{"no request", "flux: {nodes: 2, tasks: 32, walltime: 600}", "flux: {walltime: 600}", "workloads[0].flux.nodes: required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(fluxMinimal, c.old) {
				t.Fatalf("%q not in the scenario", c.old)
			}
			doc := strings.Replace(fluxMinimal, c.old, c.new, 1)
			_, err := Parse("f.yaml", []byte(doc), Overrides{IgnoreEnv: true})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Errorf("error %v, want one at f.yaml naming %q", err, c.want)
			}
		})
	}
}
