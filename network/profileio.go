package network

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
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
		buf.WriteString("# Regenerate: " + commentSafe(f.Provenance.Command) + "\n")
	}
	var table bytes.Buffer
	if err := f.WriteTable(&table); err != nil {
		return err
	}
	buf.WriteString("#\n")
	for _, l := range strings.Split(strings.TrimRight(table.String(), "\n"), "\n") {
		buf.WriteString(strings.TrimRight("# "+commentSafe(l), " ") + "\n")
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

// commentSafe escapes what could end a YAML comment line or corrupt the
// file: line breaks (YAML's \n, \r, NEL, LS, PS), other control and
// non-printing characters, and bytes that are not UTF-8, each written as
// a Go escape (\n, \u2028, \xff). Tabs and printable text stay.
func commentSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\t' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// ReadProfile reads a profile file strictly: unknown keys, duplicate
// keys and wrong types are errors naming the file, the line and the
// field path (profile.yaml:12: bands[1].bandwidth: ...); so is a
// profile Validate rejects. The provenance is nil if the file has none;
// its Fit holds the file's fit: section.
//
// At most limitio.Profile bytes are read; a longer input is a
// *limitio.TooLargeError naming the file and the limit.
func ReadProfile(name string, r io.Reader) (*Profile, *Provenance, error) {
	data, err := limitio.ReadAll(r, name, limitio.Profile, ProfileFileKind)
	if err != nil {
		return nil, nil, err
	}
	return parseProfile(name, data)
}

// ProfileFileKind names profile files in size-limit messages.
const ProfileFileKind = "network profile"

// ReadProfileFile reads the profile file at path (see ReadProfile); a
// folder, or a file over limitio.Profile bytes (/dev/zero), is refused
// naming the file. Errors name the file as given.
func ReadProfileFile(path string) (*Profile, *Provenance, error) {
	data, err := limitio.ReadFile(path, limitio.Profile, ProfileFileKind)
	if err != nil {
		return nil, nil, err
	}
	return parseProfile(path, data)
}

func parseProfile(name string, data []byte) (*Profile, *Provenance, error) {
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
	if err := decodeBinary(n, name); err != nil {
		return nil, nil, err
	}
	d := &strictyaml.Decoder{
		Err: func(path string, line int, msg string) error {
			return &InputError{File: name, Line: line, Field: clipText(path), Msg: clipMsg(msg)}
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
		return nil, nil, &InputError{File: name, Line: lines["kind"], Field: "kind", Msg: fmt.Sprintf("%s: want %s", quote(doc.Kind), ProfileKind)}
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

// clipMsg cuts a message built elsewhere (the strict decoder quotes
// values) to a bounded length, saying how long it was.
func clipMsg(msg string) string {
	const most = 300
	if len(msg) <= most {
		return msg
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (a %d-byte message)", msg[:cut], len(msg))
}

// decodeBinary turns the !!binary scalars of the tree into the strings
// they encode: the YAML encoder writes a string that is not valid UTF-8
// (a file name of arbitrary bytes) as base64 under !!binary, and such a
// name must read back as written.
func decodeBinary(n *yaml.Node, file string) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!binary" {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err != nil {
			return &InputError{File: file, Line: n.Line, Msg: "!!binary value: not base64: " + err.Error()}
		}
		n.Value, n.Tag, n.Style = string(b), "!!str", yaml.DoubleQuotedStyle
		return nil
	}
	for _, c := range n.Content {
		if err := decodeBinary(c, file); err != nil {
			return err
		}
	}
	return nil
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
