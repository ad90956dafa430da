package engine_test

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// A Flux job of task slots without a node level has no shells until R
// gives it nodes; one that is never allocated, with nothing left to
// happen, stalls the run (it is not a run that ended with every job
// done).
func TestFluxJobNeverAllocatedStalls(t *testing.T) {
	idle := enginetest.Func{N: "idle", F: func(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		return out
	}}
	cfg := enginetest.ExactConfig(enginetest.Nodes(2, enginetest.BigNode))
	j := &engine.Job{Name: "slots", Template: &engine.PodTemplate{}, Flux: &engine.FluxSpec{Slots: 8, CoresPerSlot: 1, Urgency: 16, RunTime: 10}}
	res := run(t, cfg, idle, at(5, j))
	if len(j.Pods) != 0 {
		t.Fatalf("job of slots without nodes has %d shells before any allocation, want none", len(j.Pods))
	}
	if res.Stopped != "stalled" || !strings.Contains(res.StallReason, "1 Flux jobs waiting for an allocation") {
		t.Errorf("run stopped %q (%q), want a stall naming the Flux job waiting for an allocation", res.Stopped, res.StallReason)
	}
}
