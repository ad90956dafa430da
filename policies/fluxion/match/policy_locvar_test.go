package match

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
)

func TestParseMatchPolicyLocalityVariation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MatchPolicy
	}{
		{"locality", MatchPolicy{Name: "locality", Locality: true}},
		{"variation", MatchPolicy{Name: "variation", Variation: true}},
	} {
		got, err := ParseMatchPolicy(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMatchPolicy(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	// Only the preset names select them (dfu_match_policy_factory.cpp
	// compares the requested string with "locality" and "variation").
	for _, in := range []string{"policy=locality", "policy=variation", "Locality", "locality node_centric=true", "policy=low locality=true"} {
		if p, err := ParseMatchPolicy(in); err == nil {
			t.Errorf("ParseMatchPolicy(%q) = %+v, want an error", in, p)
		}
	}
	for _, n := range MatchPolicyNames {
		if _, err := ParseMatchPolicy(n); err != nil {
			t.Errorf("ParseMatchPolicy(%q): %v", n, err)
		}
	}
	if len(MatchPolicyNames) != len(matchPolicyPresets) {
		t.Errorf("MatchPolicyNames %v and the presets differ", MatchPolicyNames)
	}
}

// TestPerfClass: std::stoi then the clamp of var_aware_t::dom_finish_vtx.
func TestPerfClass(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want int64
	}{
		{"", false, 9999},
		{"3", true, 3},
		{"0", true, 0},
		{"-0", true, 0},
		{"9999", true, 9999},
		{"10000", true, 9999},
		{"8888888", true, 9999},
		{"-6666", true, 9999},
		{"-1", true, 9999},
		{"random", true, 9999},
		{"", true, 9999},
		{"-", true, 9999},
		{" 7", true, 7},
		{"\t\n4", true, 4},
		{"+5", true, 5},
		{"007", true, 7},
		{"12abc", true, 12},
		{"3.9", true, 3},
		{"0x10", true, 0},
		{"99999999999999999999999", true, 9999},
		{"x1", true, 9999},
	} {
		if got := perfClass(tc.in, tc.ok); got != tc.want {
			t.Errorf("perfClass(%q, %v) = %d, want %d", tc.in, tc.ok, got, tc.want)
		}
	}
}

// locvarOrder sorts candidates of the given scores (discovery order =
// index) the way selectReq does and returns the indexes in order.
func locvarOrder(t *testing.T, policy string, top bool, scores ...int64) []int {
	t.Helper()
	m := mtMatcher(t, fluxiontest.Flat(t, 1), policy)
	m.search(fluxiontest.Req{Slots: 1, Cores: 1}.Jobspec(t), 0, 1, false) // sets up m.tc
	c := m.tc
	cands := make([]tcand, len(scores))
	for i, s := range scores {
		cands[i] = tcand{score: s, seq: i}
	}
	if top && m.pol.Locality {
		c.toRuns(cands)
	}
	stdSort(cands, func(a, b *tcand) bool { return c.rank(a, b) < 0 })
	out := make([]int, len(cands))
	for i, cd := range cands {
		out[i] = cd.seq
	}
	return out
}

// TestLocalityCompare: at the top level, the run (maximal interval of
// contiguous scores) holding the highest score ranks first, then the
// next run down, and candidates of one run keep discovery order. The
// expectations are what fold::interval_greater and libstdc++'s std::sort
// give for these inputs (up to 16 elements std::sort ends in an
// insertion sort, which keeps ties in order). Below the top level,
// locality is fold::greater: descending score.
func TestLocalityCompare(t *testing.T) {
	for _, tc := range []struct {
		scores []int64
		top    bool
		want   []int
	}{
		// runs [2,7] and [9,9]: the lone 9 first, not the longer run
		{[]int64{2, 3, 4, 5, 6, 7, 9}, true, []int{6, 0, 1, 2, 3, 4, 5}},
		// runs [2,3] and [6,9]
		{[]int64{2, 3, 6, 7, 8, 9}, true, []int{2, 3, 4, 5, 0, 1}},
		// discovery order need not be score order: runs [2,5], [9,9]
		{[]int64{5, 3, 9, 2, 4}, true, []int{2, 0, 1, 3, 4}},
		// equal scores share a run
		{[]int64{4, 4, 8, 7, 1}, true, []int{2, 3, 0, 1, 4}},
		// one run: discovery order
		{[]int64{3, 1, 2}, true, []int{0, 1, 2}},
		// below the top: descending score, ties in discovery order
		{[]int64{2, 3, 4, 5, 6, 7, 9}, false, []int{6, 5, 4, 3, 2, 1, 0}},
		{[]int64{4, 4, 8, 7, 1}, false, []int{2, 3, 0, 1, 4}},
	} {
		if got := locvarOrder(t, "locality", tc.top, tc.scores...); !slices.Equal(got, tc.want) {
			t.Errorf("locality top=%v %v: order %v, want %v", tc.top, tc.scores, got, tc.want)
		}
	}
}

// TestVariationCompare: ascending score (perf_class) at every level,
// ties in discovery order.
func TestVariationCompare(t *testing.T) {
	for _, top := range []bool{true, false} {
		got := locvarOrder(t, "variation", top, 3, 1, 2, 1, 9999, 2)
		if want := []int{1, 3, 2, 5, 0, 4}; !slices.Equal(got, want) {
			t.Errorf("variation top=%v: order %v, want %v", top, got, want)
		}
	}
}

// locvarSmall is flux-sched's t/data/resource/grugs/small.graphml as far
// as the var_aware jobspecs see it: small0 > rack0 > node0-7 > socket0-1
// > 18 cores each, with the nodes' perf_class properties set.
func locvarSmall(t *testing.T, classes map[int]string) *graph.Graph {
	t.Helper()
	ns := make([]*engine.Node, 8)
	for i := range ns {
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i), Rack: "r0",
			Allocatable: engine.Resources{MilliCPU: 36000, Pods: 110}}
	}
	g, err := graph.FromNodes(ns, graph.GenerateOptions{ClusterName: "small", Level: graph.LevelRack, Sockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range classes {
		v, ok := g.Lookup(fmt.Sprintf("/small0/rack0/node%d", i))
		if !ok {
			t.Fatalf("no node%d", i)
		}
		g.Vertices[v].Properties = map[string]string{"perf_class": c}
	}
	return g
}

const locvarJobNN = `version: 9999
resources:
  - type: node
    count: %d
    with:
    - type: slot
      label: default
      count: 2
      with:
        - type: socket
          count: 1
          with:
            - type: core
              count: 18
attributes:
  system:
    duration: %d
tasks:
  - command: [ "app" ]
    slot: default
    count:
      per_slot: 1
`

// TestVariationFluxSchedT3014 replays flux-sched's t3014-resource-var-aware
// (t/data/resource/commands/var_aware/cmds0[1-5].in) and checks the
// nodes of every job against the expected outputs in
// t/data/resource/expected/var_aware/00[1-5].R.out, which real Fluxion
// produced: job_2N (2 nodes, 5400 s), job_1N (1 node, 7200 s), job_4N
// (4 nodes, 4800 s), each node whole (two slots of a socket of 18 cores).
func TestVariationFluxSchedT3014(t *testing.T) {
	j2 := fmt.Sprintf(locvarJobNN, 2, 5400)
	j1 := fmt.Sprintf(locvarJobNN, 1, 7200)
	j4 := fmt.Sprintf(locvarJobNN, 4, 4800)
	base := map[int]string{0: "3", 1: "1", 2: "2", 3: "1", 4: "2", 5: "2", 6: "3", 7: "2"}
	with := func(over map[int]string, drop ...int) map[int]string {
		out := map[int]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range over {
			out[k] = v
		}
		for _, k := range drop {
			delete(out, k)
		}
		return out
	}
	type job struct {
		js    string
		nodes string
		at    int64
	}
	four := []job{{j2, "node1 node3", 0}, {j1, "node2", 0}, {j4, "node0 node4 node5 node7", 0}, {j1, "node6", 0}}
	fourBad := []job{{j2, "node1 node3", 0}, {j1, "node5", 0}, {j4, "node0 node2 node6 node7", 0}, {j1, "node4", 0}}
	for _, tc := range []struct {
		name    string
		classes map[int]string
		op      MatchOp
		jobs    []job
	}{
		{"cmds01", base, MatchAllocate, four},
		{"cmds02-missing", with(nil, 2, 4), MatchAllocate, fourBad},
		{"cmds03-invalid", with(map[int]string{2: "random", 4: "wrong"}), MatchAllocate, fourBad},
		{"cmds04-out-of-range", with(map[int]string{2: "8888888", 4: "-6666"}), MatchAllocate, fourBad},
		{"cmds05-reserve", base, MatchAllocateOrElseReserve, append(slices.Clone(four),
			job{j2, "node4 node5", 4800}, job{j1, "node7", 4800},
			job{j4, "node0 node1 node2 node3", 7200}, job{j1, "node6", 7200})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mtMatcher(t, locvarSmall(t, tc.classes), "variation")
			for i, j := range tc.jobs {
				a := mtOK(t)(m.Match(tc.op, fluxiontest.Parse(t, j.js), 0))
				var nodes []string
				for _, av := range a.Vertices {
					if v := a.g.Vertex(av.ID); v.Type == "node" {
						nodes = append(nodes, v.Name)
					}
				}
				slices.Sort(nodes)
				if got := strings.Join(nodes, " "); got != j.nodes || a.At != j.at {
					t.Errorf("job %d: %s at %d, want %s at %d", i+1, got, a.At, j.nodes, j.at)
				}
			}
		})
	}
}

// TestLocalityVariationProperty checks the placements of locality and
// variation against a direct reading of the two policies on random flat
// clusters (at most 12 nodes of at most 4 cores, and slots at the top only
// on at most 4 nodes, so no sort ranks more than 16 candidates and
// libstdc++'s std::sort leaves ties in discovery order): random node >
// slot > core requests, slot > core requests at the top, and cancels.
//   - locality, node requests: among the nodes with enough free cores,
//     runs of contiguous node ids, the run with the highest start first,
//     ids ascending inside a run; on each node the highest free cores.
//   - variation, node requests: nodes by (perf_class, id); on each node
//     the lowest free cores (the cores carry no class and tie).
//   - variation, slots at the top: the node classes play no part; slots
//     tie, so they come in node order, each node giving free/c slots of
//     its lowest free cores.
func TestLocalityVariationProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	classes := []string{"0", "1", "2", "2", "3", "9999", "12000", "-4", "x", ""}
	seen := map[string]int{}
	for trial := range 300 {
		pol := []string{"locality", "variation"}[trial%2]
		n := 1 + rng.IntN(12)
		cores := make([]int64, n)
		for i := range cores {
			cores[i] = 1 + rng.Int64N(4)
		}
		g := fluxiontest.Flat(t, cores...)
		class := make([]int64, n)
		for i := range n {
			v, _ := g.Lookup(fmt.Sprintf("/cluster0/node%d", i))
			c := classes[rng.IntN(len(classes))]
			if c != "" {
				g.Vertices[v].Properties = map[string]string{"perf_class": c}
			}
			class[i] = perfClass(c, c != "")
		}
		m := mtMatcher(t, g, pol)
		used := make([][]bool, n) // used[node][core]
		for i := range used {
			used[i] = make([]bool, cores[i])
		}
		free := func(i int) (f []int64) {
			for k, u := range used[i] {
				if !u {
					f = append(f, int64(k))
				}
			}
			return f
		}
		jobs := map[uint64][][2]int64{}
		for step := range 20 {
			name := fmt.Sprintf("trial %d (%s, cores %v, classes %v) step %d", trial, pol, cores, class, step)
			if len(jobs) > 0 && rng.IntN(4) == 0 {
				for id, cs := range jobs {
					if err := m.Cancel(id); err != nil {
						t.Fatalf("%s: cancel %d: %v", name, id, err)
					}
					for _, c := range cs {
						used[c[0]][c[1]] = false
					}
					delete(jobs, id)
					break
				}
				continue
			}
			c := 1 + rng.Int64N(3)
			var want [][2]int64 // (node, core) in any order
			var r fluxiontest.Req
			if pol == "variation" && n <= 4 && rng.IntN(3) == 0 {
				// (at most 16 slots, so std::sort keeps their ties in order)
				s := 1 + rng.Int64N(3)
				r = fluxiontest.Req{Slots: s, Cores: c}
				for i := 0; i < n && s > 0; i++ {
					f := free(i)
					for len(f) >= int(c) && s > 0 {
						for _, k := range f[:c] {
							want = append(want, [2]int64{int64(i), k})
						}
						f = f[c:]
						s--
					}
				}
				if s > 0 {
					want = nil
				}
			} else {
				k := 1 + rng.Int64N(3)
				r = fluxiontest.Req{Nodes: k, Slots: 1, Cores: c}
				var ok []int
				for i := range n {
					if int64(len(free(i))) >= c {
						ok = append(ok, i)
					}
				}
				if pol == "locality" {
					start := map[int]int{}
					for j, i := range ok {
						start[i] = i
						if j > 0 && ok[j-1] == i-1 {
							start[i] = start[i-1]
						}
					}
					slices.SortStableFunc(ok, func(a, b int) int { return cmp.Compare(start[b], start[a]) })
				} else {
					slices.SortStableFunc(ok, func(a, b int) int { return cmp.Compare(class[a], class[b]) })
				}
				if int64(len(ok)) >= k {
					for _, i := range ok[:k] {
						f := free(i)
						if pol == "locality" {
							f = f[int64(len(f))-c:]
						} else {
							f = f[:c]
						}
						for _, kk := range f {
							want = append(want, [2]int64{int64(i), kk})
						}
					}
				}
			}
			a, err := m.Match(MatchAllocate, r.Jobspec(t), 0)
			if want == nil {
				if err == nil {
					t.Fatalf("%s: %+v matched %s, want a failure", name, r, mtWhere(a))
				}
				seen["busy"]++
				continue
			}
			if err != nil {
				t.Fatalf("%s: %+v: %v, want %v", name, r, err, want)
			}
			var got [][2]int64
			for _, av := range a.Vertices {
				v := g.Vertex(av.ID)
				if v.Type == "core" {
					got = append(got, [2]int64{g.Vertex(v.Parent).ID, v.ID})
				}
			}
			cmpPair := func(x, y [2]int64) int {
				if r := cmp.Compare(x[0], y[0]); r != 0 {
					return r
				}
				return cmp.Compare(x[1], y[1])
			}
			slices.SortFunc(got, cmpPair)
			slices.SortFunc(want, cmpPair)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %+v: got %v, want %v", name, r, got, want)
			}
			for _, c := range got {
				used[c[0]][c[1]] = true
			}
			jobs[a.JobID] = got
			seen["ok"]++
		}
	}
	if seen["ok"] < 500 || seen["busy"] < 100 {
		t.Errorf("outcomes %v", seen)
	}
	t.Logf("outcomes %v", seen)
}
