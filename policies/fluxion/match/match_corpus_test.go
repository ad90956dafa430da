package match

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// matchCase is one script of testdata/match/*.yaml:
//
//	graph:            # either generator parameters ...
//	  sockets: 2
//	  nodes: [{cores: 4, gpus: 1, memory: 1024}, ...]
//	jgf: ../jgf/x.json  # ... or a JGF file (relative to testdata/match)
//	policy: lonode
//	prune_filters: ALL:core,ALL:node   # optional
//	ops:
//	- {op: allocate, req: {nodes: 1, slots: 1, cores: 2}, want: ok, where: "node0:core0,core1"}
//	- {op: allocate_orelse_reserve, req: {...}, want: ok, at: 100}
//	- {op: allocate, jobspec: "<YAML>", want: EBUSY}
//	- {op: cancel, job: 1}
//	- {op: down, path: /cluster0/node0}   # and up
//
// want is ok, EBUSY, ENODEV, EINVAL or ENOENT; where (optional) is
// mtWhere of the allocation; at and reserved (optional) check the start.
type matchCase struct {
	Graph *struct {
		Sockets int `yaml:"sockets"`
		Nodes   []struct {
			Cores  int64 `yaml:"cores"`
			GPUs   int64 `yaml:"gpus"`
			Memory int64 `yaml:"memory"`
		} `yaml:"nodes"`
	} `yaml:"graph"`
	JGF          string        `yaml:"jgf"`
	Policy       string        `yaml:"policy"`
	PruneFilters string        `yaml:"prune_filters"`
	Ops          []matchCaseOp `yaml:"ops"`
}

type matchCaseOp struct {
	Op  string `yaml:"op"`
	Now int64  `yaml:"now"`
	Req *struct {
		Nodes     int64   `yaml:"nodes"`
		Slots     int64   `yaml:"slots"`
		Cores     int64   `yaml:"cores"`
		GPUs      int64   `yaml:"gpus"`
		Memory    int64   `yaml:"memory"`
		Exclusive bool    `yaml:"exclusive"`
		Duration  float64 `yaml:"duration"`
	} `yaml:"req"`
	Jobspec  string `yaml:"jobspec"`
	Job      uint64 `yaml:"job"`
	Path     string `yaml:"path"`
	Want     string `yaml:"want"`
	Where    string `yaml:"where"`
	At       *int64 `yaml:"at"`
	Reserved *bool  `yaml:"reserved"`
	Note     string `yaml:"note"`
}

var matchOpNames = map[string]MatchOp{
	"allocate":                     MatchAllocate,
	"allocate_with_satisfiability": MatchAllocateWithSatisfiability,
	"allocate_orelse_reserve":      MatchAllocateOrElseReserve,
	"satisfiability":               MatchSatisfiability,
	"without_allocating":           MatchWithoutAllocating,
	"without_allocating_future":    MatchWithoutAllocatingFuture,
}

func TestMatchCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "match", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var mc matchCase
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			if err := dec.Decode(&mc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var g *graph.Graph
			switch {
			case mc.JGF != "":
				f, err := os.Open(filepath.Join(filepath.Dir(file), mc.JGF))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if g, err = graph.ReadJGF(f, mc.JGF); err != nil {
					t.Fatal(err)
				}
			case mc.Graph != nil:
				var ns []fluxiontest.Node
				for _, n := range mc.Graph.Nodes {
					ns = append(ns, fluxiontest.Node{Cores: n.Cores, GPUs: n.GPUs, MemMiB: n.Memory})
				}
				g = fluxiontest.Graph(t, mc.Graph.Sockets, ns...)
			default:
				t.Fatal("no graph or jgf")
			}
			m, err := NewMatcher(g, MatcherOptions{Policy: mc.Policy, PruneFilters: mc.PruneFilters, GraphDuration: 100000})
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			for i, op := range mc.Ops {
				where := func() string { return file + ": ops[" + itoa(i) + "] (" + op.Op + ")" }
				var err error
				var a *Allocation
				switch op.Op {
				case "cancel":
					err = m.Cancel(op.Job)
				case "down", "up":
					st := graph.StatusDown
					if op.Op == "up" {
						st = graph.StatusUp
					}
					if err := g.SetStatus(op.Path, st); err != nil {
						t.Fatalf("%s: %v", where(), err)
					}
					ran++
					continue
				default:
					mop, ok := matchOpNames[op.Op]
					if !ok {
						t.Fatalf("%s: unknown op", where())
					}
					var js *jobspec.Jobspec
					if op.Req != nil {
						r := op.Req
						js = fluxiontest.Req{Nodes: r.Nodes, Slots: r.Slots, Cores: r.Cores, GPUs: r.GPUs, MemMiB: r.Memory, NodeExcl: r.Exclusive, Dur: r.Duration}.Jobspec(t)
					} else {
						js = fluxiontest.Parse(t, op.Jobspec)
					}
					a, err = m.Match(mop, js, op.Now)
				}
				want := op.Want
				if want == "" {
					want = "ok"
				}
				if got := mtErrno(err); got != want {
					t.Fatalf("%s: got %s (%v), want %s", where(), got, err, want)
				}
				if a != nil {
					if op.Where != "" && mtWhere(a) != op.Where {
						t.Errorf("%s: placed on %q, want %q", where(), mtWhere(a), op.Where)
					}
					if op.At != nil && a.At != *op.At {
						t.Errorf("%s: at %d, want %d", where(), a.At, *op.At)
					}
					if op.Reserved != nil && a.Reserved != *op.Reserved {
						t.Errorf("%s: reserved %v, want %v", where(), a.Reserved, *op.Reserved)
					}
				}
				ran++
			}
			if ran != len(mc.Ops) || ran == 0 {
				t.Fatalf("ran %d of %d ops", ran, len(mc.Ops))
			}
		})
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// TestMatchValidJobspecs runs every accepted jobspec of
// testdata/jobspec/valid through every op and policy on three graphs
// (flat, sockets with gpus and memory, Fluence-style): no panic, every
// error is one of the classified outcomes, and a successful allocation
// lists each vertex once.
func TestMatchValidJobspecs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "jobspec", "testdata", "valid", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no jobspecs: %v", err)
	}
	fl, err := graph.Fluence(fluxiontest.FluenceNodes(), "")
	if err != nil {
		t.Fatal(err)
	}
	graphs := map[string]*graph.Graph{
		"flat":    fluxiontest.Flat(t, 8, 8, 8, 8),
		"sockets": fluxiontest.Graph(t, 2, fluxiontest.Node{Cores: 16, GPUs: 2, MemMiB: 65536}, fluxiontest.Node{Cores: 16, GPUs: 2, MemMiB: 65536}),
		"fluence": fl,
	}
	ops := []MatchOp{MatchAllocate, MatchAllocateWithSatisfiability, MatchAllocateOrElseReserve,
		MatchSatisfiability, MatchWithoutAllocating, MatchWithoutAllocatingFuture}
	outcomes := map[string]int{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		js, err := jobspec.ParseJobspec(data, file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for gname, g := range graphs {
			for _, pol := range MatchPolicyNames {
				m := mtMatcher(t, g, pol)
				for _, op := range ops {
					a, err := m.Match(op, js, 0)
					e := MatchErrno(err)
					if err != nil && e == "" {
						t.Errorf("%s on %s/%s %v: unclassified error %v", file, gname, pol, op, err)
					}
					outcomes[mtErrno(err)]++
					if a == nil {
						continue
					}
					seen := map[graph.VertexID]bool{}
					for _, av := range a.Vertices {
						if seen[av.ID] {
							t.Errorf("%s on %s/%s %v: vertex %s twice", file, gname, pol, op, g.Vertex(av.ID).Path)
						}
						seen[av.ID] = true
					}
				}
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
	if outcomes["ok"] == 0 {
		t.Error("no jobspec matched anywhere")
	}
}
