package match

import (
	"fmt"
	"strings"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// MatchPolicy is a parsed match policy: the attributes that flux-sched's
// policy factory (resource/policies/dfu_match_policy_factory.cpp) derives
// from a matcher_policy string.
type MatchPolicy struct {
	// Name is the preset or the attribute string as given.
	Name string
	// High prefers greater ids (policy=high, fold::greater in
	// dfu_match_multilevel_id_impl.hpp); false prefers lower ids.
	High bool
	// NodeCentric weights a vertex by its node's id before its own, so
	// candidates are grouped by node.
	NodeCentric bool
	// NodeExclusive makes node an exclusive type: every node an allocation
	// touches is taken whole.
	NodeExclusive bool
	// First is stop_on_1_matches: first fit in the by_outedges order
	// (see traverse.go for the model).
	First bool
	// Locality is the "locality" preset (greater_interval_first_t in
	// dfu_match_locality.cpp): at the top level of the jobspec the
	// candidates are ranked by the run of contiguous scores (vertex id, or
	// for a slot the sum of its members' ids) they fall in, the highest
	// run first; below the top level the highest id is taken first, as
	// with high. Neither node-centric, node-exclusive nor first.
	Locality bool
	// Variation is the "variation" preset (var_aware_t in
	// dfu_match_var_aware.cpp): a vertex scores its properties.perf_class
	// (an integer 0..9999; missing, malformed or out of range is 9999)
	// and the lowest class is taken first at every level; a slot scores
	// the sum of its members' classes. Neither node-centric,
	// node-exclusive nor first.
	Variation bool
}

// matchPolicyPresets are the preset names of
// doc/man5/flux-config-sched-fluxion-resource.rst.
var matchPolicyPresets = map[string]MatchPolicy{
	"low":        {},
	"high":       {High: true},
	"lonode":     {NodeCentric: true},
	"hinode":     {High: true, NodeCentric: true},
	"lonodex":    {NodeCentric: true, NodeExclusive: true},
	"hinodex":    {High: true, NodeCentric: true, NodeExclusive: true},
	"first":      {High: true, NodeCentric: true, First: true},
	"firstnodex": {High: true, NodeCentric: true, NodeExclusive: true, First: true},
	"locality":   {Locality: true},
	"variation":  {Variation: true},
}

// MatchPolicyNames lists the supported presets.
var MatchPolicyNames = []string{"first", "firstnodex", "high", "hinode", "hinodex", "locality", "low", "lonode", "lonodex", "variation"}

// ParseMatchPolicy reads a preset name ("" means "first", the reapi_cli
// default) or an attribute string such as "policy=low node_centric=true"
// (keys policy=low|high, node_centric, node_exclusive, stop_on_1_matches
// with values true|false). As in flux-sched's policy factory, locality
// and variation exist only as preset names: no attribute string selects
// them.
func ParseMatchPolicy(s string) (MatchPolicy, error) {
	if s == "" {
		s = "first"
	}
	if p, ok := matchPolicyPresets[s]; ok {
		p.Name = s
		return p, nil
	}
	if !strings.Contains(s, "=") {
		return MatchPolicy{}, fmt.Errorf("%w: unknown match policy %s, only (%s) or an attribute string allowed",
			ErrInvalid, mquoted(s), strings.Join(MatchPolicyNames, ", "))
	}
	p := MatchPolicy{Name: s}
	seenPolicy := false
	for _, kv := range strings.Fields(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return MatchPolicy{}, fmt.Errorf("%w: match policy %s: %s is not key=value", ErrInvalid, mquoted(s), mquoted(kv))
		}
		var b bool
		switch v {
		case "true":
			b = true
		case "false":
		default:
			if k != "policy" {
				return MatchPolicy{}, fmt.Errorf("%w: match policy %s: %s=%s, only (true, false) allowed", ErrInvalid, mquoted(s), clip(k), mquoted(v))
			}
		}
		switch k {
		case "policy":
			switch v {
			case "low":
				p.High = false
			case "high":
				p.High = true
			default:
				return MatchPolicy{}, fmt.Errorf("%w: match policy %s: policy=%s, only (low, high) supported", ErrInvalid, mquoted(s), mquoted(v))
			}
			seenPolicy = true
		case "node_centric":
			p.NodeCentric = b
		case "node_exclusive":
			p.NodeExclusive = b
		case "stop_on_1_matches":
			p.First = b
		default:
			return MatchPolicy{}, fmt.Errorf("%w: match policy %s: unknown key %s, only (policy, node_centric, node_exclusive, stop_on_1_matches) allowed", ErrInvalid, mquoted(s), mquoted(k))
		}
	}
	if !seenPolicy {
		return MatchPolicy{}, fmt.Errorf("%w: match policy %s: policy=low|high is required", ErrInvalid, mquoted(s))
	}
	return p, nil
}

// perfClassDefault is the class var_aware_t gives a vertex without a
// usable properties.perf_class: the worst.
const perfClassDefault = 9999

// perfClass reads a perf_class property the way var_aware_t does
// (std::stoi, then clamping): leading white space, an optional sign and
// decimal digits, ignoring anything after them; no digits, a value out
// of int range, a negative value or one above 9999 give 9999.
func perfClass(s string, ok bool) int64 {
	if !ok {
		return perfClassDefault
	}
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v <= perfClassDefault {
			v = v*10 + int64(s[i]-'0')
		}
		i++
	}
	if i == start || v > perfClassDefault || (neg && v != 0) {
		return perfClassDefault
	}
	return v
}

// perfClasses returns every vertex's class (var_aware_t reads it from
// the vertex's own properties, whatever its type).
func perfClasses(g *graph.Graph) []int64 {
	out := make([]int64, g.Len())
	for i := range g.Vertices {
		s, ok := g.Vertices[i].Properties["perf_class"]
		out[i] = perfClass(s, ok)
	}
	return out
}
