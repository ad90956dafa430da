package kube

import (
	"slices"
	"strconv"

	"github.com/convergesim/converge/engine"
)

// NodeAffinity. Filter: the node's labels must match every entry of the
// pod's nodeSelector and, if the pod has required node affinity, at least
// one of its terms (terms are ORed, the expressions of a term ANDed; a term
// with no expressions matches nothing). Score: the sum of the weights of
// the preferred terms the node matches, normalized by 100·raw/max (0 if
// max = 0).

const reasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector"

type selectorOp uint8

const (
	opIn selectorOp = iota
	opNotIn
	opExists
	opDoesNotExist
	opGt
	opLt
	opInvalid
)

var selectorOps = map[string]selectorOp{
	"In": opIn, "NotIn": opNotIn, "Exists": opExists, "DoesNotExist": opDoesNotExist, "Gt": opGt, "Lt": opLt,
}

// requirement is a compiled NodeSelectorRequirement.
type requirement struct {
	key    string
	op     selectorOp
	values []string
	num    int64 // Gt, Lt
}

// selectorTerm is a compiled NodeSelectorTerm; nil (no expressions, or an
// invalid one) matches nothing.
type selectorTerm []requirement

type weightedTerm struct {
	weight int64
	term   selectorTerm
}

type labelPair struct{ key, value string }

// nodeAffinity is a pod template's compiled node selector and affinity.
type nodeAffinity struct {
	selector    []labelPair // nodeSelector, sorted by key
	required    []selectorTerm
	hasRequired bool
	preferred   []weightedTerm
}

func compileTerm(t *engine.NodeSelectorTerm) selectorTerm {
	if len(t.MatchExpressions) == 0 {
		return nil
	}
	term := make(selectorTerm, 0, len(t.MatchExpressions))
	for _, e := range t.MatchExpressions {
		op, ok := selectorOps[e.Operator]
		r := requirement{key: e.Key, op: op, values: e.Values}
		switch {
		case !ok:
			return nil
		case (op == opIn || op == opNotIn) && len(e.Values) == 0:
			return nil
		case (op == opExists || op == opDoesNotExist) && len(e.Values) != 0:
			return nil
		case op == opGt || op == opLt:
			if len(e.Values) != 1 {
				return nil
			}
			v, err := strconv.ParseInt(e.Values[0], 10, 64)
			if err != nil {
				return nil
			}
			r.num = v
		}
		term = append(term, r)
	}
	return term
}

func compileNodeAffinity(t *engine.PodTemplate) nodeAffinity {
	var a nodeAffinity
	for k, v := range t.NodeSelector {
		a.selector = append(a.selector, labelPair{k, v})
	}
	slices.SortFunc(a.selector, func(x, y labelPair) int {
		if x.key < y.key {
			return -1
		}
		if x.key > y.key {
			return 1
		}
		return 0
	})
	if t.Affinity != nil {
		if len(t.Affinity.Required) > 0 {
			a.hasRequired = true
			for i := range t.Affinity.Required {
				a.required = append(a.required, compileTerm(&t.Affinity.Required[i]))
			}
		}
		for i := range t.Affinity.Preferred {
			p := &t.Affinity.Preferred[i]
			if p.Weight == 0 {
				continue
			}
			a.preferred = append(a.preferred, weightedTerm{p.Weight, compileTerm(&p.Term)})
		}
	}
	return a
}

func (r *requirement) matches(labels map[string]string) bool {
	v, has := labels[r.key]
	switch r.op {
	case opIn:
		return has && slices.Contains(r.values, v)
	case opNotIn:
		return !has || !slices.Contains(r.values, v)
	case opExists:
		return has
	case opDoesNotExist:
		return !has
	case opGt, opLt:
		if !has {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == opGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

func (t selectorTerm) matches(labels map[string]string) bool {
	if len(t) == 0 {
		return false
	}
	for i := range t {
		if !t[i].matches(labels) {
			return false
		}
	}
	return true
}

// hasFilter reports whether the filter can reject a node.
func (a *nodeAffinity) hasFilter() bool { return len(a.selector) > 0 || a.hasRequired }

// matchRequired is the filter: nodeSelector and required terms.
func (a *nodeAffinity) matchRequired(labels map[string]string) bool {
	for _, p := range a.selector {
		if v, ok := labels[p.key]; !ok || v != p.value {
			return false
		}
	}
	if !a.hasRequired {
		return true
	}
	for _, t := range a.required {
		if t.matches(labels) {
			return true
		}
	}
	return false
}

// preferredScore is the raw score: the sum of the weights of the matching
// preferred terms.
func (a *nodeAffinity) preferredScore(labels map[string]string) int64 {
	var s int64
	for i := range a.preferred {
		if a.preferred[i].term.matches(labels) {
			s += a.preferred[i].weight
		}
	}
	return s
}
