package match

import (
	"errors"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// TestMatchEmitsMatchedBelowSlotNode: a node taken whole by a slot
// (slot>node>core:1) is held whole, but R lists only its matched core,
// as Fluxion's update emits only the selected edges below a vertex whose
// type is not exclusive (dfu_impl_update.cpp modify_traversal). Under
// hinodex (node is an exclusive type) and with exclusive: true on the
// node, the whole node is listed.
func TestMatchEmitsMatchedBelowSlotNode(t *testing.T) {
	slotNode := fluxiontest.Parse(t, `version: 9999
resources:
- type: slot
  count: 1
  label: nodes
  with:
  - type: node
    count: 1
    with:
    - type: core
      count: 1
tasks:
- command: [app]
  slot: nodes
  count: {per_slot: 1}
attributes: {system: {duration: 100}}
`)
	m, err := NewMatcher(fluxiontest.Flat(t, 2, 2), MatcherOptions{Policy: "low"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Match(MatchAllocate, slotNode, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mtWhere(a); got != "node0!:core0" {
		t.Errorf("slot>node>core:1: R lists %q, want node0!:core0", got)
	}
	// node0's other core is held all the same.
	b, err := m.Match(MatchAllocate, fluxiontest.Parse(t, fluxiontest.Req{Slots: 1, Cores: 2}.YAML()), 0)
	if err != nil || mtWhere(b) != "node1:core0,core1" {
		t.Fatalf("2 cores: %v, %v, want node1", mtWhere(b), err)
	}
	if _, err := m.Match(MatchAllocate, fluxiontest.Parse(t, fluxiontest.Req{Slots: 1, Cores: 1}.YAML()), 0); MatchErrno(err) != "EBUSY" {
		t.Errorf("1 core with node0 held: %v, want EBUSY", err)
	}
	// Releasing rank 0 frees the unlisted core too.
	r, err := a.R(FormatRV1NoSched)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.PartialCancel(a.JobID, r); err != nil {
		t.Fatalf("partial cancel: %v", err)
	}
	if c, err := m.Match(MatchAllocate, fluxiontest.Parse(t, fluxiontest.Req{Slots: 1, Cores: 2}.YAML()), 0); err != nil || mtWhere(c) != "node0:core0,core1" {
		t.Errorf("after the release: %v, %v, want node0's 2 cores", mtWhere(c), err)
	}

	for _, pol := range []string{"lonodex"} {
		m, err := NewMatcher(fluxiontest.Flat(t, 2, 2), MatcherOptions{Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Match(MatchAllocate, slotNode, 0)
		if err != nil || mtWhere(a) != "node0!:core0,core1" {
			t.Errorf("%s: %q, %v, want node0!:core0,core1", pol, mtWhere(a), err)
		}
	}
	m, err = NewMatcher(fluxiontest.Flat(t, 2, 2), MatcherOptions{Policy: "low"})
	if err != nil {
		t.Fatal(err)
	}
	a, err = m.Match(MatchAllocate, fluxiontest.Parse(t, fluxiontest.Req{Nodes: 1, NodeExcl: true, Slots: 1, Cores: 1}.YAML()), 0)
	if err != nil || mtWhere(a) != "node0!:core0,core1" {
		t.Errorf("exclusive node: %q, %v, want node0!:core0,core1", mtWhere(a), err)
	}
}

// TestMatchNothingExclusive: node>core has no slot, so nothing in the
// match is exclusive; Fluxion's update then books nothing and fails
// without errno (ErrNoUpdate; the counter stays), while satisfiability
// says yes. Once a core is busy the traversal leaves EBUSY behind.
func TestMatchNothingExclusive(t *testing.T) {
	// node>slot>core:1 with the slot taken out (the model's jobspec
	// parser wants a slot for the tasks; flux-sched's does not).
	nodeCore := fluxiontest.Parse(t, fluxiontest.Req{Nodes: 1, Slots: 1, Cores: 1, Dur: 100}.YAML())
	core := nodeCore.Resources[0].With[0].With[0]
	core.Exclusive = false
	nodeCore.Resources[0].With = []*jobspec.Resource{core}
	m, err := NewMatcher(fluxiontest.Flat(t, 2, 2), MatcherOptions{Policy: "low"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Match(MatchAllocate, nodeCore, 0); !errors.Is(err, ErrNoUpdate) || MatchErrno(err) != "" {
		t.Errorf("node>core: %v, want ErrNoUpdate alone", err)
	}
	if _, err := m.Match(MatchSatisfiability, nodeCore, 0); err != nil {
		t.Errorf("node>core satisfiability: %v", err)
	}
	if _, err := m.Match(MatchWithoutAllocating, nodeCore, 0); !errors.Is(err, ErrNoUpdate) {
		t.Errorf("node>core without_allocating: %v, want ErrNoUpdate", err)
	}
	a := mtOK(t)(m.Match(MatchAllocate, fluxiontest.Parse(t, fluxiontest.Req{Slots: 1, Cores: 1}.YAML()), 0))
	if a.JobID != 1 {
		t.Errorf("job id %d, want 1 (the failed updates used none)", a.JobID)
	}
	if _, err := m.Match(MatchAllocate, nodeCore, 0); !errors.Is(err, ErrNoUpdate) || !errors.Is(err, ErrBusy) {
		t.Errorf("node>core with node0 core0 held: %v, want ErrNoUpdate and ErrBusy", err)
	}
}
