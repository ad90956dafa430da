package traces

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// OSUKind is what an OSU point-to-point benchmark measured.
type OSUKind string

const (
	// OSULatency is osu_latency: the one-way time of a message of each
	// size, half the ping-pong round trip, in microseconds.
	OSULatency OSUKind = "latency"
	// OSUBandwidth is osu_bw: the rate of a window of back-to-back
	// non-blocking sends of each size, in MB/s (10^6 bytes per second).
	OSUBandwidth OSUKind = "bandwidth"
)

// OSUSample is one row: a message size and the value measured for it.
type OSUSample struct {
	Experiment string // the CSV's experiment column ("bare-metal"); "" for stdout
	Iteration  int    // the CSV's iteration, or the run's index in a stdout file
	Ranks      int    // CSV only (0 if absent)
	Nodes      int    // CSV only (0 if absent)
	Size       int64  // message size, bytes
	// Value is the benchmark's own column: microseconds (latency) or
	// MB/s (bandwidth).
	Value float64
	// Extra holds further columns of newer versions (P50/P90/P99 tail
	// values, Min/Max, Iterations) by their header names.
	Extra map[string]float64
	Line  int // the line it was read from
}

// OSUResult is one OSU output file: osu_latency or osu_bw standard
// output (possibly several runs one after another), or one of the CSV
// tables of the flux-usernetes experiments.
type OSUResult struct {
	Name    string
	Kind    OSUKind
	Title   string   // "OSU MPI Latency Test v7.3" (stdout), "" for CSV
	Version string   // "7.3" (stdout)
	Columns []string // the value columns, in order, from the header
	Samples []OSUSample
}

// Experiments lists the experiments in the file, in order of first
// appearance ("" for stdout).
func (r *OSUResult) Experiments() []string {
	var out []string
	for _, s := range r.Samples {
		if !slices.Contains(out, s.Experiment) {
			out = append(out, s.Experiment)
		}
	}
	return out
}

// Select returns the samples of one experiment ("" keeps all).
func (r *OSUResult) Select(experiment string) []OSUSample {
	if experiment == "" {
		return r.Samples
	}
	var out []OSUSample
	for _, s := range r.Samples {
		if s.Experiment == experiment {
			out = append(out, s)
		}
	}
	return out
}

// SelectExperiment returns the samples of one experiment and the
// experiment's name. With experiment "", the file's only experiment is
// taken (several are an error: the caller must choose); a file without
// an experiment column (standard output) takes any experiment as a label
// of all its samples. An experiment the table does not hold is an error
// naming the file and listing those it holds.
func (r *OSUResult) SelectExperiment(experiment string) ([]OSUSample, string, error) {
	exps := r.Experiments()
	switch {
	case len(exps) == 0:
		return nil, experiment, nil
	case experiment != "" && slices.Contains(exps, experiment):
		return r.Select(experiment), experiment, nil
	case experiment != "" && len(exps) == 1 && exps[0] == "":
		return r.Samples, experiment, nil // stdout: the experiment is a label only
	case experiment != "":
		return nil, "", &InputError{File: r.Name, Field: osuCSVExperiment, Msg: fmt.Sprintf("no experiment %s (the file has %s)", quote(experiment), osuQuoteAll(exps))}
	case len(exps) > 1:
		return nil, "", &InputError{File: r.Name, Field: osuCSVExperiment, Msg: fmt.Sprintf("%d experiments (%s): choose one", len(exps), osuQuoteAll(exps))}
	}
	return r.Samples, exps[0], nil
}

// osuQuoteAll lists values for a message: each quoted and cut, at most
// 10.
func osuQuoteAll(s []string) string {
	const most = 10
	out := make([]string, 0, min(len(s), most)+1)
	for i, x := range s {
		if i == most {
			out = append(out, fmt.Sprintf("and %d more", len(s)-most))
			break
		}
		out = append(out, quote(x))
	}
	return strings.Join(out, ", ")
}

var (
	osuTitleRe = regexp.MustCompile(`^#\s*(OSU\b.*?)\s*(?:v(\d+(?:\.\d+)*\S*))?\s*$`)
	// A header column is a word ending in a unit in parentheses
	// ("Latency (us)", "Avg Latency(us)", "P50 Tail Lat(us)",
	// "Bandwidth (MB/s)") or a bare Size / Iterations.
	osuColumnRe = regexp.MustCompile(`Size|Iterations|[^()\s][^()]*?\s*\([^)]*\)`)
)

// osuKindOf tells the benchmark from its title.
func osuKindOf(title string) (OSUKind, error) {
	t := strings.ToLower(title)
	switch {
	case strings.Contains(t, "bi-directional") || strings.Contains(t, "bidirectional"):
		return "", fmt.Errorf("%s: bi-directional bandwidth is not read (use osu_bw)", quote(title))
	case strings.Contains(t, "multiple") || strings.Contains(t, "message rate"):
		return "", fmt.Errorf("%s: multi-pair tests are not read (use osu_latency or osu_bw)", quote(title))
	case strings.Contains(t, "latency"):
		return OSULatency, nil
	case strings.Contains(t, "bandwidth"):
		return OSUBandwidth, nil
	}
	return "", fmt.Errorf("%s: not an OSU latency or bandwidth test", quote(title))
}

// ReadOSU reads the standard output of osu_latency or osu_bw (OSU
// Micro-Benchmarks v5 to v7): a title line ("# OSU MPI Latency Test
// v7.3"), optional comment lines ("# Datatype: MPI_CHAR."), a column
// header ("# Size  Latency (us)", "# Size  Avg Latency(us)  P50 Tail
// Lat(us) ...", "# Size  Bandwidth (MB/s)"), then one row per size.
// Several runs may follow one another in one file (each starts with its
// title); they must be the same benchmark. Lines before the first title
// (launcher noise) are skipped; after it, a row that does not parse is
// an error naming the file, the line and the column. A gzip file is
// decompressed; at most limitio.Measurement bytes are read.
func ReadOSU(name string, r io.Reader) (*OSUResult, error) {
	data, err := measReadAll(name, r)
	if err != nil {
		return nil, err
	}
	res := &OSUResult{Name: name}
	var cols []string // value columns of the current run
	run := -1
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), measMaxLine)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "#") {
			body := strings.TrimSpace(strings.TrimLeft(text, "#"))
			if m := osuTitleRe.FindStringSubmatch(text); m != nil && strings.HasPrefix(body, "OSU") {
				kind, err := osuKindOf(m[1])
				if err != nil {
					return nil, measErr(name, line, "", "%v", err)
				}
				if res.Kind != "" && kind != res.Kind {
					return nil, measErr(name, line, "", "a %s run after %s runs: one benchmark per file", kind, res.Kind)
				}
				res.Kind = kind
				if res.Title == "" {
					res.Title, res.Version = body, m[2]
				}
				run++
				cols = nil
				continue
			}
			if run < 0 {
				continue
			}
			if f := strings.Fields(body); len(f) > 0 && f[0] == "Size" {
				found := osuColumnRe.FindAllString(body, -1)
				if len(found) < 2 || found[0] != "Size" {
					return nil, measErr(name, line, "", "cannot read the column header %s", quote(body))
				}
				cols = nil
				for _, c := range found[1:] {
					cols = append(cols, strings.TrimSpace(c))
				}
				if !slices.Equal(res.Columns, cols) && res.Columns != nil {
					return nil, measErr(name, line, "", "columns %s differ from the first run's %s", quote(strings.Join(cols, ", ")), quote(strings.Join(res.Columns, ", ")))
				}
				res.Columns = cols
				if err := checkOSUUnit(res.Kind, cols[0]); err != nil {
					return nil, measErr(name, line, cols[0], "%v", err)
				}
			}
			continue // other comments: datatype, window size, notes
		}
		if run < 0 {
			continue // before the first title: launcher output
		}
		if cols == nil {
			return nil, measErr(name, line, "", "a data row before the column header (# Size ...)")
		}
		f := strings.Fields(text)
		if len(f) != len(cols)+1 {
			return nil, measErr(name, line, "", "%d fields, want %d (Size and %s)", len(f), len(cols)+1, measClip(strings.Join(cols, ", ")))
		}
		size, err := osuMessageSize(f[0])
		if err != nil {
			return nil, measErr(name, line, "Size", "%v", err)
		}
		s := OSUSample{Iteration: run, Size: size, Line: line}
		for i, c := range cols {
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, measErr(name, line, c, "cannot read %s as a number", quote(f[i+1]))
			}
			if v < 0 {
				return nil, measErr(name, line, c, "%v must not be negative", v)
			}
			if limit, unit := osuColumnLimit(c); v > limit {
				return nil, measErr(name, line, c, "%v is above %g %s: not a measurement", v, limit, unit)
			}
			if i == 0 {
				if err := checkOSUValue(res.Kind, v); err != nil {
					return nil, measErr(name, line, c, "%v", err)
				}
				s.Value = v
				continue
			}
			if s.Extra == nil {
				s.Extra = map[string]float64{}
			}
			s.Extra[c] = v
		}
		res.Samples = append(res.Samples, s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, measErr(name, line+1, "", "a line longer than %s: not OSU output", limitio.Size(measMaxLine))
		}
		return nil, measErr(name, line+1, "", "%v", err)
	}
	if run < 0 {
		return nil, measErr(name, 0, "", "no OSU title line (# OSU MPI Latency Test / # OSU MPI Bandwidth Test)")
	}
	if len(res.Samples) == 0 {
		return nil, measErr(name, 0, "", "no data rows")
	}
	return res, nil
}

func checkOSUUnit(kind OSUKind, col string) error {
	c := strings.ToLower(col)
	switch kind {
	case OSULatency:
		if !strings.Contains(c, "(us)") {
			return fmt.Errorf("a latency test's first column must be in microseconds (us)")
		}
	case OSUBandwidth:
		if !strings.Contains(c, "(mb/s)") {
			return fmt.Errorf("a bandwidth test's first column must be in MB/s")
		}
	}
	return nil
}

// Upper bounds of OSU values by unit: microseconds, MB/s, anything else.
const (
	maxOSUMicros = MaxRTTMicros
	maxOSUMBps   = MaxBitsPerSecond / 8 / 1e6
	maxOSUOther  = 1e15
)

// osuColumnLimit is the largest plausible value of a column, by its unit.
func osuColumnLimit(col string) (float64, string) {
	c := strings.ToLower(col)
	switch {
	case strings.Contains(c, "(us)"):
		return maxOSUMicros, "µs"
	case strings.Contains(c, "(mb/s)"):
		return maxOSUMBps, "MB/s (1 Pbit/s)"
	}
	return maxOSUOther, ""
}

// osuMessageSize reads a message size (osuParseSize) no larger than
// MaxMessageBytes.
func osuMessageSize(s string) (int64, error) {
	n, err := osuParseSize(s)
	if err == nil && n > MaxMessageBytes {
		return 0, fmt.Errorf("%d is larger than %d bytes (1 TiB): not a message size", n, int64(MaxMessageBytes))
	}
	return n, err
}

func checkOSUValue(kind OSUKind, v float64) error {
	if v <= 0 {
		if kind == OSULatency {
			return fmt.Errorf("%v: a latency must be positive", v)
		}
		return fmt.Errorf("%v: a bandwidth must be positive", v)
	}
	return nil
}

// osuParseSize reads a message size: a whole number of bytes, written as
// an integer or as a float with no fraction ("1024.0", as pandas
// writes the CSVs).
func osuParseSize(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%d must not be negative", n)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("cannot read %s as a message size", quote(s))
	}
	if f < 0 || f != math.Trunc(f) || f > 1<<53 {
		return 0, fmt.Errorf("%s must be a whole, non-negative number of bytes", quote(s))
	}
	return int64(f), nil
}

// OSU CSV column names (the flux-usernetes-aws tables).
const (
	osuCSVSize       = "size"
	osuCSVValue      = "average_latency_us"
	osuCSVExperiment = "experiment"
	osuCSVIteration  = "iteration"
	osuCSVRanks      = "ranks"
	osuCSVNodes      = "nodes"
)

// ReadOSUCSV reads an OSU table as the flux-usernetes experiments wrote
// them: a header with size and average_latency_us (and optionally the
// row index, ranks, experiment, iteration, nodes), one row per size and
// run. Both files name the value column average_latency_us; in the
// bandwidth file it holds MB/s. The kind is taken from the file name
// (…latency…, …bandwidth… or …bw…) and otherwise from the content: osu_bw
// has no 0-byte row and its value doubles with the size at small sizes,
// where a latency stays flat. Use ReadOSUCSVAs to state the kind. A
// gzip file is decompressed; at most limitio.Measurement bytes are read.
func ReadOSUCSV(name string, r io.Reader) (*OSUResult, error) {
	return ReadOSUCSVAs(name, r, "")
}

// ReadOSUCSVAs is ReadOSUCSV with the kind given ("" detects it).
func ReadOSUCSVAs(name string, r io.Reader, kind OSUKind) (*OSUResult, error) {
	if kind != "" && kind != OSULatency && kind != OSUBandwidth {
		return nil, fmt.Errorf("%s: unknown OSU kind %q (latency or bandwidth)", name, kind)
	}
	data, err := measReadAll(name, r)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, measErr(name, 0, "", "empty file")
	}
	if err != nil {
		return nil, osuCSVErr(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" && i == 0 {
			continue // pandas' index
		}
		if _, dup := col[h]; dup {
			return nil, measErr(name, 1, measClip(h), "duplicate column")
		}
		col[h] = i
	}
	for _, need := range []string{osuCSVSize, osuCSVValue} {
		if _, ok := col[need]; !ok {
			return nil, measErr(name, 1, need, "missing column (the header has %s)", quote(strings.Join(header, ",")))
		}
	}
	res := &OSUResult{Name: name, Columns: []string{osuCSVValue}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, osuCSVErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		s := OSUSample{Line: line}
		if s.Size, err = osuMessageSize(strings.TrimSpace(rec[col[osuCSVSize]])); err != nil {
			return nil, measErr(name, line, osuCSVSize, "%v", err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[col[osuCSVValue]]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, measErr(name, line, osuCSVValue, "cannot read %s as a number", quote(rec[col[osuCSVValue]]))
		}
		if v <= 0 {
			return nil, measErr(name, line, osuCSVValue, "%v must be positive", v)
		}
		// Both tables name the column average_latency_us; the bandwidth
		// one holds MB/s, whose bound is the lower.
		if v > max(maxOSUMicros, maxOSUMBps) {
			return nil, measErr(name, line, osuCSVValue, "%v is above %g: neither a latency in µs nor a bandwidth in MB/s", v, max(maxOSUMicros, maxOSUMBps))
		}
		s.Value = v
		if i, ok := col[osuCSVExperiment]; ok {
			s.Experiment = strings.TrimSpace(rec[i])
			if s.Experiment == "" {
				return nil, measErr(name, line, osuCSVExperiment, "empty")
			}
		}
		for _, c := range []struct {
			name string
			dst  *int
		}{{osuCSVIteration, &s.Iteration}, {osuCSVRanks, &s.Ranks}, {osuCSVNodes, &s.Nodes}} {
			i, ok := col[c.name]
			if !ok {
				continue
			}
			n, err := osuParseSize(strings.TrimSpace(rec[i]))
			if err != nil || n > math.MaxInt32 {
				return nil, measErr(name, line, c.name, "cannot read %s as a whole non-negative number up to 2^31-1", quote(rec[i]))
			}
			*c.dst = int(n)
		}
		res.Samples = append(res.Samples, s)
	}
	if len(res.Samples) == 0 {
		return nil, measErr(name, 0, "", "no data rows")
	}
	if kind == "" {
		kind = osuKindFromName(name)
	}
	if kind == "" {
		if kind, err = osuKindFromContent(res.Samples); err != nil {
			return nil, measErr(name, 0, osuCSVValue, "%v", err)
		}
	}
	res.Kind = kind
	for _, s := range res.Samples {
		if kind == OSUBandwidth && s.Size == 0 {
			return nil, measErr(name, s.Line, osuCSVSize, "0: a bandwidth row needs a positive message size")
		}
		if limit, unit := osuColumnLimit(map[OSUKind]string{OSULatency: "(us)", OSUBandwidth: "(MB/s)"}[kind]); s.Value > limit {
			return nil, measErr(name, s.Line, osuCSVValue, "%v is above %g %s: not a measurement", s.Value, limit, unit)
		}
	}
	return res, nil
}

func osuCSVErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return measErr(name, pe.Line, "", "%v", pe.Err)
	}
	return measErr(name, 0, "", "%v", err)
}

func osuKindFromName(name string) OSUKind {
	base := strings.ToLower(filepath.Base(name))
	for _, w := range strings.FieldsFunc(base, func(r rune) bool { return !(r >= 'a' && r <= 'z') }) {
		switch w {
		case "latency", "lat":
			return OSULatency
		case "bandwidth", "bw":
			return OSUBandwidth
		}
	}
	return ""
}

// osuKindFromContent tells osu_bw from osu_latency: a 0-byte row means
// latency; otherwise compare the mean values of the two smallest sizes.
// A bandwidth grows about in proportion to the size there, a latency
// barely moves.
func osuKindFromContent(samples []OSUSample) (OSUKind, error) {
	means := map[int64][2]float64{}
	for _, s := range samples {
		if s.Size == 0 {
			return OSULatency, nil
		}
		m := means[s.Size]
		means[s.Size] = [2]float64{m[0] + s.Value, m[1] + 1}
	}
	sizes := make([]int64, 0, len(means))
	for k := range means {
		sizes = append(sizes, k)
	}
	slices.Sort(sizes)
	if len(sizes) < 2 {
		return "", errors.New("cannot tell latency from bandwidth with one message size: name the file …latency… or …bandwidth…")
	}
	a, b := means[sizes[0]], means[sizes[1]]
	ratio := (b[0] / b[1]) / (a[0] / a[1])
	sizeRatio := float64(sizes[1]) / float64(sizes[0])
	if ratio > math.Sqrt(sizeRatio) {
		return OSUBandwidth, nil
	}
	return OSULatency, nil
}
