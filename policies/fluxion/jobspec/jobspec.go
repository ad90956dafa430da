package jobspec

import (
	"math"

	"github.com/convergesim/converge/internal/strictyaml"
)

// Jobspec is a parsed and validated job specification: RFC 14 (canonical
// jobspec) with the RFC 25 restrictions for version 1, read the way
// Fluxion's libjobspec reads it (flux-sched resource/libjobspec/jobspec.cpp).
// It is built only by ParseJobspec, which checks everything once, so code
// that matches it against a resource graph can trust it.
type Jobspec struct {
	// Version is the jobspec version, 1..9999. Version 1 is held to the
	// RFC 25 shapes; 2..9999 follow the looser canonical rules (see
	// ParseJobspec).
	Version int

	// Resources is the request: a forest of resource vertices.
	Resources []*Resource

	// Tasks says what runs in which slot (at least one task).
	Tasks []Task

	// Duration is attributes.system.duration in seconds (≥ 0, finite);
	// 0 means unset or unlimited, which Fluxion replaces by the whole
	// graph duration.
	Duration float64

	// DurationSeconds is Duration rounded up to whole seconds, as Fluxion
	// does before planning (jobmeta_t::build in
	// resource/traversers/dfu_impl.hpp uses std::ceil, so 0.2 s becomes
	// 1 s and never 0). It is 0 when Duration is 0.
	DurationSeconds int64

	// Queue is attributes.system.queue ("" if unset).
	Queue string

	// Constraints is attributes.system.constraints, an RFC 31 constraint
	// object kept as decoded YAML (nil if absent). Its structure has been
	// checked as Fluxion's constraint_parser checks it.
	Constraints map[string]any

	// System holds the other recognised attributes.system keys (cwd,
	// environment, shell, job, files, dependencies, ...) as decoded YAML,
	// or nil if there are none.
	System map[string]any

	// User is attributes.user as decoded YAML (nil if absent); its keys
	// are free-form.
	User map[string]any
}

// Resource is one vertex of the resource request.
type Resource struct {
	// Type is the resource type ("node", "slot", "core", "gpu", "memory",
	// "socket", "subnet", ...). "slot" is reserved: it groups the
	// resources of one task slot and is not a graph vertex.
	Type string

	// Count is how many are wanted.
	Count Count

	// Unit qualifies Count ("" if unset), e.g. "GB" for memory.
	Unit string

	// Label names the vertex; mandatory and unique for slots, optional
	// elsewhere (labels are unique across the whole jobspec).
	Label string

	// ID is the RFC 14 id key (a set of matching resource identifiers),
	// kept as written; "" if unset. Not allowed in version 1.
	ID string

	// Exclusive is the effective exclusivity. A slot, every resource in a
	// slot, and every resource below a vertex with exclusive: true are
	// exclusive (Fluxion propagates exclusivity down: dfu_impl_t::dom_dfv
	// and dom_slot); other resources are shared unless they say
	// exclusive: true.
	Exclusive bool

	// ExclusiveSet is true if the jobspec gave the exclusive key. When it
	// is set, Exclusive equals the value written: false is refused where
	// it cannot hold (on a slot, inside a slot, below an exclusive vertex).
	ExclusiveSet bool

	// With are the child vertices ("out" edges), nil for a leaf.
	With []*Resource
}

// Task is one entry of tasks.
type Task struct {
	// Command is the executable and its arguments (at least one string).
	Command []string

	// Slot is the label of the slot the tasks run in; it names a slot of
	// Resources.
	Slot string

	// Count says how many tasks run: exactly one of its fields is set.
	Count TaskCount

	// Distribution is the optional placement hint ("" if unset).
	Distribution string

	// Attributes is the task's free-form attributes mapping (nil if
	// unset).
	Attributes map[string]any
}

// TaskCount is a task's count: exactly one of PerSlot, Total and
// PerResource is set.
type TaskCount struct {
	// PerSlot is the number of tasks per allocated slot (0 if unset).
	PerSlot int64
	// Total is the total number of tasks across all slots (0 if unset).
	Total int64
	// PerResource is the RFC 14 per_resource form (nil if unset; not
	// allowed in version 1).
	PerResource *PerResource
}

// PerResource runs Count tasks per resource of Type in the task's slot.
type PerResource struct {
	Type  string
	Count int64
}

// JobspecError is a problem with a jobspec, located by file, line and field
// path (for example resources[0].with[1].count).
type JobspecError struct {
	File string // the name given to ParseJobspec ("" if none)
	Line int    // 1-based line, 0 if unknown
	Path string // field path, "" for the document as a whole
	Msg  string
	Err  error // underlying YAML syntax error, if any
}

func (e *JobspecError) Error() string {
	return strictyaml.Message(e.File, e.Line, e.Path, e.Msg)
}

func (e *JobspecError) Unwrap() error { return e.Err }

// Limits of the jobspec language as Fluxion implements it.
const (
	// MinJobspecVersion and MaxJobspecVersion bound version; Fluxion's
	// parser accepts exactly this range.
	MinJobspecVersion = 1
	MaxJobspecVersion = 9999

	// CountUnbounded is the Max of a count given as {min: N} alone: RFC 14
	// calls it infinite, Fluxion stores UINT_MAX. It is also the largest
	// count, min or max accepted.
	CountUnbounded int64 = math.MaxUint32

	// MaxCountOperand is the largest operand (Fluxion stores it in an int).
	MaxCountOperand int64 = math.MaxInt32
)

// ParseJobspec reads a jobspec from YAML or JSON (JSON is YAML) and checks
// it strictly. name is the file name used in error messages. Every problem
// is a *JobspecError naming the file, the line and the field path; no input
// makes it panic.
//
// Rules for every version (RFC 14, and Fluxion's libjobspec):
//   - the document is one mapping with exactly the keys version, resources,
//     tasks and attributes; version is an integer in 1..9999;
//   - resources and every with are non-empty lists of resource vertices
//     with the keys type, count, unit, label, exclusive, with, id; type and
//     count are required; a slot needs a label and at least one resource in
//     with; labels are unique;
//   - count is an integer in 1..CountUnbounded, or (version ≥ 2) a mapping
//     {min, max, operator, operand}: min ≥ 1; max, operator and operand
//     all or none (Fluxion's rule; defaults max CountUnbounded, "+", 1);
//     max ≥ min; operator one of + * ^; operand ≥ 1 for +, ≥ 2 for * and
//     ^; min ≥ 2 for ^;
//   - exclusive is true or false; false is refused on a slot, inside a
//     slot and below an exclusive vertex, where Fluxion fails the match
//     ("exclusivity conflicts", dfu_impl_t::by_excl);
//   - tasks is a non-empty list of {command, slot, count, distribution,
//     attributes}; command is a non-empty list of strings; slot names a
//     slot label; count has exactly one of per_slot, total (integers ≥ 1)
//     or per_resource {type, count} whose type occurs in the slot;
//     attributes is a mapping of single values (Fluxion reads them as
//     strings, so the nested environment of RFC 14 use case 2.7 fails
//     there and here);
//   - attributes is a mapping with keys system and user (or null, as
//     Fluxion allows); user is a free-form mapping; system keys must be
//     ones RFC 14 lists (or exec); duration is a finite number ≥ 0, queue
//     and cwd strings, environment a mapping, dependencies a list, and
//     constraints an RFC 31 constraint as Fluxion's constraint_parser
//     checks it;
//   - YAML aliases, duplicate keys and more than one document are errors.
//
// Version 1 (RFC 25) adds: exactly one top-level resource, node or slot; a
// node holds exactly one slot; a slot holds a core and optionally a gpu
// and a memory (each at most once, no deeper resources): slot>core,
// node>slot>core, slot>(core,gpu[,memory]), node>slot>(core,gpu[,memory]);
// memory is this project's extension, RFC 25 lists only core and gpu.
// Counts are plain integers; no id key; exclusive only on node and slot
// (RFC 25's text allows it on node, its schema on slot); exactly one
// task, with per_slot 1 or total, total ≥ the node count when a node is
// given (RFC 25 also caps total at the slot count, but its own use case
// 2.1 runs 5 tasks in 4 slots, so the cap is not enforced);
// attributes.system.duration is required.
//
// Versions 2..9999 relax exactly those version 1 checks, as Fluxion's
// parser does (it accepts any version in 1..9999 and never checks shapes):
// any resource types, any nesting and any number of top-level resources,
// count ranges, id, exclusive on any vertex, several tasks, per_slot of
// any size, per_resource, and no required duration. Fluence sends
// version 9999 with slot(count N, label default) > {core, memory, gpu},
// optionally under subnet:1 > node:1.
//
// Stricter than Fluxion's parser, for every version: counts must be ≥ 1
// (Fluxion takes an integer count of 0), labels must be unique and
// task slots must name a slot (RFC 14 MUSTs Fluxion does not check), with
// and command must not be empty, a slot must have resources, task counts
// must be positive integers, keys unknown to RFC 14 are errors in tasks
// and attributes.system (Fluxion keeps unknown system keys), strings must
// be YAML strings, and count strings (RFC 22 idsets, RFC 45 ranges) are
// refused, as Fluxion refuses them. Fluxion's DFU traverser further fails
// a match when two sibling vertices share a type or a slot has a sibling
// of the visited type (dfu_impl_t::match); that is the matcher's business,
// not the parser's.
func ParseJobspec(data []byte, name string) (*Jobspec, error) {
	p := &jsParser{file: name, labels: map[string]string{}, slots: map[string]*Resource{}}
	root, err := p.load(data)
	if err != nil {
		return nil, err
	}
	return p.jobspec(root)
}

// ---- helpers for matchers ----

// Slots returns the number of task slots the jobspec asks for (using
// minimum counts, multiplied down the tree and summed over all slot
// vertices) and the first slot vertex in depth-first order (nil if there
// is none). Version 1 and Fluence jobspecs have exactly one slot vertex.
func (js *Jobspec) Slots() (n int64, slot *Resource) {
	var walk func(rs []*Resource, mult int64)
	walk = func(rs []*Resource, mult int64) {
		for _, r := range rs {
			m := jsSatMul(mult, r.Count.Min)
			if r.Type == "slot" {
				n = jsSatAdd(n, m)
				if slot == nil {
					slot = r
				}
			}
			walk(r.With, m)
		}
	}
	walk(js.Resources, 1)
	return n, slot
}

// Totals returns, per resource type, how many units the jobspec needs at
// least: each vertex's minimum count multiplied by its ancestors' minimum
// counts, summed over vertices of that type. Fluxion primes its pruning
// filters the same way (dfu_impl_t::prime_jobspec uses count.min), so a
// subtree with fewer units of a type than its total cannot match. The map
// includes "slot". Products saturate at math.MaxInt64.
func (js *Jobspec) Totals() map[string]int64 {
	out := map[string]int64{}
	AddTotals(out, js.Resources, 1)
	return out
}

// AddTotals adds to out, per resource type, the units mult instances of
// the resources rs need at least (Totals of a part of a jobspec).
func AddTotals(out map[string]int64, rs []*Resource, mult int64) {
	for _, r := range rs {
		m := jsSatMul(mult, r.Count.Min)
		out[r.Type] = jsSatAdd(out[r.Type], m)
		AddTotals(out, r.With, m)
	}
}

func jsSatMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func jsSatAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
