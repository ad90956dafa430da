package network

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// known is the profile the synthetic samples come from, with the
// streaming gap of each band (osu_bw's per-message cost).
var known = Profile{
	Name: "known",
	Bands: []Band{
		{MaxBytes: 8192, Latency: 2.0e-6, Bandwidth: 5e9},
		{MaxBytes: 65536, Latency: 3.5e-6, Bandwidth: 8e9},
		{Latency: 9.0e-6, Bandwidth: 11e9},
	},
}
var knownGap = []float64{0.35e-6, 0.5e-6, 0.6e-6}

// synthetic samples the known profile at OSU's sizes, reps times each
// with a deterministic ±wiggle.
func synthetic(reps int, wiggle float64) FitInput {
	in := FitInput{Files: []InputFile{{Path: "lat", Kind: "latency"}, {Path: "bw", Kind: "bandwidth"}}}
	sizes := []int64{0}
	for n := int64(1); n <= 4<<20; n *= 2 {
		sizes = append(sizes, n)
	}
	k := 0
	for r := 0; r < reps; r++ {
		for i, n := range sizes {
			w := 1 + wiggle*math.Sin(float64(3*k+1))
			k++
			in.Latency = append(in.Latency, FitSample{Size: n, Value: known.Time(n) * w, Input: 0})
			if n == 0 {
				continue
			}
			b := 0
			for b < len(known.Bands)-1 && n > known.Bands[b].MaxBytes {
				b++
			}
			rate := float64(n) / (knownGap[b] + float64(n)/known.Bands[b].Bandwidth)
			in.Bandwidth = append(in.Bandwidth, FitSample{Size: n, Value: rate / w, Input: 1, Line: i})
		}
	}
	return in
}

func checkRecovered(t *testing.T, f *Fit, tol float64) {
	t.Helper()
	if len(f.Profile.Bands) != len(known.Bands) {
		t.Fatalf("%d bands, want %d: %+v", len(f.Profile.Bands), len(known.Bands), f.Profile.Bands)
	}
	for i, b := range f.Profile.Bands {
		w := known.Bands[i]
		if b.MaxBytes != w.MaxBytes {
			t.Errorf("band %d: maxBytes %d, want %d", i, b.MaxBytes, w.MaxBytes)
		}
		if e := math.Abs(b.Latency/w.Latency - 1); e > tol {
			t.Errorf("band %d: latency %g, want %g (%.2f%% off)", i, b.Latency, w.Latency, 100*e)
		}
		if e := math.Abs(b.Bandwidth/w.Bandwidth - 1); e > tol {
			t.Errorf("band %d: bandwidth %g, want %g (%.2f%% off)", i, b.Bandwidth, w.Bandwidth, 100*e)
		}
		if e := math.Abs(f.Report.Bands[i].StreamGap/knownGap[i] - 1); e > 5*tol {
			t.Errorf("band %d: stream gap %g, want %g", i, f.Report.Bands[i].StreamGap, knownGap[i])
		}
	}
}

func TestFitRecoversKnownProfile(t *testing.T) {
	// Exact samples: given bands and automatic bands both recover the
	// parameters; the automatic split finds the boundaries.
	for _, tc := range []struct {
		name   string
		bands  []int64
		wiggle float64
		tol    float64
	}{
		{"given bands, exact", []int64{8192, 65536}, 0, 1e-5},
		{"automatic bands, exact", nil, 0, 1e-5},
		{"given bands, 1% noise", []int64{8192, 65536}, 0.01, 0.03},
		{"automatic bands, 1% noise", nil, 0.01, 0.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FitProfile("fitted", synthetic(5, tc.wiggle), FitOptions{Bands: tc.bands})
			if err != nil {
				t.Fatal(err)
			}
			checkRecovered(t, f, tc.tol)
			// The jump at 65536 (3.5 µs + 8 µs → 9 µs + 6 µs) is the largest.
			if f.Profile.EagerLimit != 65536 {
				t.Errorf("eager limit %d, want 65536", f.Profile.EagerLimit)
			}
			for _, b := range f.Report.Bands {
				if b.Latency == nil || b.Bandwidth == nil {
					t.Fatalf("band %d: no residuals", b.Band)
				}
				if b.Latency.MeanRMSRelErr > tc.wiggle+1e-4 || b.Bandwidth.MeanRMSRelErr > tc.wiggle+1e-4 {
					t.Errorf("band %d: mean errors %g %g above the %g noise", b.Band, b.Latency.MeanRMSRelErr, b.Bandwidth.MeanRMSRelErr, tc.wiggle)
				}
			}
		})
	}
}

func TestFitLatencyOnly(t *testing.T) {
	in := synthetic(1, 0)
	in.Bandwidth = nil
	f, err := FitProfile("lat", in, FitOptions{Bands: []int64{8192, 65536}})
	if err != nil {
		t.Fatal(err)
	}
	checkRecoveredNoGap(t, f)
}

func checkRecoveredNoGap(t *testing.T, f *Fit) {
	t.Helper()
	for i, b := range f.Profile.Bands {
		w := known.Bands[i]
		if math.Abs(b.Latency/w.Latency-1) > 1e-5 || math.Abs(b.Bandwidth/w.Bandwidth-1) > 1e-5 {
			t.Errorf("band %d: %+v, want %+v", i, b, w)
		}
	}
}

func TestFitErrors(t *testing.T) {
	flat := FitInput{Latency: []FitSample{{Size: 8, Value: 1e-6}, {Size: 8, Value: 1.1e-6}}}
	falling := FitInput{Latency: []FitSample{{Size: 8, Value: 3e-6}, {Size: 64, Value: 2e-6}, {Size: 512, Value: 1e-6}}}
	bwOnly := synthetic(1, 0)
	bwOnly.Latency = nil
	for _, tc := range []struct {
		name string
		in   FitInput
		opt  FitOptions
		want string
		is   error
	}{
		{"no samples", FitInput{}, FitOptions{}, "no samples", ErrFit},
		{"one size", flat, FitOptions{}, "one message size only", ErrFit},
		{"negative slope", falling, FitOptions{}, "time falls", ErrFit},
		{"bandwidth only", bwOnly, FitOptions{}, "no latency samples", ErrFit},
		{"descending bands", synthetic(1, 0), FitOptions{Bands: []int64{65536, 8192}}, "bands[1]: 8192 must be above the previous 65536", ErrInvalid},
		{"zero band", synthetic(1, 0), FitOptions{Bands: []int64{0}}, "bands[0]: 0 must be a positive", ErrInvalid},
		{"empty band", synthetic(1, 0), FitOptions{Bands: []int64{3, 5}}, "band 1 (sizes 4 .. 5)", ErrFit},
		{"bad gain", synthetic(1, 0), FitOptions{MinGain: 2}, "MinGain", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitProfile("x", tc.in, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %q wrapping %v", err, tc.want, tc.is)
			}
		})
	}
	if _, err := FitProfile("", synthetic(1, 0), FitOptions{}); err == nil {
		t.Error("a profile without a name was fitted")
	}

}

// AddSeries keeps a file's points as samples of its kind, numbered by
// the file; AddBulk adds runs, one input per file however many runs
// follow one another in it.
func TestAddSeriesAndBulk(t *testing.T) {
	var in FitInput
	lat := []Point{{Size: 0, Value: 2e-6, Line: 3}, {Size: 8, Value: 2.1e-6, Line: 4}}
	if err := in.AddSeries(InputFile{Path: "lat.txt", Kind: KindLatency, Tool: "osu"}, lat); err != nil {
		t.Fatal(err)
	}
	bw := []Point{{Size: 8, Value: 1e9, Line: 5}}
	if err := in.AddSeries(InputFile{Path: "bw.txt", Kind: KindBandwidth}, bw); err != nil {
		t.Fatal(err)
	}
	run := BulkRun{Streams: 1, Rates: []float64{1e9, 1.1e9}, Seconds: []float64{1, 1}, MinRTT: 50e-6}
	for range 2 {
		if err := in.AddBulk(InputFile{Path: "log.json", SHA256: "ab", Tool: "iperf 3.12"}, run); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.AddBulk(InputFile{Path: "other.json", SHA256: "cd"}, run); err != nil {
		t.Fatal(err)
	}
	want := []InputFile{
		{Path: "lat.txt", Kind: KindLatency, Tool: "osu", Samples: 2},
		{Path: "bw.txt", Kind: KindBandwidth, Samples: 1},
		{Path: "log.json", SHA256: "ab", Kind: KindBulk, Tool: "iperf 3.12", Samples: 4},
		{Path: "other.json", SHA256: "cd", Kind: KindBulk, Samples: 2},
	}
	if !reflect.DeepEqual(in.Files, want) {
		t.Errorf("files\n%+v\nwant\n%+v", in.Files, want)
	}
	if len(in.Latency) != 2 || in.Latency[1] != (FitSample{Size: 8, Value: 2.1e-6, Input: 0, Line: 4}) {
		t.Errorf("latency samples %+v", in.Latency)
	}
	if len(in.Bandwidth) != 1 || in.Bandwidth[0] != (FitSample{Size: 8, Value: 1e9, Input: 1, Line: 5}) {
		t.Errorf("bandwidth samples %+v", in.Bandwidth)
	}
	if len(in.Bulk) != 3 || in.Bulk[0].Input != 2 || in.Bulk[1].Input != 2 || in.Bulk[2].Input != 3 {
		t.Errorf("bulk runs %+v", in.Bulk)
	}

	for _, tc := range []struct {
		name string
		add  func(in *FitInput) error
		want string
	}{
		{"zero-byte bandwidth", func(in *FitInput) error {
			return in.AddSeries(InputFile{Path: "bw.csv", Kind: KindBandwidth}, []Point{{Size: 0, Value: 1, Line: 7}})
		}, "bw.csv:7: size: 0: a bandwidth sample needs a positive message size"},
		{"unknown kind", func(in *FitInput) error { return in.AddSeries(InputFile{Path: "x", Kind: "jitter"}, nil) }, `x: unknown series kind "jitter"`},
		{"no rates", func(in *FitInput) error { return in.AddBulk(InputFile{Path: "r"}, BulkRun{Streams: 1}) }, "r: a bulk run needs as many rates"},
		{"no streams", func(in *FitInput) error {
			return in.AddBulk(InputFile{Path: "r"}, BulkRun{Rates: []float64{1}, Seconds: []float64{1}})
		}, "r: streams: 0"},
		{"zero seconds", func(in *FitInput) error {
			return in.AddBulk(InputFile{Path: "r"}, BulkRun{Streams: 1, Rates: []float64{1, 2}, Seconds: []float64{1, 0}})
		}, "r: rates[1]: 2 B/s over 0 s"},
		{"NaN rate", func(in *FitInput) error {
			return in.AddBulk(InputFile{Path: "r"}, BulkRun{Streams: 1, Rates: []float64{math.NaN()}, Seconds: []float64{1}})
		}, "r: rates[0]: NaN B/s"},
		{"negative rtt", func(in *FitInput) error {
			return in.AddBulk(InputFile{Path: "r"}, BulkRun{Streams: 1, Rates: []float64{1}, Seconds: []float64{1}, MinRTT: -1})
		}, "r: minRTT: -1 must be finite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in FitInput
			err := tc.add(&in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v, want %q (an input error)", err, tc.want)
			}
		})
	}
}

// Bulk runs alone: the one-stream run gives the band (half the smallest
// RTT, the length-weighted mean of its interval rates), the parallel
// run the link, the runs the path MTU and the CPU time per byte.
func TestFitBulkRuns(t *testing.T) {
	var in FitInput
	single := BulkRun{Streams: 1, Rates: []float64{1e9, 1.2e9, 1.1e9}, Seconds: []float64{1, 0.5, 1}, MinRTT: 40e-6, PMTU: 1500, CPUPerByte: 2e-10}
	parallel := BulkRun{Streams: 4, Rates: []float64{3e9, 3.2e9}, Seconds: []float64{1, 1}, MinRTT: 30e-6, PMTU: 1500, CPUPerByte: 4e-10}
	if err := in.AddBulk(InputFile{Path: "one.json"}, single); err != nil {
		t.Fatal(err)
	}
	if err := in.AddBulk(InputFile{Path: "four.json"}, parallel); err != nil {
		t.Fatal(err)
	}
	f, err := FitProfile("tcp", in, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Profile
	mean := (1e9*1 + 1.2e9*0.5 + 1.1e9*1) / 2.5
	if len(p.Bands) != 1 || math.Abs(p.Bands[0].Latency/15e-6-1) > 1e-12 || math.Abs(p.Bands[0].Bandwidth/mean-1) > 1e-12 {
		t.Errorf("bands %+v, want latency 15 µs (half the smallest RTT) and bandwidth %g", p.Bands, mean)
	}
	if math.Abs(p.LinkBandwidth/3.1e9-1) > 1e-12 || p.MTU != 1500 || math.Abs(p.CPUPerByte/3e-10-1) > 1e-12 {
		t.Errorf("link %g, mtu %d, cpu per byte %g", p.LinkBandwidth, p.MTU, p.CPUPerByte)
	}
	// The band's bulk residuals are those of the one-stream intervals.
	if r := f.Report.Bands[0].Bulk; r == nil || r.Points != 3 {
		t.Errorf("bulk residuals %+v", r)
	}
	var params []string
	for _, ps := range f.Provenance.Parameters {
		params = append(params, ps.Param)
	}
	if got := strings.Join(params, " "); got != "bands[0].latency bands[0].bandwidth linkBandwidth mtu cpuPerByte" {
		t.Errorf("parameters with provenance: %s", got)
	}

	// Parallel runs only: nothing gives a one-stream bandwidth.
	var par FitInput
	if err := par.AddBulk(InputFile{Path: "four.json"}, parallel); err != nil {
		t.Fatal(err)
	}
	if _, err := FitProfile("tcp", par, FitOptions{}); err == nil || !errors.Is(err, ErrFit) || !strings.Contains(err.Error(), "no one-stream iperf3 run") {
		t.Errorf("parallel only: %v", err)
	}
}
