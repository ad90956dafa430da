package report

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/convergesim/converge/engine"
)

// Number formatting. Every float is rounded to the microsecond (6 decimal
// places) so that the output does not depend on the last bits of a sum.

func round6(f float64) float64 {
	r := math.Round(f*1e6) / 1e6
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// num is a float written to JSON rounded to 6 decimals, null when unset.
type num float64

func (n num) MarshalJSON() ([]byte, error) { return appendNum(nil, float64(n)), nil }

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
		"startup", "wait", "run_time", "turnaround", "app_started", "app_finished",
	}
	podColumns = []string{
		"id", "name", "job_id", "job", "index", "node", "phase",
		"cpu_millicores", "memory_bytes", "gpu",
		"created", "assigned", "scheduled", "initialized", "containers_started", "ready", "finished",
		"startup_delay", "wait", "scheduling_delay", "run_time",
		"attempts", "pull_failures", "pull_seconds", "last_failure",
	}
)

// writeJobs writes jobs.csv, one row per job, each encoded into a reused
// buffer (w buffers: see writeFile).
func writeJobs(w io.Writer, res *engine.Result) error {
	b := appendCSVRow(nil, jobColumns)
	if _, err := w.Write(b); err != nil {
		return err
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
		b = appendInt(b[:0], j.ID)
		b = appendCSVField(append(b, ','), j.Name)
		b = appendCSVField(append(b, ','), j.Workload)
		b = appendCSVField(append(b, ','), j.Runtime)
		b = appendCSVField(append(b, ','), j.Kind.String())
		for _, v := range [...]int{j.Parallelism, j.Completions, len(j.Pods), started, finished} {
			b = appendInt(append(b, ','), v)
		}
		for _, f := range [...]float64{j.Submitted, m.FirstCreated, m.AllScheduled, m.AllStarted, j.Finished,
			m.Startup, m.Wait, m.RunTime, m.Turnaround, j.AppStarted(), j.AppFinished()} {
			b = appendFixed(append(b, ','), f)
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writePods writes pods.csv, one row per pod, as writeJobs does.
func writePods(w io.Writer, res *engine.Result) error {
	b := appendCSVRow(nil, podColumns)
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := writePodRows(w, res.Pods, b)
	return err
}

// writePodRows writes one pods.csv row per pod, using buf (returned, to
// reuse).
func writePodRows(w io.Writer, pods []*engine.Pod, buf []byte) ([]byte, error) {
	for _, p := range pods {
		buf = appendPodRow(buf[:0], p)
		if _, err := w.Write(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// appendPodRow appends p's pods.csv row.
func appendPodRow(b []byte, p *engine.Pod) []byte {
	m := MeasurePod(p)
	b = appendInt(b, p.ID)
	b = appendCSVField(append(b, ','), p.Name)
	b = appendCSVField(append(b, ','), jobID(p.Job))
	b = appendCSVField(append(b, ','), jobName(p.Job))
	b = appendInt(append(b, ','), p.Index)
	b = appendCSVField(append(b, ','), nodeName(p.Node))
	b = appendCSVField(append(b, ','), p.Phase.String())
	for _, v := range [...]int64{p.Requests.MilliCPU, p.Requests.Memory, p.Requests.GPU} {
		b = strconv.AppendInt(append(b, ','), v, 10)
	}
	for _, f := range [...]float64{p.Created, p.Assigned, p.Scheduled, p.Initialized, p.ContainersStarted, p.Ready, p.Finished,
		m.StartupDelay, m.Wait, m.SchedulingDelay, m.RunTime} {
		b = appendFixed(append(b, ','), f)
	}
	b = appendInt(append(b, ','), p.Attempts)
	b = appendInt(append(b, ','), p.PullFailures)
	b = appendFixed(append(b, ','), p.PullSeconds)
	b = appendCSVField(append(b, ','), p.LastFailure)
	return append(b, '\n')
}

func appendCSVRow(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return append(b, '\n')
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// kindName returns the record kind's name; ok is false for a kind the
// engine does not know.
func kindName(k engine.RecKind) (name string, ok bool) {
	name = k.String()
	return name, !strings.HasPrefix(name, "RecKind(")
}
