package engine_test

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// pinned binds every created pod to the node index named in where (by pod
// name) at its creation.
func pinned(where map[string]int) engine.Policy {
	return enginetest.Func{N: "pinned", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range evs {
			if ev.Kind == engine.PodCreated {
				out = append(out, engine.Decision{Kind: engine.Bind, Pod: ev.Pod, Node: c.Nodes[where[ev.Pod.Name]]})
			}
		}
		return out
	}}
}

// TestTransferFinishTimes runs image transfers through the engine and
// checks each image's arrival (the Pulled record, with no pull overhead)
// against bytes/rate under max-min sharing, including re-sharing when a
// flow ends or starts.
func TestTransferFinishTimes(t *testing.T) {
	type flow struct {
		node    int
		arrive  float64 // job arrival; its pull starts 1.4375 s later
		sizeMB  float64
		pulledT float64 // expected Pulled time minus 1.4375
	}
	tests := []struct {
		name           string
		registry, node float64 // MB/s, 0 = unlimited
		nodes          int
		flows          []flow
	}{
		{
			// 100/3 > 30: each flow gets its node's 30 → 60/30 = 2 s.
			name: "three nodes, node-bound", registry: 100, node: 30, nodes: 3,
			flows: []flow{{0, 0, 60, 2}, {1, 0, 60, 2}, {2, 0, 60, 2}},
		},
		{
			// Two flows per node: 30/2 = 15 each. The 30 MB ones finish at
			// 30/15 = 2 s; the 60 MB ones have 30 MB left and then get a
			// node each (30, registry 100/2 = 50 ≥ 30): 30/30 = 1 s more → 3 s.
			name: "four flows on two nodes, re-share", registry: 100, node: 30, nodes: 2,
			flows: []flow{{0, 0, 30, 2}, {0, 0, 60, 3}, {1, 0, 30, 2}, {1, 0, 60, 3}},
		},
		{
			// Registry 40/2 = 20 each. 20 MB done at 1 s; 30 MB left of 50 at
			// min(registry 40, node 30) = 30 → 1 s more → 2 s.
			name: "registry-bound, then node-bound", registry: 40, node: 30, nodes: 2,
			flows: []flow{{0, 0, 20, 1}, {1, 0, 50, 2}},
		},
		{
			// Registry 45/3 = 15 = node 30/2 (tie): 15 each. 30 MB done at
			// 2 s; the 75 MB ones have 45 left, registry 45/2 = 22.5 < 30 →
			// 45/22.5 = 2 s more → 4 s.
			name: "registry tie", registry: 45, node: 30, nodes: 2,
			flows: []flow{{0, 0, 30, 2}, {0, 0, 75, 4}, {1, 0, 75, 4}},
		},
		{
			// One node at 30. a (60 MB) alone for 1 s: 30 left. b starts at
			// 1 s; both at 15: a's 30 take 2 s → 3 s. b has 30 of 60 at 3 s,
			// then alone at 30: 1 s → 4 s after a's start (3 s after its own).
			name: "re-share when a flow starts", registry: 0, node: 30, nodes: 1,
			flows: []flow{{0, 0, 60, 3}, {0, 1, 60, 3}},
		},
	}
	sandboxUp := L + bindL + watch + sbx // 1.4375 after arrival
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := enginetest.ExactConfig(enginetest.Nodes(tc.nodes, enginetest.BigNode))
			cfg.Startup.RegistryBandwidth = tc.registry * 1e6
			cfg.Startup.NodeBandwidth = tc.node * 1e6
			cfg.Startup.PullOverhead = nil
			where := map[string]int{}
			var subs []submission
			for i, f := range tc.flows {
				name := fmt.Sprintf("p%d", i)
				tmpl := enginetest.Template(fmt.Sprintf("img-%d", i), 1)
				tmpl.Containers[0].ImageSize = int64(f.sizeMB * 1e6)
				where[name] = f.node
				subs = append(subs, at(f.arrive, enginetest.Pod(name, tmpl)))
			}
			res := runToEnd(t, cfg, pinned(where), subs...)
			for i, f := range tc.flows {
				p := res.Pods[i]
				pulled := enginetest.Records(res, p.ID, engine.RecPulled)
				if len(pulled) != 1 {
					t.Fatalf("%s: %d Pulled records", p.Name, len(pulled))
				}
				eq(t, p.Name+" pulled", pulled[0].T, f.arrive+sandboxUp+f.pulledT)
				eq(t, p.Name+".PullSeconds", p.PullSeconds, f.pulledT)
			}
		})
	}
}

// TestTransferSharedImageOnePull: pods of one image on one node share a
// single transfer; pods on another node pull it again.
func TestTransferSharedImageOnePull(t *testing.T) {
	cfg := enginetest.ExactConfig(enginetest.Nodes(2, enginetest.BigNode))
	cfg.Startup.NodeBandwidth = 30e6
	cfg.Startup.PullOverhead = nil
	tmpl := enginetest.Template("img", 1)
	tmpl.Containers[0].ImageSize = 60e6
	res := runToEnd(t, cfg, pinned(map[string]int{"a": 0, "b": 0, "c": 1}),
		at(0, enginetest.Pod("a", tmpl)), at(0, enginetest.Pod("b", tmpl)), at(0, enginetest.Pod("c", tmpl)))
	// One 60 MB transfer per node at 30 MB/s (no sharing across nodes, no
	// registry cap): every pod's image lands 2 s after the sandbox.
	for _, p := range res.Pods {
		eq(t, p.Name+".PullSeconds", p.PullSeconds, 2)
	}
	if got := res.Cluster.NodesWithImage("img"); got != 2 {
		t.Errorf("NodesWithImage = %d, want 2", got)
	}
}
