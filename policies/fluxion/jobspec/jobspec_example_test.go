package jobspec_test

import (
	"fmt"

	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// The jobspec Fluence sends for a group of two pods, each asking for 4 CPUs
// and 1024 MB.
func ExampleParseJobspec() {
	js, err := jobspec.ParseJobspec([]byte(`
version: 9999
resources:
- type: slot
  count: 2
  label: default
  with:
  - {type: core, count: 4}
  - {type: memory, count: 1024}
attributes: {system: {duration: 3600}}
tasks:
- {command: [my-group], slot: default, count: {per_slot: 1}}
`), "group.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	n, slot := js.Slots()
	totals := js.Totals()
	fmt.Println(n, "slots labelled", slot.Label, "exclusive:", slot.With[0].Exclusive)
	fmt.Println(totals["core"], "cores,", totals["memory"], "MB for", js.DurationSeconds, "s")

	_, err = jobspec.ParseJobspec([]byte(`
version: 9999
resources:
- type: slot
  count: 2
  with: [{type: core, count: 4}]
attributes: {}
tasks: [{command: [x], slot: default, count: {per_slot: 1}}]
`), "bad.yaml")
	fmt.Println(err)
	// Output:
	// 2 slots labelled default exclusive: true
	// 8 cores, 2048 MB for 3600 s
	// bad.yaml:4: resources[0]: a slot needs a label
}

// Counts with a range: the acceptable values, most preferred first, and
// the one Fluxion picks when 6 units are available.
func ExampleCount() {
	c := jobspec.Count{Min: 2, Max: 8, Operator: "*", Operand: 2}
	fmt.Println(c.Candidates(jobspec.CountUnbounded), c.Best(6))
	// Output:
	// [8 4 2] 4
}
