package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/strictyaml"
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
	d := &strictyaml.Decoder{
		Err: func(path string, line int, msg string) error {
			return &InputError{File: name, Line: line, Field: path, Msg: msg}
		},
		Strict:     true,
		NullSlices: true,
	}
	var doc profileDoc
	if err := d.Decode(n, reflect.ValueOf(&doc).Elem(), ""); err != nil {
		return nil, nil, err
	}
	lines := d.Lines()
	switch {
	case doc.Kind == "":
		return nil, nil, &InputError{File: name, Line: n.Line, Field: "kind", Msg: "missing (want " + ProfileKind + ")"}
	case doc.Kind != ProfileKind:
		return nil, nil, &InputError{File: name, Line: lines["kind"], Field: "kind", Msg: fmt.Sprintf("%q: want %s", doc.Kind, ProfileKind)}
	case doc.Version != ProfileVersion:
		return nil, nil, &InputError{File: name, Line: lines["version"], Field: "version", Msg: fmt.Sprintf("%d: this build reads version %d", doc.Version, ProfileVersion)}
	}
	p := doc.Profile
	if err := p.Validate(); err != nil {
		field, line := locate(lines, err.Error())
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

// locate finds the longest recorded field path that a validation
// message names, and its line.
func locate(lines map[string]int, msg string) (string, int) {
	paths := make([]string, 0, len(lines))
	for p := range lines {
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
			return "", lines[p]
		}
	}
	return "", 0
}
