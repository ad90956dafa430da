package match

import (
	"errors"
	"strings"
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

// Sibling resources of one type and id sets are not modelled: the
// matcher refuses them, naming where in the jobspec they are.
func TestMatchRefusesUnsupportedNames(t *testing.T) {
	m := mtMatcher(t, fluxiontest.Flat(t, 2), "low")
	for _, tc := range []struct{ res, want string }{
		{`{type: node, count: 1, with: [{type: slot, count: 1, label: a, with: [{type: core, count: 1}, {type: core, count: 1}]}]}`,
			`resources[0].with[0].with: two sibling resources of type "core"`},
		{`{type: node, count: 1, with: [{type: slot, count: 1, label: a, with: [{type: core, count: 1, id: "0-3"}]}]}`,
			`resources[0].with[0].with[0]: id sets are not modelled`},
	} {
		js, err := jobspec.ParseJobspec([]byte("version: 9999\nresources: ["+tc.res+"]\ntasks: [{command: [x], slot: a, count: {per_slot: 1}}]\nattributes: {system: {duration: 10}}\n"), "u.yaml")
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Match(MatchAllocate, js, 0)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrUnsupported naming %q", tc.res, err, tc.want)
		}
	}
}
