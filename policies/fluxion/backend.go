package fluxion

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// Backend is a Fluxion matcher behind a byte-level API shaped after
// flux-sched's reapi_cli: the pure-Go model (NewGoBackend, OpenBackend
// "go") or, in a build with -tags fluxion, flux-sched's own libreapi_cli
// through cgo (OpenBackend "reapi"; see docs/fluxion-reapi.md).
//
// Errors of Match, Cancel and Info wrap ErrBusy (EBUSY), ErrUnsatisfiable
// (ENODEV), ErrInvalid (EINVAL) or ErrNoJob (ENOENT), so callers tell them
// apart with errors.Is or MatchErrno. A Backend is safe for concurrent use
// (calls are serialised).
type Backend interface {
	// Match runs op for the jobspec (RFC 14/25 YAML or JSON text) at time
	// now. The allocating ops record the job under the next id of the
	// backend's counter (which starts at 1), as reapi_cli_match does.
	// MatchSatisfiability returns a result with an empty R when the
	// request is satisfiable.
	//
	// libreapi_cli has no clock (every match is evaluated at time 0), so
	// the reapi backend accepts only now == 0 and returns ErrInvalid
	// otherwise; the Go backend accepts any now inside its graph window.
	Match(op match.MatchOp, spec []byte, now int64) (*MatchResult, error)
	// Cancel frees a job's allocation or reservation; ErrNoJob if the
	// backend holds no job with that id.
	Cancel(jobID uint64) error
	// Info reports a job (reapi_cli_info); ErrNoJob if unknown.
	Info(jobID uint64) (*JobInfo, error)
	// UpdateAllocate re-installs a known allocation from its R under
	// jobID (reapi_cli_update_allocate): RFC 20 R with or without the
	// scheduling JGF, or a bare JGF; see Matcher.UpdateAllocate for the
	// times (the reapi backend accepts only now == 0). It returns the
	// installed allocation as a MatchResult in the backend's format.
	// ErrJobExists if jobID is allocated or reserved, ErrBusy if the
	// resources are not free, ErrInvalid for a malformed R.
	UpdateAllocate(jobID uint64, R []byte, now int64) (*MatchResult, error)
	// PartialCancel releases the part of an allocation R names
	// (reapi_cli_partial_cancel with noent_ok false) and reports whether
	// nothing is left (the job is then gone); see Matcher.PartialCancel.
	// ErrNoJob if jobID is not an allocation.
	PartialCancel(jobID uint64, R []byte) (fullRemoval bool, err error)
	// SetStatus marks the vertex at a containment path (and so its
	// subtree) up or down (reapi_cli_set_status); ErrInvalid if there is
	// no such vertex.
	SetStatus(path string, up bool) error
	// Close releases the backend; later calls fail with ErrInvalid.
	Close() error
}

// MatchResult is the outcome of a successful Backend.Match.
type MatchResult struct {
	// JobID is the id the match was recorded under: the counter's value
	// for the allocating ops and satisfiability (which does not move it
	// on), math.MaxUint64 for without_allocating(_future), as
	// reapi_cli_match.
	JobID uint64
	// Reserved is true if the job was reserved to start in the future
	// (At > now); always false for without_allocating_future.
	Reserved bool
	At       int64   // start time (reapi: 0 = now)
	Overhead float64 // seconds spent matching, as reapi_cli reports ov
	// R is the matched resource set in Format; empty for
	// MatchSatisfiability.
	R      []byte
	Format string // FormatRV1, FormatRV1NoSched or FormatJGF
}

// JobInfo is a job as Backend.Info reports it.
type JobInfo struct {
	JobID uint64
	// Mode is reapi_cli_info's state string: "ALLOCATED", "RESERVED",
	// "CANCELED" (the Go backend keeps cancelled jobs; libreapi_cli may
	// not), or another string the library returns.
	Mode     string
	Reserved bool
	At       int64
	Overhead float64
}

// ErrBackendUnavailable is returned by OpenBackend for "reapi" in a build
// without the fluxion tag.
var ErrBackendUnavailable = errors.New("fluxion: the reapi backend needs a build with -tags fluxion and flux-sched's libreapi_cli (see docs/fluxion-reapi.md)")

// errClosed is returned by a closed backend.
var errClosed = fmt.Errorf("%w: backend is closed", match.ErrInvalid)

// Backend names for OpenBackend.
const (
	BackendGo    = "go"
	BackendReapi = "reapi"
)

// BackendNames lists the names OpenBackend knows. "reapi" is listed in
// every build; without the fluxion tag opening it fails with
// ErrBackendUnavailable (ReapiAvailable reports which build this is).
func BackendNames() []string { return []string{BackendGo, BackendReapi} }

// OpenBackend opens the named backend ("go" or "reapi") over a resource
// graph in JGF. For "go" the graph is read with ReadJGF and the options
// are those of NewMatcher. For "reapi" the JGF text is handed to
// reapi_cli_initialize with the options {"load_format":"jgf",
// "matcher_policy": opt.Policy or "first", "prune_filters":
// opt.PruneFilters or DefaultPruneFilters}, plus "match_format" if
// opt.MatchFormat is set; opt.GraphDuration must be 0 (or
// SystemMaxDuration), since the cli does not let one set it.
func OpenBackend(name string, graphJGF []byte, opt match.MatcherOptions) (Backend, error) {
	switch name {
	case BackendGo:
		g, err := graph.ReadJGF(bytes.NewReader(graphJGF), "graph")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", match.ErrInvalid, err)
		}
		return NewGoBackend(g, opt)
	case BackendReapi:
		return openReapi(graphJGF, opt)
	}
	return nil, fmt.Errorf("%w: unknown fluxion backend %q (want %q or %q)", match.ErrInvalid, name, BackendGo, BackendReapi)
}

// NewGoBackend returns the pure-Go Matcher over g as a Backend. Its R is
// in opt.MatchFormat; by default RFC 20 R without the scheduling key,
// reported as FormatRV1. g's statuses may be changed between calls
// (Graph.SetStatus, Backend.SetStatus); its structure must not.
func NewGoBackend(g *graph.Graph, opt match.MatcherOptions) (Backend, error) {
	m, err := match.NewMatcher(g, opt)
	if err != nil {
		return nil, err
	}
	return &goBackend{m: m}, nil
}

var _ Backend = (*goBackend)(nil)

type goBackend struct {
	mu sync.Mutex
	m  *match.Matcher // nil once closed
	// specs caches parsed jobspecs by their text: a simulation sends
	// the same few shapes over and over, and the matcher never changes
	// a Jobspec. Emptied when it reaches specCacheSize entries.
	specs map[string]*jobspec.Jobspec
}

const specCacheSize = 1024

func (b *goBackend) Match(op match.MatchOp, spec []byte, now int64) (*MatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return nil, errClosed
	}
	js := b.specs[string(spec)]
	if js == nil {
		var err error
		if js, err = jobspec.ParseJobspec(spec, "jobspec"); err != nil {
			if errors.Is(err, match.ErrInvalid) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", match.ErrInvalid, err)
		}
		if b.specs == nil || len(b.specs) >= specCacheSize {
			b.specs = map[string]*jobspec.Jobspec{}
		}
		b.specs[string(spec)] = js
	}
	start := time.Now()
	a, err := b.m.Match(op, js, now)
	ov := time.Since(start).Seconds()
	if err != nil {
		return nil, err
	}
	return b.result(a, ov), nil
}

// result renders a (nil for a satisfiability answer) in the matcher's
// match format; "" is RFC 20 R without scheduling, reported as FormatRV1.
func (b *goBackend) result(a *match.Allocation, ov float64) *MatchResult {
	res := &MatchResult{Overhead: ov, Format: b.m.MatchFormat()}
	if res.Format == "" {
		res.Format = match.FormatRV1
	}
	if a != nil {
		res.JobID, res.Reserved, res.At = a.JobID, a.Reserved, a.At
		res.R, _ = a.R(b.m.MatchFormat()) // the format was checked by NewMatcher
	} else {
		// satisfiability: reapi_cli_match reports the counter's current
		// value, which the op does not move on (reapi_cli.cpp:213).
		res.JobID = b.m.NextJobID()
	}
	return res
}

func (b *goBackend) UpdateAllocate(jobID uint64, R []byte, now int64) (*MatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return nil, errClosed
	}
	start := time.Now()
	a, err := b.m.UpdateAllocate(jobID, R, now)
	ov := time.Since(start).Seconds()
	if err != nil {
		return nil, err
	}
	return b.result(a, ov), nil
}

func (b *goBackend) PartialCancel(jobID uint64, R []byte) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return false, errClosed
	}
	return b.m.PartialCancel(jobID, R)
}

func (b *goBackend) SetStatus(path string, up bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return errClosed
	}
	st := graph.StatusDown
	if up {
		st = graph.StatusUp
	}
	if err := b.m.Graph().SetStatus(path, st); err != nil {
		return fmt.Errorf("%w: %w", match.ErrInvalid, err)
	}
	return nil
}

func (b *goBackend) Cancel(jobID uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return errClosed
	}
	return b.m.Cancel(jobID)
}

func (b *goBackend) Info(jobID uint64) (*JobInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		return nil, errClosed
	}
	a, err := b.m.Info(jobID)
	if err != nil {
		return nil, err
	}
	return &JobInfo{JobID: jobID, Mode: a.Mode(), Reserved: a.Reserved && !a.Canceled, At: a.At}, nil
}

func (b *goBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m = nil
	return nil
}

// RSummary is what a backend's R says about the allocated nodes: per node
// name, the number of allocated vertices of each leaf type (core, gpu).
// It is the common ground of FormatRV1 and FormatJGF used to compare
// backends.
type RSummary struct {
	Nodes map[string]map[string]int64 // node name -> type -> count
}

// NodeNames returns the allocated node names, sorted.
func (s *RSummary) NodeNames() []string {
	return slices.Sorted(maps.Keys(s.Nodes))
}

// Count returns the total number of allocated vertices of type typ.
func (s *RSummary) Count(typ string) int64 {
	var n int64
	for _, c := range s.Nodes {
		n += c[typ]
	}
	return n
}

// String renders the summary as "node0:core=2,gpu=1 node1:core=4".
func (s *RSummary) String() string {
	var parts []string
	for _, n := range s.NodeNames() {
		c := s.Nodes[n]
		types := make([]string, 0, len(c))
		for t := range c {
			types = append(types, t)
		}
		slices.Sort(types)
		var f []string
		for _, t := range types {
			f = append(f, t+"="+strconv.FormatInt(c[t], 10))
		}
		parts = append(parts, n+":"+strings.Join(f, ","))
	}
	return strings.Join(parts, " ")
}

// SummarizeR reads a MatchResult's R in the given format. For FormatRV1
// and FormatRV1NoSched it counts the core and gpu ids of each R_lite
// entry and maps ranks to the names of nodelist (RFC 29 hostlists, in
// sorted-rank order); a scheduling key is ignored. For FormatJGF it
// counts the vertices under each node vertex by their containment paths.
func SummarizeR(format string, r []byte) (*RSummary, error) {
	s := &RSummary{Nodes: map[string]map[string]int64{}}
	if len(bytes.TrimSpace(r)) == 0 {
		return s, nil
	}
	switch format {
	case match.FormatRV1, match.FormatRV1NoSched:
		return s, summarizeRV1(s, r)
	case match.FormatJGF:
		return s, summarizeJGF(s, r)
	}
	return nil, fmt.Errorf("fluxion: SummarizeR: unknown format %q", format)
}

func summarizeRV1(s *RSummary, r []byte) error {
	var rv match.RV1
	if err := json.Unmarshal(r, &rv); err != nil {
		return fmt.Errorf("fluxion: SummarizeR: %w", err)
	}
	var names []string
	for _, hl := range rv.Execution.Nodelist {
		n, err := match.ExpandHostlist(hl)
		if err != nil {
			return err
		}
		names = append(names, n...)
	}
	type entry struct {
		ranks    []int64
		children map[string]string
	}
	var all []int64
	var entries []entry
	for _, e := range rv.Execution.RLite {
		ranks, err := match.ExpandIDSet(e.Rank)
		if err != nil {
			return err
		}
		all = append(all, ranks...)
		entries = append(entries, entry{ranks, e.Children})
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(names) != 0 && len(names) != len(all) {
		return fmt.Errorf("fluxion: SummarizeR: %d ranks but %d names in nodelist", len(all), len(names))
	}
	for _, e := range entries {
		for _, rk := range e.ranks {
			name := "rank" + strconv.FormatInt(rk, 10)
			if len(names) > 0 {
				name = names[slices.Index(all, rk)]
			}
			c := s.Nodes[name]
			if c == nil {
				c = map[string]int64{}
				s.Nodes[name] = c
			}
			for t, set := range e.children {
				ids, err := match.ExpandIDSet(set)
				if err != nil {
					return err
				}
				c[t] += int64(len(ids))
			}
		}
	}
	return nil
}

func summarizeJGF(s *RSummary, r []byte) error {
	var doc struct {
		Graph struct {
			Nodes []struct {
				Metadata struct {
					Type     string            `json:"type"`
					Basename string            `json:"basename"`
					Name     string            `json:"name"`
					ID       *int64            `json:"id"`
					Paths    map[string]string `json:"paths"`
				} `json:"metadata"`
			} `json:"nodes"`
		} `json:"graph"`
	}
	if err := json.Unmarshal(r, &doc); err != nil {
		return fmt.Errorf("fluxion: SummarizeR: %w", err)
	}
	nodeAt := map[string]string{} // containment path -> node name
	for i := range doc.Graph.Nodes {
		md := &doc.Graph.Nodes[i].Metadata
		// The jgf match writer leaves out a name that is basename+id
		// (and a basename that is the type).
		if md.Name == "" && md.ID != nil {
			base := md.Basename
			if base == "" {
				base = md.Type
			}
			md.Name = base + strconv.FormatInt(*md.ID, 10)
		}
	}
	for _, n := range doc.Graph.Nodes {
		if n.Metadata.Type == "node" {
			nodeAt[n.Metadata.Paths["containment"]] = n.Metadata.Name
			if s.Nodes[n.Metadata.Name] == nil {
				s.Nodes[n.Metadata.Name] = map[string]int64{}
			}
		}
	}
	for _, n := range doc.Graph.Nodes {
		t := n.Metadata.Type
		if t != "core" && t != "gpu" {
			continue
		}
		p := n.Metadata.Paths["containment"]
		for p != "" {
			i := strings.LastIndexByte(p, '/')
			if i <= 0 {
				break
			}
			p = p[:i]
			if name, ok := nodeAt[p]; ok {
				s.Nodes[name][t]++
				break
			}
		}
	}
	return nil
}
