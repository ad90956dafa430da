package fluxion

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

func backendJGF(t *testing.T, g *graph.Graph) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoBackend(t *testing.T) {
	g := fluxiontest.Flat(t, 4, 4)
	b, err := NewGoBackend(g, match.MatcherOptions{Policy: "lonode"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	two := []byte(fluxiontest.Req{Slots: 1, Cores: 2, Dur: 100}.YAML())

	res, err := b.Match(match.MatchAllocate, two, 0)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if res.JobID != 1 || res.Reserved || res.At != 0 || res.Format != match.FormatRV1 {
		t.Errorf("allocate: %+v", res)
	}
	var r match.RV1
	if err := json.Unmarshal(res.R, &r); err != nil {
		t.Fatalf("R: %v\n%s", err, res.R)
	}
	if r.Version != 1 || len(r.Execution.RLite) != 1 || r.Execution.RLite[0].Children["core"] != "0-1" {
		t.Errorf("R = %s", res.R)
	}
	sum, err := SummarizeR(res.Format, res.R)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.String(); got != "node0:core=2" {
		t.Errorf("summary %q, want node0:core=2", got)
	}

	// Fill the rest now, then reserve.
	whole := []byte(fluxiontest.Req{Nodes: 2, Slots: 1, Cores: 4, Dur: 50}.YAML())
	if _, err := b.Match(match.MatchAllocate, whole, 0); !errors.Is(err, match.ErrBusy) {
		t.Errorf("allocate 2 whole nodes: %v, want ErrBusy", err)
	}
	res, err = b.Match(match.MatchAllocateOrElseReserve, whole, 0)
	if err != nil || !res.Reserved || res.At != 100 || res.JobID != 3 {
		t.Fatalf("reserve: %+v, %v", res, err)
	}
	info, err := b.Info(3)
	if err != nil || info.Mode != "RESERVED" || !info.Reserved || info.At != 100 {
		t.Errorf("Info(3) = %+v, %v", info, err)
	}
	info, err = b.Info(1)
	if err != nil || info.Mode != "ALLOCATED" || info.Reserved || info.At != 0 {
		t.Errorf("Info(1) = %+v, %v", info, err)
	}
	if _, err := b.Match(match.MatchAllocateWithSatisfiability, []byte(fluxiontest.Req{Slots: 1, Cores: 5}.YAML()), 0); !errors.Is(err, match.ErrUnsatisfiable) {
		t.Errorf("5 cores in a slot: %v, want ErrUnsatisfiable", err)
	}
	res, err = b.Match(match.MatchSatisfiability, two, 0)
	if err != nil || len(res.R) != 0 {
		t.Errorf("satisfiability: %+v, %v", res, err)
	}
	if _, err := b.Match(match.MatchAllocate, []byte("version: 1\nresources: 7\n"), 0); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("bad jobspec: %v, want ErrInvalid", err)
	}
	if _, err := b.Match(match.MatchOp(0), two, 0); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("op 0: %v, want ErrInvalid", err)
	}
	if err := b.Cancel(1); err != nil {
		t.Errorf("Cancel(1): %v", err)
	}
	if info, err := b.Info(1); err != nil || info.Mode != "CANCELED" {
		t.Errorf("Info(1) after cancel = %+v, %v", info, err)
	}
	if err := b.Cancel(1); !errors.Is(err, match.ErrNoJob) || match.MatchErrno(err) != "ENOENT" {
		t.Errorf("second Cancel(1): %v, want ErrNoJob", err)
	}
	if _, err := b.Info(99); !errors.Is(err, match.ErrNoJob) {
		t.Errorf("Info(99): %v, want ErrNoJob", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Match(match.MatchAllocate, two, 0); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("Match after Close: %v, want ErrInvalid", err)
	}
	if err := b.Cancel(3); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("Cancel after Close: %v, want ErrInvalid", err)
	}
}

func TestOpenBackend(t *testing.T) {
	jgf := backendJGF(t, fluxiontest.Flat(t, 2, 2, 2))
	b, err := OpenBackend("go", jgf, match.MatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Match(match.MatchAllocate, []byte(fluxiontest.Req{Nodes: 3, Slots: 1, Cores: 2}.YAML()), 0)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := SummarizeR(res.Format, res.R)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sum.NodeNames(), []string{"node0", "node1", "node2"}) || sum.Count("core") != 6 {
		t.Errorf("summary %s", sum)
	}
	b.Close()

	if _, err := OpenBackend("go", []byte("{"), match.MatcherOptions{}); !errors.Is(err, match.ErrInvalid) {
		t.Errorf("bad JGF: %v, want ErrInvalid", err)
	}
	if _, err := OpenBackend("go", jgf, match.MatcherOptions{Policy: "nosuch"}); err == nil {
		t.Error("unknown policy accepted")
	}
	if _, err := OpenBackend("slurm", jgf, match.MatcherOptions{}); err == nil || !strings.Contains(err.Error(), `"slurm"`) {
		t.Errorf("unknown backend: %v", err)
	}
	if !slices.Equal(BackendNames(), []string{"go", "reapi"}) {
		t.Errorf("BackendNames() = %v", BackendNames())
	}
}

func TestOpenBackendReapiUnavailable(t *testing.T) {
	if ReapiAvailable {
		t.Skip("built with -tags fluxion")
	}
	jgf := backendJGF(t, fluxiontest.Flat(t, 2))
	b, err := OpenBackend("reapi", jgf, match.MatcherOptions{})
	if b != nil || !errors.Is(err, ErrBackendUnavailable) {
		t.Fatalf("OpenBackend(reapi) = %v, %v", b, err)
	}
	const want = "fluxion: the reapi backend needs a build with -tags fluxion and flux-sched's libreapi_cli (see docs/fluxion-reapi.md)"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}

func TestSummarizeR(t *testing.T) {
	rv1 := `{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-3","gpu":"0"}},{"rank":"5","children":{"core":"2"}}],
	 "nodelist":["node[00-01]","login5"],"starttime":0,"expiration":100}}`
	s, err := SummarizeR(match.FormatRV1, []byte(rv1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "login5:core=1 node00:core=4,gpu=1 node01:core=4,gpu=1"; got != want {
		t.Errorf("rv1: %q, want %q", got, want)
	}
	// Fluxion's jgf match format: matched vertices and their ancestors,
	// children before parents.
	jgf := `{"graph":{"nodes":[
	 {"id":"3","metadata":{"type":"core","name":"core1","paths":{"containment":"/cluster0/node1/socket0/core1"}}},
	 {"id":"4","metadata":{"type":"core","name":"core2","paths":{"containment":"/cluster0/node1/socket0/core2"}}},
	 {"id":"5","metadata":{"type":"gpu","name":"gpu0","paths":{"containment":"/cluster0/node1/socket0/gpu0"}}},
	 {"id":"2","metadata":{"type":"socket","name":"socket0","paths":{"containment":"/cluster0/node1/socket0"}}},
	 {"id":"1","metadata":{"type":"node","name":"node1","paths":{"containment":"/cluster0/node1"}}},
	 {"id":"7","metadata":{"type":"core","name":"core0","paths":{"containment":"/cluster0/node2/core0"}}},
	 {"id":"6","metadata":{"type":"node","name":"node2","paths":{"containment":"/cluster0/node2"}}},
	 {"id":"0","metadata":{"type":"cluster","name":"cluster0","paths":{"containment":"/cluster0"}}}],
	 "edges":[]}}`
	s, err = SummarizeR(match.FormatJGF, []byte(jgf))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "node1:core=2,gpu=1 node2:core=1"; got != want {
		t.Errorf("jgf: %q, want %q", got, want)
	}
	if s, err := SummarizeR(match.FormatJGF, nil); err != nil || len(s.Nodes) != 0 {
		t.Errorf("empty R: %v, %v", s, err)
	}
	if _, err := SummarizeR("simple", []byte("x")); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := SummarizeR(match.FormatRV1, []byte(`{"version":1,"execution":{"R_lite":[{"rank":"0-2","children":{}}],"nodelist":["a,b"]}}`)); err == nil {
		t.Error("3 ranks for 2 names accepted")
	}
}

func TestExpandHostlistRoundTrip(t *testing.T) {
	for _, names := range [][]string{
		{"node0", "node1", "node2", "node5"},
		{"n007", "n008", "n010", "login", "x1"},
		{"rack0node3"},
	} {
		hl := match.Hostlist(names)
		got, err := match.ExpandHostlist(hl)
		if err != nil || !slices.Equal(got, names) {
			t.Errorf("expandHostlist(%q) = %v, %v; want %v", hl, got, err, names)
		}
	}
	for _, bad := range []string{"n[1-", "n[3-1]", "n[a]"} {
		if _, err := match.ExpandHostlist(bad); err == nil {
			t.Errorf("expandHostlist(%q) accepted", bad)
		}
	}
	ids, err := match.ExpandIDSet("0-2,7,-1")
	if err != nil || !slices.Equal(ids, []int64{0, 1, 2, 7, -1}) {
		t.Errorf("expandIDSet = %v, %v", ids, err)
	}
}

// TestGoBackendJobspecCache: the Go backend parses a jobspec text once
// and reuses it; a malformed text is refused every time (not cached);
// the cache does not grow past specCacheSize; cached or not, the same
// text gives the same match.
func TestGoBackendJobspecCache(t *testing.T) {
	be, err := OpenBackend(BackendGo, backendJGF(t, fluxiontest.Flat(t, 4, 4)), match.MatcherOptions{Policy: "low"})
	if err != nil {
		t.Fatal(err)
	}
	gb := be.(*goBackend)
	spec := func(cores int) []byte {
		return []byte(fmt.Sprintf("version: 1\nresources:\n- type: slot\n  count: 1\n  label: default\n  with:\n  - type: core\n    count: %d\ntasks:\n- command: [app]\n  slot: default\n  count: {per_slot: 1}\nattributes:\n  system:\n    duration: 10\n", cores))
	}
	var got []string
	for range 2 {
		res, err := be.Match(match.MatchAllocate, spec(2), 0)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := SummarizeR(res.Format, res.R)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sum.String())
		if err := be.Cancel(res.JobID); err != nil {
			t.Fatal(err)
		}
	}
	if got[0] != got[1] || len(gb.specs) != 1 {
		t.Errorf("same text twice: %q, %d cached, want the same match and 1 entry", got, len(gb.specs))
	}
	for range 2 {
		if _, err := be.Match(match.MatchAllocate, []byte("version: 1\nresources: 7\n"), 0); !errors.Is(err, match.ErrInvalid) {
			t.Errorf("malformed jobspec: %v, want ErrInvalid", err)
		}
	}
	for i := range specCacheSize + 10 {
		// Distinct texts: the duration differs.
		text := bytes.Replace(spec(1), []byte("duration: 10"), fmt.Appendf(nil, "duration: %d", 10+i), 1)
		res, err := be.Match(match.MatchAllocate, text, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.Cancel(res.JobID); err != nil {
			t.Fatal(err)
		}
		if len(gb.specs) > specCacheSize {
			t.Fatalf("%d jobspecs cached, at most %d", len(gb.specs), specCacheSize)
		}
	}
}
