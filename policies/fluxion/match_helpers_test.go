package fluxion

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// mtNode describes one node of a test cluster.
type mtNode struct {
	cores, gpus int64
	memMiB      int64
}

// mtGraph builds cluster0 -> node<i> [-> socket<k>] -> core, gpu, memory
// (one memory vertex of memMiB per node or socket; none if 0).
func mtGraph(t testing.TB, sockets int, nodes ...mtNode) *Graph {
	t.Helper()
	ns := make([]*engine.Node, len(nodes))
	mem := MemoryNone
	for i, n := range nodes {
		if n.memMiB > 0 {
			mem = MemorySingle
		}
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: n.cores * 1000, GPU: n.gpus, Memory: n.memMiB << 20, Pods: 110}}
	}
	g, err := FromNodes(ns, GenerateOptions{Sockets: sockets, Memory: mem})
	if err != nil {
		t.Fatalf("FromNodes: %v", err)
	}
	return g
}

func mtFlat(t testing.TB, cores ...int64) *Graph {
	t.Helper()
	ns := make([]mtNode, len(cores))
	for i, c := range cores {
		ns[i] = mtNode{cores: c}
	}
	return mtGraph(t, 0, ns...)
}

func mtMatcher(t testing.TB, g *Graph, policy string) *Matcher {
	t.Helper()
	m, err := NewMatcher(g, MatcherOptions{Policy: policy, GraphDuration: 100000})
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	return m
}

// mtReq is a V1 request: nodes (0: slot at the top) > slot x slots >
// core x cores [, gpu x gpus][, memory x memMiB].
type mtReq struct {
	nodes, slots, cores, gpus, memMiB int64
	nodeExcl                          bool
	dur                               float64
}

func (r mtReq) yaml() string {
	var b strings.Builder
	b.WriteString("version: 1\nresources:\n")
	ind := ""
	if r.nodes > 0 {
		fmt.Fprintf(&b, "- type: node\n  count: %d\n", r.nodes)
		if r.nodeExcl {
			b.WriteString("  exclusive: true\n")
		}
		b.WriteString("  with:\n")
		ind = "  "
	}
	fmt.Fprintf(&b, "%s- type: slot\n%s  count: %d\n%s  label: default\n%s  with:\n", ind, ind, r.slots, ind, ind)
	fmt.Fprintf(&b, "%s  - type: core\n%s    count: %d\n", ind, ind, r.cores)
	if r.gpus > 0 {
		fmt.Fprintf(&b, "%s  - type: gpu\n%s    count: %d\n", ind, ind, r.gpus)
	}
	if r.memMiB > 0 {
		fmt.Fprintf(&b, "%s  - type: memory\n%s    count: %d\n", ind, ind, r.memMiB)
	}
	dur := r.dur
	if dur == 0 {
		dur = 100
	}
	fmt.Fprintf(&b, "tasks:\n- command: [app]\n  slot: default\n  count: {per_slot: 1}\nattributes:\n  system:\n    duration: %g\n", dur)
	return b.String()
}

func (r mtReq) js(t testing.TB) *Jobspec {
	t.Helper()
	js, err := ParseJobspec([]byte(r.yaml()), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, r.yaml())
	}
	return js
}

func mtParse(t testing.TB, y string) *Jobspec {
	t.Helper()
	js, err := ParseJobspec([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, y)
	}
	return js
}

// mtWhere renders an allocation as "n0:core0,core1 n1:core0" (vertices of
// the leaf types core, gpu, memory grouped by node, in pre-order), plus
// "!" after a node taken exclusively.
func mtWhere(a *Allocation) string {
	g := a.g
	var parts []string
	cur := NoVertex
	var leaves []string
	flush := func() {
		if cur != NoVertex {
			s := g.Vertices[cur].Name
			for _, av := range a.Vertices {
				if av.ID == cur && av.Exclusive {
					s += "!"
				}
			}
			parts = append(parts, s+":"+strings.Join(leaves, ","))
		}
		leaves = nil
	}
	for _, av := range a.Vertices {
		v := &g.Vertices[av.ID]
		switch v.Type {
		case "core", "gpu", "memory":
		default:
			continue
		}
		n := g.Ancestor(av.ID, "node")
		if n != cur {
			flush()
			cur = n
		}
		leaves = append(leaves, v.Name)
	}
	flush()
	return strings.Join(parts, " ")
}

func mtErrno(err error) string {
	if err == nil {
		return "ok"
	}
	if e := MatchErrno(err); e != "" {
		return e
	}
	if errors.Is(err, ErrNoUpdate) {
		return "ENOUPDATE" // no errno (see ErrNoUpdate)
	}
	return "error: " + err.Error()
}

// mtOK returns a function that fails the test on a match error:
// mtOK(t)(m.Match(...)).
func mtOK(t testing.TB) func(*Allocation, error) *Allocation {
	return func(a *Allocation, err error) *Allocation {
		t.Helper()
		if err != nil {
			t.Fatalf("match: %v", err)
		}
		return a
	}
}
