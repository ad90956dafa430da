package match

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// This file models how Fluxion re-installs a known allocation from its R
// (reapi_cli_update_allocate) and releases part of one (partial cancel).
// The behaviour follows flux-sched's sources:
//
//   - resource/reapi/bindings/c++/reapi_cli_impl.hpp: update_allocate
//     picks the reader and the times, cancel(jobid, R, ...) the partial
//     cancel (resource_query_t::remove_job with R);
//   - resource/readers/resource_reader_jgf.cpp (update, partial_cancel) and
//     resource_reader_rv1exec.cpp (update, partial_cancel_internal);
//   - resource/traversers/dfu_impl_update.cpp: update (upd_dfv) and
//     remove with R (cancel_vertex, mod_agfilter).

// The readers an R is read with (reader_name_from_writer and the
// reapi_cli code that picks one).
const (
	readJGF     = "jgf"     // a JGF: bare, or an RFC 20 R's scheduling key
	readRV1Exec = "rv1exec" // an RFC 20 R's execution.R_lite and nodelist
)

// rDoc is an R taken apart the way reapi_cli takes it apart.
type rDoc struct {
	reader string
	data   []byte // the JGF to read (reader jgf), or the whole R (rv1exec)
	// RFC 20 times, when R is an RFC 20 envelope (rfc20 true).
	rfc20       bool
	start, expi float64
}

// rInvalid returns an ErrInvalid error about R.
func rInvalid(format string, args ...any) error {
	return fmt.Errorf("%w: R: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// rTopLevel decodes R's top-level object.
func rTopLevel(r []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(r)) == 0 {
		return nil, rInvalid("empty")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r, &top); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, rInvalid("invalid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, rInvalid("want a JSON object, got %s", te.Value)
		}
		return nil, rInvalid("invalid JSON: %v", err)
	}
	if top == nil {
		return nil, rInvalid("want a JSON object, got null")
	}
	return top, nil
}

// jsonObject decodes a JSON object into its members. Unlike decoding
// into a struct, keys match case-sensitively, as jansson's do.
func jsonObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var o map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil || o == nil {
		return nil, false
	}
	return o, true
}

// rSchedulingReader checks an R's scheduling.writer the way
// reader_name_from_writer (resource/readers/resource_reader_factory.cpp)
// does: absent, "fluxion", "fluxion:" and "fluxion:jgf" mean JGF;
// "fluxion:jgf_shorthand" is a format this model does not read; anything
// else is not Fluxion's.
func rSchedulingReader(sched json.RawMessage) error {
	o, ok := jsonObject(sched)
	if !ok {
		return rInvalid("scheduling: want a JGF object, got %.40s", sched)
	}
	raw, ok := o["writer"]
	if !ok {
		return nil
	}
	var w string
	if err := json.Unmarshal(raw, &w); err != nil {
		return rInvalid("scheduling.writer: want a string")
	}
	scheme, path, _ := strings.Cut(w, ":")
	switch {
	case scheme != "fluxion":
		return rInvalid("scheduling.writer %s: unsupported scheme (not fluxion)", mquoted(w))
	case path == "" || path == "jgf":
		return nil
	case path == "jgf_shorthand":
		return fmt.Errorf("%w: R: scheduling.writer %s: jgf_shorthand is not modelled", ErrUnsupported, mquoted(w))
	}
	return rInvalid("scheduling.writer %s: unsupported fluxion format", mquoted(w))
}

// parseUpdateR takes apart an R for update_allocate as
// reapi_cli_t::update_allocate does: an RFC 20 R (version 1, an
// execution object) gives the times and is read from its scheduling JGF
// if it has one, else from its R_lite (the rv1exec reader); anything else
// is read as a bare JGF (reapi_cli's load format) over the whole window.
// Where reapi_cli falls back silently, this reports the problem: an R
// with "version" must be a well-formed RFC 20 R, and one without must
// have a "graph".
func parseUpdateR(r []byte) (*rDoc, error) {
	top, err := rTopLevel(r)
	if err != nil {
		return nil, err
	}
	if _, ok := top["version"]; !ok {
		if _, ok := top["graph"]; !ok {
			return nil, rInvalid("neither an RFC 20 R (version, execution) nor a JGF (graph)")
		}
		return &rDoc{reader: readJGF, data: r}, nil
	}
	if v, err := strconv.ParseInt(string(top["version"]), 10, 64); err != nil || v != 1 {
		return nil, rInvalid("version: %s, want 1", graph.ShortJSON(top["version"]))
	}
	ex, ok := jsonObject(top["execution"])
	if !ok {
		return nil, rInvalid("execution: required, an object")
	}
	d := &rDoc{rfc20: true}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"starttime", &d.start}, {"expiration", &d.expi}} {
		raw, ok := ex[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return nil, rInvalid("execution.%s: %s, want a number", f.key, graph.ShortJSON(raw))
		}
		if *f.dst < 0 {
			return nil, rInvalid("execution.%s: %s, negative", f.key, graph.ShortJSON(raw))
		}
	}
	if sched, ok := top["scheduling"]; ok && string(sched) != "null" {
		if err := rSchedulingReader(sched); err != nil {
			return nil, err
		}
		d.reader, d.data = readJGF, sched
		return d, nil
	}
	d.reader, d.data = readRV1Exec, r
	return d, nil
}

// UpdateAllocate re-installs a known allocation from its R under jobID
// (reapi_cli_update_allocate; resource-query's "update allocate"), as
// Fluxion's resource module does for running jobs when it restarts. R
// is read as reapi_cli reads it:
//
//   - RFC 20 R with a "scheduling" key (match format FormatRV1): the
//     vertices of the scheduling JGF. Its "writer", if any, must be
//     "fluxion" or "fluxion:jgf".
//   - RFC 20 R without it (FormatRV1NoSched, the Go backend's default):
//     the rv1exec reader, for graphs whose nodes are children of the root
//     and hold the R_lite children directly: the host of each rank (the
//     rank's position in the sorted ranks of R_lite, in nodelist), and the
//     children type+id below it, each taken exclusively; the node is taken
//     exclusively when every other vertex of its rank is in R.
//   - A bare JGF (FormatJGF): its vertices.
//
// JGF vertices are found by containment path and must agree with the
// graph in type, basename, name, id, rank, size and paths (the JGF
// reader's find_vtx); those marked "exclusive" are taken whole (with
// their subtrees, as Match takes them), the others shared.
//
// Times: the span is [now+starttime, now+expiration) with R's starttime
// and expiration (integer seconds, truncated); an expiration absent, 0 or
// not after starttime means the rest of the graph window (the cli uses
// its whole window), and a span is cut at the window's end. now = 0 reads
// R's times as the matcher's own, so an R written by this matcher's
// Allocation re-installs exactly; like libreapi_cli, whose clock is
// always at 0, a caller at time T can pass starttime 0 and expiration =
// the remaining walltime. A bare JGF spans [now, end of window).
//
// The job is recorded as allocated (Mode ALLOCATED, not reserved, even
// if it starts later), as the cli records it. The id counter of Match
// does not move. Under the first policy, the by_outedges weight of every
// updated vertex with an aggregate becomes 0: Fluxion's update walk asks
// the planners for availability at jobmeta.now, which is -1 there
// (dfu_impl.hpp), so planner_avail_resources_at fails and the weight is
// set to 0 (dfu_impl_update.cpp: upd_by_outedges).
//
// Errors: ErrJobExists if jobID is allocated or reserved (EEXIST; a
// cancelled id may be re-installed); ErrInvalid for a malformed R, a
// vertex not in the graph or not matching it, or times outside the
// window; ErrUnsupported for a jgf_shorthand R; ErrBusy if a vertex is
// not free during the span (the state is then unchanged).
func (m *Matcher) UpdateAllocate(jobID uint64, R []byte, now int64) (*Allocation, error) {
	if m.skipHeld {
		return nil, fmt.Errorf("%w: update_allocate under SkipHeldBelow", ErrUnsupported)
	}
	if _, live := m.jobs[jobID]; live {
		return nil, fmt.Errorf("%w: update_allocate: job %d is allocated or reserved", ErrJobExists, jobID)
	}
	if now < 0 || now >= m.window {
		return nil, fmt.Errorf("%w: now %d outside the graph window [0, %d)", ErrInvalid, now, m.window)
	}
	d, err := parseUpdateR(R)
	if err != nil {
		return nil, err
	}
	at, dur := now, m.window-now
	if d.rfc20 {
		if d.start >= float64(m.window-now) {
			return nil, rInvalid("execution.starttime %v: now+starttime is outside the graph window [0, %d)", d.start, m.window)
		}
		at = now + int64(d.start)
		dur = m.window - at
		// reapi_cli: duration = expiration - starttime, truncated; 0
		// (unset, or not after starttime) means the whole window.
		if e := d.expi - d.start; e >= 1 && e < float64(dur) {
			dur = int64(e)
		}
	}
	return m.install(jobID, d.reader, d.data, at, dur, false)
}

// install reads an R's vertices with the given reader (readJGF: a bare
// JGF; readRV1Exec: an RFC 20 R) and records them as job jobID's
// allocation over [at, at+dur), as a reservation if reserved (as
// resource-query's update does for a start time other than 0).
func (m *Matcher) install(jobID uint64, reader string, data []byte, at, dur int64, reserved bool) (*Allocation, error) {
	if _, live := m.jobs[jobID]; live {
		return nil, fmt.Errorf("%w: update_allocate: job %d is allocated or reserved", ErrJobExists, jobID)
	}
	if at < 0 || at >= m.window || dur < 1 || dur > m.window-at {
		return nil, fmt.Errorf("%w: update_allocate: span [%d, %d+%d) outside the graph window [0, %d)", ErrInvalid, at, at, dur, m.window)
	}
	var set map[graph.VertexID]bool // vertex -> exclusive
	var err error
	switch reader {
	case readJGF:
		set, err = m.readRJGF(data)
	case readRV1Exec:
		set, err = m.readRV1Exec(data)
	default:
		err = fmt.Errorf("%w: unknown R reader %q (want jgf or rv1exec)", ErrInvalid, reader)
	}
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		// Fluxion's update walk then finds nothing to update and fails.
		return nil, rInvalid("names no resources")
	}
	a := m.allocFrom(set, jobID, at, dur)
	a.Reserved = reserved
	job, err := m.addSpans(a)
	if err != nil {
		return nil, fmt.Errorf("%w: update_allocate: job %d: not free during [%d, %d): %w", ErrBusy, jobID, at, at+dur, err)
	}
	m.jobs[jobID] = job
	delete(m.gone, jobID)
	if m.pol.First {
		m.updateWeights(a, -1)
	}
	return a, nil
}

// allocFrom builds an Allocation from R's vertices (vertex -> exclusive).
// Exclusive vertices take their subtrees, as in build. A shared vertex
// with something of R below it is a path vertex; a shared vertex with
// nothing below it is an allocated shared vertex.
func (m *Matcher) allocFrom(set map[graph.VertexID]bool, jobID uint64, at, dur int64) *Allocation {
	g := m.g
	for v, x := range set {
		if x {
			for _, u := range g.Subtree(v)[1:] {
				set[u] = true
			}
		}
	}
	inner := map[graph.VertexID]bool{}
	for v := range set {
		if p := g.Vertices[v].Parent; p != graph.NoVertex {
			inner[p] = true
		}
	}
	a := &Allocation{JobID: jobID, At: at, Duration: dur, g: g}
	for _, v := range slices.SortedFunc(maps.Keys(set), func(x, y graph.VertexID) int { return cmp.Compare(g.PreOrderPos()[x], g.PreOrderPos()[y]) }) {
		switch {
		case set[v]:
			a.Vertices = append(a.Vertices, AllocVertex{ID: v, Exclusive: true, Units: g.Vertices[v].Size})
		case inner[v]:
			a.Path = append(a.Path, v)
		default:
			a.Vertices = append(a.Vertices, AllocVertex{ID: v})
		}
	}
	return a
}

// readRJGF reads a JGF R and maps its vertices onto the graph
// (resource_reader_jgf_t::update_vertices: find_vtx by path and rank,
// then the fields compared by operator==). It returns vertex ->
// exclusive. ReadJGF checks the shape: a tree with one top-level root
// and a containment edge from each vertex's parent.
func (m *Matcher) readRJGF(data []byte) (map[graph.VertexID]bool, error) {
	sub, err := graph.ReadJGF(bytes.NewReader(data), "R")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	set := make(map[graph.VertexID]bool, sub.Len())
	for i := range sub.Vertices {
		s := &sub.Vertices[i]
		v, ok := m.g.Lookup(s.Path)
		if !ok {
			return nil, rInvalid("graph.nodes[%d]: no vertex at path %s in the resource graph", i, mquoted(s.Path))
		}
		if d := VertexDiff(&m.g.Vertices[v], s); d != "" {
			return nil, rInvalid("graph.nodes[%d] (%s): does not match the resource graph: %s", i, s.Path, d)
		}
		set[v] = s.Exclusive
	}
	return set, nil
}

// readJGFVertices maps the vertices of a JGF onto the graph without
// looking at its edges or shape, as flux-sched's JGF reader does for a
// partial cancel (partial_cancel calls update_vertices only): each
// node's metadata gets the reader's defaults (apply_defaults), is found
// by containment path and must agree with the graph (find_vtx).
func (m *Matcher) readJGFVertices(data []byte) ([]graph.VertexID, error) {
	top, ok := jsonObject(data)
	if !ok {
		return nil, rInvalid("scheduling JGF: want a JSON object")
	}
	gr, ok := jsonObject(top["graph"])
	if !ok {
		return nil, rInvalid("scheduling JGF: graph: required, an object")
	}
	var nodes []json.RawMessage
	if json.Unmarshal(gr["nodes"], &nodes) != nil || nodes == nil {
		return nil, rInvalid("scheduling JGF: graph.nodes: required, an array")
	}
	if _, ok := gr["edges"]; !ok {
		return nil, rInvalid("scheduling JGF: graph.edges: required")
	}
	var out []graph.VertexID
	seen := map[graph.VertexID]bool{}
	for i, raw := range nodes {
		n, ok := jsonObject(raw)
		if !ok {
			return nil, rInvalid("graph.nodes[%d]: want an object", i)
		}
		var outer string
		if err := json.Unmarshal(n["id"], &outer); err != nil {
			return nil, rInvalid("graph.nodes[%d].id: required, a string", i)
		}
		md, ok := jsonObject(n["metadata"])
		if !ok {
			return nil, rInvalid("graph.nodes[%d].metadata: required, an object", i)
		}
		// field decodes an optional member; a present one of the wrong
		// type is an error.
		bad := ""
		field := func(key string, dst any) bool {
			raw, ok := md[key]
			if !ok || bad != "" {
				return false
			}
			if err := json.Unmarshal(raw, dst); err != nil || string(raw) == "null" {
				bad = key
				return false
			}
			return true
		}
		var r graph.Vertex
		var name string
		var paths map[string]string
		var uniq int64
		hasType := field("type", &r.Type)
		hasBase := field("basename", &r.Basename)
		hasName := field("name", &name)
		hasID := field("id", &r.ID)
		hasUniq := field("uniq_id", &uniq)
		hasRank := field("rank", &r.Rank)
		hasSize := field("size", &r.Size)
		field("exclusive", &r.Exclusive)
		field("paths", &paths)
		switch {
		case bad != "":
			return nil, rInvalid("graph.nodes[%d].metadata.%s: wrong type", i, bad)
		case !hasType || r.Type == "":
			return nil, rInvalid("graph.nodes[%d].metadata.type: required", i)
		case paths["containment"] == "":
			return nil, rInvalid("graph.nodes[%d].metadata.paths.containment: required", i)
		}
		// The reader's defaults (apply_defaults).
		if !hasUniq {
			u, err := strconv.ParseInt(outer, 10, 64)
			if err != nil {
				return nil, rInvalid("graph.nodes[%d]: no uniq_id and id %s is not an integer", i, mquoted(outer))
			}
			uniq = u
		}
		if !hasBase {
			r.Basename = r.Type
		}
		if !hasID {
			r.ID = uniq
			if d := graph.TrailingDigits(name); r.Type == "node" && hasName && d != "" {
				r.ID, _ = strconv.ParseInt(d, 10, 64)
			}
		}
		r.Name = r.Basename + strconv.FormatInt(r.ID, 10)
		if hasName {
			r.Name = name
		}
		if !hasRank {
			r.Rank = -1
		}
		if !hasSize {
			r.Size = 1
		}
		r.Path = paths["containment"]
		for k, p := range paths {
			if k != "containment" {
				if r.OtherPaths == nil {
					r.OtherPaths = map[string]string{}
				}
				r.OtherPaths[k] = p
			}
		}
		v, ok := m.g.Lookup(r.Path)
		if !ok {
			return nil, rInvalid("graph.nodes[%d]: no vertex at path %s in the resource graph", i, mquoted(r.Path))
		}
		if d := VertexDiff(&m.g.Vertices[v], &r); d != "" {
			return nil, rInvalid("graph.nodes[%d] (%s): does not match the resource graph: %s", i, r.Path, d)
		}
		if seen[v] {
			return nil, rInvalid("graph.nodes[%d]: %s appears twice", i, r.Path)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// VertexDiff lists the fields in which an R's vertex differs from the
// graph's (the JGF reader's operator== and diff: type, basename, size,
// rank, id, name, paths; properties are not compared).
func VertexDiff(g, r *graph.Vertex) string {
	var d []string
	add := func(field string, gv, rv any) {
		d = append(d, fmt.Sprintf("%s %v in R, %v in the graph", field, rv, gv))
	}
	if g.Type != r.Type {
		add("type", g.Type, r.Type)
	}
	if g.Basename != r.Basename {
		add("basename", g.Basename, r.Basename)
	}
	if g.Size != r.Size {
		add("size", g.Size, r.Size)
	}
	if g.Rank != r.Rank {
		add("rank", g.Rank, r.Rank)
	}
	if g.ID != r.ID {
		add("id", g.ID, r.ID)
	}
	if g.Name != r.Name {
		add("name", g.Name, r.Name)
	}
	if !maps.Equal(g.OtherPaths, r.OtherPaths) {
		add("paths", g.OtherPaths, r.OtherPaths)
	}
	return strings.Join(d, ", ")
}

// rv1Exec is the part of an RFC 20 R the rv1exec reader reads.
type rv1Exec struct {
	entries  []rv1ExecEntry
	nodelist []string
}

type rv1ExecEntry struct {
	ranks    []int64
	children map[string]string
}

// boundedIDSet expands an RFC 22 idset of at most limit ids (more cannot
// all name vertices of the graph, so the R is refused before expanding).
func boundedIDSet(set string, limit int) ([]int64, error) {
	n := 0
	for _, part := range strings.Split(set, ",") {
		lo, hi, rng := strings.Cut(part, "-")
		a, err1 := strconv.ParseInt(lo, 10, 64)
		b, err2 := strconv.ParseInt(hi, 10, 64)
		switch {
		case !rng && err1 == nil:
			n++
		case rng && err1 == nil && err2 == nil && b >= a && b-a < int64(limit):
			n += int(b-a) + 1
		default:
			n = limit + 1 // malformed or too large: expandIDSet says which
		}
		if n > limit {
			break
		}
	}
	if n > limit {
		if _, err := ExpandIDSet(set); err != nil && !strings.Contains(err.Error(), "too large") {
			return nil, err
		}
		return nil, fmt.Errorf("idset %s: more ids than the graph has vertices (%d)", mquoted(set), limit)
	}
	return ExpandIDSet(set)
}

// parseRV1Exec decodes and checks an R for the rv1exec reader; with
// needNodes, nodelist and every entry's children are required (update),
// else only the ranks (partial cancel). An idset may hold at most limit
// ids.
func parseRV1Exec(data []byte, needNodes bool, limit int) (*rv1Exec, error) {
	top, ok := jsonObject(data)
	if !ok {
		return nil, rInvalid("as RFC 20 R: want a JSON object")
	}
	if v, err := strconv.ParseInt(string(top["version"]), 10, 64); err != nil || v != 1 {
		return nil, rInvalid("version: required, 1")
	}
	ex, ok := jsonObject(top["execution"])
	if !ok {
		return nil, rInvalid("execution: required, an object")
	}
	var rlite []json.RawMessage
	if raw, ok := ex["R_lite"]; !ok || json.Unmarshal(raw, &rlite) != nil || rlite == nil {
		return nil, rInvalid("execution.R_lite: required, an array")
	}
	r := &rv1Exec{}
	if needNodes {
		if raw, ok := ex["nodelist"]; !ok || json.Unmarshal(raw, &r.nodelist) != nil || r.nodelist == nil {
			return nil, rInvalid("execution.nodelist: required, an array of strings")
		}
	}
	for i, raw := range rlite {
		e, ok := jsonObject(raw)
		if !ok {
			return nil, rInvalid("execution.R_lite[%d]: want an object", i)
		}
		var rank string
		if err := json.Unmarshal(e["rank"], &rank); err != nil {
			return nil, rInvalid("execution.R_lite[%d].rank: required, a string", i)
		}
		ids, err := boundedIDSet(rank, limit)
		if err != nil || len(ids) == 0 || slices.Min(ids) < 0 {
			return nil, rInvalid("execution.R_lite[%d].rank: %s is not an idset of ranks", i, mquoted(rank))
		}
		entry := rv1ExecEntry{ranks: ids}
		if needNodes {
			if err := json.Unmarshal(e["children"], &entry.children); err != nil || entry.children == nil {
				return nil, rInvalid("execution.R_lite[%d].children: required, an object of idsets", i)
			}
		}
		r.entries = append(r.entries, entry)
	}
	return r, nil
}

// readRV1Exec maps an RFC 20 R_lite onto the graph as flux-sched's
// rv1exec reader does in update mode (resource_reader_rv1exec.cpp:
// build_rmap, unpack_rank, unpack_child, update_exclusivity): rank r is
// the host nodelist[i] where i is r's position among R_lite's ranks in
// increasing order; the host is the root's child of that name (type
// node, rank r, id the name's trailing digits); each child type+id is
// the host's child of that name (type, id, rank r, size 1) and is taken
// exclusively; the host is taken exclusively only if every other vertex
// of rank r is in R. (Fluxion also counts a partly taken host as used
// in its ancestors' node aggregates; the Go model leaves it shared.)
func (m *Matcher) readRV1Exec(data []byte) (map[graph.VertexID]bool, error) {
	r, err := parseRV1Exec(data, true, m.g.Len())
	if err != nil {
		return nil, err
	}
	var all []int64
	for _, e := range r.entries {
		all = append(all, e.ranks...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	g := m.g
	var hosts []string
	for i, hl := range r.nodelist {
		// Refuse bracket ranges longer than the graph before expanding.
		for rest := hl; ; {
			a := strings.IndexByte(rest, '[')
			if a < 0 {
				break
			}
			b := strings.IndexByte(rest[a:], ']')
			if b < 0 {
				break
			}
			if _, err := boundedIDSet(rest[a+1:a+b], g.Len()); err != nil {
				return nil, rInvalid("execution.nodelist[%d]: %v", i, err)
			}
			rest = rest[a+b+1:]
		}
		h, err := ExpandHostlist(hl)
		if err != nil {
			return nil, rInvalid("execution.nodelist[%d]: %v", i, err)
		}
		hosts = append(hosts, h...)
	}
	byRank := map[int64]int{}
	for i := range g.Vertices {
		byRank[g.Vertices[i].Rank]++
	}
	set := map[graph.VertexID]bool{}
	taken := map[int64]int{} // rank -> children taken
	nodes := map[int64]graph.VertexID{}
	for i, e := range r.entries {
		for _, rank := range e.ranks {
			k, _ := slices.BinarySearch(all, rank)
			if k >= len(hosts) {
				return nil, rInvalid("execution.nodelist: %d hosts, no host for rank %d (the %d-th rank)", len(hosts), rank, k+1)
			}
			host := hosts[k]
			digits := graph.TrailingDigits(host)
			id, err := strconv.ParseInt(digits, 10, 64)
			if err != nil {
				return nil, rInvalid("execution.nodelist: host %s has no numeric suffix", mquoted(host))
			}
			np := g.Vertices[g.Root].Path + "/" + host
			n, ok := g.Lookup(np)
			if !ok {
				return nil, rInvalid("rank %d: no vertex at path %s in the resource graph", rank, mquoted(np))
			}
			if v := &g.Vertices[n]; v.Type != "node" || v.Rank != rank || v.ID != id || v.Size != 1 {
				return nil, rInvalid("rank %d: %s is %s rank %d id %d size %d, want a node of rank %d, id %d, size 1", rank, np, v.Type, v.Rank, v.ID, v.Size, rank, id)
			}
			nodes[rank] = n
			if _, ok := set[n]; !ok {
				set[n] = false
			}
			if _, ok := set[g.Root]; !ok {
				set[g.Root] = false // the shared path above the hosts
			}
			for _, typ := range slices.Sorted(maps.Keys(e.children)) {
				ids, err := boundedIDSet(e.children[typ], g.Len())
				if err != nil {
					return nil, rInvalid("execution.R_lite[%d].children.%s: %v", i, clip(typ), err)
				}
				for _, cid := range ids {
					cp := np + "/" + typ + strconv.FormatInt(cid, 10)
					c, ok := g.Lookup(cp)
					if !ok {
						return nil, rInvalid("rank %d: no vertex at path %s in the resource graph", rank, mquoted(cp))
					}
					if v := &g.Vertices[c]; v.Type != typ || v.ID != cid || v.Rank != rank || v.Size != 1 {
						return nil, rInvalid("rank %d: %s is %s rank %d id %d size %d, want a %s of rank %d, id %d, size 1", rank, cp, v.Type, v.Rank, v.ID, v.Size, typ, rank, cid)
					}
					if !set[c] {
						set[c] = true
						taken[rank]++
					}
				}
			}
		}
	}
	for rank, n := range nodes {
		if taken[rank] == byRank[rank]-1 {
			set[n] = true
		}
	}
	return set, nil
}

// PartialCancel releases part of an allocation (reapi_cli_partial_cancel;
// resource-query's partial-cancel) and reports whether nothing is left,
// in which case the job is gone as after Cancel. R says what to release,
// read as reapi_cli's remove_job reads it:
//
//   - RFC 20 R without a "scheduling" key: the ranks of its R_lite (the
//     rv1exec reader; children and nodelist are ignored). Every vertex of
//     each rank that the job holds is released whole: rank granularity.
//   - R with a "scheduling" JGF: its vertices, each of which must be held
//     exclusively by the job (flux-sched's JGF reader fails on a vertex
//     without the job's allocation span, e.g. a shared ancestor).
//
// A released vertex loses the job's unit, exclusivity and aggregate
// spans. The job's aggregate spans on the ancestors of each rank's
// topmost released vertex are reduced by the released units of the
// tracked types (planner_multi_reduce_span); an aggregate span reduced
// to nothing is removed and the ancestor no longer counts as the job's.
// As in flux-sched (dfu_impl_update.cpp: mod_agfilter calls
// rem_exclusive_filter on every partial cancel), those ancestors also
// lose the job's exclusivity span at the first partial cancel, even
// while the job still holds resources below them. fullRemoval is true
// when the root no longer counts as the job's (its aggregate span is
// gone); the job's remaining spans are then removed and the job is
// cancelled. Otherwise the job's Allocation (as Info returns it) loses
// the released vertices.
//
// Errors: ErrNoJob if jobID is not an allocation (reservations cannot be
// partially cancelled, as in reapi_cli); ErrInvalid for a malformed R, a
// rank or vertex not in the graph, a rank on which the job holds nothing
// exclusively, or a JGF vertex the job does not hold exclusively;
// ErrUnsupported for a jgf_shorthand R. On error nothing changes (where
// flux-sched may have released part of R already).
func (m *Matcher) PartialCancel(jobID uint64, R []byte) (fullRemoval bool, err error) {
	if m.skipHeld {
		return false, fmt.Errorf("%w: partial cancel under SkipHeldBelow", ErrUnsupported)
	}
	if job, ok := m.jobs[jobID]; !ok || job.alloc.Reserved {
		return false, fmt.Errorf("%w: partial cancel: no allocation for job %d", ErrNoJob, jobID)
	}
	top, err := rTopLevel(R)
	if err != nil {
		return false, err
	}
	if sched, ok := top["scheduling"]; ok {
		if err := rSchedulingReader(sched); err != nil {
			return false, err
		}
		return m.partialCancel(jobID, readJGF, sched)
	}
	return m.partialCancel(jobID, readRV1Exec, R)
}

// partialCancel is PartialCancel with the reader chosen (readJGF: data
// is a JGF; readRV1Exec: an RFC 20 R), as resource-query's
// partial-cancel chooses it.
func (m *Matcher) partialCancel(jobID uint64, reader string, data []byte) (fullRemoval bool, err error) {
	job, ok := m.jobs[jobID]
	if !ok || job.alloc.Reserved {
		return false, fmt.Errorf("%w: partial cancel: no allocation for job %d", ErrNoJob, jobID)
	}
	g := m.g
	// The job's spans by vertex.
	type vspans struct{ plan, x, agg, full int } // indexes into job.spans, -1 if none
	idx := map[graph.VertexID]*vspans{}
	at := func(v graph.VertexID) *vspans {
		s := idx[v]
		if s == nil {
			s = &vspans{-1, -1, -1, -1}
			idx[v] = s
		}
		return s
	}
	leafIdx := -1 // the job's span on the root's leaf-type filter
	for i, s := range job.spans {
		switch s.kind {
		case 0:
			at(s.v).plan = i
		case 1:
			at(s.v).x = i
		case 3:
			leafIdx = i
		case 5:
			at(s.v).full = i
		default:
			at(s.v).agg = i
		}
	}
	tagged := map[graph.VertexID]bool{}
	for _, av := range job.alloc.Vertices {
		tagged[av.ID] = true
	}
	// Vertices held below an exclusive vertex without being listed in R
	// (Allocation.held) go with their rank or their listed ancestor.
	heldBelow := map[graph.VertexID]bool{}
	for _, av := range job.alloc.held {
		heldBelow[av.ID] = true
	}
	for _, v := range job.alloc.Path {
		tagged[v] = true
	}
	units := func(v graph.VertexID) int64 {
		if s := idx[v]; s != nil && s.plan >= 0 {
			sp, _ := m.unitPlan(v).Span(job.spans[s.plan].id)
			return sp.Request
		}
		return 0
	}

	released := map[graph.VertexID]bool{}
	counts := map[int64]map[string]int64{} // rank -> type -> released units
	roots := map[int64]graph.VertexID{}    // rank -> topmost released vertex
	count := func(v graph.VertexID) {
		if heldBelow[v] {
			// Held unlisted: booked, but not counted in the
			// aggregates (Matcher.addSpans), so nothing to reduce.
			return
		}
		r := g.Vertices[v].Rank
		if counts[r] == nil {
			counts[r] = map[string]int64{}
		}
		counts[r][g.Vertices[v].Type] += units(v)
	}
	switch reader {
	case readJGF:
		order, err := m.readJGFVertices(data)
		if err != nil {
			return false, err
		}
		for i, v := range order {
			if s := idx[v]; !tagged[v] || s == nil || s.plan < 0 || s.x < 0 {
				return false, rInvalid("graph.nodes[%d]: %s is not allocated exclusively to job %d", i, g.Vertices[v].Path, jobID)
			}
			released[v] = true
			count(v)
			r := g.Vertices[v].Rank
			if cur, ok := roots[r]; !ok || len(g.Vertices[v].Path) < len(g.Vertices[cur].Path) {
				roots[r] = v
			}
		}
	case readRV1Exec:
		r, err := parseRV1Exec(data, false, m.g.Len())
		if err != nil {
			return false, fmt.Errorf("%w (an R without a scheduling key is read as RFC 20 R_lite)", err)
		}
		byRank := map[int64][]graph.VertexID{}
		for _, v := range g.PreOrder() {
			byRank[g.Vertices[v].Rank] = append(byRank[g.Vertices[v].Rank], v)
		}
		var all []int64
		for _, e := range r.entries {
			all = append(all, e.ranks...)
		}
		slices.Sort(all)
		for _, r := range slices.Compact(all) {
			vs, ok := byRank[r]
			if !ok {
				return false, rInvalid("rank %d is not in the resource graph", r)
			}
			held := false
			for _, v := range vs {
				if tagged[v] || heldBelow[v] {
					released[v] = true
					count(v)
					held = held || units(v) > 0
				}
				if cur, ok := roots[r]; !ok || len(g.Vertices[v].Path) < len(g.Vertices[cur].Path) {
					roots[r] = v
				}
			}
			if !held {
				return false, rInvalid("job %d holds nothing exclusively on rank %d", jobID, r)
			}
		}
	default:
		return false, fmt.Errorf("%w: unknown R reader %q (want jgf or rv1exec)", ErrInvalid, reader)
	}

	if len(released) == 0 {
		return false, rInvalid("names nothing to release")
	}
	if reader == readJGF {
		// A listed vertex releases what it holds unlisted below it.
		for _, av := range job.alloc.held {
			for p := g.Vertices[av.ID].Parent; p != graph.NoVertex; p = g.Vertices[p].Parent {
				if released[p] {
					released[av.ID] = true
					count(av.ID)
					break
				}
			}
		}
	}
	// Reductions of the ancestors' aggregate spans.
	reduce := map[graph.VertexID][]int64{}
	for r, root := range roots {
		for p := g.Vertices[root].Parent; p != graph.NoVertex; p = g.Vertices[p].Parent {
			if released[p] || !tagged[p] || m.agg[p] == nil || idx[p] == nil || idx[p].agg < 0 {
				continue
			}
			red := reduce[p]
			if red == nil {
				red = make([]int64, len(m.aggTypes))
				reduce[p] = red
			}
			for typ, n := range counts[r] {
				if k := slices.Index(m.aggTypes, typ); k >= 0 {
					red[k] += n
				}
			}
		}
	}
	for p, red := range reduce {
		id := job.spans[idx[p].agg].id
		for k, n := range red {
			if have := m.agg[p].SpanPlanned(id, k); n > have {
				return false, rInvalid("releasing %d %s below %s, but job %d holds %d there", n, m.aggTypes[k], g.Vertices[p].Path, jobID, have)
			}
		}
	}
	// The root's leaf-type filter loses the released leaves.
	var leafRed []int64
	if leafIdx >= 0 {
		leafRed = make([]int64, len(m.leafTypes))
		for _, c := range counts {
			for j, t := range m.leafTypes {
				leafRed[j] += c[t]
			}
		}
		id := job.spans[leafIdx].id
		for j, n := range leafRed {
			if have := m.rootLeaf.SpanPlanned(id, j); n > have {
				return false, rInvalid("releasing %d %s, but job %d holds %d", n, m.leafTypes[j], jobID, have)
			}
		}
	}

	// Apply: released vertices lose all their spans; ancestors are reduced.
	drop := map[int]bool{}    // indexes into job.spans
	reduced := map[int]bool{} // agg spans ReduceSpan removed already
	for v := range released {
		s := idx[v]
		for _, i := range []int{s.plan, s.x, s.agg, s.full} {
			if i >= 0 {
				drop[i] = true
			}
		}
		delete(tagged, v)
	}
	for _, p := range slices.SortedFunc(maps.Keys(reduce), func(x, y graph.VertexID) int { return cmp.Compare(g.PreOrderPos()[x], g.PreOrderPos()[y]) }) {
		s := idx[p]
		gone, err := m.agg[p].ReduceSpan(job.spans[s.agg].id, reduce[p])
		if err != nil {
			panic(fmt.Sprintf("fluxion: partial cancel job %d on %s: %v", jobID, g.Vertices[p].Path, err))
		}
		if gone {
			drop[s.agg] = true
			reduced[s.agg] = true
			m.aggLive[p]-- // gone with the reduction, not through removeSpans
			delete(tagged, p)
		}
		if s.x >= 0 {
			drop[s.x] = true
		}
		if s.full >= 0 {
			drop[s.full] = true // the aggregate is no longer used whole
		}
	}
	if leafIdx >= 0 && slices.ContainsFunc(leafRed, func(n int64) bool { return n > 0 }) {
		gone, err := m.rootLeaf.ReduceSpan(job.spans[leafIdx].id, leafRed)
		if err != nil {
			panic(fmt.Sprintf("fluxion: partial cancel job %d on the root's leaf filter: %v", jobID, err))
		}
		if gone {
			drop[leafIdx] = true
			reduced[leafIdx] = true
		}
	}
	var keep, rem []matchSpan
	for i, s := range job.spans {
		switch {
		case !drop[i]:
			keep = append(keep, s)
		case !reduced[i]:
			rem = append(rem, s)
		}
	}
	m.removeSpans(rem)
	job.spans = keep
	a := job.alloc
	if !tagged[g.Root] {
		m.removeSpans(job.spans)
		job.spans = nil
		delete(m.jobs, jobID)
		a.Canceled = true
		m.gone[jobID] = a
		return true, nil
	}
	var vs []AllocVertex
	for _, av := range a.Vertices {
		if tagged[av.ID] {
			vs = append(vs, av)
		}
	}
	var path []graph.VertexID
	for _, v := range a.Path {
		if tagged[v] {
			path = append(path, v)
		}
	}
	var held []AllocVertex
	for _, av := range a.held {
		if !released[av.ID] {
			held = append(held, av)
		}
	}
	a.Vertices, a.Path, a.held = vs, path, held
	return false, nil
}
