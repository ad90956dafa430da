package traces

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// What the Kubernetes readers (kube-pods, kube-nodes, kube-events) share:
// the objects as the API serialises them (only the fields converge
// uses), quantities, timestamps, and how a pod is grouped into a job.

// kubeMeta is an object's metadata.
type kubeMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	UID               string            `json:"uid"`
	CreationTimestamp string            `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
	OwnerReferences   []kubeOwner       `json:"ownerReferences"`
}

// kubeOwner is an owner reference.
type kubeOwner struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	Controller *bool  `json:"controller,omitempty"`
}

// kubePod is a core/v1 Pod.
type kubePod struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   kubeMeta `json:"metadata"`
	Spec       struct {
		NodeName       string          `json:"nodeName"`
		SchedulerName  string          `json:"schedulerName"`
		Containers     []kubeContainer `json:"containers"`
		InitContainers []kubeContainer `json:"initContainers"`
	} `json:"spec"`
	Status struct {
		Phase             string            `json:"phase"`
		Reason            string            `json:"reason"`
		Message           string            `json:"message"`
		Conditions        []kubeCondition   `json:"conditions"`
		ContainerStatuses []kubeContainerSt `json:"containerStatuses"`
	} `json:"status"`
}

type kubeContainer struct {
	Name      string `json:"name"`
	Resources struct {
		Requests map[string]any `json:"requests"`
	} `json:"resources"`
}

type kubeCondition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	LastTransitionTime string `json:"lastTransitionTime"`
}

type kubeContainerSt struct {
	Name      string        `json:"name"`
	State     kubeContState `json:"state"`
	LastState kubeContState `json:"lastState"`
}

type kubeContState struct {
	Running *struct {
		StartedAt string `json:"startedAt"`
	} `json:"running,omitempty"`
	Terminated *struct {
		StartedAt  string `json:"startedAt"`
		FinishedAt string `json:"finishedAt"`
		ExitCode   int    `json:"exitCode"`
		Reason     string `json:"reason,omitempty"`
	} `json:"terminated,omitempty"`
	Waiting *struct {
		Reason string `json:"reason"`
	} `json:"waiting,omitempty"`
}

// Limits of Kubernetes values: past them a record is corrupt.
const (
	// kubeMaxName is the longest object name (a DNS subdomain, 253).
	kubeMaxName = 253
	// kubeMaxMilliCPU is the most CPU a quantity may ask: 10^6 cores.
	kubeMaxMilliCPU = 1e9
	// kubeMaxBytes is the most memory a quantity may ask: 1 EiB.
	kubeMaxBytes = 1 << 60
	// kubeMaxCount is the most GPUs or pods a quantity may give.
	kubeMaxCount = 1e6
)

// Labels and annotations that group pods.
const (
	lblPodGroup       = "scheduling.x-k8s.io/pod-group"    // scheduler-plugins Coscheduling, Fluence
	lblPodGroupOld    = "pod-group.scheduling.sigs.k8s.io" // older scheduler-plugins releases
	lblPodGroupOldN   = "pod-group.scheduling.sigs.k8s.io/name"
	lblFluenceGroup   = "fluence.pod-group" // older Fluence
	lblJobName        = "job-name"
	lblBatchJobName   = "batch.kubernetes.io/job-name"
	lblCompletionIdx  = "batch.kubernetes.io/job-completion-index"
	lblFluxIndex      = "job-index"    // Flux Operator
	lblHPASelector    = "hpa-selector" // Flux Operator: the MiniCluster's name
	lblTrainJobName   = "training.kubeflow.org/job-name"
	lblTrainJobRole   = "training.kubeflow.org/job-role"
	lblTrainReplicaIx = "training.kubeflow.org/replica-index"
	lblTrainOperator  = "training.kubeflow.org/operator-name"
	lblMPIJobName     = "mpi-job-name" // mpi-operator v1
	lblMPIJobRole     = "mpi-job-role"
)

// kubeTime parses an RFC 3339 time of the API (metav1.Time, whole
// seconds, or MicroTime) into Unix seconds; "" and null are unknown
// (NaN). whole reports a time without a fraction of a second.
func kubeTime(s string) (v float64, whole bool, err error) {
	if s == "" || s == "null" {
		return NaN, false, nil
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return NaN, false, fmt.Errorf("not an RFC 3339 time: %s", quote(s))
	}
	if y := tm.Year(); y < 1970 || y > 2200 {
		return NaN, false, fmt.Errorf("a time out of range (year %d): %s", y, quote(s))
	}
	return float64(tm.UnixNano()) / 1e9, !strings.Contains(s, "."), nil
}

// kubeTimeText writes Unix seconds as the API writes a metav1.Time:
// RFC 3339, whole seconds (truncated), UTC.
func kubeTimeText(v float64) string {
	return time.Unix(int64(math.Floor(v)), 0).UTC().Format(time.RFC3339)
}

// kubeMicroText writes Unix seconds as a MicroTime (RFC 3339 with
// microseconds).
func kubeMicroText(v float64) string {
	us := int64(math.Round(v * 1e6))
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// kubeQuantityRe is Kubernetes' quantity grammar: a signed decimal number
// and a suffix (binary Ki..Ei, decimal n u m k M G T P E, or an
// exponent e/E±N).
var kubeQuantityRe = regexp.MustCompile(`^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$`)

var kubeBinarySuffix = map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
var kubeDecimalSuffix = map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

// kubeQuantity parses a Kubernetes quantity ("2", "500m", "4Gi", "1e3",
// "128974848", or a JSON number) into its value times scale (1000 for
// millicores), rounded up as the API's MilliValue and Value do. Negative
// values and values over max are refused.
func kubeQuantity(v any, scale int64, max float64) (int64, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = string(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return 0, nil
	default:
		return 0, fmt.Errorf("not a quantity: a JSON %T", v)
	}
	m := kubeQuantityRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("not a Kubernetes quantity: %s", quote(s))
	}
	if m[1] == "-" {
		return 0, fmt.Errorf("a negative quantity: %s", quote(s))
	}
	r, ok := new(big.Rat).SetString(m[2])
	if !ok {
		return 0, fmt.Errorf("not a Kubernetes quantity: %s", quote(s))
	}
	suf := m[3]
	exp := 0
	switch {
	case kubeBinarySuffix[suf] > 0:
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), kubeBinarySuffix[suf])))
	case len(suf) > 1 && (suf[0] == 'e' || suf[0] == 'E'):
		e, err := strconv.Atoi(suf[1:])
		if err != nil || e > 30 || e < -30 {
			return 0, fmt.Errorf("a quantity out of range: %s", quote(s))
		}
		exp = e
	default:
		exp = kubeDecimalSuffix[suf]
	}
	r.Mul(r, big.NewRat(scale, 1))
	ten := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(kubeAbs(exp))), nil)
	if exp >= 0 {
		r.Mul(r, new(big.Rat).SetInt(ten))
	} else {
		r.Quo(r, new(big.Rat).SetInt(ten))
	}
	if f, _ := r.Float64(); f > max {
		limit := fmt.Sprintf("%g", max)
		switch {
		case scale == 1000:
			limit = fmt.Sprintf("%g cores", max/1000)
		case max == kubeMaxBytes:
			limit = "1 EiB"
		}
		return 0, fmt.Errorf("%s is more than %s (is it the right file?)", quote(s), limit)
	}
	// Round up (the API's Value and MilliValue do).
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if rem.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64(), nil
}

func kubeAbs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// kubeGroup is the job a pod (or a Job object) belongs to.
type kubeGroup struct {
	Kind, Namespace, Name, UID string
	// PodGroup is its pod-group label, when the job is not the group.
	PodGroup string
}

func kubePodGroupLabel(l map[string]string) string {
	for _, k := range []string{lblPodGroup, lblPodGroupOld, lblPodGroupOldN, lblFluenceGroup} {
		if v := l[k]; v != "" {
			return v
		}
	}
	return ""
}

func kubeOwnerOf(m *kubeMeta, kind string) *kubeOwner {
	for i := range m.OwnerReferences {
		if m.OwnerReferences[i].Kind == kind {
			return &m.OwnerReferences[i]
		}
	}
	return nil
}

// kubeGroupOf returns the job of a pod from its metadata: the workload a
// user submitted, in this order: an MPIJob (owner reference, or the
// mpi-operator and training-operator labels), a MiniCluster (a MiniCluster
// owner, or a pod of the Flux Operator's indexed Job, whose hpa-selector
// label names it), a Job (owner reference, then the job-name labels);
// else its pod group (the scheduler-plugins Coscheduling and Fluence
// labels) as a job of kind PodGroup. A workload's pods that also carry a
// pod-group label of another name keep it in PodGroup. ok is false for a
// pod of no group.
func kubeGroupOf(m *kubeMeta) (g kubeGroup, ok bool) {
	l := m.Labels
	g.Namespace = m.Namespace
	pg := kubePodGroupLabel(l)
	set := func(kind, name, uid string) {
		g.Kind, g.Name, g.UID = kind, name, uid
		if pg != "" && pg != name {
			g.PodGroup = pg
		}
		ok = true
	}
	if o := kubeOwnerOf(m, "MPIJob"); o != nil {
		set("MPIJob", o.Name, o.UID)
		return
	}
	if n := l[lblTrainJobName]; n != "" {
		kind := "MPIJob"
		if op := l[lblTrainOperator]; op != "" && op != "mpi-operator" && op != "mpijob-controller" {
			// A training-operator job (PyTorchJob, ...): its kind from
			// the owner, when the pod says.
			kind = "TrainingJob"
			for _, o := range m.OwnerReferences {
				if strings.HasSuffix(o.APIVersion, "kubeflow.org/v1") || strings.Contains(o.APIVersion, "kubeflow.org/") {
					kind = o.Kind
				}
			}
		}
		set(kind, n, "")
		return
	}
	if n := l[lblMPIJobName]; n != "" {
		set("MPIJob", n, "")
		return
	}
	if o := kubeOwnerOf(m, "MiniCluster"); o != nil {
		set("MiniCluster", o.Name, o.UID)
		return
	}
	job := kubeOwnerOf(m, "Job")
	if job != nil && l[lblHPASelector] != "" && l[lblHPASelector] == job.Name {
		set("MiniCluster", job.Name, job.UID)
		return
	}
	if job != nil {
		set("Job", job.Name, job.UID)
		return
	}
	for _, k := range []string{lblBatchJobName, lblJobName} {
		if n := l[k]; n != "" {
			uid := l["batch.kubernetes.io/controller-uid"]
			if uid == "" {
				uid = l["controller-uid"]
			}
			set("Job", n, uid)
			return
		}
	}
	if pg != "" {
		g.Kind, g.Name, ok = "PodGroup", pg, true
		return
	}
	return g, false
}

// kubeJobOfObject returns the job an object of a workload kind (a Job, a
// MiniCluster, an MPIJob, a PodGroup) stands for: a Job that a
// MiniCluster or an MPIJob owns is that MiniCluster or MPIJob (with the
// Job's uid for a MiniCluster, as its pods see it).
func kubeJobOfObject(kind string, m *kubeMeta) (kubeGroup, bool) {
	g := kubeGroup{Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID}
	switch kind {
	case "Job":
		if o := kubeOwnerOf(m, "MiniCluster"); o != nil {
			g.Kind, g.Name = "MiniCluster", o.Name
		} else if o := kubeOwnerOf(m, "MPIJob"); o != nil {
			g.Kind, g.Name, g.UID = "MPIJob", o.Name, o.UID
		} else if n := m.Labels[lblTrainJobName]; n != "" {
			g.Kind, g.Name, g.UID = "MPIJob", n, ""
		}
	case "MiniCluster", "MPIJob", "PodGroup":
		if kind == "MiniCluster" {
			g.UID = "" // its pods know the uid of its Job, not its own
		}
	default:
		return g, false
	}
	return g, true
}

// kubeJobCache remembers, while one file is read, the job of each
// workload instance (namespace/name and uid) and the latest instance of
// each namespace/name, so that kubeJob's search runs once per instance.
type kubeJobCache struct {
	byUID  map[string]string
	latest map[string]string
}

func newKubeJobCache() *kubeJobCache {
	return &kubeJobCache{byUID: map[string]string{}, latest: map[string]string{}}
}

// job returns the trace's job for g (kubeJob); a group of no uid is the
// latest instance of its name read from this file.
func (c *kubeJobCache) job(t *Trace, g kubeGroup, line int) *Job {
	base := g.Namespace + "/" + g.Name
	id, ok := c.latest[base]
	if g.UID != "" {
		id, ok = c.byUID[base+"\x00"+g.UID]
	}
	if ok {
		if j := t.FindJob(id); j != nil {
			if j.Kind == "Job" && g.Kind != "Job" {
				j.Kind = g.Kind
			}
			c.latest[base] = j.ID
			return j
		}
	}
	j := kubeJob(t, g, line)
	if g.UID != "" {
		c.byUID[base+"\x00"+g.UID] = j.ID
	}
	c.latest[base] = j.ID
	return j
}

// kubeJob returns the trace's job for g: "namespace/name", or, when a
// job by that id with another uid was read already (the same MiniCluster
// created again, a Job of the same name), "namespace/name#2", "#3", ...
// The uid is kept in the job's Params["uid"].
func kubeJob(t *Trace, g kubeGroup, line int) *Job {
	base := g.Namespace + "/" + g.Name
	id := base
	for k := 2; ; k++ {
		j := t.FindJob(id)
		if j == nil {
			j, _ = t.Job(id)
			j.Kind, j.Name, j.Line = g.Kind, g.Name, line
			if g.UID != "" {
				j.Params = map[string]string{"uid": g.UID}
			}
			if k > 2 {
				t.Note("kube-same-name", id, "jobs of the same namespace/name but another uid (created again): told apart as namespace/name#2, #3, ... in the order read")
			}
			return j
		}
		old := j.Params["uid"]
		if g.UID == "" || old == "" || old == g.UID {
			if old == "" && g.UID != "" {
				if j.Params == nil {
					j.Params = map[string]string{}
				}
				j.Params["uid"] = g.UID
			}
			if j.Kind == "Job" && g.Kind != "Job" {
				j.Kind = g.Kind // a Job later known to be a MiniCluster's
			}
			return j
		}
		if k > MaxCount {
			return j
		}
		id = fmt.Sprintf("%s#%d", base, k)
	}
}

// kubeTrailingIndex returns the rank in a pod name: the number after the
// job's name ("<job>-<i>-<random>" of an indexed Job, "<job>-worker-<i>"
// of an MPIJob), or -1.
var kubeIndexedName = regexp.MustCompile(`-([0-9]{1,7})(?:-[a-z0-9]{5})?$`)

func kubeTrailingIndex(job, pod string) int {
	rest, ok := strings.CutPrefix(pod, job)
	if !ok {
		return -1
	}
	rest = strings.TrimPrefix(rest, "-worker")
	m := kubeIndexedName.FindStringSubmatch(rest)
	if m == nil || strings.Index(rest, m[0]) != 0 {
		return -1
	}
	i, _ := strconv.Atoi(m[1])
	return i
}

// kubePodIndex returns a pod's completion index or rank (-1 when none).
func kubePodIndex(m *kubeMeta, g kubeGroup, grouped bool) (int, error) {
	for _, src := range []map[string]string{m.Annotations, m.Labels} {
		for _, k := range []string{lblCompletionIdx, lblTrainReplicaIx} {
			if v, ok := src[k]; ok {
				i, err := strconv.Atoi(v)
				if err != nil || i < 0 || i > MaxCount {
					return -1, fmt.Errorf("%s: not an index from 0 to %d: %s", k, MaxCount, quote(v))
				}
				return i, nil
			}
		}
	}
	if v, ok := m.Labels[lblFluxIndex]; ok && grouped && g.Kind == "MiniCluster" {
		if i, err := strconv.Atoi(v); err == nil && i >= 0 && i <= MaxCount {
			return i, nil
		}
	}
	if grouped && (g.Kind == "MiniCluster" || g.Kind == "MPIJob") {
		return kubeTrailingIndex(g.Name, m.Name), nil
	}
	return -1, nil
}

// kubePodRole returns a pod's role in its job (launcher, worker) from the
// training-operator and mpi-operator labels.
func kubePodRole(l map[string]string) string {
	for _, k := range []string{lblTrainJobRole, lblMPIJobRole} {
		if v := l[k]; v != "" {
			return v
		}
	}
	return ""
}

// kubeValidName checks an object's name and namespace.
func kubeValidName(in *Input, line int, field, s string, need bool) error {
	if s == "" && need {
		return in.Errorf(line, field, "missing")
	}
	if len(s) > kubeMaxName {
		return in.Errorf(line, field, "a name longer than %d characters: %s", kubeMaxName, quote(s))
	}
	if strings.ContainsAny(s, "\x00\n/") {
		return in.Errorf(line, field, "not a Kubernetes name: %s", quote(s))
	}
	return nil
}

// kubeLineCursor finds the line of increasing input offsets in one pass,
// reading the file again beside the decoder (0 for standard input).
type kubeLineCursor struct {
	in   *Input
	src  *Input
	r    *bufio.Reader
	off  int64
	line int
	dead bool
	buf  []byte
}

func newKubeLineCursor(in *Input) *kubeLineCursor { return &kubeLineCursor{in: in, line: 1} }

// at returns the line of offset off (not less than the last asked).
func (c *kubeLineCursor) at(off int64) int {
	if c.dead || c.in.path == "" {
		return 0
	}
	if c.src == nil {
		src, err := OpenInput(c.in.path)
		if err != nil {
			c.dead = true
			return 0
		}
		c.src, c.r = src, src.br
	}
	if c.buf == nil {
		c.buf = make([]byte, 32<<10)
	}
	for c.off < off {
		n, err := c.r.Read(c.buf[:min(int64(len(c.buf)), off-c.off)])
		c.line += bytes.Count(c.buf[:n], []byte{'\n'})
		c.off += int64(n)
		if err != nil {
			c.dead = true
			return 0
		}
	}
	return c.line
}

func (c *kubeLineCursor) close() {
	if c.src != nil {
		c.src.Close()
	}
}

// kubeMinT and kubeMaxT keep the earlier or later of two times, NaN unknown.
func kubeMinT(a, b float64) float64 {
	if !Known(a) || (Known(b) && b < a) {
		return b
	}
	return a
}

func kubeMaxT(a, b float64) float64 { return maxKnown(a, b) }
