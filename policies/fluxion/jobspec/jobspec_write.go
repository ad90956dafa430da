package jobspec

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// MarshalJobspec writes js as canonical YAML (keys version, resources,
// tasks, attributes, in that order), suitable for ParseJobspec and for
// Fluxion. Counts are written as integers when fixed, as {min: N} when
// open, else in full; exclusive only where ExclusiveSet; the duration
// always (0 means unlimited, as when absent). Parsing the output of a
// parsed jobspec gives the same jobspec.
func MarshalJobspec(js *Jobspec) ([]byte, error) {
	root := jsMapping()
	jsAdd(root, "version", jsIntNode(int64(js.Version)))
	res := jsSeq()
	for _, r := range js.Resources {
		res.Content = append(res.Content, jsResourceNode(r))
	}
	jsAdd(root, "resources", res)

	tasks := jsSeq()
	for i := range js.Tasks {
		n, err := jsTaskNode(&js.Tasks[i])
		if err != nil {
			return nil, fmt.Errorf("fluxion: writing tasks[%d]: %w", i, err)
		}
		tasks.Content = append(tasks.Content, n)
	}
	jsAdd(root, "tasks", tasks)

	attrs := jsMapping()
	sys := jsMapping()
	jsAdd(sys, "duration", jsFloat(js.Duration))
	if js.Queue != "" {
		jsAdd(sys, "queue", jsStr(js.Queue))
	}
	if js.Constraints != nil {
		if err := jsAddValue(sys, "constraints", js.Constraints); err != nil {
			return nil, err
		}
	}
	for _, k := range jsSortedKeys(js.System) {
		if k == "duration" || k == "queue" || k == "constraints" {
			continue
		}
		if err := jsAddValue(sys, k, js.System[k]); err != nil {
			return nil, err
		}
	}
	jsAdd(attrs, "system", sys)
	if js.User != nil {
		if err := jsAddValue(attrs, "user", js.User); err != nil {
			return nil, err
		}
	}
	jsAdd(root, "attributes", attrs)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("fluxion: writing jobspec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("fluxion: writing jobspec: %w", err)
	}
	return buf.Bytes(), nil
}

func jsResourceNode(r *Resource) *yaml.Node {
	n := jsMapping()
	jsAdd(n, "type", jsStr(r.Type))
	jsAdd(n, "count", jsCountNode(r.Count))
	if r.Unit != "" {
		jsAdd(n, "unit", jsStr(r.Unit))
	}
	if r.Label != "" {
		jsAdd(n, "label", jsStr(r.Label))
	}
	if r.ID != "" {
		jsAdd(n, "id", jsStr(r.ID))
	}
	if r.ExclusiveSet {
		jsAdd(n, "exclusive", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(r.Exclusive)})
	}
	if len(r.With) > 0 {
		w := jsSeq()
		for _, c := range r.With {
			w.Content = append(w.Content, jsResourceNode(c))
		}
		jsAdd(n, "with", w)
	}
	return n
}

func jsCountNode(c Count) *yaml.Node {
	if c.Fixed() && c.Operator == "+" && c.Operand == 1 {
		return jsIntNode(c.Min)
	}
	n := jsMapping()
	n.Style = yaml.FlowStyle
	jsAdd(n, "min", jsIntNode(c.Min))
	if c.Max == CountUnbounded && c.Operator == "+" && c.Operand == 1 {
		return n
	}
	jsAdd(n, "max", jsIntNode(c.Max))
	jsAdd(n, "operator", jsStr(c.Operator))
	jsAdd(n, "operand", jsIntNode(c.Operand))
	return n
}

func jsTaskNode(t *Task) (*yaml.Node, error) {
	n := jsMapping()
	cmd := jsSeq()
	cmd.Style = yaml.FlowStyle
	for _, a := range t.Command {
		cmd.Content = append(cmd.Content, jsStr(a))
	}
	jsAdd(n, "command", cmd)
	jsAdd(n, "slot", jsStr(t.Slot))
	cnt := jsMapping()
	switch {
	case t.Count.PerResource != nil:
		pr := jsMapping()
		jsAdd(pr, "type", jsStr(t.Count.PerResource.Type))
		jsAdd(pr, "count", jsIntNode(t.Count.PerResource.Count))
		jsAdd(cnt, "per_resource", pr)
	case t.Count.Total != 0:
		jsAdd(cnt, "total", jsIntNode(t.Count.Total))
	default:
		jsAdd(cnt, "per_slot", jsIntNode(t.Count.PerSlot))
	}
	jsAdd(n, "count", cnt)
	if t.Distribution != "" {
		jsAdd(n, "distribution", jsStr(t.Distribution))
	}
	if t.Attributes != nil {
		if err := jsAddValue(n, "attributes", t.Attributes); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func jsMapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }
func jsSeq() *yaml.Node     { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func jsStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func jsIntNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

func jsFloat(v float64) *yaml.Node {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	tag := "!!float"
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		tag = "!!int" // 3600, not 3600.0: both read back as the same duration
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
}

func jsAdd(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, jsStr(key), v)
}

func jsAddValue(m *yaml.Node, key string, v any) error {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Errorf("fluxion: writing %s: %w", key, err)
	}
	jsAdd(m, key, &n)
	return nil
}

func jsSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
