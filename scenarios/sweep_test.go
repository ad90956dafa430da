package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeSweep writes a sweep file whose base is kube-basic.yaml (by its
// absolute path) and returns its path.
func writeSweep(t *testing.T, body string) string {
	t.Helper()
	base, err := filepath.Abs("kube-basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.yaml")
	body = strings.ReplaceAll(body, "BASE", base)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantID(i int, settings ...string) string {
	h := sha256.Sum256([]byte(strings.Join(settings, "\n") + "\n"))
	return fmt.Sprintf("p%04d-%s", i, hex.EncodeToString(h[:])[:8])
}

func TestSweepCartesian(t *testing.T) {
	sw, err := LoadSweep(writeSweep(t, `version: 1
base: BASE
axes:
  - path: cluster.pools[0].count
    values: [8, 16]
  - path: policy.kube.scoringStrategy.type
    values: [LeastAllocated, MostAllocated]
  - seeds: 3
`), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if sw.Name != "s" || sw.Mode != "cartesian" || len(sw.Points) != 12 {
		t.Fatalf("name %q mode %q points %d", sw.Name, sw.Mode, len(sw.Points))
	}
	// The first axis varies slowest, the last fastest.
	var got []string
	for _, p := range sw.Points {
		got = append(got, strings.Join(p.Sets(), " "))
	}
	i := 0
	for _, count := range []string{"8", "16"} {
		for _, st := range []string{"LeastAllocated", "MostAllocated"} {
			for _, seed := range []string{"1", "2", "3"} {
				sets := []string{"cluster.pools[0].count=" + count, "policy.kube.scoringStrategy.type=" + st, "seed=" + seed}
				if got[i] != strings.Join(sets, " ") {
					t.Errorf("point %d: %s, want %s", i, got[i], strings.Join(sets, " "))
				}
				if id := sw.Points[i].ID; id != wantID(i, sets...) {
					t.Errorf("point %d: id %s, want %s", i, id, wantID(i, sets...))
				}
				i++
			}
		}
	}
	// Each point's scenario carries its settings.
	sc, err := sw.Scenario(&sw.Points[11])
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 3 || sc.Cluster.Pools[0].Count != 16 {
		t.Errorf("point 11: seed %d, pool count %d", sc.Seed, sc.Cluster.Pools[0].Count)
	}
}

func TestSweepZip(t *testing.T) {
	sw, err := LoadSweep(writeSweep(t, `version: 1
name: z
base: BASE
mode: zip
axes:
  - {path: Seed, values: [5, 6, 7]}
  - {path: "cluster.pools[0].count", values: [4, 8, 12]}
`), []string{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range sw.Points {
		got = append(got, strings.Join(p.Sets(), " "))
	}
	want := []string{"seed=5 cluster.pools[0].count=4", "seed=6 cluster.pools[0].count=8", "seed=7 cluster.pools[0].count=12"}
	if !slices.Equal(got, want) {
		t.Errorf("points %q, want %q", got, want)
	}
}

// A value keeps its YAML type on its way through --set: a quoted
// number stays a string, a mapping a mapping.
func TestSweepValueText(t *testing.T) {
	sw, err := LoadSweep(writeSweep(t, `version: 1
base: BASE
axes:
  - path: cluster.pools[0].labels
    values: [{tier: "1"}, {tier: gold, rack: r2}]
  - path: name
    values: ["007", "yes", plain]
`), []string{})
	if err != nil {
		t.Fatal(err)
	}
	got := sw.Axes[0].Values
	if !slices.Equal(got, []string{`{tier: "1"}`, `{tier: gold, rack: r2}`}) {
		t.Errorf("mapping values %q", got)
	}
	sc, err := sw.Scenario(&sw.Points[1]) // labels tier: "1", name "yes"
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "yes" || sc.Cluster.Pools[0].Labels["tier"] != "1" {
		t.Errorf("name %q labels %v", sc.Name, sc.Cluster.Pools[0].Labels)
	}
}

// Every problem is one error naming the sweep file, the line and the
// field; a value the scenario refuses is placed at that value.
func TestSweepErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", ``, "s.yaml: empty sweep file"},
		{"no version", "base: BASE\naxes: [{seeds: 2}]\n", "s.yaml:1: version: missing"},
		{"version", "version: 2\nbase: BASE\naxes: [{seeds: 2}]\n", "s.yaml:1: version: 2: this build reads sweep files of version 1"},
		{"unknown key", "version: 1\nbase: BASE\naxis: [{seeds: 2}]\n", `s.yaml:3: axis: unknown field; valid fields: axes, base, mode, name, version`},
		{"no base", "version: 1\naxes: [{seeds: 2}]\n", "s.yaml:1: base: missing"},
		{"missing base", "version: 1\nbase: nowhere.yaml\naxes: [{seeds: 2}]\n", "s.yaml:2: base: cannot read scenario"},
		{"no axes", "version: 1\nbase: BASE\n", "s.yaml:1: axes: missing"},
		{"mode", "version: 1\nbase: BASE\nmode: grid\naxes: [{seeds: 2}]\n", `s.yaml:3: mode: "grid": want cartesian or zip`},
		{"name", "version: 1\nname: a/b\nbase: BASE\naxes: [{seeds: 2}]\n", "s.yaml:2: name:"},
		{"unknown axis key", "version: 1\nbase: BASE\naxes:\n  - path: seed\n    valus: [1]\n", "s.yaml:5: axes[0].valus: unknown field; valid fields: name, path, seeds, values, variants"},
		{"no values", "version: 1\nbase: BASE\naxes:\n  - path: seed\n", "s.yaml:4: axes[0].values: missing"},
		{"no path", "version: 1\nbase: BASE\naxes:\n  - values: [1]\n", "s.yaml:4: axes[0].path: missing"},
		{"seeds and path", "version: 1\nbase: BASE\naxes:\n  - path: seed\n    seeds: 3\n", "s.yaml:5: axes[0].seeds: an axis has either seeds"},
		{"seeds 0", "version: 1\nbase: BASE\naxes:\n  - seeds: 0\n", "s.yaml:4: axes[0].seeds: 0: want a number of replicates"},
		{"bad path", "version: 1\nbase: BASE\naxes:\n  - path: cluster.pools[0].cnt\n    values: [1]\n", `s.yaml:4: axes[0].path: unknown field "cnt"`},
		{"malformed path", "version: 1\nbase: BASE\naxes:\n  - path: a..b\n    values: [1]\n", `s.yaml:4: axes[0].path: malformed key`},
		{"duplicate value", "version: 1\nbase: BASE\naxes:\n  - path: seed\n    values: [1, 2, 1]\n", `s.yaml:5: axes[0].values[2]: "1" is values[0] again`},
		{"overlap", "version: 1\nbase: BASE\naxes:\n  - {path: policy.name, values: [kube]}\n  - {path: policy, values: [{name: kube}]}\n", "s.yaml:5: axes[1]: policy overlaps axes[0] (policy.name)"},
		{"same seed twice", "version: 1\nbase: BASE\naxes:\n  - {seeds: 2}\n  - {path: seed, values: [3]}\n", "s.yaml:5: axes[1]: seed overlaps axes[0] (seed)"},
		{"zip lengths", "version: 1\nbase: BASE\nmode: zip\naxes:\n  - {seeds: 2}\n  - {path: name, values: [a, b, c]}\n", "s.yaml:6: axes[1]: has 3 values but axes[0] has 2"},
		{"alias", "version: 1\nbase: BASE\naxes:\n  - path: cluster.pools[0].labels\n    values: [&l {a: b}, *l]\n", "s.yaml:5: axes[0].values[0]: anchors and aliases are not supported"},
		{"value refused", "version: 1\nbase: BASE\naxes:\n  - seeds: 2\n  - path: policy.name\n    values:\n      - kube\n      - nope\n", `s.yaml:8: axes[1].values[1]: policy.name=nope: unknown policy "nope"`},
		{"value type", "version: 1\nbase: BASE\naxes:\n  - path: cluster.pools[0].count\n    values: [4, \"8\"]\n", `s.yaml:5: axes[0].values[1]: cluster.pools[0].count="8": must be an integer`},
		{"inside a value", "version: 1\nbase: BASE\naxes:\n  - path: cluster.pools[0]\n    values: [{name: w, count: 2, cpu: 4, memory: 8Gi, colour: red}]\n", `s.yaml:5: axes[0].values[0]: cluster.pools[0]={name: w, count: 2, cpu: 4, memory: 8Gi, colour: red}: cluster.pools[0].colour: unknown field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSweep(t, tc.body)
			_, err := LoadSweep(path, []string{})
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error %T, want *Error", err)
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			if !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error\n  %s\nwant prefix\n  %s", msg, tc.want)
			}
		})
	}
}

// Point ids are stable: the same settings give the same id whatever the
// file's layout, and a changed value changes it.
func TestSweepIDsStable(t *testing.T) {
	a, err := LoadSweep(writeSweep(t, "version: 1\nbase: BASE\naxes:\n  - {path: policy.name, values: [kube, coscheduling]}\n  - {seeds: 2}\n"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadSweep(writeSweep(t, "# another layout\nversion: 1\nname: other\nbase: BASE\naxes:\n  - path: policy.name\n    values:\n      - kube\n      - coscheduling\n  - path: seed\n    values: [1, 2]\n"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Points {
		if a.Points[i].ID != b.Points[i].ID {
			t.Errorf("point %d: %s and %s", i, a.Points[i].ID, b.Points[i].ID)
		}
	}
	if a.Points[0].ID == a.Points[1].ID {
		t.Errorf("two points share id %s", a.Points[0].ID)
	}
}

func TestSweepEstimate(t *testing.T) {
	// Student's t quantile t(0.975, 3) = 3.182446 (any table).
	e := SweepEstimateOf([]float64{4, 1, math.NaN(), 3, 2})
	sd := math.Sqrt(5.0 / 3)
	half := 3.182446305284263 * sd / 2
	if e.N != 4 || math.Abs(e.Mean-2.5) > 1e-12 || math.Abs(e.SD-sd) > 1e-12 || math.Abs(e.HalfWidth-half) > 1e-9 ||
		math.Abs(e.CILow-(2.5-half)) > 1e-9 || math.Abs(e.CIHigh-(2.5+half)) > 1e-9 {
		t.Errorf("estimate %+v, want n 4 mean 2.5 sd %g ± %g", e, sd, half)
	}
	one := SweepEstimateOf([]float64{7})
	if one.N != 1 || one.Mean != 7 || !math.IsNaN(one.SD) || !math.IsNaN(one.CILow) {
		t.Errorf("one value: %+v", one)
	}
	if none := SweepEstimateOf(nil); none.N != 0 || !math.IsNaN(none.Mean) {
		t.Errorf("no value: %+v", none)
	}
}

func TestGroupSweep(t *testing.T) {
	m := &SweepManifest{Axes: []string{"policy.name", "seed"}}
	var rows []SweepRow
	for i, pol := range []string{"kube", "kube", "fluence", "kube"} {
		rows = append(rows, SweepRow{
			Point:    ManifestPoint{Index: i, Settings: []Setting{{"policy.name", pol}, {"seed", fmt.Sprint(i)}}},
			Makespan: float64(10 * (i + 1)),
		})
	}
	gs := GroupSweep(m, rows)
	if len(gs) != 2 || len(gs[0].Rows) != 3 || len(gs[1].Rows) != 1 || gs[0].Settings[0].Value != "kube" {
		t.Fatalf("groups %+v", gs)
	}
	if mk := gs[0].Estimates[0]; mk.N != 3 || mk.Mean != (10+20+40)/3.0 {
		t.Errorf("kube makespan %+v", mk)
	}
}

// An axis of variants sets several keys at each point, under its name:
// Fluence with its own settings beside policies that refuse them.
func TestSweepVariants(t *testing.T) {
	sw, err := LoadSweep(writeSweep(t, `version: 1
base: BASE
axes:
  - name: policy
    variants:
      - {name: kube, set: [policy.name=kube]}
      - {name: fluence-by-slot, set: [policy.name=fluence, policy.fluence.assign=by-slot]}
  - seeds: 2
`), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Points) != 4 {
		t.Fatalf("%d points, want 4", len(sw.Points))
	}
	// The point's settings name the variant; its --set values are the
	// variant's.
	p := &sw.Points[2]
	if got := p.Sets(); !slices.Equal(got, []string{"policy=fluence-by-slot", "seed=1"}) {
		t.Errorf("point settings %v", got)
	}
	if got := sw.Sets(p); !slices.Equal(got, []string{"policy.name=fluence", "policy.fluence.assign=by-slot", "seed=1"}) {
		t.Errorf("point --set values %v", got)
	}
	sc, err := sw.Scenario(p)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Policy.Name != "fluence" || sc.Seed != 1 || len(sc.Applied) != 3 {
		t.Errorf("point scenario: policy %s seed %d, %d overrides applied", sc.Policy.Name, sc.Seed, len(sc.Applied))
	}
	if p.ID != wantID(2, "policy=fluence-by-slot", "seed=1") {
		t.Errorf("id %s", p.ID)
	}
	for _, c := range []struct{ body, want string }{
		{"  - name: policy\n    variants: [{name: a, set: [policy.name=kube]}]\n  - path: policy.name\n    values: [kube]\n", "axes[1]: policy.name overlaps axes[0] (policy.name)"},
		{"  - variants: [{name: a, set: [policy.name=kube]}]\n", "axes[0].name: missing"},
		{"  - name: p\n    variants: [{name: a, set: [policy.name]}]\n", "axes[0].variants[0].set[0]: \"policy.name\": want key=value"},
		{"  - name: p\n    variants: [{name: a, set: [policy.name=kube]}, {name: a, set: [policy.name=fluence]}]\n", "axes[0].variants[1].name"},
		{"  - name: p\n    variants: [{name: a, set: [policy.nope=1]}]\n", "axes[0].variants[0].set[0]"},
		{"  - name: p\n    path: seed\n    variants: [{name: a, set: [seed=1]}]\n", "not path, values or seeds"},
		// A value the scenario refuses is placed at its variant.
		{"  - name: p\n    variants: [{name: a, set: [policy.name=kube]}, {name: b, set: [policy.name=nope]}]\n", "axes[0].variants[1]: policy.name=nope"},
	} {
		_, err := LoadSweep(writeSweep(t, "version: 1\nbase: BASE\naxes:\n"+c.body), []string{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.body, err, c.want)
		}
	}
}
