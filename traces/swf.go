package traces

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// The Standard Workload Format (SWF, version 2.2) of the Parallel
// Workloads Archive: one line per job of 18 whitespace-separated numeric
// fields, -1 for a value the log does not know, and header comments
// starting with ';' (`; MaxProcs: 128`). Times are seconds relative to the
// log's start (its UnixStartTime header); processors are counted one per
// core; memory is in kilobytes per processor.
//
// Checkpointed or swapped jobs appear as a summary line (status 0, 1 or
// 5, the whole job) followed by one line per partial execution with the
// same job number (status 2: continued later, 3: last, completed, 4:
// last, failed). The reader keeps the summary as the job and records each
// partial execution as an event of it.

// swfFields are the names of the 18 SWF fields, in order, as the
// definition names them (in errors).
var swfFields = [swfNF]string{
	"job number", "submit time", "wait time", "run time", "allocated processors",
	"average CPU time used", "used memory", "requested processors", "requested time",
	"requested memory", "status", "user id", "group id", "executable number",
	"queue number", "partition number", "preceding job number", "think time",
}

const swfNF = 18

// Indices of the SWF fields.
const (
	swfJob = iota
	swfSubmit
	swfWait
	swfRun
	swfAlloc
	swfCPU
	swfUsedMem
	swfReqProcs
	swfReqTime
	swfReqMem
	swfStatus
	swfUser
	swfGroup
	swfExec
	swfQueue
	swfPartition
	swfPreceding
	swfThink
)

// Bounds of SWF values: beyond them a line is corrupt (or not SWF).
const (
	// SWFMaxSeconds is the largest time or duration (about 317 years).
	SWFMaxSeconds = 1e10
	// SWFMaxProcs is the largest processor count.
	SWFMaxProcs = 1e8
	// swfMaxKB is the largest memory per processor (KB; about 1 PB).
	swfMaxKB = 1e12
	// swfMaxNumber is the largest job, user, group, executable, queue
	// or partition number.
	swfMaxNumber = 1e15
)

// swfKind says which values a field takes.
type swfKind int

const (
	swfTime   swfKind = iota // seconds, fractions allowed
	swfProcs                 // processors, an integer
	swfMemory                // KB, fractions allowed
	swfNumber                // an identifier, an integer
)

var swfKinds = [swfNF]swfKind{
	swfNumber, swfTime, swfTime, swfTime, swfProcs,
	swfTime, swfMemory, swfProcs, swfTime,
	swfMemory, swfNumber, swfNumber, swfNumber, swfNumber,
	swfNumber, swfNumber, swfNumber, swfTime,
}

// SWF job statuses.
const (
	swfFailed    = 0
	swfCompleted = 1
	swfPartial   = 2 // a partial execution, continued later
	swfLastOK    = 3 // the last partial execution, the job completed
	swfLastFail  = 4 // the last partial execution, the job failed
	swfCancelled = 5
)

// Param keys of the SWF fields that have no place of their own in Job.
const (
	ParamExecutable = "executable"    // executable (application) number
	ParamPartition  = "partition"     // partition number
	ParamPreceding  = "preceding_job" // preceding job number
	ParamThinkTime  = "think_time"    // think time from the preceding job (s)
	ParamGroup      = "group"         // group id
	ParamCPUTime    = "cpu_time"      // average CPU time used per processor (s)
	ParamUsedMemory = "used_memory"   // used memory per processor (KB)
)

// PartialExecution is the name of the event that records one partial
// execution of a checkpointed or swapped SWF job: T is its start;
// Context holds "end" (float64 s, absent when unknown), "procs" (int,
// its allocated processors, absent when unknown) and "status"
// ("continued", "completed" or "failed").
const PartialExecution = "partial-execution"

func init() {
	register(&Format{
		Name:   "swf",
		Doc:    "Standard Workload Format of the Parallel Workloads Archive (18 fields a job, ';' header comments)",
		Detect: detectSWF,
		Read:   readSWF,
		Write:  WriteSWF,
		Ext:    ".swf",
	})
}

// detectSWF: the first line that is not a comment has 18 numeric fields;
// a head of comments only (a long header) names SWF header keys.
func detectSWF(head []byte, _ []string) bool {
	known := false
	for len(head) > 0 {
		line, rest, complete := bytes.Cut(head, []byte{'\n'})
		head = rest
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0:
			continue
		case line[0] == ';':
			if k, _, ok := swfHeaderLine(line); ok && swfKnownKeys[k] {
				known = true
			}
			continue
		}
		var f [swfNF][]byte
		n := swfSplit(line, &f)
		if n != swfNF {
			// A line cut at the end of the head says nothing.
			return !complete && known
		}
		for _, v := range f {
			if _, ok := swfNum(v); !ok {
				return false
			}
		}
		return true
	}
	return known
}

// swfKnownKeys are the header keys the SWF definition names.
var swfKnownKeys = map[string]bool{
	"Version": true, "Computer": true, "Installation": true, "Acknowledge": true,
	"Information": true, "Conversion": true, "MaxJobs": true, "MaxRecords": true,
	"Preemption": true, "UnixStartTime": true, "TimeZone": true, "TimeZoneString": true,
	"StartTime": true, "EndTime": true, "MaxNodes": true, "MaxProcs": true,
	"MaxRuntime": true, "MaxMemory": true, "AllowOveruse": true, "MaxQueues": true,
	"Queues": true, "Queue": true, "MaxPartitions": true, "Partitions": true,
	"Partition": true, "Note": true,
}

// swfHeaderLine splits a comment line "; Key: value" into its key and
// value; ok is false for a line of no key (a continuation of the
// previous one, or a plain comment).
func swfHeaderLine(line []byte) (key, value string, ok bool) {
	s := bytes.TrimLeft(line[1:], " \t")
	i := 0
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '_')) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' {
		return "", "", false
	}
	return string(s[:i]), string(bytes.TrimSpace(s[i+1:])), true
}

// swfSplit splits a line into its whitespace-separated fields (at most
// swfNF kept) and returns how many there are.
func swfSplit(line []byte, f *[swfNF][]byte) int {
	n := 0
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if n < swfNF {
			f[n] = line[i:j]
		}
		n++
		i = j
	}
	return n
}

// swfNum parses a field: an integer (the usual case, without
// allocating) or a decimal number; NaN and infinities are not numbers.
func swfNum(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	d := b
	if neg || b[0] == '+' {
		d = b[1:]
	}
	if len(d) > 0 && len(d) <= 15 {
		var v int64
		ok := true
		for _, c := range d {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			if neg {
				v = -v
			}
			return float64(v), true
		}
	}
	for _, c := range d {
		// Only digits, a point and an exponent: no "NaN", "Inf", hex.
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+') {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !isRangeErr(err) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// swfReader is the state of one SWF file being read.
type swfReader struct {
	in       *Input
	t        *Trace
	maxProcs float64 // the MaxProcs header, 0 when none
	lastKey  string  // the header key a continuation line adds to
	// partialOnly are the jobs made from partial-execution lines whose
	// summary line has not come (yet).
	partialOnly map[*Job]bool
	// before are the jobs the trace held before this file.
	before map[string]bool
}

func readSWF(in *Input, t *Trace) error {
	r := &swfReader{in: in, t: t}
	t.Relative = true
	if t.Header == nil {
		t.Header = map[string]string{}
	}
	if len(t.Jobs) > 0 {
		r.before = map[string]bool{}
		for _, j := range t.Jobs {
			r.before[j.ID] = true
		}
	}
	err := in.Lines(func(line []byte, n int) error {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			return nil
		}
		if line[0] == ';' {
			return r.header(line, n)
		}
		return r.job(line, n)
	})
	if err != nil {
		return err
	}
	for j := range r.partialOnly {
		t.Note("swf-partial-no-summary", "job "+j.ID,
			"partial executions (status 2, 3, 4) without a summary line: the job made from them (start of the first, end of the last)")
	}
	return nil
}

// header keeps a header comment in t.Header by its key (repeated keys,
// such as Note, and continuation lines joined by newlines; comments of
// no key before the first keyed one under SWFComment).
func (r *swfReader) header(line []byte, n int) error {
	key, value, ok := swfHeaderLine(line)
	if !ok {
		text := string(bytes.TrimSpace(line[1:]))
		switch {
		case text == "":
		case r.lastKey == "":
			// A comment of no key, before any keyed one.
			r.addHeader(SWFComment, text)
		default:
			r.t.Header[r.lastKey] += "\n" + text
		}
		return nil
	}
	r.lastKey = key
	r.addHeader(key, value)
	switch key {
	case "UnixStartTime":
		v, ok := swfNum([]byte(value))
		if !ok || v < 0 || v > SWFMaxSeconds {
			return r.in.Errorf(n, key, "not a Unix time from 0 to %g: %s", float64(SWFMaxSeconds), quote(value))
		}
		if !Known(r.t.Start) {
			r.t.Start = v
		} else if r.t.Start != v {
			r.t.Note("swf-start-differs", r.in.Name, "files of another UnixStartTime: the times of each are relative to its own start; the first file's start kept (%s)", fmtSec(r.t.Start))
		}
	case "MaxProcs", "MaxNodes":
		v, ok := swfNum([]byte(value))
		if !ok || v < 1 || v > SWFMaxProcs || v != math.Trunc(v) {
			return r.in.Errorf(n, key, "not a count from 1 to %g: %s", float64(SWFMaxProcs), quote(value))
		}
		if key == "MaxProcs" {
			r.maxProcs = v
		}
	}
	return nil
}

// SWFComment is the Header key of the comment lines of no key that come
// before any keyed one (joined by newlines).
const SWFComment = "Comment"

// addHeader adds a value to a header key: a repeated key (Note) keeps
// each distinct value, joined by newlines.
func (r *swfReader) addHeader(key, value string) {
	if old, seen := r.t.Header[key]; seen && old != value {
		r.t.Header[key] = old + "\n" + value
	} else {
		r.t.Header[key] = value
	}
}

// job reads one job line.
func (r *swfReader) job(line []byte, n int) error {
	r.lastKey = ""
	var f [swfNF][]byte
	if nf := swfSplit(line, &f); nf != swfNF {
		return r.in.Errorf(n, "", "%d fields where SWF has 18 (is it an SWF file?)", nf)
	}
	var v [swfNF]float64
	for i, b := range f {
		x, ok := swfNum(b)
		if !ok {
			return r.in.Errorf(n, swfFields[i], "not a number: %s", quote(string(b)))
		}
		if x < 0 && x != -1 {
			return r.in.Errorf(n, swfFields[i], "%s is negative (SWF writes -1 for unknown)", quote(string(b)))
		}
		if x >= 0 {
			var limit float64
			switch swfKinds[i] {
			case swfTime:
				limit = SWFMaxSeconds
			case swfProcs:
				limit = SWFMaxProcs
			case swfMemory:
				limit = swfMaxKB
			case swfNumber:
				limit = swfMaxNumber
			}
			if x > limit {
				return r.in.Errorf(n, swfFields[i], "%s is beyond %g", quote(string(b)), limit)
			}
			if (swfKinds[i] == swfProcs || swfKinds[i] == swfNumber) && x != math.Trunc(x) {
				return r.in.Errorf(n, swfFields[i], "%s is not a whole number", quote(string(b)))
			}
		}
		v[i] = x
	}
	if v[swfJob] < 0 {
		return r.in.Errorf(n, swfFields[swfJob], "unknown (-1): every job needs its number")
	}
	status := int(v[swfStatus])
	switch status {
	case -1, swfFailed, swfCompleted, swfCancelled:
	case swfPartial, swfLastOK, swfLastFail:
		return r.partial(&v, n)
	default:
		return r.in.Errorf(n, swfFields[swfStatus], "%d is not an SWF status (0 failed, 1 completed, 2/3/4 a partial execution, 5 cancelled, -1 unknown)", status)
	}
	id := strconv.FormatInt(int64(v[swfJob]), 10)
	j, added := r.t.Job(id)
	if !added {
		if !r.partialOnly[j] {
			if r.before[id] {
				return r.in.Errorf(n, swfFields[swfJob], "job %s is already in the trace (read from an earlier file)", id)
			}
			return r.in.Errorf(n, swfFields[swfJob], "job %s appears twice (first at line %d)", id, j.Line)
		}
		delete(r.partialOnly, j)
	}
	r.fill(j, &v, n, true)
	return nil
}

// known returns the value, or NaN for -1.
func known(x float64) float64 {
	if x < 0 {
		return NaN
	}
	return x
}

// fill sets a job from its summary line.
func (r *swfReader) fill(j *Job, v *[swfNF]float64, n int, notes bool) {
	t := r.t
	j.Kind = "SWF"
	j.Line = n
	j.Submit = known(v[swfSubmit])
	wait, run := known(v[swfWait]), known(v[swfRun])
	j.Start, j.End, j.RunTime = NaN, NaN, NaN
	if Known(j.Submit) && Known(wait) {
		j.Start = j.Submit + wait
		if Known(run) {
			j.End = j.Start + run
		}
	} else if Known(run) {
		j.RunTime = run
	}
	status := int(v[swfStatus])
	switch status {
	case swfCompleted:
		j.Status = "completed"
	case swfFailed:
		j.Status = "failed"
	case swfCancelled:
		j.Status = "cancelled"
	default:
		j.Status = ""
	}
	if v[swfAlloc] > 0 {
		j.Procs = int(v[swfAlloc])
	}
	switch {
	case v[swfReqProcs] > 0:
		j.Tasks = int(v[swfReqProcs])
	case v[swfAlloc] > 0:
		j.Tasks = j.Procs
		if notes {
			t.Note("swf-request-from-alloc", "job "+j.ID, "requested processors unknown: the allocated processors taken as the request")
		}
	case notes:
		t.Note("swf-no-size", "job "+j.ID, "neither requested nor allocated processors known: the job has no size and cannot be replayed")
	}
	if v[swfReqTime] > 0 {
		j.Walltime = v[swfReqTime]
	}
	if v[swfReqMem] > 0 {
		j.MemoryPerTask = int64(math.Round(v[swfReqMem] * 1024))
	}
	if v[swfUser] >= 0 {
		j.User = strconv.FormatInt(int64(v[swfUser]), 10)
	}
	if v[swfQueue] >= 0 {
		j.Queue = strconv.FormatInt(int64(v[swfQueue]), 10)
	}
	for _, p := range [...]struct {
		key string
		i   int
	}{{ParamExecutable, swfExec}, {ParamPartition, swfPartition}, {ParamPreceding, swfPreceding},
		{ParamThinkTime, swfThink}, {ParamGroup, swfGroup}, {ParamCPUTime, swfCPU}, {ParamUsedMemory, swfUsedMem}} {
		if v[p.i] >= 0 {
			if j.Params == nil {
				j.Params = map[string]string{}
			}
			j.Params[p.key] = strconv.FormatFloat(v[p.i], 'f', -1, 64)
		}
	}

	if !notes {
		return
	}
	neverRan := status == swfCancelled && (run <= 0 || !Known(run))
	switch {
	case neverRan:
		t.Note("swf-cancelled-unrun", "job "+j.ID, "cancelled before they ran (status 5, run time 0 or unknown): kept as cancelled jobs that used no time")
	case !Known(j.Submit):
		t.Note("swf-no-submit", "job "+j.ID, "submit time unknown (-1): no arrival, they cannot be replayed")
	case !Known(run):
		t.Note("swf-no-runtime", "job "+j.ID, "run time unknown (-1): no end, they cannot be replayed as recorded")
	case !Known(wait):
		t.Note("swf-no-wait", "job "+j.ID, "wait time unknown (-1): no recorded start, the run time kept; they can be re-scheduled but not compared with a recorded start")
	}
	if r.maxProcs > 0 && float64(j.Tasks) > r.maxProcs {
		t.Note("swf-over-maxprocs", "job "+j.ID, "requesting more processors than MaxProcs (%g): they cannot run on the recorded machine", r.maxProcs)
	}
}

// partial records a partial-execution line (status 2, 3, 4) as an event
// of its job.
func (r *swfReader) partial(v *[swfNF]float64, n int) error {
	id := strconv.FormatInt(int64(v[swfJob]), 10)
	j, added := r.t.Job(id)
	if added {
		if r.partialOnly == nil {
			r.partialOnly = map[*Job]bool{}
		}
		r.partialOnly[j] = true
		r.fill(j, v, n, false)
		j.Status, j.Start, j.End, j.RunTime = "", NaN, NaN, NaN
	} else if r.before[id] {
		return r.in.Errorf(n, swfFields[swfJob], "job %s is already in the trace (read from an earlier file)", id)
	}
	submit, wait, run := known(v[swfSubmit]), known(v[swfWait]), known(v[swfRun])
	start := submit + wait
	ctx := map[string]any{}
	if Known(start) && Known(run) {
		ctx["end"] = start + run
	}
	if v[swfAlloc] > 0 {
		ctx["procs"] = int(v[swfAlloc])
	}
	switch int(v[swfStatus]) {
	case swfPartial:
		ctx["status"] = "continued"
	case swfLastOK:
		ctx["status"] = "completed"
	case swfLastFail:
		ctx["status"] = "failed"
	}
	j.Events = append(j.Events, Event{T: start, Name: PartialExecution, Context: ctx})
	r.t.Note("swf-partial", "job "+j.ID+" line "+strconv.Itoa(n), "partial executions of checkpointed or swapped jobs (status 2, 3, 4): recorded as %q events of the job, whose summary line gives its times", PartialExecution)
	if r.partialOnly[j] {
		// No summary (yet): the job spans its partial executions.
		if Known(submit) && (!Known(j.Submit) || submit < j.Submit) {
			j.Submit = submit
		}
		if !Known(j.Start) || Known(start) && start < j.Start {
			j.Start = start
		}
		if end, ok := ctx["end"].(float64); ok && (!Known(j.End) || end > j.End) {
			j.End = end
		}
		if s := ctx["status"].(string); s != "continued" {
			j.Status = s
		}
	}
	return nil
}

// fmtSec formats seconds for a message or a file: whole seconds without
// a fraction, else to the microsecond.
func fmtSec(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// swfField formats a field for a file.
func swfField(v float64) string {
	if !Known(v) {
		return "-1"
	}
	return fmtSec(v)
}
