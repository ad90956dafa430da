package fluxion

import (
	"math"
	"strconv"
	"testing"
)

// TestJGFSizeExtremes: sizes that sum to exactly MaxInt64 load, and the
// matcher allocates and releases them without overflow.
func TestJGFSizeExtremes(t *testing.T) {
	doc := jgfDoc(jgfC0+","+jgfN1+","+jgfK2+","+
		jgfNode("3", `{"type":"memory","size":9223372036854775806,"paths":{"containment":"/c0/n1/m3"}}`)+","+
		jgfNode("4", `{"type":"memory","size":1,"paths":{"containment":"/c0/n1/m4"}}`),
		jgfE1+","+jgfE2+`,{"source":"1","target":"3"},{"source":"1","target":"4"}`)
	g, err := readJGFString(doc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(g, MatcherOptions{PruneFilters: "ALL:core,ALL:memory"})
	if err != nil {
		t.Fatal(err)
	}
	// The largest count a jobspec takes.
	js, err := ParseJobspec([]byte(`version: 1
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
		a, err := m.Match(MatchAllocate, js, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Cancel(a.JobID); err != nil {
			t.Fatal(err)
		}
	}
}
