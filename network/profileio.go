package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Profile files: YAML with kind NetworkProfile and version 1, the
// profile's fields at the top level, then optionally the fit: section
// (errors per band and per input) and provenance: (inputs with their
// SHA-256, the command, which samples each parameter came from).
const (
	ProfileKind    = "NetworkProfile"
	ProfileVersion = 1
)

type profileDoc struct {
	Kind       string `yaml:"kind"`
	Version    int    `yaml:"version"`
	Profile    `yaml:",inline"`
	Fit        *FitReport  `yaml:"fit,omitempty"`
	Provenance *Provenance `yaml:"provenance,omitempty"`
}

// WriteProfile writes a fitted profile as a profile file: a comment
// with the fit's error table, the profile, the fit: section and the
// provenance. The output depends only on f.
func WriteProfile(w io.Writer, f *Fit) error {
	if f == nil {
		return errors.New("network: write profile: nil fit")
	}
	if err := f.Profile.Validate(); err != nil {
		return fmt.Errorf("network: write profile: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("# converge network profile (" + ProfileKind + "), written by `sim fit network`.\n")
	if f.Provenance.Command != "" {
		buf.WriteString("# Regenerate: " + f.Provenance.Command + "\n")
	}
	var table bytes.Buffer
	if err := f.WriteTable(&table); err != nil {
		return err
	}
	buf.WriteString("#\n")
	for _, l := range strings.Split(strings.TrimRight(table.String(), "\n"), "\n") {
		buf.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	doc := profileDoc{Kind: ProfileKind, Version: ProfileVersion, Profile: f.Profile, Fit: &f.Report}
	prov := f.Provenance
	doc.Provenance = &prov
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("network: write profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("network: write profile: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadProfile reads a profile file strictly: unknown keys, duplicate
// keys and wrong types are errors naming the file, the line and the
// field path (profile.yaml:12: bands[1].bandwidth: ...); so is a
// profile Validate rejects. The provenance is nil if the file has none;
// its Fit holds the file's fit: section.
func ReadProfile(name string, r io.Reader) (*Profile, *Provenance, error) {
	data, err := readLimited(name, r)
	if err != nil {
		return nil, nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if num, tail, ok := strings.Cut(rest, ": "); ok {
				if n, err := strconv.Atoi(num); err == nil {
					line, msg = n, tail
				}
			}
		}
		return nil, nil, &InputError{File: name, Line: line, Msg: msg}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, nil, &InputError{File: name, Msg: "empty profile file"}
	}
	n := root.Content[0]
	d := &yamlDecoder{file: name, lines: map[string]int{}}
	var doc profileDoc
	if err := d.decode(n, reflect.ValueOf(&doc).Elem(), ""); err != nil {
		return nil, nil, err
	}
	switch {
	case doc.Kind == "":
		return nil, nil, &InputError{File: name, Line: n.Line, Field: "kind", Msg: "missing (want " + ProfileKind + ")"}
	case doc.Kind != ProfileKind:
		return nil, nil, &InputError{File: name, Line: d.lines["kind"], Field: "kind", Msg: fmt.Sprintf("%q: want %s", doc.Kind, ProfileKind)}
	case doc.Version != ProfileVersion:
		return nil, nil, &InputError{File: name, Line: d.lines["version"], Field: "version", Msg: fmt.Sprintf("%d: this build reads version %d", doc.Version, ProfileVersion)}
	}
	p := doc.Profile
	if err := p.Validate(); err != nil {
		field, line := d.locate(err.Error())
		return nil, nil, &InputError{File: name, Line: line, Field: field, Msg: err.Error()}
	}
	prov := doc.Provenance
	if doc.Fit != nil {
		if prov == nil {
			prov = &Provenance{}
		}
		prov.Fit = doc.Fit
	}
	return &p, prov, nil
}

// yamlDecoder fills Go values from a YAML node tree strictly, recording
// the line of every field path.
type yamlDecoder struct {
	file   string
	lines  map[string]int
	depth  int
	visits int
}

const (
	maxYAMLDepth  = 64
	maxYAMLVisits = 1_000_000
)

// locate finds the longest recorded field path that a validation
// message names, and its line.
func (d *yamlDecoder) locate(msg string) (string, int) {
	paths := make([]string, 0, len(d.lines))
	for p := range d.lines {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		if len(paths[i]) != len(paths[j]) {
			return len(paths[i]) > len(paths[j])
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		if p != "" && strings.Contains(msg, ": "+p+":") {
			return "", d.lines[p]
		}
	}
	return "", 0
}

func (d *yamlDecoder) errf(path string, line int, format string, a ...any) error {
	return &InputError{File: d.file, Line: line, Field: path, Msg: fmt.Sprintf(format, a...)}
}

func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func (d *yamlDecoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	d.depth++
	defer func() { d.depth-- }()
	d.visits++
	if d.depth > maxYAMLDepth {
		return d.errf(path, n.Line, "nested too deeply (a recursive alias?)")
	}
	if d.visits > maxYAMLVisits {
		return d.errf(path, n.Line, "document too large (alias expansion?)")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return d.errf(path, n.Line, "unknown alias")
		}
		n = n.Alias
	}
	d.lines[path] = n.Line
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
		if n.Kind != yaml.MappingNode {
			return d.errf(path, n.Line, "must be a mapping, got %s", yamlKind(n))
		}
		fields := map[string]reflect.Value{}
		var names []string
		collectFields(v, fields, &names)
		slices.Sort(names)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kp := joinPath(path, k.Value)
			if k.Kind != yaml.ScalarNode {
				return d.errf(path, k.Line, "keys must be strings")
			}
			if seen[k.Value] {
				return d.errf(kp, k.Line, "duplicate key")
			}
			seen[k.Value] = true
			fv, ok := fields[k.Value]
			if !ok {
				return d.errf(kp, k.Line, "unknown field; valid fields: %s", strings.Join(names, ", "))
			}
			if err := d.decode(val, fv, kp); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errf(path, n.Line, "must be a list, got %s", yamlKind(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return d.errf(path, n.Line, "must be %s, got %s", yamlTypeWord(v.Kind()), yamlKind(n))
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" {
			return d.errf(path, n.Line, "must be a string, got %s (quote it)", yamlKind(n))
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, v.Type().Bits())
		if err != nil || n.Tag == "!!str" {
			return d.errf(path, n.Line, "must be an integer, got %s", yamlKind(n))
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || n.Tag == "!!str" || math.IsNaN(f) || math.IsInf(f, 0) {
			return d.errf(path, n.Line, "must be a number, got %s", yamlKind(n))
		}
		v.SetFloat(f)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return d.errf(path, n.Line, "must be true or false, got %s", yamlKind(n))
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	default:
		return d.errf(path, n.Line, "unsupported field type %s", v.Type())
	}
	return nil
}

func yamlTypeWord(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a value"
}

// collectFields maps YAML names to the settable fields of struct v,
// flattening ",inline" embedded structs and skipping "-".
func collectFields(v reflect.Value, out map[string]reflect.Value, names *[]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			collectFields(v.Field(i), out, names)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = v.Field(i)
		*names = append(*names, name)
	}
}
