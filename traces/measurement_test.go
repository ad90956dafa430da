package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectMeasurement(t *testing.T) {
	for file, want := range map[string]string{
		"iperf3/single.json":     MeasurementIperf3,
		"iperf3/refused.json":    MeasurementIperf3,
		"osu/osu_latency-v7.txt": MeasurementOSUStdout,
		"osu/osu_bw-v5.txt":      MeasurementOSUStdout,
		"osu/table-a.csv":        MeasurementOSUCSV,
		"osu/table-b.csv":        MeasurementOSUCSV,
	} {
		if got, err := DetectMeasurement(readMeasFixture(t, file)); got != want || err != nil {
			t.Errorf("%s: %q %v, want %q", file, got, err, want)
		}
	}
	launcher := "Warning: Permanently added 'node-1' to the list of known hosts.\n# OSU MPI Bandwidth Test v7.3\n"
	if got, err := DetectMeasurement([]byte(launcher)); got != MeasurementOSUStdout || err != nil {
		t.Errorf("OSU after launcher lines: %q %v", got, err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"blank", "  \n", "empty file"},
		{"NUL", "size,x\n\x00", "binary data (a NUL byte at offset 7)"},
		{"ping", "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n", `not iperf3 -J JSON, OSU output or an OSU CSV table (first line "PING 10.0.0.2`},
		{"long first line", strings.Repeat("x", 500), `(first line "` + strings.Repeat("x", 60) + `…")`},
	} {
		if _, err := DetectMeasurement([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// ReadMeasurement reads every fixture as its own reader does, and a
// gzip file as the file it holds.
func TestReadMeasurement(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format string
		tool   string
		runs   int
		kind   OSUKind
	}{
		{"iperf3/single.json", MeasurementIperf3, "iperf 3.12", 1, ""},
		{"iperf3/parallel4.json", MeasurementIperf3, "iperf 3.12", 1, ""},
		{"osu/osu_latency-v5.txt", MeasurementOSUStdout, "OSU MPI Latency Test v5.6.3", 0, OSULatency},
		{"osu/osu_bw-v7.txt", MeasurementOSUStdout, "OSU MPI Bandwidth Test v7.3", 0, OSUBandwidth},
		{"osu/table-a.csv", MeasurementOSUCSV, "", 0, OSULatency},
		{"osu/table-b.csv", MeasurementOSUCSV, "", 0, OSUBandwidth},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readMeasFixture(t, tc.file)
			m, err := ReadMeasurement(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != tc.format || m.Tool() != tc.tool || len(m.Iperf) != tc.runs || (tc.kind != "") != (m.OSU != nil) {
				t.Fatalf("format %s tool %q, %d runs, osu %v", m.Format, m.Tool(), len(m.Iperf), m.OSU != nil)
			}
			if m.OSU != nil && m.OSU.Kind != tc.kind {
				t.Errorf("kind %s, want %s", m.OSU.Kind, tc.kind)
			}
			z, err := ReadMeasurement(tc.file, gzipped(t, data))
			if err != nil {
				t.Fatalf("gzip: %v", err)
			}
			if !reflect.DeepEqual(m, z) {
				t.Errorf("the gzip file reads differently")
			}
		})
	}
	// Readers given a gzip stream decompress it too.
	if _, err := ReadIperf3("s.json.gz", bytes.NewReader(gzipped(t, readMeasFixture(t, "iperf3/single.json")))); err != nil {
		t.Errorf("ReadIperf3 of gzip: %v", err)
	}
	if _, err := ReadOSU("l.txt.gz", bytes.NewReader(gzipped(t, readMeasFixture(t, "osu/osu_latency-v7.txt")))); err != nil {
		t.Errorf("ReadOSU of gzip: %v", err)
	}
	if r, err := ReadOSUCSV("osu-latency.csv.gz", bytes.NewReader(gzipped(t, readMeasFixture(t, "osu/table-b.csv")))); err != nil || r.Kind != OSULatency {
		t.Errorf("ReadOSUCSV of gzip (kind from the name): %v", err)
	}
}

// TestMeasurementHostile: what is not a measurement gives one short
// error naming the file (and the line where there is one).
func TestMeasurementHostile(t *testing.T) {
	single := readMeasFixture(t, "iperf3/single.json")
	gz := gzipped(t, single)
	longLine := bytes.Repeat([]byte("9"), 20<<20)
	for _, tc := range []struct {
		name string
		read func() error
		want string
	}{
		{"truncated gzip", func() error { _, err := ReadMeasurement("s.json.gz", gz[:len(gz)/2]); return err }, "s.json.gz: the file is truncated or corrupt: unexpected EOF"},
		{"gzip checksum", func() error {
			bad := bytes.Clone(gz)
			bad[len(bad)-8] ^= 0xff
			_, err := ReadMeasurement("s.json.gz", bad)
			return err
		}, "s.json.gz: the file is truncated or corrupt: gzip: invalid checksum"},
		{"gzip header only", func() error { _, err := ReadIperf3("h.gz", bytes.NewReader([]byte{0x1f, 0x8b, 8})); return err }, "h.gz: a broken gzip stream"},
		{"truncated gzip ping", func() error {
			z := gzipped(t, []byte("5 packets transmitted, 5 received\nrtt min/avg/max/mdev = 1/2/3/0 ms\n"))
			_, err := ReadPing("p.txt.gz", bytes.NewReader(z[:len(z)-6]))
			return err
		}, "p.txt.gz:"},
		{"20 MB OSU line", func() error {
			_, err := ReadOSU("o.txt", bytes.NewReader(append([]byte("# OSU MPI Latency Test v7.3\n# Size Latency (us)\n"), longLine...)))
			return err
		}, "o.txt:3: a line longer than 1 MiB: not OSU output"},
		{"20 MB ping line", func() error { _, err := ReadPing("p.txt", bytes.NewReader(longLine)); return err }, "p.txt:1: a line longer than 1 MiB: not ping output"},
		{"20 MB CSV field", func() error {
			_, err := ReadOSUCSV("t.csv", bytes.NewReader(append([]byte("size,average_latency_us\n8,"), longLine...)))
			return err
		}, `t.csv:2: average_latency_us: cannot read "99999999`},
		{"20 MB iperf3 number", func() error {
			_, err := ReadIperf3("i.json", bytes.NewReader(append(append([]byte(`{"start": {"test_start": {"protocol": "TCP", "num_streams": `), longLine...), '}', '}', '}')))
			return err
		}, `i.json:1: start.test_start.num_streams: "99999999`},
		{"huge OSU size", func() error {
			_, err := ReadOSU("o.txt", strings.NewReader("# OSU MPI Latency Test v7.3\n# Size Latency (us)\n1e30 2.0\n"))
			return err
		}, "o.txt:3: Size: \"1e30\" must be a whole, non-negative number of bytes"},
		{"huge OSU value", func() error {
			_, err := ReadOSU("o.txt", strings.NewReader("# OSU MPI Latency Test v7.3\n# Size Latency (us)\n8 1e300\n"))
			return err
		}, "o.txt:3: Latency (us): 1e+300 is above 1e+09 µs: not a measurement"},
		{"deep nesting", func() error {
			_, err := ReadIperf3("d.json", strings.NewReader(`{"start":`+strings.Repeat("[", 100000)))
			return err
		}, "d.json:1: "},
		{"mixed formats", func() error {
			_, err := ReadMeasurement("m.json", append(bytes.Clone(single), []byte("\n# OSU MPI Latency Test v7.3\n")...))
			return err
		}, "m.json:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %.300v, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("%v is not an input error", err)
			}
			if len(err.Error()) > 300 {
				t.Errorf("a %d-byte message: %.300s", len(err.Error()), err)
			}
		})
	}
}

// TestReadMeasurementFile: the file reader refuses a folder, a binary
// and a file over the limit naming the file, and keeps a gzip file as
// stored.
func TestReadMeasurementFile(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "single.json.gz")
	stored := gzipped(t, readMeasFixture(t, "iperf3/single.json"))
	if err := os.WriteFile(gz, stored, 0o644); err != nil {
		t.Fatal(err)
	}
	nul := filepath.Join(dir, "nul.txt")
	if err := os.WriteFile(nul, []byte("# OSU\nab\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"/dev/zero", "/dev/zero", "/dev/zero:1: binary data (a NUL byte at offset 0): not a text measurement file (iperf3 JSON, OSU output or table, ping output)"},
		{"NUL on line 2", nul, nul + ":2: binary data (a NUL byte at offset 8)"},
		{"folder", dir, dir + ": is a folder, not a measurement file"},
		{"missing", filepath.Join(dir, "none"), "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMeasurementFile(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if len(err.Error()) > len(tc.path)+200 {
				t.Errorf("a %d-byte message", len(err.Error()))
			}
		})
	}
	data, err := ReadMeasurementFile(gz)
	if err != nil || !bytes.Equal(data, stored) {
		t.Fatalf("gzip file: %d bytes, %v", len(data), err)
	}
	plain, err := ReadMeasurementFile(filepath.Join("testdata", "network", "iperf3", "single.json"))
	if err != nil || !bytes.Equal(plain, readMeasFixture(t, "iperf3/single.json")) {
		t.Errorf("single.json: %d bytes, %v", len(plain), err)
	}
	// Over the limit, decompressed: a gzip bomb stops at limitio.Measurement.
	if testing.Short() {
		return
	}
	// One gzip member of 1 MiB of spaces, repeated: a multistream file.
	member := gzipped(t, bytes.Repeat([]byte(" "), 1<<20))
	bomb := gzipped(t, []byte("size,average_latency_us\n"))
	for range limitio.Measurement>>20 + 1 {
		bomb = append(bomb, member...)
	}
	_, err = ReadMeasurement("bomb.csv.gz", bomb)
	if !errors.Is(err, limitio.ErrTooLarge) || !strings.Contains(err.Error(), "bomb.csv.gz: larger than the 256 MiB limit for measurement files") {
		t.Errorf("gzip bomb: %v", err)
	}
}

// The project's own measurements (make measure-network, measure-intra)
// and the shared OSU tables read without error.
func TestReadMeasurementSamples(t *testing.T) {
	measured := filepath.Join("..", "scenarios", "network", "measured")
	files, _ := filepath.Glob(filepath.Join(measured, "*-[0-9]*.json"))
	intra, _ := filepath.Glob(filepath.Join(measured, "intra", "shm-*.txt"))
	shared, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "flux-usernetes-aws", "osu", "osu-results-*.csv"))
	if len(shared) == 0 {
		t.Logf("shared OSU tables absent (../shared/data/flux-usernetes-aws/osu): not read")
	}
	all := append(append(files, intra...), shared...)
	if len(all) == 0 {
		t.Skipf("no measurements under %s", measured)
	}
	for _, path := range all {
		base := filepath.Base(path)
		if strings.HasPrefix(base, "cpu-") {
			continue // slirp4netns CPU time, not iperf3 output
		}
		data, err := ReadMeasurementFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ReadMeasurement(path, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		switch {
		case strings.HasSuffix(base, ".json") && (len(m.Iperf) != 1 || m.Iperf[0].Throughput() <= 0):
			t.Errorf("%s: %d iperf3 runs", path, len(m.Iperf))
		case strings.HasSuffix(base, ".txt") && (m.OSU == nil || len(m.OSU.Samples) == 0):
			t.Errorf("%s: no OSU samples", path)
		case strings.HasSuffix(base, ".csv") && (m.OSU == nil || len(m.OSU.Experiments()) < 2):
			t.Errorf("%s: want several experiments", path)
		}
	}
	pings, _ := filepath.Glob(filepath.Join(measured, "ping-*.txt"))
	for _, path := range pings {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ReadPing(path, f)
		f.Close()
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if r.Received == 0 || len(r.Times) == 0 || !(r.Median() > 0) || r.Median() > r.Max {
			t.Errorf("%s: %+v", path, r)
		}
	}
}

// FuzzReadMeasurement: any content, plain or gzip, is read by the reader
// of its detected format or refused with an input error naming the file.
func FuzzReadMeasurement(f *testing.F) {
	for _, p := range []string{"osu/osu_latency-v7.txt", "osu/table-b.csv", "iperf3/single.json"} {
		data := readMeasFixture(f, p)
		f.Add(data)
		f.Add(gzipped(f, data))
	}
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0})
	f.Add([]byte("size\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMeasurement("fuzz", data)
		if err != nil {
			var tl *limitio.TooLargeError
			if !errors.Is(err, ErrBadInput) && !errors.As(err, &tl) {
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
		if (m.OSU == nil) == (len(m.Iperf) == 0) || m.Format == "" {
			t.Fatalf("read %+v", m)
		}
	})
}

// fuzzInputErr is what the measurement fuzz tests ask of an error: an
// input error, with a short message.
func fuzzInputErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrBadInput) {
		t.Fatalf("error %v is not an input error", err)
	}
	if len(err.Error()) > 1000 {
		t.Fatalf("a %d-byte message", len(err.Error()))
	}
}
