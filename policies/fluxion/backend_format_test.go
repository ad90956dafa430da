package fluxion

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestAllocationJGF checks the jgf match format against output derived
// by hand from jgf_match_writers_t and upd_dfv: post-order vertices
// (core0, gpu0, then node0, then cluster0), the edge into each child
// right after its subtree, default-valued fields left out.
func TestAllocationJGF(t *testing.T) {
	g := fluxiontest.Tiny(t)
	m := mustMatcher(t, g, "lonode")
	a := mustAlloc(t)(m.Match(match.MatchAllocate, fluxiontest.Req{Nodes: 1, Slots: 1, Cores: 1, GPUs: 1}.Jobspec(t), 0))
	want := `{"graph":{"nodes":[` +
		`{"id":"2","metadata":{"type":"core","id":0,"rank":0,"exclusive":true,"paths":{"containment":"/cluster0/node0/core0"}}},` +
		`{"id":"4","metadata":{"type":"gpu","id":0,"rank":0,"exclusive":true,"paths":{"containment":"/cluster0/node0/gpu0"}}},` +
		`{"id":"1","metadata":{"type":"node","id":0,"rank":0,"paths":{"containment":"/cluster0/node0"}}},` +
		`{"id":"0","metadata":{"type":"cluster","id":0,"rank":-1,"paths":{"containment":"/cluster0"}}}],` +
		`"edges":[{"source":"1","target":"2"},{"source":"1","target":"4"},{"source":"0","target":"1"}]}}`
	if got := string(a.JGF()); got != want {
		t.Errorf("JGF:\n got %s\nwant %s", got, want)
	}
	sub, err := graph.ReadJGF(bytes.NewReader(a.JGF()), "R")
	if err != nil {
		t.Fatalf("ReadJGF(JGF): %v", err)
	}
	var paths []string
	for _, v := range sub.PreOrder() {
		s := &sub.Vertices[v]
		paths = append(paths, fmt.Sprintf("%s:%v", s.Path, s.Exclusive))
		gv, _ := g.Lookup(s.Path)
		if d := match.VertexDiff(&g.Vertices[gv], s); d != "" {
			t.Errorf("%s: %s", s.Path, d)
		}
	}
	if got := strings.Join(paths, " "); got != "/cluster0:false /cluster0/node0:false /cluster0/node0/core0:true /cluster0/node0/gpu0:true" {
		t.Errorf("round trip: %s", got)
	}
	// rv1: RFC 20 R with the same JGF under scheduling.
	rv := string(a.RV1JSON())
	if !strings.HasPrefix(rv, `{"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0","gpu":"0"}}],"nodelist":["node0"],"starttime":0,"expiration":100},"scheduling":{"graph":`) ||
		!strings.Contains(rv, string(a.JGF())) {
		t.Errorf("RV1JSON: %s", rv)
	}
	for _, f := range []string{match.FormatRV1NoSched, match.FormatRV1, match.FormatJGF} {
		r, err := a.R(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := SummarizeR(f, r)
		if err != nil || s.String() != "node0:core=1,gpu=1" {
			t.Errorf("SummarizeR(%s) = %v, %v", f, s, err)
		}
	}
	if _, err := a.R("simple"); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("R(simple): %v", err)
	}
}

func TestMatchFormatOption(t *testing.T) {
	g := fluxiontest.Tiny(t)
	_, err := match.NewMatcher(g, match.MatcherOptions{MatchFormat: "simple"})
	if !errors.Is(err, match.ErrInvalid) || !strings.Contains(err.Error(), "rv1_nosched, rv1, jgf") {
		t.Errorf("NewMatcher(simple): %v", err)
	}
	js := []byte(fluxiontest.Req{Nodes: 1, Slots: 1, Cores: 2}.YAML())
	for _, tc := range []struct{ opt, format, prefix string }{
		{"", match.FormatRV1, `{"version":1,"execution":`},
		{match.FormatRV1NoSched, match.FormatRV1NoSched, `{"version":1,"execution":`},
		{match.FormatRV1, match.FormatRV1, `{"version":1,"execution":`},
		{match.FormatJGF, match.FormatJGF, `{"graph":{"nodes":[`},
	} {
		b, err := NewGoBackend(fluxiontest.Tiny(t), match.MatcherOptions{Policy: "lonode", MatchFormat: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.Match(match.MatchAllocate, js, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Format != tc.format || !strings.HasPrefix(string(res.R), tc.prefix) {
			t.Errorf("%q: format %q, R %s", tc.opt, res.Format, res.R)
		}
		if strings.Contains(string(res.R), "scheduling") != (tc.opt == match.FormatRV1) {
			t.Errorf("%q: scheduling key: %s", tc.opt, res.R)
		}
		s, err := SummarizeR(res.Format, res.R)
		if err != nil || s.String() != "node0:core=2" {
			t.Errorf("%q: SummarizeR = %v, %v", tc.opt, s, err)
		}
	}
}

// mustMatcher is a Go matcher on g under policy, or a failed test.
func mustMatcher(t testing.TB, g *graph.Graph, policy string) *match.Matcher {
	t.Helper()
	m, err := match.NewMatcher(g, match.MatcherOptions{Policy: policy, GraphDuration: 100000})
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	return m
}

// mustAlloc returns a function that fails the test on a match error.
func mustAlloc(t testing.TB) func(*match.Allocation, error) *match.Allocation {
	return func(a *match.Allocation, err error) *match.Allocation {
		t.Helper()
		if err != nil {
			t.Fatalf("match: %v", err)
		}
		return a
	}
}
