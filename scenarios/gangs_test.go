package scenarios

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
)

// runBundled runs a bundled scenario under a policy (with overrides).
func runBundled(t *testing.T, file string, set ...string) *engine.Result {
	t.Helper()
	return mustRun(t, mustLoad(t, file, set...))
}

// TestSmallClusterGangs: the bundled small-cluster-gangs scenario
// deadlocks under kube-scheduler — every job partly placed, holding its
// nodes, none finished, and the report says so — and finishes every job
// under Coscheduling and under Fluence, each job's pods bound together.
func TestSmallClusterGangs(t *testing.T) {
	kube := runBundled(t, "small-cluster-gangs.yaml")
	st := report.ExplainStall(kube)
	if kube.Stopped != "stalled" || st == nil || !strings.HasPrefix(st.Verdict, "deadlock: ") {
		t.Fatalf("kube: stopped %q, stall %+v", kube.Stopped, st)
	}
	held := 0
	for _, j := range st.Jobs {
		if j.Partial() {
			held++
		}
	}
	if held < 2 {
		t.Errorf("kube: %d partly placed jobs, want a deadlock of at least two", held)
	}
	for _, pol := range []string{"coscheduling", "fluence"} {
		res := runBundled(t, "small-cluster-gangs.yaml", "policy.name="+pol)
		if res.Stopped != "" {
			t.Fatalf("%s: stopped %q", pol, res.Stopped)
		}
		for _, j := range res.Jobs {
			if !engine.IsSet(j.Finished) {
				t.Errorf("%s: job %s did not finish", pol, j.Name)
			}
			// Bound together: the job's pods were assigned within its
			// group's Permit barrier, before any of them started.
			first := j.Pods[0].ContainersStarted
			for _, p := range j.Pods {
				first = min(first, p.ContainersStarted)
			}
			for _, p := range j.Pods {
				if p.Assigned > first {
					t.Errorf("%s: %s assigned at %v, after a sibling started at %v", pol, p.Name, p.Assigned, first)
				}
			}
		}
	}
}

// TestKubeWorkloadsNamed: a Fluence section naming a workload the
// scenario does not have is refused at the name, not silently ignored.
func TestKubeWorkloadsNamed(t *testing.T) {
	_, err := Load("small-cluster-gangs.yaml", Overrides{IgnoreEnv: true, Set: []string{"policy.name=fluence", "policy.fluence.kubeWorkloads=[gang2, gang5]"}})
	if err == nil || !strings.Contains(err.Error(), `policy.fluence.kubeWorkloads[1]: no workload "gang5" in the scenario (workloads: gang2, gang4, gang6)`) {
		t.Errorf("error %v", err)
	}
	if _, err := Load("small-cluster-gangs.yaml", Overrides{IgnoreEnv: true, Set: []string{"policy.name=fluence", "policy.fluence.kubeWorkloads=[gang2]"}}); err != nil {
		t.Errorf("a workload of the scenario refused: %v", err)
	}
}
