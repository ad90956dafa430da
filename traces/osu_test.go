package traces

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadOSUStdout(t *testing.T) {
	for _, tc := range []struct {
		file    string
		kind    OSUKind
		version string
		cols    int
		samples int
		first   OSUSample
	}{
		{"osu_latency-v5.txt", OSULatency, "5.6.3", 1, 24, OSUSample{Size: 0, Value: 2.01}},
		{"osu_latency-v7.txt", OSULatency, "7.3", 4, 48, OSUSample{Size: 0, Value: 2.01}},
		{"osu_bw-v5.txt", OSUBandwidth, "5.6.3", 1, 23, OSUSample{Size: 1, Value: 2.85}},
		{"osu_bw-v7.txt", OSUBandwidth, "7.3", 1, 23, OSUSample{Size: 1, Value: 2.85}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := ReadOSU(tc.file, bytes.NewReader(readMeasFixture(t, "osu/"+tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.Version != tc.version || len(r.Columns) != tc.cols || len(r.Samples) != tc.samples {
				t.Fatalf("kind %s version %q columns %q samples %d", r.Kind, r.Version, r.Columns, len(r.Samples))
			}
			s := r.Samples[0]
			if s.Size != tc.first.Size || s.Value != tc.first.Value {
				t.Errorf("first sample %+v, want size %d value %g", s, tc.first.Size, tc.first.Value)
			}
			last := r.Samples[len(r.Samples)-1]
			if last.Size != 4194304 {
				t.Errorf("last size %d", last.Size)
			}
		})
	}
	r, err := ReadOSU("v7", bytes.NewReader(readMeasFixture(t, "osu/osu_latency-v7.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Columns; strings.Join(got, "|") != "Avg Latency(us)|P50 Tail Lat(us)|P90 Tail Lat(us)|P99 Tail Lat(us)" {
		t.Errorf("columns %q", got)
	}
	if r.Samples[0].Extra["P99 Tail Lat(us)"] <= r.Samples[0].Value || r.Samples[24].Iteration != 1 {
		t.Errorf("tail columns or run index: %+v %+v", r.Samples[0], r.Samples[24])
	}
}

func TestReadOSUCSV(t *testing.T) {
	a, err := ReadOSUCSV("table-a.csv", bytes.NewReader(readMeasFixture(t, "osu/table-a.csv")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadOSUCSV("table-b.csv", bytes.NewReader(readMeasFixture(t, "osu/table-b.csv")))
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != OSULatency || b.Kind != OSUBandwidth {
		t.Errorf("kinds from content: %s, %s", a.Kind, b.Kind)
	}
	if got := strings.Join(a.Experiments(), ","); got != "metal,overlay" {
		t.Errorf("experiments %s", got)
	}
	if n := len(a.Select("overlay")); n != 48 {
		t.Errorf("overlay: %d samples, want 48", n)
	}
	s := a.Samples[1]
	if s.Experiment != "metal" || s.Iteration != 0 || s.Ranks != 2 || s.Nodes != 2 || s.Size != 1 || s.Line != 3 {
		t.Errorf("sample %+v", s)
	}
	// The file name wins over the content; the kind can be stated.
	if r, err := ReadOSUCSV("osu-results-bandwidth.csv", bytes.NewReader(readMeasFixture(t, "osu/table-b.csv"))); err != nil || r.Kind != OSUBandwidth {
		t.Errorf("named bandwidth: %v %v", r, err)
	}
	if r, err := ReadOSUCSVAs("x.csv", bytes.NewReader(readMeasFixture(t, "osu/table-b.csv")), OSULatency); err != nil || r.Kind != OSULatency {
		t.Errorf("stated latency: %v", err)
	}
	if _, err := ReadOSUCSVAs("x.csv", strings.NewReader("size,average_latency_us\n1,2\n"), "rate"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestReadOSUErrors(t *testing.T) {
	const lat = "# OSU MPI Latency Test v7.3\n# Size       Avg Latency(us)   P50 Tail Lat(us)\n"
	for _, tc := range []struct {
		name, data, want string
		csv              bool
	}{
		{"bad number", lat + "0 1.5 1.4\n8 fast 1.4\n", "f:4: Avg Latency(us): cannot read \"fast\"", false},
		{"bad tail", lat + "0 1.5 x\n", "f:3: P50 Tail Lat(us): cannot read \"x\"", false},
		{"fields", lat + "0 1.5\n", "f:3: 2 fields, want 3", false},
		{"size", lat + "-8 1.5 1.4\n", "f:3: Size: -8 must not be negative", false},
		{"fraction size", lat + "1.5 1.5 1.4\n", "f:3: Size:", false},
		{"zero latency", lat + "8 0 0\n", "f:3: Avg Latency(us): 0: a latency must be positive", false},
		{"no header", "# OSU MPI Latency Test v5.6\n0 1.5\n", "f:2: a data row before the column header", false},
		{"no title", "# Size Latency (us)\n0 1.5\n", "no OSU title line", false},
		{"no rows", "# OSU MPI Bandwidth Test v5.6\n# Size Bandwidth (MB/s)\n", "no data rows", false},
		{"bibw", "# OSU MPI Bi-Directional Bandwidth Test v7.3\n", "f:1: \"OSU MPI Bi-Directional Bandwidth Test\": bi-directional", false},
		{"unit", "# OSU MPI Bandwidth Test v5.6\n# Size Latency (us)\n", "f:2: Latency (us): a bandwidth test's first column must be in MB/s", false},
		{"mixed", lat + "0 1 1\n# OSU MPI Bandwidth Test v7.3\n", "f:4: a bandwidth run after latency runs", false},
		{"csv missing column", "size,latency\n1,2\n", "f:1: average_latency_us: missing column", true},
		{"csv bad size", "size,average_latency_us\n1,2\nbig,3\n", "f:3: size: cannot read \"big\"", true},
		{"csv bad value", "size,average_latency_us\n1,2\n2,-3\n", "f:3: average_latency_us: -3 must be positive", true},
		{"csv duplicate", "size,size,average_latency_us\n", "f:1: size: duplicate column", true},
		{"csv short row", "size,average_latency_us\n1\n", "f:2: wrong number of fields", true},
		{"csv empty", "", "f: empty file", true},
		{"csv one size", "size,average_latency_us\n4,2\n4,2.1\n", "cannot tell latency from bandwidth", true},
		{"csv iteration", "size,average_latency_us,iteration\n4,2,x\n", "f:2: iteration:", true},
		// Impossible values and hostile text.
		{"huge size", lat + "2199023255553 1.5 1.4\n", "f:3: Size: 2199023255553 is larger than 1099511627776 bytes (1 TiB): not a message size", false},
		{"latency of hours", lat + "8 1e12 1.4\n", "f:3: Avg Latency(us): 1e+12 is above 1e+09 µs: not a measurement", false},
		{"tail NaN", lat + "8 1.5 NaN\n", "f:3: P50 Tail Lat(us): cannot read \"NaN\" as a number", false},
		{"infinite", lat + "8 +Inf 1.4\n", "f:3: Avg Latency(us): cannot read \"+Inf\" as a number", false},
		{"bandwidth 1e308", "# OSU MPI Bandwidth Test v7.3\n# Size Bandwidth (MB/s)\n8 1e308\n", "f:3: Bandwidth (MB/s): 1e+308 is above 1.25e+08 MB/s (1 Pbit/s): not a measurement", false},
		{"long value quoted short", lat + "8 " + strings.Repeat("9x", 5000) + " 1\n", `f:3: Avg Latency(us): cannot read "9x9x`, false},
		{"long line", lat + strings.Repeat("1", 2<<20) + "\n", "f:3: a line longer than 1 MiB: not OSU output", false},
		{"csv bandwidth 1e12", "size,average_latency_us\n8,1e12\n16,2e12\n", "f:2: average_latency_us: 1e+12 is above 1e+09: neither a latency in µs nor a bandwidth in MB/s", true},
		{"csv bandwidth too fast", "size,average_latency_us\n8,2e8\n16,4e8\n", "f:2: average_latency_us: 2e+08 is above 1.25e+08 MB/s (1 Pbit/s): not a measurement", true},
		{"csv huge size", "size,average_latency_us\n1e15,2\n", "f:2: size: 1000000000000000 is larger than", true},
		{"csv header quoted short", strings.Repeat("h", 5000) + "\n1\n", "f:1: size: missing column (the header has \"hhhh", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.csv {
				_, err = ReadOSUCSV("f", strings.NewReader(tc.data))
			} else {
				_, err = ReadOSU("f", strings.NewReader(tc.data))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("%v is not an input error", err)
			}
			if len(err.Error()) > 300 {
				t.Errorf("a %d-byte message", len(err.Error()))
			}
		})
	}
}

func FuzzReadOSU(f *testing.F) {
	for _, n := range []string{"osu_latency-v5.txt", "osu_latency-v7.txt", "osu_bw-v5.txt", "osu_bw-v7.txt"} {
		f.Add(readMeasFixture(f, "osu/"+n))
	}
	// Hostile seeds: impossible values, NaN, binary bytes.
	const lat = "# OSU MPI Latency Test v7.3\n# Size       Avg Latency(us)   P50 Tail Lat(us)\n"
	f.Add([]byte(lat + "2199023255553 1.5 1.4\n8 1e12 NaN\n"))
	f.Add([]byte("# OSU MPI Bandwidth Test v7.3\n# Size Bandwidth (MB/s)\n8 1e308\n-1 +Inf\n"))
	f.Add([]byte("\x00\x00# OSU\xff\xfe\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadOSU("fuzz", bytes.NewReader(data))
		if err != nil {
			fuzzInputErr(t, err)
			return
		}
		if r.Kind != OSULatency && r.Kind != OSUBandwidth || len(r.Samples) == 0 {
			t.Fatalf("accepted %+v", r)
		}
		for _, s := range r.Samples {
			limit, _ := osuColumnLimit(r.Columns[0])
			if s.Size < 0 || s.Size > MaxMessageBytes || !(s.Value > 0) || s.Value > limit {
				t.Fatalf("accepted sample %+v", s)
			}
		}
	})
}

func FuzzReadOSUCSV(f *testing.F) {
	f.Add(readMeasFixture(f, "osu/table-a.csv"))
	f.Add(readMeasFixture(f, "osu/table-b.csv"))
	f.Add([]byte("size,average_latency_us\n1,2\n2,4\n"))
	f.Add([]byte("size,average_latency_us\n1e15,2\n8,1e308\n16,NaN\n"))
	f.Add([]byte("size,average_latency_us,experiment\n8,2e8,\"a\nb\"\n16,4e8,\x00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadOSUCSV("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			fuzzInputErr(t, err)
			return
		}
		for _, s := range r.Samples {
			limit := maxOSUMicros
			if r.Kind == OSUBandwidth {
				limit = maxOSUMBps
			}
			if s.Size < 0 || s.Size > MaxMessageBytes || !(s.Value > 0) || s.Value > limit || (r.Kind == OSUBandwidth && s.Size == 0) {
				t.Fatalf("accepted sample %+v", s)
			}
		}
	})
}
