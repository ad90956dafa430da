package fluence

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// The engine changes no node during a run yet, so the node side of the
// graph modes is checked on the sidecar directly: a node cordoned, or
// used by pods Fluence does not hold, after the graph was built. The
// static graph does not see either; the live graph does.
func TestGraphFollowsNodeChanges(t *testing.T) {
	type step struct {
		name       string
		change     func(ns []*engine.Node)
		pod        *engine.PodTemplate
		live, stat string // the node a one-pod group gets
	}
	steps := []step{
		{"idle", func([]*engine.Node) {}, tmpl(4000, gi, 1), "node-0", "node-0"},
		{"cordoned", func(ns []*engine.Node) { ns[0].Unschedulable = true }, tmpl(4000, gi, 1), "node-1", "node-0"},
		{"uncordoned", func(ns []*engine.Node) { ns[0].Unschedulable = false }, tmpl(4000, gi, 1), "node-0", "node-0"},
		{"3 cores used", func(ns []*engine.Node) { ns[0].Requested = engine.Resources{MilliCPU: 3000, Pods: 1} }, tmpl(2000, gi, 1), "node-1", "node-0"},
		{"2.5 cores used", func(ns []*engine.Node) { ns[0].Requested = engine.Resources{MilliCPU: 2500, Pods: 1} }, tmpl(1000, gi, 1), "node-0", "node-0"},
		{"15 GiB used", func(ns []*engine.Node) { ns[0].Requested = engine.Resources{Memory: 15 * gi, Pods: 1} }, tmpl(1000, 2*gi, 1), "node-1", "node-0"},
		{"freed", func(ns []*engine.Node) { ns[0].Requested = engine.Resources{} }, tmpl(4000, 16*gi, 1), "node-0", "node-0"},
	}
	for _, graph := range []string{GraphLive, GraphStatic} {
		ns := nodes(2, 4, 16)
		for i, n := range ns {
			n.Index = i
		}
		c := &engine.Cluster{Nodes: ns}
		pl := newPlugin(with(func(c *Config) { c.Graph = graph }))
		pl.startOnce(c)
		if err := pl.Err(); err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			s.change(ns)
			if err := pl.sc.reconcile(c); err != nil {
				t.Fatal(err)
			}
			id, alloc, err := pl.sc.match(jobspecFor(s.pod, 1, "g"))
			want := s.live
			if graph == GraphStatic {
				want = s.stat
			}
			if err != nil || len(alloc) != 1 || alloc[0].node.Name != want {
				t.Errorf("%s, %s: %v %v, want %s", graph, s.name, alloc, err, want)
				continue
			}
			if err := pl.sc.cancel(id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The jobspec a group becomes: cores per container rounded up (0 → 1),
// memory in MB, GPUs only when asked.
func TestJobspecFor(t *testing.T) {
	tp := &engine.PodTemplate{Containers: []engine.Container{
		{MilliCPU: 1500, Memory: 3 * gi / 2}, {MilliCPU: 100, GPU: 1},
	}}
	want := "version: 9999\nresources:\n- type: slot\n  count: 4\n  label: default\n  with:\n  - type: core\n    count: 3\n" +
		"  - type: memory\n    count: 1536\n  - type: gpu\n    count: 1\nattributes:\n  system:\n    duration: 3600\n" +
		"tasks:\n- command:\n  - \"ns/g\"\n  slot: default\n  count:\n    per_slot: 1\n"
	if got := string(jobspecFor(tp, 4, "ns/g")); got != want {
		t.Errorf("jobspec\n%s\nwant\n%s", got, want)
	}
	if got := string(jobspecFor(&engine.PodTemplate{Containers: []engine.Container{{}}}, 1, "x")); got !=
		"version: 9999\nresources:\n- type: slot\n  count: 1\n  label: default\n  with:\n  - type: core\n    count: 1\n"+
			"attributes:\n  system:\n    duration: 3600\ntasks:\n- command:\n  - \"x\"\n  slot: default\n  count:\n    per_slot: 1\n" {
		t.Errorf("empty pod: %s", got)
	}
}

// The Go matcher's allocation read directly and the R a backend returns
// read as the sidecar reads it give the same nodes, cores and held
// vertices, match after match (the parity of the two code paths; the
// reapi backend takes the second).
func TestMatchGoSameAsR(t *testing.T) {
	for _, policy := range []string{"lonode", "hinode", "first", "lonodex"} {
		ns := nodes(6, 8, 16)
		for i, n := range ns {
			n.Index = i
		}
		c := &engine.Cluster{Nodes: ns}
		cfg := with(func(c *Config) { c.Graph = GraphLive; c.Policy = policy })
		direct := newPlugin(cfg)
		direct.startOnce(c)
		viaR := newPlugin(cfg)
		viaR.startOnce(c)
		be, err := fluxion.NewGoBackend(viaR.sc.g, match.MatcherOptions{Policy: policy, MatchFormat: match.FormatJGF})
		if err != nil {
			t.Fatal(err)
		}
		viaR.sc.m, viaR.sc.be = nil, be
		shapes := []struct {
			milli, mem int64
			n          int
		}{{3000, 2 * gi, 5}, {8000, gi, 2}, {1000, 3 * gi / 2, 7}, {2000, 0, 3}, {8000, 16 * gi, 1}, {4000, gi, 4}}
		var live [2][]uint64
		for k, sh := range shapes {
			js := jobspecFor(tmpl(sh.milli, sh.mem, 1), sh.n, "g")
			var got [2]string
			for i, pl := range []*Plugin{direct, viaR} {
				id, alloc, err := pl.sc.match(js)
				got[i] = fmt.Sprint(id, alloc, err, pl.sc.jobHeld[id])
				if err == nil {
					live[i] = append(live[i], id)
				}
				if k%3 == 2 && len(live[i]) > 0 { // free the oldest now and then
					if err := pl.sc.cancel(live[i][0]); err != nil {
						t.Fatal(err)
					}
					live[i] = live[i][1:]
				}
			}
			if got[0] != got[1] {
				t.Errorf("%s, match %d:\ndirect %s\nvia R  %s", policy, k, got[0], got[1])
			}
		}
	}
}
