package traces

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// PullRow is one row of the pull-times file.
type PullRow struct {
	Line        int // line in the file (the header is line 1)
	Event       string
	Duration    float64 // seconds
	Container   string
	Cloud       string
	Environment string
	ExpSize     string // e.g. size64, size64-placement, size32-shared-memory
	ExpType     string // cpu or gpu
	Experiment  string
	Nodes       int    // the cluster size in ExpSize
	Variant     string // what follows the size in ExpSize ("" for none)
}

var expSizeRE = regexp.MustCompile(`^size(\d+)(?:-(.+))?$`)

// ReadPullTimes reads the pull-times CSV (columns index, event, duration,
// container, cloud, environment, exp_size, exp_type, experiment; the
// unnamed first column and any extra columns are ignored). name is used in
// errors, which name the file and line. At most limitio.DataTable bytes
// are read; durations are at most MaxSeconds, node counts MaxCount.
func ReadPullTimes(r io.Reader, name string) ([]PullRow, error) {
	return readPullTimes(newTextReader(r, name, limitio.DataTable), name)
}

func readPullTimes(r *textReader, name string) ([]PullRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file (expected a header with event, duration, container, cloud, exp_size)", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"event", "duration", "container", "cloud", "environment", "exp_size", "exp_type", "experiment"}
	for _, h := range need {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s:1: header has no %q column (need %s)", name, h, strings.Join(need, ", "))
		}
	}
	var rows []PullRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		get := func(h string) string { return strings.TrimSpace(rec[col[h]]) }
		row := PullRow{
			Line: line, Event: get("event"), Container: get("container"), Cloud: get("cloud"),
			Environment: get("environment"), ExpSize: get("exp_size"), ExpType: get("exp_type"),
			Experiment: get("experiment"),
		}
		d, err := strconv.ParseFloat(get("duration"), 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) || d < 0 || d > MaxSeconds {
			return nil, fmt.Errorf("%s:%d: duration %s is not a number of seconds from 0 to %g", name, line, quote(get("duration")), float64(MaxSeconds))
		}
		row.Duration = d
		m := expSizeRE.FindStringSubmatch(row.ExpSize)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: exp_size %s is not size<nodes>[-<variant>]", name, line, quote(row.ExpSize))
		}
		row.Nodes, err = strconv.Atoi(m[1])
		if err != nil || row.Nodes < 1 || row.Nodes > MaxCount {
			return nil, fmt.Errorf("%s:%d: exp_size %s: the node count must be from 1 to %d", name, line, quote(row.ExpSize), MaxCount)
		}
		row.Variant = m[2]
		if row.Cloud == "" || row.Container == "" {
			return nil, fmt.Errorf("%s:%d: empty cloud or container", name, line)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ReadPullTimesFile reads the pull-times CSV from the file at path (see
// ReadPullTimes).
func ReadPullTimesFile(path string) ([]PullRow, error) {
	f, err := openTable(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadPullTimes(f, path)
}

func csvError(name string, err error) error {
	if stop := inputStop(err); stop != nil {
		return stop
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}
