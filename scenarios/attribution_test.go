package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/workloads/apps"
)

// TestUsernetesAttribution splits the Usernetes slowdown of the
// usernetes-collectives study into its mechanisms, adding them one at a
// time to bare metal on the six-node placement (8 ranks a node):
//
//	vxlan latency+MTU  the overlay's stage (encapsulation, 1450 MTU, latency)
//	slirp latency      slirp4netns' per-message latency, out and in
//	slirp throughput   its serial per-packet and per-byte cost (the stream cap)
//	slirp CPU          the CPU it burns per byte, taken from the ranks' cores
//	daemons            Usernetes' background load on every node
//
// The table is docs/validation.md's attribution; rerun with
// go test ./scenarios -run TestUsernetesAttribution -v. Adding a cost
// never makes a run faster, and with every mechanism added the time is
// the scenario's Usernetes run.
func TestUsernetesAttribution(t *testing.T) {
	sc, err := Load("usernetes-collectives.yaml", Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	full := sc.res.runtimes["usernetes"]
	base := sc.res.runtimes["bare-metal"]
	var vx, out, in network.Stage
	for _, s := range full.Stages {
		switch s.Name {
		case "vxlan":
			vx = s
		case "slirp4netns-out":
			out = s
		case "slirp4netns-in":
			in = s
		}
	}
	latOnly := func(s network.Stage) network.Stage {
		return network.Stage{Name: s.Name, Latency: s.Latency, MTU: s.MTU, HeaderBytes: s.HeaderBytes}
	}
	noCPU := func(s network.Stage) network.Stage { s.CPUPerByte = 0; return s }
	bg := sc.runtime("usernetes").Background
	steps := []struct {
		name string
		p    *network.Profile
		bg   apps.Background
	}{
		{"bare metal", base, apps.Background{}},
		{"+ vxlan latency+MTU", base.With("a", vx), apps.Background{}},
		{"+ slirp4netns latency", base.With("b", vx, latOnly(out), latOnly(in)), apps.Background{}},
		{"+ slirp4netns throughput", base.With("c", vx, noCPU(out), noCPU(in)), apps.Background{}},
		{"+ slirp4netns CPU", base.With("d", vx, out, in), apps.Background{}},
		{"+ Usernetes daemons", base.With("e", vx, out, in), bg},
	}
	nodes := Nodes(&sc.Cluster)
	var six []engine.NodeShare
	for _, n := range nodes {
		if n.Pool == "vm" {
			six = append(six, engine.NodeShare{Node: n, Pods: 1})
		}
	}
	var table strings.Builder
	for _, wname := range []string{"lammps-6nodes", "training-6nodes", "allreduce-64k-6nodes", "allreduce-1m-6nodes", "barrier-6nodes"} {
		i := workloadIndex(t, sc, wname)
		w := &sc.Workloads[i]
		fmt.Fprintf(&table, "\n%s (6 nodes × 8 ranks)\n%-26s %10s %10s %8s\n", wname, "mechanism added", "run (s)", "+ (s)", "× bare")
		var first, prev float64
		for k, st := range steps {
			run := &appRun{spec: w.App, fit: sc.res.apps[i], pools: sc.res.pools, perPod: w.App.RanksPerPod, bg: st.bg,
				fabric: &network.Fabric{Inter: st.p, Intra: sc.res.intra, Topology: sc.res.topology}}
			r, err := run.RunTime(six)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				first, prev = r.Seconds, r.Seconds
			}
			if r.Seconds < prev-1e-9 {
				t.Errorf("%s: %s made the run faster (%.3f → %.3f s)", wname, st.name, prev, r.Seconds)
			}
			fmt.Fprintf(&table, "%-26s %10.3f %10.3f %8.3f\n", st.name, r.Seconds, r.Seconds-prev, r.Seconds/first)
			prev = r.Seconds
		}
		// Every mechanism together is the scenario's Usernetes runtime.
		run := sc.runModel(i, "usernetes", w.template()).(*appRun)
		r, err := run.RunTime(six)
		if err != nil {
			t.Fatal(err)
		}
		if d := r.Seconds - prev; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: all mechanisms give %.6f s, the usernetes runtime %.6f s", wname, prev, r.Seconds)
		}
	}
	t.Log(table.String())
}

func workloadIndex(t *testing.T, sc *Scenario, name string) int {
	t.Helper()
	for i := range sc.Workloads {
		if sc.Workloads[i].Name == name {
			return i
		}
	}
	t.Fatalf("no workload %s", name)
	return -1
}
