package traces

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// The converge-events format: converge's own event trace, events.jsonl
// (docs/outputs.md), one JSON object a line, in time order:
//
//	{"t":12.5,"event":"Scheduled","pod":"p-0","job":"p","node":"n-1","msg":"…","series":{"count":3,"lastObservedTime":9}}
//
// with the absent fields left out. Times are the simulated run's seconds
// (t.Relative). Pod events (a "pod") set the pod's times and node and are
// kept in its Events; job events (a "job", no "pod": JobSubmitted,
// JobComplete, the Flux RFC 21 names, exception, Reserved, Rejected,
// Contention) set the job's times and status and are kept in its Events;
// events of neither (Stalled) are kept in the trace's Events.
func init() {
	register(&Format{
		Name:   "converge-events",
		Doc:    "converge's own event trace (events.jsonl: one {\"t\",\"event\",\"pod\",\"job\",\"node\",\"msg\",\"series\"} a line)",
		Detect: detectConvergeEvents,
		Read:   readConvergeEvents,
		Write:  writeConvergeEvents,
		Ext:    ".jsonl",
	})
}

// convergeNamespace is the namespace of converge's pods (the simulator
// has one; FromResult uses it too).
const convergeNamespace = "default"

func detectConvergeEvents(head []byte, keys []string) bool {
	return len(keys) >= 2 && keys[0] == "t" && keys[1] == "event" && bytes.HasPrefix(bytes.TrimSpace(head), []byte("{"))
}

// convergeLine is one line of events.jsonl.
type convergeLine struct {
	T      *float64 `json:"t"`
	Event  string   `json:"event"`
	Pod    string   `json:"pod,omitempty"`
	Job    string   `json:"job,omitempty"`
	Node   string   `json:"node,omitempty"`
	Msg    string   `json:"msg,omitempty"`
	Series *struct {
		Count            int     `json:"count"`
		LastObservedTime float64 `json:"lastObservedTime"`
	} `json:"series,omitempty"`
}

// convergePodEvents are the pod events the engine writes
// (engine.RecKind); convergeJobEvents the job events.
var (
	convergePodEvents = []string{"PodCreated", "FailedScheduling", "Assigned", "Scheduled", "SandboxReady", "Pulling", "Pulled",
		"PullFailed", "PullBackOff", "Initialized", "Started", "Ready", "Succeeded", "Failed", "Waiting", "Unreserved"}
	convergeJobEvents = []string{"JobSubmitted", "JobComplete", "Reserved", "Rejected", "Contention",
		"submit", "validate", "depend", "priority", "alloc", "start", "finish", "release", "free", "clean", "exception"}
)

func readConvergeEvents(in *Input, t *Trace) error {
	if len(t.Files) > 0 && !t.Relative {
		return in.Errorf(0, "", "converge's events.jsonl holds relative times: it cannot be read into a trace of wall-clock times")
	}
	t.Relative = true
	last := math.Inf(-1)
	flux := map[*Job]bool{}
	err := in.Lines(func(b []byte, n int) error {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil
		}
		var l convergeLine
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&l); err != nil {
			return convergeErr(in, n, err)
		}
		if d.More() {
			return in.Errorf(n, "", "more than one JSON value on the line")
		}
		if l.T == nil {
			return in.Errorf(n, "t", "missing")
		}
		if l.Event == "" {
			return in.Errorf(n, "event", "missing")
		}
		tm := *l.T
		if tm < 0 || tm > 1e12 {
			return in.Errorf(n, "t", "%v is not a time of a run (0 to 1e12 s)", tm)
		}
		if tm < last {
			t.Note("converge-order", fmt.Sprintf("line %d", n), "events out of time order (converge writes them in order: files joined?): read as they come")
		}
		last = max(last, tm)
		ctx := map[string]any{}
		if l.Node != "" {
			ctx["node"] = l.Node
		}
		if l.Msg != "" {
			ctx["msg"] = l.Msg
		}
		if s := l.Series; s != nil {
			if s.Count < 1 || s.Count > math.MaxInt32 || s.LastObservedTime < 0 || s.LastObservedTime > tm {
				return in.Errorf(n, "series", "count %d, lastObservedTime %v: not a series ended at %v", s.Count, s.LastObservedTime, tm)
			}
			ctx["series.count"] = s.Count
			ctx["series.lastObservedTime"] = s.LastObservedTime
		}
		if len(ctx) == 0 {
			ctx = nil
		}
		ev := Event{T: tm, Name: l.Event, Context: ctx}
		switch {
		case l.Pod != "":
			if !slices.Contains(convergePodEvents, l.Event) {
				t.Note("converge-unknown", l.Event, "event kinds converge does not write for a pod, kept in the pod's events only")
			}
			p, added := t.Pod(convergeNamespace, l.Pod)
			if added {
				p.Line = n
			}
			if l.Job != "" && p.Job == "" {
				p.Job = l.Job
			}
			convergePodEvent(p, ev, l.Node, l.Msg)
			if len(p.Events) >= MaxRecords {
				return in.Errorf(n, "", "more than %d events of pod %s", MaxRecords, quote(l.Pod))
			}
			p.Events = append(p.Events, ev)
		case l.Job != "":
			if !slices.Contains(convergeJobEvents, l.Event) {
				t.Note("converge-unknown", l.Event, "event kinds converge does not write for a job, kept in the job's events only")
			}
			j, added := t.Job(l.Job)
			if added {
				j.Name, j.Line = l.Job, n
			}
			if convergeJobEvent(j, ev, l.Msg) {
				flux[j] = true
			}
			if l.Event == "submit" && l.Msg != "" {
				if err := convergeFluxRequest(j, l.Msg); err != nil {
					return in.Errorf(n, "msg", "%v", err)
				}
			}
			if len(j.Events) >= MaxRecords {
				return in.Errorf(n, "", "more than %d events of job %s", MaxRecords, quote(l.Job))
			}
			j.Events = append(j.Events, ev)
		default:
			if l.Event == "Stalled" {
				t.Note("converge-stalled", l.Msg, "the run stalled (made no progress and was stopped): jobs and pods unfinished at its end are as it left them")
			} else {
				t.Note("converge-unknown", l.Event, "event kinds of no pod or job, kept in the trace's events")
			}
			if len(t.Events) >= MaxRecords {
				return in.Errorf(n, "", "more than %d events", MaxRecords)
			}
			t.Events = append(t.Events, ev)
		}
		if len(t.Pods) > MaxRecords || len(t.Jobs) > MaxRecords {
			return in.Errorf(n, "", "more than %d records", MaxRecords)
		}
		return nil
	})
	if err != nil {
		return err
	}
	convergeFinish(t, flux)
	return nil
}

// convergeErr names the line and field of a JSON error of a line.
func convergeErr(in *Input, n int, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return in.Errorf(n, te.Field, "a JSON %s where %s is expected", te.Value, te.Type)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return in.Errorf(n, "", "the line ends inside a JSON value (truncated?)")
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return in.Errorf(n, strings.Trim(s, `"`), "not a field of converge's events.jsonl (t, event, pod, job, node, msg, series)")
	}
	return in.Errorf(n, "", "not valid JSON: %v", err)
}

// convergeFirst sets *f to v if it is unknown.
func convergeFirst(f *float64, v float64) {
	if !Known(*f) {
		*f = v
	}
}

// convergePodEvent sets what a pod event says of the pod.
func convergePodEvent(p *Pod, e Event, node, msg string) {
	switch e.Name {
	case "PodCreated":
		convergeFirst(&p.Created, e.T)
	case "Assigned", "Waiting":
		p.Node = node
	case "Unreserved":
		p.Node = ""
	case "Scheduled":
		convergeFirst(&p.Scheduled, e.T)
		if node != "" {
			p.Node = node
		}
	case "SandboxReady":
		convergeFirst(&p.SandboxReady, e.T)
	case "Pulling":
		convergeFirst(&p.PullStart, e.T)
	case "Pulled":
		p.Pulled = e.T
	case "Initialized":
		convergeFirst(&p.Initialized, e.T)
	case "Started":
		convergeFirst(&p.Started, e.T)
	case "Ready":
		convergeFirst(&p.Ready, e.T)
		convergeFirst(&p.ContainersReady, e.T)
	case "Succeeded", "Failed":
		p.Finished, p.Phase = e.T, e.Name
	case "FailedScheduling", "PullFailed", "PullBackOff":
		p.Reason = msg
	}
}

// convergeJobEvent sets what a job event says of the job; it reports a
// Flux eventlog event.
func convergeJobEvent(j *Job, e Event, msg string) bool {
	switch e.Name {
	case "JobSubmitted":
		convergeFirst(&j.Submit, e.T)
	case "JobComplete":
		j.End, j.Status = e.T, "completed"
	case "Rejected":
		j.Status = "failed"
	case "submit":
		convergeFirst(&j.Submit, e.T)
		return true
	case "alloc":
		convergeFirst(&j.Alloc, e.T)
		return true
	case "start":
		convergeFirst(&j.Start, e.T)
		return true
	case "finish":
		j.End = e.T
		return true
	case "exception":
		// type=timeout severity=0 ...: fatal (converge writes severity 0 only)
		switch {
		case strings.HasPrefix(msg, "type=timeout"):
			j.Status = "timeout"
		case strings.HasPrefix(msg, "type=cancel"):
			j.Status = "cancelled"
		default:
			j.Status = "failed"
		}
		return true
	case "validate", "depend", "priority", "release", "free", "clean":
		return true
	}
	return false
}

// convergeFluxRequest sets a Flux job's request from its submit event's
// message (engine.FluxSpec.RequestText: "nodes=N tasks=T cores-per-task=C
// gpus-per-task=G walltime=W [exclusive]"); keys it does not know are
// passed over.
func convergeFluxRequest(j *Job, msg string) error {
	for _, f := range strings.Fields(msg) {
		if f == "exclusive" {
			j.Exclusive = true
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		var count *int
		switch k {
		case "nodes":
			count = &j.Nodes
		case "tasks":
			count = &j.Tasks
		case "cores-per-task":
			count = &j.CoresPerTask
		case "gpus-per-task":
			count = &j.GPUsPerTask
		case "walltime":
			w, err := strconv.ParseFloat(v, 64)
			if err != nil || !(w >= 0 && w <= 1e12) {
				return fmt.Errorf("walltime=%s: not a duration (0 to 1e12 s, as the times of a run)", quote(v))
			}
			j.Walltime = w
		}
		if count != nil {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > SWFMaxProcs {
				return fmt.Errorf("%s=%s: not a count (0 to %g)", k, quote(v), float64(SWFMaxProcs))
			}
			*count = int(n)
		}
	}
	return nil
}

// convergeFinish gives jobs their kind and status and pods their phase
// once the whole trace is read.
func convergeFinish(t *Trace, flux map[*Job]bool) {
	started := map[string]bool{}
	for _, p := range t.Pods {
		if p.Phase == "" {
			switch {
			case Known(p.Started):
				p.Phase = "Running"
				t.Note("converge-running", p.Name, "pods still running at the end of the run: no finish time")
			default:
				p.Phase = "Pending"
				t.Note("converge-pending", p.Name, "pods not started by the end of the run: phase Pending")
			}
		}
		if Known(p.Started) && p.Job != "" {
			started[p.Job] = true
		}
	}
	for _, j := range t.Jobs {
		if j.Kind == "" {
			if flux[j] {
				j.Kind = "FluxJob"
			} else {
				j.Kind = "Job"
				t.Note("converge-kind", j.ID, "events.jsonl does not say what kind a job is (Job, MPIJob, MiniCluster, ...): jobs without a Flux eventlog are of kind Job")
			}
		}
		if j.Status == "" {
			switch {
			case Known(j.End):
				j.Status = "completed"
			case Known(j.Start) || started[j.ID]:
				j.Status = "running"
			default:
				j.Status = "pending"
			}
		}
	}
}

// writeConvergeEvents writes t as events.jsonl. A pod or job that holds
// its recorded events is written as they are; one that holds only times
// (read from another format) gets the events of its times. A trace of
// wall-clock times is written in seconds from its first time.
func writeConvergeEvents(w io.Writer, t *Trace) error {
	type line struct {
		t   float64
		seq int
		l   convergeLine
	}
	var lines []line
	origin := 0.0
	if !t.Relative {
		if f, _ := t.Span(); Known(f) {
			origin = f
		}
	}
	add := func(e Event, pod, job string) {
		if !Known(e.T) {
			return
		}
		tm := e.T - origin
		l := convergeLine{T: &tm, Event: e.Name, Pod: pod, Job: job}
		l.Node, _ = e.Context["node"].(string)
		l.Msg, _ = e.Context["msg"].(string)
		if c, ok := e.Context["series.count"].(int); ok {
			l.Series = &struct {
				Count            int     `json:"count"`
				LastObservedTime float64 `json:"lastObservedTime"`
			}{c, 0}
			if lo, ok := e.Context["series.lastObservedTime"].(float64); ok {
				l.Series.LastObservedTime = lo - origin
			}
		}
		lines = append(lines, line{tm, len(lines), l})
	}
	for _, j := range t.Jobs {
		if len(j.Events) > 0 {
			for _, e := range j.Events {
				add(e, "", j.ID)
			}
			continue
		}
		if j.Kind == "FluxJob" {
			var sub map[string]any
			if j.Nodes > 0 || j.Tasks > 0 {
				f := engine.FluxSpec{Nodes: j.Nodes, Slots: j.Tasks, CoresPerSlot: max(j.CoresPerTask, 1), GPUsPerSlot: j.GPUsPerTask, Walltime: j.Walltime, Exclusive: j.Exclusive}
				sub = map[string]any{"msg": f.RequestText()}
			}
			add(Event{T: j.Submit, Name: "submit", Context: sub}, "", j.ID)
			add(Event{T: j.Alloc, Name: "alloc"}, "", j.ID)
			add(Event{T: j.Start, Name: "start"}, "", j.ID)
			add(Event{T: j.End, Name: "finish"}, "", j.ID)
			continue
		}
		add(Event{T: j.Submit, Name: "JobSubmitted"}, "", j.ID)
		if j.Status == "completed" || j.Status == "" {
			add(Event{T: j.End, Name: "JobComplete"}, "", j.ID)
		}
	}
	for _, p := range t.Pods {
		if len(p.Events) > 0 {
			for _, e := range p.Events {
				add(e, p.Name, p.Job)
			}
			continue
		}
		var node map[string]any
		if p.Node != "" {
			node = map[string]any{"node": p.Node}
		}
		end := "Succeeded"
		if p.Phase == "Failed" {
			end = "Failed"
		}
		for _, e := range []Event{{p.Created, "PodCreated", nil}, {p.Scheduled, "Scheduled", node}, {p.SandboxReady, "SandboxReady", nil},
			{p.PullStart, "Pulling", nil}, {p.Pulled, "Pulled", nil}, {p.Initialized, "Initialized", nil},
			{p.Started, "Started", nil}, {p.Ready, "Ready", nil}, {p.Finished, end, nil}} {
			add(e, p.Name, p.Job)
		}
	}
	for _, e := range t.Events {
		add(e, "", "")
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		return a.seq - b.seq
	})
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range lines {
		if err := enc.Encode(&lines[i].l); err != nil {
			return err
		}
	}
	return bw.Flush()
}
