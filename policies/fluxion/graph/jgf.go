package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/policies/fluxion/internal/rtype"
)

// JGFError is a problem found by ReadJGF: a JSON syntax error (Line and
// Column set) or a value that does not fit the JGF schema (Path set, e.g.
// "graph.nodes[3].metadata.type").
type JGFError struct {
	File   string // the name given to ReadJGF
	Path   string // JSON path of the offending value; "" for syntax errors
	Line   int    // 1-based line of a syntax error, else 0
	Column int    // 1-based byte column of a syntax error, else 0
	Msg    string
}

func (e *JGFError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d, column %d: invalid JSON: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Path != "":
		return e.File + ": " + e.Path + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// ReadJGF reads a resource graph in JSON Graph Format as flux-sched's JGF
// reader does (resource/readers/resource_reader_jgf.cpp: fetch_jgf,
// fill_fetcher, apply_defaults, unpack_edge). name labels errors.
//
// Shape: {"graph": {"nodes": [...], "edges": [...]}}; other top-level keys
// (e.g. free_ranks) and unknown keys anywhere are ignored; "nodes" and
// "edges" are both required, as in Fluxion.
//
// A node is {"id": "<string>", "metadata": {...}} with metadata keys:
//
//	type*      string, non-empty
//	basename   string          default: type
//	name       string          default: basename + id
//	id         integer         default: uniq_id; for a "node" with a name,
//	                           the name's trailing digits if it has any
//	uniq_id    integer         default: the outer "id" as a decimal integer
//	rank       integer         default: -1; -1 (none) or 0 .. 2147483647
//	status     0|1|"up"|"down" default: up (Fluxion reads the integer form)
//	exclusive  boolean         default: false
//	unit       string          default: ""
//	size       integer >= 0    default: 1; the sizes of one type must
//	                           sum to at most 2^63-1 (the planners count
//	                           them in int64)
//	paths*     object of strings; "containment"* is "/<seg>[/<seg>...]"
//	properties object of strings, or null
//
// (* = required.) Outer ids, uniq_ids and containment paths must be unique.
// Non-containment paths are kept (Vertex.OtherPaths).
//
// The input is read up to limitio.ResourceGraph bytes; a longer one is
// refused with a *limitio.TooLargeError. Values quoted in messages are cut
// to a bounded prefix.
//
// An edge is {"source": "<id>", "target": "<id>", "metadata":
// {"subsystem": "containment"}}; the subsystem defaults to containment. Both
// ends must name vertices. Edges of other subsystems are checked that far and
// then ignored: the graph holds the containment tree only. A containment
// edge must join a vertex and its path-parent (whose path is the vertex's
// minus one segment). Its direction is taken from the paths, so the
// child-to-parent ("in") edges that Fluence writes next to each
// parent-to-child one are accepted and add nothing; the same edge twice in
// one direction is an error, and so is an edge from a vertex to itself or
// up to a further ancestor (a containment cycle). Siblings are ordered by the first edge that
// joins them to their parent. Every vertex but exactly one root (path
// "/<seg>") needs such an edge.
//
// The input must be valid UTF-8 JSON without "\u0000" (as for jansson's
// json_loads, which Fluxion uses); keys are case-sensitive, and a key this
// reader knows may appear only once per object. Where Fluxion is lenient by
// accident this reader refuses: an outer id is read as uniq_id only if it is
// wholly a decimal integer (Fluxion's std::stoll takes "12abc" as 12), a
// size below 0 is an error (Fluxion takes -1 as "unset", i.e. 1), and
// integers must fit in int64 (Fluxion's stoll throws out_of_range,
// uncaught).
//
// ReadJGF reads all of r into memory. Apart from errors reading r, it fails
// only with a *JGFError, never panics, and names the file and either a line
// and column (invalid JSON) or the JSON path of the offending value, e.g.
// "x.json: graph.nodes[3].metadata.type: required".
func ReadJGF(r io.Reader, name string) (*Graph, error) {
	data, err := jgfReadAll(r, name, limitio.ResourceGraph, jgfFileKind)
	if err != nil {
		return nil, err
	}
	return parseJGF(data, name)
}

// jgfFileKind names resource graph files in size-limit messages.
const jgfFileKind = "resource graph (JGF)"

// ReadJGFFile reads the JGF resource graph in the file at path (see
// ReadJGF); errors name the file as given. A folder, or a file over
// limitio.ResourceGraph bytes, is refused before it is read; so is input
// that cannot start a JSON object (the first bytes of /dev/zero, a binary
// or a log), without reading the rest.
func ReadJGFFile(path string) (*Graph, error) {
	data, err := readJSONFile(path, limitio.ResourceGraph, jgfFileKind)
	if err != nil {
		return nil, err
	}
	return parseJGF(data, path)
}

// readJSONFile reads a file that must hold a JSON object, at most limit
// bytes (limitio.Open refuses a folder or a larger regular file before
// reading), and stops at a first byte that cannot start an object
// (jgfReadAll).
// kind names the file in messages.
func readJSONFile(path string, limit int64, kind string) ([]byte, error) {
	f, err := limitio.Open(path, limit, kind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jgfReadAll(f, path, limit, kind)
}

// jgfReadAll reads r to the end, at most limit bytes (more is a
// *limitio.TooLargeError), with the buffer sized up front when r tells its
// length (bytes.Reader, strings.Reader, bytes.Buffer, regular files). It
// stops early, returning what it has read, once the first byte that is not
// white space turns out not to be '{': the parser then reports the error at
// that byte, and /dev/zero or a binary is refused at once.
func jgfReadAll(r io.Reader, name string, limit int64, kind string) ([]byte, error) {
	n := int64(0)
	switch x := r.(type) {
	case interface{ Len() int }:
		n = int64(x.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() {
			n = fi.Size()
		}
	}
	if n > limit {
		return nil, &limitio.TooLargeError{Path: name, Kind: kind, Limit: limit}
	}
	lr := limitio.Reader(r, name, limit, kind)
	var buf bytes.Buffer
	if n > 0 {
		buf.Grow(int(n) + bytes.MinRead)
	}
	// Read until the first byte that is not white space.
	for {
		if buf.Available() < 512 {
			buf.Grow(4096)
		}
		free := buf.AvailableBuffer()[:buf.Available()]
		k, err := lr.Read(free)
		buf.Write(free[:k])
		if c, ok := jgfFirstByte(buf.Bytes()); ok {
			if c != '{' {
				return buf.Bytes(), nil
			}
			break
		}
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, jgfReadErr(name, err)
		}
	}
	if _, err := buf.ReadFrom(lr); err != nil {
		return nil, jgfReadErr(name, err)
	}
	return buf.Bytes(), nil
}

func jgfReadErr(name string, err error) error {
	if errors.Is(err, limitio.ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// jgfFirstByte returns the first byte of b that is not JSON white space.
func jgfFirstByte(b []byte) (byte, bool) {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c, true
		}
	}
	return 0, false
}

// msgQuoteMax bounds the bytes of an input value quoted in a message.
const msgQuoteMax = 120

// quoted quotes a value of the input for a message, cut to a bounded
// prefix (limitio.Quote).
func quoted[T string | []byte](s T) string { return limitio.Quote(string(s), msgQuoteMax) }

// jgfMaxRank is the largest rank ReadJGF accepts.
const jgfMaxRank = math.MaxInt32

// jgfPath is a JSON path, formatted only when an error needs it:
// arr, then "[i]" unless i < 0, then "." + f1 and "." + f2 when not empty.
type jgfPath struct {
	arr    string
	i      int
	f1, f2 string
}

func (p jgfPath) String() string {
	s := p.arr
	if p.i >= 0 {
		s += "[" + strconv.Itoa(p.i) + "]"
	}
	if p.f1 != "" {
		s += "." + p.f1
	}
	if p.f2 != "" {
		s += "." + p.f2
	}
	return s
}

func jgfNodeAt(i int, field string) jgfPath { return jgfPath{"graph.nodes", i, field, ""} }
func jgfEdgeAt(j int, field string) jgfPath { return jgfPath{"graph.edges", j, field, ""} }
func jgfKeyAt(key string) jgfPath           { return jgfPath{key, -1, "", ""} }

type jgfReader struct {
	s    jgfScanner
	file string

	verts []Vertex
	paths *pathIndex
	// Outer ids are usually the decimal uniq_id ("canonical", as Fluxion,
	// Fluence and WriteJGF write them) and are then found through the
	// uniq_id; only the others are kept, in ids and outerNC.
	ids     map[string]VertexID // non-canonical outer id -> vertex
	outerNC map[VertexID]string // vertex -> its non-canonical outer id
	// uniq is nil while every uniq_id so far equals the vertex's index.
	uniq        map[int64]VertexID
	uniqIsIndex bool
	intern      map[string]string
	scr         []byte // scratch for default names and canonical ids

	edgesAt int        // offset of a graph.edges value met before graph.nodes, or -1
	order   []VertexID // children in the order of their first edge
	dir     []uint8    // per child: 1 = parent->child edge seen, 2 = child->parent seen
}

func parseJGF(data []byte, file string) (*Graph, error) {
	// A vertex has three '{' (itself, metadata, paths) and an edge up to
	// two, so a tree has about 5 per vertex (7 with Fluence's edges both
	// ways). A vertex also takes at least 60 bytes, which bounds what a
	// hostile input can make us reserve. The estimate only sizes the vertex
	// slice and the path map.
	est := min(bytes.Count(data, []byte{'{'})/5, len(data)/60) + 1
	r := &jgfReader{
		file:        file,
		verts:       make([]Vertex, 0, est),
		paths:       newPathIndex(),
		uniqIsIndex: true,
		intern:      make(map[string]string),
		edgesAt:     -1,
	}
	r.s.buf = data
	g, err := r.read()
	if err != nil {
		return nil, r.wrap(err)
	}
	return g, nil
}

// pathOf returns the path of a vertex read so far.
func (r *jgfReader) pathOf(v VertexID) string { return r.verts[v].Path }

// pathAt returns the vertex read at path, NoVertex if none.
func (r *jgfReader) pathAt(path string) VertexID {
	if v, ok := r.paths.get(path, r.pathOf); ok {
		return v
	}
	return NoVertex
}

// byUniq finds a vertex by uniq_id among those read so far.
func (r *jgfReader) byUniq(u int64) (VertexID, bool) {
	if r.uniqIsIndex {
		if u >= 0 && u < int64(len(r.verts)) {
			return VertexID(u), true
		}
		return NoVertex, false
	}
	v, ok := r.uniq[u]
	return v, ok
}

// byOuter finds a vertex by its outer id.
func (r *jgfReader) byOuter(b []byte) (VertexID, bool) {
	if v, ok := r.ids[string(b)]; ok {
		return v, true
	}
	if u, ok := r.canonicalInt(b); ok {
		if v, ok := r.byUniq(u); ok {
			if _, nc := r.outerNC[v]; !nc {
				return v, true
			}
		}
	}
	return NoVertex, false
}

// canonicalInt parses b if it is exactly the decimal form of an int64.
func (r *jgfReader) canonicalInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	for i, c := range b {
		if (c < '0' || c > '9') && !(i == 0 && c == '-') {
			return 0, false
		}
	}
	u, ok := jgfParseInt(b)
	if !ok {
		return 0, false
	}
	// Canonical: what strconv.FormatInt(u, 10) gives back — no leading
	// zero (but "0" itself), no "-0", a sign only on a negative number.
	d := b
	if d[0] == '-' {
		d = d[1:]
		if len(d) == 0 || u == 0 {
			return 0, false
		}
	}
	return u, len(d) > 0 && (d[0] != '0' || len(d) == 1)
}

// outerOf returns a vertex's outer id.
func (r *jgfReader) outerOf(v VertexID) string {
	if s, ok := r.outerNC[v]; ok {
		return s
	}
	return strconv.FormatInt(r.verts[v].UniqID, 10)
}

// wrap turns a scanner error into a *JGFError with line and column.
func (r *jgfReader) wrap(err error) error {
	if se, ok := err.(*jgfSyntaxError); ok {
		line, col := r.s.lineCol(se.off)
		return &JGFError{File: r.file, Line: line, Column: col, Msg: se.msg}
	}
	return err
}

func (r *jgfReader) errAt(path jgfPath, format string, args ...any) error {
	return &JGFError{File: r.file, Path: path.String(), Msg: fmt.Sprintf(format, args...)}
}

// want consumes the value at the scanner and reports it as the wrong kind.
func (r *jgfReader) want(path jgfPath, what string) error {
	got, err := r.s.describe()
	if err != nil {
		return err
	}
	return r.errAt(path, "want %s, got %s", what, got)
}

func (r *jgfReader) internBytes(b []byte) string {
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

func (r *jgfReader) read() (*Graph, error) {
	s := &r.s
	switch s.kind() {
	case jgfObject:
	case jgfEnd, jgfBad:
		return nil, s.valueError()
	default:
		got, err := s.describe()
		if err != nil {
			return nil, err
		}
		return nil, &JGFError{File: r.file, Msg: "top-level value: want object, got " + got}
	}
	haveGraph := false
	for i := 0; ; i++ {
		key, more, err := s.objectNext(i)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if string(key) != "graph" {
			if err := s.skip(0); err != nil {
				return nil, err
			}
			continue
		}
		if haveGraph {
			return nil, r.errAt(jgfKeyAt("graph"), "duplicate key")
		}
		haveGraph = true
		if err := r.readGraph(); err != nil {
			return nil, err
		}
	}
	s.ws()
	if s.pos < len(s.buf) {
		return nil, s.fail("unexpected data after the top-level value")
	}
	if !haveGraph {
		return nil, r.errAt(jgfKeyAt("graph"), "required")
	}
	return r.finish()
}

func (r *jgfReader) readGraph() error {
	s := &r.s
	if s.kind() != jgfObject {
		return r.want(jgfKeyAt("graph"), "object")
	}
	haveNodes, haveEdges := false, false
	for i := 0; ; i++ {
		key, more, err := s.objectNext(i)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch string(key) {
		case "nodes":
			if haveNodes {
				return r.errAt(jgfKeyAt("graph.nodes"), "duplicate key")
			}
			haveNodes = true
			if err := r.readNodes(); err != nil {
				return err
			}
			if r.edgesAt >= 0 { // edges came first: read them now
				back := s.pos
				s.pos = r.edgesAt
				if err := r.readEdges(); err != nil {
					return err
				}
				s.pos = back
				r.edgesAt = -1
			}
		case "edges":
			if haveEdges {
				return r.errAt(jgfKeyAt("graph.edges"), "duplicate key")
			}
			haveEdges = true
			if haveNodes {
				if err := r.readEdges(); err != nil {
					return err
				}
				continue
			}
			if s.kind() != jgfArray {
				return r.want(jgfKeyAt("graph.edges"), "array")
			}
			r.edgesAt = s.pos
			if err := s.skip(0); err != nil {
				return err
			}
		default:
			if err := s.skip(0); err != nil {
				return err
			}
		}
	}
	if !haveNodes {
		return r.errAt(jgfKeyAt("graph.nodes"), "required")
	}
	if !haveEdges {
		return r.errAt(jgfKeyAt("graph.edges"), "required")
	}
	return nil
}

func (r *jgfReader) readNodes() error {
	s := &r.s
	if s.kind() != jgfArray {
		return r.want(jgfKeyAt("graph.nodes"), "array")
	}
	for i := 0; ; i++ {
		more, err := s.arrayNext(i)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if i >= graphMaxVertices {
			return r.errAt(jgfNodeAt(i, ""), "too many vertices")
		}
		if err := r.readNode(i); err != nil {
			return err
		}
	}
	if len(r.verts) == 0 {
		return r.errAt(jgfKeyAt("graph.nodes"), "no vertices")
	}
	// Paths are indexed once all are read (pathIndex.build); a repeat is
	// reported at the first vertex that repeats an earlier path.
	if dup, prev, ok := r.paths.build(len(r.verts), r.pathOf); !ok {
		return r.errAt(jgfNodeAt(int(dup), "metadata.paths.containment"), "duplicate path %s (also graph.nodes[%d])", quoted(r.verts[dup].Path), prev)
	}
	for i := range r.verts {
		p := r.verts[i].Path
		if pp := pathParent(p); pp != "" {
			if _, ok := r.paths.get(pp, r.pathOf); !ok {
				return r.errAt(jgfNodeAt(i, "metadata.paths.containment"), "parent %s of %s is not a vertex", quoted(pp), quoted(p))
			}
		}
	}
	r.dir = make([]uint8, len(r.verts))
	r.order = make([]VertexID, 0, len(r.verts)-1)
	return nil
}

// jgfMeta is one node's metadata as read, before defaults.
type jgfMeta struct {
	have                      uint16 // jgfM* bits of the keys present
	typ, basename, name, unit string
	id, uniq, rank, size      int64
	exclusive                 bool
	status                    Status
	path                      string
	other, props              map[string]string
}

const (
	jgfMType uint16 = 1 << iota
	jgfMBasename
	jgfMName
	jgfMID
	jgfMUniq
	jgfMRank
	jgfMStatus
	jgfMExclusive
	jgfMUnit
	jgfMSize
	jgfMPaths
	jgfMProps
)

func jgfMetaKey(key []byte) (uint16, string) {
	switch string(key) {
	case "type":
		return jgfMType, "type"
	case "basename":
		return jgfMBasename, "basename"
	case "name":
		return jgfMName, "name"
	case "id":
		return jgfMID, "id"
	case "uniq_id":
		return jgfMUniq, "uniq_id"
	case "rank":
		return jgfMRank, "rank"
	case "status":
		return jgfMStatus, "status"
	case "exclusive":
		return jgfMExclusive, "exclusive"
	case "unit":
		return jgfMUnit, "unit"
	case "size":
		return jgfMSize, "size"
	case "paths":
		return jgfMPaths, "paths"
	case "properties":
		return jgfMProps, "properties"
	}
	return 0, ""
}

func (r *jgfReader) readNode(i int) error {
	s := &r.s
	if s.kind() != jgfObject {
		return r.want(jgfNodeAt(i, ""), "object")
	}
	var m jgfMeta
	var outer []byte // aliases the input unless it had escapes
	haveID, haveMeta := false, false
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch string(key) {
		case "id":
			if haveID {
				return r.errAt(jgfNodeAt(i, "id"), "duplicate key")
			}
			haveID = true
			if s.kind() != jgfString {
				return r.want(jgfNodeAt(i, "id"), "string")
			}
			b, err := s.str(&s.vscratch)
			if err != nil {
				return err
			}
			outer = b
			if s.escaped {
				outer = bytes.Clone(b)
			}
		case "metadata":
			if haveMeta {
				return r.errAt(jgfNodeAt(i, "metadata"), "duplicate key")
			}
			haveMeta = true
			if err := r.readMeta(i, &m); err != nil {
				return err
			}
		default:
			if err := s.skip(0); err != nil {
				return err
			}
		}
	}
	switch {
	case !haveID:
		return r.errAt(jgfNodeAt(i, "id"), "required")
	case !haveMeta:
		return r.errAt(jgfNodeAt(i, "metadata"), "required")
	case m.have&jgfMType == 0:
		return r.errAt(jgfNodeAt(i, "metadata.type"), "required")
	case m.have&jgfMPaths == 0:
		return r.errAt(jgfNodeAt(i, "metadata.paths"), "required")
	case m.path == "":
		return r.errAt(jgfNodeAt(i, "metadata.paths.containment"), "required")
	}

	// apply_defaults, in Fluxion's order.
	v := Vertex{Type: m.typ, Rank: -1, Size: 1, Status: m.status, Exclusive: m.exclusive, Parent: NoVertex}
	if m.have&jgfMUniq != 0 {
		v.UniqID = m.uniq
	} else {
		u, err := strconv.ParseInt(string(outer), 10, 64)
		if err != nil {
			return r.errAt(jgfNodeAt(i, "metadata.uniq_id"), "required, since id %s is not an integer", quoted(outer))
		}
		v.UniqID = u
	}
	if m.have&jgfMID != 0 {
		v.ID = m.id
	} else {
		v.ID = v.UniqID
		if v.Type == "node" && m.have&jgfMName != 0 {
			if d := TrailingDigits(m.name); d != "" {
				id, err := strconv.ParseInt(d, 10, 64)
				if err != nil {
					return r.errAt(jgfNodeAt(i, "metadata.name"), "trailing digits of %s are out of range for an id", quoted(m.name))
				}
				v.ID = id
			}
		}
	}
	v.Basename = v.Type
	if m.have&jgfMBasename != 0 {
		v.Basename = m.basename
	}
	if m.have&jgfMName != 0 {
		v.Name = m.name
	} else {
		r.scr = strconv.AppendInt(append(r.scr[:0], v.Basename...), v.ID, 10)
		v.Name = r.internBytes(r.scr)
	}
	v.Unit = m.unit
	if m.have&jgfMSize != 0 {
		v.Size = m.size
	}
	if m.have&jgfMRank != 0 {
		v.Rank = m.rank
	}
	v.Path = m.path
	v.OtherPaths = m.other
	v.Properties = m.props
	if !pathValid(v.Path) {
		return r.errAt(jgfNodeAt(i, "metadata.paths.containment"), "malformed path %s, want \"/<name>[/<name>...]\"", quoted(v.Path))
	}

	id := VertexID(len(r.verts))
	// Duplicates: outer id first (as Fluxion), then uniq_id, then path.
	if prev, dup := r.byOuter(outer); dup {
		return r.errAt(jgfNodeAt(i, "id"), "duplicate %s (also graph.nodes[%d])", quoted(outer), prev)
	}
	if prev, dup := r.byUniq(v.UniqID); dup {
		return r.errAt(jgfNodeAt(i, ""), "duplicate uniq_id %d (also graph.nodes[%d])", v.UniqID, prev)
	}
	if u, ok := r.canonicalInt(outer); !ok || u != v.UniqID {
		o := string(outer)
		if r.ids == nil {
			r.ids = make(map[string]VertexID)
			r.outerNC = make(map[VertexID]string)
		}
		r.ids[o] = id
		r.outerNC[id] = o
	}
	if r.uniqIsIndex && v.UniqID != int64(id) {
		r.uniqIsIndex = false
		r.uniq = make(map[int64]VertexID, cap(r.verts))
		for k := range r.verts {
			r.uniq[int64(k)] = VertexID(k)
		}
	}
	if !r.uniqIsIndex {
		r.uniq[v.UniqID] = id
	}
	r.verts = append(r.verts, v)
	return nil
}

// TrailingDigits returns the run of ASCII digits ending s (Fluxion's
// "(\d+$)" on a node's name).
func TrailingDigits(s string) string {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[i:]
}

func (r *jgfReader) readMeta(i int, m *jgfMeta) error {
	s := &r.s
	if s.kind() != jgfObject {
		return r.want(jgfNodeAt(i, "metadata"), "object")
	}
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		bit, field := jgfMetaKey(key)
		if bit == 0 {
			if err := s.skip(0); err != nil {
				return err
			}
			continue
		}
		at := jgfPath{"graph.nodes", i, "metadata", field}
		if m.have&bit != 0 {
			return r.errAt(at, "duplicate key")
		}
		m.have |= bit
		switch bit {
		case jgfMType, jgfMBasename, jgfMName, jgfMUnit:
			if s.kind() != jgfString {
				return r.want(at, "string")
			}
			b, err := s.str(&s.vscratch)
			if err != nil {
				return err
			}
			str := r.internBytes(b)
			switch bit {
			case jgfMType:
				if str == "" {
					return r.errAt(at, "must not be empty")
				}
				m.typ = rtype.Canonical(str)
			case jgfMBasename:
				m.basename = str
			case jgfMName:
				m.name = str
			default:
				m.unit = str
			}
		case jgfMID, jgfMUniq, jgfMRank, jgfMSize:
			n, err := r.readInt(at)
			if err != nil {
				return err
			}
			switch bit {
			case jgfMID:
				m.id = n
			case jgfMUniq:
				m.uniq = n
			case jgfMRank:
				if n < -1 || n > jgfMaxRank {
					return r.errAt(at, "%d out of range: a broker rank is -1 (none) or 0 .. %d", n, jgfMaxRank)
				}
				m.rank = n
			default:
				if n < 0 {
					return r.errAt(at, "must be >= 0, got %d", n)
				}
				m.size = n
			}
		case jgfMStatus:
			if err := r.readStatus(at, m); err != nil {
				return err
			}
		case jgfMExclusive:
			switch k := s.kind(); k {
			case jgfTrue, jgfFalse:
				if err := s.literal(k); err != nil {
					return err
				}
				m.exclusive = k == jgfTrue
			default:
				return r.want(at, "boolean")
			}
		case jgfMPaths:
			if err := r.readPaths(at, m); err != nil {
				return err
			}
		case jgfMProps:
			if s.kind() == jgfNull {
				if err := s.literal(jgfNull); err != nil {
					return err
				}
				continue
			}
			props, err := r.readStringMap(at)
			if err != nil {
				return err
			}
			if len(props) > 0 {
				m.props = props
			}
		}
	}
}

func (r *jgfReader) readInt(at jgfPath) (int64, error) {
	s := &r.s
	if s.kind() != jgfNumber {
		return 0, r.want(at, "integer")
	}
	raw, isInt, err := s.number()
	if err != nil {
		return 0, err
	}
	if !isInt {
		return 0, r.errAt(at, "want integer, got %s", ShortJSON(raw))
	}
	n, ok := jgfParseInt(raw)
	if !ok {
		return 0, r.errAt(at, "integer %s out of range", ShortJSON(raw))
	}
	return n, nil
}

func (r *jgfReader) readStatus(at jgfPath, m *jgfMeta) error {
	s := &r.s
	const want = `0, 1, "up" or "down"`
	start := s.pos
	switch s.kind() {
	case jgfNumber:
		raw, isInt, err := s.number()
		if err != nil {
			return err
		}
		if isInt && len(raw) == 1 && (raw[0] == '0' || raw[0] == '1') {
			m.status = Status(raw[0] - '0')
			return nil
		}
		return r.errAt(at, "want %s, got %s", want, ShortJSON(raw))
	case jgfString:
		b, err := s.str(&s.vscratch)
		if err != nil {
			return err
		}
		switch string(b) {
		case "up":
			m.status = StatusUp
			return nil
		case "down":
			m.status = StatusDown
			return nil
		}
		return r.errAt(at, "want %s, got %s", want, ShortJSON(s.buf[start:s.pos]))
	}
	return r.want(at, want)
}

func (r *jgfReader) readPaths(at jgfPath, m *jgfMeta) error {
	s := &r.s
	if s.kind() != jgfObject {
		return r.want(at, "object")
	}
	seenContainment := false
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if string(key) == "containment" {
			kat := jgfPath{at.arr, at.i, "metadata.paths", "containment"}
			if seenContainment {
				return r.errAt(kat, "duplicate key")
			}
			seenContainment = true
			if s.kind() != jgfString {
				return r.want(kat, "string")
			}
			b, err := s.str(&s.vscratch)
			if err != nil {
				return err
			}
			if len(b) == 0 {
				return r.errAt(kat, "malformed path \"\", want \"/<name>[/<name>...]\"")
			}
			m.path = string(b)
			continue
		}
		name := string(key)
		kat := jgfPath{at.arr, at.i, "metadata.paths", name}
		if _, dup := m.other[name]; dup {
			return r.errAt(kat, "duplicate key")
		}
		if s.kind() != jgfString {
			return r.want(kat, "string")
		}
		b, err := s.str(&s.vscratch)
		if err != nil {
			return err
		}
		if m.other == nil {
			m.other = make(map[string]string, 1)
		}
		m.other[name] = string(b)
	}
}

// readStringMap reads metadata.properties.
func (r *jgfReader) readStringMap(at jgfPath) (map[string]string, error) {
	s := &r.s
	if s.kind() != jgfObject {
		return nil, r.want(at, "object")
	}
	var out map[string]string
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		name := string(key)
		kat := jgfPath{at.arr, at.i, "metadata.properties", name}
		if _, dup := out[name]; dup {
			return nil, r.errAt(kat, "duplicate key")
		}
		if s.kind() != jgfString {
			return nil, r.want(kat, "string")
		}
		b, err := s.str(&s.vscratch)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make(map[string]string, 1)
		}
		out[name] = string(b)
	}
}

func (r *jgfReader) readEdges() error {
	s := &r.s
	if s.kind() != jgfArray {
		return r.want(jgfKeyAt("graph.edges"), "array")
	}
	for j := 0; ; j++ {
		more, err := s.arrayNext(j)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := r.readEdge(j); err != nil {
			return err
		}
	}
}

func (r *jgfReader) readEdge(j int) error {
	s := &r.s
	if s.kind() != jgfObject {
		return r.want(jgfEdgeAt(j, ""), "object")
	}
	ends := [2]VertexID{NoVertex, NoVertex} // source, target
	haveMeta := false
	containment := true
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch string(key) {
		case "source", "target":
			e, field := 0, "source"
			if key[0] == 't' {
				e, field = 1, "target"
			}
			if ends[e] != NoVertex {
				return r.errAt(jgfEdgeAt(j, field), "duplicate key")
			}
			if s.kind() != jgfString {
				return r.want(jgfEdgeAt(j, field), "string")
			}
			b, err := s.str(&s.vscratch)
			if err != nil {
				return err
			}
			v, ok := r.byOuter(b)
			if !ok {
				return r.errAt(jgfEdgeAt(j, field), "unknown vertex %s", quoted(b))
			}
			ends[e] = v
		case "metadata":
			if haveMeta {
				return r.errAt(jgfEdgeAt(j, "metadata"), "duplicate key")
			}
			haveMeta = true
			sub, err := r.readEdgeMeta(j)
			if err != nil {
				return err
			}
			containment = sub
		default:
			if err := s.skip(0); err != nil {
				return err
			}
		}
	}
	src, tgt := ends[0], ends[1]
	switch {
	case src == NoVertex:
		return r.errAt(jgfEdgeAt(j, "source"), "required")
	case tgt == NoVertex:
		return r.errAt(jgfEdgeAt(j, "target"), "required")
	case !containment:
		return nil
	case src == tgt:
		return r.errAt(jgfEdgeAt(j, ""), "source and target are both %s (%s): a containment cycle", quoted(r.outerOf(src)), quoted(r.verts[src].Path))
	}
	ps, pt := r.verts[src].Path, r.verts[tgt].Path
	parent, child, d := src, tgt, uint8(1)
	switch {
	case pathIsChild(ps, pt):
	case pathIsChild(pt, ps):
		parent, child, d = tgt, src, 2
	case pathIsAncestor(pt, ps):
		return r.errAt(jgfEdgeAt(j, ""), "containment edge %s -> %s leads from %s up to its ancestor %s: a containment cycle",
			quoted(r.outerOf(src)), quoted(r.outerOf(tgt)), quoted(ps), quoted(pt))
	default:
		return r.errAt(jgfEdgeAt(j, ""), "containment edge %s -> %s joins %s and %s, which are not parent and child",
			quoted(r.outerOf(src)), quoted(r.outerOf(tgt)), quoted(ps), quoted(pt))
	}
	if r.dir[child]&d != 0 {
		return r.errAt(jgfEdgeAt(j, ""), "duplicate edge %s -> %s", quoted(r.outerOf(src)), quoted(r.outerOf(tgt)))
	}
	if r.dir[child] == 0 {
		r.verts[child].Parent = parent
		r.order = append(r.order, child)
	}
	r.dir[child] |= d
	return nil
}

// readEdgeMeta reads an edge's metadata and reports whether the edge is in
// the containment subsystem.
func (r *jgfReader) readEdgeMeta(j int) (bool, error) {
	s := &r.s
	if s.kind() != jgfObject {
		return false, r.want(jgfEdgeAt(j, "metadata"), "object")
	}
	containment, seen := true, false
	for k := 0; ; k++ {
		key, more, err := s.objectNext(k)
		if err != nil {
			return false, err
		}
		if !more {
			return containment, nil
		}
		if string(key) != "subsystem" {
			if err := s.skip(0); err != nil {
				return false, err
			}
			continue
		}
		if seen {
			return false, r.errAt(jgfEdgeAt(j, "metadata.subsystem"), "duplicate key")
		}
		seen = true
		if s.kind() != jgfString {
			return false, r.want(jgfEdgeAt(j, "metadata.subsystem"), "string")
		}
		b, err := s.str(&s.vscratch)
		if err != nil {
			return false, err
		}
		containment = string(b) == "containment"
	}
}

// finish finds the root and builds the graph.
func (r *jgfReader) finish() (*Graph, error) {
	root := NoVertex
	for i := range r.verts {
		v := &r.verts[i]
		if v.Parent != NoVertex {
			continue
		}
		if pp := pathParent(v.Path); pp != "" {
			return nil, r.errAt(jgfNodeAt(i, ""), "no containment edge joins %s to its parent %s (graph.nodes[%d])", quoted(v.Path), quoted(pp), r.pathAt(pp))
		}
		if root != NoVertex {
			return nil, r.errAt(jgfNodeAt(i, ""), "second root %s (first is graph.nodes[%d], %s); want exactly one", quoted(v.Path), root, quoted(r.verts[root].Path))
		}
		root = VertexID(i)
	}
	if err := r.checkTotals(); err != nil {
		return nil, err
	}
	if cap(r.verts) > len(r.verts)+len(r.verts)/8+16 { // release an over-estimate
		r.verts = append([]Vertex(nil), r.verts...)
	}
	g := &Graph{Vertices: r.verts, Root: root, byPath: r.paths, byUniq: r.uniq, uniqIsIndex: r.uniqIsIndex}
	if err := g.build(r.order); err != nil {
		return nil, fmt.Errorf("%s: %w", r.file, err)
	}
	return g, nil
}

// checkTotals refuses sizes whose sum over the vertices of one type
// overflows int64: the matcher's planners count the units of a type below
// each vertex, the root's being the sum over the graph.
func (r *jgfReader) checkTotals() error {
	big := int64(0)
	for i := range r.verts {
		big = max(big, r.verts[i].Size)
	}
	if big <= math.MaxInt64/int64(len(r.verts)) {
		return nil // no sum can overflow
	}
	total := map[string]int64{}
	for i := range r.verts {
		v := &r.verts[i]
		t := total[v.Type]
		if t > math.MaxInt64-v.Size {
			return r.errAt(jgfNodeAt(i, "metadata.size"), "%d: the sizes of the %s vertices add up to more than %d", v.Size, quoted(v.Type), int64(math.MaxInt64))
		}
		total[v.Type] = t + v.Size
	}
	return nil
}

// pathIsAncestor reports whether a is a proper ancestor path of b.
func pathIsAncestor(a, b string) bool {
	return len(b) > len(a)+1 && b[len(a)] == '/' && b[:len(a)] == a
}

// WriteJGF writes g as canonical JGF that ReadJGF reads back to an equal
// graph and that Fluxion's JGF reader accepts: one vertex or edge per line;
// vertices in VertexID order, each with every metadata field spelled out
// (type, basename, name, id, uniq_id, rank, exclusive, unit, size, then
// "status": 1 for a down vertex, then paths with containment first and other
// subsystems by key, then properties by key if any); the outer id is the
// uniq_id; then one parent->child containment edge per non-root vertex,
// grouped by parent in VertexID order, children in sibling order. The output
// is a function of the graph alone, so repeated writes are byte-identical.
func (g *Graph) WriteJGF(w io.Writer) error {
	const flushAt = 64 << 10
	buf := make([]byte, 0, flushAt+4096)
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	buf = append(buf, `{"graph":{"nodes":[`...)
	for i := range g.Vertices {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		buf = appendJGFVertex(buf, &g.Vertices[i])
		if len(buf) >= flushAt {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	buf = append(buf, "\n],\"edges\":["...)
	first := true
	for i := range g.Vertices {
		p := g.Vertices[i].UniqID
		for _, c := range g.Vertices[i].Children {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = append(buf, "\n{\"source\":\""...)
			buf = strconv.AppendInt(buf, p, 10)
			buf = append(buf, `","target":"`...)
			buf = strconv.AppendInt(buf, g.Vertices[c].UniqID, 10)
			buf = append(buf, `","metadata":{"subsystem":"containment"}}`...)
			if len(buf) >= flushAt {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	buf = append(buf, "\n]}}\n"...)
	return flush()
}

func appendJGFVertex(b []byte, v *Vertex) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, v.UniqID, 10)
	b = append(b, `","metadata":{"type":`...)
	b = AppendJSONString(b, v.Type)
	b = append(b, `,"basename":`...)
	b = AppendJSONString(b, v.Basename)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, v.Name)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, v.ID, 10)
	b = append(b, `,"uniq_id":`...)
	b = strconv.AppendInt(b, v.UniqID, 10)
	b = append(b, `,"rank":`...)
	b = strconv.AppendInt(b, v.Rank, 10)
	b = append(b, `,"exclusive":`...)
	b = strconv.AppendBool(b, v.Exclusive)
	b = append(b, `,"unit":`...)
	b = AppendJSONString(b, v.Unit)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, v.Size, 10)
	if v.Status == StatusDown {
		b = append(b, `,"status":1`...)
	}
	b = append(b, `,"paths":{"containment":`...)
	b = AppendJSONString(b, v.Path)
	if len(v.OtherPaths) > 0 {
		for _, k := range SortedKeys(v.OtherPaths) {
			if k == "containment" {
				continue
			}
			b = append(b, ',')
			b = AppendJSONString(b, k)
			b = append(b, ':')
			b = AppendJSONString(b, v.OtherPaths[k])
		}
	}
	b = append(b, '}')
	if len(v.Properties) > 0 {
		b = append(b, `,"properties":{`...)
		for n, k := range SortedKeys(v.Properties) {
			if n > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, k)
			b = append(b, ':')
			b = AppendJSONString(b, v.Properties[k])
		}
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
