package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"go.yaml.in/yaml/v3"
)

// jobspec is a Flux jobspec (RFC 14, version 1 of RFC 25), JSON or YAML:
// one job's request, read as one pending job of no times. What it gives:
// Nodes (the node vertices' counts, 0 when the jobspec asks for no
// nodes), Tasks (the slots times count.per_slot, or count.total),
// CoresPerTask and GPUsPerTask (the cores and GPUs of the slots over the
// tasks, rounded down, with a note when they do not divide), Exclusive
// (a node marked exclusive, or a node inside a slot), Walltime
// (attributes.system.duration, 0 = none), Queue (attributes.system.queue),
// Name (attributes.system.job.name, else the command's first word), App
// (the command's first word), Params command (the command line) and
// user.<key> (the scalar attributes.user values). The job's id is the
// file's name.

func init() {
	register(&Format{
		Name:   "jobspec",
		Doc:    "Flux jobspec (RFC 14/25), JSON or YAML: one pending job's request",
		Detect: detectJobspec,
		Read:   readJobspec,
		Ext:    ".json",
	})
}

func detectJobspec(head []byte, keys []string) bool {
	if keys != nil {
		return hasKeys(keys, "resources", "tasks") && (hasKeys(keys, "version") || hasKeys(keys, "attributes"))
	}
	top := map[string]bool{}
	for _, line := range bytes.Split(head, []byte("\n")) {
		if k, _, ok := bytes.Cut(line, []byte(":")); ok && len(k) > 0 && k[0] != ' ' && k[0] != '\t' && k[0] != '#' && k[0] != '-' {
			top[string(bytes.TrimSpace(k))] = true
		}
	}
	return top["resources"] && top["tasks"] && (top["version"] || top["attributes"])
}

// fxMaxYAML is the largest YAML jobspec read: yaml.v3 takes about
// 100 bytes of memory per byte of a pathological document.
const fxMaxYAML = limitio.Scenario

func readJobspec(in *Input, t *Trace) error {
	head := bytes.TrimLeft(in.Head(sniffSize), " \t\r\n")
	var doc map[string]any
	f := &fxFields{in: in}
	if len(head) > 0 && head[0] == '{' {
		s := in.JSON()
		if err := s.Decode("", &doc); err != nil {
			return err
		}
		if err := s.End(); err != nil {
			return err
		}
	} else {
		var lines map[string]int
		var err error
		doc, lines, err = fxReadYAML(in)
		if err != nil {
			return err
		}
		f.lineOf = func(p string) int { return lines[p] }
	}
	if doc == nil {
		return in.Errorf(0, "", "not a jobspec (an object with version, resources, tasks and attributes)")
	}
	j := NewJob(fxFileJobID(in.Name))
	j.Kind, j.Scheduler = fluxKind, "flux"
	if err := fxJobspecRequest(f, t, doc, j); err != nil {
		return err
	}
	j.Status = "pending"
	t.Note("flux-jobspec-request", j.ID, "a jobspec is a request: its job is pending, with no submit, start or end time")
	tj, added := t.Job(j.ID)
	if !added {
		return in.Errorf(0, "", "job %s is already in the trace (read twice?)", quote(j.ID))
	}
	*tj = *j
	return nil
}

// fxReadYAML reads a whole YAML document (at most fxMaxYAML bytes)
// into JSON-like values (numbers as json.Number), with the line of each
// field path.
func fxReadYAML(in *Input) (map[string]any, map[string]int, error) {
	data, err := io.ReadAll(io.LimitReader(in.Reader(), fxMaxYAML+1))
	if err != nil {
		return nil, nil, in.readErr(0, err)
	}
	if len(data) > fxMaxYAML {
		return nil, nil, in.Errorf(0, "", "a YAML document larger than %s (is it the right file?)", limitio.Size(fxMaxYAML))
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, nil, in.Errorf(0, "", "binary data (a NUL byte): not a jobspec")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var node yaml.Node
	if err := dec.Decode(&node); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, in.Errorf(0, "", "an empty document")
		}
		return nil, nil, in.Errorf(0, "", "not valid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, in.Errorf(extra.Line, "", "a second YAML document (a jobspec is one)")
	}
	lines := map[string]int{}
	v, err := fxYAMLValue(in, &node, "", 0, lines)
	if err != nil {
		return nil, nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, in.Errorf(node.Line, "", "a %s where a jobspec object is expected", fxKindOf(v))
	}
	return m, lines, nil
}

// fxMaxDepth bounds the nesting of a document converted to values.
const fxMaxDepth = 64

// fxYAMLValue converts a YAML node to JSON-like values, refusing aliases
// and deep nesting, and records the line of each path.
func fxYAMLValue(in *Input, n *yaml.Node, p string, depth int, lines map[string]int) (any, error) {
	if depth > fxMaxDepth {
		return nil, in.Errorf(n.Line, p, "nested more than %d deep", fxMaxDepth)
	}
	if p != "" {
		if _, seen := lines[p]; !seen {
			lines[p] = n.Line
		}
	}
	join := func(k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, in.Errorf(n.Line, p, "an empty document")
		}
		return fxYAMLValue(in, n.Content[0], p, depth+1, lines)
	case yaml.AliasNode:
		return nil, in.Errorf(n.Line, p, "YAML aliases are not read in a jobspec")
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, in.Errorf(k.Line, p, "a key that is not a string")
			}
			if _, dup := m[k.Value]; dup {
				return nil, in.Errorf(k.Line, join(k.Value), "a key given twice")
			}
			if _, seen := lines[join(k.Value)]; !seen {
				lines[join(k.Value)] = k.Line
			}
			v, err := fxYAMLValue(in, n.Content[i+1], join(k.Value), depth+1, lines)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := fxYAMLValue(in, c, fmt.Sprintf("%s[%d]", p, i), depth+1, lines)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, in.Errorf(n.Line, p, "%v", err)
			}
			return b, nil
		case "!!int":
			var x int64
			if err := n.Decode(&x); err != nil {
				return nil, in.Errorf(n.Line, p, "%s is not an integer in range", quote(n.Value))
			}
			return json.Number(strconv.FormatInt(x, 10)), nil
		case "!!float":
			var x float64
			if err := n.Decode(&x); err != nil {
				return nil, in.Errorf(n.Line, p, "%s is not a number", quote(n.Value))
			}
			return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
		}
		return n.Value, nil
	}
	return nil, in.Errorf(n.Line, p, "an unexpected YAML node")
}

// fxJobspecRequest sets the job's request from a jobspec.
func fxJobspecRequest(f *fxFields, t *Trace, js map[string]any, j *Job) error {
	v, ok := f.fxInteger(js, "version", 1, 999)
	if f.err != nil {
		return f.err
	}
	if !ok {
		f.fail("version", "missing (a jobspec has a version)")
		return f.err
	}
	if v != 1 {
		t.Note("flux-jobspec-version", j.ID, "jobspecs of a version other than 1 (RFC 25) read as version 1")
	}
	res := f.list(js, "resources")
	if f.err != nil {
		return f.err
	}
	if len(res) == 0 {
		f.fail("resources", "missing or empty (a jobspec asks for resources)")
		return f.err
	}
	var c fxCount
	c.walk(f, t, j, res, "resources", 1, false)
	if f.err != nil {
		return f.err
	}
	if c.slots == 0 {
		f.fail("resources", "no slot (a jobspec's tasks run in slots)")
		return f.err
	}
	tasks := f.list(js, "tasks")
	if f.err != nil {
		return f.err
	}
	if len(tasks) != 1 {
		f.fail("tasks", "%d tasks; a jobspec (RFC 25) has exactly one", len(tasks))
		return f.err
	}
	task, isObj := tasks[0].(map[string]any)
	if !isObj {
		f.fail("tasks[0]", "a %s where a task object is expected", fxKindOf(tasks[0]))
		return f.err
	}
	tf := f.sub("tasks[0]")
	var cmd []string
	for i, a := range tf.list(task, "command") {
		s, ok := a.(string)
		if !ok {
			tf.fail(fmt.Sprintf("command[%d]", i), "a %s where a string is expected", fxKindOf(a))
			break
		}
		cmd = append(cmd, s)
	}
	if s, isStr := task["command"].(string); isStr && tf.err != nil {
		// A command given as one string (RFC 14 allows it).
		tf.err, cmd = nil, strings.Fields(s)
	}
	if tf.err == nil && len(cmd) == 0 {
		tf.fail("command", "missing or empty (a task runs a command)")
	}
	slot := tf.str(task, "slot")
	if tf.err == nil && slot != "" && !c.labels[slot] {
		tf.fail("slot", "%s is not the label of a slot of the resources", quote(slot))
	}
	cnt := tf.obj(task, "count")
	cf := tf.sub("count")
	perSlot, hasPer := cf.fxInteger(cnt, "per_slot", 1, fxMaxTasks)
	total, hasTotal := cf.fxInteger(cnt, "total", 1, fxMaxTasks)
	tf.keep(cf)
	f.keep(tf)
	if f.err != nil {
		return f.err
	}
	switch {
	case hasPer && hasTotal:
		f.fail("tasks[0].count", "both per_slot and total")
	case hasTotal:
		j.Tasks = int(total)
	case hasPer:
		j.Tasks = int(min(c.slots*perSlot, fxMaxTasks+1))
	default:
		j.Tasks = int(c.slots) // one task a slot
	}
	if j.Tasks > fxMaxTasks {
		f.fail("tasks[0].count", "more than %d tasks", fxMaxTasks)
	}
	if f.err != nil {
		return f.err
	}
	if c.nodes > 0 {
		j.Nodes = int(c.nodes)
	}
	j.Exclusive = c.exclusive
	tasksN := int64(j.Tasks)
	j.CoresPerTask = int(c.cores / tasksN)
	j.GPUsPerTask = int(c.gpus / tasksN)
	if c.cores%tasksN != 0 || c.gpus%tasksN != 0 {
		t.Note("flux-jobspec-share", j.ID, "jobspecs whose cores or GPUs do not divide among the tasks: the cores (GPUs) per task are rounded down")
	}
	app := path.Base(cmd[0])
	j.App = app
	j.Name = app
	fxSetParam(j, "command", fxCut4k(strings.Join(cmd, " ")))

	attrs := f.obj(js, "attributes")
	af := f.sub("attributes")
	sys := af.obj(attrs, "system")
	sf := af.sub("system")
	if d, ok := sf.num(sys, "duration", 0, fxMaxEpoch); ok {
		j.Walltime = d
	}
	j.Queue = sf.str(sys, "queue")
	if jobAttr := sf.obj(sys, "job"); jobAttr != nil {
		if name := sf.sub("job").str(jobAttr, "name"); name != "" {
			j.Name = name
		}
	}
	for k, v := range af.obj(attrs, "user") {
		if s, ok := fxScalarText(v); ok {
			fxSetParam(j, "user."+k, s)
		}
	}
	af.keep(sf)
	f.keep(af)
	return f.err
}

func fxCut4k(s string) string {
	if len(s) > 4096 {
		return s[:4096]
	}
	return s
}

// fxCount is what a jobspec's resources add up to.
type fxCount struct {
	nodes, slots, cores, gpus int64
	exclusive                 bool
	labels                    map[string]bool
}

// fxMaxUnits bounds a jobspec's totals.
const fxMaxUnits = 1 << 40

// walk adds up resources (each vertex's count times its ancestors').
func (c *fxCount) walk(f *fxFields, t *Trace, j *Job, list []any, p string, mult int64, inSlot bool) {
	for i, v := range list {
		vp := fmt.Sprintf("%s[%d]", p, i)
		r, ok := v.(map[string]any)
		if !ok {
			f.fail(vp, "a %s where a resource object is expected", fxKindOf(v))
			return
		}
		rf := f.sub(vp)
		typ := rf.str(r, "type")
		if rf.err == nil && typ == "" {
			rf.fail("type", "missing (a resource has a type)")
		}
		count := int64(1)
		switch cv := r["count"].(type) {
		case nil:
		case map[string]any:
			// RFC 14's range: its minimum.
			if n, ok := rf.sub("count").fxInteger(cv, "min", 1, MaxCount); ok {
				count = n
				t.Note("flux-jobspec-range", j.ID, "resource counts given as a range read as their minimum")
			} else {
				rf.fail("count", "a range without a min")
			}
		default:
			if n, ok := rf.fxInteger(r, "count", 1, MaxCount); ok {
				count = n
			}
		}
		if rf.err != nil {
			f.keep(rf)
			return
		}
		m := mult * count
		if m > fxMaxUnits {
			rf.fail("count", "more than %d %ss in all", int64(fxMaxUnits), typ)
			f.keep(rf)
			return
		}
		switch typ {
		case "node":
			c.nodes += m
			if rf.boolean(r, "exclusive") || inSlot {
				c.exclusive = true
			}
		case "slot":
			c.slots += m
			if label := rf.str(r, "label"); label != "" {
				if c.labels == nil {
					c.labels = map[string]bool{}
				}
				c.labels[label] = true
			}
		case "core":
			c.cores += m
		case "gpu":
			c.gpus += m
		}
		if c.nodes > fxMaxUnits || c.slots > fxMaxUnits || c.cores > fxMaxUnits || c.gpus > fxMaxUnits {
			rf.fail("count", "more than %d units in all", int64(fxMaxUnits))
		}
		with := rf.list(r, "with")
		f.keep(rf)
		if f.err != nil {
			return
		}
		if len(with) > 0 {
			if strings.Count(vp, "with") >= fxMaxDepth {
				f.fail(vp, "resources nested more than %d deep", fxMaxDepth)
				return
			}
			c.walk(f, t, j, with, vp+".with", m, inSlot || typ == "slot")
			if f.err != nil {
				return
			}
		}
	}
}
