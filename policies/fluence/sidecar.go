package fluence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// sidecar is Fluence's gRPC sidecar (flux-k8s src/fluence): the resource
// graph, built once when it starts (utils.CreateInClusterJGF), and a
// Fluxion context over it (fluxion.InitFluxion: matcher_policy only),
// answering MATCH_ALLOCATE and Cancel.
type sidecar struct {
	cfg *Config
	g   *graph.Graph
	// m is the pure-Go matcher, used directly (backend go); be is any
	// other backend, spoken to in bytes as the sidecar speaks to
	// libreapi_cli, its R read as the sidecar reads it.
	m  *match.Matcher
	be fluxion.Backend
	// err is why the sidecar could not start; every match then fails
	// with it (the real sidecar logs the error and answers nothing).
	err error

	byName     map[string]*engine.Node
	nodeVertex []graph.VertexID // by engine node index; NoVertex if not in the graph

	// graph: live only.
	live     bool
	leaves   [][nkinds][]graph.VertexID // by engine node index: its cores, memory pools, gpus
	holder   []uint64                   // by vertex: the allocation holding it (0: none)
	down     []bool                     // by vertex: marked down for resources others use
	nodeDown []bool                     // by engine node index: node vertex down (cordoned)
	snap     []engine.Resources         // by engine node index: Requested when last reconciled
	snapCord []bool
	dirty    []bool // by engine node index: reconcile even if Requested did not change
	jobsOn   [][]*group
	jobHeld  map[uint64][]graph.VertexID
	jobNodes map[uint64][]int
	// gen counts the changes of Fluxion's state (allocations made or
	// cancelled, vertices marked up or down): an ask on an unchanged
	// state gets the same answer (Fluxion is deterministic).
	gen uint64
}

// Leaf kinds of a node in Fluence's graph.
const (
	kCore = iota
	kMemory
	kGPU
	nkinds
)

var kindOf = map[string]int{"core": kCore, "memory": kMemory, "gpu": kGPU}

// start builds the graph from the cluster as it is now and opens the
// backend. Under graph: static the graph is Fluence's own (free cores
// and memory of each node, control-plane, cordoned and skip-labelled
// nodes left out). Under graph: live it holds every node's allocatable
// (cordoned nodes too, marked down), and reconcile marks down what
// others use.
func (s *sidecar) start(c *engine.Cluster) {
	opt := graph.FluenceOptions(s.cfg.SkipLabel)
	if s.live {
		opt.UseFree = false
		opt.SkipUnschedulable = false
	}
	g, err := graph.FromNodes(c.Nodes, opt)
	if err != nil {
		s.err = fmt.Errorf("fluence sidecar: building the resource graph: %w", err)
		return
	}
	s.g = g
	mo := match.MatcherOptions{Policy: s.cfg.Policy, MatchFormat: match.FormatJGF}
	switch s.cfg.Backend {
	case fluxion.BackendGo:
		s.m, err = match.NewMatcher(g, mo)
	default:
		var buf bytes.Buffer
		if err = g.WriteJGF(&buf); err == nil {
			s.be, err = fluxion.OpenBackend(s.cfg.Backend, buf.Bytes(), mo)
		}
	}
	if err != nil {
		s.err = fmt.Errorf("fluence sidecar: initializing fluxion (%s backend): %w", s.cfg.Backend, err)
		return
	}
	s.byName = make(map[string]*engine.Node, len(c.Nodes))
	for _, n := range c.Nodes {
		s.byName[n.Name] = n
	}
	s.nodeVertex = make([]graph.VertexID, len(c.Nodes))
	for i := range s.nodeVertex {
		s.nodeVertex[i] = graph.NoVertex
	}
	for _, v := range g.OfType("node") {
		if n := s.byName[g.Vertex(v).Basename]; n != nil {
			s.nodeVertex[n.Index] = v
		}
	}
	if !s.live {
		return
	}
	nn := len(c.Nodes)
	s.leaves = make([][nkinds][]graph.VertexID, nn)
	s.holder = make([]uint64, g.Len())
	s.down = make([]bool, g.Len())
	s.nodeDown = make([]bool, nn)
	s.snap = make([]engine.Resources, nn)
	s.snapCord = make([]bool, nn)
	s.dirty = make([]bool, nn)
	s.jobsOn = make([][]*group, nn)
	s.jobHeld = map[uint64][]graph.VertexID{}
	s.jobNodes = map[uint64][]int{}
	for i, v := range s.nodeVertex {
		if v == graph.NoVertex {
			continue
		}
		for _, ch := range g.Children(v) {
			if k, ok := kindOf[g.Vertex(ch).Type]; ok {
				s.leaves[i][k] = append(s.leaves[i][k], ch)
			}
		}
		s.dirty[i] = true
	}
}

// nodeAlloc is one node of an allocation, in R order, with the cores R
// lists under it (utils.ParseAllocResult's allocation).
type nodeAlloc struct {
	node  *engine.Node
	cores int
}

func (a nodeAlloc) String() string { return a.node.Name + ":" + strconv.Itoa(a.cores) }

// match asks Fluxion for one MATCH_ALLOCATE of the jobspec (at time 0:
// the cli has no clock, and the Go matcher is asked the same way, so
// duration 3600 never expires anything) and returns the allocation's
// nodes in R order, each with its cores (utils.ParseAllocResult).
func (s *sidecar) match(jobspec []byte) (uint64, []nodeAlloc, error) {
	if s.err != nil {
		return 0, nil, s.err
	}
	var (
		id    uint64
		out   []nodeAlloc
		held  []graph.VertexID
		heldP *[]graph.VertexID // the leaves held, kept for the live graph
		err   error
	)
	if s.live {
		heldP = &held
	}
	if s.m != nil {
		id, out, err = s.matchGo(jobspec, heldP)
	} else {
		id, out, err = s.matchR(jobspec, heldP)
	}
	if err != nil {
		return id, nil, err
	}
	s.gen++
	if s.live {
		for _, v := range held {
			s.holder[v] = id
		}
		s.jobHeld[id] = held
		ix := make([]int, len(out))
		for i, a := range out {
			ix[i] = a.node.Index
			s.dirty[a.node.Index] = true
		}
		s.jobNodes[id] = ix
	}
	return id, out, nil
}

// matchGo runs the match on the Go matcher and reads the allocation
// directly: the nodes in pre-order of the allocated vertices, which is
// the order of the node vertices in R (R lists a node after its
// children, and each node's subtree before the next node's), with the
// cores under each.
func (s *sidecar) matchGo(spec []byte, held *[]graph.VertexID) (uint64, []nodeAlloc, error) {
	js, err := jobspec.ParseJobspec(spec, "jobspec")
	if err != nil {
		return 0, nil, err
	}
	a, err := s.m.Match(match.MatchAllocate, js, 0)
	if err != nil {
		return 0, nil, err
	}
	var out []nodeAlloc
	last := graph.NoVertex
	for _, av := range a.Vertices {
		v := s.g.Vertex(av.ID)
		k, leaf := kindOf[v.Type]
		if !leaf {
			continue
		}
		if held != nil {
			*held = append(*held, av.ID)
		}
		nv := s.g.Ancestor(av.ID, "node")
		if nv != last {
			n := s.byName[s.g.Vertex(nv).Basename]
			if n == nil {
				return a.JobID, nil, fmt.Errorf("fluence sidecar: job %d holds node %q, which the cluster does not have", a.JobID, s.g.Vertex(nv).Basename)
			}
			out = append(out, nodeAlloc{node: n})
			last = nv
		}
		if k == kCore {
			out[len(out)-1].cores++
		}
	}
	return a.JobID, out, nil
}

// matchR asks a Backend and reads its R (match format jgf) as
// ParseAllocResult does: walking graph.nodes, counting cores until a
// node vertex, which is then emitted with the count.
func (s *sidecar) matchR(jobspec []byte, held *[]graph.VertexID) (uint64, []nodeAlloc, error) {
	res, err := s.be.Match(match.MatchAllocate, jobspec, 0)
	if err != nil {
		return 0, nil, err
	}
	var doc struct {
		Graph struct {
			Nodes []struct {
				Metadata struct {
					Type     string            `json:"type"`
					Basename string            `json:"basename"`
					Paths    map[string]string `json:"paths"`
				} `json:"metadata"`
			} `json:"nodes"`
		} `json:"graph"`
	}
	if err := json.Unmarshal(res.R, &doc); err != nil {
		return res.JobID, nil, fmt.Errorf("fluence sidecar: reading R of job %d: %w", res.JobID, err)
	}
	var out []nodeAlloc
	cores := 0
	for _, v := range doc.Graph.Nodes {
		md := &v.Metadata
		switch md.Type {
		case "core":
			cores++
		case "node":
			n := s.byName[md.Basename]
			if n == nil {
				return res.JobID, nil, fmt.Errorf("fluence sidecar: R of job %d names node %q, which the cluster does not have", res.JobID, md.Basename)
			}
			out = append(out, nodeAlloc{node: n, cores: cores})
			cores = 0
		}
		if _, ok := kindOf[md.Type]; ok && held != nil {
			if id, ok := s.g.Lookup(md.Paths["containment"]); ok {
				*held = append(*held, id)
			}
		}
	}
	return res.JobID, out, nil
}

// cancel frees an allocation (Cancel with noent_ok: an unknown job is
// not an error).
func (s *sidecar) cancel(jobID uint64) error {
	if s.err != nil {
		return nil
	}
	var err error
	if s.m != nil {
		// The sidecar never asks Info, and a group that never fits is
		// allocated and cancelled without end: keep no record.
		err = s.m.Cancel(jobID)
		s.m.Forget(jobID)
	} else {
		err = s.be.Cancel(jobID)
	}
	if err != nil && !errors.Is(err, match.ErrNoJob) {
		return err
	}
	s.gen++
	if s.live {
		for _, id := range s.jobHeld[jobID] {
			if s.holder[id] == jobID {
				s.holder[id] = 0
			}
		}
		for _, i := range s.jobNodes[jobID] {
			s.dirty[i] = true
		}
		delete(s.jobHeld, jobID)
		delete(s.jobNodes, jobID)
	}
	return nil
}

// placed adds (or, with g nil, nothing) the group whose live allocation
// covers node index i.
func (s *sidecar) cover(gr *group, jobID uint64, add bool) {
	if !s.live {
		return
	}
	for _, i := range s.jobNodes[jobID] {
		l := s.jobsOn[i]
		if add {
			s.jobsOn[i] = append(l, gr)
		} else {
			for k, x := range l {
				if x == gr {
					s.jobsOn[i] = append(l[:k], l[k+1:]...)
					break
				}
			}
		}
		s.dirty[i] = true
	}
}

// reconcile (graph: live) brings the graph in step with the cluster:
// on every node whose requests, cordon or allocations changed, the
// resources used by pods no live allocation of Fluence holds (another
// scheduler's pods, pods of a group whose allocation was released) are
// marked down, taking free vertices from the highest id; a cordoned
// node is marked down whole.
func (s *sidecar) reconcile(c *engine.Cluster) error {
	if !s.live || s.err != nil {
		return nil
	}
	for i, n := range c.Nodes {
		if i >= len(s.nodeVertex) || s.nodeVertex[i] == graph.NoVertex {
			continue
		}
		if !s.dirty[i] && n.Requested == s.snap[i] && n.Unschedulable == s.snapCord[i] {
			continue
		}
		s.dirty[i], s.snap[i], s.snapCord[i] = false, n.Requested, n.Unschedulable
		if n.Unschedulable != s.nodeDown[i] {
			if err := s.setStatus(s.nodeVertex[i], !n.Unschedulable); err != nil {
				return err
			}
			s.nodeDown[i] = n.Unschedulable
		}
		foreign := n.Requested
		for _, gr := range s.jobsOn[i] {
			for _, p := range gr.pods() {
				if p.Node == n && !finished(p) {
					foreign = foreign.Sub(p.Requests)
				}
			}
		}
		a := n.Allocatable
		want := [nkinds]int64{
			kCore:   int64(len(s.leaves[i][kCore])) - floorDiv(a.MilliCPU-foreign.MilliCPU, 1000),
			kMemory: int64(len(s.leaves[i][kMemory])) - floorDiv(a.Memory-foreign.Memory, engine.GiB),
			kGPU:    foreign.GPU,
		}
		for k := range nkinds {
			if err := s.setDown(s.leaves[i][k], want[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// setDown makes want of the vertices down (as far as free ones allow):
// more are taken from the free vertices of highest id; fewer are given
// back from the lowest.
func (s *sidecar) setDown(vs []graph.VertexID, want int64) error {
	want = max(0, min(want, int64(len(vs))))
	var d int64
	for _, v := range vs {
		if s.down[v] {
			d++
		}
	}
	for k := len(vs) - 1; k >= 0 && d < want; k-- {
		v := vs[k]
		if s.down[v] || s.holder[v] != 0 {
			continue
		}
		if err := s.setStatus(v, false); err != nil {
			return err
		}
		s.down[v] = true
		d++
	}
	for k := 0; k < len(vs) && d > want; k++ {
		v := vs[k]
		if !s.down[v] {
			continue
		}
		if err := s.setStatus(v, true); err != nil {
			return err
		}
		s.down[v] = false
		d--
	}
	return nil
}

// setStatus marks a vertex up or down in Fluxion.
func (s *sidecar) setStatus(v graph.VertexID, up bool) error {
	s.gen++
	if s.m != nil {
		st := graph.StatusDown
		if up {
			st = graph.StatusUp
		}
		return s.g.SetStatusOf(v, st)
	}
	return s.be.SetStatus(s.g.Vertex(v).Path, up)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func finished(p *engine.Pod) bool {
	return p.Phase == engine.PodSucceeded || p.Phase == engine.PodFailed
}

// jobspecFor is the jobspec the sidecar makes for a group
// (jobspec.CreateJobSpecYaml from the plugin's podspec.PreparePodJobSpec):
// count slots, each with the representative pod's cores (Σ containers'
// requests.cpu, each rounded up; 0 → 1), memory in MB (Σ requests.memory
// >> 20, if any) and GPUs (Σ nvidia.com/gpu, if any); version 9999,
// duration 3600, one task per slot named after the group.
func jobspecFor(t *engine.PodTemplate, count int, name string) []byte {
	cpu := int64(cpuPerPod(t))
	var mem, gpu int64
	for i := range t.Containers {
		mem += t.Containers[i].Memory
		gpu += t.Containers[i].GPU
	}
	var b strings.Builder
	b.WriteString("version: 9999\nresources:\n- type: slot\n  count: ")
	b.WriteString(strconv.Itoa(count))
	b.WriteString("\n  label: default\n  with:\n  - type: core\n    count: ")
	b.WriteString(strconv.FormatInt(cpu, 10))
	if mem > 0 {
		b.WriteString("\n  - type: memory\n    count: ")
		b.WriteString(strconv.FormatInt(mem>>20, 10))
	}
	if gpu > 0 {
		b.WriteString("\n  - type: gpu\n    count: ")
		b.WriteString(strconv.FormatInt(gpu, 10))
	}
	b.WriteString("\nattributes:\n  system:\n    duration: 3600\ntasks:\n- command:\n  - ")
	b.WriteString(strconv.Quote(name))
	b.WriteString("\n  slot: default\n  count:\n    per_slot: 1\n")
	return []byte(b.String())
}

// cpuPerPod is the jobspec's cores per slot.
func cpuPerPod(t *engine.PodTemplate) int {
	var cpu int64
	for i := range t.Containers {
		cpu += (t.Containers[i].MilliCPU + 999) / 1000
	}
	return int(max(cpu, 1))
}
