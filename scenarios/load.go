package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/internal/strictyaml"
)

// Load reads, overrides and validates a scenario file. The file is read
// with the scenario size limit (limitio.Scenario).
func Load(path string, ov Overrides) (*Scenario, error) {
	data, err := ReadScenario(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, ov)
}

// ReadScenario reads a scenario file, refusing a folder and anything
// over limitio.Scenario bytes (/dev/zero, a log instead of a scenario).
func ReadScenario(path string) ([]byte, error) {
	data, err := limitio.ReadFile(path, limitio.Scenario, "scenario")
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario: %w", err)
	}
	return data, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError locates a syntax error of the YAML parser.
func yamlError(name string, err error) *Error {
	e := &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	return e
}

// parseDocument parses data as one YAML document: nil if it is empty,
// an error if it holds a second document (which would be ignored).
func parseDocument(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, yamlError(name, err)
	default:
		return nil, &Error{File: name, Line: next.Line, Msg: "a second YAML document (after ---): the file must hold one"}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return root.Content[0], nil
}

// Parse reads a scenario from data; name is used in messages. The
// scenario it returns lists the overrides it applied (Applied) and the
// warnings for the caller to print (Warnings); every error is an *Error.
func Parse(name string, data []byte, ov Overrides) (*Scenario, error) {
	doc, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, &Error{File: name, Msg: "empty scenario (expected a mapping with version, cluster, policy and workloads)"}
	}
	if doc.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: doc.Line, Msg: "a scenario must be a mapping with version, cluster, policy and workloads"}
	}
	applied, warnings, err := applyOverrides(doc, ov)
	if err != nil {
		return nil, withFile(err, name)
	}
	sc := &Scenario{Seed: 1, Applied: applied, Warnings: warnings}
	d := newDecoder()
	sections, err := decodeSections(d, doc)
	if err != nil {
		return nil, withOrigin(withFile(err, name), applied)
	}
	if err := d.Decode(doc, reflect.ValueOf(sc).Elem(), ""); err != nil {
		return nil, withOrigin(withFile(err, name), applied)
	}
	sc.Policy.Sections = sections
	sc.lines, sc.file = d.Lines(), name
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	if err := validate(sc, filepath.Dir(name)); err != nil {
		return nil, withFile(err, name)
	}
	return sc, nil
}

func withFile(err error, name string) error {
	if e, ok := err.(*Error); ok {
		e.File = name
		return e
	}
	return &Error{File: name, Msg: err.Error()}
}

// withOrigin says which override set the value an error is about (its
// line would be the file's, which does not hold that value).
func withOrigin(err error, applied []Override) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	if o := originOf(applied, e.Path); o != nil {
		e.Line = 0
		e.Msg += " (set by " + o.origin() + ")"
	}
	return e
}

// locator places a problem at a field path: the line of the value (or
// of its nearest ancestor in the file), or the override that set it.
type locator struct {
	lines   map[string]int
	applied []Override
}

// line returns the line of path or of its nearest ancestor in the file.
func (l *locator) line(path string) int {
	for p := path; p != ""; {
		if n, ok := l.lines[p]; ok && n > 0 {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (l *locator) errf(path, format string, args ...any) *Error {
	if o := originOf(l.applied, path); o != nil {
		return errorf(path, 0, format+" (set by %s)", append(args, o.origin())...)
	}
	return errorf(path, l.line(path), format, args...)
}

func (l *locator) given(path string) bool {
	_, ok := l.lines[path]
	return ok
}

// key bounds a user-given name in a message.
var quote = strictyaml.Quote

// decodeSections decodes the configuration sections of the policy
// block (every key but name) into the types their models register, and
// leaves the block with its name only for the schema's decoder. A key
// that is no registered section is an error listing the valid ones.
func decodeSections(d *strictyaml.Decoder, doc *yaml.Node) (map[string]any, error) {
	var block *yaml.Node
	at := -1
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "policy" {
			block, at = doc.Content[i+1], i+1
		}
	}
	for block != nil && block.Kind == yaml.AliasNode {
		block = block.Alias
	}
	if block == nil || block.Kind != yaml.MappingNode {
		return nil, nil // the schema's decoder reports what is wrong
	}
	kept := &yaml.Node{Kind: yaml.MappingNode, Tag: block.Tag, Line: block.Line, Column: block.Column}
	out := map[string]any{}
	for i := 0; i+1 < len(block.Content); i += 2 {
		k, val := block.Content[i], block.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "name" || k.Tag == "!!merge" {
			kept.Content = append(kept.Content, k, val)
			continue
		}
		path := "policy." + strictyaml.Key(k.Value)
		sec := Policies.Section(k.Value)
		if sec == nil {
			return nil, &Error{Path: path, Line: k.Line, Msg: fmt.Sprintf("unknown field; valid fields: %s", strings.Join(append([]string{"name"}, Policies.SectionNames()...), ", "))}
		}
		if _, dup := out[k.Value]; dup {
			return nil, &Error{Path: path, Line: k.Line, Msg: "duplicate key"}
		}
		v := sec.Default()
		if err := d.Decode(val, reflect.ValueOf(v).Elem(), path); err != nil {
			return nil, err
		}
		out[k.Value] = v
	}
	doc.Content[at] = kept
	return out, nil
}
