package match_test

import (
	"fmt"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// Two 4-core nodes; lonode packs node0 first, and a job that does not fit
// now is reserved when the first one ends.
func ExampleMatcher() {
	nodes := []*engine.Node{
		{Index: 0, Name: "a", Allocatable: engine.Resources{MilliCPU: 4000}},
		{Index: 1, Name: "b", Allocatable: engine.Resources{MilliCPU: 4000}},
	}
	g, err := graph.FromNodes(nodes, graph.GenerateOptions{Memory: graph.MemoryNone})
	if err != nil {
		panic(err)
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{Policy: "lonode"})
	if err != nil {
		panic(err)
	}
	job := func(nodes, cores int, dur int) *jobspec.Jobspec {
		js, err := jobspec.ParseJobspec([]byte(fmt.Sprintf(`
version: 1
resources:
- type: node
  count: %d
  with:
  - type: slot
    count: 1
    label: default
    with:
    - type: core
      count: %d
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: %d
`, nodes, cores, dur)), "job.yaml")
		if err != nil {
			panic(err)
		}
		return js
	}
	a, _ := m.Match(match.MatchAllocate, job(1, 2, 600), 0)
	fmt.Println(a.JobID, string(a.RLiteJSON()))
	a, _ = m.Match(match.MatchAllocateOrElseReserve, job(2, 4, 60), 0)
	fmt.Println(a.JobID, a.Reserved, a.At)
	_, err = m.Match(match.MatchAllocateWithSatisfiability, job(2, 5, 60), 0)
	fmt.Println(match.MatchErrno(err))
	// Output:
	// 1 {"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0-1"}}],"nodelist":["node0"],"starttime":0,"expiration":600}}
	// 2 true 600
	// ENODEV
}
