package calibrate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/traces"
)

// TestUsernetesProfiles: the bundled vm-tcp profiles are what the fit
// of the recorded measurements gives (regenerate with StagesCommand
// after make measure-network or a LAMMPS refit), and the fitted stages
// are mechanisms that slow the path the way the measurements did.
func TestUsernetesProfiles(t *testing.T) {
	dir := "../network/measured"
	files, u, err := UsernetesProfileFiles(dir, filepath.Join("../apps", "lammps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base, _, err := VMTCPProfile(filepath.Join("../apps", "lammps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	usernetes, bypass := u.UsernetesProfiles(base)
	t.Log("\n" + u.Table())
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
		r, err := traces.ReadIperf3(name, bytes.NewReader(data))
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

	for _, f := range files {
		path := filepath.Join("../profiles", f.Name)
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (write it with %s)", err, StagesCommand)
		}
		if !bytes.Equal(old, f.Data) {
			t.Errorf("scenarios/profiles/%s is stale: the measurements or the LAMMPS fit changed; rerun %s", f.Name, StagesCommand)
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
