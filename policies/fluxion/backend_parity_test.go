package fluxion

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// The parity harness: one sequence of match/cancel steps (a corpus case,
// see corpus_test.go) run against two Backends, comparing per step the
// outcome (ok, EBUSY, ENODEV, EINVAL, ENOENT), and on success the job id,
// reserved, at and the allocated nodes with their core and gpu counts
// (SummarizeR, so an RFC 20 R and a JGF R compare). reapi_parity_test.go
// (build tag fluxion) runs it Go vs libreapi_cli; TestBackendParityGoGo
// runs it Go vs Go to keep the harness honest in every build.

// parityCase is a corpus case ready for two backends.
type parityCase struct {
	name  string
	cc    corpusCase
	g     *graph.Graph // the case's graph, every vertex up
	jgf   []byte       // g as JGF
	opt   match.MatcherOptions
	steps []corpusStep // all the case's steps
}

// parityLoad reads a corpus case for the parity harness. It returns
// skip != "" for cases the reapi backend cannot run: libreapi_cli has no
// clock (steps with now != 0). set-status, partial-cancel and
// update-allocate steps go through both backends (Backend.SetStatus,
// PartialCancel, UpdateAllocate). Statuses are not written into the
// JGF: flux-sched miscounts nodes loaded down (initialize_node_stats,
// resource_graph_store.cpp:45-54, subtracts one from nodes_up for
// each), so a leading set-status is applied by SetStatus too. The
// graph window is libreapi_cli's fixed one (the case's graphDuration is
// dropped).
func parityLoad(t *testing.T, name, file string, data []byte) (pc *parityCase, skip string) {
	t.Helper()
	pc = &parityCase{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&pc.cc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	pc.g = corpusBuildGraph(t, file, &pc.cc)
	pc.steps = pc.cc.Steps
	for i, st := range pc.steps {
		if st.Now != 0 {
			return nil, fmt.Sprintf("steps[%d]: now=%d (libreapi_cli has no clock)", i, st.Now)
		}
	}
	var buf bytes.Buffer
	if err := pc.g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	pc.jgf = buf.Bytes()
	// Both backends write R as JGF: its vertices are named by path, so
	// two allocations compare vertex by vertex (an RFC 20 R_lite idset
	// loses vertices whose ids repeat under one node, as in
	// flux-sched-small.json, where core ids restart in each socket).
	pc.opt = match.MatcherOptions{Policy: pc.cc.Policy, PruneFilters: pc.cc.PruneFilters, MatchFormat: match.FormatJGF}
	return pc, ""
}

// parityCorpus returns the corpus cases plus the inline ones.
func parityCorpus(t *testing.T) (cases []*parityCase) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		pc, skip := parityLoad(t, name, f, data)
		if skip != "" {
			t.Logf("parity: %s skipped: %s", name, skip)
			continue
		}
		cases = append(cases, pc)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range parityInline {
			if !yield(k) {
				return
			}
		}
	}) {
		pc, skip := parityLoad(t, name, filepath.Join("testdata", "corpus", name+".yaml"), []byte(parityInline[name]))
		if skip != "" {
			t.Fatalf("inline case %s: %s", name, skip)
		}
		cases = append(cases, pc)
	}
	return cases
}

// parityInline are small sequences written for the parity test: every op,
// busy/unsatisfiable outcomes, reservations and cancels, per policy.
var parityInline = map[string]string{
	"inline-first-ops": `
graph: {nodes: 2, cores: 4}
policy: first
steps:
- {op: allocate, req: {slots: 1, cores: 3}}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 4}}
- {op: allocate, req: {slots: 1, cores: 2}, expect: busy}
- {op: allocate_with_satisfiability, req: {nodes: 1, slots: 1, cores: 4}, expect: busy}
- {op: allocate_with_satisfiability, req: {nodes: 3, slots: 1, cores: 1}, expect: unsatisfiable}
- {op: satisfiability, req: {slots: 1, cores: 8}, expect: unsatisfiable}
- {op: satisfiability, req: {nodes: 2, slots: 1, cores: 4}}
- {op: allocate_orelse_reserve, req: {nodes: 2, slots: 1, cores: 4, duration: 50}}
- {op: without_allocating, req: {slots: 1, cores: 1}}
- {op: without_allocating_future, req: {nodes: 2, slots: 1, cores: 4, duration: 10}}
- {op: cancel, job: 1}
- {op: cancel, job: 1, expect: nojob}
- {op: allocate, req: {slots: 2, cores: 2}}
`,
	"inline-lonode-reserve": `
graph: {nodes: 3, cores: 2}
policy: lonode
steps:
- {op: allocate_orelse_reserve, req: {nodes: 2, slots: 1, cores: 2, duration: 100}}
- {op: allocate_orelse_reserve, req: {nodes: 2, slots: 1, cores: 2, duration: 100}}
- {op: allocate_orelse_reserve, req: {slots: 1, cores: 1, duration: 30}}
- {op: allocate_orelse_reserve, req: {slots: 3, cores: 2, duration: 20}}
- {op: cancel, job: 2}
- {op: allocate_orelse_reserve, req: {nodes: 3, slots: 1, cores: 2, duration: 5}}
- {op: allocate_orelse_reserve, req: {nodes: 4, slots: 1, cores: 1}, expect: busy}
`,
	"inline-hinode-gpus": `
graph: {nodes: 2, cores: 4, gpus: 2}
policy: hinode
pruneFilters: "ALL:core,ALL:gpu,ALL:node"
steps:
- {op: allocate, req: {slots: 2, cores: 1, gpus: 1}}
- {op: allocate, req: {slots: 1, cores: 2, gpus: 1}}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1, gpus: 2}, expect: busy}
- {op: allocate_with_satisfiability, req: {slots: 1, cores: 1, gpus: 3}, expect: unsatisfiable}
- {op: cancel, job: 1}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1, gpus: 2}}
`,
	"inline-low-exclusive": `
graph: {nodes: 3, cores: 4}
policy: low
steps:
- {op: allocate, req: {nodes: 1, exclusive: true, slots: 1, cores: 1}}
- {op: allocate, req: {slots: 3, cores: 2}}
- {op: allocate, req: {nodes: 2, exclusive: true, slots: 1, cores: 1}, expect: busy}
- {op: allocate_orelse_reserve, req: {nodes: 2, exclusive: true, slots: 1, cores: 1, duration: 10}}
`,
	// first stops exploring once it has what it asked for
	// (explore_dynamically): node>slot on nodes of two sockets finds its
	// slot on a socket, allocates nothing (ErrNoUpdate), and reports
	// EBUSY only if the search met a busy or mismatching vertex on its
	// way (a gpu when the slot asks for cores only). Step 4: node1 comes
	// first (node2's edge weight fell with job 2), its socket1 holds the
	// slot and the search stops there, never reaching node2's busy core:
	// no errno, and the job counter stays.
	"inline-first-early-stop": `
graph: {nodes: 3, cores: 4, gpus: 2, sockets: 2}
policy: first
steps:
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1}, expect: busy}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1, gpus: 1}, expect: noupdate}
- {op: allocate, req: {slots: 1, cores: 1}}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1}, expect: busy}
- {op: allocate, req: {nodes: 1, slots: 1, cores: 1, gpus: 1}, expect: noupdate}
- {op: allocate, req: {slots: 2, cores: 2}}
- {op: allocate, req: {slots: 1, cores: 1, gpus: 1}}
`,
}

// parityOutcome is one backend's result of one step.
type parityOutcome struct {
	errno    string // "ok" or the errno name
	err      error
	res      *MatchResult
	sum      *RSummary
	verts    []string // JGF R: "path" or "path:x" (exclusive), sorted
	full     bool     // partial-cancel: full removal
	info     *JobInfo
	infoErrn string
}

// parityJGFVertices lists the vertices of a JGF R by containment path,
// with ":x" for the exclusive ones, sorted.
func parityJGFVertices(r []byte) ([]string, error) {
	var doc struct {
		Graph struct {
			Nodes []struct {
				Metadata struct {
					Exclusive bool `json:"exclusive"`
					Paths     struct {
						Containment string `json:"containment"`
					} `json:"paths"`
				} `json:"metadata"`
			} `json:"nodes"`
		} `json:"graph"`
	}
	if len(bytes.TrimSpace(r)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(r, &doc); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range doc.Graph.Nodes {
		v := n.Metadata.Paths.Containment
		if n.Metadata.Exclusive {
			v += ":x"
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

func (o parityOutcome) String() string {
	if o.errno != "ok" {
		return fmt.Sprintf("%s (%v)", o.errno, o.err)
	}
	if o.res == nil {
		return "ok"
	}
	return fmt.Sprintf("ok job=%d reserved=%v at=%d [%s]", o.res.JobID, o.res.Reserved, o.res.At, o.sum)
}

func parityStep(t *testing.T, b Backend, op match.MatchOp, st corpusStep, jobspec []byte) parityOutcome {
	t.Helper()
	var o parityOutcome
	switch st.Op {
	case "cancel":
		o.err = b.Cancel(st.Job)
	case "set-status":
		o.err = b.SetStatus(st.Path, st.Status == "up")
	case "partial-cancel":
		o.full, o.err = b.PartialCancel(st.Job, corpusR(&st))
	case "update-allocate":
		o.res, o.err = b.UpdateAllocate(st.Job, corpusR(&st), 0)
	default:
		o.res, o.err = b.Match(op, jobspec, 0)
	}
	o.errno = "ok"
	if o.err != nil {
		o.errno = match.MatchErrno(o.err)
		if o.errno == "" {
			o.errno = "other"
		}
		o.res = nil
		return o
	}
	if o.res != nil {
		sum, err := SummarizeR(o.res.Format, o.res.R)
		if err != nil {
			t.Fatalf("SummarizeR(%s): %v\n%s", o.res.Format, err, o.res.R)
		}
		o.sum = sum
		if o.res.Format == match.FormatJGF {
			if o.verts, err = parityJGFVertices(o.res.R); err != nil {
				t.Fatalf("JGF R: %v\n%s", err, o.res.R)
			}
		}
		if st.Op != "satisfiability" && st.Op != "without_allocating" && st.Op != "without_allocating_future" {
			o.info, err = b.Info(o.res.JobID)
			o.infoErrn = match.MatchErrno(err)
		}
	}
	return o
}

// parityDiff compares two outcomes; "" if they agree.
func parityDiff(st corpusStep, a, b parityOutcome) string {
	if a.errno != b.errno {
		return fmt.Sprintf("outcome: %s vs %s", a, b)
	}
	if st.Op == "partial-cancel" && a.errno == "ok" && a.full != b.full {
		return fmt.Sprintf("full removal %v vs %v", a.full, b.full)
	}
	if a.res == nil || b.res == nil || st.Op == "cancel" {
		return ""
	}
	var d []string
	if st.Op != "satisfiability" {
		if a.res.JobID != b.res.JobID {
			d = append(d, fmt.Sprintf("job id %d vs %d", a.res.JobID, b.res.JobID))
		}
		if a.res.Reserved != b.res.Reserved || a.res.At != b.res.At {
			d = append(d, fmt.Sprintf("reserved/at %v/%d vs %v/%d", a.res.Reserved, a.res.At, b.res.Reserved, b.res.At))
		}
		if sa, sb := a.sum.String(), b.sum.String(); sa != sb {
			d = append(d, fmt.Sprintf("allocation [%s] vs [%s]", sa, sb))
		} else if a.res.Format == match.FormatJGF && b.res.Format == match.FormatJGF && !slices.Equal(a.verts, b.verts) {
			d = append(d, fmt.Sprintf("JGF vertices %v vs %v", a.verts, b.verts))
		}
	}
	if (a.info == nil) != (b.info == nil) || a.infoErrn != b.infoErrn {
		d = append(d, fmt.Sprintf("info %v/%s vs %v/%s", a.info, a.infoErrn, b.info, b.infoErrn))
	} else if a.info != nil && (a.info.Reserved != b.info.Reserved || a.info.At != b.info.At) {
		d = append(d, fmt.Sprintf("info reserved/at %v/%d vs %v/%d", a.info.Reserved, a.info.At, b.info.Reserved, b.info.At))
	}
	return strings.Join(d, "; ")
}

// runParity runs pc against the backends opened by open (called with the
// case's JGF and options) and returns the differences, one per step.
// With checkExpect, the left backend's outcomes must also be the steps'
// expect values (default ok).
func runParity(t *testing.T, pc *parityCase, open func(name string, jgf []byte, opt match.MatcherOptions) (Backend, error), left, right string, checkExpect bool) []string {
	t.Helper()
	ba, err := open(left, pc.jgf, pc.opt)
	if err != nil {
		t.Fatalf("open %s: %v", left, err)
	}
	defer ba.Close()
	bb, err := open(right, pc.jgf, pc.opt)
	if err != nil {
		t.Fatalf("open %s: %v", right, err)
	}
	defer bb.Close()
	var diffs []string
	for i, st := range pc.steps {
		var op match.MatchOp
		var jobspec []byte
		if !parityNonMatchOps[st.Op] {
			var ok bool
			if op, ok = corpusOpNames[st.Op]; !ok {
				t.Fatalf("%s: steps[%d]: unknown op %q", pc.name, i, st.Op)
			}
			switch {
			case st.Req != nil:
				r := st.Req
				jobspec = []byte(fluxiontest.Req{Nodes: r.Nodes, Slots: r.Slots, Cores: r.Cores, GPUs: r.GPUs, MemMiB: r.Memory,
					NodeExcl: r.Exclusive, Dur: r.Duration}.YAML())
			case st.Jobspec != "":
				jobspec = []byte(st.Jobspec)
			default:
				t.Fatalf("%s: steps[%d]: no req or jobspec", pc.name, i)
			}
		}
		oa := parityStep(t, ba, op, st, jobspec)
		ob := parityStep(t, bb, op, st, jobspec)
		t.Logf("steps[%d] %s: %s: %s | %s: %s", i, st.Op, left, oa, right, ob)
		if checkExpect {
			want := st.Expect
			if want == "" {
				want = "ok"
			}
			got := oa.errno
			if got == "other" && errors.Is(oa.err, match.ErrNoUpdate) {
				got = corpusExpect["noupdate"] // ErrNoUpdate alone
			}
			if corpusExpect[want] != got {
				diffs = append(diffs, fmt.Sprintf("steps[%d] (%s): %s gave %s, want %s", i, st.Op, left, oa, corpusExpect[want]))
			}
		}
		if d := parityDiff(st, oa, ob); d != "" {
			diffs = append(diffs, fmt.Sprintf("steps[%d] (%s): %s", i, st.Op, d))
		}
	}
	return diffs
}

// parityNonMatchOps are the steps that are not match ops.
var parityNonMatchOps = map[string]bool{"cancel": true, "set-status": true, "partial-cancel": true, "update-allocate": true}

// openGoTwice opens "go" from the JGF for left and NewGoBackend over a
// freshly read graph for right, so both adapters' paths are compared.
func openGoTwice(name string, jgf []byte, opt match.MatcherOptions) (Backend, error) {
	if name == "go-jgf" {
		return OpenBackend(BackendGo, jgf, opt)
	}
	g, err := graph.ReadJGF(bytes.NewReader(jgf), "graph")
	if err != nil {
		return nil, err
	}
	return NewGoBackend(g, opt)
}

// TestBackendParityGoGo runs the parity harness with the Go backend on
// both sides: every case must agree with itself.
func TestBackendParityGoGo(t *testing.T) {
	for _, pc := range parityCorpus(t) {
		t.Run(pc.name, func(t *testing.T) {
			for _, d := range runParity(t, pc, openGoTwice, "go-jgf", "go-graph", strings.HasPrefix(pc.name, "inline-")) {
				t.Error(d)
			}
		})
	}
}

// TestBackendParityHarnessSeesDifferences checks that parityDiff reports
// a different outcome and a different allocation.
func TestBackendParityHarnessSeesDifferences(t *testing.T) {
	st := corpusStep{Op: "allocate"}
	ok := parityOutcome{errno: "ok", res: &MatchResult{JobID: 1}, sum: &RSummary{Nodes: map[string]map[string]int64{"n0": {"core": 2}}}}
	other := parityOutcome{errno: "ok", res: &MatchResult{JobID: 1}, sum: &RSummary{Nodes: map[string]map[string]int64{"n1": {"core": 2}}}}
	busy := parityOutcome{errno: "EBUSY", err: errors.New("busy")}
	if parityDiff(st, ok, ok) != "" {
		t.Error("equal outcomes differ")
	}
	if parityDiff(st, ok, busy) == "" {
		t.Error("ok vs busy not reported")
	}
	if parityDiff(st, ok, other) == "" {
		t.Error("different nodes not reported")
	}
}
