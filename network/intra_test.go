package network

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The intra-node measurements of make measure-intra (Open MPI's shared
// memory between two ranks, with single-copy by cross-memory attach and
// without it) and the profiles fitted to their osu_latency runs.
const (
	intraMeasured = "scenarios/network/measured/intra"
	intraProfiles = "scenarios/profiles"
)

// intraFit refits a committed profile from its committed measurement,
// as make measure-intra does, and reads the committed profile.
func intraFit(t *testing.T, mode string) (fit *Fit, committed *Profile, prov *Provenance, samples []OSUSample) {
	t.Helper()
	rel := filepath.ToSlash(filepath.Join(intraMeasured, "shm-"+mode+"-latency.txt"))
	data, err := ReadMeasurementFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	var in FitInput
	if err := in.AddFile(rel, data, ""); err != nil {
		t.Fatal(err)
	}
	res, err := ReadOSU(rel, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	name := "local-shm-" + mode
	path := filepath.Join("..", intraProfiles, name+".yaml")
	committed, prov, err = ReadProfileFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fit, err = FitProfile(name, in, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fit, committed, prov, res.Samples
}

// TestIntraProfiles: the committed shared-memory profiles are what a
// fit of the committed measurements gives today, and what the data say
// of single-copy holds in them: above Open MPI's eager limit, up to the
// sizes that stay in cache, a message copied in and out of the shared
// segment takes longer than one copied once by cross-memory attach.
func TestIntraProfiles(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", intraMeasured)); err != nil {
		t.Skipf("no intra-node measurements (%v): make measure-intra", err)
	}
	fits := map[string]*Fit{}
	means := map[string]map[int64]float64{}
	for _, mode := range []string{"cma", "nocma"} {
		fit, committed, prov, samples := intraFit(t, mode)
		fits[mode] = fit
		if !reflect.DeepEqual(stagesNil(fit.Profile), stagesNil(*committed)) {
			t.Errorf("%s is stale (run make measure-intra, or sim fit network as its provenance says):\n got %+v\nfile %+v", committed.Name, fit.Profile, *committed)
		}
		for i, in := range fit.Provenance.Inputs {
			if i >= len(prov.Inputs) || in.SHA256 != prov.Inputs[i].SHA256 || in.Path != prov.Inputs[i].Path {
				t.Errorf("%s: input %s is not the one it was fitted to", committed.Name, in.Path)
			}
		}
		sum, n := map[int64]float64{}, map[int64]float64{}
		for _, s := range samples {
			sum[s.Size] += s.Value
			n[s.Size]++
		}
		means[mode] = map[int64]float64{}
		for size := range sum {
			means[mode][size] = sum[size] / n[size] * 1e-6
		}
	}
	// Open MPI 4.1's vader: up to btl_vader_eager_limit (4 KiB) both copy
	// through the segment; above it, single-copy is one copy where
	// copy-in/copy-out makes two (the manifest records the parameters).
	// Up to 512 KiB the two buffers stay in the cores' caches.
	const eager, inCache = 4 << 10, 512 << 10
	checked := 0
	for size, cma := range means["cma"] {
		if size <= eager || size > inCache {
			continue
		}
		nocma, ok := means["nocma"][size]
		if !ok {
			t.Fatalf("size %d measured with cma only", size)
		}
		checked++
		if !(nocma > cma) {
			t.Errorf("%d B: %.3g s without single-copy, %.3g s with it (means of the runs): want it slower", size, nocma, cma)
		}
		pc, pn := fits["cma"].Profile.Time(size), fits["nocma"].Profile.Time(size)
		if !(pn > pc) {
			t.Errorf("%d B: the fitted profiles give %.3g s without single-copy, %.3g s with it: want it slower", size, pn, pc)
		}
	}
	if checked == 0 {
		t.Fatalf("no message sizes between %d and %d B in the measurements", eager, inCache)
	}
}

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
