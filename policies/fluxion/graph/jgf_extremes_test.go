package graph_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestJGFSizeExtremes: sizes that sum to exactly MaxInt64 load, and the
// matcher allocates and releases them without overflow.
func TestJGFSizeExtremes(t *testing.T) {
	doc := graph.JGFDoc(graph.JGFC0+","+graph.JGFN1+","+graph.JGFK2+","+
		graph.JGFNode("3", `{"type":"memory","size":9223372036854775806,"paths":{"containment":"/c0/n1/m3"}}`)+","+
		graph.JGFNode("4", `{"type":"memory","size":1,"paths":{"containment":"/c0/n1/m4"}}`),
		graph.JGFE1+","+graph.JGFE2+`,{"source":"1","target":"3"},{"source":"1","target":"4"}`)
	g, err := graph.ReadJGFString(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{PruneFilters: "ALL:core,ALL:memory"})
	if err != nil {
		t.Fatal(err)
	}
	// The largest count a jobspec takes.
	js, err := jobspec.ParseJobspec([]byte(`version: 1
resources:
  - type: slot
    count: 1
    label: default
    with:
      - type: core
        count: 1
      - type: memory
        count: `+strconv.Itoa(math.MaxInt32)+`
tasks:
  - command: [app]
    slot: default
    count: {per_slot: 1}
attributes:
  system:
    duration: 60
`), "mem.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a, err := m.Match(match.MatchAllocate, js, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Cancel(a.JobID); err != nil {
			t.Fatal(err)
		}
	}
}
