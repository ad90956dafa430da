package scenarios

import (
	"runtime"
	"testing"

	"github.com/convergesim/converge/engine"
)

// mustRun builds and runs a scenario, failing the test on any error.
func mustRun(t testing.TB, sc *Scenario) *engine.Result {
	t.Helper()
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

// mustParse parses a scenario given as text, ignoring SIM_ variables.
func mustParse(t testing.TB, name, doc string) *Scenario {
	t.Helper()
	sc, err := Parse(name, []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// mustLoad loads a scenario file with --set values, ignoring SIM_
// variables.
func mustLoad(t testing.TB, file string, set ...string) *Scenario {
	t.Helper()
	sc, err := Load(file, Overrides{IgnoreEnv: true, Set: set})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runToEnd is mustRun of a run that must do all its work.
func runToEnd(t testing.TB, sc *Scenario) *engine.Result {
	t.Helper()
	res := mustRun(t, sc)
	if res.Stopped != "" {
		t.Fatalf("stopped: %s %s", res.Stopped, res.StallReason)
	}
	return res
}

// buildWithinEstimate builds sc and fails the test if Build allocated
// more than the scenario's size estimate (without its fixed base).
func buildWithinEstimate(t testing.TB, sc *Scenario) {
	t.Helper()
	est := Estimate(sc)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(e)
	alloc := int64(after.TotalAlloc - before.TotalAlloc)
	if alloc > est.Bytes-BytesBase {
		t.Errorf("Build allocated %s, more than the estimate %s without its base", FormatBytes(alloc), FormatBytes(est.Bytes-BytesBase))
	}
	t.Logf("Build allocated %s; estimate %s", FormatBytes(alloc), FormatBytes(est.Bytes))
}

// aloneAndDemand prices one job of workload wi in runtime rt alone, one
// pod on each node of the cluster, and its demand at full speed.
func aloneAndDemand(t testing.TB, sc *Scenario, res *engine.Result, wi int, rt string) (engine.RunResult, []engine.NodeDemand) {
	t.Helper()
	var pl []engine.NodeShare
	for _, n := range res.Cluster.Nodes {
		pl = append(pl, engine.NodeShare{Node: n, Pods: 1})
	}
	m := sc.runModel(wi, rt, sc.Workloads[wi].template()).(engine.ContendedRunModel)
	alone, err := m.RunTime(pl)
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Demand(pl, alone)
	if err != nil {
		t.Fatal(err)
	}
	return alone, d
}
