package graph

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

var jgfUpdate = flag.Bool("update-jgf", false, "rewrite testdata/jgf/*.golden.json")

// graphDiff returns "" if a and b hold the same tree (root, vertices with
// all fields, children order), else the first difference.
func graphDiff(a, b *Graph) string {
	if a.Root != b.Root {
		return fmt.Sprintf("root %d != %d", a.Root, b.Root)
	}
	if len(a.Vertices) != len(b.Vertices) {
		return fmt.Sprintf("%d vertices != %d", len(a.Vertices), len(b.Vertices))
	}
	for i := range a.Vertices {
		if !reflect.DeepEqual(a.Vertices[i], b.Vertices[i]) {
			return fmt.Sprintf("vertex %d:\n  %+v\n  %+v", i, a.Vertices[i], b.Vertices[i])
		}
	}
	return ""
}

func readJGFFile(t testing.TB, name string) *Graph {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "jgf", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := ReadJGF(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func ReadJGFString(s string) (*Graph, error) { return ReadJGF(strings.NewReader(s), "x.json") }

func writeJGF(t testing.TB, g *Graph) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkRoundTrip writes g, reads it back, and checks equality and that a
// second write is byte-identical.
func CheckRoundTrip(t testing.TB, g *Graph) {
	t.Helper()
	out1 := writeJGF(t, g)
	g2, err := ReadJGF(bytes.NewReader(out1), "written.json")
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, out1)
	}
	if d := graphDiff(g, g2); d != "" {
		t.Fatalf("read back differs: %s", d)
	}
	if out2 := writeJGF(t, g2); !bytes.Equal(out1, out2) {
		t.Fatalf("second write differs:\n%s\n---\n%s", out1, out2)
	}
	if out3 := writeJGF(t, g); !bytes.Equal(out1, out3) {
		t.Fatal("repeated write of the same graph differs")
	}
}

// TestReadJGFFluxSchedStyle reads a JGF laid out like flux-sched's
// t/data/resource/jgfs/tiny.json: vertices grouped by type (so a parent's
// children are not next to it), every metadata field spelled out,
// parent->child edges with metadata.subsystem.
func TestReadJGFFluxSchedStyle(t *testing.T) {
	g := readJGFFile(t, "flux-sched-small.json")
	// cluster0 → node0..1 → socket0..1 → core0..3, gpu0
	wantCounts := map[string]int{"cluster": 1, "node": 2, "socket": 4, "core": 16, "gpu": 4}
	for typ, want := range wantCounts {
		if got := g.Count(typ); got != want {
			t.Errorf("Count(%q) = %d, want %d", typ, got, want)
		}
	}
	if got, want := g.Types(), []string{"cluster", "core", "gpu", "node", "socket"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	if g.Len() != 27 {
		t.Errorf("Len() = %d, want 27 (1+2+4+16+4)", g.Len())
	}
	if p := g.Vertices[g.Root].Path; p != "/cluster0" {
		t.Errorf("root path %q", p)
	}
	// uniq_ids in the file: 0 cluster, 1-2 nodes, 3-6 sockets, 7-22 cores
	// (4 per socket, socket by socket), 23-26 gpus.
	s, ok := g.Lookup("/cluster0/node1/socket0")
	if !ok {
		t.Fatal("no /cluster0/node1/socket0")
	}
	sv := g.Vertex(s)
	if sv.UniqID != 5 || sv.ID != 0 || sv.Rank != 1 || sv.Name != "socket0" {
		t.Errorf("socket vertex %+v", *sv)
	}
	var kids []string
	for _, c := range g.Children(s) {
		kids = append(kids, g.Vertex(c).Name)
	}
	if want := []string{"core0", "core1", "core2", "core3", "gpu0"}; !reflect.DeepEqual(kids, want) {
		t.Errorf("children of node1/socket0 = %v, want %v (edge order)", kids, want)
	}
	gpu, _ := g.Lookup("/cluster0/node1/socket0/gpu0")
	if u := g.Vertex(gpu).UniqID; u != 25 {
		t.Errorf("gpu uniq_id %d, want 25", u)
	}
	if v, ok := g.ByUniqID(25); !ok || v != gpu {
		t.Errorf("ByUniqID(25) = %d, %v", v, ok)
	}
	if n := g.Ancestor(gpu, "node"); g.Vertex(n).Path != "/cluster0/node1" {
		t.Errorf("Ancestor(gpu, node) = %s", g.Vertex(n).Path)
	}
	if got := len(g.Subtree(g.Root)); got != 27 {
		t.Errorf("Subtree(root) has %d vertices", got)
	}
	CheckRoundTrip(t, g)
}

// TestReadJGFBidirectional reads Fluence's layout, where every edge is
// written parent->child and then child->parent, and checks it is the same
// graph as the Fluence preset builds for the same cluster.
func TestReadJGFBidirectional(t *testing.T) {
	g := readJGFFile(t, "fluence-bidirectional.json")
	for typ, want := range map[string]int{"cluster": 1, "subnet": 2, "node": 3, "gpu": 3, "core": 6, "memory": 3} {
		if got := g.Count(typ); got != want {
			t.Errorf("Count(%q) = %d, want %d", typ, got, want)
		}
	}
	n, ok := g.Lookup("/k8scluster0/us-east-1a0/kind-worker33")
	if !ok {
		t.Fatal("no kind-worker33")
	}
	if p := g.Vertex(g.Vertex(n).Parent).Path; p != "/k8scluster0/us-east-1a0" {
		t.Errorf("parent of kind-worker33 is %s", p)
	}
	var kids []string
	for _, c := range g.Children(n) {
		kids = append(kids, g.Vertex(c).Name)
	}
	if want := []string{"nvidiagpu0", "nvidiagpu1", "core0", "core1", "core2"}; !reflect.DeepEqual(kids, want) {
		t.Errorf("children of kind-worker33 = %v, want %v", kids, want)
	}
	fl, err := Fluence(fluenceTestNodes(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d := graphDiff(g, fl); d != "" {
		t.Errorf("Fluence preset differs from Fluence's JGF: %s", d)
	}
	CheckRoundTrip(t, g)
	// Canonical output keeps only the 17 parent->child edges.
	if got := bytes.Count(writeJGF(t, g), []byte(`"source"`)); got != 17 {
		t.Errorf("canonical JGF has %d edges, want 17", got)
	}
}

// TestWriteJGFGolden pins the canonical format.
func TestWriteJGFGolden(t *testing.T) {
	g, err := Fluence(fluenceTestNodes(), "")
	if err != nil {
		t.Fatal(err)
	}
	g.Vertices[3].Properties = map[string]string{"zz": "last", "arch": "x86_64"}
	g.Vertices[3].OtherPaths = map[string]string{"power": "/pdu0/gpu0"}
	if err := g.SetStatus("/k8scluster0/us-east-1b1/kind-worker22", StatusDown); err != nil {
		t.Fatal(err)
	}
	got := writeJGF(t, g)
	golden := filepath.Join("testdata", "jgf", "fluence-canonical.golden.json")
	if *jgfUpdate {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("canonical JGF differs from %s (run with -update-jgf to rewrite):\n%s", golden, got)
	}
	CheckRoundTrip(t, g)
}

func TestJGFRoundTripGenerated(t *testing.T) {
	nodes := []*testNodeSpec{
		{name: "a", zone: "z1", rack: "r1", milli: 4500, memGiB: 3, gpu: 2},
		{name: "b", zone: "z2", rack: "r1", milli: 1000, memGiB: 1},
		{name: "c", zone: "z1", rack: "r2", milli: 7999, memGiB: 0, gpu: 1},
	}
	for _, opt := range []GenerateOptions{
		{},
		{Level: LevelSubnet, Sockets: 2, Memory: MemoryPools},
		{Level: LevelRack, Sockets: 3, NoRank: true, Memory: MemoryNone},
		FluenceOptions(""),
	} {
		g, err := FromNodes(makeTestNodes(nodes), opt)
		if err != nil {
			t.Fatal(err)
		}
		CheckRoundTrip(t, g)
	}
}

func TestReadJGFEdgesBeforeNodes(t *testing.T) {
	g, err := ReadJGFString(`{"free_ranks":"0-3","graph":{"edges":[{"source":"a","target":"b"}],"directed":true,
		"nodes":[{"id":"a","metadata":{"type":"cluster","uniq_id":0,"paths":{"containment":"/c0"}}},
		         {"id":"b","metadata":{"type":"node","uniq_id":1,"paths":{"containment":"/c0/node1"}}}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if g.Vertex(1).Parent != 0 || g.Count("node") != 1 {
		t.Errorf("graph %+v", g.Vertices)
	}
}

// TestReadJGFOtherSubsystems: edges of other subsystems are checked for
// known ends and otherwise ignored; their paths stay on the vertices.
func TestReadJGFOtherSubsystems(t *testing.T) {
	g, err := ReadJGFString(`{"graph":{"nodes":[
		{"id":"0","metadata":{"type":"cluster","paths":{"containment":"/c0","power":"/pdu0"}}},
		{"id":"1","metadata":{"type":"node","paths":{"containment":"/c0/node1","power":"/pdu0/node1"},"properties":{"arch":"arm64"}}}],
		"edges":[{"source":"1","target":"0","metadata":{"subsystem":"power","name":{"power":"draws"}}},
		         {"source":"0","target":"1","metadata":{"subsystem":"containment"}}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	v := g.Vertex(1)
	if v.Parent != 0 || v.OtherPaths["power"] != "/pdu0/node1" || v.Properties["arch"] != "arm64" || v.ID != 1 {
		t.Errorf("vertex %+v", *v)
	}
	CheckRoundTrip(t, g)
}

func TestReadJGFStatus(t *testing.T) {
	g, err := ReadJGFString(`{"graph":{"nodes":[
		{"id":"0","metadata":{"type":"cluster","paths":{"containment":"/c0"}}},
		{"id":"1","metadata":{"type":"node","status":1,"paths":{"containment":"/c0/node1"}}},
		{"id":"2","metadata":{"type":"core","status":"up","paths":{"containment":"/c0/node1/core2"}}},
		{"id":"3","metadata":{"type":"node","status":"down","paths":{"containment":"/c0/node3"}}},
		{"id":"4","metadata":{"type":"node","status":0,"paths":{"containment":"/c0/node4"}}}],
		"edges":[{"source":"0","target":"1"},{"source":"1","target":"2"},{"source":"0","target":"3"},{"source":"0","target":"4"}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		own   Status
		avail bool
	}{{StatusUp, true}, {StatusDown, false}, {StatusUp, false}, {StatusDown, false}, {StatusUp, true}}
	for i, w := range want {
		if v := g.Vertex(VertexID(i)); v.Status != w.own || g.Available(VertexID(i)) != w.avail {
			t.Errorf("vertex %d: status %v available %v, want %v %v", i, v.Status, g.Available(VertexID(i)), w.own, w.avail)
		}
	}
	CheckRoundTrip(t, g)
}

// TestReadJGFDefaults: one vertex per row; the comment on each row is the
// rule from flux-sched's apply_defaults that gives the expectation.
func TestReadJGFDefaults(t *testing.T) {
	base := Vertex{Rank: -1, Size: 1, Parent: NoVertex}
	with := func(f func(v *Vertex)) Vertex { v := base; f(&v); return v }
	tests := []struct {
		name     string
		outer    string
		metadata string
		want     Vertex
	}{{
		// uniq_id = int(outer id) = 7; id = uniq_id = 7; basename = type;
		// name = basename + id; size 1; unit ""; rank -1; exclusive false; up.
		name: "all defaults", outer: "7", metadata: `{"type":"core","paths":{"containment":"/core7"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "core", "core", "core7", 7, 7, "/core7"
		}),
	}, {
		// a node's id defaults to the trailing digits of its name: "rack3-node12" → 12.
		name: "node id from name digits", outer: "40", metadata: `{"type":"node","name":"rack3-node12","paths":{"containment":"/rack3-node12"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "node", "node", "rack3-node12", 12, 40, "/rack3-node12"
		}),
	}, {
		// leading zeros: "node007" → 7.
		name: "node id leading zeros", outer: "3", metadata: `{"type":"node","name":"node007","paths":{"containment":"/n"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "node", "node", "node007", 7, 3, "/n"
		}),
	}, {
		// no trailing digits: id = uniq_id = 5.
		name: "node name without digits", outer: "5", metadata: `{"type":"node","name":"login","paths":{"containment":"/login"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "node", "node", "login", 5, 5, "/login"
		}),
	}, {
		// no name: the digits rule does not apply; id = uniq_id = 9, name = "node" + 9.
		name: "node without name", outer: "9", metadata: `{"type":"node","paths":{"containment":"/node9"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "node", "node", "node9", 9, 9, "/node9"
		}),
	}, {
		// an explicit id wins over the name's digits.
		name: "node explicit id", outer: "2", metadata: `{"type":"node","id":4,"name":"n12","paths":{"containment":"/n12"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "node", "node", "n12", 4, 2, "/n12"
		}),
	}, {
		// the digits rule is for type "node" only: a core named "c12" gets id = uniq_id = 3.
		name: "core name digits ignored", outer: "3", metadata: `{"type":"core","name":"c12","paths":{"containment":"/c12"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "core", "core", "c12", 3, 3, "/c12"
		}),
	}, {
		// name = basename + id with the given basename and id: "tiny" + 0.
		name: "basename given", outer: "0", metadata: `{"type":"cluster","basename":"tiny","id":0,"paths":{"containment":"/tiny0"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "cluster", "tiny", "tiny0", 0, 0, "/tiny0"
		}),
	}, {
		// outer id need not be an integer when uniq_id is given; id = uniq_id = 100.
		name: "explicit uniq_id", outer: "core-a", metadata: `{"type":"core","uniq_id":100,"paths":{"containment":"/x"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "core", "core", "core100", 100, 100, "/x"
		}),
	}, {
		// everything given; empty properties become nil.
		name: "all given", outer: "11", metadata: `{"type":"memory","basename":"mem","name":"m","id":1,"uniq_id":12,"rank":3,
			"status":"down","exclusive":true,"unit":"GB","size":16,"paths":{"containment":"/m"},"properties":{}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "memory", "mem", "m", 1, 12, "/m"
			v.Rank, v.Status, v.Exclusive, v.Unit, v.Size = 3, StatusDown, true, "GB", 16
		}),
	}, {
		// size 0 is allowed; properties null is none; unknown keys ignored.
		name: "size zero, null properties", outer: "-4", metadata: `{"type":"gpu","size":0,"properties":null,"ephemeral":{"x":1},"paths":{"containment":"/g"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path, v.Size = "gpu", "gpu", "gpu-4", -4, -4, "/g", 0
		}),
	}, {
		// escapes are decoded: "\u00e9" is é.
		name: "escaped strings", outer: "1", metadata: `{"type":"n\u00e9ud","name":"a\"b\\c\/d","paths":{"containment":"/caf\u00e9"}}`,
		want: with(func(v *Vertex) {
			v.Type, v.Basename, v.Name, v.ID, v.UniqID, v.Path = "n\u00e9ud", "n\u00e9ud", `a"b\c/d`, 1, 1, "/caf\u00e9"
		}),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"graph":{"nodes":[{"id":%q,"metadata":%s}],"edges":[]}}`, tc.outer, tc.metadata)
			g, err := ReadJGFString(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Vertices[0]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			CheckRoundTrip(t, g)
		})
	}
}

// jgfDoc builds a document from node and edge lists written in JSON.
func JGFDoc(nodes, edges string) string {
	return `{"graph":{"nodes":[` + nodes + `],"edges":[` + edges + `]}}`
}

const (
	JGFC0 = `{"id":"0","metadata":{"type":"cluster","paths":{"containment":"/c0"}}}`
	JGFN1 = `{"id":"1","metadata":{"type":"node","paths":{"containment":"/c0/n1"}}}`
	JGFK2 = `{"id":"2","metadata":{"type":"core","paths":{"containment":"/c0/n1/k2"}}}`
	JGFE1 = `{"source":"0","target":"1"}`
	JGFE2 = `{"source":"1","target":"2"}`
)

func JGFNode(id, metadata string) string { return `{"id":"` + id + `","metadata":` + metadata + `}` }

// jgfErrorCases are malformed inputs with their exact errors (also fuzz seeds).
var JGFErrorCases = []struct {
	name, In, want string
}{
	{"not JSON", `graph`, `x.json: line 1, column 1: invalid JSON: invalid character 'g' looking for a value`},
	{"empty input", ``, `x.json: line 1, column 1: invalid JSON: unexpected end of input`},
	{"truncated", "{\"graph\":{\"nodes\":[\n" + JGFC0, `x.json: line 2, column 71: invalid JSON: unexpected end of input in array`},
	{"trailing comma", JGFDoc(JGFC0+",", ""), `x.json: line 1, column 91: invalid JSON: invalid character ']' looking for a value`},
	{"trailing data", JGFDoc(JGFC0, "") + `{}`, `x.json: line 1, column 104: invalid JSON: unexpected data after the top-level value`},
	{"invalid UTF-8", "{\"x\":\"\xff\"}", `x.json: line 1, column 7: invalid JSON: invalid UTF-8 in string`},
	{"NUL escape", `{"x":"a\u0000"}`, `x.json: line 1, column 8: invalid JSON: \u0000 is not allowed in strings`},
	{"lone surrogate", `{"x":"\ud800"}`, `x.json: line 1, column 7: invalid JSON: invalid \u escape (lone surrogate)`},
	{"top level array", `[]`, `x.json: top-level value: want object, got array`},
	{"missing graph", `{"nodes":[]}`, `x.json: graph: required`},
	{"graph not object", `{"graph":[]}`, `x.json: graph: want object, got array`},
	{"missing nodes", `{"graph":{"edges":[]}}`, `x.json: graph.nodes: required`},
	{"missing edges", `{"graph":{"nodes":[` + JGFC0 + `]}}`, `x.json: graph.edges: required`},
	{"nodes not array", `{"graph":{"nodes":{},"edges":[]}}`, `x.json: graph.nodes: want array, got object`},
	{"no vertices", JGFDoc("", ""), `x.json: graph.nodes: no vertices`},
	{"node not object", JGFDoc(`"n"`, ""), `x.json: graph.nodes[0]: want object, got "n"`},
	{"node without id", JGFDoc(`{"metadata":{"type":"core","paths":{"containment":"/c"}}}`, ""), `x.json: graph.nodes[0].id: required`},
	{"numeric outer id", JGFDoc(`{"id":0,"metadata":{}}`, ""), `x.json: graph.nodes[0].id: want string, got 0`},
	{"node without metadata", JGFDoc(`{"id":"0"}`, ""), `x.json: graph.nodes[0].metadata: required`},
	{"node without type", JGFDoc(JGFC0+","+JGFNode("1", `{"paths":{"containment":"/c0/n1"}}`), JGFE1), `x.json: graph.nodes[1].metadata.type: required`},
	{"empty type", JGFDoc(JGFNode("0", `{"type":"","paths":{"containment":"/c"}}`), ""), `x.json: graph.nodes[0].metadata.type: must not be empty`},
	{"type not string", JGFDoc(JGFNode("0", `{"type":["core"],"paths":{"containment":"/c"}}`), ""), `x.json: graph.nodes[0].metadata.type: want string, got array`},
	{"duplicate metadata key", JGFDoc(JGFNode("0", `{"type":"core","type":"gpu","paths":{"containment":"/c"}}`), ""), `x.json: graph.nodes[0].metadata.type: duplicate key`},
	{"paths missing", JGFDoc(JGFNode("0", `{"type":"cluster"}`), ""), `x.json: graph.nodes[0].metadata.paths: required`},
	{"containment path missing", JGFDoc(JGFNode("0", `{"type":"cluster","paths":{"power":"/p0"}}`), ""), `x.json: graph.nodes[0].metadata.paths.containment: required`},
	{"path not a string", JGFDoc(JGFNode("0", `{"type":"cluster","paths":{"containment":7}}`), ""), `x.json: graph.nodes[0].metadata.paths.containment: want string, got 7`},
	{"malformed path", JGFDoc(JGFNode("0", `{"type":"cluster","paths":{"containment":"c0/n1"}}`), ""), `x.json: graph.nodes[0].metadata.paths.containment: malformed path "c0/n1", want "/<name>[/<name>...]"`},
	{"path with empty segment", JGFDoc(JGFNode("0", `{"type":"cluster","paths":{"containment":"/c0//n1"}}`), ""), `x.json: graph.nodes[0].metadata.paths.containment: malformed path "/c0//n1", want "/<name>[/<name>...]"`},
	{"non-integer size", JGFDoc(JGFNode("0", `{"type":"memory","size":1.5,"paths":{"containment":"/m"}}`), ""), `x.json: graph.nodes[0].metadata.size: want integer, got 1.5`},
	{"exponent size", JGFDoc(JGFNode("0", `{"type":"memory","size":1e3,"paths":{"containment":"/m"}}`), ""), `x.json: graph.nodes[0].metadata.size: want integer, got 1e3`},
	{"string size", JGFDoc(JGFNode("0", `{"type":"memory","size":"16","paths":{"containment":"/m"}}`), ""), `x.json: graph.nodes[0].metadata.size: want integer, got "16"`},
	{"negative size", JGFDoc(JGFNode("0", `{"type":"memory","size":-5,"paths":{"containment":"/m"}}`), ""), `x.json: graph.nodes[0].metadata.size: must be >= 0, got -5`},
	{"id out of range", JGFDoc(JGFNode("0", `{"type":"core","id":9223372036854775808,"paths":{"containment":"/k"}}`), ""), `x.json: graph.nodes[0].metadata.id: integer 9223372036854775808 out of range`},
	{"status sideways", JGFDoc(JGFNode("0", `{"type":"node","status":"sideways","paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.status: want 0, 1, "up" or "down", got "sideways"`},
	{"status 2", JGFDoc(JGFNode("0", `{"type":"node","status":2,"paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.status: want 0, 1, "up" or "down", got 2`},
	{"exclusive not boolean", JGFDoc(JGFNode("0", `{"type":"node","exclusive":"yes","paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.exclusive: want boolean, got "yes"`},
	{"property not string", JGFDoc(JGFNode("0", `{"type":"node","properties":{"arch":64},"paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.properties.arch: want string, got 64`},
	{"uniq_id not inferable", JGFDoc(JGFNode("n0", `{"type":"node","paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.uniq_id: required, since id "n0" is not an integer`},
	{"node digits out of range", JGFDoc(JGFNode("0", `{"type":"node","name":"n99999999999999999999","paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.name: trailing digits of "n99999999999999999999" are out of range for an id`},
	{"duplicate id", JGFDoc(JGFC0+","+JGFNode("0", `{"type":"node","uniq_id":5,"paths":{"containment":"/c0/n1"}}`), ""), `x.json: graph.nodes[1].id: duplicate "0" (also graph.nodes[0])`},
	{"duplicate uniq_id", JGFDoc(JGFC0+","+JGFNode("a", `{"type":"node","uniq_id":0,"paths":{"containment":"/c0/n1"}}`), ""), `x.json: graph.nodes[1]: duplicate uniq_id 0 (also graph.nodes[0])`},
	{"duplicate path", JGFDoc(JGFC0+","+JGFN1+","+JGFNode("2", `{"type":"node","paths":{"containment":"/c0/n1"}}`), ""), `x.json: graph.nodes[2].metadata.paths.containment: duplicate path "/c0/n1" (also graph.nodes[1])`},
	{"parent path missing", JGFDoc(JGFC0+","+JGFNode("1", `{"type":"core","paths":{"containment":"/c0/n9/k1"}}`), ""), `x.json: graph.nodes[1].metadata.paths.containment: parent "/c0/n9" of "/c0/n9/k1" is not a vertex`},
	{"edges not array", `{"graph":{"nodes":[` + JGFC0 + `],"edges":{}}}`, `x.json: graph.edges: want array, got object`},
	{"edge to unknown vertex", JGFDoc(JGFC0+","+JGFN1, `{"source":"0","target":"x"}`), `x.json: graph.edges[0].target: unknown vertex "x"`},
	{"edge from unknown vertex, edges first", `{"graph":{"edges":[` + JGFE1 + `,{"source":"7","target":"1"}],"nodes":[` + JGFC0 + "," + JGFN1 + `]}}`, `x.json: graph.edges[1].source: unknown vertex "7"`},
	{"edge without target", JGFDoc(JGFC0+","+JGFN1, `{"source":"0"}`), `x.json: graph.edges[0].target: required`},
	{"edge metadata not object", JGFDoc(JGFC0+","+JGFN1, `{"source":"0","target":"1","metadata":"containment"}`), `x.json: graph.edges[0].metadata: want object, got "containment"`},
	{"self loop", JGFDoc(JGFC0+","+JGFN1, JGFE1+`,{"source":"1","target":"1"}`), `x.json: graph.edges[1]: source and target are both "1" ("/c0/n1"): a containment cycle`},
	{"duplicate edge", JGFDoc(JGFC0+","+JGFN1, JGFE1+","+JGFE1), `x.json: graph.edges[1]: duplicate edge "0" -> "1"`},
	// A cycle c0 → n1 → k2 → c0 cannot match the paths: k2 → c0 joins
	// a vertex and its grandparent.
	{"cycle", JGFDoc(JGFC0+","+JGFN1+","+JGFK2, JGFE1+","+JGFE2+`,{"source":"2","target":"0"}`), `x.json: graph.edges[2]: containment edge "2" -> "0" leads from "/c0/n1/k2" up to its ancestor "/c0": a containment cycle`},
	{"rank too large", JGFDoc(JGFNode("0", `{"type":"node","rank":9223372036854775807,"paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.rank: 9223372036854775807 out of range: a broker rank is -1 (none) or 0 .. 2147483647`},
	{"rank below -1", JGFDoc(JGFNode("0", `{"type":"node","rank":-2,"paths":{"containment":"/n"}}`), ""), `x.json: graph.nodes[0].metadata.rank: -2 out of range: a broker rank is -1 (none) or 0 .. 2147483647`},
	{"size total overflows", JGFDoc(JGFNode("0", `{"type":"memory","size":9223372036854775807,"paths":{"containment":"/m"}}`)+","+JGFNode("1", `{"type":"memory","size":1,"paths":{"containment":"/m/n"}}`), `{"source":"0","target":"1"}`), `x.json: graph.nodes[1].metadata.size: 1: the sizes of the "memory" vertices add up to more than 9223372036854775807`},
	{"huge number token", JGFDoc(JGFNode("0", `{"type":"memory","size":`+strings.Repeat("9", 5000)+`,"paths":{"containment":"/m"}}`), ""), `x.json: graph.nodes[0].metadata.size: integer 9999999999999999999999999999999999999... out of range`},
	{"huge path quoted short", JGFDoc(JGFNode("0", `{"type":"cluster","paths":{"containment":"`+strings.Repeat("x", 5000)+`"}}`), ""), `x.json: graph.nodes[0].metadata.paths.containment: malformed path "` + strings.Repeat("x", 120) + `"… (5000 bytes), want "/<name>[/<name>...]"`},
	{"edge skipping a level", JGFDoc(JGFC0+","+JGFN1+","+JGFK2, JGFE1+`,{"source":"0","target":"2"}`), `x.json: graph.edges[1]: containment edge "0" -> "2" joins "/c0" and "/c0/n1/k2", which are not parent and child`},
	{"missing parent edge", JGFDoc(JGFC0+","+JGFN1+","+JGFK2, JGFE1), `x.json: graph.nodes[2]: no containment edge joins "/c0/n1/k2" to its parent "/c0/n1" (graph.nodes[1])`},
	{"two roots", JGFDoc(JGFC0+","+JGFNode("1", `{"type":"cluster","paths":{"containment":"/c1"}}`), ""), `x.json: graph.nodes[1]: second root "/c1" (first is graph.nodes[0], "/c0"); want exactly one`},
	{"deep nesting", `{"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, `x.json: line 1, column 1006: invalid JSON: nesting too deep`},
}

func TestReadJGFErrors(t *testing.T) {
	tests := JGFErrorCases
	if len(tests) < 15 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ReadJGFString(tc.In)
			if err == nil {
				t.Fatalf("no error; graph has %d vertices", g.Len())
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got  %s\n want %s", err, tc.want)
			}
			var je *JGFError
			if !errors.As(err, &je) || je.File != "x.json" {
				t.Errorf("error %T is not a *JGFError for x.json", err)
			}
		})
	}
}

type errWriter struct{ n int }

func (w *errWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(p), nil
}

func TestWriteJGFError(t *testing.T) {
	g := readJGFFile(t, "flux-sched-small.json")
	if err := g.WriteJGF(&errWriter{}); err == nil || err.Error() != "disk full" {
		t.Errorf("WriteJGF error = %v, want disk full", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadJGFReaderError(t *testing.T) {
	if _, err := ReadJGF(errReader{}, "r.json"); err == nil || err.Error() != "r.json: boom" {
		t.Errorf("err = %v", err)
	}
}

// TestReadJGFSyntax covers the JSON scanner's error messages and escapes.
func TestReadJGFSyntax(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a" 1}`, `x.json: line 1, column 6: invalid JSON: expected ':' after object key`},
		{`{1:2}`, `x.json: line 1, column 2: invalid JSON: expected string key`},
		{`{"a":1 "b":2}`, `x.json: line 1, column 8: invalid JSON: expected ',' or '}' after object member`},
		{`{"a":[1 2]}`, `x.json: line 1, column 9: invalid JSON: expected ',' or ']' after array element`},
		{`{"a":tru}`, `x.json: line 1, column 6: invalid JSON: invalid literal, want true`},
		{`{"a":-}`, `x.json: line 1, column 7: invalid JSON: invalid number`},
		{`{"a":1.}`, `x.json: line 1, column 8: invalid JSON: invalid number: digit expected after '.'`},
		{`{"a":1e+}`, `x.json: line 1, column 9: invalid JSON: invalid number: digit expected in exponent`},
		{`{"a":"x` + "\t" + `"}`, `x.json: line 1, column 8: invalid JSON: control character in string`},
		{`{"a":"x\q"}`, `x.json: line 1, column 8: invalid JSON: invalid escape 'q' in string`},
		{`{"a":"\u12g4"}`, `x.json: line 1, column 7: invalid JSON: invalid \u escape`},
		{`{"a":"\udc00"}`, `x.json: line 1, column 7: invalid JSON: invalid \u escape (lone surrogate)`},
		{`{"a":"abc`, `x.json: line 1, column 10: invalid JSON: unterminated string`},
		{"{\n  \"a\": \x01}", `x.json: line 2, column 8: invalid JSON: invalid character byte 0x01 looking for a value`},
		{`{"a":{"b":[`, `x.json: line 1, column 12: invalid JSON: unexpected end of input in array`},
		{`{"a":{"b":1,`, `x.json: line 1, column 13: invalid JSON: unexpected end of input in object`},
	}
	for _, tc := range tests {
		_, err := ReadJGFString(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got  %v\n want %s", tc.in, err, tc.want)
		}
	}
	// Every escape form decodes; a surrogate pair is one rune.
	g, err := ReadJGFString(`{"graph":{"nodes":[{"id":"0","metadata":{"type":"t","name":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","paths":{"containment":"/r"}}}],"edges":[]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Vertex(0).Name, "\"\\/\b\f\n\r\té😀"; got != want {
		t.Errorf("name %q, want %q", got, want)
	}
	CheckRoundTrip(t, g)
}

// TestWriteJGFEscapes: the writer escapes what JSON requires and replaces
// invalid UTF-8 by U+FFFD.
func TestWriteJGFEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain é`, `"plain é"`},
		{"q\"b\\", `"q\"b\\"`},
		{"c\n\r\t\x01\x1f", `"c\n\r\t\u0001\u001f"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
	} {
		if got := string(AppendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("jgfAppendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	g, err := NewGraph([]Vertex{{Type: "node", Name: "a\x01b", Basename: "tab\t", Path: "/a\x01b", Parent: NoVertex, Size: 1, Rank: -1}})
	if err != nil {
		t.Fatal(err)
	}
	CheckRoundTrip(t, g)
}

func TestStringers(t *testing.T) {
	for got, want := range map[string]string{
		StatusUp.String(): "up", StatusDown.String(): "down", Status(9).String(): "Status(9)",
		MemorySingle.String(): "single", MemoryPools.String(): "pools", MemoryNone.String(): "none", MemoryLayout(7).String(): "MemoryLayout(7)",
		NamingFlux.String(): "flux", NamingFluence.String(): "fluence", Naming(5).String(): "Naming(5)",
	} {
		if got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// TestReadJGFFileHostile: files that are not graphs are refused quickly
// and with the file named; none is read whole.
func TestReadJGFFileHostile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"dev zero", "/dev/zero", "/dev/zero: line 1, column 1: invalid JSON: invalid character byte 0x00 looking for a value"},
		{"folder", dir, dir + ": is a folder, not a resource graph (JGF) file"},
		{"missing", filepath.Join(dir, "none.json"), "no such file or directory"},
		{"symlink loop", loop, "too many levels of symbolic links"},
		{"binary", write("bin.json", []byte("\x7fELF\x02\x01\x01")), "bin.json: line 1, column 1: invalid JSON: invalid character byte 0x7f looking for a value"},
		{"spaces then text", write("sp.json", []byte("\n\n   root:x:0:0:root:/root:/bin/bash\n")), "sp.json: line 3, column 4: invalid JSON: invalid character 'r' looking for a value"},
		{"empty", write("empty.json", nil), "empty.json: line 1, column 1: invalid JSON: unexpected end of input"},
		{"truncated", write("trunc.json", []byte(`{"graph":{"nodes":[`)), "trunc.json: line 1, column 20: invalid JSON: unexpected end of input in array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJGFFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	g, err := ReadJGFFile(filepath.Join("testdata", "jgf", "tiny.json"))
	if err != nil || g.Len() != 21 {
		t.Fatalf("tiny.json: %v", err)
	}
}

// TestJGFReadLimit: a graph over the limit is refused with
// *limitio.TooLargeError, whether its length is known up front or not.
func TestJGFReadLimit(t *testing.T) {
	doc := JGFDoc(JGFC0+","+JGFN1, JGFE1)
	for _, r := range []io.Reader{strings.NewReader(doc), io.MultiReader(strings.NewReader(doc))} {
		_, err := jgfReadAll(r, "big.json", int64(len(doc)-1), jgfFileKind)
		var tl *limitio.TooLargeError
		if !errors.As(err, &tl) || tl.Path != "big.json" || !strings.Contains(err.Error(), "big.json: larger than the") {
			t.Errorf("%T: err = %v, want a TooLargeError for big.json", r, err)
		}
	}
	data, err := jgfReadAll(io.MultiReader(strings.NewReader(doc)), "ok.json", int64(len(doc)), jgfFileKind)
	if err != nil || string(data) != doc {
		t.Errorf("at the limit: %v", err)
	}
	// White space ahead of the object is read past, a stray byte stops the read.
	data, err = jgfReadAll(io.MultiReader(strings.NewReader(strings.Repeat(" ", 10000)+"x"), strings.NewReader(doc)), "ws.json", 1<<20, jgfFileKind)
	if err != nil || len(data) != 10001 {
		t.Errorf("read %d bytes, %v; want it to stop at the first stray byte", len(data), err)
	}
}

// TestCanonicalInt: an id is canonical exactly when it reads as an
// integer that strconv.FormatInt writes back the same.
func TestCanonicalInt(t *testing.T) {
	r := &jgfReader{}
	cases := []string{"0", "7", "-7", "10", "007", "-0", "-", "", "00", "-01", "+1", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "12a", "1.5", "123456789012345678901"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := 1 + rng.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = "-0123456789"[rng.IntN(11)]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		u, err := strconv.ParseInt(c, 10, 64)
		want := err == nil && strconv.FormatInt(u, 10) == c
		got, ok := r.canonicalInt([]byte(c))
		if ok != want || (ok && got != u) {
			t.Errorf("canonicalInt(%q) = %d, %v; want %d, %v", c, got, ok, u, want)
		}
	}
}
