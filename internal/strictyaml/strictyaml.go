// Package strictyaml fills Go values from go.yaml.in/yaml/v3 node trees
// strictly: unknown keys (with the valid fields), duplicate keys and
// wrong types are errors naming the field path and the line, and the line
// of every decoded path is recorded for later validation messages. The
// scenario loader and the network profile reader share it; each supplies
// its own error type through Decoder.Err.
//
// Field names come from the `yaml` tag, else the Go name with a lower-case
// first letter; "-" skips a field and ",inline" flattens an embedded
// struct. Supported kinds: pointers, structs, slices, arrays, maps with
// string keys, strings, bools, int, int32, int64, uint64, float64.
package strictyaml

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
)

// Decoder walks YAML nodes into Go values. The zero value works; set the
// options before the first Decode. One Decoder may decode several trees
// (its recorded lines and its limits span them all).
type Decoder struct {
	// Err builds the error for a problem at path ("" for the node given
	// to Decode with path "", else such as pools[1].cpu) on line (1-based,
	// 0 if unknown). Nil: a plain error "line N: path: msg".
	Err func(path string, line int, msg string) error
	// Custom gives types their own YAML form. It is called with a pointer
	// to every addressable value before that value is decoded; a non-nil
	// result decodes the node instead, and its error's text becomes the
	// message of an error at the value's path and line.
	Custom func(ptr any) func(n *yaml.Node) error
	// Join appends a mapping key to a path; nil joins with a dot.
	Join func(path, key string) string
	// Suggest adds (did you mean "name"?) to an unknown key that is a
	// field's name but for case.
	Suggest bool
	// Strict asks string fields for YAML strings (name: 3 is refused:
	// quote it) and a struct's keys to be scalars. Numbers and booleans
	// follow the scalar rule (see Bool) either way.
	Strict bool
	// NullSlices decodes null to a nil slice instead of an error.
	NullSlices bool

	lines  map[string]int
	depth  int // current nesting
	visits int // nodes decoded, aliases expanded
}

// Limits that keep a hostile document (a recursive alias, an alias bomb)
// from hanging the decoder.
const (
	maxDepth  = 64
	maxVisits = 1_000_000
)

// Lines maps every decoded field path to its line (of the value; after
// an alias, of the anchored value). The map is the decoder's own.
func (d *Decoder) Lines() map[string]int {
	if d.lines == nil {
		d.lines = map[string]int{}
	}
	return d.lines
}

func (d *Decoder) errf(path string, line int, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if d.Err != nil {
		return d.Err(path, line, msg)
	}
	if path != "" {
		msg = path + ": " + msg
	}
	return fmt.Errorf("line %d: %s", line, msg)
}

func (d *Decoder) join(path, key string) string {
	if d.Join != nil {
		return d.Join(path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// KindName describes a node for messages: a mapping, a list, null, or
// the quoted scalar.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Decode fills v (settable) from n; path names v in messages and in Lines.
func (d *Decoder) Decode(n *yaml.Node, v reflect.Value, path string) error {
	d.depth++
	defer func() { d.depth-- }()
	d.visits++
	if d.depth > maxDepth {
		return d.errf(path, n.Line, "nested too deeply (a recursive alias?)")
	}
	if d.visits > maxVisits {
		return d.errf(path, n.Line, "document too large (alias expansion?)")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return d.errf(path, n.Line, "unknown alias")
		}
		n = n.Alias
	}
	d.Lines()[path] = n.Line
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return d.errf(path, n.Line, "YAML tag %s is not supported", Quote(n.Tag))
	}
	if d.Custom != nil && v.CanAddr() {
		if decode := d.Custom(v.Addr().Interface()); decode != nil {
			if err := decode(n); err != nil {
				return d.errf(path, n.Line, "%v", err)
			}
			return nil
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.Decode(n, v.Elem(), path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if d.NullSlices && isNull(n) {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errf(path, n.Line, "must be a list, got %s", KindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		if err := d.decodeItems(n, s, path); err != nil {
			return err
		}
		v.Set(s)
		return nil
	case reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return d.errf(path, n.Line, "must be a list of %d, got %s", v.Len(), KindName(n))
		}
		if len(n.Content) != v.Len() {
			return d.errf(path, n.Line, "must be a list of %d, got %d", v.Len(), len(n.Content))
		}
		return d.decodeItems(n, v, path)
	case reflect.Map:
		return d.decodeMap(n, v, path)
	}
	return d.decodeScalar(n, v, path)
}

func (d *Decoder) decodeItems(n *yaml.Node, v reflect.Value, path string) error {
	for i, c := range n.Content {
		if err := d.Decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(path, n.Line, "must be a mapping, got %s", KindName(n))
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errf(path, k.Line, "keys must be strings")
		}
		kp := d.join(path, Key(k.Value))
		if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
			return d.errf(kp, k.Line, "duplicate key")
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := d.Decode(val, ev, kp); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(k.Value), ev)
	}
	v.Set(m)
	return nil
}

func (d *Decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(path, n.Line, "must be a mapping, got %s", KindName(n))
	}
	fields, names := Fields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if d.Strict && k.Kind != yaml.ScalarNode {
			return d.errf(path, k.Line, "keys must be strings")
		}
		kp := d.join(path, Key(k.Value))
		idx, ok := fields[k.Value]
		if !ok && k.Tag == "!!merge" {
			return d.errf(kp, k.Line, "merge keys (<<) are not supported; write the fields out")
		}
		if !ok {
			hint := ""
			for _, name := range names {
				if d.Suggest && strings.EqualFold(name, k.Value) {
					hint = fmt.Sprintf(" (did you mean %q?)", name)
				}
			}
			return d.errf(kp, k.Line, "unknown field%s; valid fields: %s", hint, strings.Join(names, ", "))
		}
		if seen[k.Value] {
			return d.errf(kp, k.Line, "duplicate key")
		}
		seen[k.Value] = true
		if err := d.Decode(val, v.FieldByIndex(idx), kp); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return d.errf(path, n.Line, "must be %s, got %s", typeWord(v.Kind()), KindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		if d.Strict && n.Tag != "!!str" {
			return d.errf(path, n.Line, "must be a string, got %s (quote it)", Quote(n.Value))
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := Bool(n)
		if err != nil {
			return d.errf(path, n.Line, "%v", err)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		i, err := Int(n, v.Type().Bits())
		if err != nil {
			return d.errf(path, n.Line, "%v", err)
		}
		v.SetInt(i)
	case reflect.Uint64:
		i, err := Uint(n)
		if err != nil {
			return d.errf(path, n.Line, "%v", err)
		}
		v.SetUint(i)
	case reflect.Float64:
		f, err := Number(n)
		if err != nil {
			return d.errf(path, n.Line, "%v", err)
		}
		v.SetFloat(f)
	default:
		return d.errf(path, n.Line, "unsupported field type %s", v.Type())
	}
	return nil
}

// The scalar rule, one for every file the decoder reads and for values
// that arrive as text (--set, SIM_ variables, which are parsed as YAML
// first): a scalar is what its YAML type says. A number or a boolean is
// written without quotes; a quoted scalar ("3", 'true') is a string and
// is refused where a number or a boolean is expected. Integers are
// decimal. A string field takes any scalar as written (name: 007 is the
// string "007") unless the decoder is Strict. Numbers must be finite.

// notString is the hint for a quoted number or boolean.
func notString(n *yaml.Node, what string) error {
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return fmt.Errorf("must be %s, got the quoted string %s (a quoted value is a string; write numbers and booleans without quotes)", what, Quote(n.Value))
	}
	return fmt.Errorf("must be %s, got %s", what, KindName(n))
}

// Bool reads a YAML boolean (true or false, unquoted).
func Bool(n *yaml.Node) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, notString(n, "true or false")
	}
	return strconv.ParseBool(strings.ToLower(n.Value))
}

// Int reads a decimal YAML integer of the given bit size.
func Int(n *yaml.Node, bits int) (int64, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, notString(n, "an integer")
	}
	i, err := strconv.ParseInt(n.Value, 10, bits)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("must be an integer between %d and %d, got %s", int64(-1)<<(bits-1), int64(1<<(bits-1)-1), Quote(n.Value))
	}
	if err != nil {
		return 0, fmt.Errorf("must be a decimal integer, got %s", Quote(n.Value))
	}
	return i, nil
}

// Uint reads a non-negative decimal YAML integer.
func Uint(n *yaml.Node) (uint64, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, notString(n, "a non-negative integer")
	}
	i, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a non-negative integer, got %s", Quote(n.Value))
	}
	return i, nil
}

// Number reads a finite YAML number (an integer or a float, unquoted).
func Number(n *yaml.Node) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, notString(n, "a number")
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("must be a finite number, got %s", Quote(n.Value))
	}
	return f, nil
}

// QuoteMax is the most bytes of a value an error message quotes.
const QuoteMax = 64

// Quote quotes a value for a message, cut to QuoteMax bytes.
func Quote(s string) string { return limitio.Quote(s, QuoteMax) }

// Key is a mapping key as it appears in a field path: as written when
// short and printable, else quoted and cut (a 5 MB key must not make a
// 5 MB path).
func Key(k string) string {
	if len(k) <= QuoteMax && utf8.ValidString(k) && !strings.ContainsFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return k
	}
	return Quote(k)
}

func typeWord(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float64:
		return "a number"
	}
	return "a value"
}

// fieldsOf caches Fields by type (a struct is decoded once per mapping
// that fills it, up to maxVisits times).
var fieldsOf sync.Map // reflect.Type → fieldSet

type fieldSet struct {
	index map[string][]int
	names []string
}

// Fields maps the YAML names of struct type t's fields to their indexes
// (for reflect's FieldByIndex; embedded ",inline" structs are flattened)
// and lists the names sorted. The results are shared: do not modify
// them.
func Fields(t reflect.Type) (map[string][]int, []string) {
	if f, ok := fieldsOf.Load(t); ok {
		return f.(fieldSet).index, f.(fieldSet).names
	}
	m, names := fields(t)
	fieldsOf.Store(t, fieldSet{m, names})
	return m, names
}

func fields(t reflect.Type) (map[string][]int, []string) {
	m := map[string][]int{}
	var names []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			idx := append(slices.Clip(prefix), i)
			switch {
			case name == "-":
				continue
			case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
				walk(f.Type, idx)
				continue
			case name == "":
				name = strings.ToLower(f.Name[:1]) + f.Name[1:]
			}
			m[name] = idx
			names = append(names, name)
		}
	}
	walk(t, nil)
	slices.Sort(names)
	return m, names
}

// Message formats an input error as the project prints them:
// "file:line: path: msg", leaving out what is unknown ("line N: " when
// there is a line but no file).
func Message(file string, line int, path, msg string) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		if line > 0 {
			fmt.Fprintf(&b, ":%d", line)
		}
		b.WriteString(": ")
	} else if line > 0 {
		fmt.Fprintf(&b, "line %d: ", line)
	}
	if path != "" {
		if len(path) > MessageMax/4 {
			path = path[:MessageMax/4] + "…"
		}
		b.WriteString(path)
		b.WriteString(": ")
	}
	if len(msg) > MessageMax {
		cut := MessageMax
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = fmt.Sprintf("%s… (message cut at %d of %d bytes)", msg[:cut], cut, len(msg))
	}
	b.WriteString(msg)
	return b.String()
}

// MessageMax bounds the message part of Message: what a value, a key
// or a file echoed into an error can add to it.
const MessageMax = 2048
