package fluxion

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestFluxionCorpus runs testdata/corpus/*.yaml: hand-derived match
// scenarios (issue 3). A case file holds
//
//	graph:                  # generator parameters (FromNodes) ...
//	  nodes: 4              #   identical nodes of cores/gpus/memory MiB
//	  cores: 4
//	  gpus: 1
//	  memory: 4096
//	  list: [{cores: 2}, {cores: 4, gpus: 1}]   # or heterogeneous nodes
//	  sockets: 2            #   socket level (0: none)
//	  pool: 1024            #   memory as pools of this many MiB (0: one vertex)
//	  racks: 2              #   rack level, nodes split into consecutive racks
//	jgf: file.json          # ... or a JGF file (relative to the corpus dir)
//	policy: lonode
//	pruneFilters: ALL:core,ALL:node   # optional
//	graphDuration: 100000             # optional (default 100000)
//	knownDifference: "..."  # optional: mismatches are logged, not failed
//	steps:
//	- op: allocate          # any MatchOp name, cancel, set-status
//	  now: 0
//	  req: {nodes: 1, slots: 1, cores: 2, gpus: 1, memory: 512, exclusive: true, duration: 100}
//	  jobspec: |            # or a full jobspec
//	    version: 1 ...
//	  expect: ok            # ok, busy, unsatisfiable, invalid, nojob
//	  job: 3                # the job id (match: checked; cancel: which)
//	  alloc:                # exactly these nodes, each with
//	    node0: {cores: "0-1", gpus: "0", memory: 1024, exclusive: true}
//	    node1: {ncores: 2, ngpus: 1}
//	  hosts: "node[0-3]"    # RFC 29 hostlist of the nodes (pre-order)
//	  ncores: 8             # total cores / gpus allocated
//	  ngpus: 4
//	  at: 100               # start time
//	  reserved: true
//	  jgf: '{"graph":...}'  # the allocation's JGF (Allocation.JGF), exactly
//	- {op: cancel, job: 1}
//	- {op: set-status, path: /cluster0/node1, status: down}
//	- op: partial-cancel    # Matcher.PartialCancel of job with R, given as
//	  job: 1
//	  ranks: "0-1"          #   the ranks of an RFC 20 R_lite, or
//	  r: '{...}'            #   a whole R
//	  full: true            # fullRemoval expected
//	- op: update-allocate   # Matcher.UpdateAllocate(job, r, now); the
//	  job: 7                # alloc/at/... checks apply to the result
//	  r: '{...}'
//
// expect also takes "exists" (EEXIST) and "noupdate" (ErrNoUpdate alone:
// a match that holds nothing, where the cli fails without errno).
type corpusCase struct {
	Graph           *corpusGraph `yaml:"graph"`
	JGF             string       `yaml:"jgf"`
	Policy          string       `yaml:"policy"`
	PruneFilters    string       `yaml:"pruneFilters"`
	GraphDuration   int64        `yaml:"graphDuration"`
	KnownDifference string       `yaml:"knownDifference"`
	Steps           []corpusStep `yaml:"steps"`
}

type corpusGraph struct {
	Nodes  int   `yaml:"nodes"`
	Cores  int64 `yaml:"cores"`
	GPUs   int64 `yaml:"gpus"`
	Memory int64 `yaml:"memory"`
	List   []struct {
		Cores  int64 `yaml:"cores"`
		GPUs   int64 `yaml:"gpus"`
		Memory int64 `yaml:"memory"`
	} `yaml:"list"`
	Sockets int   `yaml:"sockets"`
	Pool    int64 `yaml:"pool"`
	Racks   int   `yaml:"racks"`
}

type corpusStep struct {
	Op       string                     `yaml:"op"`
	Now      int64                      `yaml:"now"`
	Req      *corpusReq                 `yaml:"req"`
	Jobspec  string                     `yaml:"jobspec"`
	Expect   string                     `yaml:"expect"`
	Job      uint64                     `yaml:"job"`
	Alloc    map[string]corpusNodeAlloc `yaml:"alloc"`
	Hosts    string                     `yaml:"hosts"`
	NCores   *int64                     `yaml:"ncores"`
	NGPUs    *int64                     `yaml:"ngpus"`
	At       *int64                     `yaml:"at"`
	Reserved *bool                      `yaml:"reserved"`
	Path     string                     `yaml:"path"`
	Ranks    string                     `yaml:"ranks"`
	R        string                     `yaml:"r"`
	Full     *bool                      `yaml:"full"`
	JGFOut   string                     `yaml:"jgf"`
	Status   string                     `yaml:"status"`
	Note     string                     `yaml:"note"`
}

type corpusReq struct {
	Nodes     int64   `yaml:"nodes"`
	Slots     int64   `yaml:"slots"`
	Cores     int64   `yaml:"cores"`
	GPUs      int64   `yaml:"gpus"`
	Memory    int64   `yaml:"memory"`
	Exclusive bool    `yaml:"exclusive"`
	Duration  float64 `yaml:"duration"`
}

type corpusNodeAlloc struct {
	Cores     *string `yaml:"cores"`
	GPUs      *string `yaml:"gpus"`
	NCores    *int64  `yaml:"ncores"`
	NGPUs     *int64  `yaml:"ngpus"`
	Memory    *int64  `yaml:"memory"`
	Exclusive *bool   `yaml:"exclusive"`
}

var corpusExpect = map[string]string{
	"ok": "ok", "busy": "EBUSY", "unsatisfiable": "ENODEV", "invalid": "EINVAL", "nojob": "ENOENT", "exists": "EEXIST",
	// noupdate: ErrNoUpdate without ErrBusy (the cli fails without errno).
	"noupdate": "ENOUPDATE",
}

// corpusR is a step's R: r as given, or an RFC 20 R whose R_lite names
// ranks.
func corpusR(st *corpusStep) []byte {
	if st.R != "" {
		return []byte(st.R)
	}
	return []byte(`{"version":1,"execution":{"R_lite":[{"rank":"` + st.Ranks + `","children":{}}]}}`)
}

func TestFluxionCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "corpus")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			runCorpusCase(t, file)
		})
	}
}

func runCorpusCase(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cc corpusCase
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(cc.Steps) == 0 {
		t.Fatalf("%s: no steps", file)
	}
	g := corpusBuildGraph(t, file, &cc)
	dur := cc.GraphDuration
	if dur == 0 {
		dur = 100000
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{Policy: cc.Policy, PruneFilters: cc.PruneFilters, GraphDuration: dur})
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	var diffs []string
	fail := func(format string, args ...any) {
		diffs = append(diffs, fmt.Sprintf(format, args...))
	}
	for i, st := range cc.Steps {
		where := fmt.Sprintf("steps[%d] (%s)", i, st.Op)
		if st.Note != "" {
			where += " [" + st.Note + "]"
		}
		want := st.Expect
		if want == "" {
			want = "ok"
		}
		wantErrno, ok := corpusExpect[want]
		if !ok {
			t.Fatalf("%s: unknown expect %q", where, want)
		}
		var a *match.Allocation
		switch st.Op {
		case "cancel":
			err = m.Cancel(st.Job)
		case "partial-cancel":
			var full bool
			full, err = m.PartialCancel(st.Job, corpusR(&st))
			if err == nil && st.Full != nil && full != *st.Full {
				fail("%s: full removal %v, want %v", where, full, *st.Full)
			}
		case "update-allocate":
			a, err = m.UpdateAllocate(st.Job, corpusR(&st), st.Now)
		case "set-status":
			var s graph.Status
			switch st.Status {
			case "up":
				s = graph.StatusUp
			case "down":
				s = graph.StatusDown
			default:
				t.Fatalf("%s: status %q, want up or down", where, st.Status)
			}
			err = g.SetStatus(st.Path, s)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		default:
			op, ok := corpusOpNames[st.Op]
			if !ok {
				t.Fatalf("%s: unknown op", where)
			}
			var js *jobspec.Jobspec
			switch {
			case st.Req != nil && st.Jobspec != "":
				t.Fatalf("%s: both req and jobspec", where)
			case st.Req != nil:
				r := st.Req
				js = fluxiontest.Req{Nodes: r.Nodes, Slots: r.Slots, Cores: r.Cores, GPUs: r.GPUs, MemMiB: r.Memory,
					NodeExcl: r.Exclusive, Dur: r.Duration}.Jobspec(t)
			case st.Jobspec != "":
				js = fluxiontest.Parse(t, st.Jobspec)
			default:
				t.Fatalf("%s: no req or jobspec", where)
			}
			a, err = m.Match(op, js, st.Now)
		}
		if got := corpusErrno(err); got != wantErrno {
			fail("%s: got %s (%v), want %s", where, got, err, wantErrno)
			continue
		}
		if a == nil {
			if st.Alloc != nil || st.Hosts != "" || st.At != nil || st.NCores != nil {
				if err == nil && st.Op != "satisfiability" {
					fail("%s: no allocation to check", where)
				}
			}
			continue
		}
		for _, d := range corpusCheckAlloc(a, &st) {
			fail("%s: %s", where, d)
		}
		if want := strings.TrimSpace(st.JGFOut); want != "" && string(a.JGF()) != want {
			fail("%s: JGF\n got %s\nwant %s", where, a.JGF(), want)
		}
	}
	if len(diffs) == 0 {
		if cc.KnownDifference != "" {
			t.Logf("knownDifference %q no longer differs: the matcher now agrees; drop the mark", cc.KnownDifference)
		}
		return
	}
	if cc.KnownDifference != "" {
		t.Logf("known difference: %s", cc.KnownDifference)
		for _, d := range diffs {
			t.Logf("  %s", d)
		}
		return
	}
	for _, d := range diffs {
		t.Error(d)
	}
}

// corpusCheckAlloc compares a with the step's expectations.
func corpusCheckAlloc(a *match.Allocation, st *corpusStep) []string {
	var out []string
	g := a.Graph()
	type nodeSum struct {
		cores, gpus []int64
		mem         int64
		excl        bool
	}
	per := map[string]*nodeSum{}
	var order []string
	var totCores, totGPUs int64
	for _, av := range a.Vertices {
		v := &g.Vertices[av.ID]
		n := g.Ancestor(av.ID, "node")
		if n == graph.NoVertex {
			continue
		}
		name := g.Vertices[n].Name
		s := per[name]
		if s == nil {
			s = &nodeSum{}
			per[name] = s
			order = append(order, name)
		}
		switch v.Type {
		case "node":
			s.excl = s.excl || av.Exclusive
		case "core":
			s.cores = append(s.cores, v.ID)
			totCores++
		case "gpu":
			s.gpus = append(s.gpus, v.ID)
			totGPUs++
		case "memory":
			s.mem += av.Units
		}
	}
	if st.Alloc != nil {
		var got, want []string
		for n := range per {
			got = append(got, n)
		}
		for n := range st.Alloc {
			want = append(want, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("nodes %v, want %v (got %s)", got, want, corpusRender(a)))
		} else {
			for n, w := range st.Alloc {
				s := per[n]
				if w.Cores != nil && match.IDSet(s.cores) != *w.Cores {
					out = append(out, fmt.Sprintf("%s: cores %q, want %q (got %s)", n, match.IDSet(s.cores), *w.Cores, corpusRender(a)))
				}
				if w.GPUs != nil && match.IDSet(s.gpus) != *w.GPUs {
					out = append(out, fmt.Sprintf("%s: gpus %q, want %q (got %s)", n, match.IDSet(s.gpus), *w.GPUs, corpusRender(a)))
				}
				if w.NCores != nil && int64(len(s.cores)) != *w.NCores {
					out = append(out, fmt.Sprintf("%s: %d cores, want %d (got %s)", n, len(s.cores), *w.NCores, corpusRender(a)))
				}
				if w.NGPUs != nil && int64(len(s.gpus)) != *w.NGPUs {
					out = append(out, fmt.Sprintf("%s: %d gpus, want %d (got %s)", n, len(s.gpus), *w.NGPUs, corpusRender(a)))
				}
				if w.Memory != nil && s.mem != *w.Memory {
					out = append(out, fmt.Sprintf("%s: memory %d, want %d (got %s)", n, s.mem, *w.Memory, corpusRender(a)))
				}
				if w.Exclusive != nil && s.excl != *w.Exclusive {
					out = append(out, fmt.Sprintf("%s: exclusive %v, want %v (got %s)", n, s.excl, *w.Exclusive, corpusRender(a)))
				}
			}
		}
	}
	if st.Hosts != "" {
		if got := match.Hostlist(order); got != st.Hosts {
			out = append(out, fmt.Sprintf("hosts %q, want %q", got, st.Hosts))
		}
	}
	if st.NCores != nil && totCores != *st.NCores {
		out = append(out, fmt.Sprintf("%d cores in all, want %d", totCores, *st.NCores))
	}
	if st.NGPUs != nil && totGPUs != *st.NGPUs {
		out = append(out, fmt.Sprintf("%d gpus in all, want %d", totGPUs, *st.NGPUs))
	}
	if st.At != nil && a.At != *st.At {
		out = append(out, fmt.Sprintf("at %d, want %d", a.At, *st.At))
	}
	if st.Reserved != nil && a.Reserved != *st.Reserved {
		out = append(out, fmt.Sprintf("reserved %v, want %v", a.Reserved, *st.Reserved))
	}
	if st.Job != 0 && a.JobID != st.Job {
		out = append(out, fmt.Sprintf("job id %d, want %d", a.JobID, st.Job))
	}
	return out
}

// corpusRender is a compact rendering for failure messages:
// "node0!:c0-3,g0,m1024 node1:c2".
func corpusRender(a *match.Allocation) string {
	g := a.Graph()
	var parts []string
	cur := graph.NoVertex
	var cores, gpus []int64
	var mem int64
	excl := false
	flush := func() {
		if cur == graph.NoVertex {
			return
		}
		s := g.Vertices[cur].Name
		if excl {
			s += "!"
		}
		var f []string
		if len(cores) > 0 {
			f = append(f, "c"+match.IDSet(cores))
		}
		if len(gpus) > 0 {
			f = append(f, "g"+match.IDSet(gpus))
		}
		if mem > 0 {
			f = append(f, fmt.Sprintf("m%d", mem))
		}
		parts = append(parts, s+":"+strings.Join(f, ","))
		cores, gpus, mem, excl = nil, nil, 0, false
	}
	for _, av := range a.Vertices {
		v := &g.Vertices[av.ID]
		n := g.Ancestor(av.ID, "node")
		if n == graph.NoVertex {
			continue
		}
		if n != cur {
			flush()
			cur = n
		}
		switch v.Type {
		case "node":
			excl = av.Exclusive
		case "core":
			cores = append(cores, v.ID)
		case "gpu":
			gpus = append(gpus, v.ID)
		case "memory":
			mem += av.Units
		}
	}
	flush()
	return fmt.Sprintf("%q at %d", strings.Join(parts, " "), a.At)
}

func corpusBuildGraph(t *testing.T, file string, cc *corpusCase) *graph.Graph {
	t.Helper()
	switch {
	case cc.JGF != "" && cc.Graph != nil:
		t.Fatal("both graph and jgf")
	case cc.JGF != "":
		f, err := os.Open(filepath.Join(filepath.Dir(file), cc.JGF))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		g, err := graph.ReadJGF(f, cc.JGF)
		if err != nil {
			t.Fatal(err)
		}
		return g
	case cc.Graph == nil:
		t.Fatal("no graph or jgf")
	}
	gp := cc.Graph
	type shape struct{ cores, gpus, mem int64 }
	var shapes []shape
	if len(gp.List) > 0 {
		if gp.Nodes != 0 || gp.Cores != 0 || gp.GPUs != 0 || gp.Memory != 0 {
			t.Fatal("graph: list excludes nodes/cores/gpus/memory")
		}
		for _, n := range gp.List {
			shapes = append(shapes, shape{n.Cores, n.GPUs, n.Memory})
		}
	} else {
		for range gp.Nodes {
			shapes = append(shapes, shape{gp.Cores, gp.GPUs, gp.Memory})
		}
	}
	if len(shapes) == 0 {
		t.Fatal("graph: no nodes")
	}
	opt := graph.GenerateOptions{Sockets: gp.Sockets, Memory: graph.MemoryNone}
	for _, s := range shapes {
		if s.mem > 0 {
			opt.Memory = graph.MemorySingle
		}
	}
	if gp.Pool > 0 {
		opt.Memory, opt.PoolMiB = graph.MemoryPools, gp.Pool
	}
	if gp.Racks > 0 {
		opt.Level = graph.LevelRack
	}
	per := 0
	if gp.Racks > 0 {
		per = (len(shapes) + gp.Racks - 1) / gp.Racks
	}
	ns := make([]*engine.Node, len(shapes))
	for i, s := range shapes {
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: s.cores * 1000, GPU: s.gpus, Memory: s.mem << 20, Pods: 110}}
		if per > 0 {
			ns[i].Rack = fmt.Sprintf("r%d", i/per)
		}
	}
	g, err := graph.FromNodes(ns, opt)
	if err != nil {
		t.Fatalf("FromNodes: %v", err)
	}
	return g
}

// corpusOpNames are the match ops of a corpus step, by name.
var corpusOpNames = map[string]match.MatchOp{
	"allocate":                     match.MatchAllocate,
	"allocate_with_satisfiability": match.MatchAllocateWithSatisfiability,
	"allocate_orelse_reserve":      match.MatchAllocateOrElseReserve,
	"satisfiability":               match.MatchSatisfiability,
	"without_allocating":           match.MatchWithoutAllocating,
	"without_allocating_future":    match.MatchWithoutAllocatingFuture,
}

// corpusErrno is the outcome of a corpus step as its errno: "ok",
// MatchErrno's name, or ENOUPDATE for ErrNoUpdate.
func corpusErrno(err error) string {
	if err == nil {
		return "ok"
	}
	if e := match.MatchErrno(err); e != "" {
		return e
	}
	if errors.Is(err, match.ErrNoUpdate) {
		return "ENOUPDATE" // no errno (see ErrNoUpdate)
	}
	return "error: " + err.Error()
}
