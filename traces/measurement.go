package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/internal/strictyaml"
)

// The measurement readers (iperf3.go, osu.go, ping.go) read what the
// network benchmarks print: iperf3 -J, osu_latency and osu_bw output and
// the OSU tables of the flux-usernetes experiments, iputils ping. They
// are not trace formats (they hold no jobs, pods or nodes, and are not
// registered with the detector of sim trace): the fits of the network
// package and the calibrations use what they read. They follow the
// convention of the trace readers: a gzip file is decompressed, at most
// limitio.Measurement bytes (decompressed) are read, and every error
// names the file, the line where known and the field.

// Plausibility bounds of measured values: a value beyond them is not a
// measurement of any network converge models (the fastest links are
// below 1 Tbit/s) but a corrupt or forged file, and would overflow a
// fit. Durations and time stamps are bounded by MaxSeconds.
const (
	// MaxBitsPerSecond is the largest rate read: 1 Pbit/s.
	MaxBitsPerSecond = 1e15
	// MaxRTTMicros is the largest round-trip or one-way time read, in
	// microseconds (1000 s).
	MaxRTTMicros = 1e9
	// MaxMessageBytes is the largest message size read (1 TiB).
	MaxMessageBytes = 1 << 40
	// MaxCPUPercent is the largest CPU figure read (10,000 CPUs busy).
	MaxCPUPercent = 1e6
)

// MeasurementKind names measurement files in size-limit messages; at
// most limitio.Measurement bytes of one are read.
const MeasurementKind = "measurement"

// InputError is a problem with an input file (a trace, a measurement): the file, the line
// (0 if unknown), the field path or column, and what is wrong. It reads
// "file:line: field: message", as every error of this package does.
type InputError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	return strictyaml.Message(e.File, e.Line, e.Field, e.Msg)
}

// Is makes every InputError match ErrBadInput.
func (e *InputError) Is(target error) bool { return target == ErrBadInput }

// ErrBadInput is matched (errors.Is) by every error of the readers
// about a malformed file.
var ErrBadInput = errors.New("traces: bad input")

func measErr(file string, line int, field, format string, a ...any) error {
	return &InputError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// measQuoteMax bounds the bytes of an input value quoted in a message
// (quote cuts at the same length).
const measQuoteMax = 80

// measClip cuts a text for a message: as it is when short, else quoted
// and cut.
func measClip(s string) string {
	if len(s) <= measQuoteMax {
		return s
	}
	return quote(s)
}

// measMaxLine is the longest line the text readers (OSU, ping) take:
// their lines are tens of bytes.
const measMaxLine = 1 << 20

// measReadAll reads all of r, decompressed when it is gzip, at most
// limitio.Measurement bytes of it (more is a *limitio.TooLargeError
// naming the file and the limit). A broken or truncated gzip stream is
// an error naming the file.
func measReadAll(name string, r io.Reader) ([]byte, error) {
	in, err := NewInput(r, name)
	if err != nil {
		return nil, &InputError{File: name, Msg: strings.TrimPrefix(err.Error(), name+": ")}
	}
	data, err := limitio.ReadAll(in.Reader(), name, limitio.Measurement, MeasurementKind)
	if err != nil {
		return nil, measStreamErr(name, 0, err)
	}
	return data, nil
}

// measStreamErr names the file of an error of the input stream: a size
// limit error as it is, a broken gzip stream as a truncated or corrupt
// file.
func measStreamErr(name string, line int, err error) error {
	var tl *limitio.TooLargeError
	if errors.As(err, &tl) {
		return err
	}
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &InputError{File: name, Line: line, Msg: fmt.Sprintf("the file is truncated or corrupt: %v", stripName(name, err))}
	}
	return &InputError{File: name, Line: line, Msg: stripName(name, err).Error()}
}

// stripName drops a leading "name: " from err (limitio.ReadAll adds it).
func stripName(name string, err error) error {
	if s, ok := strings.CutPrefix(err.Error(), name+": "); ok {
		return errors.New(s)
	}
	return err
}

// isGzip reports whether data starts with gzip's magic bytes.
func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// ReadMeasurementFile reads a measurement file (iperf3 JSON, OSU output
// or table, ping output) whole, as stored, at most limitio.Measurement
// bytes; a folder or a larger file is refused naming the file and the
// limit. The formats are text: a NUL byte in the first 64 KiB
// (/dev/zero, a binary) is refused at once, without reading on, unless
// the file is gzip (the readers decompress it).
func ReadMeasurementFile(path string) ([]byte, error) {
	f, err := limitio.Open(path, limitio.Measurement, MeasurementKind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if i := bytes.IndexByte(head, 0); i >= 0 && !isGzip(head) {
		return nil, measErr(path, measLineOf(head, int64(i)), "", "binary data (a NUL byte at offset %d): not a text measurement file (iperf3 JSON, OSU output or table, ping output)", i)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return head, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rest, err := limitio.ReadAll(f, path, limitio.Measurement-int64(n), MeasurementKind)
	if err != nil {
		var tl *limitio.TooLargeError
		if errors.As(err, &tl) {
			tl.Limit = limitio.Measurement
		}
		return nil, err
	}
	return append(head, rest...), nil
}

// measLineOf is the 1-based line of byte offset off in data.
func measLineOf(data []byte, off int64) int {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// The measurement formats DetectMeasurement tells apart (the names go
// into a fitted profile's provenance).
const (
	MeasurementIperf3    = "iperf3-json"
	MeasurementOSUStdout = "osu-stdout"
	MeasurementOSUCSV    = "osu-csv"
)

// DetectMeasurement tells what a measurement file is from its
// (decompressed) content: a JSON object is iperf3 -J output, a file
// whose first non-blank line is a # comment (or that holds "# OSU "
// after launcher lines) is osu_latency/osu_bw standard output, a
// comma-separated header with a size column is an OSU CSV table. Ping
// output is not told apart: it is read by ReadPing, by name.
func DetectMeasurement(data []byte) (string, error) {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) == 0 {
		return "", errors.New("empty file")
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", fmt.Errorf("binary data (a NUL byte at offset %d): not iperf3 -J JSON, OSU output or an OSU CSV table", i)
	}
	if t[0] == '{' {
		return MeasurementIperf3, nil
	}
	first, _, _ := bytes.Cut(t, []byte("\n"))
	first = bytes.TrimSpace(first)
	if bytes.HasPrefix(first, []byte("#")) {
		return MeasurementOSUStdout, nil
	}
	if bytes.Contains(bytes.ToLower(data), []byte("# osu ")) {
		return MeasurementOSUStdout, nil // launcher lines before the title
	}
	for _, h := range strings.Split(string(first), ",") {
		if strings.TrimSpace(h) == osuCSVSize {
			return MeasurementOSUCSV, nil
		}
	}
	return "", fmt.Errorf("not iperf3 -J JSON, OSU output or an OSU CSV table (first line %q)", measTruncate(string(first), 60))
}

func measTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Measurement is one measurement file read by ReadMeasurement: its
// format and what its reader gave (Iperf for iperf3 -J, one run per
// document; OSU for OSU output or a table).
type Measurement struct {
	Name   string
	Format string // MeasurementIperf3, MeasurementOSUStdout, MeasurementOSUCSV
	Iperf  []*IperfResult
	OSU    *OSUResult
}

// Tool is what produced the file: the iperf3 version of its first run
// ("iperf 3.12") or the OSU title ("OSU MPI Latency Test v7.3"; "" for
// a table).
func (m *Measurement) Tool() string {
	switch {
	case len(m.Iperf) > 0:
		return m.Iperf[0].Version
	case m.OSU != nil:
		return m.OSU.Title
	}
	return ""
}

// ReadMeasurement reads the measurement file data (as stored: gzip is
// decompressed) named name, of any format DetectMeasurement tells
// apart: iperf3 -J output (ReadIperf3All), OSU standard output
// (ReadOSU) or an OSU table (ReadOSUCSV).
func ReadMeasurement(name string, data []byte) (*Measurement, error) {
	if isGzip(data) {
		var err error
		if data, err = measReadAll(name, bytes.NewReader(data)); err != nil {
			return nil, err
		}
	}
	format, err := DetectMeasurement(data)
	if err != nil {
		return nil, &InputError{File: name, Msg: err.Error()}
	}
	m := &Measurement{Name: name, Format: format}
	switch format {
	case MeasurementIperf3:
		m.Iperf, err = ReadIperf3All(name, bytes.NewReader(data))
	case MeasurementOSUStdout:
		m.OSU, err = ReadOSU(name, bytes.NewReader(data))
	default:
		m.OSU, err = ReadOSUCSV(name, bytes.NewReader(data))
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}
