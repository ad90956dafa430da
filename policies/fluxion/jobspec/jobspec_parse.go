package jobspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/policies/fluxion/internal/rtype"
)

// This file holds the jobspec parser behind ParseJobspec (jobspec.go).

// jsMaxDepth bounds the nesting of the YAML document.
const jsMaxDepth = 100

// Keys allowed at each level. Resource keys differ by version: RFC 25 drops
// id.
var (
	jsTopKeys        = []string{"version", "resources", "tasks", "attributes"}
	jsResourceKeys   = []string{"type", "count", "unit", "label", "exclusive", "with", "id"}
	jsResourceKeysV1 = []string{"type", "count", "unit", "label", "exclusive", "with"}
	jsCountKeys      = []string{"min", "max", "operator", "operand"}
	jsTaskKeys       = []string{"command", "slot", "count", "distribution", "attributes"}
	jsTaskCountKeys  = []string{"per_slot", "total", "per_resource"}
	jsPerResKeys     = []string{"type", "count"}
	jsAttributeKeys  = []string{"system", "user"}
	// jsSystemKeys are the attributes.system keys RFC 14 lists, plus exec
	// (flux-core's exec service options).
	jsSystemKeys = []string{
		"duration", "queue", "constraints", "cwd", "environment",
		"preemptible-after", "bank", "project", "dependencies", "job",
		"shell", "files", "exec",
	}
	jsConstraintOps = []string{"properties", "hostlist", "ranks", "and", "or", "not"}
)

var jsYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

type jsParser struct {
	file    string
	version int
	labels  map[string]string    // label → path of the vertex that has it
	slots   map[string]*Resource // slot label → slot
	nodes   int64                // V1: node count (0 if no node)
}

func (p *jsParser) errorf(n *yaml.Node, path, format string, args ...any) *JobspecError {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &JobspecError{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// load parses the YAML text into the root mapping node, refusing empty
// input, several documents, aliases and deep nesting.
func (p *jsParser) load(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &JobspecError{File: p.file, Msg: "empty document; a jobspec needs version, resources, tasks and attributes"}
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errorf(&extra, "", "a jobspec is one YAML document, found another")
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err)
	}
	if err := p.checkTree(&doc, 0); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &JobspecError{File: p.file, Msg: "empty document; a jobspec needs version, resources, tasks and attributes"}
	}
	return doc.Content[0], nil
}

func (p *jsParser) yamlError(err error) error {
	msg := err.Error()
	if m := jsYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &JobspecError{File: p.file, Line: line, Msg: "YAML: " + m[2], Err: err}
	}
	return &JobspecError{File: p.file, Msg: strings.Replace(msg, "yaml: ", "YAML: ", 1), Err: err}
}

func (p *jsParser) checkTree(n *yaml.Node, depth int) error {
	if depth > jsMaxDepth {
		return p.errorf(n, "", "nested more than %d levels deep", jsMaxDepth)
	}
	if n.Kind == yaml.AliasNode {
		return p.errorf(n, "", "YAML aliases (*%s) are not allowed in a jobspec", jsclip(n.Value))
	}
	for _, c := range n.Content {
		if err := p.checkTree(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// describe renders a node for "got ..." in messages.
func jsDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return "an empty list"
		}
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return jsquoted(n.Value)
		}
		return jsclip(n.Value)
	}
	return "nothing"
}

// jsJoin appends a key to a path; a long key (a hostile input's) is
// quoted and cut, so that no path in a message grows with the input.
func jsJoin(path, name string) string {
	name = jsclip(name)
	if path == "" {
		return name
	}
	return path + "." + name
}

func jsIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// jsField is one key of a mapping.
type jsField struct {
	key, val *yaml.Node
}

// fields checks that n is a mapping with string keys drawn from allowed,
// none twice, and returns them by name. what describes n for the "must be
// a mapping" message.
func (p *jsParser) fields(n *yaml.Node, path, what string, allowed []string) (map[string]jsField, error) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return nil, p.errorf(n, path, "a jobspec must be %s, got %s", what, jsDescribe(n))
		}
		return nil, p.errorf(n, path, "must be %s, got %s", what, jsDescribe(n))
	}
	out := make(map[string]jsField, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, path, "keys must be strings, got %s", jsDescribe(k))
		}
		kp := jsJoin(path, k.Value)
		if _, dup := out[k.Value]; dup {
			return nil, p.errorf(k, kp, "duplicate key")
		}
		if allowed != nil && !jsContains(allowed, k.Value) {
			return nil, p.errorf(k, kp, "unknown key; allowed: %s", strings.Join(allowed, ", "))
		}
		out[k.Value] = jsField{k, v}
	}
	return out, nil
}

func jsContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// intValue returns the integer of a YAML integer scalar. ok is false if n
// is not an integer; big is true for an integer beyond int64 (YAML resolves
// those as floats).
func jsInt(n *yaml.Node) (v int64, ok, big bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false, false
	}
	switch n.ShortTag() {
	case "!!int":
		if err := n.Decode(&v); err != nil {
			return 0, false, true
		}
		return v, true, false
	case "!!float":
		s := strings.TrimPrefix(strings.TrimPrefix(n.Value, "+"), "-")
		if s != "" && strings.Trim(s, "0123456789") == "" {
			return 0, false, true
		}
	}
	return 0, false, false
}

// positive reads an integer in [1, limit].
func (p *jsParser) positive(n *yaml.Node, path string, limit int64, want string) (int64, error) {
	v, ok, big := jsInt(n)
	switch {
	case big && !strings.HasPrefix(n.Value, "-"):
		return 0, p.errorf(n, path, "must be at most %d, got %s", limit, jsclip(n.Value))
	case !ok || v < 1:
		return 0, p.errorf(n, path, "must be %s, got %s", want, jsDescribe(n))
	case v > limit:
		return 0, p.errorf(n, path, "must be at most %d, got %d", limit, v)
	}
	return v, nil
}

func (p *jsParser) str(n *yaml.Node, path string, nonEmpty bool) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || (nonEmpty && n.Value == "") {
		if nonEmpty {
			return "", p.errorf(n, path, "must be a non-empty string, got %s", jsDescribe(n))
		}
		return "", p.errorf(n, path, "must be a string, got %s", jsDescribe(n))
	}
	return n.Value, nil
}

func (p *jsParser) jobspec(root *yaml.Node) (*Jobspec, error) {
	f, err := p.fields(root, "", "a mapping with keys version, resources, tasks, attributes", jsTopKeys)
	if err != nil {
		return nil, err
	}
	for _, k := range jsTopKeys {
		if _, ok := f[k]; !ok {
			return nil, p.errorf(root, "", "missing key %q (a jobspec needs version, resources, tasks and attributes)", k)
		}
	}
	js := &Jobspec{}
	v := f["version"].val
	ver, ok, _ := jsInt(v)
	if !ok || ver < MinJobspecVersion || ver > MaxJobspecVersion {
		return nil, p.errorf(v, "version", "must be an integer from %d to %d, got %s", MinJobspecVersion, MaxJobspecVersion, jsDescribe(v))
	}
	js.Version = int(ver)
	p.version = js.Version

	if js.Resources, err = p.resources(f["resources"].val); err != nil {
		return nil, err
	}
	if js.Tasks, err = p.tasks(f["tasks"].val); err != nil {
		return nil, err
	}
	if err := p.attributes(f["attributes"].val, js); err != nil {
		return nil, err
	}
	return js, nil
}

// ---- resources ----

func (p *jsParser) resources(n *yaml.Node) ([]*Resource, error) {
	const path = "resources"
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errorf(n, path, "must be a non-empty list of resource vertices, got %s", jsDescribe(n))
	}
	if p.version == 1 && len(n.Content) != 1 {
		return nil, p.errorf(n, path, "version 1 allows one top-level node or slot, got %d resources", len(n.Content))
	}
	out := make([]*Resource, len(n.Content))
	for i, c := range n.Content {
		r, err := p.resource(c, jsIndex(path, i), jsCtx{})
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	if p.version == 1 {
		if err := p.shapeV1(n.Content[0], out[0]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ctx is what a vertex inherits from its ancestors.
type jsCtx struct {
	inSlot    bool   // some ancestor is a slot
	exclusive bool   // some ancestor is exclusive (slot or exclusive: true)
	exclPath  string // the ancestor that made it exclusive
}

func (p *jsParser) resource(n *yaml.Node, path string, c jsCtx) (*Resource, error) {
	allowed := jsResourceKeys
	if p.version == 1 {
		allowed = jsResourceKeysV1
	}
	f, err := p.fields(n, path, "a mapping (a resource vertex)", allowed)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"type", "count"} {
		if _, ok := f[k]; !ok {
			return nil, p.errorf(n, path, "missing key %q", k)
		}
	}
	r := &Resource{}
	if r.Type, err = p.str(f["type"].val, jsJoin(path, "type"), true); err != nil {
		return nil, err
	}
	r.Type = rtype.Canonical(r.Type)
	if r.Count, err = p.count(f["count"].val, jsJoin(path, "count")); err != nil {
		return nil, err
	}
	if u, ok := f["unit"]; ok {
		if r.Unit, err = p.str(u.val, jsJoin(path, "unit"), false); err != nil {
			return nil, err
		}
	}
	if id, ok := f["id"]; ok {
		if r.ID, err = p.str(id.val, jsJoin(path, "id"), true); err != nil {
			return nil, err
		}
	}
	isSlot := r.Type == "slot"
	if l, ok := f["label"]; ok {
		lp := jsJoin(path, "label")
		if r.Label, err = p.str(l.val, lp, true); err != nil {
			return nil, err
		}
		if prev, dup := p.labels[r.Label]; dup {
			return nil, p.errorf(l.val, lp, "%s is already the label of %s; labels must be unique", jsquoted(r.Label), prev)
		}
		p.labels[r.Label] = path
	} else if isSlot {
		return nil, p.errorf(n, path, "a slot needs a label")
	}
	if isSlot {
		p.slots[r.Label] = r
	}

	// Exclusivity: a slot and all below it are exclusive, and so is all
	// below an exclusive: true vertex; false cannot hold there.
	r.Exclusive = c.exclusive || isSlot
	if x, ok := f["exclusive"]; ok {
		xp := jsJoin(path, "exclusive")
		if x.val.Kind != yaml.ScalarNode || x.val.ShortTag() != "!!bool" {
			return nil, p.errorf(x.val, xp, "must be true or false, got %s", jsDescribe(x.val))
		}
		var b bool
		if err := x.val.Decode(&b); err != nil {
			return nil, p.errorf(x.val, xp, "must be true or false, got %s", jsDescribe(x.val))
		}
		switch {
		case p.version == 1 && r.Type != "node" && !isSlot:
			return nil, p.errorf(x.key, xp, "version 1 allows exclusive only on node and slot")
		case !b && isSlot:
			return nil, p.errorf(x.val, xp, "cannot be false: a slot is always exclusive")
		case !b && c.inSlot:
			return nil, p.errorf(x.val, xp, "cannot be false inside a slot (slot resources are exclusive)")
		case !b && c.exclusive:
			return nil, p.errorf(x.val, xp, "cannot be false below %s, which is exclusive", c.exclPath)
		}
		r.Exclusive, r.ExclusiveSet = b || r.Exclusive, true
	}

	w, hasWith := f["with"]
	if !hasWith {
		if isSlot {
			return nil, p.errorf(n, path, "a slot needs resources in with")
		}
		return r, nil
	}
	wp := jsJoin(path, "with")
	if w.val.Kind != yaml.SequenceNode || len(w.val.Content) == 0 {
		return nil, p.errorf(w.val, wp, "must be a non-empty list of resource vertices, got %s", jsDescribe(w.val))
	}
	cc := jsCtx{inSlot: c.inSlot || isSlot, exclusive: r.Exclusive, exclPath: c.exclPath}
	if r.Exclusive && !c.exclusive {
		cc.exclPath = path
	}
	r.With = make([]*Resource, len(w.val.Content))
	for i, child := range w.val.Content {
		if r.With[i], err = p.resource(child, jsIndex(wp, i), cc); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (p *jsParser) count(n *yaml.Node, path string) (Count, error) {
	if n.Kind == yaml.ScalarNode || p.version == 1 {
		want := "an integer ≥ 1 or {min, max, operator, operand}"
		if p.version == 1 {
			want = "an integer ≥ 1 (version 1 has no count ranges)"
		}
		v, err := p.positive(n, path, CountUnbounded, want)
		if err != nil {
			return Count{}, err
		}
		return Count{Min: v, Max: v, Operator: "+", Operand: 1}, nil
	}
	if n.Kind != yaml.MappingNode {
		return Count{}, p.errorf(n, path, "must be an integer ≥ 1 or {min, max, operator, operand}, got %s", jsDescribe(n))
	}
	f, err := p.fields(n, path, "a mapping", jsCountKeys)
	if err != nil {
		return Count{}, err
	}
	mn, ok := f["min"]
	if !ok {
		return Count{}, p.errorf(n, path, `missing key "min"`)
	}
	c := Count{Max: CountUnbounded, Operator: "+", Operand: 1}
	if c.Min, err = p.positive(mn.val, jsJoin(path, "min"), CountUnbounded, "an integer ≥ 1"); err != nil {
		return Count{}, err
	}
	_, hasMax := f["max"]
	_, hasOp := f["operator"]
	_, hasOperand := f["operand"]
	if hasMax || hasOp || hasOperand {
		for _, k := range []string{"max", "operator", "operand"} {
			if _, ok := f[k]; !ok {
				return Count{}, p.errorf(n, path, "missing key %q: max, operator and operand go together (all or none)", k)
			}
		}
		mx := f["max"].val
		if c.Max, err = p.positive(mx, jsJoin(path, "max"), CountUnbounded, "an integer ≥ 1"); err != nil {
			return Count{}, err
		}
		if c.Max < c.Min {
			return Count{}, p.errorf(mx, jsJoin(path, "max"), "must be ≥ min (%d), got %d", c.Min, c.Max)
		}
		op := f["operator"].val
		if op.Kind != yaml.ScalarNode || op.ShortTag() != "!!str" || (op.Value != "+" && op.Value != "*" && op.Value != "^") {
			return Count{}, p.errorf(op, jsJoin(path, "operator"), `must be one of "+", "*", "^", got %s`, jsDescribe(op))
		}
		c.Operator = op.Value
		od := f["operand"].val
		odp := jsJoin(path, "operand")
		least := int64(2)
		if c.Operator == "+" {
			least = 1
		}
		v, ok, big := jsInt(od)
		switch {
		case big && !strings.HasPrefix(od.Value, "-"), ok && v > MaxCountOperand:
			return Count{}, p.errorf(od, odp, "must be at most %d, got %s", MaxCountOperand, jsclip(od.Value))
		case !ok:
			return Count{}, p.errorf(od, odp, "must be an integer ≥ %d, got %s", least, jsDescribe(od))
		case v < least:
			return Count{}, p.errorf(od, odp, "must be ≥ %d for operator %s, got %d", least, jsquoted(c.Operator), v)
		}
		c.Operand = v
		if c.Operator == "^" && c.Min < 2 {
			return Count{}, p.errorf(mn.val, jsJoin(path, "min"), `must be ≥ 2 for operator "^", got %d`, c.Min)
		}
	}
	return c, nil
}

// shapeV1 checks the RFC 25 resource graph: node>slot>X or slot>X, where X
// is a core plus an optional gpu and memory.
func (p *jsParser) shapeV1(n *yaml.Node, top *Resource) error {
	const path = "resources[0]"
	slot, slotNode, slotPath := top, n, path
	switch top.Type {
	case "node":
		wn := jsWith(n)
		if len(top.With) != 1 || top.With[0].Type != "slot" {
			at := n
			if wn != nil {
				at = wn
			}
			return p.errorf(at, jsJoin(path, "with"), "version 1 needs a node to hold exactly one slot")
		}
		p.nodes = top.Count.Min
		slot, slotNode, slotPath = top.With[0], wn.Content[0], jsIndex(jsJoin(path, "with"), 0)
	case "slot":
	default:
		return p.errorf(jsValueOf(n, "type"), jsJoin(path, "type"), "version 1 allows only node or slot at the top, got %s", jsquoted(top.Type))
	}
	wn := jsWith(slotNode)
	seen := map[string]bool{}
	for i, r := range slot.With {
		rp := jsIndex(jsJoin(slotPath, "with"), i)
		rn := wn.Content[i]
		switch r.Type {
		case "core", "gpu", "memory":
		default:
			return p.errorf(jsValueOf(rn, "type"), jsJoin(rp, "type"), "version 1 allows only core, gpu or memory in a slot, got %s", jsquoted(r.Type))
		}
		if seen[r.Type] {
			return p.errorf(jsValueOf(rn, "type"), jsJoin(rp, "type"), "version 1 allows one %s per slot", r.Type)
		}
		seen[r.Type] = true
		if r.With != nil {
			return p.errorf(jsWith(rn), jsJoin(rp, "with"), "version 1 allows nothing below %s", r.Type)
		}
	}
	if !seen["core"] {
		return p.errorf(wn, jsJoin(slotPath, "with"), "version 1 needs a core in the slot")
	}
	return nil
}

// valueOf returns the value node of key in mapping n (n itself if absent).
func jsValueOf(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}

func jsWith(n *yaml.Node) *yaml.Node {
	w := jsValueOf(n, "with")
	if w == n {
		return nil
	}
	return w
}

// ---- tasks ----

func (p *jsParser) tasks(n *yaml.Node) ([]Task, error) {
	const path = "tasks"
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errorf(n, path, "must be a non-empty list of tasks, got %s", jsDescribe(n))
	}
	if p.version == 1 && len(n.Content) != 1 {
		return nil, p.errorf(n, path, "version 1 allows exactly one task, got %d", len(n.Content))
	}
	out := make([]Task, len(n.Content))
	for i, c := range n.Content {
		if err := p.task(c, jsIndex(path, i), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *jsParser) task(n *yaml.Node, path string, t *Task) error {
	f, err := p.fields(n, path, "a mapping (a task)", jsTaskKeys)
	if err != nil {
		return err
	}
	for _, k := range []string{"command", "slot", "count"} {
		if _, ok := f[k]; !ok {
			return p.errorf(n, path, "missing key %q", k)
		}
	}
	cmd := f["command"].val
	cp := jsJoin(path, "command")
	if cmd.Kind != yaml.SequenceNode || len(cmd.Content) == 0 {
		return p.errorf(cmd, cp, "must be a non-empty list of strings, got %s", jsDescribe(cmd))
	}
	t.Command = make([]string, len(cmd.Content))
	for i, a := range cmd.Content {
		if t.Command[i], err = p.str(a, jsIndex(cp, i), false); err != nil {
			return err
		}
	}

	sn := f["slot"].val
	sp := jsJoin(path, "slot")
	if t.Slot, err = p.str(sn, sp, true); err != nil {
		return err
	}
	slot := p.slots[t.Slot]
	if slot == nil {
		if at, ok := p.labels[t.Slot]; ok {
			return p.errorf(sn, sp, "%s labels %s, which is not a slot", jsquoted(t.Slot), at)
		}
		return p.errorf(sn, sp, "no slot labelled %s", jsquoted(t.Slot))
	}

	if err := p.taskCount(f["count"].val, jsJoin(path, "count"), slot, &t.Count); err != nil {
		return err
	}

	if d, ok := f["distribution"]; ok {
		if t.Distribution, err = p.str(d.val, jsJoin(path, "distribution"), false); err != nil {
			return err
		}
	}
	if a, ok := f["attributes"]; ok {
		ap := jsJoin(path, "attributes")
		if a.val.Kind != yaml.MappingNode {
			return p.errorf(a.val, ap, "must be a mapping, got %s", jsDescribe(a.val))
		}
		// Fluxion reads each task attribute as a string (Task::Task in
		// jobspec.cpp), so nested values fail there.
		for i := 1; i < len(a.val.Content); i += 2 {
			if v := a.val.Content[i]; v.Kind != yaml.ScalarNode {
				return p.errorf(v, jsJoin(ap, a.val.Content[i-1].Value), "must be a single value (Fluxion reads task attributes as strings), got %s", jsDescribe(v))
			}
		}
		if t.Attributes, err = p.rawMap(a.val, ap); err != nil {
			return err
		}
	}
	return nil
}

func (p *jsParser) taskCount(n *yaml.Node, path string, slot *Resource, tc *TaskCount) error {
	allowed := jsTaskCountKeys
	if p.version == 1 {
		allowed = jsTaskCountKeys[:2]
	}
	f, err := p.fields(n, path, "a mapping with one of "+strings.Join(allowed, ", "), allowed)
	if err != nil {
		return err
	}
	if len(f) != 1 {
		return p.errorf(n, path, "must have exactly one of %s, got %d keys", strings.Join(allowed, ", "), len(f))
	}
	if v, ok := f["per_slot"]; ok {
		pp := jsJoin(path, "per_slot")
		if tc.PerSlot, err = p.positive(v.val, pp, math.MaxInt32, "an integer ≥ 1"); err != nil {
			return err
		}
		if p.version == 1 && tc.PerSlot != 1 {
			return p.errorf(v.val, pp, "version 1 needs per_slot 1, got %d", tc.PerSlot)
		}
	}
	if v, ok := f["total"]; ok {
		tp := jsJoin(path, "total")
		if tc.Total, err = p.positive(v.val, tp, math.MaxInt32, "an integer ≥ 1"); err != nil {
			return err
		}
		if p.version == 1 && p.nodes > 0 && tc.Total < p.nodes {
			return p.errorf(v.val, tp, "version 1 needs at least one task per node (%d), got %d", p.nodes, tc.Total)
		}
	}
	if v, ok := f["per_resource"]; ok {
		pp := jsJoin(path, "per_resource")
		pf, err := p.fields(v.val, pp, "a mapping {type, count}", jsPerResKeys)
		if err != nil {
			return err
		}
		for _, k := range jsPerResKeys {
			if _, ok := pf[k]; !ok {
				return p.errorf(v.val, pp, "missing key %q", k)
			}
		}
		pr := &PerResource{}
		tn := pf["type"].val
		if pr.Type, err = p.str(tn, jsJoin(pp, "type"), true); err != nil {
			return err
		}
		if !jsHasType(slot.With, pr.Type) {
			return p.errorf(tn, jsJoin(pp, "type"), "slot %s has no %s", jsquoted(slot.Label), jsquoted(pr.Type))
		}
		if pr.Count, err = p.positive(pf["count"].val, jsJoin(pp, "count"), math.MaxInt32, "an integer ≥ 1"); err != nil {
			return err
		}
		tc.PerResource = pr
	}
	return nil
}

func jsHasType(rs []*Resource, typ string) bool {
	for _, r := range rs {
		if r.Type == typ || jsHasType(r.With, typ) {
			return true
		}
	}
	return false
}

// ---- attributes ----

func (p *jsParser) attributes(n *yaml.Node, js *Jobspec) error {
	const path = "attributes"
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		if p.version == 1 {
			return p.errorf(n, path, "version 1 needs system.duration")
		}
		return nil // Fluxion accepts "attributes:" with no value
	}
	f, err := p.fields(n, path, "a mapping with system and/or user", jsAttributeKeys)
	if err != nil {
		return err
	}
	if u, ok := f["user"]; ok {
		up := jsJoin(path, "user")
		if u.val.Kind != yaml.MappingNode {
			return p.errorf(u.val, up, "must be a mapping, got %s", jsDescribe(u.val))
		}
		if js.User, err = p.rawMap(u.val, up); err != nil {
			return err
		}
	}
	s, ok := f["system"]
	if !ok {
		if p.version == 1 {
			return p.errorf(n, path, "version 1 needs system.duration")
		}
		return nil
	}
	sp := jsJoin(path, "system")
	sf, err := p.fields(s.val, sp, "a mapping", jsSystemKeys)
	if err != nil {
		return err
	}
	// Walk in document order so that errors come in reading order.
	for i := 0; i+1 < len(s.val.Content); i += 2 {
		key, v := s.val.Content[i].Value, s.val.Content[i+1]
		kp := jsJoin(sp, key)
		switch key {
		case "duration":
			d, err := p.duration(v, kp)
			if err != nil {
				return err
			}
			js.Duration, js.DurationSeconds = d, int64(math.Ceil(d))
		case "queue":
			if js.Queue, err = p.str(v, kp, false); err != nil {
				return err
			}
		case "constraints":
			if err := p.constraint(v, kp); err != nil {
				return err
			}
			m, err := p.rawMap(v, kp)
			if err != nil {
				return err
			}
			js.Constraints = m
		default:
			if err := p.systemValue(key, v, kp); err != nil {
				return err
			}
			raw, err := p.raw(v, kp)
			if err != nil {
				return err
			}
			if js.System == nil {
				js.System = map[string]any{}
			}
			js.System[key] = raw
		}
	}
	if _, ok := sf["duration"]; !ok && p.version == 1 {
		return p.errorf(s.val, sp, `version 1 needs "duration"`)
	}
	return nil
}

// maxDuration is the first duration that does not fit an int64 of seconds.
const jsMaxDuration = float64(math.MaxInt64)

func (p *jsParser) duration(n *yaml.Node, path string) (float64, error) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		return 0, p.errorf(n, path, "must be a finite number of seconds ≥ 0, got %s", jsDescribe(n))
	}
	var d float64
	if err := n.Decode(&d); err != nil || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 {
		return 0, p.errorf(n, path, "must be a finite number of seconds ≥ 0, got %s", jsDescribe(n))
	}
	if d >= jsMaxDuration {
		return 0, p.errorf(n, path, "must be less than 2^63 seconds, got %s", jsclip(n.Value))
	}
	return d, nil
}

// systemValue checks the shape of the recognised system attributes that
// are kept raw.
func (p *jsParser) systemValue(key string, n *yaml.Node, path string) error {
	switch key {
	case "cwd", "bank", "project":
		_, err := p.str(n, path, false)
		return err
	case "environment", "job", "shell", "files", "exec":
		if n.Kind != yaml.MappingNode {
			return p.errorf(n, path, "must be a mapping, got %s", jsDescribe(n))
		}
	case "dependencies":
		if n.Kind != yaml.SequenceNode {
			return p.errorf(n, path, "must be a list, got %s", jsDescribe(n))
		}
	case "preemptible-after":
		_, err := p.duration(n, path)
		return err
	}
	return nil
}

// propertyForbidden are the characters Fluxion's PropertyConstraint refuses
// in a property name (after one optional leading ^).
const jsPropertyForbidden = "!&'\"^`|()"

// constraint checks an RFC 31 constraint as Fluxion's constraint_parser
// does: a mapping with at most one operator, whose value is a list;
// properties are strings without the forbidden characters; hostlist and
// ranks entries are strings (ranks may be integers); and, or and not hold
// constraints. Hostlist and idset syntax is not checked.
func (p *jsParser) constraint(n *yaml.Node, path string) error {
	f, err := p.fields(n, path, "a mapping (an RFC 31 constraint)", nil)
	if err != nil {
		return err
	}
	if len(f) > 1 {
		return p.errorf(n, path, "a constraint has at most one operator, got %d", len(f))
	}
	for op, kv := range f {
		opPath := jsJoin(path, op)
		if !jsContains(jsConstraintOps, op) {
			return p.errorf(kv.key, opPath, "unknown constraint operator; allowed: %s", strings.Join(jsConstraintOps, ", "))
		}
		if kv.val.Kind != yaml.SequenceNode {
			return p.errorf(kv.val, opPath, "must be a list, got %s", jsDescribe(kv.val))
		}
		for i, e := range kv.val.Content {
			ep := jsIndex(opPath, i)
			switch op {
			case "properties":
				s, err := p.str(e, ep, true)
				if err != nil {
					return err
				}
				if strings.ContainsAny(strings.TrimPrefix(s, "^"), jsPropertyForbidden) || s == "^" {
					return p.errorf(e, ep, "invalid property %s: no %s allowed after an optional leading ^", jsquoted(s), jsPropertyForbidden)
				}
			case "hostlist":
				if _, err := p.str(e, ep, true); err != nil {
					return err
				}
			case "ranks":
				if v, ok, _ := jsInt(e); ok && v >= 0 {
					continue
				}
				if _, err := p.str(e, ep, true); err != nil {
					return p.errorf(e, ep, "must be a rank (integer ≥ 0) or an idset string, got %s", jsDescribe(e))
				}
			default: // and, or, not
				if err := p.constraint(e, ep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// raw decodes a node into plain Go values: map[string]any, []any, string,
// int, float64, bool or nil. Mapping keys must be scalars and unique.
func (p *jsParser) raw(n *yaml.Node, path string) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return p.rawMap(n, path)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := p.raw(c, jsIndex(path, i))
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, p.errorf(n, path, "cannot read %s: %v", jsDescribe(n), err)
		}
		return v, nil
	}
	return nil, p.errorf(n, path, "unexpected YAML node")
}

func (p *jsParser) rawMap(n *yaml.Node, path string) (map[string]any, error) {
	f, err := p.fields(n, path, "a mapping", nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(f))
	for i := 0; i+1 < len(n.Content); i += 2 { // document order
		k := n.Content[i].Value
		v, err := p.raw(n.Content[i+1], jsJoin(path, k))
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}
