package kube

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

// pinPlugin restricts every pod to node 0 and, if off is set, disables
// filters in its profile.
type pinPlugin struct{ off []string }

func (pinPlugin) Name() string { return "pin" }
func (pinPlugin) PreFilter(h *Handle, _ *engine.Pod) ([]*engine.Node, Status) {
	return h.Cluster().Nodes[:1], OK
}

type pinProfile struct{ pinPlugin }

func (p pinProfile) DisabledFilters() []string { return p.off }

// A profile that disables NodeUnschedulable and TaintToleration binds on
// a cordoned node tainted NoSchedule, which the default filters refuse;
// a NoExecute taint refuses it either way (the kubelet would).
func TestFilterProfile(t *testing.T) {
	off := []string{"NodeUnschedulable", "TaintToleration"}
	for _, tc := range []struct {
		name   string
		plugin Plugin
		effect engine.TaintEffect
		bound  bool
	}{
		{"default filters", pinPlugin{}, engine.NoSchedule, false},
		{"disabled", pinProfile{pinPlugin{off}}, engine.NoSchedule, true},
		{"disabled, NoExecute", pinProfile{pinPlugin{off}}, engine.NoExecute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := makeNodes(2, 4000, 8*gi)
			nodes[0].Unschedulable = tc.effect == engine.NoSchedule
			nodes[0].Taints = []engine.Taint{{Key: "launcher", Effect: tc.effect}}
			tmpl := makeTemplate(1000, gi)
			tmpl.RunTime = engine.Const(10)
			s, err := New(DefaultConfig(), engine.NewStreams(1))
			if err != nil {
				t.Fatal(err)
			}
			s.WithPlugins(tc.plugin)
			e, err := engine.New(engineConfig(nodes, 1), s)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Submit(0, &engine.Job{Name: "p", Kind: engine.KindPod, Template: tmpl}); err != nil {
				t.Fatal(err)
			}
			res, err := e.Run()
			if err != nil {
				t.Fatal(err)
			}
			if bound := res.FinishedPods() == 1; bound != tc.bound {
				t.Errorf("pod finished: %v, want %v (%s)", bound, tc.bound, placement(res))
			}
		})
	}
}
