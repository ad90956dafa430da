package calibrate

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/scenarios"
)

var refitStages = flag.Bool("refitstages", false, "refit the Usernetes stages from scenarios/network/measured and rewrite scenarios/profiles/vm-tcp*.yaml")

const stagesCommand = "go test ./scenarios/calibrate -run TestUsernetesProfiles -refitstages -v"

// vmTCPProfile is the TCP transport between the lammps-stream-ml VMs:
// no point-to-point data exist for them, so it was fitted together with
// LAMMPS (scenarios/apps/lammps.yaml, fit vm8-tcp).
func vmTCPProfile(t *testing.T) (*network.Profile, *network.Provenance) {
	t.Helper()
	f, err := scenarios.LoadAppModel(filepath.Join(appsDir, "lammps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fit, err := f.Lookup("vm8-tcp")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fit.Environments {
		if e.Profile != nil {
			p := *e.Profile
			p.Name = "vm-tcp"
			prov := &network.Provenance{
				Tool:    "converge scenarios/calibrate",
				Command: stagesCommand,
				Notes: []string{
					"the TCP transport between the 8-core VMs of lammps-stream-ml, fitted together with LAMMPS to its wall times (scenarios/apps/lammps.yaml, fit vm8-tcp, environment " + e.Name + "): no point-to-point measurements of those VMs exist",
				},
			}
			for _, d := range fit.Provenance.Data {
				prov.Inputs = append(prov.Inputs, network.InputFile{Path: "../shared/data/" + d.Path, Kind: "app-run-times", SHA256: d.SHA256})
			}
			return &p, prov
		}
	}
	t.Fatal("scenarios/apps/lammps.yaml fit vm8-tcp has no fitted profile")
	return nil, nil
}

// TestUsernetesProfiles: the bundled vm-tcp profiles are what the fit
// of the recorded measurements gives (rerun with -refitstages after
// make measure-network or a LAMMPS refit), and the fitted stages are
// mechanisms that slow the path the way the measurements did.
func TestUsernetesProfiles(t *testing.T) {
	dir := "../network/measured"
	u, err := FitUsernetesStages(dir)
	if err != nil {
		t.Fatal(err)
	}
	base, baseProv := vmTCPProfile(t)
	usernetes, bypass := u.UsernetesProfiles(base)
	for _, st := range []network.Stage{u.VXLAN, u.SlirpOut, u.SlirpIn} {
		t.Logf("stage %-16s latency %6.1f µs  perPacket %6.2f µs  perByte %6.3f ns  cpu %6.3f ns/B  mtu %d hdr %d",
			st.Name, st.Latency*1e6, st.PerPacket*1e6, st.PerByte*1e9, st.CPUPerByte*1e9, st.MTU, st.HeaderBytes)
	}
	for _, p := range []*network.Profile{base, usernetes, bypass} {
		t.Logf("%-32s 8 B %7.1f µs   64 KiB %8.1f µs   4 MiB %8.2f ms   stream %6.3f Gb/s",
			p.Name, p.Time(8)*1e6, p.Time(64<<10)*1e6, p.Time(4<<20)*1e3, p.Bandwidth(4<<20)*8/1e9)
	}

	// Mechanism checks, computed from the measurements themselves: the
	// slower slirp direction caps the Usernetes stream at its measured
	// MTU-1500 rate scaled to the overlay's payload, and the path's
	// extra latency is the measured round-trip differences.
	rate := func(name string) float64 {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := network.ReadIperf3(name, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return r.Throughput()
	}
	slowest := min(rate("slirp-1500-1.json"), rate("slirp-1500-1-reverse.json"))
	want := min(slowest*(1500-40-50)/(1500-40), base.Bandwidth(4<<20)*usernetes.Goodput())
	if got := usernetes.Bandwidth(4 << 20); relErr(got, want) > 0.02 {
		t.Errorf("usernetes stream rate %.4g B/s, want ≈ %.4g (the slower slirp4netns direction at MTU 1500, overlay payload)", got, want)
	}
	if got, want := usernetes.Latency(8)-base.Latency(8), u.VXLAN.Latency+u.SlirpOut.Latency+u.SlirpIn.Latency; relErr(got, want) > 1e-9 {
		t.Errorf("usernetes extra latency %g, want the stages' %g", got, want)
	}
	if !(usernetes.NodeCPUPerByte() > 0) || bypass.NodeCPUPerByte() != 0 {
		t.Errorf("node CPU per byte: usernetes %g (want > 0: slirp4netns copies), bypass4netns %g (want 0)", usernetes.NodeCPUPerByte(), bypass.NodeCPUPerByte())
	}

	prov := func(p *network.Provenance) *network.Provenance {
		q := *p
		q.Inputs = append(append([]network.InputFile(nil), p.Inputs...), u.Inputs...)
		q.Parameters = u.Sources
		q.Notes = append(append([]string(nil), p.Notes...), u.Notes...)
		return &q
	}
	files := []struct {
		name string
		p    *network.Profile
		prov *network.Provenance
		what string
	}{
		{"vm-tcp.yaml", base, baseProv, "TCP between the lammps-stream-ml VMs (bare metal and Singularity: the same path)"},
		{"vm-tcp-usernetes.yaml", usernetes, prov(baseProv), "the same VMs' TCP with Usernetes' path: flannel VXLAN, then slirp4netns out of one node and into the other"},
		{"vm-tcp-usernetes-bypass4netns.yaml", bypass, prov(baseProv), "Usernetes with bypass4netns: pod sockets are host sockets, slirp4netns is off the path (its seccomp cost per socket call is not modelled); the overlay stays"},
	}
	for _, f := range files {
		header := fmt.Sprintf("# converge network profile (NetworkProfile): %s.\n# Regenerate: %s\n", f.what, stagesCommand)
		data, err := WriteProfileFile(f.p, f.prov, header)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("../profiles", f.name)
		if *refitStages {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (write it with %s)", err, stagesCommand)
		}
		if !bytes.Equal(old, data) {
			t.Errorf("scenarios/profiles/%s is stale: the measurements or the LAMMPS fit changed; rerun %s", f.name, stagesCommand)
		}
		if _, _, err := network.ReadProfile(path, bytes.NewReader(old)); err != nil {
			t.Errorf("bundled profile does not load: %v", err)
		}
	}
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return got
	}
	d := (got - want) / want
	if d < 0 {
		return -d
	}
	return d
}
