package network

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

// MaxInputBytes bounds what the measurement readers (iperf3, OSU) read
// from one file, so a hostile or mistaken input cannot exhaust memory.
const MaxInputBytes = 64 << 20

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

// InputError is a problem with a measurement file: the file, the line
// (0 if unknown), the field path or column, and what is wrong.
type InputError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes every InputError match ErrBadInput.
func (e *InputError) Is(target error) bool { return target == ErrBadInput }

// ErrBadInput is matched (errors.Is) by every error about a malformed
// measurement file.
var ErrBadInput = errors.New("network: bad measurement input")

func inputErr(file string, line int, field, format string, a ...any) error {
	return &InputError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// readLimited reads all of r, at most MaxInputBytes.
func readLimited(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxInputBytes {
		return nil, inputErr(name, 0, "", "larger than %d MiB", MaxInputBytes>>20)
	}
	return data, nil
}

// lineOf is the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// ReadIperf3 reads the JSON `iperf3 -c HOST -J` prints for a TCP test
// (one stream or several, -P). A truncated document, a run that
// reports an error (the top-level "error" key), a missing "end"
// summary, a zero-duration run or a negative count is an error naming
// the file, the field path (end.sum_sent.seconds) and, where known, the
// line.
func ReadIperf3(name string, r io.Reader) (*IperfResult, error) {
	runs, err := ReadIperf3All(name, r)
	if err != nil {
		return nil, err
	}
	if len(runs) > 1 {
		return nil, inputErr(name, 0, "", "%d runs in one file (iperf3 --logfile appends one per run): read them with ReadIperf3All", len(runs))
	}
	return runs[0], nil
}

// ReadIperf3All reads a file of one or more iperf3 -J documents one
// after another (iperf3 --logfile appends one per run), checking each
// as ReadIperf3 does. An error in a later run names its first line.
func ReadIperf3All(name string, r io.Reader) ([]*IperfResult, error) {
	data, err := readLimited(name, r)
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
			if len(runs) > 0 && errors.As(err, &ie) {
				ie.Msg = fmt.Sprintf("%s (in run %d, from line %d)", ie.Msg, len(runs)+1, lineOf(data, start+int64(countSpace(data[start:]))))
			}
			return nil, err
		}
		runs = append(runs, res)
	}
	if len(runs) == 0 {
		return nil, inputErr(name, 0, "", "empty: no iperf3 JSON document")
	}
	return runs, nil
}

func countSpace(b []byte) int {
	return len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
}

// iperfJSONErr locates a decoding error: a truncated document, a
// syntax error, or a value of the wrong type (with its field path).
func iperfJSONErr(name string, data []byte, start int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syn) && strings.Contains(syn.Error(), "unexpected end of JSON input"):
		return inputErr(name, lineOf(data, int64(len(data))), "", "truncated JSON (ends at offset %d)", len(data))
	case errors.As(err, &syn):
		return inputErr(name, lineOf(data, syn.Offset), "", "not valid JSON (offset %d): %v", syn.Offset, syn)
	case errors.As(err, &typ):
		off := start + typ.Offset
		return inputErr(name, lineOf(data, off), typ.Field, "must be %s, got a JSON %s", jsonTypeWord(typ.Type), typ.Value)
	}
	return inputErr(name, 0, "", "not an iperf3 JSON document: %v", err)
}

// convertIperf checks one decoded document and converts it.
func convertIperf(name string, doc *iperfJSON) (*IperfResult, error) {
	var err error
	if doc.Error != nil {
		return nil, inputErr(name, 0, "error", "iperf3 reported an error: %q", *doc.Error)
	}
	res := &IperfResult{Name: name}
	if doc.Start == nil {
		return nil, inputErr(name, 0, "start", "missing (not iperf3 -J output?)")
	}
	ts := doc.Start.TestStart
	if ts == nil {
		return nil, inputErr(name, 0, "start.test_start", "missing (the test never started?)")
	}
	res.Version = doc.Start.Version
	switch {
	case ts.Protocol == nil:
		return nil, inputErr(name, 0, "start.test_start.protocol", "missing")
	case *ts.Protocol != "TCP":
		return nil, inputErr(name, 0, "start.test_start.protocol", "%q: only TCP runs are read", *ts.Protocol)
	case ts.NumStreams == nil:
		return nil, inputErr(name, 0, "start.test_start.num_streams", "missing")
	case !isCount(*ts.NumStreams) || *ts.NumStreams < 1 || *ts.NumStreams > 1<<16:
		return nil, inputErr(name, 0, "start.test_start.num_streams", "%v must be a whole number from 1 to 65536", *ts.NumStreams)
	case ts.Duration == nil:
		return nil, inputErr(name, 0, "start.test_start.duration", "missing")
	case *ts.Duration < 0:
		return nil, inputErr(name, 0, "start.test_start.duration", "%v must not be negative", *ts.Duration)
	case !isCount(ts.Blksize):
		return nil, inputErr(name, 0, "start.test_start.blksize", "%v must be a whole number, not negative", ts.Blksize)
	case ts.Omit < 0:
		return nil, inputErr(name, 0, "start.test_start.omit", "%v must not be negative", ts.Omit)
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
			return nil, inputErr(name, 0, path+".sum", "missing")
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
		return nil, inputErr(name, 0, "end", "missing (the run did not finish)")
	}
	if end.SumSent == nil && end.SumReceived == nil {
		return nil, inputErr(name, 0, "end", "no sum_sent or sum_received (the run did not finish)")
	}
	if end.SumSent == nil {
		return nil, inputErr(name, 0, "end.sum_sent", "missing")
	}
	if end.SumReceived == nil {
		return nil, inputErr(name, 0, "end.sum_received", "missing")
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
			return nil, inputErr(name, 0, s.path+".seconds", "0: a zero-duration run has no rate")
		}
	}
	if res.Received.Bytes == 0 {
		return nil, inputErr(name, 0, "end.sum_received.bytes", "0: nothing was received")
	}
	for i, s := range end.Streams {
		path := fmt.Sprintf("end.streams[%d]", i)
		if s.Sender == nil {
			return nil, inputErr(name, 0, path+".sender", "missing")
		}
		if s.Receiver == nil {
			return nil, inputErr(name, 0, path+".receiver", "missing")
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
			if f.v < 0 {
				return nil, inputErr(name, 0, path+".sender."+f.field, "%v must not be negative", f.v)
			}
			*f.dst = f.v * 1e-6 // iperf3 reports microseconds
		}
		res.Streams = append(res.Streams, st)
	}
	if len(res.Streams) != res.NumStreams {
		return nil, inputErr(name, 0, "end.streams", "%d streams, but start.test_start.num_streams is %d", len(res.Streams), res.NumStreams)
	}
	if c := end.CPU; c != nil {
		res.CPU = IperfCPU{c.HostTotal, c.HostUser, c.HostSystem, c.RemoteTotal, c.RemoteUser, c.RemoteSystem}
		for _, f := range []struct {
			field string
			v     float64
		}{{"host_total", c.HostTotal}, {"remote_total", c.RemoteTotal}} {
			if f.v < 0 {
				return nil, inputErr(name, 0, "end.cpu_utilization_percent."+f.field, "%v must not be negative", f.v)
			}
		}
	}
	return res, nil
}

func jsonTypeWord(t reflect.Type) string {
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

func isCount(v float64) bool { return v >= 0 && v == math.Trunc(v) && v < 1<<62 }

func (s *iperfSumJSON) convert(file, path string) (IperfSum, error) {
	var out IperfSum
	req := []struct {
		field string
		v     *float64
	}{{"seconds", s.Seconds}, {"bytes", s.Bytes}, {"bits_per_second", s.BitsPerSecond}}
	for _, f := range req {
		if f.v == nil {
			return out, inputErr(file, 0, path+"."+f.field, "missing")
		}
		if *f.v < 0 {
			return out, inputErr(file, 0, path+"."+f.field, "%v must not be negative", *f.v)
		}
	}
	if !isCount(*s.Bytes) {
		return out, inputErr(file, 0, path+".bytes", "%v must be a whole number of bytes", *s.Bytes)
	}
	if s.Start < 0 || s.End < s.Start {
		return out, inputErr(file, 0, path+".end", "%v s is before start %v s", s.End, s.Start)
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
	if !isCount(s.PMTU) || s.PMTU > 1<<20 {
		return out, inputErr(file, 0, path+".pmtu", "%v must be a whole number of bytes", s.PMTU)
	}
	out.PMTU = int(s.PMTU)
	if s.Retransmits != nil {
		if !isCount(*s.Retransmits) {
			return out, inputErr(file, 0, path+".retransmits", "%v must be a whole number, not negative", *s.Retransmits)
		}
		out.Retransmits = int64(*s.Retransmits)
	}
	return out, nil
}
