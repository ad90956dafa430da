package graph

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

const gib = int64(1) << 30

type testNodeSpec struct {
	name, zone, rack string
	milli            int64
	memGiB           float64
	gpu              int64
	labels           map[string]string
	unschedulable    bool
	reqMilli, reqMem int64
}

func makeTestNodes(specs []*testNodeSpec) []*engine.Node {
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

// fluenceTestNodes is the cluster of testdata/jgf/fluence-bidirectional.json.
func fluenceTestNodes() []*engine.Node {
	return makeTestNodes([]*testNodeSpec{
		{name: "kind-control-plane", milli: 4000, memGiB: 8, labels: map[string]string{LabelControlPlane: ""}},
		{name: "kind-worker", zone: "us-east-1a", milli: 2500, memGiB: 2.5, gpu: 1},
		{name: "kind-worker2", zone: "us-east-1b", milli: 1000, memGiB: 1},
		{name: "kind-worker3", zone: "us-east-1a", milli: 3000, memGiB: 0.5, gpu: 2},
	})
}

func paths(g *Graph, typ string) []string {
	var out []string
	for _, v := range g.OfType(typ) {
		out = append(out, g.Vertex(v).Path)
	}
	return out
}

// TestFromNodesSockets: 3 nodes × 2 sockets × 48 cores (96000 mCPU per
// node) and 8 GPUs per node, 512 GiB each. Each socket gets 48 cores and 4
// GPUs; ids run on across a node's sockets (socket1 holds core48..95 and
// gpu4..7), as in flux-sched's tiny.json.
func TestFromNodesSockets(t *testing.T) {
	specs := make([]*testNodeSpec, 3)
	for i := range specs {
		specs[i] = &testNodeSpec{name: fmt.Sprintf("w%d", i), milli: 96000, memGiB: 512, gpu: 8}
	}
	g, err := FromNodes(makeTestNodes(specs), GenerateOptions{Sockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 3 × 2 × 48 = 288 cores, 3 × 8 = 24 gpus, one memory vertex per socket.
	for typ, want := range map[string]int{"cluster": 1, "node": 3, "socket": 6, "core": 288, "gpu": 24, "memory": 6} {
		if got := g.Count(typ); got != want {
			t.Errorf("Count(%q) = %d, want %d", typ, got, want)
		}
	}
	// 1 + 3 × (1 node + 2 sockets + 96 cores + 8 gpus + 2 memory) = 328
	if g.Len() != 328 {
		t.Errorf("Len() = %d, want 328", g.Len())
	}
	for _, p := range []string{"/cluster0", "/cluster0/node2", "/cluster0/node2/socket1", "/cluster0/node0/socket0/core0",
		"/cluster0/node0/socket0/core47", "/cluster0/node0/socket1/core48", "/cluster0/node2/socket1/core95",
		"/cluster0/node1/socket0/gpu3", "/cluster0/node1/socket1/gpu4", "/cluster0/node1/socket1/gpu7",
		"/cluster0/node1/socket0/memory0", "/cluster0/node1/socket1/memory1"} {
		if _, ok := g.Lookup(p); !ok {
			t.Errorf("no vertex at %s", p)
		}
	}
	for _, p := range []string{"/cluster0/node0/socket0/core48", "/cluster0/node0/socket1/gpu3", "/cluster0/node3"} {
		if _, ok := g.Lookup(p); ok {
			t.Errorf("unexpected vertex at %s", p)
		}
	}
	s, _ := g.Lookup("/cluster0/node2/socket1")
	cores := 0
	for _, c := range g.Children(s) {
		if g.Vertex(c).Type == "core" {
			cores++
		}
	}
	if cores != 48 {
		t.Errorf("socket1 of node2 has %d cores, want 48", cores)
	}
	// 512 GiB = 524288 MiB, half per socket.
	m, _ := g.Lookup("/cluster0/node1/socket1/memory1")
	if v := g.Vertex(m); v.Size != 262144 || v.Unit != "MB" || v.Rank != 1 || v.ID != 1 {
		t.Errorf("memory vertex %+v", *v)
	}
	// uniq_id = creation order: cluster 0, node0 1, socket0 2, its 48 cores
	// 3..50, 4 gpus 51..54, memory 55, socket1 56.
	if v, _ := g.ByUniqID(56); g.Vertex(v).Path != "/cluster0/node0/socket1" {
		t.Errorf("uniq_id 56 is %s", g.Vertex(v).Path)
	}
	// ranks: the node index under a node, -1 above.
	if v, _ := g.Lookup("/cluster0/node2/socket0/gpu1"); g.Vertex(v).Rank != 2 || g.Vertex(g.Root).Rank != -1 {
		t.Error("ranks")
	}
	CheckRoundTrip(t, g)
}

func TestFromNodesUnevenAndLevels(t *testing.T) {
	nodes := makeTestNodes([]*testNodeSpec{
		{name: "a", zone: "z1", rack: "r9", milli: 5999, memGiB: 1, gpu: 3}, // 5 cores: 3 + 2; 3 gpus: 2 + 1
		{name: "b", zone: "", rack: "r9", milli: 999, memGiB: 0.0009},       // 0 cores, memory < 1 MiB: none
		{name: "c", zone: "z1", rack: "r1", milli: 2000, memGiB: 2},
	})
	g, err := FromNodes(nodes, GenerateOptions{Level: LevelSubnet, Sockets: 2, Memory: MemoryPools})
	if err != nil {
		t.Fatal(err)
	}
	got := paths(g, "core")
	want := []string{
		"/cluster0/subnet0/node0/socket0/core0", "/cluster0/subnet0/node0/socket0/core1", "/cluster0/subnet0/node0/socket0/core2",
		"/cluster0/subnet0/node0/socket1/core3", "/cluster0/subnet0/node0/socket1/core4",
		"/cluster0/subnet0/node2/socket0/core0", "/cluster0/subnet0/node2/socket1/core1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cores\n got  %v\n want %v", got, want)
	}
	if got, want := paths(g, "gpu"), []string{"/cluster0/subnet0/node0/socket0/gpu0", "/cluster0/subnet0/node0/socket0/gpu1", "/cluster0/subnet0/node0/socket1/gpu2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("gpus %v", got)
	}
	// Pools: node a 1 GiB → 1 pool on socket0; node c 2 GiB → one per socket.
	if got, want := paths(g, "memory"), []string{"/cluster0/subnet0/node0/socket0/memory0", "/cluster0/subnet0/node2/socket0/memory0", "/cluster0/subnet0/node2/socket1/memory1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("memory %v", got)
	}
	if got, want := paths(g, "subnet"), []string{"/cluster0/subnet0", "/cluster0/subnet1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("subnets %v", got)
	}
	// Racks, in order of first appearance: r9 (a, b), r1 (c).
	g, err = FromNodes(nodes, GenerateOptions{Level: LevelRack, NoRank: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(g, "node"), []string{"/cluster0/rack0/node0", "/cluster0/rack0/node1", "/cluster0/rack1/node2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("nodes %v", got)
	}
	for _, v := range g.Vertices {
		if v.Rank != -1 {
			t.Fatalf("rank %d with NoRank", v.Rank)
		}
	}
	// Default memory: one vertex of floor(MiB); node b has 0.0009 GiB < 1 MiB.
	if got, want := paths(g, "memory"), []string{"/cluster0/rack0/node0/memory0", "/cluster0/rack1/node2/memory0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("memory %v", got)
	}
	if v, _ := g.Lookup("/cluster0/rack1/node2/memory0"); g.Vertex(v).Size != 2048 {
		t.Errorf("memory size %d, want 2048 MiB", g.Vertex(v).Size)
	}
}

// TestFluencePreset checks the Fluence preset against Fluence's generator
// (flux-k8s src/fluence/utils/utils.go: CreateInClusterJGF): names, ids,
// order, skips.
func TestFluencePreset(t *testing.T) {
	nodes := fluenceTestNodes()
	nodes = append(nodes, makeTestNodes([]*testNodeSpec{
		{name: "cordoned", zone: "us-east-1c", milli: 8000, memGiB: 8, unschedulable: true},
		{name: "busy", zone: "us-east-1b", milli: 4000, memGiB: 4, gpu: 1, reqMilli: 1500, reqMem: gib + gib/2},
		{name: "tainted", zone: "us-east-1b", milli: 4000, memGiB: 4, labels: map[string]string{"fluence.skip": "yes"}},
	})...)
	g, err := Fluence(nodes, "fluence.skip")
	if err != nil {
		t.Fatal(err)
	}
	// Skipped: 0 (control plane), 4 (unschedulable), 6 (skip label); the
	// zone us-east-1c only had a skipped node, so it has no subnet.
	want := []string{
		"/k8scluster0/us-east-1a0/kind-worker1",
		"/k8scluster0/us-east-1b1/kind-worker22",
		"/k8scluster0/us-east-1a0/kind-worker33",
		"/k8scluster0/us-east-1b1/busy5",
	}
	if got := paths(g, "node"); !reflect.DeepEqual(got, want) {
		t.Errorf("nodes\n got  %v\n want %v", got, want)
	}
	// busy: (4000 - 1500) / 1000 = 2 cores; (4 - 1.5) GiB >> 30 = 2 pools; 1 gpu.
	n, _ := g.Lookup("/k8scluster0/us-east-1b1/busy5")
	var kids []string
	for _, c := range g.Children(n) {
		v := g.Vertex(c)
		kids = append(kids, fmt.Sprintf("%s:%s:%d%s", v.Type, v.Name, v.Size, v.Unit))
	}
	if want := []string{"gpu:nvidiagpu0:1", "core:core0:1", "core:core1:1", "memory:memory0:1024MB", "memory:memory1:1024MB"}; !reflect.DeepEqual(kids, want) {
		t.Errorf("busy5 children %v, want %v", kids, want)
	}
	nv := g.Vertex(n)
	if nv.Basename != "busy" || nv.ID != 5 || nv.Rank != -1 || nv.Type != "node" {
		t.Errorf("node vertex %+v", *nv)
	}
	s := g.Vertex(nv.Parent)
	if s.Type != "subnet" || s.Basename != "us-east-1b" || s.ID != 1 || s.Name != "us-east-1b1" {
		t.Errorf("subnet vertex %+v", *s)
	}
	if r := g.Vertex(g.Root); r.Basename != "k8scluster" || r.Name != "k8scluster0" || r.UniqID != 0 {
		t.Errorf("root %+v", *r)
	}
	// uniq_ids follow Fluence's element counter: the 18 vertices of
	// fluence-bidirectional.json, then busy5 (18) and its 5 children.
	if nv.UniqID != 18 || g.Len() != 24 {
		t.Errorf("busy5 uniq_id %d, %d vertices; want 18, 24", nv.UniqID, g.Len())
	}
}

func TestFromNodesEmptyZoneFluence(t *testing.T) {
	g, err := Fluence(makeTestNodes([]*testNodeSpec{{name: "n", milli: 1000}}), "")
	if err != nil {
		t.Fatal(err)
	}
	// Fluence names the subnet of an empty zone "" + 0.
	if got := paths(g, "node"); !reflect.DeepEqual(got, []string{"/k8scluster0/0/n0"}) {
		t.Errorf("nodes %v", got)
	}
}

func TestFromNodesNoNodes(t *testing.T) {
	g, err := FromNodes(nil, GenerateOptions{ClusterName: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 1 || g.Vertex(g.Root).Path != "/tiny0" {
		t.Errorf("graph %+v", g.Vertices)
	}
	CheckRoundTrip(t, g)
}

func TestFromNodesErrors(t *testing.T) {
	ok := makeTestNodes([]*testNodeSpec{{name: "a", milli: 1000}})
	tests := []struct {
		name  string
		nodes []*engine.Node
		opt   GenerateOptions
		want  string
	}{
		{"bad level", ok, GenerateOptions{Level: "zone"}, `fluxion: GenerateOptions.Level "zone": only ("", "subnet", "rack") allowed`},
		{"negative sockets", ok, GenerateOptions{Sockets: -1}, `fluxion: GenerateOptions.Sockets: must be >= 0, got -1`},
		{"bad memory", ok, GenerateOptions{Memory: 7}, `fluxion: GenerateOptions.Memory 7: only (single, pools, none) allowed`},
		{"negative pool", ok, GenerateOptions{PoolMiB: -1}, `fluxion: GenerateOptions.PoolMiB: must be >= 0, got -1`},
		{"bad naming", ok, GenerateOptions{Naming: 9}, `fluxion: GenerateOptions.Naming 9: only (flux, fluence) allowed`},
		{"slash in cluster name", ok, GenerateOptions{ClusterName: "a/b"}, `fluxion: GenerateOptions.ClusterName "a/b": must not contain '/' or NUL`},
		{"nil node", []*engine.Node{ok[0], nil}, GenerateOptions{}, `fluxion: FromNodes: nodes[1] is nil`},
		{"slash in node name", makeTestNodes([]*testNodeSpec{{name: "a/b"}}), FluenceOptions(""), `fluxion: FromNodes: nodes[0]: name "a/b" must not contain '/' or NUL`},
		{"slash in zone", makeTestNodes([]*testNodeSpec{{name: "a", zone: "z/1"}}), FluenceOptions(""), `fluxion: FromNodes: nodes[0] (a): subnet "z/1" must not contain '/' or NUL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromNodes(tc.nodes, tc.opt)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n got  %v\n want %s", err, tc.want)
			}
		})
	}
	// Fluence naming can clash: zone "z1" with id 1 is "z11", and so is
	// zone "z" with id 11. The generator reports it rather than merging.
	var specs []*testNodeSpec
	specs = append(specs, &testNodeSpec{name: "n0", zone: "q"})
	specs = append(specs, &testNodeSpec{name: "n1", zone: "z1"}) // id 1 → "z11"
	for i := 2; i < 11; i++ {
		specs = append(specs, &testNodeSpec{name: fmt.Sprintf("n%d", i), zone: fmt.Sprintf("y%d", i)})
	}
	specs = append(specs, &testNodeSpec{name: "n11", zone: "z"}) // id 11 → "z11"
	_, err := FromNodes(makeTestNodes(specs), GenerateOptions{Level: LevelSubnet, Naming: NamingFluence})
	if err == nil || !strings.Contains(err.Error(), `duplicate path "/cluster0/z11"`) {
		t.Errorf("err = %v, want a duplicate path error", err)
	}
}
