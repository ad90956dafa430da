package match

import (
	"errors"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// Two top-level resources would be searched independently against the
// same state; the matcher refuses them instead of double-booking.
func TestMatchRefusesTwoTopLevelResources(t *testing.T) {
	js, err := jobspec.ParseJobspec([]byte(`version: 9999
resources:
- {type: node, count: 1, with: [{type: slot, count: 1, label: a, with: [{type: core, count: 1}]}]}
- {type: slot, count: 1, label: b, with: [{type: core, count: 1}]}
tasks: [{command: [x], slot: a, count: {per_slot: 1}}]
attributes: {system: {duration: 10}}
`), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := mtMatcher(t, fluxiontest.Flat(t, 2), "low")
	for _, op := range []MatchOp{MatchAllocate, MatchAllocateOrElseReserve, MatchSatisfiability} {
		if _, err := m.Match(op, js, 0); !errors.Is(err, ErrUnsupported) {
			t.Errorf("op %d: %v, want ErrUnsupported", op, err)
		}
	}
}
