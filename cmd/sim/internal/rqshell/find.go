package rqshell

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/convergesim/converge/policies/fluxion/graph"
)

// find: resource-query's "find CRITERIA". CRITERIA is a sequence of
// predicates KEY=VALUE and parenthesised sub-expressions joined by "and"
// or "or" (a missing joiner is "and"), folded left to right without
// precedence, as Fluxion's expression evaluator does. The traversal
// visits the containment tree depth first and emits every vertex that
// meets the criteria or has a descendant that does, children first, each
// as held exclusively with all its units; a down, allocated or reserved
// vertex makes its whole subtree so. The output is the shell's match
// format, then the EXPRESSION block.

var errCriteria = errors.New("invalid criteria")

// vertexState is what a predicate sees of a vertex.
type vertexState struct {
	v                         *graph.Vertex
	id                        graph.VertexID
	down, allocated, reserved bool // the vertex or an ancestor is
	alloc, resv, tags, spans  map[graph.VertexID][]uint64
}

// expr is a parsed criteria expression: a first term, then (op, term)
// pairs folded left to right.
type expr struct {
	terms []term
	ors   []bool // ors[i] joins terms[i] and terms[i+1]: true for or
}

type term struct {
	sub        *expr
	key, value string // a predicate; value lowercased except for job ids
	hosts      map[string]bool
	job        uint64
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// parseExpr parses e as Fluxion's expr_eval_api_t reads it.
func parseExpr(e string) (*expr, error) {
	x := &expr{}
	t, at, err := parseTerm(e, 0)
	if err != nil {
		return nil, err
	}
	x.terms = append(x.terms, t)
	last := len(strings.TrimRight(e, " \t")) - 1
	for at <= last {
		if !isBlank(e[at]) {
			return nil, errCriteria
		}
		nws := at
		for nws < len(e) && isBlank(e[nws]) {
			nws++
		}
		xws := nws
		for xws < len(e) && !isBlank(e[xws]) {
			xws++
		}
		or := false
		switch e[nws:xws] {
		case "and":
			at = xws
		case "or":
			or, at = true, xws
		}
		t, next, err := parseTerm(e, at)
		if err != nil {
			return nil, err
		}
		x.terms = append(x.terms, t)
		x.ors = append(x.ors, or)
		at = next
	}
	return x, nil
}

// parseTerm reads a predicate or a parenthesised expression at e[at:]
// (after blanks) and returns where it ends.
func parseTerm(e string, at int) (term, int, error) {
	tok := at
	for tok < len(e) && isBlank(e[tok]) {
		tok++
	}
	if tok == len(e) {
		return term{}, 0, errCriteria
	}
	if e[tok] == '(' {
		bal, pa := 1, tok+1
		for bal > 0 {
			i := strings.IndexAny(e[pa:], "()")
			if i < 0 {
				return term{}, 0, errCriteria
			}
			pa += i
			if e[pa] == ')' {
				bal--
			} else {
				bal++
			}
			pa++
		}
		sub, err := parseExpr(e[tok+1 : pa-1])
		if err != nil {
			return term{}, 0, err
		}
		return term{sub: sub}, pa, nil
	}
	end := tok
	for end < len(e) && !isBlank(e[end]) {
		end++
	}
	t, err := parsePredicate(e[tok:end])
	return t, end, err
}

func parsePredicate(p string) (term, error) {
	key, value, ok := strings.Cut(p, "=")
	if !ok {
		return term{}, errCriteria
	}
	lc := strings.ToLower(value)
	t := term{key: key, value: lc}
	valid := false
	switch key {
	case "status":
		valid = lc == "down" || lc == "up"
	case "sched-now":
		valid = lc == "allocated" || lc == "free"
	case "sched-future":
		valid = lc == "reserved" || lc == "free"
	case "jobid-alloc", "jobid-span", "jobid-tag", "jobid-reserved":
		id, err := strconv.ParseUint(value, 10, 64)
		valid, t.job = err == nil, id
	case "agfilter":
		valid = lc == "true" || lc == "t" || lc == "false" || lc == "f"
	case "names":
		hosts, err := decodeHostlist(lc)
		valid, t.hosts = err == nil, hosts
	case "property":
		valid = lc != ""
	}
	if !valid {
		return term{}, errCriteria
	}
	return t, nil
}

func (x *expr) eval(st *vertexState) bool {
	r := x.terms[0].eval(st)
	for i, or := range x.ors {
		r2 := x.terms[i+1].eval(st)
		if or {
			r = r || r2
		} else {
			r = r && r2
		}
	}
	return r
}

func (t *term) eval(st *vertexState) bool {
	if t.sub != nil {
		return t.sub.eval(st)
	}
	has := func(m map[graph.VertexID][]uint64) bool {
		for _, j := range m[st.id] {
			if j == t.job {
				return true
			}
		}
		return false
	}
	switch t.key {
	case "status":
		return st.down == (t.value == "down")
	case "sched-now":
		return st.allocated == (t.value == "allocated")
	case "sched-future":
		return st.reserved == (t.value == "reserved")
	case "jobid-alloc":
		return has(st.alloc)
	case "jobid-reserved":
		return has(st.resv)
	case "jobid-span":
		return has(st.spans)
	case "jobid-tag":
		return has(st.tags)
	case "names":
		return t.hosts[st.v.Name]
	case "property":
		_, ok := st.v.Properties[t.value]
		return ok
	}
	return false
}

func (x *expr) uses(key string) bool {
	for i := range x.terms {
		if t := &x.terms[i]; t.key == key || (t.sub != nil && t.sub.uses(key)) {
			return true
		}
	}
	return false
}

// decodeHostlist expands an RFC 29 hostlist ("node[0-3,7],login1").
func decodeHostlist(s string) (map[string]bool, error) {
	out := map[string]bool{}
	depth, start := 0, 0
	var parts []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth < 0 {
				return nil, errCriteria
			}
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errCriteria
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		if p == "" {
			continue
		}
		open := strings.IndexByte(p, '[')
		if open < 0 {
			out[p] = true
			continue
		}
		end := strings.IndexByte(p, ']')
		if end < open || strings.ContainsAny(p[end+1:], "[]") {
			return nil, errCriteria
		}
		prefix, suffix := p[:open], p[end+1:]
		for _, r := range strings.Split(p[open+1:end], ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.ParseUint(lo, 10, 63)
			b, err2 := strconv.ParseUint(hi, 10, 63)
			if err1 != nil || err2 != nil || b < a || b-a > 1<<20 {
				return nil, errCriteria
			}
			for n := a; n <= b; n++ {
				d := strconv.FormatUint(n, 10)
				if len(lo) > 1 && lo[0] == '0' && len(d) < len(lo) {
					d = strings.Repeat("0", len(lo)-len(d)) + d
				}
				out[prefix+d+suffix] = true
			}
		}
	}
	return out, nil
}

func (s *Shell) cmdFind(args []string, out, errOut io.Writer) {
	if len(args) < 2 {
		fmt.Fprintln(errOut, "ERROR: malformed command: ")
		return
	}
	criteria := strings.Join(args[1:], " ")
	x, err := parseExpr(criteria)
	if err != nil {
		fmt.Fprintf(errOut, "findfind: invalid criteria: %s.\n", criteria)
		return
	}
	if x.uses("agfilter") {
		fmt.Fprintln(errOut, "find: ERROR: agfilter (pruning filter usage) is not modelled by sim fluxion")
		return
	}
	st := s.jobState()
	sel := selection{}
	var rec func(v graph.VertexID, level int, down, allocated, reserved bool) int
	rec = func(v graph.VertexID, level int, down, allocated, reserved bool) int {
		vx := s.g.Vertex(v)
		down = down || vx.Status == graph.StatusDown
		allocated = allocated || len(st.alloc[v]) > 0
		reserved = reserved || len(st.resv[v]) > 0
		n := 0
		for _, c := range s.g.Children(v) {
			if k := rec(c, level+1, down, allocated, reserved); k > 0 {
				sel.edges = append(sel.edges, [2]graph.VertexID{v, c})
				n += k
			}
		}
		vs := vertexState{v: vx, id: v, down: down, allocated: allocated, reserved: reserved,
			alloc: st.alloc, resv: st.resv, tags: st.tags, spans: st.spans}
		if !x.eval(&vs) && n == 0 {
			return 0
		}
		sel.vs = append(sel.vs, emitted{v, level, vx.Size, true})
		return n + 1
	}
	rec(s.g.Root, 1, false, false, false)
	r, ok := s.write(sel)
	if !ok {
		fmt.Fprintln(errOut, "find: ERROR: find writer emit: Invalid argument")
		return
	}
	io.WriteString(out, r)
	fmt.Fprintf(out, "%sINFO: EXPRESSION=\"%s\"\n%s", rule, criteria, rule)
}

// jobState is, per vertex, the live jobs that hold it: exclusively
// (alloc, or resv for a match reserved for later), at all (tags: the
// vertices Fluxion's update walk visits), and in a pruning filter
// (spans: a tagged vertex with a filter and allocated vertices below).
func (s *Shell) jobState() vertexState {
	st := vertexState{alloc: map[graph.VertexID][]uint64{}, resv: map[graph.VertexID][]uint64{},
		tags: map[graph.VertexID][]uint64{}, spans: map[graph.VertexID][]uint64{}}
	for _, id := range s.m.Jobs() {
		a, err := s.m.Info(id)
		if err != nil {
			continue
		}
		// A match that starts later is booked as a reservation; an
		// update always as an allocation (its jobmeta keeps AT_ALLOC).
		resv := a.Reserved && !(s.jobs[id] != nil && s.jobs[id].update)
		below := map[graph.VertexID]bool{} // has an allocated vertex below it
		for _, av := range a.Vertices {
			if av.Exclusive {
				if resv {
					st.resv[av.ID] = append(st.resv[av.ID], id)
				} else {
					st.alloc[av.ID] = append(st.alloc[av.ID], id)
				}
			}
			for p := s.g.Vertex(av.ID).Parent; p != graph.NoVertex && !below[p]; p = s.g.Vertex(p).Parent {
				below[p] = true
			}
		}
		tag := func(v graph.VertexID) {
			st.tags[v] = append(st.tags[v], id)
			vx := s.g.Vertex(v)
			if below[v] && len(s.g.Children(v)) > 0 && (s.filterAll || s.filterTypes[vx.Type] || vx.Type == "cluster") {
				st.spans[v] = append(st.spans[v], id)
			}
		}
		for _, v := range a.Path {
			tag(v)
		}
		for _, av := range a.Vertices {
			tag(av.ID)
		}
	}
	return st
}
