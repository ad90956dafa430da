package scenarios

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/internal/strictyaml"
)

// A sweep file (SWEEP.yaml) runs one base scenario at many points: each
// point is the base with some values overridden, exactly as `sim run
// BASE --set path=value ...` would run it.
//
//	version: 1
//	name: fluence-vs-kube            # default: the file's name
//	base: ../fluence-vs-kube.yaml    # relative to the sweep file
//	mode: cartesian                  # or zip; default cartesian
//	axes:
//	  - path: policy.name            # any scenario key, as --set names it
//	    values: [kube, coscheduling, fluence]
//	  - seeds: 10                    # replicates: seed = 1 … 10
//
// An axis of variants sets several keys at each of its points, under a
// name of its own (the column of sweep.csv), as `sim compare --policy
// fluence,policy.fluence.assign=by-slot` does:
//
//	  - name: policy
//	    variants:
//	      - {name: kube, set: [policy.name=kube]}
//	      - {name: fluence-by-slot, set: [policy.name=fluence, policy.fluence.assign=by-slot]}
//
// In cartesian mode the points are every combination of the axes' values,
// the first axis varying slowest; in zip mode the axes have equal lengths
// and point i takes the i-th value of each.

// SweepVersion is the sweep file schema this build reads.
const SweepVersion = 1

// MaxSweepPoints bounds the points a sweep file may expand to.
const MaxSweepPoints = 1_000_000

// Sweep is a loaded, expanded and checked sweep file.
type Sweep struct {
	File     string // the sweep file as given
	SHA256   string // of the sweep file's bytes
	Name     string
	Base     string // the base scenario as the sweep file writes it
	BasePath string // the base scenario's path (Base relative to the sweep file's folder)
	BaseData []byte // the base scenario's bytes
	Mode     string // "cartesian" or "zip"
	Axes     []SweepAxis
	Points   []SweepPoint
	// Env is the environment the points were checked with (nil: the
	// process's), passed on by Scenario.
	Env []string
}

// SweepAxis is one axis of a sweep.
type SweepAxis struct {
	Path   string   // the scenario key it sets, canonical (policy.name, cluster.pools[0].count)
	Values []string // each value as --set writes it (YAML, flow style)
	Line   int      // the axis's line in the sweep file
	lines  []int    // each value's line
	seeds  bool     // written as seeds: N
	// variants are, for an axis of variants (Path is then its name and
	// Values the variants' names), the settings of each variant.
	variants [][]Setting
}

// SweepPoint is one point of a sweep.
type SweepPoint struct {
	Index    int
	ID       string // p0000-<first 8 hex digits of the sha256 of its settings>
	Settings []Setting
}

// Setting is one value a point sets.
type Setting struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Sets returns the point's settings as --set arguments (key=value).
func (p *SweepPoint) Sets() []string {
	out := make([]string, len(p.Settings))
	for i, s := range p.Settings {
		out[i] = s.Path + "=" + s.Value
	}
	return out
}

// String describes the point: "p0003-1a2b3c4d (policy.name=kube, seed=4)".
func (p *SweepPoint) String() string {
	return p.ID + " (" + strings.Join(p.Sets(), ", ") + ")"
}

// Scenario loads the point's scenario: the base with the point's
// settings applied as --set overrides (SIM_ variables from the sweep's
// environment below them, as for `sim run`).
func (s *Sweep) Scenario(p *SweepPoint) (*Scenario, error) {
	return Parse(s.BasePath, s.BaseData, Overrides{Set: s.Sets(p), Env: s.Env})
}

// Sets returns the --set arguments of a point: each axis's key=value, a
// variant's settings in its place.
func (s *Sweep) Sets(p *SweepPoint) []string {
	var out []string
	for a, st := range p.Settings {
		ax := &s.Axes[a]
		if ax.variants == nil {
			out = append(out, st.Path+"="+st.Value)
			continue
		}
		for _, v := range ax.variants[s.valueIndex(p, a)] {
			out = append(out, v.Path+"="+v.Value)
		}
	}
	return out
}

// settingPaths are the keys axis a sets.
func (ax *SweepAxis) settingPaths() []string {
	if ax.variants == nil {
		return []string{ax.Path}
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range ax.variants {
		for _, st := range v {
			if !seen[st.Path] {
				seen[st.Path] = true
				out = append(out, st.Path)
			}
		}
	}
	return out
}

// sweepDoc is the file's schema.
type sweepDoc struct {
	Version int         `yaml:"version"`
	Name    string      `yaml:"name"`
	Base    string      `yaml:"base"`
	Mode    string      `yaml:"mode"`
	Axes    []sweepAxis `yaml:"axes"`
}

type sweepAxis struct {
	Path     string         `yaml:"path"`
	Values   []axisValue    `yaml:"values"`
	Seeds    *int           `yaml:"seeds"`
	Name     string         `yaml:"name"`
	Variants []sweepVariant `yaml:"variants"`
}

// sweepVariant is one point of an axis of variants: its name and the
// --set values it applies.
type sweepVariant struct {
	Name string   `yaml:"name"`
	Set  []string `yaml:"set"`
}

// axisValue is any YAML value of an axis, kept as its node.
type axisValue struct{ node *yaml.Node }

// LoadSweep reads a sweep file, its base scenario, expands its points
// and checks each point's scenario (env: the environment for SIM_
// variables; nil reads the process's). Every error is an *Error naming
// the sweep file (or the base scenario), the line and the field.
func LoadSweep(path string, env []string) (*Sweep, error) {
	data, err := limitio.ReadFile(path, limitio.Scenario, "sweep")
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read sweep file: %v", err)}
	}
	return ParseSweep(path, data, env)
}

// ParseSweep is LoadSweep of a sweep file already read (name: its
// path, for messages and to find the base scenario).
func ParseSweep(name string, data []byte, env []string) (*Sweep, error) {
	doc, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, &Error{File: name, Msg: "empty sweep file (expected a mapping with version, base and axes)"}
	}
	if doc.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: doc.Line, Msg: "a sweep file must be a mapping with version, base and axes"}
	}
	d := &strictyaml.Decoder{
		Err: func(path string, line int, msg string) error {
			return &Error{File: name, Path: path, Line: line, Msg: msg}
		},
		Custom: func(p any) func(*yaml.Node) error {
			if v, ok := p.(*axisValue); ok {
				return v.decode
			}
			return nil
		},
		Join:       join,
		Suggest:    true,
		Strict:     true,
		NullSlices: true,
	}
	var sd sweepDoc
	if err := d.Decode(doc, reflect.ValueOf(&sd).Elem(), ""); err != nil {
		return nil, err
	}
	lines := d.Lines()
	at := func(path string) int {
		if l, ok := lines[path]; ok {
			return l
		}
		return doc.Line
	}
	fail := func(path, format string, a ...any) error {
		return &Error{File: name, Line: at(path), Path: path, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case sd.Version == 0:
		return nil, &Error{File: name, Line: doc.Line, Path: "version", Msg: fmt.Sprintf("missing (write version: %d)", SweepVersion)}
	case sd.Version != SweepVersion:
		return nil, fail("version", "%d: this build reads sweep files of version %d", sd.Version, SweepVersion)
	case sd.Base == "":
		return nil, &Error{File: name, Line: doc.Line, Path: "base", Msg: "missing: the base scenario file, relative to the sweep file"}
	case len(sd.Axes) == 0:
		return nil, &Error{File: name, Line: at("axes"), Path: "axes", Msg: "missing: at least one axis ({path: KEY, values: [...]} or {seeds: N})"}
	}
	sw := &Sweep{File: name, Name: sd.Name, Base: sd.Base, Mode: sd.Mode, Env: env}
	sum := sha256.Sum256(data)
	sw.SHA256 = hex.EncodeToString(sum[:])
	if sw.Name == "" {
		sw.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	} else if err := checkSweepName(sw.Name); err != nil {
		return nil, fail("name", "%v", err)
	}
	switch sw.Mode {
	case "":
		sw.Mode = "cartesian"
	case "cartesian", "zip":
	default:
		return nil, fail("mode", "%s: want cartesian or zip", strictyaml.Quote(sw.Mode))
	}
	for i, a := range sd.Axes {
		ap := fmt.Sprintf("axes[%d]", i)
		ax, err := sweepAxisOf(a, ap, at)
		if err != nil {
			err.File = name
			return nil, err
		}
		for j, prev := range sw.Axes {
			for _, p := range ax.settingPaths() {
				for _, q := range prev.settingPaths() {
					if overlaps(q, p) {
						return nil, fail(ap, "%s overlaps axes[%d] (%s): each key may be set by one axis", p, j, q)
					}
				}
			}
			if prev.Path == ax.Path {
				return nil, fail(ap, "%s is the name of axes[%d] too", ax.Path, j)
			}
		}
		sw.Axes = append(sw.Axes, ax)
	}
	if err := sw.expand(); err != nil {
		err.File = name
		return nil, err
	}
	// The base scenario, relative to the sweep file.
	sw.BasePath = sd.Base
	if !filepath.IsAbs(sw.BasePath) {
		sw.BasePath = filepath.Join(filepath.Dir(name), sd.Base)
	}
	sw.BaseData, err = ReadScenario(sw.BasePath)
	if err != nil {
		return nil, fail("base", "%v", err)
	}
	if err := sw.check(); err != nil {
		return nil, err
	}
	return sw, nil
}

// checkSweepName refuses a name that cannot be a folder name.
func checkSweepName(n string) error {
	if n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || len(n) > 200 {
		return fmt.Errorf("%s: a sweep's name names its output folder (out/<name>): no slashes", strictyaml.Quote(n))
	}
	return nil
}

func (v *axisValue) decode(n *yaml.Node) error {
	if err := plainValue(n, 0); err != nil {
		return err
	}
	v.node = n
	return nil
}

// plainValue refuses what a --set value cannot carry: anchors, aliases,
// tags of its own, and deep nesting.
func plainValue(n *yaml.Node, depth int) error {
	switch {
	case depth > 16:
		return fmt.Errorf("nested too deeply")
	case n.Kind == yaml.AliasNode || n.Anchor != "":
		return fmt.Errorf("anchors and aliases are not supported in axis values; write the value out")
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		return fmt.Errorf("YAML tag %s is not supported", strictyaml.Quote(n.Tag))
	}
	for _, c := range n.Content {
		if err := plainValue(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// setText is a value as --set writes it: YAML in flow style, which the
// override parser reads back to the same value (a string that looks
// like a number stays quoted).
func setText(n *yaml.Node) (string, error) {
	c := flowCopy(n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	s := strings.TrimSuffix(b.String(), "\n")
	if strings.Contains(s, "\n") {
		return "", fmt.Errorf("a value must fit on one line (write a multi-line string with \\n in double quotes)")
	}
	return s, nil
}

func flowCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		c.Style = yaml.FlowStyle
	case yaml.ScalarNode:
		if c.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			c.Style = yaml.DoubleQuotedStyle
		}
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = flowCopy(k)
	}
	return &c
}

// sweepAxisOf checks one axis and resolves its path against the
// scenario schema.
func sweepAxisOf(a sweepAxis, ap string, at func(string) int) (SweepAxis, *Error) {
	ax := SweepAxis{Line: at(ap)}
	if a.Variants != nil || a.Name != "" {
		return variantAxisOf(a, ap, at)
	}
	switch {
	case a.Seeds != nil && (a.Path != "" || a.Values != nil):
		return ax, &Error{Line: at(ap + ".seeds"), Path: ap + ".seeds", Msg: "an axis has either seeds: N or path and values, not both"}
	case a.Seeds != nil:
		n := *a.Seeds
		if n < 1 || n > MaxSweepPoints {
			return ax, &Error{Line: at(ap + ".seeds"), Path: ap + ".seeds", Msg: fmt.Sprintf("%d: want a number of replicates from 1 to %d", n, MaxSweepPoints)}
		}
		ax.Path, ax.seeds = "seed", true
		for s := 1; s <= n; s++ {
			ax.Values = append(ax.Values, strconv.Itoa(s))
			ax.lines = append(ax.lines, at(ap+".seeds"))
		}
		return ax, nil
	case a.Path == "":
		return ax, &Error{Line: at(ap), Path: ap + ".path", Msg: "missing: the scenario key this axis sets (as --set names it: policy.name, cluster.pools[0].count), or write seeds: N"}
	case len(a.Values) == 0:
		return ax, &Error{Line: at(ap), Path: ap + ".values", Msg: "missing: the list of values this axis takes"}
	case len(a.Values) > MaxSweepPoints:
		return ax, &Error{Line: at(ap + ".values"), Path: ap + ".values", Msg: fmt.Sprintf("%d values: at most %d", len(a.Values), MaxSweepPoints)}
	}
	segs, err := parseSetPath(a.Path)
	if err == nil {
		segs, err = resolve(segs)
	}
	if err != nil {
		return ax, &Error{Line: at(ap + ".path"), Path: ap + ".path", Msg: err.Error()}
	}
	ax.Path = formatPath(segs)
	seen := map[string]int{}
	for j, v := range a.Values {
		vp := fmt.Sprintf("%s.values[%d]", ap, j)
		text, err := setText(v.node)
		if err != nil {
			return ax, &Error{Line: at(vp), Path: vp, Msg: err.Error()}
		}
		if k, dup := seen[text]; dup {
			return ax, &Error{Line: at(vp), Path: vp, Msg: fmt.Sprintf("%s is values[%d] again", strictyaml.Quote(text), k)}
		}
		seen[text] = j
		ax.Values = append(ax.Values, text)
		ax.lines = append(ax.lines, at(vp))
	}
	return ax, nil
}

// variantAxisOf checks an axis of variants.
func variantAxisOf(a sweepAxis, ap string, at func(string) int) (SweepAxis, *Error) {
	ax := SweepAxis{Line: at(ap)}
	switch {
	case a.Path != "" || a.Values != nil || a.Seeds != nil:
		return ax, &Error{Line: at(ap), Path: ap, Msg: "an axis of variants has a name and variants, not path, values or seeds"}
	case a.Name == "":
		return ax, &Error{Line: at(ap), Path: ap + ".name", Msg: "missing: the axis's name (its column in sweep.csv), e.g. policy"}
	case !dnsName.MatchString(a.Name):
		return ax, &Error{Line: at(ap + ".name"), Path: ap + ".name", Msg: fmt.Sprintf("%s: want lower-case letters, digits, '-' and '.'", strictyaml.Quote(a.Name))}
	case len(a.Variants) == 0:
		return ax, &Error{Line: at(ap), Path: ap + ".variants", Msg: "missing: the variants, each {name: N, set: [key=value, ...]}"}
	case len(a.Variants) > MaxSweepPoints:
		return ax, &Error{Line: at(ap + ".variants"), Path: ap + ".variants", Msg: fmt.Sprintf("%d variants: at most %d", len(a.Variants), MaxSweepPoints)}
	}
	ax.Path = a.Name
	seen := map[string]int{}
	for j, v := range a.Variants {
		vp := fmt.Sprintf("%s.variants[%d]", ap, j)
		switch {
		case v.Name == "":
			return ax, &Error{Line: at(vp), Path: vp + ".name", Msg: "missing: the variant's name"}
		case len(v.Set) == 0:
			return ax, &Error{Line: at(vp), Path: vp + ".set", Msg: "missing: the values it sets, as --set writes them (key=value)"}
		}
		if k, dup := seen[v.Name]; dup {
			return ax, &Error{Line: at(vp + ".name"), Path: vp + ".name", Msg: fmt.Sprintf("%s is variants[%d]'s name too", strictyaml.Quote(v.Name), k)}
		}
		seen[v.Name] = j
		var sets []Setting
		for k, kv := range v.Set {
			sp := fmt.Sprintf("%s.set[%d]", vp, k)
			key, value, ok := strings.Cut(kv, "=")
			if !ok {
				return ax, &Error{Line: at(sp), Path: sp, Msg: fmt.Sprintf("%s: want key=value, as --set takes it", strictyaml.Quote(kv))}
			}
			segs, err := parseSetPath(strings.TrimSpace(key))
			if err == nil {
				segs, err = resolve(segs)
			}
			if err != nil {
				return ax, &Error{Line: at(sp), Path: sp, Msg: err.Error()}
			}
			path := formatPath(segs)
			for _, prev := range sets {
				if overlaps(prev.Path, path) {
					return ax, &Error{Line: at(sp), Path: sp, Msg: fmt.Sprintf("%s overlaps %s, set before", path, prev.Path)}
				}
			}
			sets = append(sets, Setting{Path: path, Value: value})
		}
		ax.Values = append(ax.Values, v.Name)
		ax.variants = append(ax.variants, sets)
		ax.lines = append(ax.lines, at(vp))
	}
	return ax, nil
}

// overlaps reports whether one path is the other or inside it.
func overlaps(a, b string) bool {
	inside := func(p, q string) bool {
		return p == q || strings.HasPrefix(p, q+".") || strings.HasPrefix(p, q+"[")
	}
	return inside(a, b) || inside(b, a)
}

// expand makes the points.
func (s *Sweep) expand() *Error {
	n := 1
	if s.Mode == "zip" {
		n = len(s.Axes[0].Values)
		for i, ax := range s.Axes {
			if len(ax.Values) != n {
				return &Error{Line: ax.Line, Path: fmt.Sprintf("axes[%d]", i), Msg: fmt.Sprintf("has %d values but axes[0] has %d: in zip mode every axis has the same number", len(ax.Values), n)}
			}
		}
	} else {
		for i, ax := range s.Axes {
			if n > MaxSweepPoints/len(ax.Values) {
				return &Error{Line: ax.Line, Path: fmt.Sprintf("axes[%d]", i), Msg: fmt.Sprintf("the sweep would have more than %d points", MaxSweepPoints)}
			}
			n *= len(ax.Values)
		}
	}
	width := max(4, len(strconv.Itoa(n-1)))
	s.Points = make([]SweepPoint, n)
	for i := range n {
		p := &s.Points[i]
		p.Index = i
		p.Settings = make([]Setting, len(s.Axes))
		rest := i
		for a := len(s.Axes) - 1; a >= 0; a-- {
			ax := s.Axes[a]
			k := i
			if s.Mode == "cartesian" {
				k = rest % len(ax.Values)
				rest /= len(ax.Values)
			}
			p.Settings[a] = Setting{Path: ax.Path, Value: ax.Values[k]}
		}
		p.ID = fmt.Sprintf("p%0*d-%s", width, i, settingsHash(p.Settings))
	}
	return nil
}

// settingsHash is the first 8 hex digits of the sha256 of the settings,
// one "path=value" line each.
func settingsHash(ss []Setting) string {
	h := sha256.New()
	for _, s := range ss {
		fmt.Fprintf(h, "%s=%s\n", s.Path, s.Value)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// valueIndex is the index of the point's value on axis a.
func (s *Sweep) valueIndex(p *SweepPoint, a int) int {
	for k, v := range s.Axes[a].Values {
		if v == p.Settings[a].Value {
			return k
		}
	}
	return -1
}

// check loads every point's scenario; an error a point's value causes is
// placed at that value in the sweep file.
func (s *Sweep) check() error {
	for i := range s.Points {
		p := &s.Points[i]
		if _, err := s.Scenario(p); err != nil {
			return s.pointError(p, err)
		}
	}
	return nil
}

// pointError places a point's scenario error: at the axis value that set
// the field it is about, else (a problem of the base scenario, or of a
// combination) as the base scenario's error at that point.
func (s *Sweep) pointError(p *SweepPoint, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return &Error{File: s.File, Msg: fmt.Sprintf("point %s: %v", p, err)}
	}
	for a, set := range p.Settings {
		if ax := &s.Axes[a]; ax.variants != nil {
			k := s.valueIndex(p, a)
			for _, v := range ax.variants[k] {
				if e.Path != "" && (e.Path == v.Path || strings.HasPrefix(e.Path, v.Path+".") || strings.HasPrefix(e.Path, v.Path+"[")) {
					msg := strings.TrimSuffix(e.Msg, " (set by --set "+v.Path+")")
					if e.Path != v.Path {
						msg = e.Path + ": " + msg
					}
					return &Error{File: s.File, Line: ax.lines[k], Path: fmt.Sprintf("axes[%d].variants[%d]", a, k), Msg: fmt.Sprintf("%s=%s: %s (base scenario %s, point %s)", v.Path, v.Value, msg, s.BasePath, p.ID)}
				}
			}
			continue
		}
		if e.Path != "" && (e.Path == set.Path || strings.HasPrefix(e.Path, set.Path+".") || strings.HasPrefix(e.Path, set.Path+"[")) {
			msg := strings.TrimSuffix(e.Msg, " (set by --set "+set.Path+")")
			line := s.Axes[a].Line
			path := fmt.Sprintf("axes[%d]", a)
			if k := s.valueIndex(p, a); k >= 0 {
				line = s.Axes[a].lines[k]
				path = fmt.Sprintf("axes[%d].values[%d]", a, k)
				if s.Axes[a].seeds {
					path = fmt.Sprintf("axes[%d].seeds", a)
				}
			}
			if e.Path != set.Path {
				msg = e.Path + ": " + msg
			}
			return &Error{File: s.File, Line: line, Path: path, Msg: fmt.Sprintf("%s=%s: %s (base scenario %s, point %s)", set.Path, set.Value, msg, s.BasePath, p.ID)}
		}
	}
	return &Error{File: s.File, Msg: fmt.Sprintf("point %s: %v", p, e)}
}
