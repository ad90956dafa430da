package graph

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// Levels between the cluster and the nodes (GenerateOptions.Level).
const (
	LevelSubnet = "subnet" // one vertex per distinct Node.Zone, like Fluence
	LevelRack   = "rack"   // one vertex per distinct Node.Rack
)

// MemoryLayout says how a node's memory becomes vertices.
type MemoryLayout uint8

const (
	// MemorySingle makes one memory vertex per node (per socket when there
	// are sockets) whose size is the memory in MiB, unit "MB".
	MemorySingle MemoryLayout = iota
	// MemoryPools makes floor(bytes / (PoolMiB MiB)) vertices of size
	// PoolMiB, unit "MB": Fluence's 1 GiB pools of 1024 when PoolMiB is 1024.
	MemoryPools
	// MemoryNone makes no memory vertices.
	MemoryNone
)

func (m MemoryLayout) String() string {
	switch m {
	case MemorySingle:
		return "single"
	case MemoryPools:
		return "pools"
	case MemoryNone:
		return "none"
	}
	return fmt.Sprintf("MemoryLayout(%d)", uint8(m))
}

// Naming chooses vertex basenames.
type Naming uint8

const (
	// NamingFlux names every vertex after its type ("node3", "core1",
	// "subnet0"), as flux-sched's own graphs do, and orders a node's
	// children cores, gpus, memory.
	NamingFlux Naming = iota
	// NamingFluence reproduces Fluence's generator: a zone or rack vertex is
	// basename <zone or rack value>, a node is basename <Node.Name> (so its
	// name is e.g. "worker-a3"), gpus are "nvidiagpu", and a node's children
	// come gpus, cores, memory.
	NamingFluence
)

func (n Naming) String() string {
	switch n {
	case NamingFlux:
		return "flux"
	case NamingFluence:
		return "fluence"
	}
	return fmt.Sprintf("Naming(%d)", uint8(n))
}

// GenerateOptions shape the graph FromNodes builds. The zero value gives
// cluster0 → node<i> → core × floor(mCPU/1000), gpu × GPU, one memory vertex
// in MiB, ranks = node index.
type GenerateOptions struct {
	// ClusterName is the root's basename (its name and path get a "0"):
	// "" means "cluster".
	ClusterName string
	// Level inserts a level between the cluster and the nodes: "" (none),
	// LevelSubnet (grouping by Node.Zone) or LevelRack (by Node.Rack). Level
	// vertices are created in order of first appearance in the node list
	// and numbered 0, 1, ...; nodes with an empty value share one vertex.
	Level string
	// Sockets per node; 0 means no socket level. Cores, GPUs and memory are
	// split evenly, the first sockets taking one more when it does not
	// divide. Core, gpu and memory ids run on across a node's sockets.
	Sockets int
	// Memory layout; PoolMiB is the pool size for MemoryPools (0 → 1024).
	Memory  MemoryLayout
	PoolMiB int64
	// NoRank sets every rank to -1 (Fluence). Otherwise a node and
	// everything under it have rank = the node's index in the list, and the
	// cluster and level vertices -1.
	NoRank bool
	// UseFree sizes nodes by Allocatable - Requested (Fluence subtracts the
	// requests of pods already running when its sidecar starts) instead of
	// Allocatable. GPUs always use Allocatable, as Fluence does.
	UseFree bool
	// Nodes left out of the graph; they still use up their index, so a node's
	// id stays its position in the list.
	SkipControlPlane  bool   // label node-role.kubernetes.io/control-plane present
	SkipUnschedulable bool   // Node.Unschedulable (cordoned)
	SkipLabel         string // nodes carrying this label key (Fluence's --label)
	Naming            Naming
}

// LabelControlPlane marks control-plane nodes; Fluence never schedules there.
const LabelControlPlane = engine.LabelControlPlane

// FluenceOptions returns the options that reproduce Fluence's
// CreateInClusterJGF (flux-k8s src/fluence/utils/utils.go and jgf/jgf.go):
// root k8scluster0; one subnet per distinct topology.kubernetes.io/zone in
// node-list order; no sockets; gpus, cores (floor of free mCPU / 1000) and
// 1 GiB memory pools (size 1024, unit "MB") under each node; rank -1;
// control-plane, unschedulable and skipLabel-labelled nodes skipped, while
// still using up their index.
func FluenceOptions(skipLabel string) GenerateOptions {
	return GenerateOptions{
		ClusterName:       "k8scluster",
		Level:             LevelSubnet,
		Memory:            MemoryPools,
		PoolMiB:           1024,
		NoRank:            true,
		UseFree:           true,
		SkipControlPlane:  true,
		SkipUnschedulable: true,
		SkipLabel:         skipLabel,
		Naming:            NamingFluence,
	}
}

// Fluence builds the graph Fluence's sidecar would build for these nodes
// (FromNodes with FluenceOptions). Fluence writes every edge twice (parent
// to child and back); the graph, and WriteJGF, keep the parent-to-child one.
func Fluence(nodes []*engine.Node, skipLabel string) (*Graph, error) {
	return FromNodes(nodes, FluenceOptions(skipLabel))
}

func (o *GenerateOptions) validate() error {
	switch o.Level {
	case "", LevelSubnet, LevelRack:
	default:
		return fmt.Errorf("fluxion: GenerateOptions.Level %q: only (\"\", %q, %q) allowed", o.Level, LevelSubnet, LevelRack)
	}
	if o.Sockets < 0 {
		return fmt.Errorf("fluxion: GenerateOptions.Sockets: must be >= 0, got %d", o.Sockets)
	}
	if o.Memory > MemoryNone {
		return fmt.Errorf("fluxion: GenerateOptions.Memory %d: only (single, pools, none) allowed", o.Memory)
	}
	if o.PoolMiB < 0 {
		return fmt.Errorf("fluxion: GenerateOptions.PoolMiB: must be >= 0, got %d", o.PoolMiB)
	}
	if o.Naming > NamingFluence {
		return fmt.Errorf("fluxion: GenerateOptions.Naming %d: only (flux, fluence) allowed", o.Naming)
	}
	if strings.ContainsAny(o.ClusterName, "/\x00") {
		return fmt.Errorf("fluxion: GenerateOptions.ClusterName %q: must not contain '/' or NUL", o.ClusterName)
	}
	return nil
}

func (o *GenerateOptions) skip(n *engine.Node) bool {
	if o.SkipUnschedulable && n.Unschedulable {
		return true
	}
	if o.SkipControlPlane {
		if _, ok := n.Labels[LabelControlPlane]; ok {
			return true
		}
	}
	if o.SkipLabel != "" {
		if _, ok := n.Labels[o.SkipLabel]; ok {
			return true
		}
	}
	return false
}

// genShape is what one node turns into.
type genShape struct {
	cores, gpus int64
	memUnits    int64 // MiB (MemorySingle) or pools (MemoryPools)
}

func (o *GenerateOptions) shape(n *engine.Node) genShape {
	milli, mem := n.Allocatable.MilliCPU, n.Allocatable.Memory
	if o.UseFree {
		milli -= n.Requested.MilliCPU
		mem -= n.Requested.Memory
	}
	sh := genShape{cores: max(milli/1000, 0), gpus: max(n.Allocatable.GPU, 0)}
	mem = max(mem, 0)
	switch o.Memory {
	case MemorySingle:
		sh.memUnits = mem >> 20
	case MemoryPools:
		sh.memUnits = mem / (o.poolMiB() << 20)
	}
	return sh
}

func (o *GenerateOptions) poolMiB() int64 {
	if o.PoolMiB == 0 {
		return 1024
	}
	return o.PoolMiB
}

// genSplit is part k of total split into parts as evenly as possible.
func genSplit(total int64, parts, k int) int64 {
	q, r := total/int64(parts), total%int64(parts)
	if int64(k) < r {
		q++
	}
	return q
}

// FromNodes builds the resource graph of a cluster: cluster → [level] →
// node → [socket] → core, gpu, memory (see GenerateOptions). A node vertex's
// id is the node's index in nodes, whatever was skipped; uniq_ids count
// vertices in creation order (a level vertex is created just before its
// first node, a node's subtree right after it), and that is also the
// VertexID order. Paths are "/<cluster>0[/<level>]/<node>[/socket<k>]/<leaf>".
func FromNodes(nodes []*engine.Node, opt GenerateOptions) (*Graph, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	clusterBase := opt.ClusterName
	if clusterBase == "" {
		clusterBase = "cluster"
	}
	sockets := max(opt.Sockets, 1) // containers under a node (the node itself when 0)

	// Size the vertex slice exactly.
	total := int64(1)
	levelSeen := map[string]bool{}
	for i, n := range nodes {
		if n == nil {
			return nil, fmt.Errorf("fluxion: FromNodes: nodes[%d] is nil", i)
		}
		if opt.skip(n) {
			continue
		}
		if opt.Level != "" {
			key := genLevelKey(n, opt.Level)
			if !levelSeen[key] {
				levelSeen[key] = true
				total++
				if opt.Naming == NamingFluence && strings.ContainsAny(key, "/\x00") {
					return nil, fmt.Errorf("fluxion: FromNodes: nodes[%d] (%s): %s %q must not contain '/' or NUL", i, n.Name, opt.Level, key)
				}
			}
		}
		if opt.Naming == NamingFluence && strings.ContainsAny(n.Name, "/\x00") {
			return nil, fmt.Errorf("fluxion: FromNodes: nodes[%d]: name %q must not contain '/' or NUL", i, n.Name)
		}
		sh := opt.shape(n)
		total += 1 + int64(opt.Sockets) + sh.cores + sh.gpus
		switch opt.Memory {
		case MemorySingle:
			total += min(sh.memUnits, int64(sockets))
		case MemoryPools:
			total += sh.memUnits
		}
		if total > graphMaxVertices {
			return nil, fmt.Errorf("fluxion: FromNodes: more than %d vertices", graphMaxVertices)
		}
	}

	b := genBuilder{vs: make([]Vertex, 0, total), opt: &opt}
	root := b.add(NoVertex, "cluster", clusterBase, clusterBase+"0", 0, -1, 1, "")
	levels := map[string]VertexID{}
	for i, n := range nodes {
		if opt.skip(n) {
			continue
		}
		parent := root
		if opt.Level != "" {
			key := genLevelKey(n, opt.Level)
			lv, ok := levels[key]
			if !ok {
				id := int64(len(levels))
				base := opt.Level
				if opt.Naming == NamingFluence {
					base = key
				}
				lv = b.add(root, opt.Level, base, base+strconv.FormatInt(id, 10), id, -1, 1, "")
				levels[key] = lv
			}
			parent = lv
		}
		rank := int64(i)
		if opt.NoRank {
			rank = -1
		}
		base := "node"
		if opt.Naming == NamingFluence {
			base = n.Name
		}
		nv := b.add(parent, "node", base, base+strconv.Itoa(i), int64(i), rank, 1, "")
		sh := opt.shape(n)
		var next genShape // next core, gpu, memory id on this node
		if opt.Sockets == 0 {
			b.leaves(nv, rank, sh, &next)
			continue
		}
		for k := 0; k < opt.Sockets; k++ {
			sv := b.add(nv, "socket", "socket", b.name(genSocket, int64(k)), int64(k), rank, 1, "")
			part := genShape{
				cores:    genSplit(sh.cores, opt.Sockets, k),
				gpus:     genSplit(sh.gpus, opt.Sockets, k),
				memUnits: genSplit(sh.memUnits, opt.Sockets, k),
			}
			b.leaves(sv, rank, part, &next)
		}
	}
	order := make([]VertexID, len(b.vs)-1)
	for i := range order {
		order[i] = VertexID(i + 1)
	}
	g := &Graph{Vertices: b.vs, Root: root}
	if err := g.build(order); err != nil {
		return nil, fmt.Errorf("fluxion: FromNodes: %w", err)
	}
	return g, nil
}

func genLevelKey(n *engine.Node, level string) string {
	if level == LevelRack {
		return n.Rack
	}
	return n.Zone
}

type genBuilder struct {
	vs    []Vertex
	opt   *GenerateOptions
	names [4][]string // cached leaf names by genSocket, genCore, genGPU, genMemory
}

const (
	genSocket = iota
	genCore
	genGPU
	genMemory
)

// name returns basename+id for a cached kind ("core7").
func (b *genBuilder) name(kind int, id int64) string {
	c := b.names[kind]
	for int64(len(c)) <= id {
		var base string
		switch kind {
		case genSocket:
			base = "socket"
		case genCore:
			base = "core"
		case genGPU:
			base = b.gpuBase()
		default:
			base = "memory"
		}
		c = append(c, base+strconv.Itoa(len(c)))
	}
	b.names[kind] = c
	return c[id]
}

func (b *genBuilder) gpuBase() string {
	if b.opt.Naming == NamingFluence {
		return "nvidiagpu"
	}
	return "gpu"
}

func (b *genBuilder) add(parent VertexID, typ, base, name string, id, rank, size int64, unit string) VertexID {
	var path string
	if parent == NoVertex {
		path = "/" + name
	} else {
		path = b.vs[parent].Path + "/" + name
	}
	b.vs = append(b.vs, Vertex{
		Type: typ, Basename: base, Name: name, ID: id, UniqID: int64(len(b.vs)),
		Rank: rank, Size: size, Unit: unit, Path: path, Parent: parent,
	})
	return VertexID(len(b.vs) - 1)
}

// leaves adds sh's cores, gpus and memory under p, numbering from *next.
func (b *genBuilder) leaves(p VertexID, rank int64, sh genShape, next *genShape) {
	cores := func() {
		for range sh.cores {
			b.add(p, "core", "core", b.name(genCore, next.cores), next.cores, rank, 1, "")
			next.cores++
		}
	}
	gpus := func() {
		base := b.gpuBase()
		for range sh.gpus {
			b.add(p, "gpu", base, b.name(genGPU, next.gpus), next.gpus, rank, 1, "")
			next.gpus++
		}
	}
	if b.opt.Naming == NamingFluence {
		gpus()
		cores()
	} else {
		cores()
		gpus()
	}
	switch b.opt.Memory {
	case MemorySingle:
		if sh.memUnits > 0 {
			b.add(p, "memory", "memory", b.name(genMemory, next.memUnits), next.memUnits, rank, sh.memUnits, "MB")
			next.memUnits++
		}
	case MemoryPools:
		pool := b.opt.poolMiB()
		for range sh.memUnits {
			b.add(p, "memory", "memory", b.name(genMemory, next.memUnits), next.memUnits, rank, pool, "MB")
			next.memUnits++
		}
	}
}
