package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The Flux eventlogs (RFC 18 format: one JSON object a line, with
// timestamp, name and an optional context):
//
//   - flux-eventlog, the main job eventlog of RFC 21 (flux job eventlog
//     --format=json, the KVS key job.<id>.eventlog): submit, validate,
//     depend, priority, alloc, start, finish, release, free, clean, with
//     exception, memo, urgency, dependency-*, prolog-* and epilog-* where
//     they happened;
//   - flux-exec-eventlog, the exec system's eventlog (flux job info <id>
//     guest.exec.eventlog): init, starting, shell.init, shell.start,
//     shell.task-exit, complete, done.
//
// A job's Submit, Alloc, Start and End are the times of its submit,
// alloc, start and finish events (End is the fatal exception's time for a
// job that never started: cancelled while pending); Status is flux jobs'
// result: the first fatal (severity 0) exception's type (cancel:
// cancelled, timeout: timeout, any other: failed), else completed when
// finish's wait status is 0, failed when not; pending or running (with a
// note) when the log stops before. ExitCode is flux jobs' returncode: the
// exit code of finish's wait status, or minus the signal that ended the
// job shell (Params flux.signal), -128 for a job cancelled before it ran,
// 1 for one failed before it ran. Events are every entry, checked in
// order: timestamps never go back, submit comes first and once, start
// needs alloc, finish needs start, nothing follows clean; a name RFC 21
// does not list is kept, with a note.
//
// One file holds one job, whose id is the file's name (job.<id>.eventlog,
// ƒ2Ab5.eventlog, 12345.eventlog: see fxFileJobID) unless the submit
// context carries an "id" (converge's writer adds it, so that a
// concatenation keeps its jobs' ids; the reader takes it out of the
// context). A concatenation of several eventlogs, each starting with
// submit (init), gives one job each, numbered "<name>#1", "#2", ...

func init() {
	register(&Format{
		Name:   "flux-eventlog",
		Doc:    "Flux main job eventlog (RFC 21), JSON lines; one job a file or a concatenation",
		Detect: func(head []byte, _ []string) bool { return fxFirstEventName(head) == "submit" },
		Read:   readFluxEventlog,
		Write:  writeFluxEventlog,
		Ext:    ".eventlog",
	})
	register(&Format{
		Name:   "flux-exec-eventlog",
		Doc:    "Flux exec eventlog (guest.exec.eventlog: init, shell.start, complete, done), JSON lines",
		Detect: func(head []byte, _ []string) bool { return fxFirstEventName(head) == "init" },
		Read:   readFluxExecEventlog,
		Ext:    ".eventlog",
	})
}

// fxFirstEventName is the name of the event on the first line of head, or
// "" when that line is not an RFC 18 event.
func fxFirstEventName(head []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimLeft(head, " \t\r\n"), []byte("\n"))
	var ev struct {
		Timestamp *json.Number `json:"timestamp"`
		Name      string       `json:"name"`
	}
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Timestamp == nil {
		return ""
	}
	return ev.Name
}

// fxMainEvents are the event names of RFC 21.
var fxMainEvents = []string{
	"submit", "jobspec-update", "resource-update", "validate", "invalidate", "set-flags",
	"dependency-add", "dependency-remove", "depend", "priority", "flux-restart", "urgency",
	"alloc", "prolog-start", "prolog-finish", "epilog-start", "epilog-finish", "free", "start",
	"release", "finish", "clean", "exception", "memo",
}

// fxExecEvents are the event names of the exec eventlog.
var fxExecEvents = []string{"init", "starting", "shell.init", "shell.start", "shell.task-exit", "complete", "done"}

// fxEachEvent calls fn with each event of an eventlog and its line
// number; blank lines are skipped.
func fxEachEvent(in *Input, fn func(ev Event, n int) error) error {
	return in.Lines(func(line []byte, n int) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		ev, err := fxParseEvent(in, line, n)
		if err != nil {
			return err
		}
		return fn(ev, n)
	})
}

// fxNewJob is a new Flux job read at line.
func fxNewJob(id string, line int) *Job {
	j := NewJob(id)
	j.Kind, j.Scheduler, j.Line = fluxKind, "flux", line
	return j
}

// fxParseEvent decodes one eventlog line.
func fxParseEvent(in *Input, line []byte, n int) (Event, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return Event{}, in.Errorf(n, "", "not a JSON event object: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return Event{}, in.Errorf(n, "", "more than one JSON value on the line")
	}
	if m == nil {
		return Event{}, in.Errorf(n, "", "null where an event object is expected")
	}
	return fxEventFrom(&fxFields{in: in, line: n}, m)
}

// fxEventFrom checks a decoded event object.
func fxEventFrom(f *fxFields, m map[string]any) (Event, error) {
	ts, ok := f.num(m, "timestamp", 0, fxMaxEpoch)
	if f.err != nil {
		return Event{}, f.err
	}
	if !ok || ts == 0 {
		f.fail("timestamp", "missing (an event needs a timestamp)")
		return Event{}, f.err
	}
	name, err := fxEventName(m["name"])
	if err != nil {
		f.fail("name", "%v", err)
		return Event{}, f.err
	}
	ctx := f.obj(m, "context")
	if f.err != nil {
		return Event{}, f.err
	}
	return Event{T: ts, Name: name, Context: ctx}, nil
}

// fxMainLog follows one job's main eventlog through RFC 21's states.
type fxMainLog struct {
	job       *Job
	idSet     bool // the id came from the submit context
	seen      map[string]bool
	last      float64
	finish    int64 // wait status of finish
	fatal     string
	fatalT    float64
	fatalNote string
	lines     int
}

// event adds one event of the job's eventlog, checking it may come now.
func (l *fxMainLog) event(in *Input, t *Trace, ev Event, n int) error {
	f := &fxFields{in: in, line: n, prefix: "context"}
	if ev.T < l.last {
		return in.Errorf(n, "timestamp", "%s goes back in time (%s before the previous event's %s)", ev.Name, fxTime(ev.T), fxTime(l.last))
	}
	l.last = ev.T
	if l.seen["clean"] {
		return in.Errorf(n, "name", "%s after clean (the job is inactive)", ev.Name)
	}
	need := func(before string) error {
		if !l.seen[before] {
			return in.Errorf(n, "name", "%s without a %s before it", ev.Name, before)
		}
		return nil
	}
	once := func() error {
		if l.seen[ev.Name] {
			return in.Errorf(n, "name", "a second %s", ev.Name)
		}
		return nil
	}
	j := l.job
	var err error
	switch ev.Name {
	case "submit":
		return in.Errorf(n, "name", "a second submit inside one job's eventlog")
	case "validate", "invalidate", "depend", "priority":
		err = once()
	case "alloc":
		if err = once(); err == nil {
			j.Alloc = ev.T
			for k, v := range f.obj(ev.Context, "annotations") {
				if s, ok := fxScalarText(v); ok && strings.HasPrefix(k, "sched.") {
					fxSetParam(j, k, s)
				}
			}
		}
	case "start":
		if err = once(); err == nil {
			err = need("alloc")
			j.Start = ev.T
		}
	case "finish":
		if err = once(); err == nil {
			if err = need("start"); err == nil {
				st, ok := f.fxInteger(ev.Context, "status", 0, 0xffff)
				if !ok && f.err == nil {
					f.fail("status", "missing (finish needs the wait status)")
				}
				l.finish = st
				j.End = ev.T
			}
		}
	case "free":
		if err = once(); err == nil {
			err = need("alloc")
		}
	case "release":
		err = need("alloc")
	case "clean":
		err = once()
	case "exception":
		typ := f.str(ev.Context, "type")
		sev, ok := f.fxInteger(ev.Context, "severity", 0, 7)
		if f.err == nil && (typ == "" || !ok) {
			f.fail("", "an exception needs a type and a severity")
		}
		if f.err == nil && sev == 0 && l.fatal == "" {
			l.fatal, l.fatalT, l.fatalNote = typ, ev.T, f.str(ev.Context, "note")
		}
	case "jobspec-update":
		if d, ok := f.num(ev.Context, "attributes.system.duration", 0, fxMaxEpoch); ok {
			j.Walltime = d
		}
	default:
		if !slices.Contains(fxMainEvents, ev.Name) && !strings.HasPrefix(ev.Name, "debug.") {
			t.Note("flux-eventlog-unknown", ev.Name, "events of names RFC 21 does not list were kept in the job's events as they are")
		}
	}
	if err != nil {
		return err
	}
	if f.err != nil {
		return f.err
	}
	l.seen[ev.Name] = true
	j.Events = append(j.Events, ev)
	return nil
}

// done sets the job's status from its eventlog, as flux jobs would
// report it (its result and return code).
func (l *fxMainLog) done(t *Trace) {
	j := l.job
	code, sig := fxWaitStatus(l.finish)
	switch {
	case l.fatal != "":
		switch l.fatal {
		case "cancel":
			j.Status = "cancelled"
		case "timeout", "timelimit":
			j.Status = "timeout"
		default:
			j.Status = "failed"
		}
		fxSetParam(j, "flux.exception.type", l.fatal)
		if l.fatalNote != "" {
			fxSetParam(j, "flux.exception.note", l.fatalNote)
		}
		if !Known(j.End) && !l.seen["start"] {
			j.End = l.fatalT
		}
	case l.seen["finish"]:
		j.Status = "completed"
		if l.finish != 0 {
			j.Status = "failed"
		}
	case l.seen["invalidate"]:
		j.Status = "failed"
	case l.seen["clean"]:
		t.Note("flux-eventlog-noresult", j.ID, "jobs cleaned up with neither a finish nor a fatal exception: status not recorded")
	case l.seen["start"] || l.seen["alloc"]:
		j.Status = "running"
		t.Note("flux-eventlog-running", j.ID, "jobs still running when the eventlog was saved (no finish): no end time")
	default:
		j.Status = "pending"
		t.Note("flux-eventlog-pending", j.ID, "jobs still pending when the eventlog was saved (no alloc): no start or end time")
	}
	switch {
	case l.seen["finish"] && sig != 0:
		j.ExitCode = -sig
		fxSetParam(j, "flux.signal", strconv.Itoa(sig))
	case l.seen["finish"]:
		j.ExitCode = code
	case j.Status == "cancelled":
		j.ExitCode = -128 // flux jobs' return code of a job cancelled before it ran
	case j.Status == "failed" || j.Status == "timeout":
		j.ExitCode = 1 // flux jobs' return code of a job failed before it ran
	}
}

// readFluxEventlog reads main job eventlogs.
func readFluxEventlog(in *Input, t *Trace) error {
	var logs []*fxMainLog
	var cur *fxMainLog
	err := fxEachEvent(in, func(ev Event, n int) error {
		if ev.Name == "submit" {
			if len(logs) >= MaxRecords {
				return in.Errorf(n, "", "more than %d jobs", MaxRecords)
			}
			j := fxNewJob("", n)
			j.Submit = ev.T
			cur = &fxMainLog{job: j, seen: map[string]bool{"submit": true}, last: ev.T}
			f := &fxFields{in: in, line: n, prefix: "context"}
			if uid, ok := f.fxInteger(ev.Context, "userid", 0, 1<<32-1); ok {
				j.User = strconv.FormatInt(uid, 10)
			}
			if id := f.str(ev.Context, "id"); id != "" {
				j.ID, cur.idSet = id, true
				ctx := make(map[string]any, len(ev.Context))
				for k, v := range ev.Context {
					if k != "id" {
						ctx[k] = v
					}
				}
				ev.Context = ctx
			}
			if f.err != nil {
				return f.err
			}
			j.Events = append(j.Events, ev)
			logs = append(logs, cur)
			return nil
		}
		if cur == nil {
			return in.Errorf(n, "name", "the eventlog starts with %s, not submit (RFC 21: submit is a job's first event)", quote(ev.Name))
		}
		return cur.event(in, t, ev, n)
	})
	if err != nil {
		return err
	}
	if cur == nil {
		return in.Errorf(0, "", "no events (an empty eventlog)")
	}
	jobs, named := fxJobsOf(logs, func(l *fxMainLog) (*Job, bool) { return l.job, l.idSet })
	fxNameJobs(in, jobs, named)
	for _, l := range logs {
		l.done(t)
	}
	return fxAddJobs(in, t, jobs)
}

func fxJobsOf[L any](logs []L, f func(L) (*Job, bool)) (jobs []*Job, named []bool) {
	for _, l := range logs {
		j, ok := f(l)
		jobs = append(jobs, j)
		named = append(named, ok)
	}
	return jobs, named
}

// fxNameJobs names the jobs of a file that the file did not name from
// the file: the file's name for one job, "<name>#<i>" for the i-th of
// several.
func fxNameJobs(in *Input, jobs []*Job, named []bool) {
	stem := fxFileJobID(in.Name)
	for i, j := range jobs {
		if !named[i] {
			j.ID = stem
			if len(jobs) > 1 {
				j.ID = stem + "#" + strconv.Itoa(i+1)
			}
		}
	}
}

// fxAddJobs adds a file's jobs to the trace.
func fxAddJobs(in *Input, t *Trace, jobs []*Job) error {
	for _, j := range jobs {
		tj, added := t.Job(j.ID)
		if !added {
			return in.Errorf(j.Line, "", "job %s is already in the trace (read twice?)", quote(j.ID))
		}
		*tj = *j
	}
	return nil
}

// fxExecLog follows one job's exec eventlog.
type fxExecLog struct {
	job      *Job
	seen     map[string]bool
	last     float64
	status   int64
	tasks    int64 // from the taskmap, -1 when none
	size     int64 // shells, from shell.init, -1 when none
	starting float64
}

func fxNewExecLog(j *Job) *fxExecLog {
	return &fxExecLog{job: j, seen: map[string]bool{}, tasks: -1, size: -1, starting: NaN}
}

// fxMaxTasks bounds a job's tasks.
const fxMaxTasks = 100_000_000

// event adds one event of the exec eventlog; f names the file, line and
// field prefix of its errors.
func (x *fxExecLog) event(t *Trace, f *fxFields, ev Event) error {
	in, n := f.in, f.line
	if len(x.seen) == 0 && ev.Name != "init" {
		return in.Errorf(n, f.path("name"), "the exec eventlog starts with %s, not init", quote(ev.Name))
	}
	if ev.T < x.last {
		return in.Errorf(n, f.path("timestamp"), "%s goes back in time (%s before the previous event's %s)", ev.Name, fxTime(ev.T), fxTime(x.last))
	}
	x.last = ev.T
	if x.seen["done"] {
		return in.Errorf(n, f.path("name"), "%s after done", ev.Name)
	}
	if (ev.Name == "init" || ev.Name == "starting" || ev.Name == "shell.init" || ev.Name == "shell.start" || ev.Name == "complete") && x.seen[ev.Name] {
		return in.Errorf(n, f.path("name"), "a second %s", ev.Name)
	}
	j := x.job
	cf := &fxFields{in: in, line: n, prefix: f.path("context")}
	switch ev.Name {
	case "starting":
		x.starting = ev.T
	case "shell.init":
		if size, ok := cf.fxInteger(ev.Context, "size", 1, MaxCount); ok {
			x.size = size
		}
	case "shell.start":
		if !x.seen["shell.init"] && !x.seen["starting"] {
			return in.Errorf(n, f.path("name"), "shell.start before starting and shell.init")
		}
		j.Start = ev.T
		if tm := cf.obj(ev.Context, "taskmap"); tm != nil {
			x.tasks = fxTaskmapTasks(cf, tm)
		}
	case "complete":
		st, ok := cf.fxInteger(ev.Context, "status", 0, 0xffff)
		if !ok && cf.err == nil {
			cf.fail("status", "missing (complete needs the wait status)")
		}
		x.status = st
		j.End = ev.T
	case "init", "shell.task-exit", "done":
	default:
		if !strings.HasPrefix(ev.Name, "shell.") {
			t.Note("flux-exec-unknown", ev.Name, "exec eventlog events of unlisted names were kept in the job's events as they are")
		}
	}
	if cf.err != nil {
		return cf.err
	}
	x.seen[ev.Name] = true
	j.Events = append(j.Events, ev)
	return nil
}

// fxTaskmapTasks counts the tasks of an RFC 34 taskmap ({"version": 1,
// "map": [[nodeid, nnodes, ppn, repeat], ...]}).
func fxTaskmapTasks(f *fxFields, tm map[string]any) int64 {
	if v, ok := f.fxInteger(tm, "version", 1, 1); !ok && f.err == nil {
		f.fail("taskmap.version", "missing (taskmap version 1 expected)")
	} else if v != 1 {
		return -1
	}
	var total int64
	for i, b := range f.list(tm, "map") {
		blk, ok := b.([]any)
		if !ok || len(blk) != 4 {
			f.fail(fmt.Sprintf("taskmap.map[%d]", i), "a block is [nodeid, nnodes, ppn, repeat]")
			return -1
		}
		var v [4]int64
		for k := range blk {
			x, err := fxInteger(blk[k])
			if err == nil && (x < 0 || x > MaxCount || (k > 0 && x == 0)) {
				err = fmt.Errorf("%d is out of range", x)
			}
			if err != nil {
				f.fail(fmt.Sprintf("taskmap.map[%d][%d]", i, k), "%v", err)
				return -1
			}
			v[k] = x
		}
		total += v[1] * v[2] * v[3]
		if total > fxMaxTasks {
			f.fail("taskmap.map", "more than %d tasks", fxMaxTasks)
			return -1
		}
	}
	return total
}

// done sets the job from its exec eventlog.
func (x *fxExecLog) done(t *Trace) {
	j := x.job
	if !Known(j.Start) {
		j.Start = x.starting
	}
	if j.Nodes == 0 && x.size > 0 {
		j.Nodes = int(x.size)
	}
	if x.tasks > 0 {
		if j.Tasks == 0 {
			j.Tasks = int(x.tasks)
		} else if int64(j.Tasks) != x.tasks {
			t.Note("flux-exec-taskmap", j.ID, "jobs whose taskmap placed another number of tasks than the jobspec asked: the jobspec's count kept")
		}
	}
	if x.seen["complete"] {
		code, sig := fxWaitStatus(x.status)
		j.Status, j.ExitCode = "completed", code
		if x.status != 0 {
			j.Status = "failed"
		}
		if sig != 0 {
			j.ExitCode = -sig
			fxSetParam(j, "flux.signal", strconv.Itoa(sig))
		}
	} else {
		j.Status = "running"
		t.Note("flux-exec-running", j.ID, "jobs whose exec eventlog has no complete (still running when saved): no end time")
	}
}

// readFluxExecEventlog reads exec eventlogs.
func readFluxExecEventlog(in *Input, t *Trace) error {
	var logs []*fxExecLog
	var cur *fxExecLog
	err := fxEachEvent(in, func(ev Event, n int) error {
		if ev.Name == "init" || cur == nil {
			if len(logs) >= MaxRecords {
				return in.Errorf(n, "", "more than %d jobs", MaxRecords)
			}
			cur = fxNewExecLog(fxNewJob("", n))
			logs = append(logs, cur)
		}
		return cur.event(t, &fxFields{in: in, line: n}, ev)
	})
	if err != nil {
		return err
	}
	if cur == nil {
		return in.Errorf(0, "", "no events (an empty eventlog)")
	}
	jobs, named := fxJobsOf(logs, func(l *fxExecLog) (*Job, bool) { return l.job, false })
	fxNameJobs(in, jobs, named)
	for _, l := range logs {
		l.done(t)
	}
	t.Note("flux-exec-submit", in.Name, "an exec eventlog records the job's run only: its submit and alloc times are unknown")
	return fxAddJobs(in, t, jobs)
}

// writeFluxEventlog writes every job with a submit time as its RFC 21
// main eventlog, one after another in submit order (ties in the trace's
// order). A job read from a main eventlog (its events start with submit)
// is written with its own events; any other is given the events its
// times say: submit, validate, depend, priority at Submit; alloc at
// Alloc (Start when unknown); start at Start; when it ended, an
// exception (severity 0: cancel for a cancelled job, timeout for one
// that timed out) and finish (its wait status from ExitCode) at End,
// then release, free and clean. A job not yet allocated stops after
// priority, a running one after start. The submit context carries the
// fxJob's id ("id"), so that reading the concatenation back keeps the ids.
func writeFluxEventlog(w io.Writer, t *Trace) error {
	var jobs []*Job
	for _, j := range t.Jobs {
		if Known(j.Submit) {
			jobs = append(jobs, j)
		}
	}
	slices.SortStableFunc(jobs, func(a, b *Job) int {
		switch {
		case a.Submit < b.Submit:
			return -1
		case a.Submit > b.Submit:
			return 1
		}
		return 0
	})
	enc := json.NewEncoder(w)
	off := fluxEpoch(t)
	for _, j := range jobs {
		events := j.Events
		if len(events) == 0 || events[0].Name != "submit" {
			events = fxSynthEvents(j)
		}
		for i, ev := range events {
			ctx := ev.Context
			if i == 0 {
				ctx = make(map[string]any, len(ev.Context)+1)
				for k, v := range ev.Context {
					ctx[k] = v
				}
				ctx["id"] = j.ID
			}
			if err := fxWriteEvent(enc, ev.T+off, ev.Name, ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// FluxRelativeEpoch is the Unix time (2000-01-01T00:00:00Z) from which
// the Flux writers count a trace of relative times (a simulated run's
// seconds): Flux takes a time of 0 for unset, so a job submitted at the
// run's start could not be written as it is.
const FluxRelativeEpoch = 946684800

// fluxEpoch is what the Flux writers add to t's times: FluxRelativeEpoch
// for relative times, else nothing.
func fluxEpoch(t *Trace) float64 {
	if t.Relative {
		return FluxRelativeEpoch
	}
	return 0
}

// fxWriteEvent writes one RFC 18 event line, its keys in RFC order.
func fxWriteEvent(enc *json.Encoder, ts float64, name string, ctx map[string]any) error {
	type event struct {
		Timestamp json.Number    `json:"timestamp"`
		Name      string         `json:"name"`
		Context   map[string]any `json:"context,omitempty"`
	}
	return enc.Encode(event{fxTime(ts), name, ctx})
}

// fxSynthEvents makes a job's main eventlog from its times.
func fxSynthEvents(j *Job) []Event {
	submit := map[string]any{"urgency": json.Number("16"), "flags": json.Number("0")}
	if uid, err := strconv.ParseUint(j.User, 10, 32); err == nil {
		submit["userid"] = json.Number(strconv.FormatUint(uid, 10))
	}
	ev := []Event{{T: j.Submit, Name: "submit", Context: submit}}
	if j.Walltime > 0 {
		ev = append(ev, Event{T: j.Submit, Name: "jobspec-update", Context: map[string]any{"attributes.system.duration": fxTime(j.Walltime)}})
	}
	ev = append(ev,
		Event{T: j.Submit, Name: "validate"},
		Event{T: j.Submit, Name: "depend"},
		Event{T: j.Submit, Name: "priority", Context: map[string]any{"priority": json.Number("16")}},
	)
	alloc := j.Alloc
	if !Known(alloc) {
		alloc = j.Start
	}
	ended := Known(j.End) && j.Status != "running" && j.Status != "pending"
	exception := func(at float64) {
		typ := ""
		switch j.Status {
		case "cancelled":
			typ = "cancel"
		case "timeout":
			typ = "timeout"
		case "failed":
			if !Known(j.Start) {
				typ = "start"
			}
		}
		if t := j.Params["flux.exception.type"]; t != "" && typ != "" {
			typ = t
		}
		if typ != "" {
			ctx := map[string]any{"type": typ, "severity": json.Number("0")}
			if note := j.Params["flux.exception.note"]; note != "" {
				ctx["note"] = note
			}
			ev = append(ev, Event{T: at, Name: "exception", Context: ctx})
		}
	}
	if !Known(alloc) || alloc < j.Submit {
		if ended {
			exception(max(j.End, j.Submit))
			ev = append(ev, Event{T: max(j.End, j.Submit), Name: "clean"})
		}
		return ev
	}
	ann := map[string]any{}
	for k, v := range j.Params {
		if strings.HasPrefix(k, "sched.") {
			ann[k] = v
		}
	}
	var actx map[string]any
	if len(ann) > 0 {
		actx = map[string]any{"annotations": ann}
	}
	ev = append(ev, Event{T: alloc, Name: "alloc", Context: actx})
	start := j.Start
	if !Known(start) || start < alloc {
		start = alloc
	}
	ev = append(ev, Event{T: start, Name: "start"})
	if !ended || j.End < start {
		return ev
	}
	exception(j.End)
	status := 0
	switch {
	case j.ExitCode > 0:
		status = (j.ExitCode & 0xff) << 8
	case j.ExitCode < 0 && j.ExitCode > -128:
		status = -j.ExitCode
	case j.Status == "failed":
		status = 1 << 8
	case j.Status == "timeout" || j.Status == "cancelled":
		status = 15
	}
	ev = append(ev,
		Event{T: j.End, Name: "finish", Context: map[string]any{"status": json.Number(strconv.Itoa(status))}},
		Event{T: j.End, Name: "release", Context: map[string]any{"ranks": "all", "final": true}},
		Event{T: j.End, Name: "free"},
		Event{T: j.End, Name: "clean"},
	)
	return ev
}
