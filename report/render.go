package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// file is one rendered output.
type file struct {
	name string
	data []byte
}

// render builds every output file in memory.
func render(res *engine.Result, meta Meta) ([]file, error) {
	idx, err := newIndex(res)
	if err != nil {
		return nil, err
	}
	sum := Summarize(res)
	out := []file{{name: SummaryFile, data: renderSummary(res, meta, sum)}}
	b, err := renderResults(res, meta, sum)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ResultsFile, err)
	}
	out = append(out, file{ResultsFile, b})
	if b, err = renderJobs(res); err != nil {
		return nil, fmt.Errorf("%s: %w", JobsFile, err)
	}
	out = append(out, file{JobsFile, b})
	if b, err = renderPods(res); err != nil {
		return nil, fmt.Errorf("%s: %w", PodsFile, err)
	}
	out = append(out, file{PodsFile, b})
	if b, err = renderEvents(res, idx); err != nil {
		return nil, fmt.Errorf("%s: %w", EventsFile, err)
	}
	out = append(out, file{EventsFile, b})
	return out, nil
}

// index resolves the pod and node indexes of Records.
type index struct {
	pods  map[int]*engine.Pod
	nodes []*engine.Node
}

func newIndex(res *engine.Result) (*index, error) {
	ix := &index{pods: make(map[int]*engine.Pod, len(res.Pods))}
	for _, p := range res.Pods {
		if p == nil {
			return nil, fmt.Errorf("result holds a nil pod")
		}
		if _, dup := ix.pods[p.ID]; dup {
			return nil, fmt.Errorf("result holds two pods with id %d", p.ID)
		}
		ix.pods[p.ID] = p
	}
	for _, j := range res.Jobs {
		if j == nil {
			return nil, fmt.Errorf("result holds a nil job")
		}
	}
	if res.Cluster != nil {
		ix.nodes = res.Cluster.Nodes
	}
	return ix, nil
}

// Number formatting. Every float is rounded to the microsecond (6 decimal
// places) so that the output does not depend on the last bits of a sum.

func round6(f float64) float64 {
	r := math.Round(f*1e6) / 1e6
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// fixed formats a float with 6 decimals for CSV; "" when unset.
func fixed(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(round6(f), 'f', 6, 64)
}

// num is a float written to JSON rounded to 6 decimals, null when unset.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round6(f), 'f', -1, 64), nil
}

func nodeName(n *engine.Node) string {
	if n == nil {
		return ""
	}
	return n.Name
}

func jobName(j *engine.Job) string {
	if j == nil {
		return ""
	}
	return j.Name
}

func jobID(j *engine.Job) string {
	if j == nil {
		return ""
	}
	return strconv.Itoa(j.ID)
}

// --- jobs.csv and pods.csv ---

// jobColumns and podColumns are the CSV headers (docs/outputs.md defines them).
var (
	jobColumns = []string{
		"id", "name", "workload", "runtime", "kind", "parallelism", "completions", "pods", "pods_started", "pods_finished",
		"submitted", "first_created", "all_scheduled", "all_started", "finished",
		"startup", "wait", "run_time", "turnaround",
	}
	podColumns = []string{
		"id", "name", "job_id", "job", "index", "node", "phase",
		"cpu_millicores", "memory_bytes", "gpu",
		"created", "assigned", "scheduled", "initialized", "containers_started", "ready", "finished",
		"startup_delay", "wait", "scheduling_delay", "run_time",
		"attempts", "pull_failures", "pull_seconds", "last_failure",
	}
)

func renderJobs(res *engine.Result) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(jobColumns); err != nil {
		return nil, err
	}
	for _, j := range res.Jobs {
		m := MeasureJob(j)
		var started, finished int
		for _, p := range j.Pods {
			if engine.IsSet(p.ContainersStarted) {
				started++
			}
			if engine.IsSet(p.Finished) {
				finished++
			}
		}
		row := []string{
			strconv.Itoa(j.ID), j.Name, j.Workload, j.Runtime, j.Kind.String(),
			strconv.Itoa(j.Parallelism), strconv.Itoa(j.Completions),
			strconv.Itoa(len(j.Pods)), strconv.Itoa(started), strconv.Itoa(finished),
			fixed(j.Submitted), fixed(m.FirstCreated), fixed(m.AllScheduled), fixed(m.AllStarted), fixed(j.Finished),
			fixed(m.Startup), fixed(m.Wait), fixed(m.RunTime), fixed(m.Turnaround),
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func renderPods(res *engine.Result) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(podColumns); err != nil {
		return nil, err
	}
	for _, p := range res.Pods {
		m := MeasurePod(p)
		row := []string{
			strconv.Itoa(p.ID), p.Name, jobID(p.Job), jobName(p.Job), strconv.Itoa(p.Index), nodeName(p.Node), p.Phase.String(),
			strconv.FormatInt(p.Requests.MilliCPU, 10), strconv.FormatInt(p.Requests.Memory, 10), strconv.FormatInt(p.Requests.GPU, 10),
			fixed(p.Created), fixed(p.Assigned), fixed(p.Scheduled), fixed(p.Initialized),
			fixed(p.ContainersStarted), fixed(p.Ready), fixed(p.Finished),
			fixed(m.StartupDelay), fixed(m.Wait), fixed(m.SchedulingDelay), fixed(m.RunTime),
			strconv.Itoa(p.Attempts), strconv.Itoa(p.PullFailures), fixed(p.PullSeconds), p.LastFailure,
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// --- events.jsonl ---

type eventJSON struct {
	T     num    `json:"t"`
	Event string `json:"event"`
	Pod   string `json:"pod,omitempty"`
	Job   string `json:"job,omitempty"`
	Node  string `json:"node,omitempty"`
	Msg   string `json:"msg,omitempty"`
}

// renderEvents writes one JSON object per Record, stable-sorted by time (the
// engine records Ready at its future time when the containers start).
func renderEvents(res *engine.Result, ix *index) ([]byte, error) {
	recs := slices.Clone(res.Records)
	slices.SortStableFunc(recs, func(a, b engine.Record) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, r := range recs {
		name, ok := kindName(r.Kind)
		if !ok {
			return nil, fmt.Errorf("record %d at %v: unknown kind %d", i, r.T, r.Kind)
		}
		ev := eventJSON{T: num(r.T), Event: name, Msg: r.Msg}
		if r.Pod >= 0 {
			p, ok := ix.pods[r.Pod]
			if !ok {
				return nil, fmt.Errorf("record %d (%s at %v): no pod with id %d", i, name, r.T, r.Pod)
			}
			ev.Pod, ev.Job = p.Name, jobName(p.Job)
		}
		if r.Node >= 0 {
			if r.Node >= len(ix.nodes) {
				return nil, fmt.Errorf("record %d (%s at %v): no node with index %d", i, name, r.T, r.Node)
			}
			ev.Node = ix.nodes[r.Node].Name
		}
		if r.Job >= 0 && ev.Job == "" {
			if r.Job >= len(res.Jobs) {
				return nil, fmt.Errorf("record %d (%s at %v): no job with index %d", i, name, r.T, r.Job)
			}
			ev.Job = jobName(res.Jobs[r.Job])
		}
		if err := enc.Encode(ev); err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return buf.Bytes(), nil
}

// kindName returns the record kind's name; ok is false for a kind the
// engine does not know.
func kindName(k engine.RecKind) (name string, ok bool) {
	name = k.String()
	return name, !strings.HasPrefix(name, "RecKind(")
}
