package rqshell

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// An emitted vertex, as a match writer receives it: the vertex, its
// depth (the root is 1), the units it gives (needs) and whether it is
// held exclusively.
type emitted struct {
	v     graph.VertexID
	level int
	needs int64
	excl  bool
}

// selection is what a traversal hands the match writers: vertices in
// post-order (children before their parent, siblings in graph order) and
// the edges parent->child, each emitted when the child's subtree is done.
type selection struct {
	vs        []emitted
	edges     [][2]graph.VertexID
	starttime int64
	expire    int64
}

type mark struct {
	needs int64
	excl  bool
}

// walk builds a selection of the marked vertices, which must be closed
// under parents (every marked vertex's parent is marked).
func walk(g *graph.Graph, in map[graph.VertexID]mark) selection {
	var sel selection
	var rec func(v graph.VertexID, level int)
	rec = func(v graph.VertexID, level int) {
		for _, c := range g.Children(v) {
			if _, ok := in[c]; ok {
				rec(c, level+1)
				sel.edges = append(sel.edges, [2]graph.VertexID{v, c})
			}
		}
		mk := in[v]
		sel.vs = append(sel.vs, emitted{v, level, mk.needs, mk.excl})
	}
	if _, ok := in[g.Root]; ok {
		rec(g.Root, 1)
	}
	return sel
}

// allocSelection is what Fluxion's update walk emits for an allocation:
// the allocated vertices (a shared one gives 1 unit) and their ancestors.
func allocSelection(a *match.Allocation, g *graph.Graph) selection {
	in := make(map[graph.VertexID]mark, len(a.Vertices)+len(a.Path))
	for _, v := range a.Path {
		in[v] = mark{1, false}
	}
	for _, av := range a.Vertices {
		u := av.Units
		if !av.Exclusive {
			u = 1
		}
		in[av.ID] = mark{u, av.Exclusive}
	}
	sel := walk(g, in)
	sel.starttime, sel.expire = a.At, a.At+a.Duration
	return sel
}

// render writes a in the shell's format. ok is false where the rlite
// writer fails: nothing to write (no core or gpu below a node).
func (s *Shell) render(a *match.Allocation, _ bool) (string, bool) {
	return s.write(allocSelection(a, s.g))
}

// write renders sel in the shell's format, as resource-query prints it
// (a JSON document on one line with jansson's default separators, then a
// newline; the simple format one line per vertex). ok is false where
// the rlite writer fails; an empty selection is "" in other formats.
func (s *Shell) write(sel selection) (string, bool) {
	var b []byte
	switch s.opt.Format {
	case FormatSimple:
		for _, e := range sel.vs {
			b = append(b, "      "...)
			b = append(b, strings.Repeat("---", e.level)...)
			b = append(b, s.g.Vertex(e.v).Name...)
			b = append(b, '[')
			b = strconv.AppendInt(b, e.needs, 10)
			if e.excl {
				b = append(b, ":x]\n"...)
			} else {
				b = append(b, ":s]\n"...)
			}
		}
	case FormatJGF:
		if len(sel.vs) == 0 {
			return "", true
		}
		b = s.appendJGF(b, sel)
		b = append(b, '\n')
	case FormatRLite:
		rl := s.rlite(sel)
		if len(rl.groups) == 0 {
			return "", false
		}
		b = rl.appendRLite(b)
		b = append(b, '\n')
	case FormatRV1, FormatRV1NoSched:
		rl := s.rlite(sel)
		if len(rl.groups) == 0 {
			return "", true
		}
		b = append(b, `{"version": 1, "execution": {"R_lite": `...)
		b = rl.appendRLite(b)
		b = append(b, `, "nodelist": [`...)
		if len(rl.hosts) > 0 {
			b = appendString(b, match.Hostlist(rl.hosts))
		}
		b = append(b, ']')
		if len(rl.props) > 0 {
			b = append(b, `, "properties": {`...)
			keys := sortedKeys(rl.props)
			for i, k := range keys {
				if i > 0 {
					b = append(b, ", "...)
				}
				b = appendString(b, k)
				b = append(b, ": "...)
				b = appendString(b, match.IDSet(rl.props[k]))
			}
			b = append(b, '}')
		}
		b = append(b, `, "starttime": `...)
		b = strconv.AppendInt(b, sel.starttime, 10)
		b = append(b, `, "expiration": `...)
		b = strconv.AppendInt(b, sel.expire, 10)
		b = append(b, '}')
		if s.opt.Format == FormatRV1 {
			b = append(b, `, "scheduling": `...)
			b = s.appendJGF(b, sel)
		}
		b = append(b, "}\n"...)
	}
	return string(b), true
}

// rliteOut is R_lite as Fluxion's rlite writer gathers it: per children
// signature (the JSON of {type: idset} for core and gpu), the ranks of
// the nodes that have it.
type rliteOut struct {
	groups map[string][]int64
	hosts  []string           // node names in rank order
	props  map[string][]int64 // node property (k or k=v) -> ranks
}

// rlite gathers sel as the rlite writer does: core and gpu ids pile up
// until the next node (or storage node) in post-order, which takes them
// under its rank; a node that takes none is left out. Groups come out in
// the byte order of their signature (a std::map), ranks in order.
func (s *Shell) rlite(sel selection) rliteOut {
	out := rliteOut{groups: map[string][]int64{}, props: map[string][]int64{}}
	reducer := map[string][]int64{}
	type rankHost struct {
		rank int64
		host string
	}
	var rh []rankHost
	for _, e := range sel.vs {
		v := s.g.Vertex(e.v)
		switch v.Type {
		case "core", "gpu":
			reducer[v.Type] = append(reducer[v.Type], v.ID)
		case "node", "storage_node":
			if len(reducer) == 0 {
				continue
			}
			var sig []byte
			sig = append(sig, '{')
			for i, t := range sortedKeys(reducer) {
				if i > 0 {
					sig = append(sig, ", "...)
				}
				sig = appendString(sig, t)
				sig = append(sig, ": "...)
				sig = appendString(sig, match.IDSet(reducer[t]))
			}
			sig = append(sig, '}')
			clear(reducer)
			out.groups[string(sig)] = append(out.groups[string(sig)], v.Rank)
			rh = append(rh, rankHost{v.Rank, v.Name})
			for k, val := range v.Properties {
				p := k
				if val != "" {
					p += "=" + val
				}
				out.props[p] = append(out.props[p], v.Rank)
			}
		}
	}
	slices.SortStableFunc(rh, func(a, b rankHost) int {
		if a.rank < b.rank {
			return -1
		} else if a.rank > b.rank {
			return 1
		}
		return 0
	})
	for _, x := range rh {
		out.hosts = append(out.hosts, x.host)
	}
	return out
}

func (rl rliteOut) appendRLite(b []byte) []byte {
	b = append(b, '[')
	for i, sig := range sortedKeys(rl.groups) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"rank": `...)
		b = appendString(b, match.IDSet(rl.groups[sig]))
		b = append(b, `, "children": `...)
		b = append(b, sig...)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJGF writes sel as Fluxion's jgf match writer does.
func (s *Shell) appendJGF(b []byte, sel selection) []byte {
	b = append(b, `{"graph": {"nodes": [`...)
	for i, e := range sel.vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = s.appendVertex(b, e)
	}
	b = append(b, `], "edges": [`...)
	for i, ed := range sel.edges {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"source": "`...)
		b = strconv.AppendInt(b, s.g.Vertex(ed[0]).UniqID, 10)
		b = append(b, `", "target": "`...)
		b = strconv.AppendInt(b, s.g.Vertex(ed[1]).UniqID, 10)
		b = append(b, `"}`...)
	}
	return append(b, "]}}"...)
}

// appendVertex writes one vertex of the jgf writer: type; basename if
// not the type; name if not basename+id; id; rank; properties; unit if
// any; exclusive when true; size when the units given are not 1; paths.
func (s *Shell) appendVertex(b []byte, e emitted) []byte {
	v := s.g.Vertex(e.v)
	b = append(b, `{"id": "`...)
	b = strconv.AppendInt(b, v.UniqID, 10)
	b = append(b, `", "metadata": {"type": `...)
	b = appendString(b, v.Type)
	if v.Basename != v.Type {
		b = append(b, `, "basename": `...)
		b = appendString(b, v.Basename)
	}
	if v.Name != v.Basename+strconv.FormatInt(v.ID, 10) {
		b = append(b, `, "name": `...)
		b = appendString(b, v.Name)
	}
	b = append(b, `, "id": `...)
	b = strconv.AppendInt(b, v.ID, 10)
	b = append(b, `, "rank": `...)
	b = strconv.AppendInt(b, v.Rank, 10)
	if len(v.Properties) > 0 {
		b = append(b, `, "properties": {`...)
		for i, k := range sortedKeys(v.Properties) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendString(b, k)
			b = append(b, ": "...)
			b = appendString(b, v.Properties[k])
		}
		b = append(b, '}')
	}
	if v.Unit != "" {
		b = append(b, `, "unit": `...)
		b = appendString(b, v.Unit)
	}
	if e.excl {
		b = append(b, `, "exclusive": true`...)
	}
	if e.needs != 1 {
		b = append(b, `, "size": `...)
		b = strconv.AppendInt(b, e.needs, 10)
	}
	b = append(b, `, "paths": {"containment": `...)
	b = appendString(b, v.Path)
	for _, k := range sortedKeys(v.OtherPaths) {
		if k == "containment" {
			continue
		}
		b = append(b, ", "...)
		b = appendString(b, k)
		b = append(b, ": "...)
		b = appendString(b, v.OtherPaths[k])
	}
	return append(b, "}}}"...)
}

// appendString writes s as a JSON string as jansson does by default:
// UTF-8 as it is, '"', '\\' and control characters escaped (invalid
// UTF-8, which jansson refuses, as U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
