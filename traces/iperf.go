package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
)

// IperfResult is one client-side `iperf3 -J` run (TCP): the test
// parameters, the per-interval series and the end-of-test summary.
// Rates are bytes per second, times seconds.
type IperfResult struct {
	Name       string  // the file the run was read from
	Version    string  // start.version ("iperf 3.12")
	Protocol   string  // start.test_start.protocol (always TCP here)
	NumStreams int     // start.test_start.num_streams
	BlockSize  int64   // start.test_start.blksize: bytes per write
	Duration   float64 // start.test_start.duration: requested seconds
	Omit       float64 // start.test_start.omit: warm-up seconds left out
	Reverse    bool    // start.test_start.reverse: the server sent
	// Intervals in time order (omitted warm-up intervals included, marked).
	Intervals []IperfInterval
	// Streams is the per-stream end summary (end.streams).
	Streams []IperfStream
	// Sent and Received are end.sum_sent and end.sum_received.
	Sent, Received IperfSum
	// CPU is end.cpu_utilization_percent: host is the client, remote
	// the server; percent of one CPU over the test.
	CPU IperfCPU
}

// IperfInterval is one reporting interval (intervals[i]): the sum over
// the streams and each stream's share.
type IperfInterval struct {
	Sum     IperfSum
	Omitted bool
	Streams []IperfSum
}

// IperfSum is a byte count over a time span: an interval, a stream's
// end summary, or a sum over streams.
type IperfSum struct {
	Socket      int
	Start, End  float64
	Seconds     float64
	Bytes       int64
	Rate        float64 // bytes per second (bits_per_second / 8)
	Retransmits int64   // -1 when iperf3 did not report it (receiver side)
	PMTU        int     // path MTU of an interval's stream (0 if not reported)
}

// IperfStream is one stream's end summary (end.streams[i]).
type IperfStream struct {
	Sender, Receiver IperfSum
	// MinRTT, MeanRTT and MaxRTT are the sender's smoothed round-trip
	// times in seconds (0 when not reported, as in reverse mode).
	MinRTT, MeanRTT, MaxRTT float64
}

// IperfCPU is end.cpu_utilization_percent.
type IperfCPU struct {
	HostTotal, HostUser, HostSystem       float64
	RemoteTotal, RemoteUser, RemoteSystem float64
}

// Throughput is the run's received rate summed over its streams,
// bytes per second (end.sum_received).
func (r *IperfResult) Throughput() float64 { return r.Received.Rate }

// StreamThroughput is each stream's received rate, bytes per second.
func (r *IperfResult) StreamThroughput() []float64 {
	out := make([]float64, len(r.Streams))
	for i, s := range r.Streams {
		out[i] = s.Receiver.Rate
	}
	return out
}

// Retransmits is the sender's total retransmit count (0 if unknown).
func (r *IperfResult) Retransmits() int64 { return max(r.Sent.Retransmits, 0) }

// PMTU is the path MTU the streams reported in their intervals (the
// largest, 0 if none did: receiver-side and older output).
func (r *IperfResult) PMTU() int {
	m := 0
	for _, iv := range r.Intervals {
		for _, s := range iv.Streams {
			m = max(m, s.PMTU)
		}
	}
	return m
}

// MinRTT is the smallest sender round-trip time over the streams,
// seconds, or 0 when iperf3 reported none.
func (r *IperfResult) MinRTT() float64 {
	m := 0.0
	for _, s := range r.Streams {
		if s.MinRTT > 0 && (m == 0 || s.MinRTT < m) {
			m = s.MinRTT
		}
	}
	return m
}

// IntervalRates is the run's measured rate over time: for each interval
// not omitted (iperf3 -O leaves the warm-up out) and of positive
// length, the rate summed over the streams (bytes per second) and the
// interval's length (seconds); the end summary's received rate and
// length when the run reported no such interval (iperf3 -i 0).
func (r *IperfResult) IntervalRates() (rates, seconds []float64) {
	for _, iv := range r.Intervals {
		if iv.Omitted || iv.Sum.Seconds <= 0 {
			continue
		}
		rates = append(rates, iv.Sum.Rate)
		seconds = append(seconds, iv.Sum.Seconds)
	}
	if len(rates) == 0 {
		rates = []float64{r.Received.Rate}
		seconds = []float64{r.Received.Seconds}
	}
	return rates, seconds
}

// CPUPerByte is the CPU time both ends burnt per byte received, seconds
// per byte, averaged over the two hosts (the client's and the server's
// share of one CPU over the sender's time); 0 when iperf3 did not report
// both.
func (r *IperfResult) CPUPerByte() float64 {
	if r.CPU.HostTotal > 0 && r.CPU.RemoteTotal > 0 {
		cpuSeconds := (r.CPU.HostTotal + r.CPU.RemoteTotal) / 2 / 100 * r.Sent.Seconds
		return cpuSeconds / float64(r.Received.Bytes)
	}
	return 0
}

// The JSON shapes as iperf3 writes them (src/iperf_api.c). Numbers are
// read as float64 and checked before conversion; pointers mark fields
// whose absence is an error.
type iperfJSON struct {
	Start     *iperfStartJSON     `json:"start"`
	Intervals []iperfIntervalJSON `json:"intervals"`
	End       *iperfEndJSON       `json:"end"`
	Error     *string             `json:"error"`
}

type iperfStartJSON struct {
	Version   string              `json:"version"`
	TestStart *iperfTestStartJSON `json:"test_start"`
}

type iperfTestStartJSON struct {
	Protocol   *string  `json:"protocol"`
	NumStreams *float64 `json:"num_streams"`
	Blksize    float64  `json:"blksize"`
	Omit       float64  `json:"omit"`
	Duration   *float64 `json:"duration"`
	Reverse    float64  `json:"reverse"`
}

type iperfIntervalJSON struct {
	Streams []iperfSumJSON `json:"streams"`
	Sum     *iperfSumJSON  `json:"sum"`
}

type iperfSumJSON struct {
	Socket        float64  `json:"socket"`
	Start         float64  `json:"start"`
	End           float64  `json:"end"`
	Seconds       *float64 `json:"seconds"`
	Bytes         *float64 `json:"bytes"`
	BitsPerSecond *float64 `json:"bits_per_second"`
	Retransmits   *float64 `json:"retransmits"`
	Omitted       bool     `json:"omitted"`
	MinRTT        float64  `json:"min_rtt"`
	MeanRTT       float64  `json:"mean_rtt"`
	MaxRTT        float64  `json:"max_rtt"`
	PMTU          float64  `json:"pmtu"`
}

type iperfEndStreamJSON struct {
	Sender   *iperfSumJSON `json:"sender"`
	Receiver *iperfSumJSON `json:"receiver"`
}

type iperfEndJSON struct {
	Streams     []iperfEndStreamJSON `json:"streams"`
	SumSent     *iperfSumJSON        `json:"sum_sent"`
	SumReceived *iperfSumJSON        `json:"sum_received"`
	CPU         *struct {
		HostTotal    float64 `json:"host_total"`
		HostUser     float64 `json:"host_user"`
		HostSystem   float64 `json:"host_system"`
		RemoteTotal  float64 `json:"remote_total"`
		RemoteUser   float64 `json:"remote_user"`
		RemoteSystem float64 `json:"remote_system"`
	} `json:"cpu_utilization_percent"`
}

// ReadIperf3 reads the JSON `iperf3 -c HOST -J` prints for a TCP test
// (one stream or several, -P). A truncated document, a run that
// reports an error (the top-level "error" key), a missing "end"
// summary, a zero-duration run or a negative count is an error naming
// the file, the field path (end.sum_sent.seconds) and, where known, the
// line. A gzip file is decompressed; at most limitio.Measurement bytes
// are read.
func ReadIperf3(name string, r io.Reader) (*IperfResult, error) {
	runs, err := ReadIperf3All(name, r)
	if err != nil {
		return nil, err
	}
	if len(runs) > 1 {
		return nil, measErr(name, 0, "", "%d runs in one file (iperf3 --logfile appends one per run): read them with ReadIperf3All", len(runs))
	}
	return runs[0], nil
}

// ReadIperf3All reads a file of one or more iperf3 -J documents one
// after another (iperf3 --logfile appends one per run), checking each
// as ReadIperf3 does. An error in a later run names its first line.
func ReadIperf3All(name string, r io.Reader) ([]*IperfResult, error) {
	data, err := measReadAll(name, r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var runs []*IperfResult
	for {
		start := dec.InputOffset()
		var doc iperfJSON
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, iperfJSONErr(name, data, start, err)
		}
		res, err := convertIperf(name, &doc)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				if ie.Line == 0 && ie.Field != "" {
					ie.Line = iperfPathLine(data, start, ie.Field)
				}
				if len(runs) > 0 {
					ie.Msg = fmt.Sprintf("%s (in run %d, from line %d)", ie.Msg, len(runs)+1, measLineOf(data, start+int64(measCountSpace(data[start:]))))
				}
			}
			return nil, err
		}
		runs = append(runs, res)
	}
	if len(runs) == 0 {
		return nil, measErr(name, 0, "", "empty: no iperf3 JSON document")
	}
	return runs, nil
}

// iperfPathLine returns the line of the value at path (as the readers
// write paths: "end.streams[0].sender.bits_per_second") in the JSON
// document starting at byte start of data, or of its nearest ancestor
// present (a missing field's object); 0 if the document cannot be
// walked.
func iperfPathLine(data []byte, start int64, path string) int {
	type frame struct {
		path      string
		array     bool
		idx       int
		key       string
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(data[start:]))
	var stack []*frame
	best := 0
	valuePath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.array {
			return fmt.Sprintf("%s[%d]", f.path, f.idx)
		}
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.array {
			f.idx++
		} else {
			f.expectKey = true
		}
	}
	for {
		off := start + dec.InputOffset()
		off += int64(measCountSpace(data[off:]))
		tok, err := dec.Token()
		if err != nil {
			return best
		}
		if len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].expectKey {
			if k, ok := tok.(string); ok {
				stack[len(stack)-1].key = k
				stack[len(stack)-1].expectKey = false
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return best
			}
			advance()
			continue
		}
		vp := valuePath()
		if vp == path {
			return measLineOf(data, off)
		}
		if vp == "" || strings.HasPrefix(path, vp+".") || strings.HasPrefix(path, vp+"[") {
			best = measLineOf(data, off)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{path: vp, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: vp, array: true})
		default:
			if len(stack) == 0 {
				return best
			}
			advance()
		}
	}
}

func measCountSpace(b []byte) int {
	return len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
}

// iperfJSONErr locates a decoding error: a truncated document, a
// syntax error, or a value of the wrong type (with its field path).
func iperfJSONErr(name string, data []byte, start int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syn) && strings.Contains(syn.Error(), "unexpected end of JSON input"):
		return measErr(name, measLineOf(data, int64(len(data))), "", "truncated JSON (ends at offset %d)", len(data))
	case errors.As(err, &syn):
		return measErr(name, measLineOf(data, syn.Offset), "", "not valid JSON (offset %d): %v", syn.Offset, syn)
	case errors.As(err, &typ):
		off := start + typ.Offset
		if typ.Value == "number" || strings.HasPrefix(typ.Value, "number ") {
			if w := iperfTypeWord(typ.Type); w == "a number" {
				return measErr(name, measLineOf(data, off), typ.Field, "%s is out of range for a number", quote(strings.TrimPrefix(typ.Value, "number ")))
			}
		}
		return measErr(name, measLineOf(data, off), typ.Field, "must be %s, got a JSON %s", iperfTypeWord(typ.Type), typ.Value)
	}
	return measErr(name, 0, "", "not an iperf3 JSON document: %v", err)
}

// convertIperf checks one decoded document and converts it.
func convertIperf(name string, doc *iperfJSON) (*IperfResult, error) {
	var err error
	if doc.Error != nil {
		return nil, measErr(name, 0, "error", "iperf3 reported an error: %s", quote(*doc.Error))
	}
	res := &IperfResult{Name: name}
	if doc.Start == nil {
		return nil, measErr(name, 0, "start", "missing (not iperf3 -J output?)")
	}
	ts := doc.Start.TestStart
	if ts == nil {
		return nil, measErr(name, 0, "start.test_start", "missing (the test never started?)")
	}
	res.Version = doc.Start.Version
	switch {
	case ts.Protocol == nil:
		return nil, measErr(name, 0, "start.test_start.protocol", "missing")
	case *ts.Protocol != "TCP":
		return nil, measErr(name, 0, "start.test_start.protocol", "%s: only TCP runs are read", quote(*ts.Protocol))
	case ts.NumStreams == nil:
		return nil, measErr(name, 0, "start.test_start.num_streams", "missing")
	case !measIsCount(*ts.NumStreams) || *ts.NumStreams < 1 || *ts.NumStreams > 1<<16:
		return nil, measErr(name, 0, "start.test_start.num_streams", "%v must be a whole number from 1 to 65536", *ts.NumStreams)
	case ts.Duration == nil:
		return nil, measErr(name, 0, "start.test_start.duration", "missing")
	case *ts.Duration < 0 || *ts.Duration > MaxSeconds:
		return nil, measErr(name, 0, "start.test_start.duration", "%v must be from 0 to %g seconds", *ts.Duration, MaxSeconds)
	case !measIsCount(ts.Blksize) || ts.Blksize > 1<<30:
		return nil, measErr(name, 0, "start.test_start.blksize", "%v must be a whole number of bytes from 0 to 1 GiB", ts.Blksize)
	case ts.Omit < 0 || ts.Omit > MaxSeconds:
		return nil, measErr(name, 0, "start.test_start.omit", "%v must be from 0 to %g seconds", ts.Omit, MaxSeconds)
	}
	res.Protocol = *ts.Protocol
	res.NumStreams = int(*ts.NumStreams)
	res.BlockSize = int64(ts.Blksize)
	res.Duration = *ts.Duration
	res.Omit = ts.Omit
	res.Reverse = ts.Reverse != 0

	for i, iv := range doc.Intervals {
		path := fmt.Sprintf("intervals[%d]", i)
		if iv.Sum == nil {
			return nil, measErr(name, 0, path+".sum", "missing")
		}
		sum, err := iv.Sum.convert(name, path+".sum")
		if err != nil {
			return nil, err
		}
		out := IperfInterval{Sum: sum, Omitted: iv.Sum.Omitted}
		for j, s := range iv.Streams {
			st, err := s.convert(name, fmt.Sprintf("%s.streams[%d]", path, j))
			if err != nil {
				return nil, err
			}
			out.Streams = append(out.Streams, st)
		}
		res.Intervals = append(res.Intervals, out)
	}

	end := doc.End
	if end == nil {
		return nil, measErr(name, 0, "end", "missing (the run did not finish)")
	}
	if end.SumSent == nil && end.SumReceived == nil {
		return nil, measErr(name, 0, "end", "no sum_sent or sum_received (the run did not finish)")
	}
	if end.SumSent == nil {
		return nil, measErr(name, 0, "end.sum_sent", "missing")
	}
	if end.SumReceived == nil {
		return nil, measErr(name, 0, "end.sum_received", "missing")
	}
	if res.Sent, err = end.SumSent.convert(name, "end.sum_sent"); err != nil {
		return nil, err
	}
	if res.Received, err = end.SumReceived.convert(name, "end.sum_received"); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		path string
		sum  IperfSum
	}{{"end.sum_sent", res.Sent}, {"end.sum_received", res.Received}} {
		if s.sum.Seconds == 0 {
			return nil, measErr(name, 0, s.path+".seconds", "0: a zero-duration run has no rate")
		}
	}
	if res.Received.Bytes == 0 {
		return nil, measErr(name, 0, "end.sum_received.bytes", "0: nothing was received")
	}
	for i, s := range end.Streams {
		path := fmt.Sprintf("end.streams[%d]", i)
		if s.Sender == nil {
			return nil, measErr(name, 0, path+".sender", "missing")
		}
		if s.Receiver == nil {
			return nil, measErr(name, 0, path+".receiver", "missing")
		}
		snd, err := s.Sender.convert(name, path+".sender")
		if err != nil {
			return nil, err
		}
		rcv, err := s.Receiver.convert(name, path+".receiver")
		if err != nil {
			return nil, err
		}
		st := IperfStream{Sender: snd, Receiver: rcv}
		for _, f := range []struct {
			field string
			v     float64
			dst   *float64
		}{{"min_rtt", s.Sender.MinRTT, &st.MinRTT}, {"mean_rtt", s.Sender.MeanRTT, &st.MeanRTT}, {"max_rtt", s.Sender.MaxRTT, &st.MaxRTT}} {
			if f.v < 0 || f.v > MaxRTTMicros {
				return nil, measErr(name, 0, path+".sender."+f.field, "%v must be from 0 to %g µs", f.v, MaxRTTMicros)
			}
			*f.dst = f.v * 1e-6 // iperf3 reports microseconds
		}
		res.Streams = append(res.Streams, st)
	}
	if len(res.Streams) != res.NumStreams {
		return nil, measErr(name, 0, "end.streams", "%d streams, but start.test_start.num_streams is %d", len(res.Streams), res.NumStreams)
	}
	if c := end.CPU; c != nil {
		res.CPU = IperfCPU{c.HostTotal, c.HostUser, c.HostSystem, c.RemoteTotal, c.RemoteUser, c.RemoteSystem}
		for _, f := range []struct {
			field string
			v     float64
		}{{"host_total", c.HostTotal}, {"host_user", c.HostUser}, {"host_system", c.HostSystem},
			{"remote_total", c.RemoteTotal}, {"remote_user", c.RemoteUser}, {"remote_system", c.RemoteSystem}} {
			if f.v < 0 || f.v > MaxCPUPercent {
				return nil, measErr(name, 0, "end.cpu_utilization_percent."+f.field, "%v must be from 0 to %g percent", f.v, MaxCPUPercent)
			}
		}
	}
	return res, nil
}

func iperfTypeWord(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

func measIsCount(v float64) bool { return v >= 0 && v == math.Trunc(v) && v < 1<<62 }

func (s *iperfSumJSON) convert(file, path string) (IperfSum, error) {
	var out IperfSum
	req := []struct {
		field string
		v     *float64
	}{{"seconds", s.Seconds}, {"bytes", s.Bytes}, {"bits_per_second", s.BitsPerSecond}}
	for _, f := range req {
		if f.v == nil {
			return out, measErr(file, 0, path+"."+f.field, "missing")
		}
		if *f.v < 0 {
			return out, measErr(file, 0, path+"."+f.field, "%v must not be negative", *f.v)
		}
	}
	if !measIsCount(*s.Bytes) {
		return out, measErr(file, 0, path+".bytes", "%v must be a whole number of bytes", *s.Bytes)
	}
	if *s.Seconds > MaxSeconds {
		return out, measErr(file, 0, path+".seconds", "%v is longer than %g s: not a measured interval", *s.Seconds, MaxSeconds)
	}
	if bps := *s.BitsPerSecond; bps > MaxBitsPerSecond {
		return out, measErr(file, 0, path+".bits_per_second", "%v is above %g (1 Pbit/s): not a measured rate", bps, MaxBitsPerSecond)
	}
	// iperf3 computes the rate from the bytes and the seconds: a rate far
	// from theirs is a corrupt or forged file.
	if sec := *s.Seconds; sec > 0 {
		bps, want := *s.BitsPerSecond, *s.Bytes*8/sec
		if math.Abs(bps-want) > 0.1*max(bps, want)+1 {
			return out, measErr(file, 0, path+".bits_per_second", "%v disagrees with bytes*8/seconds = %.6g", bps, want)
		}
	}
	if s.Start < 0 || s.Start > MaxSeconds {
		return out, measErr(file, 0, path+".start", "%v must be from 0 to %g s", s.Start, MaxSeconds)
	}
	if s.End < s.Start || s.End > MaxSeconds {
		return out, measErr(file, 0, path+".end", "%v s is before start %v s or after %g s", s.End, s.Start, MaxSeconds)
	}
	out = IperfSum{
		Socket:      int(s.Socket),
		Start:       s.Start,
		End:         s.End,
		Seconds:     *s.Seconds,
		Bytes:       int64(*s.Bytes),
		Rate:        *s.BitsPerSecond / 8,
		Retransmits: -1,
	}
	if !measIsCount(s.Socket) || s.Socket > math.MaxInt32 {
		return out, measErr(file, 0, path+".socket", "%v must be a whole number, not negative", s.Socket)
	}
	if !measIsCount(s.PMTU) || s.PMTU > 1<<20 {
		return out, measErr(file, 0, path+".pmtu", "%v must be a whole number of bytes", s.PMTU)
	}
	out.PMTU = int(s.PMTU)
	if s.Retransmits != nil {
		if !measIsCount(*s.Retransmits) {
			return out, measErr(file, 0, path+".retransmits", "%v must be a whole number, not negative", *s.Retransmits)
		}
		out.Retransmits = int64(*s.Retransmits)
	}
	return out, nil
}
