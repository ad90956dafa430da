package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

func init() {
	register(&Format{
		Name:   "kube-events",
		Doc:    "Kubernetes events: kubectl get events -o json, kubernetes-event-exporter JSON lines, or a watch stream of {type, object | raw_object} (Pods or Events)",
		Detect: detectKubeEvents,
		Read:   readKubeEvents,
		Write:  writeKubeEvents,
		Ext:    ".jsonl",
	})
}

// kubeRef is an event's involvedObject (core/v1) or regarding
// (events.k8s.io/v1); the event exporter adds the object's labels,
// annotations and owner references.
type kubeRef struct {
	Kind            string            `json:"kind"`
	Namespace       string            `json:"namespace"`
	Name            string            `json:"name"`
	UID             string            `json:"uid"`
	APIVersion      string            `json:"apiVersion"`
	FieldPath       string            `json:"fieldPath,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	OwnerReferences []kubeOwner       `json:"ownerReferences,omitempty"`
}

type kubeSource struct {
	Component string `json:"component"`
	Host      string `json:"host,omitempty"`
}

// kubeEvent is a core/v1 Event or an events.k8s.io/v1 Event (note,
// regarding, deprecated* and series).
type kubeEvent struct {
	Kind                     string      `json:"kind"`
	Metadata                 kubeMeta    `json:"metadata"`
	Reason                   string      `json:"reason"`
	Message                  string      `json:"message"`
	Note                     string      `json:"note"`
	InvolvedObject           *kubeRef    `json:"involvedObject"`
	Regarding                *kubeRef    `json:"regarding"`
	Source                   kubeSource  `json:"source"`
	DeprecatedSource         kubeSource  `json:"deprecatedSource"`
	ReportingComponent       string      `json:"reportingComponent"`
	ReportingController      string      `json:"reportingController"`
	FirstTimestamp           string      `json:"firstTimestamp"`
	LastTimestamp            string      `json:"lastTimestamp"`
	EventTime                string      `json:"eventTime"`
	DeprecatedFirstTimestamp string      `json:"deprecatedFirstTimestamp"`
	DeprecatedLastTimestamp  string      `json:"deprecatedLastTimestamp"`
	Count                    int64       `json:"count"`
	DeprecatedCount          int64       `json:"deprecatedCount"`
	Series                   *kubeSeries `json:"series"`
}

type kubeSeries struct {
	Count            int64  `json:"count"`
	LastObservedTime string `json:"lastObservedTime"`
}

// kubeEventItem is one value of an event stream: an Event, or a watch
// event whose object (object, or raw_object as the indexed-job-timing
// study saved it) is a Pod or an Event. Type is the Event's type
// (Normal, Warning) or the watch event's (ADDED, MODIFIED, DELETED).
type kubeEventItem struct {
	kubeEvent
	Type      string          `json:"type"`
	Object    json.RawMessage `json:"object"`
	RawObject json.RawMessage `json:"raw_object"`
}

func detectKubeEvents(head []byte, _ []string) bool {
	h := sniffKube(head)
	if h.Watch || h.ListKind == "EventList" || (h.Kind == "Event" && h.listOf("EventList")) {
		return true
	}
	if h.ListKind != "" {
		return false
	}
	// JSON lines: an event (or watch event) among the first lines (the
	// event exporter starts with its own log lines).
	lines := bytes.Split(head, []byte{'\n'})
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut
	}
	for i, l := range lines {
		if i >= 200 {
			break
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] != '{' {
			continue
		}
		if isKubeEventKeys(JSONKeys(l)) {
			return true
		}
	}
	return false
}

// isKubeEventKeys reports keys of an Event or of a watch event.
func isKubeEventKeys(keys []string) bool {
	return (hasKeys(keys, "reason") && (hasKeys(keys, "involvedObject") || hasKeys(keys, "regarding"))) ||
		(hasKeys(keys, "type") && (hasKeys(keys, "object") || hasKeys(keys, "raw_object")))
}

// kubeEventReader folds events into a trace.
type kubeEventReader struct {
	in     *Input
	t      *Trace
	events int
	// pulls are the pull durations added to each pod, by event, so that
	// an event seen twice (a watch's ADDED and MODIFIED, two dumps)
	// counts once.
	pulls map[string]float64
	jobs  *kubeJobCache
	// watched are the pods a watch stream updated, noted at the end
	// by their last state.
	watched map[*Pod]bool
}

// readKubeEvents reads the three shapes: a List (or bare array) of
// events, JSON lines (the event exporter's, whose own log lines are
// skipped and counted), and a stream of JSON values (watch events, one
// a line or pretty-printed one after the other).
func readKubeEvents(in *Input, t *Trace) error {
	r := &kubeEventReader{in: in, t: t, pulls: map[string]float64{}, jobs: newKubeJobCache(), watched: map[*Pod]bool{}}
	head := in.Head(sniffSize)
	var err error
	switch kubeEventsShape(head) {
	case "list":
		_, err = kubeDoc(in, "an event list", "EventList", func(s *JSONStream, field string, line int) error {
			if s == nil {
				return nil
			}
			return r.decode(s, field, line)
		}, nil)
	case "stream":
		err = r.stream()
	default:
		err = r.lines()
	}
	if err != nil {
		return err
	}
	if r.events == 0 {
		return in.Errorf(0, "", "no Kubernetes event in the file (is it the right file?)")
	}
	for _, p := range t.Pods {
		if r.watched[p] {
			kubeNotePodGaps(t, p)
		}
	}
	return nil
}

// kubeEventsShape tells the shapes apart from the head: an array or an
// object with items is a list; a first line that is a whole JSON value,
// or not JSON at all (a log line), starts JSON lines; an object spread
// over lines starts a stream of pretty-printed values.
func kubeEventsShape(head []byte) string {
	trim := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(trim) > 0 && trim[0] == '[' {
		return "list"
	}
	if hasKeys(JSONKeys(trim), "items") {
		return "list"
	}
	first := trim
	if i := bytes.IndexByte(trim, '\n'); i >= 0 {
		first = trim[:i]
	}
	first = bytes.TrimSpace(first)
	if len(first) > 0 && first[0] == '{' && !json.Valid(first) {
		return "stream"
	}
	return "lines"
}

// decode decodes one item of a list or stream and folds it.
func (r *kubeEventReader) decode(s *JSONStream, field string, line int) error {
	var it kubeEventItem
	if err := s.Decode(field, &it); err != nil {
		return err
	}
	return r.item(&it, line, field)
}

func (r *kubeEventReader) stream() error {
	s := r.in.JSON()
	lc := newKubeLineCursor(r.in)
	defer lc.close()
	for i := 0; s.Dec.More(); i++ {
		if i >= MaxRecords {
			return r.in.Errorf(0, "", "more than %d values", MaxRecords)
		}
		if err := r.decode(s, "", lc.at(s.Offset()+1)); err != nil {
			return err
		}
	}
	return s.End()
}

func (r *kubeEventReader) lines() error {
	skip := func(n int) {
		r.t.Note("kube-not-events", fmt.Sprintf("%s:%d", r.in.Name, n), "lines that are not Kubernetes events (the event exporter's own log lines, other text): skipped")
	}
	return r.in.Lines(func(b []byte, n int) error {
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil
		}
		if b[0] != '{' || !json.Valid(b) {
			if b[0] == '{' && (bytes.Contains(b, []byte(`"involvedObject"`)) || bytes.Contains(b, []byte(`"regarding"`)) || bytes.Contains(b, []byte(`"raw_object"`))) {
				var raw any
				err := json.Unmarshal(b, &raw)
				return r.in.Errorf(n, "", "a broken event (truncated line?): %v", err)
			}
			skip(n)
			return nil
		}
		if !isKubeEventKeys(JSONKeys(b)) {
			skip(n)
			return nil
		}
		var it kubeEventItem
		if err := unmarshalNumbers(b, &it); err != nil {
			return r.typeErr(n, "", err)
		}
		return r.item(&it, n, "")
	})
}

// item folds one decoded value.
func (r *kubeEventReader) item(it *kubeEventItem, line int, field string) error {
	obj := it.Object
	if len(obj) == 0 || string(obj) == "null" {
		obj = it.RawObject
	}
	if len(obj) > 0 && string(obj) != "null" {
		// A watch event.
		f := prefixDot(field) + "object"
		switch it.Type {
		case "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR":
		default:
			return r.in.Errorf(line, prefixDot(field)+"type", "not a watch event type (ADDED, MODIFIED, DELETED): %s", quote(it.Type))
		}
		if it.Type == "BOOKMARK" || it.Type == "ERROR" {
			return nil
		}
		var probe struct {
			Kind           string          `json:"kind"`
			InvolvedObject json.RawMessage `json:"involvedObject"`
			Regarding      json.RawMessage `json:"regarding"`
			Spec           json.RawMessage `json:"spec"`
		}
		if err := json.Unmarshal(obj, &probe); err != nil {
			return r.in.Errorf(line, f, "not a JSON object: %v", err)
		}
		switch {
		case probe.Kind == "Event" || len(probe.InvolvedObject) > 0 || len(probe.Regarding) > 0:
			var e kubeEvent
			if err := unmarshalNumbers(obj, &e); err != nil {
				return r.typeErr(line, f, err)
			}
			return r.event(&e, line, f+".")
		case probe.Kind == "Pod" || (probe.Kind == "" && len(probe.Spec) > 0):
			var p kubePod
			if err := unmarshalNumbers(obj, &p); err != nil {
				return r.typeErr(line, f, err)
			}
			r.events++
			if err := applyKubePod(r.t, r.in, r.jobs, &p, line, f+".", true); err != nil {
				return err
			}
			if q, _ := r.t.Pod(p.Metadata.Namespace, p.Metadata.Name); q != nil {
				r.watched[q] = true
			}
			return nil
		default:
			r.t.Note("kube-watch-other", probe.Kind, "watch events of objects that are neither Pods nor Events: skipped")
			return nil
		}
	}
	if it.InvolvedObject == nil && it.Regarding == nil {
		return r.in.Errorf(line, prefixDot(field)+"involvedObject", "missing: not a Kubernetes event")
	}
	e := it.kubeEvent
	return r.event(&e, line, prefixDot(field))
}

func prefixDot(field string) string {
	if field == "" {
		return ""
	}
	return field + "."
}

func unmarshalNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func (r *kubeEventReader) typeErr(line int, field string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := strings.TrimPrefix(te.Field, "kubeEvent.")
		if field != "" {
			f = field + "." + f
		}
		return r.in.Errorf(line, f, "a JSON %s where %s is expected", te.Value, te.Type)
	}
	return r.in.Errorf(line, field, "not valid JSON: %v", err)
}

var (
	kubeAssignedRe = regexp.MustCompile(`^Successfully assigned (\S+?)/(\S+) to (\S+)`)
	kubePulledRe   = regexp.MustCompile(`^Successfully pulled image "[^"]*" in (\S+?)\.?(?: |$)`)
	kubeCreatedRe  = regexp.MustCompile(`Created pod: (\S+)$`)
)

// event folds one Event.
func (r *kubeEventReader) event(e *kubeEvent, line int, field string) error {
	in, t := r.in, r.t
	r.events++
	ref := e.InvolvedObject
	refField := "involvedObject"
	if ref == nil {
		ref, refField = e.Regarding, "regarding"
	}
	if ref == nil {
		return in.Errorf(line, field+"involvedObject", "missing: not a Kubernetes event")
	}
	msg := e.Message
	if msg == "" {
		msg = e.Note
	}
	// The time: the most precise one present (eventTime, a MicroTime),
	// else the first occurrence, else the last, else the object's
	// creation.
	when, whole := NaN, false
	for _, c := range []struct{ f, s string }{{"eventTime", e.EventTime}, {"firstTimestamp", e.FirstTimestamp},
		{"deprecatedFirstTimestamp", e.DeprecatedFirstTimestamp}, {"lastTimestamp", e.LastTimestamp},
		{"deprecatedLastTimestamp", e.DeprecatedLastTimestamp}, {"metadata.creationTimestamp", e.Metadata.CreationTimestamp}} {
		v, w, err := kubeTime(c.s)
		if err != nil {
			return in.Errorf(line, field+c.f, "%v", err)
		}
		if Known(v) {
			when, whole = v, w
			break
		}
	}
	if !Known(when) {
		t.Note("kube-event-no-time", ref.Name, "events without any time: skipped")
		return nil
	}
	if whole {
		t.Note("kube-events-1s", e.Metadata.Name, "event times of one-second resolution (firstTimestamp/lastTimestamp, no eventTime): delays shorter than 1 s are not resolved")
	}
	count := int64(0)
	for _, c := range []struct {
		f string
		n int64
	}{{"count", e.Count}, {"deprecatedCount", e.DeprecatedCount}, {"series.count", seriesCount(e.Series)}} {
		if c.n < 0 || c.n > math.MaxInt32 {
			return in.Errorf(line, field+c.f, "not a count: %d", c.n)
		}
		count = max(count, c.n)
	}
	if count > 1 {
		t.Note("kube-series", ref.Name, "events repeated as a series (count > 1): only the first and the last occurrence times are known; the first is used")
	}
	ns := ref.Namespace
	if ns == "" {
		ns = e.Metadata.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	if err := kubeValidName(in, line, field+refField+".name", ref.Name, true); err != nil {
		return err
	}
	if err := kubeValidName(in, line, field+refField+".namespace", ns, false); err != nil {
		return err
	}
	component := e.Source.Component
	for _, c := range []string{e.ReportingController, e.ReportingComponent, e.DeprecatedSource.Component} {
		if component == "" {
			component = c
		}
	}

	// "Created pod: NAME" of a controller gives the pod's creation.
	if e.Reason == "SuccessfulCreate" {
		if m := kubeCreatedRe.FindStringSubmatch(msg); m != nil {
			if err := kubeValidName(in, line, field+"message", m[1], true); err != nil {
				return err
			}
			p, added := t.Pod(ns, m[1])
			if added {
				p.Line = line
			}
			p.Created = kubeMinT(p.Created, when)
			if g, ok := kubeJobOfObject(ref.Kind, r.meta(ref, ns)); ok {
				j := r.jobs.job(t, g, line)
				j.Submit = kubeMinT(j.Submit, when)
				if p.Job == "" {
					p.Job = j.ID
				}
			}
			return nil
		}
	}

	switch ref.Kind {
	case "Pod":
	case "Job", "MiniCluster", "MPIJob", "PodGroup":
		g, _ := kubeJobOfObject(ref.Kind, r.meta(ref, ns))
		j := r.jobs.job(t, g, line)
		switch e.Reason {
		case "Completed":
			j.End = kubeMaxT(j.End, when)
			j.Status = "completed"
		case "BackoffLimitExceeded", "DeadlineExceeded", "Failed":
			j.End = kubeMaxT(j.End, when)
			j.Status = "failed"
		}
		return nil
	default:
		t.Note("kube-events-other-objects", ref.Kind+" "+ref.Name, "events of objects that are neither pods nor jobs (nodes, leases, replica sets, ...): skipped")
		return nil
	}

	p, added := t.Pod(ns, ref.Name)
	if added {
		p.Line = line
	}
	if p.UID == "" {
		p.UID = ref.UID
	}
	if p.Job == "" || p.Index < 0 || p.Role == "" {
		m := r.meta(ref, ns)
		g, ok := kubeGroupOf(m)
		if ok && p.Job == "" {
			if err := kubeValidName(in, line, field+refField+" (group name)", g.Name, true); err != nil {
				return err
			}
			p.Job = r.jobs.job(t, g, line).ID
		}
		if p.Index < 0 {
			idx, err := kubePodIndex(m, g, ok)
			if err != nil {
				return in.Errorf(line, field+refField, "%v", err)
			}
			p.Index = idx
		}
		if p.Role == "" {
			p.Role = kubePodRole(ref.Labels)
		}
	}
	switch e.Reason {
	case "Scheduled":
		if m := kubeAssignedRe.FindStringSubmatch(msg); m != nil {
			if err := kubeValidName(in, line, field+"message", m[3], true); err != nil {
				return err
			}
			p.Node = m[3]
		} else {
			t.Note("kube-scheduled-no-node", ref.Name, "Scheduled events whose message does not name the node (\"Successfully assigned ns/pod to NODE\")")
		}
		p.Scheduled = kubeMinT(p.Scheduled, when)
		if p.Scheduler == "" {
			p.Scheduler = component
		}
	case "FailedScheduling":
		p.Reason = msg
		if p.Scheduler == "" {
			p.Scheduler = component
		}
	case "Pulling":
		p.PullStart = kubeMinT(p.PullStart, when)
	case "Pulled":
		p.Pulled = kubeMaxT(p.Pulled, when)
		d, ok := kubePullDuration(msg)
		if !ok {
			t.Note("kube-pull-no-duration", ref.Name, "Pulled events without a pull duration in their message: the pull time stays unknown")
			break
		}
		key := e.Metadata.Namespace + "/" + e.Metadata.Name
		if e.Metadata.Name == "" {
			key = fmt.Sprintf("%s/%s@%v", ns, ref.Name, when)
		}
		old, seen := r.pulls[key]
		if !Known(p.Pull) {
			p.Pull = 0
		}
		if seen {
			p.Pull -= old
		}
		p.Pull += d
		r.pulls[key] = d
	case "Started":
		p.Started = kubeMinT(p.Started, when)
	case "Killing":
		if !Known(p.Finished) {
			p.Finished = when
			t.Note("kube-killing", ref.Name, "pods whose end is known only from the kubelet's Killing event (its containers stopped: the pod was deleted)")
		}
	}
	return nil
}

func seriesCount(s *kubeSeries) int64 {
	if s == nil {
		return 0
	}
	return s.Count
}

// meta makes the metadata of a pod or job from an event's reference.
func (r *kubeEventReader) meta(ref *kubeRef, ns string) *kubeMeta {
	return &kubeMeta{Name: ref.Name, Namespace: ns, UID: ref.UID, Labels: ref.Labels, Annotations: ref.Annotations, OwnerReferences: ref.OwnerReferences}
}

// kubePullDuration reads the pull time of a Pulled event's message:
// "Successfully pulled image "x" in 1.062578128s (1.062603299s including
// waiting)" (a Go duration: 1m2.5s too), or "Container image "x" already
// present on machine" (0).
func kubePullDuration(msg string) (float64, bool) {
	if strings.Contains(msg, "already present on machine") {
		return 0, true
	}
	m := kubePulledRe.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	if err != nil || d < 0 || d.Seconds() > MaxSeconds {
		return 0, false
	}
	return d.Seconds(), true
}

// --- writer ---

type kubeOutEvent struct {
	t    float64
	line map[string]any
}

// writeKubeEvents writes the trace's pods as a kubernetes-event-exporter
// stream (one Event a line, in time order): Job SuccessfulCreate
// ("Created pod: NAME", for pods of a Job, MiniCluster or MPIJob with a
// creation time; Kubernetes records no event of the creation of other
// pods, so theirs is left out), FailedScheduling (the pod's Reason, at its creation),
// Scheduled, Pulling, Pulled (with the pull duration in the message, or
// "already present on machine" for a pull of 0 s), Created and Started
// (the container's, both at the pod's start), Killing (at its end).
// eventTime holds the time in microseconds, firstTimestamp and
// lastTimestamp the whole second. A relative trace's times are written
// from its Start when known, else from 1970-01-01T00:00:00Z.
func writeKubeEvents(w io.Writer, t *Trace) error {
	base := kubeBase(t)
	var out []kubeOutEvent
	add := func(v float64, ev map[string]any) {
		if Known(v) {
			out = append(out, kubeOutEvent{t: v + base, line: ev})
		}
	}
	for _, p := range t.Pods {
		if fluxShell(t, p) {
			continue
		}
		md := kubePodMeta(t, p, base)
		ref := map[string]any{"kind": "Pod", "namespace": p.Namespace, "name": p.Name, "apiVersion": "v1"}
		if p.UID != "" {
			ref["uid"] = p.UID
		}
		for _, k := range []string{"labels", "annotations", "ownerReferences"} {
			if v, ok := md[k]; ok {
				ref[k] = v
			}
		}
		scheduler := p.Scheduler
		if scheduler == "" {
			scheduler = "default-scheduler"
		}
		kubelet := map[string]any{"component": "kubelet", "host": p.Node}
		sched := map[string]any{"component": scheduler}
		ev := func(reason, msg string, src map[string]any, typ string) map[string]any {
			return map[string]any{"reason": reason, "message": msg, "source": src, "type": typ,
				"reportingComponent": src["component"], "involvedObject": ref}
		}
		if j := kubeJobOf(t, p); j != nil && (j.Kind == "Job" || j.Kind == "MiniCluster" || j.Kind == "MPIJob") && Known(p.Created) {
			name := kubeObjectName(kubeJobName(j))
			jref := map[string]any{"kind": "Job", "namespace": p.Namespace, "name": name, "apiVersion": "batch/v1"}
			if uid := j.Params["uid"]; uid != "" {
				jref["uid"] = uid
			}
			switch j.Kind {
			case "MiniCluster":
				jref["ownerReferences"] = []kubeOwner{{APIVersion: "flux-framework.org/v1alpha2", Kind: "MiniCluster", Name: name}}
			case "MPIJob":
				jref["kind"], jref["apiVersion"] = "MPIJob", "kubeflow.org/v2beta1"
			}
			add(p.Created, map[string]any{"reason": "SuccessfulCreate", "message": "Created pod: " + p.Name,
				"source": map[string]any{"component": "job-controller"}, "type": "Normal",
				"reportingComponent": "job-controller", "involvedObject": jref})
		}
		if p.Reason != "" {
			v := p.Created
			if !Known(v) {
				v = p.Scheduled
			}
			add(v, ev("FailedScheduling", p.Reason, sched, "Warning"))
		}
		if Known(p.Scheduled) && p.Node != "" {
			add(p.Scheduled, ev("Scheduled", fmt.Sprintf("Successfully assigned %s/%s to %s", p.Namespace, p.Name, p.Node), sched, "Normal"))
		}
		add(p.PullStart, ev("Pulling", `Pulling image "image"`, kubelet, "Normal"))
		switch {
		case Known(p.Pull) && p.Pull == 0:
			add(p.Pulled, ev("Pulled", `Container image "image" already present on machine`, kubelet, "Normal"))
		case Known(p.Pull):
			d := time.Duration(math.Round(p.Pull * 1e9))
			add(p.Pulled, ev("Pulled", fmt.Sprintf(`Successfully pulled image "image" in %s (%s including waiting)`, d, d), kubelet, "Normal"))
		default:
			add(p.Pulled, ev("Pulled", `Successfully pulled image "image"`, kubelet, "Normal"))
		}
		add(p.Started, ev("Created", "Created container main", kubelet, "Normal"))
		add(p.Started, ev("Started", "Started container main", kubelet, "Normal"))
		add(p.Finished, ev("Killing", "Stopping container main", kubelet, "Normal"))
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].t < out[b].t })
	enc := json.NewEncoder(w)
	for i, e := range out {
		ref := e.line["involvedObject"].(map[string]any)
		us := int64(math.Round(e.t * 1e6))
		e.line["metadata"] = map[string]any{"name": fmt.Sprintf("%s.%016x", ref["name"], us*1000+int64(i)),
			"namespace": ref["namespace"], "creationTimestamp": kubeTimeText(e.t)}
		e.line["firstTimestamp"] = kubeTimeText(e.t)
		e.line["lastTimestamp"] = kubeTimeText(e.t)
		e.line["eventTime"] = kubeMicroText(e.t)
		e.line["count"] = 1
		if err := enc.Encode(e.line); err != nil {
			return err
		}
	}
	return nil
}
