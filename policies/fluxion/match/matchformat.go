package match

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// Match formats of MatcherOptions.MatchFormat, after the names of
// flux-sched's match writers (resource/writers/match_writers.cpp). The
// Go backend's default (MatchFormat "") is RFC 20 R without the
// scheduling key, reported as FormatRV1 for compatibility.
// Formats of MatchResult.R.
const (
	// FormatRV1 is RFC 20 R version 1: Fluxion's "rv1" match format, whose
	// "scheduling" key holds the allocation's JGF (Allocation.RV1JSON,
	// MatcherOptions.MatchFormat "rv1"). The Go backend's default R
	// (MatchFormat "") is also reported as FormatRV1 but has no
	// scheduling key (Allocation.RLiteJSON, as FormatRV1NoSched).
	FormatRV1 = "rv1"
	// FormatJGF is Fluxion's "jgf" match format, reapi_cli's default: a
	// {"graph":{"nodes":[...],"edges":[...]}} of the matched vertices and
	// their ancestors.
	FormatJGF = "jgf"
)

const (
	// FormatRV1NoSched is Fluxion's "rv1_nosched": RFC 20 R without the
	// scheduling key (Allocation.RLiteJSON).
	FormatRV1NoSched = "rv1_nosched"
)

// matchFormats are the MatchFormat values the Go matcher can write.
var matchFormats = []string{FormatRV1NoSched, FormatRV1, FormatJGF}

// CheckMatchFormat validates MatcherOptions.MatchFormat ("" is allowed).
func CheckMatchFormat(f string) error {
	switch f {
	case "", FormatRV1NoSched, FormatRV1, FormatJGF:
		return nil
	}
	return fmt.Errorf("%w: match format %q, want one of %s, %s, %s", ErrInvalid, f, matchFormats[0], matchFormats[1], matchFormats[2])
}

// R returns the allocation in a match format: FormatRV1NoSched (and ""),
// FormatRV1 (RFC 20 R with the scheduling key, Fluxion's "rv1") or
// FormatJGF. Another format is ErrInvalid.
func (a *Allocation) R(format string) ([]byte, error) {
	switch format {
	case "", FormatRV1NoSched:
		return a.RLiteJSON(), nil
	case FormatRV1:
		return a.RV1JSON(), nil
	case FormatJGF:
		return a.JGF(), nil
	}
	return nil, CheckMatchFormat(format)
}

// RV1JSON returns the allocation as Fluxion's "rv1" match format: RFC 20
// R (as RLite) whose "scheduling" key holds the allocation's JGF (as
// JGF). flux-sched's rv1 writer puts no "writer" key in it, which RFC
// 20/40 readers take as "fluxion:jgf". UpdateAllocate reads it back.
func (a *Allocation) RV1JSON() []byte {
	rv := a.RLite()
	out := struct {
		Version    int             `json:"version"`
		Execution  RV1Execution    `json:"execution"`
		Scheduling json.RawMessage `json:"scheduling"`
	}{rv.Version, rv.Execution, a.JGF()}
	b, err := json.Marshal(out)
	if err != nil {
		panic("fluxion: RV1JSON: " + err.Error())
	}
	return b
}

// JGF returns the allocation as Fluxion's "jgf" match format (the
// reapi_cli default), modelled on jgf_match_writers_t
// (resource/writers/match_writers.cpp) fed by the traverser's update walk
// (dfu_impl_update.cpp: upd_dfv):
//
//   - {"graph":{"nodes":[...],"edges":[...]}} with the allocated vertices
//     and their ancestors (Vertices and Path), nothing else.
//   - Vertices in post-order: a vertex after its children's subtrees,
//     children in sibling order (upd_dfv emits a vertex when it leaves
//     it). An edge parent->child comes right after the child's subtree
//     (upd_dfv emits it when the child returns), so edges are in
//     post-order of their targets too.
//   - A vertex is {"id":"<uniq_id>","metadata":{...}} with, in this order,
//     type; basename only if it is not the type; name only if it is not
//     basename+id; id; rank; properties if any; unit if not ""; exclusive
//     only when true; size only when it is not 1; paths (containment
//     first). The writer's size is the units the job needs of the vertex;
//     the Go matcher takes vertices whole, so it is the vertex's size.
//   - An edge is {"source":"<uniq_id>","target":"<uniq_id>"}: the writer
//     adds metadata only for non-containment edges, and this graph is the
//     containment tree.
//
// The output is one line of compact JSON (flux-sched indents with
// JSON_INDENT(0), which only adds newlines). ReadJGF reads it back as a
// valid graph of exactly those vertices.
func (a *Allocation) JGF() []byte {
	g := a.g
	in := make(map[graph.VertexID]AllocVertex, len(a.Vertices)+len(a.Path))
	for _, v := range a.Path {
		in[v] = AllocVertex{ID: v}
	}
	for _, av := range a.Vertices {
		in[av.ID] = av
	}
	nodes := make([]byte, 0, 160*len(in))
	edges := make([]byte, 0, 40*len(in))
	var walk func(v graph.VertexID)
	walk = func(v graph.VertexID) {
		for _, c := range g.Children(v) {
			if _, ok := in[c]; !ok {
				continue
			}
			walk(c)
			if len(edges) > 0 {
				edges = append(edges, ',')
			}
			edges = append(edges, `{"source":"`...)
			edges = strconv.AppendInt(edges, g.Vertices[v].UniqID, 10)
			edges = append(edges, `","target":"`...)
			edges = strconv.AppendInt(edges, g.Vertices[c].UniqID, 10)
			edges = append(edges, `"}`...)
		}
		if len(nodes) > 0 {
			nodes = append(nodes, ',')
		}
		nodes = appendMatchedVertex(nodes, &g.Vertices[v], in[v].Exclusive)
	}
	if _, ok := in[g.Root]; ok {
		walk(g.Root)
	}
	out := make([]byte, 0, len(nodes)+len(edges)+40)
	out = append(out, `{"graph":{"nodes":[`...)
	out = append(out, nodes...)
	out = append(out, `],"edges":[`...)
	out = append(out, edges...)
	return append(out, "]}}"...)
}

// appendMatchedVertex appends one vertex of the jgf match format.
func appendMatchedVertex(b []byte, v *graph.Vertex, exclusive bool) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, v.UniqID, 10)
	b = append(b, `","metadata":{"type":`...)
	b = graph.AppendJSONString(b, v.Type)
	if v.Basename != v.Type {
		b = append(b, `,"basename":`...)
		b = graph.AppendJSONString(b, v.Basename)
	}
	if v.Name != v.Basename+strconv.FormatInt(v.ID, 10) {
		b = append(b, `,"name":`...)
		b = graph.AppendJSONString(b, v.Name)
	}
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, v.ID, 10)
	b = append(b, `,"rank":`...)
	b = strconv.AppendInt(b, v.Rank, 10)
	if len(v.Properties) > 0 {
		b = append(b, `,"properties":{`...)
		for n, k := range graph.SortedKeys(v.Properties) {
			if n > 0 {
				b = append(b, ',')
			}
			b = graph.AppendJSONString(b, k)
			b = append(b, ':')
			b = graph.AppendJSONString(b, v.Properties[k])
		}
		b = append(b, '}')
	}
	if v.Unit != "" {
		b = append(b, `,"unit":`...)
		b = graph.AppendJSONString(b, v.Unit)
	}
	if exclusive {
		b = append(b, `,"exclusive":true`...)
	}
	if v.Size != 1 {
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, v.Size, 10)
	}
	b = append(b, `,"paths":{"containment":`...)
	b = graph.AppendJSONString(b, v.Path)
	for _, k := range graph.SortedKeys(v.OtherPaths) {
		if k == "containment" {
			continue
		}
		b = append(b, ',')
		b = graph.AppendJSONString(b, k)
		b = append(b, ':')
		b = graph.AppendJSONString(b, v.OtherPaths[k])
	}
	return append(b, "}}}"...)
}
