package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeDecoder is implemented by schema types with their own YAML form
// (quantities, distributions). Errors it returns are located by the caller.
type nodeDecoder interface {
	decodeYAML(n *yaml.Node) error
}

// decoder walks a YAML node tree into schema values, strictly: unknown
// keys, duplicate keys and wrong types are errors naming the field path and
// the line. It records the line of every path for later validation errors.
type decoder struct {
	lines  map[string]int
	depth  int // current nesting
	visits int // nodes decoded, aliases expanded
}

// Limits that keep a hostile document (a recursive alias, an alias bomb)
// from hanging the loader.
const (
	maxDepth  = 64
	maxVisits = 1_000_000
)

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	d.depth++
	defer func() { d.depth-- }()
	d.visits++
	if d.depth > maxDepth {
		return errorf(path, n.Line, "nested too deeply (a recursive alias?)")
	}
	if d.visits > maxVisits {
		return errorf(path, n.Line, "document too large (alias expansion?)")
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.lines[path] = n.Line
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		if err := v.Addr().Interface().(nodeDecoder).decodeYAML(n); err != nil {
			return errorf(path, n.Line, "%v", err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return errorf(path, n.Line, "must be a list, got %s", kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return errorf(path, n.Line, "must be a list of %d, got %s", v.Len(), kindName(n))
		}
		if len(n.Content) != v.Len() {
			return errorf(path, n.Line, "must be a list of %d, got %d", v.Len(), len(n.Content))
		}
		for i, c := range n.Content {
			if err := d.decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return errorf(path, n.Line, "must be a mapping, got %s", kindName(n))
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return errorf(path, k.Line, "keys must be strings")
			}
			kp := join(path, k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				return errorf(kp, k.Line, "duplicate key")
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, ev, kp); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return errorf(path, n.Line, "must be %s, got %s", typeWord(v.Kind()), kindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return errorf(path, n.Line, "must be true or false, got %q", n.Value)
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil {
			return errorf(path, n.Line, "must be an integer, got %q", n.Value)
		}
		v.SetInt(i)
	case reflect.Uint64:
		i, err := strconv.ParseUint(n.Value, 10, 64)
		if err != nil {
			return errorf(path, n.Line, "must be a non-negative integer, got %q", n.Value)
		}
		v.SetUint(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.Tag == "!!str" || math.IsNaN(f) || math.IsInf(f, 0) {
			return errorf(path, n.Line, "must be a number, got %q", n.Value)
		}
		v.SetFloat(f)
	default:
		return errorf(path, n.Line, "unsupported field type %s", v.Type())
	}
	return nil
}

func typeWord(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return "a value"
}

// fieldNames maps YAML names to struct field indexes.
func fieldNames(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name[:1]) + f.Name[1:]
		}
		m[name] = i
		names = append(names, name)
	}
	slices.Sort(names)
	return m, names
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return errorf(path, n.Line, "must be a mapping, got %s", kindName(n))
	}
	fields, names := fieldNames(v.Type())
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			hint := ""
			for _, name := range names {
				if strings.EqualFold(name, k.Value) {
					hint = fmt.Sprintf(" (did you mean %q?)", name)
				}
			}
			return errorf(kp, k.Line, "unknown field%s; valid fields: %s", hint, strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return errorf(kp, k.Line, "duplicate key")
		}
		seen[k.Value] = true
		if err := d.decode(val, v.Field(idx), kp); err != nil {
			return err
		}
	}
	return nil
}
