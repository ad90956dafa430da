package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/workloads/launchers"
)

// TestBundledLauncherModelsLoad: every scenarios/launchers file loads,
// every entry builds a launcher and says where its parameters come from.
func TestBundledLauncherModelsLoad(t *testing.T) {
	paths, err := filepath.Glob("launchers/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no scenarios/launchers/*.yaml")
	}
	for _, p := range paths {
		f, err := LoadLauncherModel(p)
		if err != nil {
			t.Error(err)
			continue
		}
		kinds := map[launchers.Kind]bool{}
		for _, e := range f.Launchers {
			kinds[e.Type] = true
			if e.Provenance.Command == "" || (len(e.Provenance.Data) == 0 && e.Provenance.Notes == "") {
				t.Errorf("%s: %s has no provenance", p, e.Name)
			}
			l := e.Parameters.Launcher()
			if _, err := l.Bootstrap(launchers.Size{Nodes: 8, Ranks: 752}); err != nil {
				t.Errorf("%s: %s: %v", p, e.Name, err)
			}
		}
		for _, k := range launchers.Kinds {
			if !kinds[k] {
				t.Errorf("%s: no %s entry", p, k)
			}
		}
	}
}

const goodLauncher = `kind: LauncherModel
version: 1
launchers:
  - name: flux
    type: minicluster
    parameters:
      fanout: 256
      viewCopy: 2
      brokerStartStop: 0.85
      stopShare: 0.25
      joinPerLevel: 0.01
      joinLateProb: 0.05
      joinLateRepeat: 0.3
      joinRetry: 1
      joinLateSpread: 0.1
      brokerJitter: 0.02
      jobLaunch: 6
      execPerLevel: 0.01
      jobJitter: 0.1
    provenance:
      command: none
  - name: idx
    type: indexedjob
    parameters: {}
    provenance:
      command: none
`

func TestParseLauncherModel(t *testing.T) {
	f, err := ParseLauncherModel("good.yaml", []byte(goodLauncher))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := f.Launchers[0].Parameters.(*launchers.MiniClusterParams); !ok || p.Fanout != 256 || p.JoinRetry != 1 {
		t.Fatalf("parameters %#v", f.Launchers[0].Parameters)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown key", "      jobJitter: 0.1", "      jobJitter: 0.1\n      jobJiter: 4", "x.yaml:20: launchers[0].parameters.jobJiter: unknown field"},
		{"wrong type", "jobLaunch: 6", "jobLaunch: soon", `x.yaml:17: launchers[0].parameters.jobLaunch: must be a number, got "soon"`},
		{"negative", "brokerStartStop: 0.85", "brokerStartStop: -1", "x.yaml:9: launchers[0].parameters.brokerStartStop: -1 must not be negative"},
		{"probability", "joinLateProb: 0.05", "joinLateProb: 1.5", "x.yaml:12: launchers[0].parameters.joinLateProb: 1.5 must be a probability"},
		{"fanout", "fanout: 256", "fanout: 0", "x.yaml:7: launchers[0].parameters.fanout: 0 must be at least 1"},
		{"unknown type", "type: minicluster", "type: slurm", `x.yaml:5: launchers[0].type: unknown launcher "slurm"; valid launchers: mpijob, minicluster, pytorchjob, indexedjob`},
		{"wrong kind", "kind: LauncherModel", "kind: AppModel", "x.yaml:1: kind: must be LauncherModel (this is not a launcher model file)"},
		{"version", "version: 1", "version: 2", "x.yaml:2: version: must be 1, got 2"},
		{"duplicate", "name: idx", "name: flux", `x.yaml:22: launchers[1].name: duplicate launcher "flux"`},
		{"no parameters", "    parameters: {}\n", "", "x.yaml:22: launchers[1].parameters: missing"},
		{"no command", "    provenance:\n      command: none\n  - name: idx", "    provenance:\n      notes: x\n  - name: idx", "launchers[0].provenance.command: must say how"},
		{"top-level key", "version: 1", "version: 1\nextra: 2", "x.yaml:3: extra: unknown field"},
		{"indexed job takes nothing", "parameters: {}", "parameters: {seconds: 3}", "x.yaml:24: launchers[1].parameters.seconds: unknown field"},
	}
	for _, c := range cases {
		src := strings.Replace(goodLauncher, c.old, c.new, 1)
		if src == goodLauncher {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		_, err := ParseLauncherModel("x.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"", "- a\n- b\n", "kind: [1]\n", "a: 1\n---\nb: 2\n"} {
		if _, err := ParseLauncherModel("x.yaml", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "x.yaml") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := LoadLauncherModel("launchers/none.yaml"); err == nil || !strings.Contains(err.Error(), "cannot read launcher model") {
		t.Errorf("missing file: %v", err)
	}
}
