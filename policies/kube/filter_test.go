package kube

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

func TestFilters(t *testing.T) {
	type nodeOpt func(*engine.Node)
	taint := func(k, v string, e engine.TaintEffect) nodeOpt {
		return func(n *engine.Node) { n.Taints = append(n.Taints, engine.Taint{Key: k, Value: v, Effect: e}) }
	}
	label := func(k, v string) nodeOpt { return func(n *engine.Node) { n.Labels[k] = v } }
	cordoned := func(n *engine.Node) { n.Unschedulable = true }
	used := func(r engine.Resources) nodeOpt { return func(n *engine.Node) { n.Requested = r } }
	gpus := func(g int64) nodeOpt { return func(n *engine.Node) { n.Allocatable.GPU = g } }

	type podOpt func(*engine.PodTemplate)
	tol := func(tl engine.Toleration) podOpt {
		return func(t *engine.PodTemplate) { t.Tolerations = append(t.Tolerations, tl) }
	}
	selector := func(k, v string) podOpt {
		return func(t *engine.PodTemplate) {
			if t.NodeSelector == nil {
				t.NodeSelector = map[string]string{}
			}
			t.NodeSelector[k] = v
		}
	}
	expr := func(k, op string, vals ...string) engine.NodeSelectorRequirement {
		return engine.NodeSelectorRequirement{Key: k, Operator: op, Values: vals}
	}
	required := func(terms ...[]engine.NodeSelectorRequirement) podOpt {
		return func(t *engine.PodTemplate) {
			t.Affinity = &engine.NodeAffinity{}
			for _, es := range terms {
				t.Affinity.Required = append(t.Affinity.Required, engine.NodeSelectorTerm{MatchExpressions: es})
			}
		}
	}
	reqs := func(cpu, mem, gpu int64) podOpt {
		return func(t *engine.PodTemplate) {
			t.Containers[0].MilliCPU, t.Containers[0].Memory, t.Containers[0].GPU = cpu, mem, gpu
		}
	}
	terms := func(es ...engine.NodeSelectorRequirement) []engine.NodeSelectorRequirement { return es }

	for _, tc := range []struct {
		name   string
		node   []nodeOpt
		pod    []podOpt
		plugin pluginSet // 0 = feasible
		detail int
	}{
		{"plain node fits", nil, nil, 0, 0},
		// NodeUnschedulable
		{"cordoned", []nodeOpt{cordoned}, nil, pluginNodeUnschedulable, 0},
		{"cordoned, tolerated", []nodeOpt{cordoned},
			[]podOpt{tol(engine.Toleration{Key: taintNodeUnschedulable, Operator: "Exists", Effect: engine.NoSchedule})}, 0, 0},
		// TaintToleration
		{"NoSchedule untolerated", []nodeOpt{taint("k", "v", engine.NoSchedule)}, nil, pluginTaintToleration, 0},
		{"NoExecute untolerated", []nodeOpt{taint("k", "v", engine.NoExecute)}, nil, pluginTaintToleration, 0},
		{"PreferNoSchedule is not a filter", []nodeOpt{taint("k", "v", engine.PreferNoSchedule)}, nil, 0, 0},
		{"tolerated Equal", []nodeOpt{taint("k", "v", engine.NoSchedule)},
			[]podOpt{tol(engine.Toleration{Key: "k", Value: "v", Effect: engine.NoSchedule})}, 0, 0},
		{"wrong value", []nodeOpt{taint("k", "v", engine.NoSchedule)},
			[]podOpt{tol(engine.Toleration{Key: "k", Value: "w"})}, pluginTaintToleration, 0},
		{"Exists any value", []nodeOpt{taint("k", "v", engine.NoSchedule)},
			[]podOpt{tol(engine.Toleration{Key: "k", Operator: "Exists"})}, 0, 0},
		{"empty key Exists tolerates all", []nodeOpt{taint("a", "", engine.NoSchedule), taint("b", "", engine.NoExecute)},
			[]podOpt{tol(engine.Toleration{Operator: "Exists"})}, 0, 0},
		{"effect mismatch", []nodeOpt{taint("k", "v", engine.NoExecute)},
			[]podOpt{tol(engine.Toleration{Key: "k", Value: "v", Effect: engine.NoSchedule})}, pluginTaintToleration, 0},
		{"second taint untolerated", []nodeOpt{taint("a", "1", engine.NoSchedule), taint("b", "2", engine.NoSchedule)},
			[]podOpt{tol(engine.Toleration{Key: "a", Operator: "Exists"})}, pluginTaintToleration, 1},
		// NodeAffinity: nodeSelector
		{"selector match", []nodeOpt{label("disk", "ssd")}, []podOpt{selector("disk", "ssd")}, 0, 0},
		{"selector value mismatch", []nodeOpt{label("disk", "hdd")}, []podOpt{selector("disk", "ssd")}, pluginNodeAffinity, 0},
		{"selector label missing", nil, []podOpt{selector("disk", "ssd")}, pluginNodeAffinity, 0},
		{"selector and affinity both needed", []nodeOpt{label("disk", "ssd")},
			[]podOpt{selector("disk", "ssd"), required(terms(expr("zone", "Exists")))}, pluginNodeAffinity, 0},
		// NodeAffinity: operators
		{"In", []nodeOpt{label("zone", "b")}, []podOpt{required(terms(expr("zone", "In", "a", "b")))}, 0, 0},
		{"In no match", []nodeOpt{label("zone", "c")}, []podOpt{required(terms(expr("zone", "In", "a", "b")))}, pluginNodeAffinity, 0},
		{"NotIn", []nodeOpt{label("zone", "c")}, []podOpt{required(terms(expr("zone", "NotIn", "a")))}, 0, 0},
		{"NotIn label absent matches", nil, []podOpt{required(terms(expr("zone", "NotIn", "a")))}, 0, 0},
		{"NotIn no match", []nodeOpt{label("zone", "a")}, []podOpt{required(terms(expr("zone", "NotIn", "a")))}, pluginNodeAffinity, 0},
		{"Exists", []nodeOpt{label("gpu", "")}, []podOpt{required(terms(expr("gpu", "Exists")))}, 0, 0},
		{"Exists no match", nil, []podOpt{required(terms(expr("gpu", "Exists")))}, pluginNodeAffinity, 0},
		{"DoesNotExist", nil, []podOpt{required(terms(expr("gpu", "DoesNotExist")))}, 0, 0},
		{"DoesNotExist no match", []nodeOpt{label("gpu", "")}, []podOpt{required(terms(expr("gpu", "DoesNotExist")))}, pluginNodeAffinity, 0},
		{"Gt", []nodeOpt{label("cores", "64")}, []podOpt{required(terms(expr("cores", "Gt", "32")))}, 0, 0},
		{"Gt equal no match", []nodeOpt{label("cores", "32")}, []podOpt{required(terms(expr("cores", "Gt", "32")))}, pluginNodeAffinity, 0},
		{"Gt non-numeric label", []nodeOpt{label("cores", "many")}, []podOpt{required(terms(expr("cores", "Gt", "32")))}, pluginNodeAffinity, 0},
		{"Lt", []nodeOpt{label("cores", "16")}, []podOpt{required(terms(expr("cores", "Lt", "32")))}, 0, 0},
		{"Lt absent no match", nil, []podOpt{required(terms(expr("cores", "Lt", "32")))}, pluginNodeAffinity, 0},
		{"expressions ANDed", []nodeOpt{label("zone", "a")},
			[]podOpt{required(terms(expr("zone", "In", "a"), expr("gpu", "Exists")))}, pluginNodeAffinity, 0},
		{"terms ORed", []nodeOpt{label("gpu", "")},
			[]podOpt{required(terms(expr("zone", "In", "a")), terms(expr("gpu", "Exists")))}, 0, 0},
		{"empty term matches nothing", nil, []podOpt{required(terms())}, pluginNodeAffinity, 0},
		{"invalid operator matches nothing", []nodeOpt{label("zone", "a")},
			[]podOpt{required(terms(expr("zone", "Near", "a")))}, pluginNodeAffinity, 0},
		// NodeResourcesFit (node: 4000m, 10 Gi, 110 pods)
		{"cpu fits exactly", []nodeOpt{used(engine.Resources{MilliCPU: 3000})}, []podOpt{reqs(1000, 0, 0)}, 0, 0},
		{"cpu 1m short", []nodeOpt{used(engine.Resources{MilliCPU: 3001})}, []podOpt{reqs(1000, 0, 0)},
			pluginNodeResourcesFit, int(insufficientCPU)},
		{"cpu and memory short", []nodeOpt{used(engine.Resources{MilliCPU: 4000, Memory: 10 * gi})}, []podOpt{reqs(1, 1, 0)},
			pluginNodeResourcesFit, int(insufficientCPU | insufficientMemory)},
		{"gpu missing", nil, []podOpt{reqs(1000, 0, 1)}, pluginNodeResourcesFit, int(insufficientGPU)},
		{"gpu fits", []nodeOpt{gpus(8), used(engine.Resources{GPU: 7})}, []podOpt{reqs(1000, 0, 1)}, 0, 0},
		{"pod count limit", []nodeOpt{used(engine.Resources{Pods: 110})}, []podOpt{reqs(0, 0, 0)},
			pluginNodeResourcesFit, int(tooManyPods)},
		{"109 pods fit", []nodeOpt{used(engine.Resources{Pods: 109})}, nil, 0, 0},
		// The filter uses real requests: a pod that requests nothing fits a
		// full node (its non-zero defaults only matter for scoring).
		{"zero request on full node", []nodeOpt{used(engine.Resources{MilliCPU: 4000, Memory: 10 * gi})},
			[]podOpt{reqs(0, 0, 0)}, 0, 0},
		// Plugin order: a cordoned, tainted, full node reports NodeUnschedulable.
		{"first failing plugin wins", []nodeOpt{cordoned, taint("k", "v", engine.NoSchedule), used(engine.Resources{MilliCPU: 4000})},
			[]podOpt{reqs(1000, 0, 0)}, pluginNodeUnschedulable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeNode("n", 4000, 10*gi)
			for _, o := range tc.node {
				o(n)
			}
			tmpl := makeTemplate(100, 100*engine.MiB)
			for _, o := range tc.pod {
				o(tmpl)
			}
			s := newTestScheduler(t, testConfig(), 1)
			st := cycleState{pod: makePod(0, tmpl), ti: s.templateInfo(tmpl)}
			plugin, detail := filter(&st, n)
			if plugin != tc.plugin || detail != tc.detail {
				t.Errorf("filter = (%b, %d), want (%b, %d)", plugin, detail, tc.plugin, tc.detail)
			}
		})
	}
}

func TestDiagnoseMessage(t *testing.T) {
	nodes := makeNodes(5, 4000, 10*gi)
	for _, n := range nodes[:3] {
		n.Requested.MilliCPU = 3500 // 500m free < 1000m
	}
	for _, n := range nodes[3:] {
		n.Taints = []engine.Taint{{Key: "k", Value: "v", Effect: engine.NoSchedule}}
	}
	nodes[0].Requested.Memory = 10 * gi // node 0 is short of memory too
	tmpl := makeTemplate(1000, 1*gi)
	s := newTestScheduler(t, testConfig(), 1)
	st := cycleState{pod: makePod(0, tmpl), ti: s.templateInfo(tmpl)}
	var r failRecord
	s.diagnoseAll(&r, &st, nodes)
	msg, rejectors, passed := s.message(&r, len(nodes)), r.counts.rejectors(), r.counts.passed
	// The "count reason" strings sorted as strings, as upstream FitError.
	want := "0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {k: v}, 3 Insufficient cpu."
	if msg != want {
		t.Errorf("message\n got %q\nwant %q", msg, want)
	}
	if rejectors != pluginTaintToleration|pluginNodeResourcesFit || passed != 0 {
		t.Errorf("rejectors = %b, passed %d", rejectors, passed)
	}
	if ref, _, _ := diagnoseReference(&st, nodes); ref != msg {
		t.Errorf("reference diagnosis %q", ref)
	}
	s.diagnoseAll(&r, &st, nil)
	if msg := s.message(&r, 0); msg != "no nodes available to schedule pods" {
		t.Errorf("no nodes: %q", msg)
	}
}
