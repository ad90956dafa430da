package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// flux-jobs is the job listing of flux jobs -a --json (flux-jobs(1)): a
// document {"jobs": [...]} (read item by item), a bare array of jobs, or
// job objects one after another (one a line, or flux jobs --json JOBID's
// single object). Each job holds the fields of flux-jobs(1) that are
// set (unset ones are left out, or "" in older versions): id (an integer,
// or an f58 string kept as written), userid, username, name, queue,
// state (a name, or job-list's bit: NEW 1 ... INACTIVE 64), result
// (COMPLETED, FAILED, CANCELED, TIMEOUT; or job-list's bit), returncode,
// waitstatus, ntasks, ncores, nnodes, ranks, nodelist (a hostlist), the
// state times t_submit, t_depend, t_sched, t_run, t_cleanup, t_inactive,
// expiration, duration (the requested time limit, 0 = none), exception
// {occurred, severity, type, note} and annotations.
//
// Times map as RFC 21's states say: Submit is t_submit; the job enters
// RUN at its alloc event, so Alloc is t_run; the start event (job shells
// started) is not listed, so Start is t_run too, with a note; End is
// t_cleanup (CLEANUP is entered at finish, or at the fatal exception).
// Status is the result of an inactive job, pending or running (with a
// note) for an active one. ExitCode is returncode (negative: the signal
// that ended the job shell; -128: cancelled before it ran; a returncode
// of -1, SIGHUP, reads as the model's "not recorded"). Procs is
// ncores. t_depend, t_sched, t_inactive, expiration, ranks, waitstatus
// and the exception are kept in Params as flux.<field>; scalar
// annotations under sched as sched.<key>.

func init() {
	register(&Format{
		Name:   "flux-jobs",
		Doc:    "Flux job listing, flux jobs -a --json ({\"jobs\": [...]}, an array, or one job object a line)",
		Detect: detectFluxJobs,
		Read:   readFluxJobs,
		Write:  writeFluxJobs,
		Ext:    ".json",
	})
}

func detectFluxJobs(head []byte, keys []string) bool {
	if len(keys) > 0 && keys[0] == "jobs" {
		var probe struct {
			Jobs []map[string]any `json:"jobs"`
		}
		// The first job of the list, when head holds it whole, must be a
		// Flux job; a cut head is taken on its key alone.
		d := json.NewDecoder(bytes.NewReader(head))
		if d.Decode(&probe) == nil && len(probe.Jobs) > 0 {
			_, id := probe.Jobs[0]["id"]
			_, sub := probe.Jobs[0]["t_submit"]
			return id && sub
		}
		return len(keys) == 1 || hasKeys(keys, "jobs")
	}
	return hasKeys(keys, "id", "t_submit") && (hasKeys(keys, "userid") || hasKeys(keys, "state") || hasKeys(keys, "t_run"))
}

// fluxStates are the job states by name and by job-list's bit.
var fluxStates = map[string]int64{"NEW": 1, "DEPEND": 2, "PRIORITY": 4, "SCHED": 8, "RUN": 16, "CLEANUP": 32, "INACTIVE": 64}

// fluxResults are the results by name and bit, with the model's status.
var fluxResults = []struct {
	name   string
	bit    int64
	status string
}{{"COMPLETED", 1, "completed"}, {"FAILED", 2, "failed"}, {"CANCELED", 4, "cancelled"}, {"TIMEOUT", 8, "timeout"}}

func readFluxJobs(in *Input, t *Trace) error {
	head := bytes.TrimLeft(in.Head(sniffSize), " \t\r\n")
	keys := JSONKeys(head)
	hosts := &fxHosts{}
	switch {
	case len(head) > 0 && head[0] == '[':
		s := in.JSON()
		if err := s.Items("", func(i int) error { return fluxJobItem(in, t, hosts, s, fmt.Sprintf("[%d]", i)) }); err != nil {
			return err
		}
		return s.End()
	case len(keys) > 0 && keys[0] == "jobs":
		s := in.JSON()
		if err := s.Delim("", '{'); err != nil {
			return err
		}
		for {
			k, ok, err := s.Key("")
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if k != "jobs" {
				if err := s.Skip(k); err != nil {
					return err
				}
				continue
			}
			if err := s.Items("jobs", func(i int) error { return fluxJobItem(in, t, hosts, s, fmt.Sprintf("jobs[%d]", i)) }); err != nil {
				return err
			}
		}
		return s.End()
	case len(head) > 0 && head[0] == '{' && fxOneObjectLine(head):
		return in.Lines(func(line []byte, n int) error {
			if len(bytes.TrimSpace(line)) == 0 {
				return nil
			}
			d := json.NewDecoder(bytes.NewReader(line))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				return in.Errorf(n, "", "not a JSON job object: %v", err)
			}
			if d.More() {
				return in.Errorf(n, "", "more than one JSON value on the line")
			}
			return fluxJob(in, t, hosts, m, "", n)
		})
	default:
		// Objects one after another, spread over lines.
		s := in.JSON()
		i := 0
		for ; s.Dec.More(); i++ {
			if err := fluxJobItem(in, t, hosts, s, ""); err != nil {
				return err
			}
		}
		if err := s.End(); err != nil {
			return err
		}
		if i == 0 {
			return in.Errorf(0, "", "no jobs")
		}
		return nil
	}
}

// fxOneObjectLine reports that head's first line is a whole JSON object.
func fxOneObjectLine(head []byte) bool {
	line, _, found := bytes.Cut(head, []byte("\n"))
	return found && json.Valid(bytes.TrimSpace(line))
}

// fluxJobItem decodes the next job of an array.
func fluxJobItem(in *Input, t *Trace, hosts *fxHosts, s *JSONStream, path string) error {
	start := s.Offset()
	var m map[string]any
	if err := s.Decode(path, &m); err != nil {
		return err
	}
	if m == nil {
		return in.Errorf(in.ValueLineAt(start), path, "null where a job object is expected")
	}
	if err := fluxJob(in, t, hosts, m, path, 0); err != nil {
		// Again, naming the line where the job starts (found only for an
		// error: it reads the file again).
		return fluxJob(in, t, hosts, m, path, in.ValueLineAt(start))
	}
	return nil
}

// fluxJob adds one job object (read from line ln, 0 when not known).
func fluxJob(in *Input, t *Trace, hosts *fxHosts, m map[string]any, path string, ln int) error {
	f := &fxFields{in: in, line: ln, prefix: path}
	id, err := fluxJobID(m["id"])
	if err != nil {
		f.fail("id", "%v", err)
		return f.err
	}
	j := fxNewJob(id, ln)
	if u := f.str(m, "username"); u != "" {
		j.User = u
	} else if uid, ok := f.fxInteger(m, "userid", 0, 1<<32-1); ok {
		j.User = strconv.FormatInt(uid, 10)
	}
	j.Name = f.str(m, "name")
	j.Queue = f.str(m, "queue")
	j.Submit = f.time(m, "t_submit")
	j.Alloc = f.time(m, "t_run")
	j.Start = j.Alloc
	j.End = f.time(m, "t_cleanup")
	for _, k := range []string{"t_depend", "t_sched", "t_inactive", "expiration"} {
		if v := f.time(m, k); Known(v) {
			fxSetParam(j, "flux."+k, string(fxTime(v)))
		}
	}
	if d, ok := f.num(m, "duration", 0, fxMaxEpoch); ok {
		j.Walltime = d
	}
	if n, ok := f.fxInteger(m, "ntasks", 0, fxMaxTasks); ok {
		j.Tasks = int(n)
	}
	if n, ok := f.fxInteger(m, "ncores", 0, fxMaxTasks); ok {
		j.Procs = int(n)
	}
	if n, ok := f.fxInteger(m, "nnodes", 0, MaxCount); ok {
		j.Nodes = int(n)
	}
	if hl := f.str(m, "nodelist"); hl != "" && f.err == nil {
		names, err := hosts.expand(hl)
		if err != nil {
			f.fail("nodelist", "%v", err)
		} else if j.Nodes > 0 && len(names) != j.Nodes {
			f.fail("nodelist", "%d hosts but nnodes is %d", len(names), j.Nodes)
		}
		j.NodeList = names
	}
	if r := f.str(m, "ranks"); r != "" {
		fxSetParam(j, "flux.ranks", r)
	}
	if rc, ok := f.fxInteger(m, "returncode", -255, 255); ok {
		j.ExitCode = int(rc)
	}
	if ws, ok := f.fxInteger(m, "waitstatus", 0, 0xffff); ok {
		fxSetParam(j, "flux.waitstatus", strconv.FormatInt(ws, 10))
	}
	if ex := f.obj(m, "exception"); ex != nil {
		exf := &fxFields{in: in, line: ln, prefix: f.path("exception")}
		if exf.boolean(ex, "occurred") {
			fxSetParam(j, "flux.exception.type", exf.str(ex, "type"))
			if note := exf.str(ex, "note"); note != "" {
				fxSetParam(j, "flux.exception.note", note)
			}
			if sev, ok := exf.fxInteger(ex, "severity", 0, 7); ok {
				fxSetParam(j, "flux.exception.severity", strconv.FormatInt(sev, 10))
			}
		}
		if exf.err != nil && f.err == nil {
			f.err = exf.err
		}
	}
	if ann := f.obj(m, "annotations"); ann != nil {
		af := &fxFields{in: in, line: ln, prefix: f.path("annotations")}
		for k, v := range af.obj(ann, "sched") {
			if s, ok := fxScalarText(v); ok {
				fxSetParam(j, "sched."+k, s)
			}
		}
		if af.err != nil && f.err == nil {
			f.err = af.err
		}
	}
	state, result := fluxStateResult(f, m)
	if f.err != nil {
		return f.err
	}
	switch {
	case result != "":
		j.Status = result
	case state == "INACTIVE":
		t.Note("flux-jobs-noresult", id, "inactive jobs without a result: status not recorded")
	case state == "RUN" || state == "CLEANUP":
		j.Status = "running"
		t.Note("flux-jobs-running", id, "jobs still running when listed: no end time")
	case state != "":
		j.Status = "pending"
		j.Start, j.Alloc = NaN, NaN
		t.Note("flux-jobs-pending", id, "jobs still pending when listed: no start or end time")
	default:
		t.Note("flux-jobs-nostate", id, "jobs listed without state or result: status not recorded")
	}
	if j.Status == "running" {
		j.End = NaN
	}
	if Known(j.Start) {
		t.Note("flux-jobs-start", id, "flux jobs lists t_run, the entry into RUN at the alloc event, not the start event (job shells started): Alloc and Start are both t_run")
	}
	if j.Nodes > 0 && j.Tasks > 0 && Known(j.Alloc) {
		t.Note("flux-jobs-nnodes", id, "flux jobs lists nnodes from R once a job is allocated, not whether it asked for nodes: such a job is read as asking for those nodes (-N), a replay giving each an even share of its tasks when they divide evenly, else its tasks anywhere (-n); the jobspec (format jobspec or flux-jobspec-events) says what was asked")
	}
	if Known(j.Submit) && Known(j.Start) && j.Start < j.Submit {
		return in.Errorf(ln, f.path("t_run"), "%s is before t_submit %s", fxTime(j.Start), fxTime(j.Submit))
	}
	if Known(j.Start) && Known(j.End) && j.End < j.Start {
		return in.Errorf(ln, f.path("t_cleanup"), "%s is before t_run %s", fxTime(j.End), fxTime(j.Start))
	}
	tj, added := t.Job(id)
	if !added {
		return in.Errorf(ln, f.path("id"), "job %s twice", quote(id))
	}
	*tj = *j
	return nil
}

// fluxJobID returns a job id as written: an integer's digits or an f58
// (or other) string.
func fluxJobID(v any) (string, error) {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseUint(string(x), 10, 64); err != nil {
			return "", fmt.Errorf("%s is not a job id (a non-negative integer or a string)", quote(string(x)))
		}
		return string(x), nil
	case string:
		if x == "" || len(x) > 512 {
			return "", fmt.Errorf("%s is not a job id", quote(x))
		}
		return x, nil
	case nil:
		return "", fmt.Errorf("missing (every job has an id)")
	}
	return "", fmt.Errorf("a %s where a job id is expected", fxKindOf(v))
}

// fluxStateResult reads state and result, names or job-list bits; it
// returns the state's name and the model's status of the result.
func fluxStateResult(f *fxFields, m map[string]any) (state, status string) {
	if v, ok := m["state"]; !fxAbsent(v, ok) {
		switch x := v.(type) {
		case string:
			s := strings.ToUpper(x)
			if _, known := fluxStates[s]; !known {
				f.fail("state", "%s is not a Flux job state", quote(x))
			}
			state = s
		default:
			bit, err := fxInteger(v)
			for name, b := range fluxStates {
				if err == nil && b == bit {
					state = name
				}
			}
			if state == "" {
				f.fail("state", "%s is not a Flux job state", fxValueText(v))
			}
		}
	}
	if v, ok := m["result"]; !fxAbsent(v, ok) {
		bit, err := fxInteger(v)
		name, isStr := v.(string)
		for _, r := range fluxResults {
			if (isStr && strings.EqualFold(name, r.name)) || (!isStr && err == nil && bit == r.bit) {
				status = r.status
			}
		}
		if status == "" {
			f.fail("result", "%s is not a Flux job result (COMPLETED, FAILED, CANCELED, TIMEOUT)", fxValueText(v))
		}
	}
	return state, status
}

// writeFluxJobs writes the trace's jobs as flux jobs -a --json would:
// {"jobs": [...]}, in the trace's order, each with the fields it has
// (unset ones left out, as flux jobs does). state and result come from
// Status (a job with no status and an end is INACTIVE with no result),
// t_run from Alloc (Start when unknown), t_cleanup from End,
// t_depend, t_sched, t_inactive and expiration from Params, the nodelist
// compressed to a hostlist.
func writeFluxJobs(w io.Writer, t *Trace) error {
	if _, err := io.WriteString(w, "{\"jobs\": ["); err != nil {
		return err
	}
	off := fluxEpoch(t)
	for i, j := range t.Jobs {
		m := fluxJobMap(j, off)
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.ID, err)
		}
		sepText := ",\n  "
		if i == 0 {
			sepText = "\n  "
		}
		if _, err := io.WriteString(w, sepText); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n]}\n")
	return err
}

// fluxJobMap is one job as flux jobs --json prints it, its times plus
// off (fluxEpoch).
func fluxJobMap(j *Job, off float64) map[string]any {
	m := map[string]any{}
	if _, err := strconv.ParseUint(j.ID, 10, 64); err == nil {
		m["id"] = json.Number(j.ID)
	} else {
		m["id"] = j.ID
	}
	if uid, err := strconv.ParseUint(j.User, 10, 32); err == nil {
		m["userid"] = json.Number(strconv.FormatUint(uid, 10))
	} else if j.User != "" {
		m["username"] = j.User
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("name", j.Name)
	put("queue", j.Queue)
	tm := func(k string, v float64) {
		if Known(v) && v+off > 0 {
			m[k] = fxTime(v + off)
		}
	}
	tm("t_submit", j.Submit)
	run := j.Alloc
	if !Known(run) {
		run = j.Start
	}
	tm("t_run", run)
	tm("t_cleanup", j.End)
	for _, k := range []string{"t_depend", "t_sched", "t_inactive", "expiration"} {
		if v, err := strconv.ParseFloat(j.Params["flux."+k], 64); err == nil && !math.IsNaN(v) {
			m[k] = fxTime(v + off)
		}
	}
	if j.Walltime > 0 {
		m["duration"] = fxTime(j.Walltime)
	}
	num := func(k string, v int) {
		if v > 0 {
			m[k] = json.Number(strconv.Itoa(v))
		}
	}
	num("ntasks", j.Tasks)
	num("ncores", j.Procs)
	num("nnodes", j.Nodes)
	if len(j.NodeList) > 0 {
		m["nodelist"] = CompressHostlist(j.NodeList)
		if j.Nodes == 0 {
			m["nnodes"] = json.Number(strconv.Itoa(len(j.NodeList)))
		}
	}
	put("ranks", j.Params["flux.ranks"])
	state := ""
	switch j.Status {
	case "pending":
		state = "SCHED"
	case "running":
		state = "RUN"
	case "completed", "failed", "cancelled", "timeout":
		state = "INACTIVE"
		for _, r := range fluxResults {
			if r.status == j.Status {
				m["result"] = r.name
			}
		}
	default:
		if Known(j.End) {
			state = "INACTIVE"
		}
	}
	put("state", state)
	if state == "INACTIVE" && j.ExitCode != -1 {
		m["returncode"] = json.Number(strconv.Itoa(j.ExitCode))
	}
	if ws := j.Params["flux.waitstatus"]; ws != "" {
		if _, err := strconv.Atoi(ws); err == nil {
			m["waitstatus"] = json.Number(ws)
		}
	}
	if typ := j.Params["flux.exception.type"]; typ != "" {
		ex := map[string]any{"occurred": true, "type": typ, "note": j.Params["flux.exception.note"]}
		if sev, err := strconv.Atoi(j.Params["flux.exception.severity"]); err == nil {
			ex["severity"] = json.Number(strconv.Itoa(sev))
		}
		m["exception"] = ex
	}
	sched := map[string]any{}
	var keys []string
	for k := range j.Params {
		if strings.HasPrefix(k, "sched.") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		sched[strings.TrimPrefix(k, "sched.")] = j.Params[k]
	}
	if len(sched) > 0 {
		m["annotations"] = map[string]any{"sched": sched}
	}
	return m
}
