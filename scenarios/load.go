package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/internal/strictyaml"
	"github.com/convergesim/converge/workloads/apps"
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
	shapes := splitAppShapes(doc)
	if err := d.Decode(doc, reflect.ValueOf(sc).Elem(), ""); err != nil {
		return nil, withOrigin(withFile(err, name), applied)
	}
	sc.Policy.Sections = sections
	if err := decodeAppShapes(d, sc, shapes); err != nil {
		return nil, withOrigin(withFile(err, name), applied)
	}
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

// appCommon are the keys of workloads[].app that every model has; the
// others belong to the model's job shape.
var appCommon = map[string]bool{}

func init() {
	_, names := strictyaml.Fields(reflect.TypeFor[AppSpec]())
	for _, n := range names {
		appCommon[n] = true
	}
}

// splitAppShapes takes the keys of each workload's app block that are
// not common to every model out of the block (so the schema's decoder
// sees the common ones only) and returns them by workload index.
func splitAppShapes(doc *yaml.Node) map[int]*yaml.Node {
	ws := mappingValue(doc, "workloads")
	if ws == nil || ws.Kind != yaml.SequenceNode {
		return nil
	}
	out := map[int]*yaml.Node{}
	for i, w := range ws.Content {
		app := mappingValue(w, "app")
		if app == nil || app.Kind != yaml.MappingNode {
			continue
		}
		common := &yaml.Node{Kind: yaml.MappingNode, Tag: app.Tag, Line: app.Line, Column: app.Column}
		shape := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: app.Line, Column: app.Column}
		for k := 0; k+1 < len(app.Content); k += 2 {
			key := app.Content[k]
			if key.Kind == yaml.ScalarNode && !appCommon[key.Value] && key.Tag != "!!merge" {
				shape.Content = append(shape.Content, key, app.Content[k+1])
				continue
			}
			common.Content = append(common.Content, key, app.Content[k+1])
		}
		*app = *common
		out[i] = shape
	}
	return out
}

// mappingValue is the value of key in mapping n (aliases followed), or
// nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// decodeAppShapes decodes each app block's model keys into the job
// shape its model registers. An unknown model is left to validation
// (Job stays nil); a key the model does not have is an error listing
// the keys the block may hold.
func decodeAppShapes(d *strictyaml.Decoder, sc *Scenario, shapes map[int]*yaml.Node) error {
	for i := range sc.Workloads {
		a := sc.Workloads[i].App
		if a == nil {
			continue
		}
		app, err := apps.Lookup(a.Model)
		if err != nil {
			continue
		}
		job := app.Job()
		path := fmt.Sprintf("workloads[%d].app", i)
		if n := shapes[i]; n != nil && len(n.Content) > 0 {
			fields, names := strictyaml.Fields(reflect.TypeOf(job).Elem())
			for k := 0; k+1 < len(n.Content); k += 2 {
				key := n.Content[k]
				if _, ok := fields[key.Value]; !ok {
					valid := slices.Sorted(maps.Keys(appCommon))
					valid = append(valid, names...)
					slices.Sort(valid)
					return &Error{Path: path + "." + strictyaml.Key(key.Value), Line: key.Line,
						Msg: fmt.Sprintf("unknown field for the %s model; valid fields: %s", a.Model, strings.Join(valid, ", "))}
				}
			}
			if err := d.Decode(n, reflect.ValueOf(job).Elem(), path); err != nil {
				return err
			}
		}
		a.Job = job
	}
	return nil
}
