package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

func init() {
	register(&Format{
		Name:   "kube-pods",
		Doc:    "Kubernetes pods: kubectl get pods -o json (a List or PodList, a bare array of pods, or one Pod)",
		Detect: detectKubePods,
		Read:   readKubePods,
		Write:  writeKubePods,
		Ext:    ".json",
	})
}

// kubeHead is what detection sees of a Kubernetes JSON document: the
// kind of its list (when it has items), the kind and first-level keys of
// its first item (or of the object itself), and whether it is a watch
// event ({type, object | raw_object}).
type kubeHead struct {
	ListKind string
	Kind     string
	Keys     []string
	Watch    bool
}

var kubeListKindRe = regexp.MustCompile(`"kind"\s*:\s*"([A-Za-z]+List)"`)

// sniffKube reads the start of a Kubernetes JSON document (as far as
// head goes).
func sniffKube(head []byte) kubeHead {
	var h kubeHead
	d := json.NewDecoder(bytes.NewReader(head))
	tok, err := d.Token()
	if err != nil {
		return h
	}
	if tok == json.Delim('[') {
		h.ListKind = "array"
		if tok, err = d.Token(); err != nil || tok != json.Delim('{') {
			return h
		}
		h.Kind, h.Keys = kubeSniffObject(d, nil)
	} else if tok == json.Delim('{') {
		var items *kubeHead
		kind, keys := kubeSniffObject(d, func(key string) bool {
			if key != "items" {
				return false
			}
			items = &kubeHead{}
			if t, err := d.Token(); err != nil || t != json.Delim('[') {
				return true
			}
			if t, err := d.Token(); err != nil || t != json.Delim('{') {
				return true
			}
			items.Kind, items.Keys = kubeSniffObject(d, nil)
			return true
		})
		if items != nil {
			h.ListKind, h.Kind, h.Keys = kind, items.Kind, items.Keys
			if h.ListKind == "" {
				// kubectl writes the list's kind after its items: seen
				// when the head holds the whole list.
				h.ListKind = "List"
				if m := kubeListKindRe.FindSubmatch(head); m != nil {
					h.ListKind = string(m[1])
				}
			}
		} else {
			h.Kind, h.Keys = kind, keys
			h.Watch = hasKeys(keys, "type") && (hasKeys(keys, "object") || hasKeys(keys, "raw_object"))
		}
	}
	if h.Kind == "" && !h.Watch {
		// Items without their kind (what the API itself returns).
		switch {
		case hasKeys(h.Keys, "involvedObject") || hasKeys(h.Keys, "regarding"):
			h.Kind = "Event"
		case hasKeys(h.Keys, "spec") && bytes.Contains(head, []byte(`"containers"`)):
			h.Kind = "Pod"
		case hasKeys(h.Keys, "status") && (bytes.Contains(head, []byte(`"nodeInfo"`)) || bytes.Contains(head, []byte(`"allocatable"`))):
			h.Kind = "Node"
		}
	}
	return h
}

// kubeSniffObject reads the keys of the object whose '{' was read, with its
// "kind"; special, when it returns true, has read the key's value itself
// and stops the reading.
func kubeSniffObject(d *json.Decoder, special func(string) bool) (kind string, keys []string) {
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		k, ok := tok.(string)
		if !ok {
			return
		}
		keys = append(keys, k)
		if special != nil && special(k) {
			return
		}
		if k == "kind" {
			if t, err := d.Token(); err == nil {
				kind, _ = t.(string)
			}
			continue
		}
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return
		}
	}
}

func detectKubePods(head []byte, _ []string) bool {
	h := sniffKube(head)
	if h.Watch {
		return false
	}
	return h.ListKind == "PodList" || (h.Kind == "Pod" && h.listOf("PodList"))
}

// listOf reports a document that is not a list of another kind than
// listKind.
func (h kubeHead) listOf(listKind string) bool {
	switch h.ListKind {
	case "", "List", "array", listKind:
		return true
	}
	return false
}

// kubeFirstByte returns the first byte of the input that is not white space
// (0 when none in the head).
func kubeFirstByte(in *Input) byte {
	b := bytes.TrimLeft(in.Head(sniffSize), " \t\r\n\ufeff")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// kubeDoc streams a Kubernetes JSON document that is a List (kind List
// or listKind) of items, a bare array of them, or one object, calling item for each object (a
// single object's keys are decoded into single's values, pointers, and
// item is called with a nil stream at the end).
func kubeDoc(in *Input, what, listKind string, item func(s *JSONStream, field string, line int) error, single map[string]any) (n int, err error) {
	s := in.JSON()
	lc := newKubeLineCursor(in)
	defer lc.close()
	each := func(i int) error {
		n++
		return item(s, fmt.Sprintf("items[%d]", i), lc.at(s.Offset()+1))
	}
	switch kubeFirstByte(in) {
	case '[':
		if err := s.Items("", each); err != nil {
			return n, err
		}
	case '{':
		if err := s.Delim("", '{'); err != nil {
			return n, err
		}
		var kind string
		items, singles := false, false
		for {
			key, ok, err := s.Key("")
			if err != nil {
				return n, err
			}
			if !ok {
				break
			}
			switch key {
			case "items":
				items = true
				if err := s.Items("items", each); err != nil {
					return n, err
				}
			case "kind":
				if err := s.Decode("kind", &kind); err != nil {
					return n, err
				}
				if dst, ok := single["kind"].(*string); ok {
					*dst = kind // a single object's own kind, for its reader to check
				}
			default:
				dst, used := single[key]
				if used {
					err = s.Decode(key, dst)
				} else {
					err = s.Skip(key)
				}
				if err != nil {
					return n, err
				}
				singles = singles || used
			}
		}
		if items && kind != "" && kind != "List" && kind != listKind {
			return n, in.Errorf(s.Line(), "kind", "a %s, not %s", quote(kind), what)
		}
		if !items {
			if !singles {
				return n, in.Errorf(1, "", "not %s: no items (kind %s)", what, quote(kind))
			}
			n++
			if err := item(nil, "", 1); err != nil {
				return n, err
			}
		}
	default:
		return n, in.Errorf(1, "", "not %s: not a JSON object or array", what)
	}
	return n, s.End()
}

func readKubePods(in *Input, t *Trace) error {
	var one kubePod
	jobs := newKubeJobCache()
	n, err := kubeDoc(in, "a pod list", "PodList", func(s *JSONStream, field string, line int) error {
		if s == nil {
			if one.Kind != "" && one.Kind != "Pod" {
				return in.Errorf(1, "kind", "a %s, not a Pod", quote(one.Kind))
			}
			return applyKubePod(t, in, jobs, &one, line, "", false)
		}
		var p kubePod
		if err := s.Decode(field, &p); err != nil {
			return err
		}
		if p.Kind != "" && p.Kind != "Pod" {
			return in.Errorf(line, field+".kind", "a %s in a pod list", quote(p.Kind))
		}
		return applyKubePod(t, in, jobs, &p, line, field+".", false)
	}, map[string]any{"kind": &one.Kind, "metadata": &one.Metadata, "spec": &one.Spec, "status": &one.Status, "apiVersion": &one.APIVersion})
	if err != nil {
		return err
	}
	if n == 0 {
		t.Note("kube-empty", in.Name, "a pod list with no pods")
	}
	return nil
}

// kubePhases are the pod phases of the API.
var kubePhases = map[string]bool{"Pending": true, "Running": true, "Succeeded": true, "Failed": true, "Unknown": true}

// applyKubePod fills the trace's pod from a Pod object: a new pod, or,
// for a watch stream (update), the pod read before, updated with the
// later object (earliest start-like times, latest finish).
func applyKubePod(t *Trace, in *Input, jobs *kubeJobCache, kp *kubePod, line int, field string, update bool) error {
	m := &kp.Metadata
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	if err := kubeValidName(in, line, field+"metadata.name", m.Name, true); err != nil {
		return err
	}
	if err := kubeValidName(in, line, field+"metadata.namespace", m.Namespace, false); err != nil {
		return err
	}
	p, added := t.Pod(m.Namespace, m.Name)
	if added {
		p.Line = line
	} else if !update {
		t.Note("kube-duplicate-pod", m.Namespace+"/"+m.Name, "pods listed more than once: the later listing updates the earlier")
	}
	whole := false
	tm := func(f, s string) (float64, error) {
		v, w, err := kubeTime(s)
		if err != nil {
			return NaN, in.Errorf(line, field+f, "%v", err)
		}
		whole = whole || w
		return v, nil
	}
	if m.UID != "" {
		p.UID = m.UID
	}
	created, err := tm("metadata.creationTimestamp", m.CreationTimestamp)
	if err != nil {
		return err
	}
	p.Created = kubeMinT(p.Created, created)
	if kp.Spec.NodeName != "" {
		if err := kubeValidName(in, line, field+"spec.nodeName", kp.Spec.NodeName, false); err != nil {
			return err
		}
		p.Node = kp.Spec.NodeName
	}
	if kp.Spec.SchedulerName != "" {
		p.Scheduler = kp.Spec.SchedulerName
	}
	if ph := kp.Status.Phase; ph != "" {
		if !kubePhases[ph] {
			t.Note("kube-unknown-phase", m.Namespace+"/"+m.Name, "pods of a phase the API does not define (kept as read): %s", quote(ph))
		}
		p.Phase = ph
	}

	// Requests: what the scheduler counts, the larger of the sum over
	// the containers and the largest init container.
	for _, r := range []struct {
		key   string
		scale int64
		max   float64
		dst   *int64
	}{{"cpu", 1000, kubeMaxMilliCPU, &p.CPU}, {"memory", 1, kubeMaxBytes, &p.Memory}, {"nvidia.com/gpu", 1, kubeMaxCount, &p.GPU}} {
		var sum, initMax int64
		seen := false
		for k, list := range [][]kubeContainer{kp.Spec.Containers, kp.Spec.InitContainers} {
			for i, c := range list {
				v, ok := c.Resources.Requests[r.key]
				if !ok {
					continue
				}
				seen = true
				what := "containers"
				if k == 1 {
					what = "initContainers"
				}
				q, err := kubeQuantity(v, r.scale, r.max)
				if err != nil {
					return in.Errorf(line, fmt.Sprintf("%sspec.%s[%d].resources.requests.%s", field, what, i, r.key), "%v", err)
				}
				if k == 0 {
					sum += q
				} else {
					initMax = max(initMax, q)
				}
			}
		}
		if float64(sum) > r.max {
			return in.Errorf(line, field+"spec.containers", "requests of %s sum to more than %g", r.key, r.max)
		}
		if seen {
			*r.dst = max(sum, initMax)
		}
	}

	lost := false
	// Conditions: the time each became True (a condition False at dump
	// time, as Ready after completion, no longer says when it was True).
	for i, c := range kp.Status.Conditions {
		v, err := tm(fmt.Sprintf("status.conditions[%d].lastTransitionTime", i), c.LastTransitionTime)
		if err != nil {
			return err
		}
		if c.Status != "True" {
			if c.Type == "PodScheduled" && c.Status == "False" {
				p.Reason = c.Message
				if p.Reason == "" {
					p.Reason = c.Reason
				}
			} else if c.Status == "False" && (kp.Status.Phase == "Succeeded" || kp.Status.Phase == "Failed") {
				lost = true
			}
			continue
		}
		var dst *float64
		switch c.Type {
		case "PodScheduled":
			dst = &p.Scheduled
		case "Initialized":
			dst = &p.Initialized
		case "PodReadyToStartContainers":
			dst = &p.SandboxReady
		case "ContainersReady":
			dst = &p.ContainersReady
		case "Ready":
			dst = &p.Ready
		default:
			continue
		}
		*dst = kubeMinT(*dst, v)
	}
	if lost {
		t.Note("kube-cond-false", m.Namespace+"/"+m.Name, "ended pods whose conditions are False when recorded (Ready, ContainersReady, PodReadyToStartContainers after completion): when they became True is not recorded, those times stay unknown")
	}
	if p.Reason == "" || Known(p.Scheduled) {
		if kp.Status.Message != "" {
			p.Reason = kp.Status.Message
		} else if kp.Status.Reason != "" {
			p.Reason = kp.Status.Reason
		}
	}

	// Containers: the first start, and the last end once all ended.
	finished, allEnded := NaN, len(kp.Status.ContainerStatuses) > 0
	for i, cs := range kp.Status.ContainerStatuses {
		f := fmt.Sprintf("%sstatus.containerStatuses[%d].", field, i)
		for _, st := range []struct {
			f string
			s *kubeContState
		}{{"state", &cs.State}, {"lastState", &cs.LastState}} {
			if st.s.Running != nil {
				v, err := tm(f[len(field):]+st.f+".running.startedAt", st.s.Running.StartedAt)
				if err != nil {
					return err
				}
				p.Started = kubeMinT(p.Started, v)
			}
			if st.s.Terminated != nil {
				v, err := tm(f[len(field):]+st.f+".terminated.startedAt", st.s.Terminated.StartedAt)
				if err != nil {
					return err
				}
				p.Started = kubeMinT(p.Started, v)
				e, err := tm(f[len(field):]+st.f+".terminated.finishedAt", st.s.Terminated.FinishedAt)
				if err != nil {
					return err
				}
				if st.f == "state" {
					finished = kubeMaxT(finished, e)
					if !Known(e) {
						allEnded = false
					}
				}
			}
		}
		if cs.State.Terminated == nil {
			allEnded = false
		}
	}
	if allEnded {
		p.Finished = kubeMaxT(p.Finished, finished)
	}

	// Group, index and role.
	if g, ok := kubeGroupOf(m); ok {
		if err := kubeValidName(in, line, field+"metadata (group name)", g.Name, true); err != nil {
			return err
		}
		j := jobs.job(t, g, line)
		p.Job = j.ID
		if g.PodGroup != "" {
			if j.Params == nil {
				j.Params = map[string]string{}
			}
			j.Params["pod-group"] = g.PodGroup
		}
		idx, err := kubePodIndex(m, g, true)
		if err != nil {
			return in.Errorf(line, field+"metadata", "%v", err)
		}
		if idx >= 0 {
			p.Index = idx
		}
	} else if idx, err := kubePodIndex(m, g, false); err != nil {
		return in.Errorf(line, field+"metadata", "%v", err)
	} else if idx >= 0 {
		p.Index = idx
	}
	if r := kubePodRole(m.Labels); r != "" {
		p.Role = r
	}

	// What the record lacks.
	if whole && (added || !update) {
		t.Note("kube-1s", m.Namespace+"/"+m.Name, "pod times of one-second resolution (RFC 3339 without fractions, as the API writes metav1.Time): start-up delays shorter than 1 s are not resolved")
	}
	if !update {
		kubeNotePodGaps(t, p)
	}
	return nil
}

// kubeNotePodGaps notes a pod still pending or running (no finish time) and
// a pod without a node.
func kubeNotePodGaps(t *Trace, p *Pod) {
	key := p.Namespace + "/" + p.Name
	if (p.Phase == "Pending" || p.Phase == "Running") && !Known(p.Finished) {
		t.Note("kube-unfinished", key, "pods still Pending or Running when recorded: no finish time (their job's end stays unknown)")
	}
	if p.Node == "" && p.Phase != "" {
		t.Note("kube-no-node", key, "pods without a node (never scheduled when recorded)")
	}
}

// --- writer ---

// kubeJobOf returns the job of a pod (nil when none).
func kubeJobOf(t *Trace, p *Pod) *Job {
	if p.Job == "" {
		return nil
	}
	return t.FindJob(p.Job)
}

// kubeBase is what a writer adds to a relative trace's times: its
// Start when known, else 0 (times count from 1970-01-01T00:00:00Z).
func kubeBase(t *Trace) float64 {
	if t.Relative && Known(t.Start) {
		return t.Start
	}
	return 0
}

// kubeObjectName makes a Kubernetes name of s: lower case, characters
// other than [a-z0-9.-] as '-', at most 253 characters, never empty.
func kubeObjectName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
		if b.Len() >= kubeMaxName {
			break
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// kubeJobName is the object name a job is written under: its Name, or
// its ID without the namespace and the #k of a job created again.
func kubeJobName(j *Job) string {
	name := j.Name
	if name == "" {
		name = j.ID
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		if i := strings.LastIndexByte(name, '#'); i > 0 {
			name = name[:i]
		}
	}
	return name
}

// kubePodMeta writes the metadata of a pod so that a reader finds its
// job, index and role again.
func kubePodMeta(t *Trace, p *Pod, base float64) map[string]any {
	labels := map[string]string{}
	ann := map[string]string{}
	md := map[string]any{"name": p.Name, "namespace": p.Namespace}
	if p.UID != "" {
		md["uid"] = p.UID
	}
	if Known(p.Created) {
		md["creationTimestamp"] = kubeTimeText(p.Created + base)
	}
	var owners []kubeOwner
	yes := true
	if j := kubeJobOf(t, p); j != nil {
		name := kubeObjectName(kubeJobName(j))
		uid := j.Params["uid"]
		switch j.Kind {
		case "MiniCluster":
			labels[lblJobName], labels[lblBatchJobName], labels[lblHPASelector] = name, name, name
			labels["app.kubernetes.io/name"] = name
			owners = append(owners, kubeOwner{APIVersion: "batch/v1", Kind: "Job", Name: name, UID: uid, Controller: &yes})
		case "MPIJob":
			labels[lblTrainJobName], labels[lblTrainOperator] = name, "mpi-operator"
			owners = append(owners, kubeOwner{APIVersion: "kubeflow.org/v2beta1", Kind: "MPIJob", Name: name, UID: uid, Controller: &yes})
			if p.Index >= 0 {
				labels[lblTrainReplicaIx] = fmt.Sprint(p.Index)
			}
		case "PodGroup":
			labels[lblPodGroup] = name
		default:
			labels[lblJobName], labels[lblBatchJobName] = name, name
			owners = append(owners, kubeOwner{APIVersion: "batch/v1", Kind: "Job", Name: name, UID: uid, Controller: &yes})
		}
		if pg := j.Params["pod-group"]; pg != "" {
			labels[lblPodGroup] = pg
		}
	}
	if p.Index >= 0 {
		ann[lblCompletionIdx] = fmt.Sprint(p.Index)
	}
	if p.Role != "" {
		labels[lblTrainJobRole] = p.Role
	}
	if len(labels) > 0 {
		md["labels"] = labels
	}
	if len(ann) > 0 {
		md["annotations"] = ann
	}
	if len(owners) > 0 {
		md["ownerReferences"] = owners
	}
	return md
}

// kubePodObject writes a pod as the API would: times in whole seconds.
func kubePodObject(t *Trace, p *Pod, base float64) map[string]any {
	ts := func(v float64) string { return kubeTimeText(v + base) }
	req := map[string]string{}
	if p.CPU > 0 {
		req["cpu"] = fmt.Sprintf("%dm", p.CPU)
	}
	if p.Memory > 0 {
		req["memory"] = fmt.Sprint(p.Memory)
	}
	if p.GPU > 0 {
		req["nvidia.com/gpu"] = fmt.Sprint(p.GPU)
	}
	container := map[string]any{"name": "main", "resources": map[string]any{}}
	if len(req) > 0 {
		container["resources"] = map[string]any{"requests": req}
	}
	spec := map[string]any{"containers": []any{container}}
	if p.Node != "" {
		spec["nodeName"] = p.Node
	}
	if p.Scheduler != "" {
		spec["schedulerName"] = p.Scheduler
	}
	phase := p.Phase
	if phase == "" {
		switch {
		case Known(p.Finished):
			phase = "Succeeded"
		case Known(p.Started):
			phase = "Running"
		default:
			phase = "Pending"
		}
	}
	var conds []any
	cond := func(typ string, v float64) {
		if Known(v) {
			conds = append(conds, map[string]any{"type": typ, "status": "True", "lastProbeTime": nil, "lastTransitionTime": ts(v)})
		}
	}
	cond("PodReadyToStartContainers", p.SandboxReady)
	cond("Initialized", p.Initialized)
	cond("Ready", p.Ready)
	cond("ContainersReady", p.ContainersReady)
	cond("PodScheduled", p.Scheduled)
	status := map[string]any{"phase": phase}
	if !Known(p.Scheduled) && p.Reason != "" {
		c := map[string]any{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": p.Reason, "lastProbeTime": nil}
		if Known(p.Created) {
			c["lastTransitionTime"] = ts(p.Created)
		}
		conds = append(conds, c)
	} else if p.Reason != "" {
		status["message"] = p.Reason
	}
	if len(conds) > 0 {
		status["conditions"] = conds
	}
	state := map[string]any{}
	switch {
	case Known(p.Finished):
		term := map[string]any{"finishedAt": ts(p.Finished), "exitCode": 0, "reason": "Completed"}
		if phase == "Failed" {
			term["exitCode"], term["reason"] = 1, "Error"
		}
		if Known(p.Started) {
			term["startedAt"] = ts(p.Started)
		}
		state["terminated"] = term
	case Known(p.Started):
		state["running"] = map[string]any{"startedAt": ts(p.Started)}
	default:
		state["waiting"] = map[string]any{"reason": "ContainerCreating"}
	}
	status["containerStatuses"] = []any{map[string]any{"name": "main", "state": state, "lastState": map[string]any{},
		"ready": phase == "Running" && Known(p.Ready), "restartCount": 0, "started": phase == "Running"}}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": kubePodMeta(t, p, base), "spec": spec, "status": status}
}

// writeKubePods writes the trace's pods as kubectl get pods -o json
// writes them: a List, one item at a time. Times are whole seconds (the
// API's metav1.Time; fractions are truncated), so a pod read back has
// its times truncated to the second. A relative trace's times are
// written from its Start when known, else from 1970-01-01T00:00:00Z.
// fluxShell reports whether p is a Flux job's shell (a simulated run
// keeps them as its pods): Kubernetes never lists them, so the
// Kubernetes writers leave them out.
func fluxShell(t *Trace, p *Pod) bool {
	j := t.FindJob(p.Job)
	return j != nil && j.Kind == "FluxJob"
}

func writeKubePods(w io.Writer, t *Trace) error {
	base := kubeBase(t)
	if _, err := io.WriteString(w, "{\n    \"apiVersion\": \"v1\",\n    \"items\": ["); err != nil {
		return err
	}
	i := 0
	for _, p := range t.Pods {
		if fluxShell(t, p) {
			continue
		}
		b, err := json.MarshalIndent(kubePodObject(t, p, base), "        ", "    ")
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		i++
		sep := ",\n        "
		if i == 1 {
			sep = "\n        "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
	return err
}
