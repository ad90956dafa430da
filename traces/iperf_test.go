package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

func readMeasFixture(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "network", path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadIperf3Fixtures(t *testing.T) {
	single, err := ReadIperf3("single.json", bytes.NewReader(readMeasFixture(t, "iperf3/single.json")))
	if err != nil {
		t.Fatal(err)
	}
	if single.NumStreams != 1 || single.Protocol != "TCP" || single.Reverse || single.BlockSize != 131072 || single.Duration != 2 {
		t.Errorf("test_start: %+v", single)
	}
	if len(single.Intervals) != 4 || len(single.Intervals[0].Streams) != 1 {
		t.Errorf("%d intervals, want 4 of 1 stream", len(single.Intervals))
	}
	if single.Version != "iperf 3.12" {
		t.Errorf("version %q", single.Version)
	}
	if !(single.Throughput() > 1e8) || single.Received.Bytes == 0 || single.Sent.Seconds <= 0 {
		t.Errorf("throughput %g B/s, received %+v", single.Throughput(), single.Received)
	}
	// bits_per_second is bytes*8/seconds: the rate read must agree.
	if got, want := single.Received.Rate, float64(single.Received.Bytes)/single.Received.Seconds; math.Abs(got/want-1) > 1e-6 {
		t.Errorf("received rate %g, bytes/seconds %g", got, want)
	}
	if single.PMTU() != 65535 {
		t.Errorf("pmtu %d", single.PMTU())
	}
	if single.MinRTT() <= 0 || single.MinRTT() > 0.01 {
		t.Errorf("min RTT %g s", single.MinRTT())
	}
	if single.CPU.HostTotal <= 0 || single.CPU.RemoteTotal <= 0 {
		t.Errorf("cpu %+v", single.CPU)
	}
	if single.Retransmits() < 0 {
		t.Errorf("retransmits %d", single.Retransmits())
	}

	par, err := ReadIperf3("parallel4.json", bytes.NewReader(readMeasFixture(t, "iperf3/parallel4.json")))
	if err != nil {
		t.Fatal(err)
	}
	if par.NumStreams != 4 || len(par.Streams) != 4 || len(par.Intervals[0].Streams) != 4 {
		t.Fatalf("parallel: %d streams", par.NumStreams)
	}
	sum := 0.0
	for _, r := range par.StreamThroughput() {
		if r <= 0 {
			t.Errorf("stream rate %g", r)
		}
		sum += r
	}
	if math.Abs(sum/par.Throughput()-1) > 0.01 {
		t.Errorf("streams sum to %g B/s, the summary says %g", sum, par.Throughput())
	}
	for i, iv := range par.Intervals {
		s := 0.0
		for _, st := range iv.Streams {
			s += st.Rate
		}
		if math.Abs(s/iv.Sum.Rate-1) > 0.01 {
			t.Errorf("interval %d: streams %g, sum %g", i, s, iv.Sum.Rate)
		}
	}

	rev, err := ReadIperf3("reverse.json", bytes.NewReader(readMeasFixture(t, "iperf3/reverse.json")))
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Reverse || rev.MinRTT() != 0 || rev.Intervals[0].Sum.Retransmits != -1 {
		t.Errorf("reverse: reverse=%v minRTT=%g interval retransmits=%d", rev.Reverse, rev.MinRTT(), rev.Intervals[0].Sum.Retransmits)
	}
}

// edit decodes the single-stream fixture, applies f and re-encodes it.
func edit(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readMeasFixture(t, "iperf3/single.json"), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestReadIperf3Errors(t *testing.T) {
	good := readMeasFixture(t, "iperf3/single.json")
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"refused", readMeasFixture(t, "iperf3/refused.json"), []string{"x.json:10: error: iperf3 reported an error", "Connection refused"}},
		{"truncated", good[:len(good)/2], []string{"x.json:", "truncated JSON"}},
		{"syntax", []byte("{\n\"start\": {,}\n}"), []string{"x.json:2: not valid JSON"}},
		{"not json", []byte("Connecting to host 10.0.0.1"), []string{"x.json:1: not valid JSON"}},
		{"wrong type", regexp.MustCompile(`"bytes":\s*\d+`).ReplaceAll(good, []byte(`"bytes": "many"`)), []string{"x.json:45: intervals.streams.bytes: must be a number, got a JSON string"}},
		{"no end", edit(t, func(m map[string]any) { delete(m, "end") }), []string{"x.json:1: end: missing"}},
		{"empty end", edit(t, func(m map[string]any) { m["end"] = map[string]any{} }), []string{"end: no sum_sent or sum_received"}},
		{"no start", edit(t, func(m map[string]any) { delete(m, "start") }), []string{"start: missing"}},
		{"no test_start", edit(t, func(m map[string]any) { delete(obj(m, "start"), "test_start") }), []string{"start.test_start: missing"}},
		{"udp", edit(t, func(m map[string]any) { obj(m, "start", "test_start")["protocol"] = "UDP" }), []string{"start.test_start.protocol", "only TCP"}},
		{"zero streams", edit(t, func(m map[string]any) { obj(m, "start", "test_start")["num_streams"] = 0 }), []string{"start.test_start.num_streams"}},
		{"zero seconds", edit(t, func(m map[string]any) { obj(m, "end", "sum_sent")["seconds"] = 0 }), []string{"end.sum_sent.seconds: 0: a zero-duration run"}},
		{"negative bytes", edit(t, func(m map[string]any) {
			m["intervals"].([]any)[2].(map[string]any)["streams"].([]any)[0].(map[string]any)["bytes"] = -5
		}), []string{"intervals[2].streams[0].bytes: -5 must not be negative"}},
		{"negative rtt", edit(t, func(m map[string]any) {
			obj(m, "end")["streams"].([]any)[0].(map[string]any)["sender"].(map[string]any)["min_rtt"] = -1
		}), []string{"end.streams[0].sender.min_rtt"}},
		{"missing rate", edit(t, func(m map[string]any) { delete(obj(m, "end", "sum_received"), "bits_per_second") }), []string{"end.sum_received.bits_per_second: missing"}},
		{"stream count", edit(t, func(m map[string]any) { obj(m, "start", "test_start")["num_streams"] = 2 }), []string{"end.streams: 1 streams, but"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIperf3("x.json", bytes.NewReader(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			if len(err.Error()) > 400 {
				t.Errorf("a %d-byte message", len(err.Error()))
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("%v does not match ErrBadInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestReadIperf3Impossible: values no network produces are refused with
// the file, the line of the value and its field path.
func TestReadIperf3Impossible(t *testing.T) {
	good := readMeasFixture(t, "iperf3/single.json")
	// at edits the fixture and returns it with the line of the marker.
	at := func(t *testing.T, marker string, f func(m map[string]any)) ([]byte, int) {
		data := edit(t, f)
		i := bytes.Index(data, []byte(marker))
		if i < 0 || bytes.Count(data, []byte(marker)) != 1 {
			t.Fatalf("marker %s not once in the edited fixture", marker)
		}
		return data, bytes.Count(data[:i], []byte("\n")) + 1
	}
	stream0 := func(m map[string]any) map[string]any {
		return obj(m, "end")["streams"].([]any)[0].(map[string]any)["sender"].(map[string]any)
	}
	interval := func(m map[string]any, i int) map[string]any {
		return m["intervals"].([]any)[i].(map[string]any)["sum"].(map[string]any)
	}
	type tc struct {
		name   string
		marker string
		edit   func(m map[string]any)
		want   string
	}
	for _, c := range []tc{
		{"rate 1e308", "1e+308", func(m map[string]any) { obj(m, "end", "sum_received")["bits_per_second"] = 1e308 },
			"end.sum_received.bits_per_second: 1e+308 is above 1e+15 (1 Pbit/s): not a measured rate"},
		{"forged rate", "123456789012", func(m map[string]any) { interval(m, 3)["bits_per_second"] = 123456789012 },
			"intervals[3].sum.bits_per_second: 1.23456789012e+11 disagrees with bytes*8/seconds"},
		{"endless interval", "1e+300", func(m map[string]any) { interval(m, 1)["seconds"] = 1e300 },
			"intervals[1].sum.seconds: 1e+300 is longer than 1e+07 s"},
		{"rtt of hours", "987654321012", func(m map[string]any) { stream0(m)["max_rtt"] = 987654321012 },
			"end.streams[0].sender.max_rtt: 9.87654321012e+11 must be from 0 to 1e+09 µs"},
		{"negative cpu", "-0.125", func(m map[string]any) { obj(m, "end", "cpu_utilization_percent")["host_user"] = -0.125 },
			"end.cpu_utilization_percent.host_user: -0.125 must be from 0 to 1e+06 percent"},
		{"duration", "45000000", func(m map[string]any) { obj(m, "start", "test_start")["duration"] = 4.5e7 },
			"start.test_start.duration: 4.5e+07 must be from 0 to 1e+07 seconds"},
		{"start after end", "1234.5", func(m map[string]any) { interval(m, 0)["end"] = 1234.5; interval(m, 0)["start"] = 2e6 },
			"intervals[0].sum.end: 1234.5 s is before start 2e+06 s"},
		{"huge blksize", "8589934592", func(m map[string]any) { obj(m, "start", "test_start")["blksize"] = 8589934592 },
			"start.test_start.blksize: 8.589934592e+09 must be a whole number of bytes from 0 to 1 GiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, line := at(t, c.marker, c.edit)
			_, err := ReadIperf3("x.json", bytes.NewReader(data))
			want := fmt.Sprintf("x.json:%d: %s", line, c.want)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
	// A number JSON cannot hold in a float64.
	huge := regexp.MustCompile(`"bits_per_second":\s*[0-9.e+]+`).ReplaceAll(good, []byte(`"bits_per_second": 1e400`))
	if _, err := ReadIperf3("x.json", bytes.NewReader(huge)); err == nil || !strings.Contains(err.Error(), `bits_per_second: "1e400" is out of range for a number`) {
		t.Errorf("1e400: %v", err)
	}
	// A long error string is quoted short.
	long := edit(t, func(m map[string]any) { m["error"] = strings.Repeat("e", 1<<20) })
	if _, err := ReadIperf3("x.json", bytes.NewReader(long)); err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Errorf("long error: %.300v", err)
	}
}

// TestReadIperf3Limit: more than limitio.Measurement bytes is refused
// without reading on (the reader is /dev/zero-like: endless).
func TestReadIperf3Limit(t *testing.T) {
	_, err := ReadIperf3("zero.json", measEndless{})
	var tl *limitio.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "zero.json: larger than the 256 MiB limit for measurement files") {
		t.Fatalf("err = %v", err)
	}
}

// measEndless reads NUL bytes forever, like /dev/zero.
type measEndless struct{}

func (measEndless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func FuzzReadIperf3(f *testing.F) {
	for _, name := range []string{"single.json", "parallel4.json", "reverse.json", "refused.json"} {
		f.Add(readMeasFixture(f, "iperf3/"+name))
	}
	f.Add([]byte(`{"start":{"test_start":{"protocol":"TCP","num_streams":1,"duration":1}},"end":{}}`))
	// Hostile seeds: a rate of 1e308, a number past float64, NaN-making
	// zero seconds, deep nesting, binary bytes.
	f.Add([]byte(`{"start":{"test_start":{"protocol":"TCP","num_streams":1,"duration":1}},"end":{"streams":[{"sender":{"seconds":1,"bytes":1,"bits_per_second":1e308},"receiver":{"seconds":0,"bytes":8,"bits_per_second":1e400}}],"sum_sent":{"seconds":1,"bytes":1,"bits_per_second":8},"sum_received":{"seconds":1,"bytes":1,"bits_per_second":1e308}}}`))
	f.Add([]byte(strings.Repeat("[", 20000)))
	f.Add([]byte("\x00\xff{\"error\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadIperf3("fuzz.json", bytes.NewReader(data))
		if err != nil {
			fuzzInputErr(t, err)
			return
		}
		if r.NumStreams < 1 || len(r.Streams) != r.NumStreams || !(r.Received.Seconds > 0) || r.Received.Bytes <= 0 || r.Throughput() < 0 {
			t.Fatalf("accepted an impossible run: %+v", r)
		}
		for _, s := range []IperfSum{r.Sent, r.Received} {
			if s.Rate > MaxBitsPerSecond/8 || s.Seconds > MaxSeconds || math.IsNaN(s.Rate) {
				t.Fatalf("accepted an impossible sum: %+v", s)
			}
		}
	})
}

// iperf3 --logfile appends one document per run to the same file.
func TestReadIperf3Appended(t *testing.T) {
	single, par := readMeasFixture(t, "iperf3/single.json"), readMeasFixture(t, "iperf3/parallel4.json")
	both := append(append(append([]byte(nil), single...), '\n'), par...)
	runs, err := ReadIperf3All("log.json", bytes.NewReader(both))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].NumStreams != 1 || runs[1].NumStreams != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	if _, err := ReadIperf3("log.json", bytes.NewReader(both)); err == nil || !strings.Contains(err.Error(), "2 runs in one file") {
		t.Errorf("ReadIperf3 of two runs: %v", err)
	}
	lines := bytes.Count(single, []byte("\n")) + 1
	bad := append(append(append([]byte(nil), single...), '\n'), regexp.MustCompile(`"bytes":\s*\d+`).ReplaceAll(par, []byte(`"bytes": true`))...)
	_, err = ReadIperf3All("log.json", bytes.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "intervals.streams.bytes: must be a number, got a JSON bool") {
		t.Fatalf("type error in run 2: %v", err)
	}
	if ie := (*InputError)(nil); !errors.As(err, &ie) || ie.Line <= lines {
		t.Errorf("type error in run 2 located at line %d, want after line %d", ie.Line, lines)
	}
	noEnd := edit(t, func(m map[string]any) { delete(m, "end") })
	log := append(append(append([]byte(nil), single...), '\n'), noEnd...)
	_, err = ReadIperf3All("log.json", bytes.NewReader(log))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("end: missing (the run did not finish) (in run 2, from line %d)", measLineOf(log, int64(len(single)+1)))) {
		t.Errorf("missing end in run 2: %v", err)
	}
	if _, err := ReadIperf3All("e.json", strings.NewReader(" \n")); err == nil || !strings.Contains(err.Error(), "no iperf3 JSON document") {
		t.Errorf("empty: %v", err)
	}
}
