package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/launchers"
)

// launcherFileDoc is a launcher parameter file as written: each
// entry's parameters block is kept as YAML until its type is known.
type launcherFileDoc struct {
	Kind        string             `yaml:"kind"`
	Version     int                `yaml:"version"`
	Description string             `yaml:"description"`
	Launchers   []launcherEntryDoc `yaml:"launchers"`
}

type launcherEntryDoc struct {
	Name       string          `yaml:"name"`
	Type       launchers.Kind  `yaml:"type"`
	Hardware   string          `yaml:"hardware"`
	Parameters rawNode         `yaml:"parameters"`
	Provenance apps.Provenance `yaml:"provenance"`
}

const notLauncherFile = "not a launcher model file (a YAML mapping with kind: LauncherModel, version and launchers)"

// LoadLauncherModel reads a launcher parameter file
// (scenarios/launchers/*.yaml, kind LauncherModel, version 1) strictly:
// unknown keys, duplicate keys, wrong types, an unknown launcher type
// and impossible parameters are errors naming the file, the line and
// the field path.
func LoadLauncherModel(path string) (*launchers.File, error) {
	data, err := limitio.ReadFile(path, limitio.Profile, "launcher model")
	if err != nil {
		return nil, fmt.Errorf("cannot read launcher model: %w", err)
	}
	return ParseLauncherModel(path, data)
}

// ParseLauncherModel is LoadLauncherModel on data; name is used in
// messages.
func ParseLauncherModel(name string, data []byte) (*launchers.File, error) {
	doc, err := parseKindFile(name, data, launchers.FileKind, "launcher model", notLauncherFile)
	if err != nil {
		return nil, err
	}
	d := newDecoder()
	var raw launcherFileDoc
	if err := d.Decode(doc, reflect.ValueOf(&raw).Elem(), ""); err != nil {
		return nil, withFile(err, name)
	}
	f := &launchers.File{Kind: raw.Kind, Version: raw.Version, Description: raw.Description}
	for i, re := range raw.Launchers {
		e := launchers.Entry{Name: re.Name, Type: re.Type, Hardware: re.Hardware, Provenance: re.Provenance}
		if re.Parameters.n != nil {
			p, err := launchers.NewParams(re.Type)
			if err != nil {
				path := fmt.Sprintf("launchers[%d].type", i)
				return nil, &Error{File: name, Line: lineOf(d.Lines(), path), Path: path,
					Msg: short(errors.New(strings.TrimPrefix(err.Error(), launchers.ErrInvalid.Error()+": ")))}
			}
			if err := d.Decode(re.Parameters.n, reflect.ValueOf(p).Elem(), fmt.Sprintf("launchers[%d].parameters", i)); err != nil {
				return nil, withFile(err, name)
			}
			e.Parameters = p
		}
		f.Launchers = append(f.Launchers, e)
	}
	if err := f.Validate(); err != nil {
		var fe *launchers.FieldError
		if errors.As(err, &fe) {
			return nil, &Error{File: name, Line: lineOf(d.Lines(), fe.Field), Path: fe.Field, Msg: fe.Msg}
		}
		return nil, &Error{File: name, Msg: short(err)}
	}
	return f, nil
}
