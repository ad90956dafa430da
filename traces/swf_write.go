package traces

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// WriteSWF writes t in the Standard Workload Format, version 2.2: a
// header (Version, Computer: converge, MaxNodes and MaxProcs from the
// trace's nodes or its own SWF header, UnixStartTime when the start is
// known, a Note saying converge wrote it, then the other header comments
// the trace was read with), and one line of the 18 fields per job in
// order of submission, followed by the lines of its partial executions
// (PartialExecution events) when it has any.
//
// Times are relative: a relative trace's as they are (UnixStartTime is
// its Start), an absolute trace's from its earliest submission (whole
// second, written as UnixStartTime). Fractions of a second are written to
// the microsecond.
//
// Job numbers are the jobs' IDs when all are whole numbers, else 1, 2, ...
// in the order written; users and queues likewise (their numbers when
// all are numbers, else numbered in order of first appearance).
// Requested processors are Tasks × CoresPerTask (Tasks when CoresPerTask
// is 0); a job asked only in Nodes (no Tasks) requests Nodes × the cores
// of a node when the trace's nodes all have the same cores (or its SWF
// header's MaxProcs is a multiple of MaxNodes), else Nodes. Requested
// memory is MemoryPerTask per core in KB (1 KB = 1024 bytes). Status:
// completed 1, failed and timeout 0, cancelled 5, anything else -1. The
// group, executable, partition, preceding job, think time, CPU time and
// used memory come from Params (the SWF reader's keys); what the trace
// does not know is -1.
func WriteSWF(w io.Writer, t *Trace) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	order := make([]int, len(t.Jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		sa, sb := t.Jobs[a].Submit, t.Jobs[b].Submit
		switch {
		case !Known(sa) && !Known(sb):
			return 0
		case !Known(sa):
			return 1
		case !Known(sb):
			return -1
		}
		return cmp.Compare(sa, sb)
	})

	// The origin of the written times.
	origin, unixStart := 0.0, NaN
	if t.Relative {
		unixStart = t.Start
	} else {
		first := NaN
		for _, j := range t.Jobs {
			if Known(j.Submit) && (!Known(first) || j.Submit < first) {
				first = j.Submit
			}
		}
		if !Known(first) {
			first, _ = t.Span()
		}
		if Known(first) {
			origin = math.Floor(first)
			unixStart = origin
		}
	}

	// Job numbers.
	renumber := false
	for _, j := range t.Jobs {
		if v, err := strconv.ParseInt(j.ID, 10, 64); err != nil || v < 0 || v > swfMaxNumber {
			renumber = true
			break
		}
	}
	number := make(map[string]int64, 0)
	if renumber {
		number = make(map[string]int64, len(t.Jobs))
		for k, i := range order {
			number[t.Jobs[i].ID] = int64(k + 1)
		}
	}
	ordered := make([]*Job, len(order))
	for k, i := range order {
		ordered[k] = t.Jobs[i]
	}
	users := swfNumbering(ordered, func(j *Job) string { return j.User })
	queues := swfNumbering(ordered, func(j *Job) string { return j.Queue })

	// The machine.
	maxNodes, maxProcs, coresPerNode := swfMachine(t)

	// Header.
	fmt.Fprintf(bw, "; Version: 2.2\n; Computer: converge\n")
	lines := 0
	for _, j := range t.Jobs {
		lines++
		for _, e := range j.Events {
			if e.Name == PartialExecution {
				lines++
			}
		}
	}
	fmt.Fprintf(bw, "; MaxJobs: %d\n; MaxRecords: %d\n", len(t.Jobs), lines)
	if Known(unixStart) {
		fmt.Fprintf(bw, "; UnixStartTime: %s\n", fmtSec(unixStart))
	}
	if maxNodes > 0 {
		fmt.Fprintf(bw, "; MaxNodes: %d\n", maxNodes)
	}
	if maxProcs > 0 {
		fmt.Fprintf(bw, "; MaxProcs: %d\n", maxProcs)
	}
	note := "written by converge"
	if len(t.Formats) > 0 {
		note += " from a trace read as " + strings.Join(slices.Compact(slices.Clone(t.Formats)), ", ")
	}
	if c := t.Header["Computer"]; c != "" && c != "converge" {
		note += " (recorded on " + strings.ReplaceAll(c, "\n", " ") + ")"
	}
	fmt.Fprintf(bw, "; Note: %s\n", note)
	if !t.Relative && Known(unixStart) {
		fmt.Fprintf(bw, "; Note: times relative to UnixStartTime, the earliest submission (whole second)\n")
	}
	skip := map[string]bool{"Version": true, "Computer": true, "MaxJobs": true, "MaxRecords": true,
		"UnixStartTime": true, "MaxNodes": true, "MaxProcs": true}
	keys := make([]string, 0, len(t.Header))
	for k := range t.Header {
		if !skip[k] && swfKeyOK(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range strings.Split(t.Header[k], "\n") {
			v = printable(v)
			if k == "Note" && (strings.HasPrefix(v, "written by converge") || strings.HasPrefix(v, "times relative to UnixStartTime")) {
				continue // converge's own, written afresh above
			}
			fmt.Fprintf(bw, "; %s: %s\n", k, v)
		}
	}

	// Jobs.
	var f [swfNF]float64
	buf := make([]byte, 0, 256)
	for _, i := range order {
		j := t.Jobs[i]
		for k := range f {
			f[k] = -1
		}
		if renumber {
			f[swfJob] = float64(number[j.ID])
		} else {
			id, _ := strconv.ParseInt(j.ID, 10, 64)
			f[swfJob] = float64(id)
		}
		submit := j.Submit
		if Known(submit) {
			f[swfSubmit] = submit - origin
		}
		if Known(submit) && Known(j.Start) {
			f[swfWait] = j.Start - submit
		}
		if d := j.Duration(); Known(d) {
			f[swfRun] = d
		}
		if j.Procs > 0 {
			f[swfAlloc] = float64(j.Procs)
		}
		f[swfCPU] = swfParam(j, ParamCPUTime)
		f[swfUsedMem] = swfParam(j, ParamUsedMemory)
		cores := max(j.CoresPerTask, 1)
		switch {
		case j.Tasks > 0:
			f[swfReqProcs] = float64(j.Tasks) * float64(cores)
		case j.Nodes > 0 && coresPerNode > 0:
			f[swfReqProcs] = float64(j.Nodes) * float64(coresPerNode)
		case j.Nodes > 0:
			f[swfReqProcs] = float64(j.Nodes)
		}
		if j.Walltime > 0 {
			f[swfReqTime] = j.Walltime
		}
		if j.MemoryPerTask > 0 {
			f[swfReqMem] = float64(j.MemoryPerTask) / 1024 / float64(cores)
		}
		switch j.Status {
		case "completed":
			f[swfStatus] = swfCompleted
		case "failed", "timeout":
			f[swfStatus] = swfFailed
		case "cancelled":
			f[swfStatus] = swfCancelled
		}
		f[swfUser] = users.of(j.User)
		f[swfGroup] = swfParam(j, ParamGroup)
		f[swfExec] = swfParam(j, ParamExecutable)
		f[swfQueue] = queues.of(j.Queue)
		f[swfPartition] = swfParam(j, ParamPartition)
		f[swfPreceding] = swfParam(j, ParamPreceding)
		if renumber && f[swfPreceding] >= 0 {
			f[swfPreceding] = -1
			if p, ok := number[j.Params[ParamPreceding]]; ok {
				f[swfPreceding] = float64(p)
			}
		}
		f[swfThink] = swfParam(j, ParamThinkTime)
		buf = appendSWF(buf[:0], &f)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		for _, e := range j.Events {
			if e.Name != PartialExecution {
				continue
			}
			p := f
			p[swfWait], p[swfRun], p[swfAlloc] = -1, -1, -1
			if Known(e.T) {
				// Its wait from the job's submission, or from its own
				// start when that is unknown or later (a partial line
				// of its own submit time).
				if Known(submit) && e.T >= submit {
					p[swfWait] = e.T - submit
				} else {
					p[swfSubmit], p[swfWait] = e.T-origin, 0
				}
				if end, ok := e.Context["end"].(float64); ok {
					p[swfRun] = end - e.T
				}
			}
			if n, ok := e.Context["procs"].(int); ok && n > 0 {
				p[swfAlloc] = float64(n)
			}
			switch e.Context["status"] {
			case "continued":
				p[swfStatus] = swfPartial
			case "completed":
				p[swfStatus] = swfLastOK
			case "failed":
				p[swfStatus] = swfLastFail
			}
			buf = appendSWF(buf[:0], &p)
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// printable returns a header value line without control characters.
func printable(v string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' {
			return -1
		}
		return r
	}, v)
}

// swfKeyOK reports a key the reader would read back as one.
func swfKeyOK(k string) bool {
	_, _, ok := swfHeaderLine([]byte("; " + k + ": x"))
	return ok
}

// appendSWF appends the 18 fields and a newline.
func appendSWF(buf []byte, f *[swfNF]float64) []byte {
	for k, v := range f {
		if k > 0 {
			buf = append(buf, ' ')
		}
		switch {
		case v < 0 || !Known(v):
			buf = append(buf, '-', '1')
		case v == math.Trunc(v) && v < 1e15:
			buf = strconv.AppendInt(buf, int64(v), 10)
		default:
			buf = append(buf, fmtSec(v)...)
		}
	}
	return append(buf, '\n')
}

// swfParam returns a numeric Param (-1 when absent or not a number ≥ 0).
func swfParam(j *Job, key string) float64 {
	s, ok := j.Params[key]
	if !ok {
		return -1
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return -1
	}
	return v
}

// swfNumbers maps the values of a string field (users, queues) to SWF
// numbers: their own when all are whole numbers, else 1, 2, ... in order
// of first appearance; "" is -1.
type swfNumbers struct {
	ids map[string]float64 // nil: the values are numbers
}

func swfNumbering(jobs []*Job, get func(*Job) string) swfNumbers {
	for _, j := range jobs {
		s := get(j)
		if s == "" {
			continue
		}
		if v, err := strconv.ParseInt(s, 10, 64); err != nil || v < 0 || v > swfMaxNumber {
			n := swfNumbers{ids: map[string]float64{}}
			for _, j := range jobs {
				if s := get(j); s != "" {
					if _, seen := n.ids[s]; !seen {
						n.ids[s] = float64(len(n.ids) + 1)
					}
				}
			}
			return n
		}
	}
	return swfNumbers{}
}

func (n swfNumbers) of(s string) float64 {
	if s == "" {
		return -1
	}
	if n.ids != nil {
		return n.ids[s]
	}
	v, _ := strconv.ParseInt(s, 10, 64)
	return float64(v)
}

// swfMachine returns the machine's nodes, processors and cores per node
// (0 when unknown): from the trace's nodes when it has them (cores per
// node when all have the same), else from its SWF header.
func swfMachine(t *Trace) (nodes, procs, coresPerNode int64) {
	if len(t.Nodes) > 0 {
		nodes = int64(len(t.Nodes))
		same := true
		for _, n := range t.Nodes {
			if n.CPU <= 0 {
				return nodes, 0, 0
			}
			procs += n.CPU / 1000
			same = same && n.CPU == t.Nodes[0].CPU
		}
		if same {
			coresPerNode = t.Nodes[0].CPU / 1000
		}
		return nodes, procs, coresPerNode
	}
	count := func(key string) int64 {
		v, err := strconv.ParseInt(strings.TrimSpace(t.Header[key]), 10, 64)
		if err != nil || v < 1 || v > SWFMaxProcs {
			return 0
		}
		return v
	}
	nodes, procs = count("MaxNodes"), count("MaxProcs")
	if nodes > 0 && procs > 0 && procs%nodes == 0 {
		coresPerNode = procs / nodes
	}
	return nodes, procs, coresPerNode
}
