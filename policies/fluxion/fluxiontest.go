package fluxion

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

// mtNode describes one node of a test cluster.
type mtNode struct {
	cores, gpus int64
	memMiB      int64
}

// mtGraph builds cluster0 -> node<i> [-> socket<k>] -> core, gpu, memory
// (one memory vertex of memMiB per node or socket; none if 0).
func mtGraph(t testing.TB, sockets int, nodes ...mtNode) *Graph {
	t.Helper()
	ns := make([]*engine.Node, len(nodes))
	mem := MemoryNone
	for i, n := range nodes {
		if n.memMiB > 0 {
			mem = MemorySingle
		}
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: n.cores * 1000, GPU: n.gpus, Memory: n.memMiB << 20, Pods: 110}}
	}
	g, err := FromNodes(ns, GenerateOptions{Sockets: sockets, Memory: mem})
	if err != nil {
		t.Fatalf("FromNodes: %v", err)
	}
	return g
}

func mtFlat(t testing.TB, cores ...int64) *Graph {
	t.Helper()
	ns := make([]mtNode, len(cores))
	for i, c := range cores {
		ns[i] = mtNode{cores: c}
	}
	return mtGraph(t, 0, ns...)
}

// mtReq is a V1 request: nodes (0: slot at the top) > slot x slots >
// core x cores [, gpu x gpus][, memory x memMiB].
type mtReq struct {
	nodes, slots, cores, gpus, memMiB int64
	nodeExcl                          bool
	dur                               float64
}

func (r mtReq) yaml() string {
	var b strings.Builder
	b.WriteString("version: 1\nresources:\n")
	ind := ""
	if r.nodes > 0 {
		fmt.Fprintf(&b, "- type: node\n  count: %d\n", r.nodes)
		if r.nodeExcl {
			b.WriteString("  exclusive: true\n")
		}
		b.WriteString("  with:\n")
		ind = "  "
	}
	fmt.Fprintf(&b, "%s- type: slot\n%s  count: %d\n%s  label: default\n%s  with:\n", ind, ind, r.slots, ind, ind)
	fmt.Fprintf(&b, "%s  - type: core\n%s    count: %d\n", ind, ind, r.cores)
	if r.gpus > 0 {
		fmt.Fprintf(&b, "%s  - type: gpu\n%s    count: %d\n", ind, ind, r.gpus)
	}
	if r.memMiB > 0 {
		fmt.Fprintf(&b, "%s  - type: memory\n%s    count: %d\n", ind, ind, r.memMiB)
	}
	dur := r.dur
	if dur == 0 {
		dur = 100
	}
	fmt.Fprintf(&b, "tasks:\n- command: [app]\n  slot: default\n  count: {per_slot: 1}\nattributes:\n  system:\n    duration: %g\n", dur)
	return b.String()
}

func (r mtReq) js(t testing.TB) *Jobspec {
	t.Helper()
	js, err := ParseJobspec([]byte(r.yaml()), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, r.yaml())
	}
	return js
}

func mtParse(t testing.TB, y string) *Jobspec {
	t.Helper()
	js, err := ParseJobspec([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("ParseJobspec: %v\n%s", err, y)
	}
	return js
}

// mbGraphs caches the generated graphs across sub-benchmarks.
var mbGraphs = map[int]*Graph{}

func mbGraph(b *testing.B, nodes int) *Graph {
	b.Helper()
	if g := mbGraphs[nodes]; g != nil {
		return g
	}
	ns := make([]*engine.Node, nodes)
	for i := range ns {
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: 96000, GPU: 8, Memory: 256 << 30, Pods: 110}}
	}
	g, err := FromNodes(ns, GenerateOptions{Sockets: 2, Memory: MemorySingle})
	if err != nil {
		b.Fatalf("FromNodes: %v", err)
	}
	mbGraphs[nodes] = g
	return g
}

// mbJobspecs are the request shapes: whole nodes (4 exclusive nodes, each
// one slot of both sockets with all their cores and GPUs; version 9999,
// as version 1 allows only core, gpu and memory in a slot) and 16 packed
// slots of 4 cores and a GPU (hosted by sockets).
var mbJobspecs = []struct{ name, yaml string }{
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

// mbFillText is the jobspec of n whole nodes for dur seconds.
func mbFillText(n int, dur int64) string {
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

// upTiny is cluster0 > node0 (core0, core1, gpu0), node1 (core0, core1)
// with uniq_ids 0..7 in that pre-order and ranks 0 and 1.
func upTiny(t testing.TB) *Graph {
	return mtGraph(t, 0, mtNode{cores: 2, gpus: 1}, mtNode{cores: 2})
}

type ftNodeSpec struct {
	name, zone, rack string
	milli            int64
	memGiB           float64
	gpu              int64
	labels           map[string]string
	unschedulable    bool
	reqMilli, reqMem int64
}

func ftMakeNodes(specs []*ftNodeSpec) []*engine.Node {
	out := make([]*engine.Node, len(specs))
	for i, s := range specs {
		labels := map[string]string{engine.LabelHostname: s.name}
		if s.zone != "" {
			labels[engine.LabelZone] = s.zone
		}
		for k, v := range s.labels {
			labels[k] = v
		}
		out[i] = &engine.Node{
			Index: i, Name: s.name, Zone: s.zone, Rack: s.rack, Labels: labels,
			Unschedulable: s.unschedulable,
			Allocatable:   engine.Resources{MilliCPU: s.milli, Memory: int64(s.memGiB * float64(gib)), GPU: s.gpu, Pods: 110},
			Requested:     engine.Resources{MilliCPU: s.reqMilli, Memory: s.reqMem},
		}
	}
	return out
}

// ftFluenceNodes is the cluster of testdata/jgf/fluence-bidirectional.json.
func ftFluenceNodes() []*engine.Node {
	return ftMakeNodes([]*ftNodeSpec{
		{name: "kind-control-plane", milli: 4000, memGiB: 8, labels: map[string]string{LabelControlPlane: ""}},
		{name: "kind-worker", zone: "us-east-1a", milli: 2500, memGiB: 2.5, gpu: 1},
		{name: "kind-worker2", zone: "us-east-1b", milli: 1000, memGiB: 1},
		{name: "kind-worker3", zone: "us-east-1a", milli: 3000, memGiB: 0.5, gpu: 2},
	})
}
