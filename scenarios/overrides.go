package scenarios

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/internal/strictyaml"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/workloads/apps"
)

// Overrides change a scenario after it is read. Set holds --set
// key=value pairs, applied in order. Environment variables SIM_<PATH>
// (SIM_SEED=7, SIM_CLUSTER__POOLS__0__COUNT=16: "__" separates path
// segments, numeric segments are list indexes) are read from Env, or
// from the process when Env is nil, unless IgnoreEnv is set. Only
// variables that name a scenario field are read; any other SIM_
// variable is left alone with a warning (Scenario.Warnings).
// Precedence: Set > environment > file.
type Overrides struct {
	Set       []string
	IgnoreEnv bool
	Env       []string // KEY=VALUE pairs (nil: os.Environ())
}

// Override is one value an override wrote into a scenario.
type Override struct {
	Path  string // the field path it set, with the schema's key names (cluster.pools[0].count)
	Value string // the value as given (YAML)
	Env   bool   // from an environment variable (else --set)
	Key   string // as written: cluster.pools[0].count, or SIM_CLUSTER__POOLS__0__COUNT
}

// String is the override as a user writes it: "--set key=value" or
// "SIM_KEY=value".
func (o Override) String() string {
	if o.Env {
		return o.Key + "=" + o.Value
	}
	return "--set " + o.Key + "=" + o.Value
}

// origin says where a value came from in messages.
func (o Override) origin() string {
	if o.Env {
		return "environment variable " + o.Key
	}
	return "--set " + o.Key
}

// originOf is the override that wrote the value at path: the last one
// applied whose path is path or one of its ancestors.
func originOf(ovs []Override, path string) *Override {
	var found *Override
	for i := range ovs {
		p := ovs[i].Path
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			found = &ovs[i]
		}
	}
	return found
}

// seg is one step of a field path: a mapping key or a list index.
type seg struct {
	key   string
	index int // when isIndex
	isIdx bool
}

func formatPath(segs []seg) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.isIdx:
			fmt.Fprintf(&b, "[%d]", s.index)
		case i > 0:
			b.WriteString("." + strictyaml.Key(s.key))
		default:
			b.WriteString(strictyaml.Key(s.key))
		}
	}
	return b.String()
}

// maxIndex bounds list indexes in override paths (a list in a scenario
// file cannot be longer).
const maxIndex = 1 << 30

// parseSetPath splits a --set key: dotted segments with [i] indexes.
func parseSetPath(path string) ([]seg, error) {
	var segs []seg
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" || strings.ContainsAny(name, "]") {
			return nil, fmt.Errorf("malformed key %s (write a.b[0].c)", strictyaml.Quote(path))
		}
		segs = append(segs, seg{key: name})
		if rest == "" && !strings.Contains(part, "[") {
			continue
		}
		for _, idx := range strings.Split("["+rest, "[")[1:] {
			num, ok := strings.CutSuffix(idx, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 || i > maxIndex || strings.HasPrefix(num, "+") {
				return nil, fmt.Errorf("malformed key %s (a list index is [0], [1], …)", strictyaml.Quote(path))
			}
			segs = append(segs, seg{index: i, isIdx: true})
		}
	}
	return segs, nil
}

// parseEnvPath turns SIM_CLUSTER__POOLS__1__CPU into cluster.pools[1].cpu
// (segments lower-cased: the schema lookup ignores case).
func parseEnvPath(name string) ([]seg, error) {
	var segs []seg
	for i, p := range strings.Split(strings.TrimPrefix(name, "SIM_"), "__") {
		if p == "" {
			return nil, fmt.Errorf("empty segment")
		}
		if n, err := strconv.Atoi(p); err == nil && i > 0 && n >= 0 && n <= maxIndex && p[0] != '+' {
			segs = append(segs, seg{index: n, isIdx: true})
			continue
		}
		segs = append(segs, seg{key: strings.ToLower(p)})
	}
	return segs, nil
}

var (
	distType  = reflect.TypeFor[Dist]()
	distKeys  = []string{"dist", "max", "mean", "median", "min", "sd", "sigma", "value"}
	scenarioT = reflect.TypeFor[Scenario]()
	policyT   = reflect.TypeFor[Policy]()
	appSpecT  = reflect.TypeFor[AppSpec]()
)

// resolve checks a path against the schema and returns it with the
// schema's key names (field names match case-insensitively; map keys
// are kept as given, an index on a map becomes its key).
func resolve(segs []seg) ([]seg, error) {
	t := scenarioT
	out := make([]seg, 0, len(segs))
	for i, s := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		here := formatPath(out)
		if here == "" {
			here = "the scenario"
		}
		if t == distType {
			if s.isIdx || !slices.Contains(distKeys, strings.ToLower(s.key)) || i != len(segs)-1 {
				return nil, fmt.Errorf("%s is a distribution: its keys are %s", here, strings.Join(distKeys, ", "))
			}
			out = append(out, seg{key: strings.ToLower(s.key)})
			return out, nil
		}
		if t == policyT && !s.isIdx && !strings.EqualFold(s.key, "name") {
			// policy.<section>: the type its model registers.
			var sec *policies.Section
			for _, n := range Policies.SectionNames() {
				if strings.EqualFold(n, s.key) {
					sec, s.key = Policies.Section(n), n
				}
			}
			if sec == nil {
				return nil, fmt.Errorf("unknown field %s; valid fields: %s", strictyaml.Quote(s.key), strings.Join(append([]string{"name"}, Policies.SectionNames()...), ", "))
			}
			out = append(out, seg{key: s.key})
			t = reflect.TypeOf(sec.Default())
			continue
		}
		if t == appSpecT && !s.isIdx && !appCommonFold(s.key) {
			// A key of some model's job shape: the model named in the
			// file decides whether it is valid, when the block is
			// decoded.
			if ft, name, ok := appShapeField(s.key); ok {
				out = append(out, seg{key: name})
				t = ft
				continue
			}
			return nil, fmt.Errorf("unknown field %s; valid fields: %s, and the fields of the model's job shape (%s)", strictyaml.Quote(s.key),
				strings.Join(slices.Sorted(maps.Keys(appCommon)), ", "), appShapeFields())
		}
		if reflect.PointerTo(t).Implements(nodeDecoderType) {
			return nil, fmt.Errorf("%s is a single value, not a mapping", here)
		}
		switch t.Kind() {
		case reflect.Struct:
			if s.isIdx {
				return nil, fmt.Errorf("%s is a mapping, not a list", here)
			}
			fields, names := strictyaml.Fields(t)
			name := ""
			for _, n := range names {
				if strings.EqualFold(n, s.key) {
					name = n
				}
			}
			if name == "" {
				return nil, fmt.Errorf("unknown field %s; valid fields: %s", strictyaml.Quote(s.key), strings.Join(names, ", "))
			}
			out = append(out, seg{key: name})
			t = t.FieldByIndex(fields[name]).Type
		case reflect.Slice, reflect.Array:
			if !s.isIdx {
				return nil, fmt.Errorf("%s is a list: give an index, e.g. %s[0]", here, here)
			}
			out = append(out, s)
			t = t.Elem()
		case reflect.Map:
			if s.isIdx {
				s = seg{key: strconv.Itoa(s.index)}
			}
			out = append(out, s)
			t = t.Elem()
		default:
			return nil, fmt.Errorf("%s is a single value, not a mapping", here)
		}
	}
	return out, nil
}

// applyOverrides reads the SIM_ variables that name scenario fields
// (sorted by name) and then the --set values (in order), writing each
// into the YAML tree; a later value wins on the same path. It returns
// what it applied and the warnings about the variables it ignored.
func applyOverrides(doc *yaml.Node, ov Overrides) ([]Override, []string, error) {
	var applied []Override
	var warnings []string
	if !ov.IgnoreEnv {
		env := ov.Env
		if env == nil {
			env = os.Environ()
		}
		env = slices.Clone(env)
		slices.Sort(env)
		for _, kv := range env {
			k, val, _ := strings.Cut(kv, "=")
			if !strings.HasPrefix(k, "SIM_") {
				continue
			}
			segs, err := parseEnvPath(k)
			if err == nil {
				segs, err = resolve(segs)
			}
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("environment variable %s is not a scenario setting (%v); ignored", strictyaml.Key(k), err))
				continue
			}
			o := Override{Path: formatPath(segs), Value: val, Env: true, Key: k}
			if err := setTree(doc, segs, val); err != nil {
				return nil, warnings, &Error{Path: o.Path, Msg: fmt.Sprintf("%v (set by %s)", err, o.origin())}
			}
			applied = append(applied, o)
		}
	}
	for _, s := range ov.Set {
		k, val, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, warnings, &Error{Msg: fmt.Sprintf("--set %s: expected key=value, e.g. --set seed=7 or --set cluster.pools[0].count=16", strictyaml.Quote(s))}
		}
		segs, err := parseSetPath(k)
		if err != nil {
			return nil, warnings, &Error{Msg: fmt.Sprintf("--set %s: %v", strictyaml.Key(k), err)}
		}
		canon, err := resolve(segs)
		if err != nil {
			return nil, warnings, &Error{Path: formatPath(segs), Msg: fmt.Sprintf("%v (set by --set %s)", err, strictyaml.Key(k))}
		}
		o := Override{Path: formatPath(canon), Value: val, Key: k}
		if err := setTree(doc, canon, val); err != nil {
			return nil, warnings, &Error{Path: o.Path, Msg: fmt.Sprintf("%v (set by %s)", err, o.origin())}
		}
		applied = append(applied, o)
	}
	warnings = append(warnings, dropOtherPolicies(doc, applied)...)
	return applied, warnings, nil
}

// dropOtherPolicies: an override that switches policy.name (sim run --set
// policy.name=flux, a compare or replay --policy, a sweep axis) leaves the
// file's settings for the policy it had; those the new policy does not
// read are dropped, each with a warning, so that the same scenario runs
// under another policy as it is. Settings an override wrote are kept (and
// refused by the checks if the policy does not read them), as are a
// file's own when no override names the policy.
func dropOtherPolicies(doc *yaml.Node, applied []Override) []string {
	var named *Override
	set := map[string]bool{} // policy sections an override wrote into
	for i := range applied {
		o := &applied[i]
		switch {
		case o.Path == "policy.name":
			named = o
		case strings.HasPrefix(o.Path, "policy."):
			set[strings.SplitN(strings.TrimPrefix(o.Path, "policy."), ".", 2)[0]] = true
		case o.Path == "policy":
			return nil // the whole policy written by the override
		}
	}
	if named == nil {
		return nil
	}
	pol := mappingValue(doc, "policy")
	if pol == nil || pol.Kind != yaml.MappingNode {
		return nil
	}
	name := mappingValue(pol, "name")
	if name == nil || name.Kind != yaml.ScalarNode {
		return nil
	}
	if _, err := Policies.Lookup(name.Value); err != nil {
		return nil // the checks name the unknown policy
	}
	reads := Policies.SectionsOf(name.Value)
	var warnings []string
	kept := pol.Content[:0:0]
	for j := 0; j+1 < len(pol.Content); j += 2 {
		k := pol.Content[j].Value
		if k != "name" && slices.Contains(Policies.SectionNames(), k) && !slices.Contains(reads, k) && !set[k] {
			warnings = append(warnings, fmt.Sprintf("policy.%s: settings for %s left out, as %s (%s) does not read them", k, k, strictyaml.Quote(name.Value), named.origin()))
			continue
		}
		kept = append(kept, pol.Content[j], pol.Content[j+1])
	}
	pol.Content = kept
	return warnings
}

// overrideValue parses an override's text as YAML (a string if it is
// not valid YAML), with no lines: it is not in the file.
func overrideValue(val string) *yaml.Node {
	var leaf yaml.Node
	if err := yaml.Unmarshal([]byte(val), &leaf); err != nil || len(leaf.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: val}
	}
	v := leaf.Content[0]
	zeroLines(v)
	return v
}

// setTree writes the YAML value val at the path (already resolved)
// into the tree. A node on the way that is an alias or an anchor is
// copied first, so that the override changes only this path.
func setTree(doc *yaml.Node, segs []seg, val string) error {
	value := overrideValue(val)
	n := doc
	for i, s := range segs {
		last := i == len(segs)-1
		var slot **yaml.Node
		if s.isIdx {
			if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
				have := 0
				if n.Kind == yaml.SequenceNode {
					have = len(n.Content)
				}
				return fmt.Errorf("index %d out of range (the list has %d %s)", s.index, have, plural(have, "entry", "entries"))
			}
			slot = &n.Content[s.index]
		} else {
			if n.Kind != yaml.MappingNode {
				if n.Kind != yaml.ScalarNode || n.Tag != "!!null" {
					return fmt.Errorf("%s is not a mapping", strictyaml.Key(s.key))
				}
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Kind == yaml.ScalarNode && n.Content[j].Value == s.key {
					slot = &n.Content[j+1]
				}
			}
			if slot == nil {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.key}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
				slot = &n.Content[len(n.Content)-1]
			}
		}
		if last {
			*slot = value
			return nil
		}
		if c := *slot; c.Kind == yaml.AliasNode || c.Anchor != "" {
			*slot = copyNode(c)
		}
		n = *slot
	}
	return nil
}

// copyNode copies a subtree (an alias: its target) without its anchor;
// aliases inside it are kept as aliases.
func copyNode(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		if x.Kind == yaml.AliasNode {
			c.Content[i] = x
			continue
		}
		c.Content[i] = copyNode(x)
	}
	return &c
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

// appCommonFold reports whether key names a common app field, whatever
// its case.
func appCommonFold(key string) bool {
	for n := range appCommon {
		if strings.EqualFold(n, key) {
			return true
		}
	}
	return false
}

// appShapeField finds key (whatever its case) among the fields of the
// registered models' job shapes: its type and spelling.
func appShapeField(key string) (reflect.Type, string, bool) {
	for _, name := range apps.Names {
		a, _ := apps.Lookup(name)
		t := reflect.TypeOf(a.Job()).Elem()
		fields, names := strictyaml.Fields(t)
		for _, n := range names {
			if strings.EqualFold(n, key) {
				return t.FieldByIndex(fields[n]).Type, n, true
			}
		}
	}
	return nil, "", false
}

// appShapeFields lists every model's job-shape fields, for messages.
func appShapeFields() string {
	var parts []string
	for _, name := range apps.Names {
		a, _ := apps.Lookup(name)
		if _, names := strictyaml.Fields(reflect.TypeOf(a.Job()).Elem()); len(names) > 0 {
			parts = append(parts, name+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}
