package network

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The intra-node measurements of make measure-intra (Open MPI's shared
// memory between two ranks, with single-copy by cross-memory attach and
// without it) and the profiles fitted to their osu_latency runs.
const (
	intraMeasured = "scenarios/network/measured/intra"
	intraProfiles = "scenarios/profiles"
)

// TestIntraRuntimes prices collectives within one node on the measured
// shared-memory profiles: what a runtime that refuses single-copy pays
// (docs/validation.md, "Intra-node transport per runtime"):
//
//	go test ./network -run TestIntraRuntimes -v
func TestIntraRuntimes(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", intraMeasured)); err != nil {
		t.Skipf("no intra-node measurements (%v): make measure-intra", err)
	}
	profiles := map[string]*Profile{"default": DefaultIntra()}
	for _, mode := range []string{"cma", "nocma"} {
		p, _, err := ReadProfileFile(filepath.Join("..", intraProfiles, "local-shm-"+mode+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		profiles[mode] = p
	}
	inter := flat("unused", 100e-6, 1e9) // one node: nothing crosses it
	var tab bytes.Buffer
	fmt.Fprintf(&tab, "\n%-18s %5s %12s %12s %12s %8s\n", "one node", "ranks", "cma (µs)", "nocma (µs)", "default", "nocma÷cma")
	for _, ranks := range []int{2, 16} {
		for _, c := range []struct {
			name  string
			bytes int64
		}{{"allreduce 8 B", 8}, {"allreduce 64 KiB", 64 << 10}, {"allreduce 1 MiB", 1 << 20}, {"barrier", -1}} {
			secs := map[string]float64{}
			for name, p := range profiles {
				f := &Fabric{Inter: inter, Intra: p}
				var cost Cost
				var err error
				if c.bytes < 0 {
					cost, err = f.Barrier(Uniform(1, ranks), AlgAuto)
				} else {
					cost, err = f.Allreduce(Uniform(1, ranks), c.bytes, AlgAuto)
				}
				if err != nil {
					t.Fatal(err)
				}
				secs[name] = cost.Seconds
			}
			r := secs["nocma"] / secs["cma"]
			fmt.Fprintf(&tab, "%-18s %5d %12.2f %12.2f %12.2f %8.2f\n", c.name, ranks, secs["cma"]*1e6, secs["nocma"]*1e6, secs["default"]*1e6, r)
			// What the data say above the eager limit, up to the cache:
			// the messages of these allreduces are 4 KiB to 512 KiB.
			if c.bytes >= 64<<10 && !(r > 1) {
				t.Errorf("%s on %d ranks: without single-copy ×%.3f: want slower", c.name, ranks, r)
			}
		}
	}
	t.Log(tab.String())
}
