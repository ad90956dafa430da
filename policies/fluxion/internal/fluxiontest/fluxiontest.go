package fluxiontest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// Node describes one node of a test cluster.
type Node struct {
	Cores, GPUs int64
	MemMiB      int64
}

// Graph builds cluster0 -> node<i> [-> socket<k>] -> core, gpu, memory
// (one memory vertex of memMiB per node or socket; none if 0).
func Graph(t testing.TB, sockets int, nodes ...Node) *graph.Graph {
	t.Helper()
	ns := make([]*engine.Node, len(nodes))
	mem := graph.MemoryNone
	for i, n := range nodes {
		if n.MemMiB > 0 {
			mem = graph.MemorySingle
		}
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: n.Cores * 1000, GPU: n.GPUs, Memory: n.MemMiB << 20, Pods: 110}}
	}
	g, err := graph.FromNodes(ns, graph.GenerateOptions{Sockets: sockets, Memory: mem})
	if err != nil {
		t.Fatalf("FromNodes: %v", err)
	}
	return g
}

func Flat(t testing.TB, cores ...int64) *graph.Graph {
	t.Helper()
	ns := make([]Node, len(cores))
	for i, c := range cores {
		ns[i] = Node{Cores: c}
	}
	return Graph(t, 0, ns...)
}

// Req is a V1 request: nodes (0: slot at the top) > slot x slots >
// core x cores [, gpu x gpus][, memory x memMiB].
type Req struct {
	Nodes, Slots, Cores, GPUs, MemMiB int64
	NodeExcl                          bool
	Dur                               float64
}

func (r Req) YAML() string {
	var b strings.Builder
	b.WriteString("version: 1\nresources:\n")
	ind := ""
	if r.Nodes > 0 {
		fmt.Fprintf(&b, "- type: node\n  count: %d\n", r.Nodes)
		if r.NodeExcl {
			b.WriteString("  exclusive: true\n")
		}
		b.WriteString("  with:\n")
		ind = "  "
	}
	fmt.Fprintf(&b, "%s- type: slot\n%s  count: %d\n%s  label: default\n%s  with:\n", ind, ind, r.Slots, ind, ind)
	fmt.Fprintf(&b, "%s  - type: core\n%s    count: %d\n", ind, ind, r.Cores)
	if r.GPUs > 0 {
		fmt.Fprintf(&b, "%s  - type: gpu\n%s    count: %d\n", ind, ind, r.GPUs)
	}
	if r.MemMiB > 0 {
		fmt.Fprintf(&b, "%s  - type: memory\n%s    count: %d\n", ind, ind, r.MemMiB)
	}
	dur := r.Dur
	if dur == 0 {
		dur = 100
	}
	fmt.Fprintf(&b, "tasks:\n- command: [app]\n  slot: default\n  count: {per_slot: 1}\nattributes:\n  system:\n    duration: %g\n", dur)
	return b.String()
}

func (r Req) Jobspec(t testing.TB) *jobspec.Jobspec {
	t.Helper()
	js, err := jobspec.ParseJobspec([]byte(r.YAML()), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, r.YAML())
	}
	return js
}

func Parse(t testing.TB, y string) *jobspec.Jobspec {
	t.Helper()
	js, err := jobspec.ParseJobspec([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, y)
	}
	return js
}

// mbGraphs caches the generated graphs across sub-benchmarks.
var mbGraphs = map[int]*graph.Graph{}

func BenchGraph(b *testing.B, nodes int) *graph.Graph {
	b.Helper()
	if g := mbGraphs[nodes]; g != nil {
		return g
	}
	ns := make([]*engine.Node, nodes)
	for i := range ns {
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: 96000, GPU: 8, Memory: 256 << 30, Pods: 110}}
	}
	g, err := graph.FromNodes(ns, graph.GenerateOptions{Sockets: 2, Memory: graph.MemorySingle})
	if err != nil {
		b.Fatalf("FromNodes: %v", err)
	}
	mbGraphs[nodes] = g
	return g
}

// BenchJobspecs are the request shapes: whole nodes (4 exclusive nodes, each
// one slot of both sockets with all their cores and GPUs; version 9999,
// as version 1 allows only core, gpu and memory in a slot) and 16 packed
// slots of 4 cores and a GPU (hosted by sockets).
var BenchJobspecs = []struct{ Name, YAML string }{
	{"wholenode", `version: 9999
resources:
- type: node
  count: 4
  exclusive: true
  with:
  - type: slot
    count: 1
    label: default
    with:
    - type: socket
      count: 2
      with:
      - type: core
        count: 48
      - type: gpu
        count: 4
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: 3600
`},
	{"packed", `version: 1
resources:
- type: slot
  count: 16
  label: default
  with:
  - type: core
    count: 4
  - type: gpu
    count: 1
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: 3600
`},
}

// FillText is the jobspec of n whole nodes for dur seconds.
func FillText(n int, dur int64) string {
	return fmt.Sprintf(`version: 9999
resources:
- type: node
  count: %d
  exclusive: true
  with:
  - type: slot
    count: 1
    label: default
    with:
    - type: socket
      count: 2
      with:
      - type: core
        count: 48
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: %d
`, n, dur)
}

// Tiny is cluster0 > node0 (core0, core1, gpu0), node1 (core0, core1)
// with uniq_ids 0..7 in that pre-order and ranks 0 and 1.
func Tiny(t testing.TB) *graph.Graph {
	return Graph(t, 0, Node{Cores: 2, GPUs: 1}, Node{Cores: 2})
}

type NodeSpec struct {
	Name, Zone, Rack string
	Milli            int64
	MemGiB           float64
	GPU              int64
	labels           map[string]string
	unschedulable    bool
	ReqMilli, ReqMem int64
}

func MakeNodes(specs []*NodeSpec) []*engine.Node {
	out := make([]*engine.Node, len(specs))
	for i, s := range specs {
		labels := map[string]string{engine.LabelHostname: s.Name}
		if s.Zone != "" {
			labels[engine.LabelZone] = s.Zone
		}
		for k, v := range s.labels {
			labels[k] = v
		}
		out[i] = &engine.Node{
			Index: i, Name: s.Name, Zone: s.Zone, Rack: s.Rack, Labels: labels,
			Unschedulable: s.unschedulable,
			Allocatable:   engine.Resources{MilliCPU: s.Milli, Memory: int64(s.MemGiB * float64(gib)), GPU: s.GPU, Pods: 110},
			Requested:     engine.Resources{MilliCPU: s.ReqMilli, Memory: s.ReqMem},
		}
	}
	return out
}

// FluenceNodes is the cluster of graph/testdata/jgf/fluence-bidirectional.json.
func FluenceNodes() []*engine.Node {
	return MakeNodes([]*NodeSpec{
		{Name: "kind-control-plane", Milli: 4000, MemGiB: 8, labels: map[string]string{graph.LabelControlPlane: ""}},
		{Name: "kind-worker", Zone: "us-east-1a", Milli: 2500, MemGiB: 2.5, GPU: 1},
		{Name: "kind-worker2", Zone: "us-east-1b", Milli: 1000, MemGiB: 1},
		{Name: "kind-worker3", Zone: "us-east-1a", Milli: 3000, MemGiB: 0.5, GPU: 2},
	})
}

// gib is a GiB in bytes.
const gib = int64(1) << 30
