package fluxion

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestAllocationJGF checks the jgf match format against output derived
// by hand from jgf_match_writers_t and upd_dfv: post-order vertices
// (core0, gpu0, then node0, then cluster0), the edge into each child
// right after its subtree, default-valued fields left out.
func TestAllocationJGF(t *testing.T) {
	g := upTiny(t)
	m := mtMatcher(t, g, "lonode")
	a := mtOK(t)(m.Match(MatchAllocate, mtReq{nodes: 1, slots: 1, cores: 1, gpus: 1}.js(t), 0))
	want := `{"graph":{"nodes":[` +
		`{"id":"2","metadata":{"type":"core","id":0,"rank":0,"exclusive":true,"paths":{"containment":"/cluster0/node0/core0"}}},` +
		`{"id":"4","metadata":{"type":"gpu","id":0,"rank":0,"exclusive":true,"paths":{"containment":"/cluster0/node0/gpu0"}}},` +
		`{"id":"1","metadata":{"type":"node","id":0,"rank":0,"paths":{"containment":"/cluster0/node0"}}},` +
		`{"id":"0","metadata":{"type":"cluster","id":0,"rank":-1,"paths":{"containment":"/cluster0"}}}],` +
		`"edges":[{"source":"1","target":"2"},{"source":"1","target":"4"},{"source":"0","target":"1"}]}}`
	if got := string(a.JGF()); got != want {
		t.Errorf("JGF:\n got %s\nwant %s", got, want)
	}
	sub, err := ReadJGF(bytes.NewReader(a.JGF()), "R")
	if err != nil {
		t.Fatalf("ReadJGF(JGF): %v", err)
	}
	var paths []string
	for _, v := range sub.PreOrder() {
		s := &sub.Vertices[v]
		paths = append(paths, fmt.Sprintf("%s:%v", s.Path, s.Exclusive))
		gv, _ := g.Lookup(s.Path)
		if d := vertexDiff(&g.Vertices[gv], s); d != "" {
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
	for _, f := range []string{FormatRV1NoSched, FormatRV1, FormatJGF} {
		r, err := a.R(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := SummarizeR(f, r)
		if err != nil || s.String() != "node0:core=1,gpu=1" {
			t.Errorf("SummarizeR(%s) = %v, %v", f, s, err)
		}
	}
	if _, err := a.R("simple"); !errors.Is(err, ErrInvalid) {
		t.Errorf("R(simple): %v", err)
	}
}

func TestMatchFormatOption(t *testing.T) {
	g := upTiny(t)
	_, err := NewMatcher(g, MatcherOptions{MatchFormat: "simple"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "rv1_nosched, rv1, jgf") {
		t.Errorf("NewMatcher(simple): %v", err)
	}
	js := []byte(mtReq{nodes: 1, slots: 1, cores: 2}.yaml())
	for _, tc := range []struct{ opt, format, prefix string }{
		{"", FormatRV1, `{"version":1,"execution":`},
		{FormatRV1NoSched, FormatRV1NoSched, `{"version":1,"execution":`},
		{FormatRV1, FormatRV1, `{"version":1,"execution":`},
		{FormatJGF, FormatJGF, `{"graph":{"nodes":[`},
	} {
		b, err := NewGoBackend(upTiny(t), MatcherOptions{Policy: "lonode", MatchFormat: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.Match(MatchAllocate, js, 0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Format != tc.format || !strings.HasPrefix(string(res.R), tc.prefix) {
			t.Errorf("%q: format %q, R %s", tc.opt, res.Format, res.R)
		}
		if strings.Contains(string(res.R), "scheduling") != (tc.opt == FormatRV1) {
			t.Errorf("%q: scheduling key: %s", tc.opt, res.R)
		}
		s, err := SummarizeR(res.Format, res.R)
		if err != nil || s.String() != "node0:core=2" {
			t.Errorf("%q: SummarizeR = %v, %v", tc.opt, s, err)
		}
	}
}
