package strictyaml

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

type level int

// decodeYAML gives level its own form: low, mid or high.
func (l *level) decodeYAML(n *yaml.Node) error {
	i := map[string]int{"low": 1, "mid": 2, "high": 3}[n.Value]
	if i == 0 {
		return errors.New("must be low, mid or high")
	}
	*l = level(i)
	return nil
}

type pool struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count"`
	Level  level             `yaml:"level"`
	Labels map[string]string `yaml:"labels"`
}

type Base struct {
	Kind string `yaml:"kind"`
}

type doc struct {
	Base    `yaml:",inline"`
	Version int       `yaml:"version"`
	Pools   []pool    `yaml:"pools"`
	Ratio   float64   `yaml:"ratio"`
	On      bool      `yaml:"on"`
	Seed    uint64    `yaml:"seed"`
	Shape   [2]int    `yaml:"shape"`
	Note    *string   `yaml:"note"`
	Skip    int       `yaml:"-"`
	MaxPods int       // untagged: maxPods
	Tags    []string  `yaml:"tags"`
	Nested  *struct{} `yaml:"nested"`
	Nest    nest      `yaml:"nest"`
}

type nest []nest

type located struct {
	path string
	line int
	msg  string
}

func (e *located) Error() string { return fmt.Sprintf("%d: %s: %s", e.line, e.path, e.msg) }

func newTest() *Decoder {
	return &Decoder{
		Err: func(path string, line int, msg string) error { return &located{path, line, msg} },
		Custom: func(p any) func(*yaml.Node) error {
			if l, ok := p.(*level); ok {
				return l.decodeYAML
			}
			return nil
		},
		Suggest: true,
	}
}

func decode(t *testing.T, d *Decoder, src string) (*doc, error) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	var v doc
	err := d.Decode(root.Content[0], reflect.ValueOf(&v).Elem(), "")
	return &v, err
}

const good = `kind: Test
version: 1
pools:
  - name: a
    count: 2
    level: mid
  - name: b
    count: 3
    level: high
    labels: {zone: x}
ratio: 0.5
on: true
seed: 7
shape: [3, 4]
note: hi
maxPods: 110
`

func TestDecodeAndLines(t *testing.T) {
	d := newTest()
	v, err := decode(t, d, good)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != "Test" || v.Version != 1 || len(v.Pools) != 2 || v.Pools[1].Level != 3 || v.Pools[1].Labels["zone"] != "x" ||
		v.Ratio != 0.5 || !v.On || v.Seed != 7 || v.Shape != [2]int{3, 4} || *v.Note != "hi" || v.MaxPods != 110 {
		t.Fatalf("decoded %+v", v)
	}
	for path, line := range map[string]int{"": 1, "kind": 1, "pools": 4, "pools[1]": 7, "pools[1].count": 8, "pools[1].labels.zone": 10, "shape[1]": 14, "maxPods": 16} {
		if got := d.Lines()[path]; got != line {
			t.Errorf("line of %q = %d, want %d", path, got, line)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "versoin: 1\n", "1: versoin: unknown field; valid fields: kind, maxPods, nest, nested, note, on, pools, ratio, seed, shape, tags, version"},
		{"suggestion", "pools: [{Name: a}]\n", `1: pools[0].Name: unknown field (did you mean "name"?); valid fields: count, labels, level, name`},
		{"duplicate key", "kind: a\nversion: 1\nkind: b\n", "3: kind: duplicate key"},
		{"duplicate map key", "pools:\n  - labels: {a: x, a: y}\n", "2: pools[0].labels.a: duplicate key"},
		{"integer", "pools:\n  - name: a\n  - count: many\n", `3: pools[1].count: must be an integer, got "many"`},
		{"number", "ratio: [1]\n", "1: ratio: must be a number, got a list"},
		{"bool", "on: 1\n", `1: on: must be true or false, got "1"`},
		{"null scalar", "version: ~\n", "1: version: must be an integer, got null"},
		{"list", "pools: {name: a}\n", "1: pools: must be a list, got a mapping"},
		{"null list", "tags: ~\n", "1: tags: must be a list, got null"},
		{"array length", "shape: [1, 2, 3]\n", "1: shape: must be a list of 2, got 3"},
		{"mapping", "pools: [3]\n", `1: pools[0]: must be a mapping, got "3"`},
		{"custom", "pools:\n  - level: extreme\n", "2: pools[0].level: must be low, mid or high"},
		{"negative seed", "seed: -1\n", `1: seed: must be a non-negative integer, got "-1"`},
		{"recursive alias", "nest: &a [*a]\n", "1: nest" + strings.Repeat("[0]", 63) + ": nested too deeply (a recursive alias?)"},
	} {
		_, err := decode(t, newTest(), tc.src)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got: %v\nwant: %s", tc.name, err, tc.want)
		}
		if _, ok := err.(*located); err != nil && !ok {
			t.Errorf("%s: error %T is not the Err type", tc.name, err)
		}
	}
}

func TestStrictAndNullSlices(t *testing.T) {
	strict := func() *Decoder {
		d := newTest()
		d.Strict, d.NullSlices, d.Suggest = true, true, false
		return d
	}
	v, err := decode(t, strict(), "kind: Test\ntags: ~\n")
	if err != nil || v.Tags != nil {
		t.Fatalf("null list: %v, %v", v.Tags, err)
	}
	for _, tc := range []struct{ src, want string }{
		{"kind: 3\n", `1: kind: must be a string, got "3" (quote it)`},
		{"version: \"1\"\n", `1: version: must be an integer, got the quoted string "1" (a quoted value is a string; write numbers and booleans without quotes)`},
		{"? [a]\n: 1\n", "1: : keys must be strings"},
		{"pools: [{Name: a}]\n", "1: pools[0].Name: unknown field; valid fields: count, labels, level, name"},
	} {
		if _, err := decode(t, strict(), tc.src); err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got: %v\nwant: %s", tc.src, err, tc.want)
		}
	}
	// Not strict: a number is a string as written.
	if v, err := decode(t, newTest(), "kind: 007\nversion: 1\n"); err != nil || v.Kind != "007" || v.Version != 1 {
		t.Errorf("lenient strings: %+v, %v", v, err)
	}
}

func TestDefaultsAndJoin(t *testing.T) {
	_, err := decode(t, &Decoder{}, "pools:\n  - labels: {a: 1, a: 2}\n")
	if err == nil || err.Error() != "line 2: pools[0].labels.a: duplicate key" {
		t.Errorf("default error: %v", err)
	}
	d := &Decoder{Join: func(path, key string) string { return path + "/" + key }}
	if _, err := decode(t, d, "pools:\n  - nme: a\n"); err == nil || !strings.HasPrefix(err.Error(), "line 2: /pools[0]/nme: unknown field") {
		t.Errorf("custom join: %v", err)
	}
}

func TestFields(t *testing.T) {
	idx, names := Fields(reflect.TypeFor[doc]())
	if got := strings.Join(names, ","); got != "kind,maxPods,nest,nested,note,on,pools,ratio,seed,shape,tags,version" {
		t.Errorf("names %s", got)
	}
	if f := reflect.TypeFor[doc]().FieldByIndex(idx["kind"]); f.Name != "Kind" {
		t.Errorf("kind is field %s", f.Name)
	}
}

// TestScalarRule: one rule for every scalar, strict or not: a quoted
// value is a string, so a quoted number or boolean is refused wherever a
// number or a boolean is expected; integers are decimal; numbers finite.
func TestScalarRule(t *testing.T) {
	quoted := "(a quoted value is a string; write numbers and booleans without quotes)"
	for _, strict := range []bool{false, true} {
		for _, tc := range []struct{ src, want string }{
			{"on: \"true\"\n", `1: on: must be true or false, got the quoted string "true" ` + quoted},
			{"on: 'false'\n", `1: on: must be true or false, got the quoted string "false" ` + quoted},
			{"on: yes\n", `1: on: must be true or false, got "yes"`},
			{"version: '3'\n", `1: version: must be an integer, got the quoted string "3" ` + quoted},
			{"seed: \"3\"\n", `1: seed: must be a non-negative integer, got the quoted string "3" ` + quoted},
			{"ratio: \"0.5\"\n", `1: ratio: must be a number, got the quoted string "0.5" ` + quoted},
			{"ratio: .inf\n", `1: ratio: must be a finite number, got ".inf"`},
			{"ratio: .nan\n", `1: ratio: must be a finite number, got ".nan"`},
			{"ratio: 1e400\n", `1: ratio: must be a number, got "1e400"`},
			{"ratio: 0x10\n", `1: ratio: must be a finite number, got "0x10"`},
			{"version: 0x10\n", `1: version: must be a decimal integer, got "0x10"`},
			{"version: 1e3\n", `1: version: must be an integer, got "1e3"`},
			{"version: 9223372036854775808\n", `1: version: must be an integer between -9223372036854775808 and 9223372036854775807, got "9223372036854775808"`},
			{"version: !foo 3\n", `1: version: YAML tag "!foo" is not supported`},
			{"pools:\n  - &p {name: a}\n  - <<: *p\n", `3: pools[1].<<: merge keys (<<) are not supported; write the fields out`},
		} {
			d := newTest()
			d.Strict = strict
			if _, err := decode(t, d, tc.src); err == nil || err.Error() != tc.want {
				t.Errorf("strict %v, %q:\n got: %v\nwant: %s", strict, tc.src, err, tc.want)
			}
		}
		// The same values unquoted are accepted.
		d := newTest()
		d.Strict = strict
		v, err := decode(t, d, "on: true\nversion: 3\nseed: 3\nratio: 5e-1\n")
		if err != nil || !v.On || v.Version != 3 || v.Seed != 3 || v.Ratio != 0.5 {
			t.Errorf("strict %v: unquoted values: %+v, %v", strict, v, err)
		}
	}
	// An explicit standard tag is the YAML type: !!int "3" is an integer.
	if v, err := decode(t, newTest(), "version: !!int \"3\"\n"); err != nil || v.Version != 3 {
		t.Errorf("!!int \"3\": %+v, %v", v, err)
	}
}

// TestBoundedMessages: a huge value or key is quoted cut, never echoed
// whole, and Message bounds whatever else reaches it.
func TestBoundedMessages(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	for _, src := range []string{
		"version: " + big + "\n",
		"pools: [{count: " + big + "}]\n",
		"? " + big + "\n: 1\n",
		"pools:\n  - labels:\n      ? " + big + "\n      : [1]\n",
		"pools: " + big + "\n",
		"on: \"" + big + "\"\n",
	} {
		_, err := decode(t, newTest(), src)
		if err == nil {
			t.Fatalf("no error for a %d-byte document", len(src))
		}
		if len(err.Error()) > 400 || !strings.Contains(err.Error(), "(1048576 bytes)") {
			t.Errorf("error of %d bytes: %.300s", len(err.Error()), err)
		}
	}
	m := Message("f.yaml", 3, strings.Repeat("p", 5000), strings.Repeat("é", 5000))
	if len(m) > 3*MessageMax || !strings.Contains(m, "(message cut at 2048 of 10000 bytes)") || !utf8.ValidString(m) {
		t.Errorf("Message not bounded: %d bytes, %q", len(m), m[len(m)-60:])
	}
	if got := Key("node-role.kubernetes.io/control-plane"); got != "node-role.kubernetes.io/control-plane" {
		t.Errorf("Key changed a plain key: %s", got)
	}
	if got := Key("a\nb"); got != `"a\nb"` {
		t.Errorf("Key(a newline b) = %s", got)
	}
}
