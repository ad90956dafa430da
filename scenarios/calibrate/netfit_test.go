package calibrate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/traces"
)

// netFixtures is the folder of the measurement fixtures of traces (see
// its README): iperf3 runs over loopback and OSU output and tables of a
// known three-band model.
var netFixtures = filepath.Join("..", "..", "traces", "testdata", "network")

func netFixture(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(netFixtures, path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// netKnown is the model the OSU fixtures were made from, with the
// streaming gap of each band (osu_bw's per-message cost).
var (
	netKnown = []network.Band{
		{MaxBytes: 8192, Latency: 2.0e-6, Bandwidth: 5e9},
		{MaxBytes: 65536, Latency: 3.5e-6, Bandwidth: 8e9},
		{Latency: 9.0e-6, Bandwidth: 11e9},
	}
	netKnownGap = []float64{0.35e-6, 0.5e-6, 0.6e-6}
)

// The OSU stdout and CSV fixtures, read by traces and fitted by network,
// give back the model they were made from.
func TestNetworkFitFixtures(t *testing.T) {
	for _, set := range []struct {
		files  []string
		format string
		tool   string
	}{
		{[]string{"osu/osu_latency-v5.txt", "osu/osu_bw-v5.txt"}, traces.MeasurementOSUStdout, "OSU MPI Latency Test v5.6.3"},
		{[]string{"osu/osu_latency-v7.txt", "osu/osu_bw-v7.txt"}, traces.MeasurementOSUStdout, "OSU MPI Latency Test v7.3"},
		{[]string{"osu/table-a.csv", "osu/table-b.csv"}, traces.MeasurementOSUCSV, ""},
	} {
		t.Run(set.files[0], func(t *testing.T) {
			var in network.FitInput
			for _, p := range set.files {
				if err := AddNetworkMeasurement(&in, p, netFixture(t, p), "metal"); err != nil {
					t.Fatal(err)
				}
			}
			f, err := network.FitProfile("fixtures", in, network.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Profile.Bands) != len(netKnown) {
				t.Fatalf("%d bands, want %d: %+v", len(f.Profile.Bands), len(netKnown), f.Profile.Bands)
			}
			for i, b := range f.Profile.Bands {
				w := netKnown[i]
				if b.MaxBytes != w.MaxBytes || math.Abs(b.Latency/w.Latency-1) > 0.02 || math.Abs(b.Bandwidth/w.Bandwidth-1) > 0.02 {
					t.Errorf("band %d: %+v, want %+v within 2%%", i, b, w)
				}
				if g := f.Report.Bands[i].StreamGap; math.Abs(g/netKnownGap[i]-1) > 0.1 {
					t.Errorf("band %d: stream gap %g, want %g", i, g, netKnownGap[i])
				}
			}
			for _, r := range f.Report.Inputs {
				if r.Residuals.RMSRelErr > 0.01 {
					t.Errorf("%s: rms error %g", r.Path, r.Residuals.RMSRelErr)
				}
			}
			ins := f.Provenance.Inputs
			if len(ins) != 2 || ins[0].Kind != network.KindLatency || ins[1].Kind != network.KindBandwidth {
				t.Fatalf("provenance inputs %+v", ins)
			}
			for i, p := range set.files {
				if ins[i].Path != p || ins[i].Format != set.format || len(ins[i].SHA256) != 64 || ins[i].Samples == 0 {
					t.Errorf("input %d: %+v", i, ins[i])
				}
			}
			if ins[0].Tool != set.tool || ins[0].Experiment != "metal" {
				t.Errorf("input 0: tool %q experiment %q, want %q metal", ins[0].Tool, ins[0].Experiment, set.tool)
			}
		})
	}
}

// The iperf3 fixtures: a one-stream run gives the band (half its
// smallest RTT, its throughput), the parallel one the link, both the CPU
// per byte and the path MTU.
func TestNetworkFitIperf3(t *testing.T) {
	var in network.FitInput
	for _, p := range []string{"iperf3/single.json", "iperf3/parallel4.json"} {
		if err := AddNetworkMeasurement(&in, p, netFixture(t, p), ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(in.Bulk) != 2 || in.Bulk[0].Streams != 1 || in.Bulk[1].Streams != 4 || in.Files[0].Kind != network.KindBulk || in.Files[0].Tool != "iperf 3.12" {
		t.Fatalf("bulk runs %+v, files %+v", in.Bulk, in.Files)
	}
	f, err := network.FitProfile("loopback", in, network.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	single, err := traces.ReadIperf3("s", bytes.NewReader(netFixture(t, "iperf3/single.json")))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Profile
	if len(p.Bands) != 1 || math.Abs(p.Bands[0].Latency/(single.MinRTT()/2)-1) > 1e-5 {
		t.Errorf("bands %+v, want one with latency %g", p.Bands, single.MinRTT()/2)
	}
	if e := math.Abs(p.Bands[0].Bandwidth/single.Throughput() - 1); e > 0.02 {
		t.Errorf("bandwidth %g, the run's throughput %g", p.Bands[0].Bandwidth, single.Throughput())
	}
	if p.LinkBandwidth < p.Bands[0].Bandwidth || p.CPUPerByte <= 0 || p.MTU != 65535 {
		t.Errorf("link %g, cpu %g, mtu %d", p.LinkBandwidth, p.CPUPerByte, p.MTU)
	}
	if r := f.Report.Bands[0].Bulk; r == nil || r.Points != 4 {
		t.Errorf("bulk residuals %+v", r)
	}
	var params []string
	for _, ps := range f.Provenance.Parameters {
		params = append(params, ps.Param)
	}
	if got := strings.Join(params, " "); got != "bands[0].latency bands[0].bandwidth linkBandwidth mtu cpuPerByte" {
		t.Errorf("parameters with provenance: %s", got)
	}

	// With OSU samples, the one-stream bulk rate becomes the last band's.
	for _, p := range []string{"osu/table-a.csv", "osu/table-b.csv"} {
		if err := AddNetworkMeasurement(&in, p, netFixture(t, p), "metal"); err != nil {
			t.Fatal(err)
		}
	}
	g, err := network.FitProfile("mixed", in, network.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := g.Profile.Bands[len(g.Profile.Bands)-1]
	if last.Bandwidth != f.Profile.Bands[0].Bandwidth || len(g.Profile.Bands) != 3 {
		t.Errorf("mixed: bands %+v", g.Profile.Bands)
	}
}

// iperf3 --logfile appends one document per run to one file: one input
// of the fit, with every run.
func TestNetworkFitAppended(t *testing.T) {
	single, par := netFixture(t, "iperf3/single.json"), netFixture(t, "iperf3/parallel4.json")
	both := append(append(append([]byte(nil), single...), '\n'), par...)
	var in network.FitInput
	if err := AddNetworkMeasurement(&in, "log.json", both, ""); err != nil {
		t.Fatal(err)
	}
	if len(in.Files) != 1 || len(in.Bulk) != 2 || in.Files[0].Samples != 8 || in.Bulk[1].Input != 0 {
		t.Errorf("files %+v, runs %+v", in.Files, in.Bulk)
	}
}

// A gzip measurement file fits as the file it holds; its provenance
// keeps the SHA-256 of the file as stored.
func TestNetworkFitGzip(t *testing.T) {
	fit := func(files map[string][]byte, order []string) *network.Fit {
		t.Helper()
		var in network.FitInput
		for _, p := range order {
			if err := AddNetworkMeasurement(&in, p, files[p], "metal"); err != nil {
				t.Fatal(err)
			}
		}
		f, err := network.FitProfile("gz", in, network.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	plain := map[string][]byte{}
	gz := map[string][]byte{}
	names := []string{"osu/table-a.csv", "osu/osu_bw-v7.txt", "iperf3/single.json"}
	for _, p := range names {
		plain[p] = netFixture(t, p)
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(plain[p])
		w.Close()
		gz[p] = b.Bytes()
	}
	a, b := fit(plain, names), fit(gz, names)
	if !reflect.DeepEqual(a.Profile, b.Profile) || !reflect.DeepEqual(a.Report, b.Report) {
		t.Errorf("gzip fit differs:\n%+v\n%+v", a.Profile, b.Profile)
	}
	for i := range a.Provenance.Inputs {
		pa, pb := a.Provenance.Inputs[i], b.Provenance.Inputs[i]
		if pa.SHA256 == pb.SHA256 || pa.Format != pb.Format || pa.Samples != pb.Samples {
			t.Errorf("input %d: %+v vs %+v", i, pa, pb)
		}
	}
	// A truncated gzip file: one error naming the file.
	var in network.FitInput
	cut := gz["osu/table-a.csv"][:len(gz["osu/table-a.csv"])/2]
	err := AddNetworkMeasurement(&in, "a.csv.gz", cut, "metal")
	if err == nil || !strings.HasPrefix(err.Error(), "a.csv.gz: ") || !strings.Contains(err.Error(), "truncated or corrupt") || !errors.Is(err, traces.ErrBadInput) {
		t.Errorf("truncated gzip: %v", err)
	}
}

// Errors of the wiring: an OSU table with several experiments needs
// one, an unknown experiment lists those there are, a file of no
// measurement format says what was expected.
func TestNetworkFitInputErrors(t *testing.T) {
	var in network.FitInput
	for _, tc := range []struct {
		name, path string
		data       []byte
		experiment string
		want       string
	}{
		{"no experiment", "table-a.csv", netFixture(t, "osu/table-a.csv"), "", `table-a.csv: experiment: 2 experiments ("metal", "overlay"): choose one`},
		{"unknown experiment", "table-a.csv", netFixture(t, "osu/table-a.csv"), "cloud", `table-a.csv: experiment: no experiment "cloud" (the file has "metal", "overlay")`},
		{"not a measurement", "x.txt", []byte("hello\nworld\n"), "", "x.txt: not iperf3 -J JSON, OSU output or an OSU CSV table"},
		{"empty", "e.txt", []byte(" \n"), "", "e.txt: empty file"},
		{"iperf3 error", "r.json", netFixture(t, "iperf3/refused.json"), "", `r.json:10: error: iperf3 reported an error: "unable to connect to server: Connection refused"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := AddNetworkMeasurement(&in, tc.path, tc.data, tc.experiment)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, traces.ErrBadInput) {
				t.Fatalf("error %v, want %q (a traces input error)", err, tc.want)
			}
		})
	}
	if len(in.Files) != 0 {
		t.Errorf("refused files were added: %+v", in.Files)
	}
}

// sharedOSU is the folder of the flux-usernetes OSU tables.
var sharedOSU = filepath.Join("..", "..", "..", "shared", "data", "flux-usernetes-aws", "osu")

func sharedOSUInput(t *testing.T, experiment string) network.FitInput {
	t.Helper()
	if _, err := os.Stat(sharedOSU); err != nil {
		t.Skipf("shared data absent (%s): the fit of the recorded OSU tables is not checked", sharedOSU)
	}
	var in network.FitInput
	for _, f := range []string{"osu-results-latency.csv", "osu-results-bandwidth.csv"} {
		path := filepath.Join(sharedOSU, f)
		data, err := traces.ReadMeasurementFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := AddNetworkMeasurement(&in, path, data, experiment); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// The recorded OSU tables of the flux-usernetes experiments: every
// experiment fits with the eager/rendezvous switch at 64 KiB, and the
// fitted profile reproduces the per-size means within the stated error
// in every band.
func TestFitSharedOSU(t *testing.T) {
	for _, exp := range []string{"bare-metal", "usernetes", "container", "bare-metal-with-usernetes", "container-with-usernetes"} {
		t.Run(exp, func(t *testing.T) {
			f, err := network.FitProfile("aws-"+exp, sharedOSUInput(t, exp), network.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var table bytes.Buffer
			f.WriteTable(&table)
			t.Logf("\n%s", table.String())
			if f.Profile.EagerLimit != 65536 || len(f.Profile.Bands) < 2 {
				t.Errorf("eager limit %d with %d bands, want the switch at 65536", f.Profile.EagerLimit, len(f.Profile.Bands))
			}
			for _, b := range f.Report.Bands {
				for kind, r := range map[string]*network.Residuals{"latency": b.Latency, "bandwidth": b.Bandwidth} {
					if r == nil || r.Points == 0 {
						t.Fatalf("band %d: no %s residuals", b.Band, kind)
					}
					// Stated error: the per-size means within 15% RMS and
					// 25% at worst (the latency at 512 KiB, above the
					// 1 MiB one, is what no line through a band meets).
					if r.MeanRMSRelErr > 0.15 || r.MeanMaxRelErr > 0.25 {
						t.Errorf("band %d %s: error of the means rms %.1f%% max %.1f%%", b.Band, kind, 100*r.MeanRMSRelErr, 100*r.MeanMaxRelErr)
					}
				}
			}
			// 4 MiB streams at about 24 GB/s in every environment.
			last := f.Profile.Bands[len(f.Profile.Bands)-1]
			if last.Bandwidth < 20e9 || last.Bandwidth > 28e9 {
				t.Errorf("last band bandwidth %g B/s", last.Bandwidth)
			}
		})
	}
}

func stagesNil(p network.Profile) network.Profile {
	if len(p.Stages) == 0 {
		p.Stages = nil
	}
	return p
}

// The committed profiles in scenarios/profiles load, and those fitted
// to the shared OSU tables are what a fit of them gives today.
func TestCommittedProfiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "profiles", "*.yaml"))
	if len(files) == 0 {
		t.Skip("no profiles in scenarios/profiles")
	}
	for _, path := range files {
		p, prov, err := network.ReadProfileFile(path)
		if err != nil {
			t.Fatal(err)
		}
		exp := ""
		if prov != nil && len(prov.Inputs) == 2 && strings.Contains(prov.Inputs[0].Path, "flux-usernetes-aws/osu/") {
			exp = prov.Inputs[0].Experiment
		}
		if exp == "" {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := network.FitProfile(p.Name, sharedOSUInput(t, exp), network.FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stagesNil(f.Profile), stagesNil(*p)) {
				t.Errorf("%s is stale (run make fit-network):\n got %+v\nfile %+v", path, f.Profile, *p)
			}
			for i, in := range f.Provenance.Inputs {
				if in.SHA256 != prov.Inputs[i].SHA256 {
					t.Errorf("%s: input %s changed since the fit", path, in.Path)
				}
			}
		})
	}
}

// The intra-node measurements of make measure-intra (Open MPI's shared
// memory between two ranks, with single-copy by cross-memory attach and
// without it) and the profiles fitted to their osu_latency runs, from
// the repository's root.
const (
	intraMeasured = "scenarios/network/measured/intra"
	intraProfiles = "scenarios/profiles"
)

// intraFit refits a committed profile from its committed measurement,
// as make measure-intra does, and reads the committed profile.
func intraFit(t *testing.T, mode string) (fit *network.Fit, committed *network.Profile, prov *network.Provenance, samples []traces.OSUSample) {
	t.Helper()
	rel := filepath.ToSlash(filepath.Join(intraMeasured, "shm-"+mode+"-latency.txt"))
	data, err := traces.ReadMeasurementFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	var in network.FitInput
	if err := AddNetworkMeasurement(&in, rel, data, ""); err != nil {
		t.Fatal(err)
	}
	res, err := traces.ReadOSU(rel, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	name := "local-shm-" + mode
	committed, prov, err = network.ReadProfileFile(filepath.Join("..", "..", intraProfiles, name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fit, err = network.FitProfile(name, in, network.FitOptions{})
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
	if _, err := os.Stat(filepath.Join("..", "..", intraMeasured)); err != nil {
		t.Skipf("no intra-node measurements (%v): make measure-intra", err)
	}
	fits := map[string]*network.Fit{}
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

// FuzzNetworkMeasurement: any file content, told apart by
// traces.DetectMeasurement and read by its reader, is either refused
// with an input error of bounded length or added; a fit of what was
// added is either refused (network.ErrFit, ErrInvalid) or a valid
// profile that writes and reads back.
func FuzzNetworkMeasurement(f *testing.F) {
	for _, p := range []string{"osu/osu_latency-v7.txt", "osu/osu_bw-v5.txt", "osu/table-a.csv", "iperf3/single.json"} {
		f.Add(netFixture(f, p), "")
	}
	f.Add([]byte("\x00\x00\x00"), "")
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00"), "")
	f.Add([]byte("# OSU MPI Latency Test v7.3\n# Size Latency (us)\n0 1e308\n8 NaN\n"), "")
	f.Add([]byte("size,average_latency_us,experiment\n8,2,\"a\nb\"\n16,2.1,c\n"), "a\nb")
	f.Fuzz(func(t *testing.T, data []byte, experiment string) {
		var in network.FitInput
		if err := AddNetworkMeasurement(&in, "fuzz", data, experiment); err != nil {
			if !errors.Is(err, traces.ErrBadInput) && !errors.Is(err, network.ErrBadInput) {
				t.Fatalf("error %v is not an input error", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %v does not name the file", err)
			}
			if len(err.Error()) > 1000 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		fit, err := network.FitProfile("fuzz", in, network.FitOptions{})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := network.WriteProfile(&buf, fit); err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, _, err := network.ReadProfile("p.yaml", &buf); err != nil {
			t.Fatalf("read back: %v", err)
		}
	})
}
