package network

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
)

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadIperf3Fixtures(t *testing.T) {
	single, err := ReadIperf3("single.json", bytes.NewReader(readFixture(t, "iperf3/single.json")))
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

	par, err := ReadIperf3("parallel4.json", bytes.NewReader(readFixture(t, "iperf3/parallel4.json")))
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

	rev, err := ReadIperf3("reverse.json", bytes.NewReader(readFixture(t, "iperf3/reverse.json")))
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
	if err := json.Unmarshal(readFixture(t, "iperf3/single.json"), &m); err != nil {
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
	good := readFixture(t, "iperf3/single.json")
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"refused", readFixture(t, "iperf3/refused.json"), []string{"x.json: error: iperf3 reported an error", "Connection refused"}},
		{"truncated", good[:len(good)/2], []string{"x.json:", "truncated JSON"}},
		{"syntax", []byte("{\n\"start\": {,}\n}"), []string{"x.json:2: not valid JSON"}},
		{"not json", []byte("Connecting to host 10.0.0.1"), []string{"x.json:1: not valid JSON"}},
		{"wrong type", regexp.MustCompile(`"bytes":\s*\d+`).ReplaceAll(good, []byte(`"bytes": "many"`)), []string{"x.json:45: intervals.streams.bytes: must be a number, got a JSON string"}},
		{"no end", edit(t, func(m map[string]any) { delete(m, "end") }), []string{"x.json: end: missing"}},
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

func FuzzReadIperf3(f *testing.F) {
	for _, name := range []string{"single.json", "parallel4.json", "reverse.json", "refused.json"} {
		f.Add(readFixture(f, "iperf3/"+name))
	}
	f.Add([]byte(`{"start":{"test_start":{"protocol":"TCP","num_streams":1,"duration":1}},"end":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadIperf3("fuzz.json", bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v is not an input error", err)
			}
			return
		}
		if r.NumStreams < 1 || len(r.Streams) != r.NumStreams || !(r.Received.Seconds > 0) || r.Received.Bytes <= 0 || r.Throughput() < 0 {
			t.Fatalf("accepted an impossible run: %+v", r)
		}
	})
}

// iperf3 --logfile appends one document per run to the same file.
func TestReadIperf3Appended(t *testing.T) {
	single, par := readFixture(t, "iperf3/single.json"), readFixture(t, "iperf3/parallel4.json")
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
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("end: missing (the run did not finish) (in run 2, from line %d)", lineOf(log, int64(len(single)+1)))) {
		t.Errorf("missing end in run 2: %v", err)
	}
	var in FitInput
	if err := in.AddFile("log.json", both, ""); err != nil {
		t.Fatal(err)
	}
	if len(in.Files) != 1 || len(in.Bulk) != 2 || in.Files[0].Samples != 8 {
		t.Errorf("files %+v, %d runs", in.Files, len(in.Bulk))
	}
	if _, err := ReadIperf3All("e.json", strings.NewReader(" \n")); err == nil || !strings.Contains(err.Error(), "no iperf3 JSON document") {
		t.Errorf("empty: %v", err)
	}
}
