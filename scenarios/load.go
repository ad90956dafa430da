package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/strictyaml"
	"github.com/convergesim/converge/policies/kube"
)

// Overrides change a scenario after it is read. Set holds --set key=value
// pairs. Environment variables SIM_<PATH> are read from the process
// (SIM_SEED=7, SIM_CLUSTER__POOLS__0__COUNT=16: "__" separates path
// segments, numeric segments are list indexes) unless IgnoreEnv is set.
// Precedence: Set > environment > file.
type Overrides struct {
	Set       []string
	IgnoreEnv bool
}

// Load reads, overrides and validates a scenario file.
func Load(path string, ov Overrides) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario: %w", err)
	}
	return Parse(path, data, ov)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads a scenario from data; name is used in messages.
func Parse(name string, data []byte, ov Overrides) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		e := &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return nil, e
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: name, Msg: "empty scenario (expected a mapping with version, cluster, policy and workloads)"}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: doc.Line, Msg: "a scenario must be a mapping with version, cluster, policy and workloads"}
	}
	origins, err := applyOverrides(doc, ov)
	if err != nil {
		return nil, withFile(err, name)
	}
	sc := &Scenario{Seed: 1}
	d := newDecoder()
	def := kube.DefaultConfig()
	sc.Policy.Kube = &def
	if err := d.Decode(doc, reflect.ValueOf(sc).Elem(), ""); err != nil {
		return nil, withOrigin(withFile(err, name), origins)
	}
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	if err := validate(sc, d.Lines(), filepath.Dir(name)); err != nil {
		return nil, withOrigin(withFile(err, name), origins)
	}
	return sc, nil
}

func withFile(err error, name string) error {
	if e, ok := err.(*Error); ok {
		e.File = name
		return e
	}
	return err
}

// withOrigin says which override set a value whose error has no line.
func withOrigin(err error, origins map[string]string) error {
	e, ok := err.(*Error)
	if !ok || e.Line != 0 {
		return err
	}
	for p, o := range origins {
		if strings.EqualFold(p, e.Path) || strings.HasPrefix(strings.ToLower(e.Path), strings.ToLower(p)+".") {
			e.Msg += " (set by " + o + ")"
			break
		}
	}
	return e
}

// envPath turns SIM_CLUSTER__POOLS__1__CPU into cluster.pools[1].cpu.
func envPath(name string) string {
	parts := strings.Split(strings.TrimPrefix(name, "SIM_"), "__")
	var b strings.Builder
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.ToLower(p))
	}
	return b.String()
}

// applyOverrides resolves --set and SIM_ values with viper (flags over
// environment) and writes the winners into the YAML tree. It returns, per
// path, where the value came from.
func applyOverrides(doc *yaml.Node, ov Overrides) (map[string]string, error) {
	v := viper.New()
	origins := map[string]string{}
	if !ov.IgnoreEnv {
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			if !strings.HasPrefix(k, "SIM_") || len(k) == len("SIM_") {
				continue
			}
			p := envPath(k)
			if err := v.BindEnv(p, k); err != nil {
				return nil, &Error{Msg: fmt.Sprintf("environment variable %s: %v", k, err)}
			}
			origins[p] = "environment variable " + k
		}
	}
	for _, s := range ov.Set {
		k, val, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{Msg: fmt.Sprintf("--set %q: expected key=value, e.g. --set seed=7 or --set cluster.pools[0].count=16", s)}
		}
		v.Set(k, val)
		origins[strings.ToLower(k)] = "--set " + k
	}
	keys := v.AllKeys()
	slices.Sort(keys)
	for _, k := range keys {
		if err := setPath(doc, reflect.TypeFor[Scenario](), k, v.GetString(k)); err != nil {
			return nil, &Error{Path: k, Msg: fmt.Sprintf("%v (set by %s)", err, origins[k])}
		}
	}
	return origins, nil
}

var (
	segment = regexp.MustCompile(`^([^.\[\]]*)((?:\[\d+\])*)$`)
	digits  = regexp.MustCompile(`\d+`)
)

// setPath writes the YAML value val at the dotted path (with [i] indexes)
// into the tree, following the schema type t to find canonical key names.
func setPath(doc *yaml.Node, t reflect.Type, path, val string) error {
	var segs []string
	for _, part := range strings.Split(path, ".") {
		m := segment.FindStringSubmatch(part)
		if m == nil || m[1] == "" {
			return fmt.Errorf("malformed key %q", path)
		}
		segs = append(segs, m[1])
		for _, idx := range digits.FindAllString(m[2], -1) {
			segs = append(segs, "["+idx+"]")
		}
	}
	var leaf yaml.Node
	if err := yaml.Unmarshal([]byte(val), &leaf); err != nil || len(leaf.Content) == 0 {
		leaf = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: val}}}
	}
	value := leaf.Content[0]
	zeroLines(value)
	n := doc
	for i, seg := range segs {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		last := i == len(segs)-1
		if strings.HasPrefix(seg, "[") {
			idx, _ := strconv.Atoi(seg[1 : len(seg)-1])
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				have := 0
				if n.Kind == yaml.SequenceNode {
					have = len(n.Content)
				}
				return fmt.Errorf("index %d out of range (the list has %d %s)", idx, have, plural(have, "entry", "entries"))
			}
			if t != nil && t.Kind() == reflect.Slice {
				t = t.Elem()
			} else {
				t = nil
			}
			if last {
				*n.Content[idx] = *value
				return nil
			}
			n = n.Content[idx]
			continue
		}
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			} else {
				return fmt.Errorf("%s is not a mapping", seg)
			}
		}
		key := seg
		var next reflect.Type
		if t != nil && t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(nodeDecoderType) {
			fields, names := strictyaml.Fields(t)
			found := false
			for _, name := range names {
				if strings.EqualFold(name, seg) {
					key, found = name, true
					next = t.FieldByIndex(fields[name]).Type
				}
			}
			if !found {
				return fmt.Errorf("unknown field %q; valid fields: %s", seg, strings.Join(names, ", "))
			}
		} else if t != nil && t.Kind() == reflect.Map {
			next = t.Elem()
		}
		var child *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				child = n.Content[j+1]
			}
		}
		if child == nil {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, child)
		}
		if last {
			*child = *value
			return nil
		}
		n, t = child, next
	}
	return nil
}

func zeroLines(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		zeroLines(c)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
