package traces

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// The jobs-csv format: one row per job of a trace, with a header naming
// the columns (JobsCSVHeader, exactly: detection is by it). Times are
// seconds (Unix epoch seconds, or seconds from the trace's start for a
// relative trace), empty when unknown; counts 0 when not asked; the
// nodelist is ';'-separated. It carries the requests, times and
// outcome of each job, not its pods, events, parameters or
// application.

// JobsCSVColumns are the columns of jobs-csv, in order.
var JobsCSVColumns = []string{"id", "name", "kind", "user", "queue", "scheduler",
	"submit", "alloc", "start", "end", "nodes", "tasks", "cores_per_task", "gpus_per_task",
	"memory_per_task", "walltime", "procs", "status", "exit_code", "startup", "nodelist"}

// JobsCSVHeader is the header line of jobs-csv.
var JobsCSVHeader = strings.Join(JobsCSVColumns, ",")

// Bounds of jobs-csv values.
const (
	// csvMaxTime is the largest time: an epoch time far in the future,
	// or a relative time up to SWF's bound.
	csvMaxTime = 1e11
	// csvRelativeBelow: a file whose times are all below this (1985 as
	// a Unix time) holds relative times.
	csvRelativeBelow = 5e8
	csvMaxCount      = 1e8
	csvMaxMemory     = 1 << 60
)

const (
	csvID = iota
	csvName
	csvKind
	csvUser
	csvQueue
	csvScheduler
	csvSubmit
	csvAlloc
	csvStart
	csvEnd
	csvNodes
	csvTasks
	csvCoresPerTask
	csvGPUsPerTask
	csvMemoryPerTask
	csvWalltime
	csvProcs
	csvStatus
	csvExitCode
	csvStartup
	csvNodelist
)

func init() {
	register(&Format{
		Name:   "jobs-csv",
		Doc:    "converge's table of jobs, one CSV row a job (" + JobsCSVHeader[:40] + "...)",
		Detect: detectJobsCSV,
		Read:   readJobsCSV,
		Write:  WriteJobsCSV,
		Ext:    ".csv",
	})
}

func detectJobsCSV(head []byte, _ []string) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	return string(bytes.TrimRight(line, "\r")) == JobsCSVHeader
}

// recordLimit bounds what the CSV reader may read for one record: a
// 2 GB line or an endless quoted field gives an error, not an exhausted
// memory. next resets it after each record.
type recordLimit struct {
	r     io.Reader
	n     int64
	limit int64
}

var errRecordTooLong = errors.New("record too long")

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errRecordTooLong
	}
	if int64(len(p)) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

func readJobsCSV(in *Input, t *Trace) error {
	lim := &recordLimit{r: in.Reader(), limit: MaxLine}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	line := 1 // the line of the last record read
	readErr := func(err error) error {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, errRecordTooLong):
			return in.Errorf(line+1, "", "a row longer than %s (is it the right file?)", limitio.Size(MaxLine))
		case errors.As(err, &pe):
			return in.Errorf(pe.Line, "", "%v", pe.Err)
		}
		return in.readErr(line+1, err)
	}
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return in.Errorf(0, "", "empty file")
	}
	if err != nil {
		return readErr(err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if strings.Join(head, ",") != JobsCSVHeader {
		return in.Errorf(1, "", "not the jobs-csv header (%s)", JobsCSVHeader)
	}
	cr.FieldsPerRecord = len(JobsCSVColumns)
	relative := true
	base := len(t.Jobs)
	for {
		lim.n = 0
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if pe := (*csv.ParseError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			return in.Errorf(pe.StartLine, "", "%d fields where jobs-csv has %d", len(rec), len(JobsCSVColumns))
		}
		if err != nil {
			return readErr(err)
		}
		line, _ = cr.FieldPos(0)
		j, err := jobsCSVRow(in, t, rec, line, cr)
		if err != nil {
			return err
		}
		for _, v := range []float64{j.Submit, j.Alloc, j.Start, j.End} {
			if Known(v) && v >= csvRelativeBelow {
				relative = false
			}
		}
		if len(t.Jobs) > MaxRecords {
			return in.Errorf(line, "", "more than %d jobs", MaxRecords)
		}
	}
	if len(t.Jobs) > base && relative {
		t.Relative = true
		t.Note("csv-relative", in.Name, "jobs-csv times all below %g s (1985 as a Unix time): read as seconds from the trace's start", float64(csvRelativeBelow))
	}
	return nil
}

// jobsCSVRow reads one row into a new job of t.
func jobsCSVRow(in *Input, t *Trace, rec []string, line int, cr *csv.Reader) (*Job, error) {
	fieldErr := func(col int, format string, args ...any) error {
		l, _ := cr.FieldPos(col)
		return in.Errorf(l, JobsCSVColumns[col], format, args...)
	}
	id := rec[csvID]
	if id == "" {
		return nil, fieldErr(csvID, "empty: every job needs its id")
	}
	j, added := t.Job(id)
	if !added {
		if j.Line > 0 {
			return nil, fieldErr(csvID, "job %s appears twice (first at line %d)", quote(id), j.Line)
		}
		return nil, fieldErr(csvID, "job %s appears twice", quote(id))
	}
	j.Line = line
	j.Name, j.Kind, j.User, j.Queue, j.Scheduler, j.Status =
		rec[csvName], rec[csvKind], rec[csvUser], rec[csvQueue], rec[csvScheduler], rec[csvStatus]
	times := []struct {
		col int
		v   *float64
	}{{csvSubmit, &j.Submit}, {csvAlloc, &j.Alloc}, {csvStart, &j.Start}, {csvEnd, &j.End}, {csvStartup, &j.Startup}}
	for _, tm := range times {
		s := rec[tm.col]
		if s == "" {
			*tm.v = NaN
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0 && v <= csvMaxTime) {
			return nil, fieldErr(tm.col, "not a time in seconds from 0 to %g (empty when unknown): %s", float64(csvMaxTime), quote(s))
		}
		*tm.v = v
	}
	counts := []struct {
		col int
		v   *int
	}{{csvNodes, &j.Nodes}, {csvTasks, &j.Tasks}, {csvCoresPerTask, &j.CoresPerTask}, {csvGPUsPerTask, &j.GPUsPerTask}, {csvProcs, &j.Procs}}
	for _, c := range counts {
		s := rec[c.col]
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || v > csvMaxCount {
			return nil, fieldErr(c.col, "not a count from 0 to %g: %s", float64(csvMaxCount), quote(s))
		}
		*c.v = int(v)
	}
	if s := rec[csvMemoryPerTask]; s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || v > csvMaxMemory {
			return nil, fieldErr(csvMemoryPerTask, "not a number of bytes from 0 to %d: %s", int64(csvMaxMemory), quote(s))
		}
		j.MemoryPerTask = v
	}
	if s := rec[csvWalltime]; s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0 && v <= SWFMaxSeconds) {
			return nil, fieldErr(csvWalltime, "not a number of seconds from 0 to %g: %s", float64(SWFMaxSeconds), quote(s))
		}
		j.Walltime = v
	}
	if s := rec[csvExitCode]; s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < -1 || v > math.MaxInt32 {
			return nil, fieldErr(csvExitCode, "not an exit code from -1 to %d: %s", math.MaxInt32, quote(s))
		}
		j.ExitCode = int(v)
	}
	if s := rec[csvNodelist]; s != "" {
		j.NodeList = strings.Split(s, ";")
		for _, n := range j.NodeList {
			if n == "" {
				return nil, fieldErr(csvNodelist, "an empty node name in %s", quote(s))
			}
		}
	}
	if Known(j.Start) && Known(j.End) && j.End < j.Start {
		return nil, fieldErr(csvEnd, "%s is before the start (%s)", fmtSec(j.End), fmtSec(j.Start))
	}
	return j, nil
}

// WriteJobsCSV writes the jobs of t as jobs-csv, one row per job in the
// trace's order: unknown times empty, times to the microsecond, node
// names joined by ';'.
func WriteJobsCSV(w io.Writer, t *Trace) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(JobsCSVColumns); err != nil {
		return err
	}
	rec := make([]string, len(JobsCSVColumns))
	tm := func(v float64) string {
		if !Known(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	count := func(n int) string { return strconv.Itoa(n) }
	for _, j := range t.Jobs {
		rec[csvID], rec[csvName], rec[csvKind] = j.ID, j.Name, j.Kind
		rec[csvUser], rec[csvQueue], rec[csvScheduler] = j.User, j.Queue, j.Scheduler
		rec[csvSubmit], rec[csvAlloc], rec[csvStart], rec[csvEnd] = tm(j.Submit), tm(j.Alloc), tm(j.Start), tm(j.End)
		rec[csvNodes], rec[csvTasks], rec[csvCoresPerTask], rec[csvGPUsPerTask] =
			count(j.Nodes), count(j.Tasks), count(j.CoresPerTask), count(j.GPUsPerTask)
		rec[csvMemoryPerTask] = strconv.FormatInt(j.MemoryPerTask, 10)
		rec[csvWalltime] = strconv.FormatFloat(j.Walltime, 'f', -1, 64)
		rec[csvProcs], rec[csvStatus], rec[csvExitCode] = count(j.Procs), j.Status, count(j.ExitCode)
		rec[csvStartup] = tm(j.Startup)
		rec[csvNodelist] = strings.Join(j.NodeList, ";")
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
