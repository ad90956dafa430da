package match

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

func mtMatcher(t testing.TB, g *graph.Graph, policy string) *Matcher {
	t.Helper()
	m, err := NewMatcher(g, MatcherOptions{Policy: policy, GraphDuration: 100000})
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	return m
}

// mtWhere renders an allocation as "n0:core0,core1 n1:core0" (vertices of
// the leaf types core, gpu, memory grouped by node, in pre-order), plus
// "!" after a node taken exclusively.
func mtWhere(a *Allocation) string {
	g := a.g
	var parts []string
	cur := graph.NoVertex
	var leaves []string
	flush := func() {
		if cur != graph.NoVertex {
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
