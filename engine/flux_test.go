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

// A policy whose R for a job of task slots gives the wrong number of
// slots, a pod, or no node is a broken policy: the run ends with an
// error naming it, not a panic or a half-made allocation.
func TestFluxShellsFromBadR(t *testing.T) {
	nodes := enginetest.Nodes(2, enginetest.BigNode)
	for _, tc := range []struct {
		name  string
		slots func(j *engine.Job) []engine.Slot
		want  string
	}{
		{"too few tasks", func(*engine.Job) []engine.Slot {
			return []engine.Slot{{Node: nodes[0], Tasks: 3}, {Node: nodes[1], Tasks: 4}}
		}, "gave Flux job slots's R 7 task slots, the job has 8"},
		{"no tasks", func(*engine.Job) []engine.Slot {
			return []engine.Slot{{Node: nodes[0], Tasks: 8}, {Node: nodes[1]}}
		}, "slot 1 of Flux job slots's R"},
		{"no node", func(*engine.Job) []engine.Slot { return []engine.Slot{{Tasks: 8}} }, "slot 0 of Flux job slots's R"},
	} {
		done := false
		pol := enginetest.Func{N: "bad", F: func(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
			for _, ev := range events {
				if ev.Kind == engine.JobArrived && !done {
					done = true
					out = append(out, engine.Decision{Kind: engine.Allocate, Job: ev.Job, Slots: tc.slots(ev.Job)})
				}
			}
			return out
		}}
		j := &engine.Job{Name: "slots", Template: &engine.PodTemplate{}, Flux: &engine.FluxSpec{Slots: 8, CoresPerSlot: 1, Urgency: 16, RunTime: 10}}
		_, err := tryRun(t, enginetest.ExactConfig(nodes), pol, at(0, j))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
