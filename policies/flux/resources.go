package flux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/fluxion/graph"
	fxmatch "github.com/convergesim/converge/policies/fluxion/match"
)

// resources is Flux's resource module as the queue manager uses it:
// match a jobspec at a time under a job id, cancel a job.
type resources interface {
	match(op fxmatch.MatchOp, jb *job, t int64) (*match, error)
	cancel(id uint64) error
	// satisfiable tells whether a shape could ever be met (nil) or not
	// (an error wrapping ErrUnsatisfiable).
	satisfiable(si *shapeInfo) error
	// keeps tells whether reservations made at one time still hold at a
	// later one (a clock-less backend rebuilt at each time drops them).
	keeps() bool
	// weightEpoch reads the matcher's count of edge-weight changes
	// (first's by_outedges weights); ok false if the backend cannot
	// tell.
	weightEpoch() (epoch uint64, ok bool)
}

// satisfiabilityID is the job id of satisfiability checks (nothing is
// recorded under it).
const satisfiabilityID = 1<<63 - 1

// match is a successful match: when, for how long, and the nodes with
// the cores each gives (in R's order).
type match struct {
	at, duration int64
	reserved     bool
	nodes        []nodeCores
}

type nodeCores struct {
	node  int // engine node index (the broker rank)
	cores int
}

// graphOptions is the graph Flux's resource module holds for the nodes
// when it reads R as rv1exec (the default): cluster → node (rank =
// index) → core, gpu; no sockets and no memory. (A graph with sockets
// from hwloc is not modelled: the matcher model refuses a slot of cores
// under a node whose cores sit below sockets, which flux run -N asks
// for.)
func graphOptions(cfg Config) graph.GenerateOptions {
	return graph.GenerateOptions{ClusterName: "cluster", Memory: graph.MemoryNone, Naming: graph.NamingFlux}
}

// openResources builds the graph and opens the configured backend.
func openResources(cfg Config, nodes []*engine.Node) (resources, error) {
	g, err := graph.FromNodes(nodes, graphOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("flux: building the resource graph: %w", err)
	}
	mo := fxmatch.MatcherOptions{Policy: cfg.MatchPolicy}
	if cfg.Backend == fluxion.BackendGo {
		// The queue manager neither updates nor partially cancels
		// allocations: whole nodes are booked once, not core by core.
		opt := mo
		opt.SkipHeldBelow = !cfg.bookEveryVertex
		m, err := fxmatch.NewMatcher(g, opt)
		if err != nil {
			return nil, fmt.Errorf("flux: %w", err)
		}
		return newGoResources(m, g), nil
	}
	return newRebased(cfg.Backend, g, mo)
}

// goResources is the pure-Go matcher, which has a clock: jobs are
// matched at the simulated time, as flux-sched's resource module does.
type goResources struct {
	m     *fxmatch.Matcher
	g     *graph.Graph
	cores []int // by rank: the node's cores
	// Scratch of nodesOf: by rank, and the list it gathers.
	at    []int32
	whole []bool
	buf   []nodeCores
}

func newGoResources(m *fxmatch.Matcher, g *graph.Graph) *goResources {
	n := len(g.OfType("node"))
	r := &goResources{m: m, g: g, cores: make([]int, n), at: make([]int32, n), whole: make([]bool, n)}
	for _, v := range g.OfType("core") {
		if rank := g.Vertex(v).Rank; rank >= 0 && int(rank) < len(r.cores) {
			r.cores[rank]++
		}
	}
	return r
}

func (r *goResources) match(op fxmatch.MatchOp, jb *job, t int64) (*match, error) {
	id := jb.id
	a, err := r.m.MatchWithJobID(op, &jb.js, t, id)
	if err != nil {
		if !errors.Is(err, fxmatch.ErrInvalid) || errors.Is(err, fxmatch.ErrUnsupported) {
			// A failed match leaves no job behind; the id stays free.
			r.m.Forget(id)
		}
		return nil, err
	}
	return &match{at: a.At, duration: a.Duration, reserved: a.Reserved, nodes: r.nodesOf(a)}, nil
}

func (r *goResources) satisfiable(si *shapeInfo) error {
	_, err := r.m.MatchWithJobID(fxmatch.MatchSatisfiability, si.js, 0, satisfiabilityID)
	return err
}

func (r *goResources) keeps() bool { return true }

func (r *goResources) weightEpoch() (uint64, bool) { return r.m.WeightEpoch(), true }

func (r *goResources) cancel(id uint64) error {
	if err := r.m.Cancel(id); err != nil {
		return err
	}
	r.m.Forget(id)
	return nil
}

// nodesOf lists the nodes of an allocation in pre-order with the cores
// each gives the job: all of a node's cores when the allocation holds
// the node exclusively (R then lists them all, and the job shell places
// tasks by R), else the cores listed.
func (r *goResources) nodesOf(a *fxmatch.Allocation) []nodeCores {
	out := r.buf[:0] // gathered here, returned as a copy of its own
	// r.at[rank] is 1 + the node's index in out, r.whole[rank] whether
	// the allocation holds it whole; both are cleared before returning.
	for _, av := range a.Vertices {
		v := r.g.Vertex(av.ID)
		if v.Type != "node" && v.Type != "core" {
			continue
		}
		rank := int(v.Rank)
		if rank < 0 || rank >= len(r.cores) {
			continue // not a broker rank of the graph Flux built
		}
		i := int(r.at[rank]) - 1
		if i < 0 {
			i = len(out)
			r.at[rank] = int32(i + 1)
			out = append(out, nodeCores{node: rank})
		}
		switch {
		case v.Type == "node" && av.Exclusive:
			r.whole[rank] = true
			out[i].cores = r.cores[rank]
		case v.Type == "core" && !r.whole[rank]:
			out[i].cores++
		}
	}
	for _, nc := range out {
		r.at[nc.node], r.whole[nc.node] = 0, false
	}
	r.buf = out
	return slices.Clone(out)
}

// rebased drives a clock-less backend (flux-sched's libreapi_cli, which
// evaluates every match at time 0: reference §5.3) as a resource module
// with a clock: whenever the time has moved since the last match, the
// context is rebuilt from the pristine graph and every running job is
// re-installed (update_allocate) with an R whose starttime is 0 and
// expiration its remaining walltime; matches are then made at 0 and
// their times shifted by the current time. This is what qmanager does
// too (it recomputes every reservation each loop), with one difference
// under the first policy: re-installed vertices get by_outedges weight
// 0 (Matcher.UpdateAllocate), so first's tie order after a rebuild can
// differ from a resource module that kept its clock.
type rebased struct {
	name string
	jgf  []byte
	mo   fxmatch.MatcherOptions
	g    *graph.Graph
	rank map[string]int // node name → rank

	be      fluxion.Backend
	base    int64 // the time the context's 0 stands for
	running map[uint64]*runningJob
	ids     map[uint64]uint64 // our id → the backend's id
	next    uint64            // ids for re-installed jobs
}

type runningJob struct {
	r   map[string]any // R (rv1 with scheduling) as decoded JSON
	end int64          // absolute expiration
}

const rebaseIDBase = 1 << 40

func newRebased(name string, g *graph.Graph, mo fxmatch.MatcherOptions) (*rebased, error) {
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		return nil, fmt.Errorf("flux: writing the resource graph: %w", err)
	}
	mo.MatchFormat = fxmatch.FormatRV1
	r := &rebased{name: name, jgf: buf.Bytes(), mo: mo, g: g, running: map[uint64]*runningJob{}, ids: map[uint64]uint64{}, base: -1, rank: map[string]int{}}
	for _, v := range g.OfType("node") {
		r.rank[g.Vertex(v).Name] = int(g.Vertex(v).Rank)
	}
	return r, nil
}

// rebase rebuilds the context at time t.
func (r *rebased) rebase(t int64) error {
	if r.be != nil && r.base == t {
		return nil
	}
	if r.be != nil {
		_ = r.be.Close()
	}
	be, err := fluxion.OpenBackend(r.name, r.jgf, r.mo)
	if err != nil {
		return fmt.Errorf("flux: opening the %s backend: %w", r.name, err)
	}
	r.be, r.base = be, t
	clear(r.ids)
	r.next = rebaseIDBase
	for _, id := range sortedIDs(r.running) {
		rj := r.running[id]
		exec, _ := rj.r["execution"].(map[string]any)
		if exec == nil {
			return fmt.Errorf("flux: job %d: R has no execution", id)
		}
		left := rj.end - t
		if left <= 0 {
			left = 1 // expires now; the engine kills it at its expiration
		}
		exec["starttime"], exec["expiration"] = 0, left
		R, err := json.Marshal(rj.r)
		if err != nil {
			return err
		}
		r.next++
		if _, err := be.UpdateAllocate(r.next, R, 0); err != nil {
			return fmt.Errorf("flux: re-installing job %d: %w", id, err)
		}
		r.ids[id] = r.next
	}
	return nil
}

func sortedIDs(m map[uint64]*runningJob) []uint64 {
	return slices.Sorted(maps.Keys(m))
}

func (r *rebased) match(op fxmatch.MatchOp, jb *job, t int64) (*match, error) {
	if err := r.rebase(t); err != nil {
		return nil, err
	}
	js, id := &jb.js, jb.id
	res, err := r.be.Match(op, jobspecText(jb.shape.key, js.Duration), 0)
	if err != nil {
		return nil, err
	}
	var R map[string]any
	if err := json.Unmarshal(res.R, &R); err != nil {
		return nil, fmt.Errorf("%w: reading R: %v", fxmatch.ErrInvalid, err)
	}
	dur := js.DurationSeconds
	if dur == 0 {
		dur = fxmatch.SystemMaxDuration - (t + res.At)
	}
	m := &match{at: t + res.At, duration: dur, reserved: res.Reserved}
	sum, err := fluxion.SummarizeR(res.Format, res.R)
	if err != nil {
		return nil, fmt.Errorf("%w: reading R: %v", fxmatch.ErrInvalid, err)
	}
	for name, c := range sum.Nodes {
		rank, ok := r.rank[name]
		if !ok {
			return nil, fmt.Errorf("%w: R names node %q, not in the graph", fxmatch.ErrInvalid, name)
		}
		m.nodes = append(m.nodes, nodeCores{node: rank, cores: int(c["core"])})
	}
	slices.SortFunc(m.nodes, func(a, b nodeCores) int { return a.node - b.node })
	r.ids[id] = res.JobID
	if !res.Reserved {
		end := m.at + dur
		if js.DurationSeconds == 0 {
			end = math.MaxInt64
		}
		r.running[id] = &runningJob{r: R, end: end}
	}
	return m, nil
}

func (r *rebased) satisfiable(si *shapeInfo) error {
	if err := r.rebase(max(r.base, 0)); err != nil {
		return err
	}
	_, err := r.be.Match(fxmatch.MatchSatisfiability, jobspecText(si.key, 0), 0)
	return err
}

func (r *rebased) keeps() bool { return false }

func (r *rebased) weightEpoch() (uint64, bool) { return 0, false }

func (r *rebased) cancel(id uint64) error {
	delete(r.running, id)
	bid, ok := r.ids[id]
	if !ok {
		return nil // installed before a rebuild that it did not survive
	}
	delete(r.ids, id)
	return r.be.Cancel(bid)
}
