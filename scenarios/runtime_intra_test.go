package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
)

// writeIntra writes a one-band shared-memory profile named name with
// the given latency and bandwidth into dir and returns its path.
func writeIntra(t *testing.T, dir, name string, latency, bandwidth float64) string {
	t.Helper()
	p := &network.Profile{Name: name, Bands: []network.Band{{Latency: latency, Bandwidth: bandwidth}}}
	f, err := os.Create(filepath.Join(dir, name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := network.WriteProfile(f, &network.Fit{Profile: *p}); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// fabricOf is the fabric workload 0's jobs get in runtime rt.
func fabricOf(t *testing.T, sc *Scenario, rt string) *network.Fabric {
	t.Helper()
	for i := range sc.Workloads {
		if sc.Workloads[i].App != nil {
			return sc.runModel(i, rt, sc.Workloads[i].template()).(*appRun).fabric
		}
	}
	t.Fatal("no app workload")
	return nil
}

// TestRuntimeIntra: a runtime's intra-node transport is its own
// runtimes[].intra, else network.intra, else network.DefaultIntra; and
// it prices what stays on a node.
func TestRuntimeIntra(t *testing.T) {
	dir := t.TempDir()
	slow := writeIntra(t, dir, "slow-shm", 20e-6, 0.5e9)
	site := writeIntra(t, dir, "site-shm", 1e-6, 5e9)
	withIntra := func(network, unet string) string {
		doc := appMinimal
		if network != "" {
			doc = strings.Replace(doc, "  profile: profiles/vm-tcp.yaml\n", "  profile: profiles/vm-tcp.yaml\n  intra: "+network+"\n", 1)
		}
		if unet != "" {
			doc = strings.Replace(doc, "    profile: profiles/vm-tcp-usernetes.yaml\n", "    profile: profiles/vm-tcp-usernetes.yaml\n    intra: "+unet+"\n", 1)
		}
		return doc
	}
	cases := []struct {
		name, network, unet string
		bare, unetWant      string // profile names
	}{
		{"default", "", "", network.DefaultIntra().Name, network.DefaultIntra().Name},
		{"network.intra", site, "", "site-shm", "site-shm"},
		{"runtime override", "", slow, network.DefaultIntra().Name, "slow-shm"},
		{"runtime over network", site, slow, "site-shm", "slow-shm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := Parse("app.yaml", []byte(withIntra(c.network, c.unet)), Overrides{IgnoreEnv: true})
			if err != nil {
				t.Fatal(err)
			}
			for rt, want := range map[string]string{"bare": c.bare, "unet": c.unetWant} {
				got := fabricOf(t, sc, rt).Intra
				if got == nil || got.Name != want {
					t.Errorf("runtime %s: intra %v, want %s", rt, got, want)
				}
				if want == network.DefaultIntra().Name && !reflect.DeepEqual(got, network.DefaultIntra()) {
					t.Errorf("runtime %s: intra %+v, want network.DefaultIntra %+v", rt, got, network.DefaultIntra())
				}
			}
		})
	}

	// What stays on a node: one pod of 8 ranks on one node, where only
	// shared memory is used, in two runtimes alike but for intra. The
	// slow transport must cost more, by its own figures.
	doc := strings.Replace(withIntra("", slow), "background: {load: 0.02, burst: 0.0003}", "background: {load: 0, burst: 0}", 1)
	doc = strings.Replace(doc, "parallelism: 2", "parallelism: 1", 1)
	sc, err := Parse("app.yaml", []byte(doc), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	node := &engine.Node{Name: "vm-0", Pool: "vm", Allocatable: engine.Resources{MilliCPU: 8000, Memory: 30 << 30}}
	pl := []engine.NodeShare{{Node: node, Pods: 1}}
	tmpl := sc.Workloads[0].template()
	bare, err := sc.runModel(0, "bare", tmpl).RunTime(pl)
	if err != nil {
		t.Fatal(err)
	}
	unet, err := sc.runModel(0, "unet", tmpl).RunTime(pl)
	if err != nil {
		t.Fatal(err)
	}
	if !(unet.Seconds > bare.Seconds) {
		t.Errorf("one node: %v s with a 20 µs, 0.5 GB/s shared memory, %v s with the default: want it slower", unet.Seconds, bare.Seconds)
	}
	// Nothing crosses the network on one node, so the inter-node
	// profiles (which differ) do not matter: with the same intra the two
	// runtimes take the same time.
	same, err := Parse("app.yaml", []byte(strings.Replace(doc, "    intra: "+slow+"\n", "", 1)), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	a, errA := same.runModel(0, "bare", tmpl).RunTime(pl)
	b, errB := same.runModel(0, "unet", tmpl).RunTime(pl)
	if errA != nil || errB != nil || a.Seconds != b.Seconds {
		t.Errorf("one node, same intra: bare %v s (%v), unet %v s (%v): want equal", a.Seconds, errA, b.Seconds, errB)
	}
}

// TestRuntimeIntraErrors: a bad runtimes[].intra is one message naming
// the field and its line.
func TestRuntimeIntraErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("kind: NetworkProfile\nversion: 1\nname: x\nbands:\n  - {maxBytes: 0, latency: 1e-7, bandwidth: -3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notProfile := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(notProfile, []byte("kind: AppModel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// runtimes[1] (unet) is on lines 13-16; intra goes on line 15.
	at := func(file string) string {
		return appEdit(t, "    profile: profiles/vm-tcp-usernetes.yaml\n", "    profile: profiles/vm-tcp-usernetes.yaml\n    intra: "+file+"\n")
	}
	cases := []struct{ name, doc, want string }{
		{"missing file", at("profiles/none.yaml"), "app.yaml:15: runtimes[1].intra: cannot read profile"},
		{"bad profile", at(bad), "app.yaml:15: runtimes[1].intra: "},
		{"bad band", at(bad), "bands[0].bandwidth: -3 B/s must be positive"},
		{"not a profile", at(notProfile), "app.yaml:15: runtimes[1].intra: " + quote(notProfile) + " is not a network profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("app.yaml", []byte(c.doc), Overrides{IgnoreEnv: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n  got: %v\n want: %s", err, c.want)
			}
		})
	}
}
