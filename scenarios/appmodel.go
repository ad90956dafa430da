package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/workloads/apps"
)

// appFileDoc is an application parameter file as written: the
// parameters block of each fit is kept as YAML until the app is known.
type appFileDoc struct {
	Kind        string      `yaml:"kind"`
	Version     int         `yaml:"version"`
	App         string      `yaml:"app"`
	Description string      `yaml:"description"`
	Fits        []appFitDoc `yaml:"fits"`
}

type appFitDoc struct {
	Name         string             `yaml:"name"`
	Hardware     string             `yaml:"hardware"`
	Node         apps.Node          `yaml:"node"`
	Parameters   rawNode            `yaml:"parameters"`
	Environments []apps.Environment `yaml:"environments"`
	Provenance   apps.Provenance    `yaml:"provenance"`
}

// rawNode keeps a YAML subtree for a second pass.
type rawNode struct{ n *yaml.Node }

func (r *rawNode) decodeYAML(n *yaml.Node) error {
	r.n = n
	return nil
}

// LoadAppModel reads an application parameter file (scenarios/apps/*.yaml,
// kind AppModel, version 1) strictly: unknown keys, duplicate keys,
// wrong types, an unknown app and impossible parameters are errors
// naming the file, the line and the field path.
func LoadAppModel(path string) (*apps.File, error) {
	data, err := limitio.ReadFile(path, limitio.Profile, "app model")
	if err != nil {
		return nil, fmt.Errorf("cannot read app model: %w", err)
	}
	return ParseAppModel(path, data)
}

// ParseAppModel is LoadAppModel on data; name is used in messages.
func ParseAppModel(name string, data []byte) (*apps.File, error) {
	doc, err := parseKindFile(name, data, appModelKind, "app model",
		"not an app model file (a YAML mapping with kind: AppModel, version, app and fits)")
	if err != nil {
		return nil, err
	}
	d := newDecoder()
	var raw appFileDoc
	if err := d.Decode(doc, reflect.ValueOf(&raw).Elem(), ""); err != nil {
		return nil, withFile(err, name)
	}
	f := &apps.File{Kind: raw.Kind, Version: raw.Version, App: raw.App, Description: raw.Description}
	for i, rf := range raw.Fits {
		fit := apps.Fit{Name: rf.Name, Hardware: rf.Hardware, Node: rf.Node, Environments: rf.Environments, Provenance: rf.Provenance}
		path := fmt.Sprintf("fits[%d].parameters", i)
		if rf.Parameters.n != nil {
			p, err := apps.NewParams(raw.App)
			if err != nil {
				return nil, &Error{File: name, Line: d.Lines()["app"], Path: "app", Msg: short(errors.New(strings.TrimPrefix(err.Error(), apps.ErrInvalid.Error()+": ")))}
			}
			if err := d.Decode(rf.Parameters.n, reflect.ValueOf(p).Elem(), path); err != nil {
				return nil, withFile(err, name)
			}
			fit.Parameters = p
		}
		f.Fits = append(f.Fits, fit)
	}
	if err := f.Validate(); err != nil {
		var fe *apps.FieldError
		if errors.As(err, &fe) {
			return nil, &Error{File: name, Line: lineOf(d.Lines(), fe.Field), Path: fe.Field, Msg: fe.Msg}
		}
		return nil, &Error{File: name, Msg: short(err)}
	}
	return f, nil
}

// lineOf is the line of path or of its nearest recorded ancestor.
func lineOf(lines map[string]int, path string) int {
	for p := path; p != ""; {
		if l, ok := lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// appModelKind is the kind of an application parameter file.
const appModelKind = "AppModel"

// parseKindFile parses data as one YAML mapping whose kind is kind and
// returns it. The kind is checked before anything else is read, since
// the strict decoder's messages would quote the keys and values of a
// file that is not ours (a scenario naming /etc/passwd as a model);
// what names the kind in the message ("app model"), notMsg says what a
// file of the kind looks like.
func parseKindFile(name string, data []byte, kind, what, notMsg string) (*yaml.Node, error) {
	doc, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if doc == nil || doc.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Msg: notMsg}
	}
	if k := kindNode(doc); k == nil {
		return nil, &Error{File: name, Line: doc.Line, Msg: notMsg}
	} else if k.Value != kind {
		return nil, &Error{File: name, Line: k.Line, Path: "kind", Msg: "must be " + kind + " (this is not " + article(what) + " " + what + " file)"}
	}
	return doc, nil
}
