package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/workloads/apps"
)

// TestBundledAppModelsLoad: every scenarios/apps file loads and every
// fit says where its parameters come from.
func TestBundledAppModelsLoad(t *testing.T) {
	paths, err := filepath.Glob("apps/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no scenarios/apps/*.yaml")
	}
	for _, p := range paths {
		f, err := LoadAppModel(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(p), ".yaml"); f.App != want {
			t.Errorf("%s: app %q, want %q", p, f.App, want)
		}
		// Every fit says how it was obtained: the data it was fitted to,
		// or (hand-set parameters) notes on where the figures come from.
		for _, fit := range f.Fits {
			pr := fit.Provenance
			if pr.Command == "" || (len(pr.Data) == 0 && pr.Notes == "") {
				t.Errorf("%s: fit %s has no provenance (command, and data or notes)", p, fit.Name)
			}
		}
	}
}

const goodApp = `kind: AppModel
version: 1
app: fixed
fits:
  - name: one
    hardware: any
    node:
      cores: 8
      memoryBandwidth: 20
    parameters:
      seconds: 30
    provenance:
      data:
        - path: none
          sha256: "00"
      command: none
`

func TestParseAppModel(t *testing.T) {
	f, err := ParseAppModel("good.yaml", []byte(goodApp))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := f.Fits[0].Parameters.(*apps.FixedParams); !ok || p.Seconds != 30 {
		t.Fatalf("parameters %#v", f.Fits[0].Parameters)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown key", "      seconds: 30", "      seconds: 30\n      secs: 4", "x.yaml:12: fits[0].parameters.secs: unknown field"},
		{"wrong type", "seconds: 30", "seconds: soon", `x.yaml:11: fits[0].parameters.seconds: must be a number, got "soon"`},
		{"negative", "seconds: 30", "seconds: -5", "x.yaml:11: fits[0].parameters.seconds: -5 must not be negative"},
		{"unknown app", "app: fixed", "app: gromacs", "x.yaml:3: app: unknown app \"gromacs\"; valid apps: amg, fixed, lammps, mpi-pattern, qmcpack, training"},
		{"wrong kind", "kind: AppModel", "kind: Scenario", "x.yaml:1: kind: must be AppModel (this is not an app model file)"},
		{"node cores", "cores: 8", "cores: 0", "x.yaml:8: fits[0].node: "},
		{"top-level key", "version: 1", "version: 1\nextra: 2", "x.yaml:3: extra: unknown field"},
	}
	for _, c := range cases {
		_, err := ParseAppModel("x.yaml", []byte(strings.Replace(goodApp, c.old, c.new, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	lammps := strings.NewReplacer("app: fixed", "app: lammps", "      seconds: 30",
		"      input:\n        atomsPerReplica: 304\n        cell: [1, 2]\n        ghostCutoff: 11").Replace(goodApp)
	if _, err := ParseAppModel("l.yaml", []byte(lammps)); err == nil || !strings.Contains(err.Error(), "l.yaml:13: fits[0].parameters.input.cell: must be a list of 3, got 2") {
		t.Errorf("short cell: %v", err)
	}
}

func FuzzParseAppModel(f *testing.F) {
	f.Add([]byte(goodApp))
	if data, err := os.ReadFile("apps/amg.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseAppModel("fuzz.yaml", data)
		if err == nil && file.Validate() != nil {
			t.Fatalf("accepted a file that does not validate")
		}
	})
}
