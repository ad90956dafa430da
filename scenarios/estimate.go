package scenarios

import (
	"fmt"
	"math"
	"strings"

	"github.com/convergesim/converge/engine"
)

// The memory a run takes, per thing it simulates: the growth of the peak
// resident size of `sim run` (simulate, then write every output, the
// event trace streamed to disk), measured with /usr/bin/time on generated
// scenarios (README, "Scenario size"):
//
//	N = 50,000 … 200,000 nodes:                      3.6 KiB a node
//	100,000 … 1,000,000 pods (jobs of 1,000 pods):   0.70 KiB a pod
//	50,000 … 200,000 one-pod jobs:                   0.65 KiB a job besides its pod
//
// rounded up. Events are the lifecycle records a pod and a job leave
// (8 and 2); a pod's failed scheduling attempts are not counted (they
// depend on the run; aggregated and streamed, they cost no memory).
const (
	BytesBase         = 32 << 20 // the program, the policy, one scenario's files
	BytesPerNode      = 4 << 10
	BytesPerNodeLabel = 128 // each label and taint of a pool, copied into each of its nodes
	BytesPerJob       = 1 << 10
	BytesPerPod       = 1 << 10
	EventsPerPod      = 8
	EventsPerJob      = 2
)

// MaxIDs is the most nodes, jobs or pods one run can hold: the engine
// numbers them with 32-bit ids. It applies whatever the memory limit.
const MaxIDs = math.MaxInt32

// Size is what a scenario implies before anything is built. Counts
// saturate at math.MaxInt64 instead of overflowing.
type Size struct {
	Nodes  int64 // nodes of every pool
	Jobs   int64 // jobs submitted (a job per runtime for app workloads)
	Pods   int64 // pods the jobs create to complete
	Events int64 // lifecycle records (failed scheduling attempts not counted)
	Bytes  int64 // estimated peak memory of a run, bytes
}

// satAdd and satMul are non-negative int64 arithmetic that saturates at
// math.MaxInt64 (negative inputs count as 0).
func satAdd(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// part is one contributor to a scenario's size: a pool or a workload,
// with the field that makes it large.
type part struct {
	path              string // the field to blame
	nodes, jobs, pods int64
	bytes             int64
}

// workloadShape is a workload's jobs and pods per job, as Build makes
// them, and the field that makes it large.
func workloadShape(w *Workload, path string, nodes int64) (jobs, perJob int64, field string) {
	runtimes := int64(max(len(w.Runtimes), 1))
	count := int64(max(w.Count, 1))
	jobs = satMul(count, runtimes)
	perJob = 1
	field = path + ".count"
	if t := w.traced; t != nil {
		jobs = int64(len(t.jobs))
		return jobs, (t.pods + jobs - 1) / max(jobs, 1), path + ".trace.files"
	}
	if w.Kind == "FluxJob" {
		// One shell per node of R: the nodes asked for, or without
		// them at most one per task and per node of the cluster; a
		// batch workload's jobs draw their sizes: count their mean.
		f := w.Flux
		if f == nil {
			f = &FluxSpec{}
		}
		perJob = int64(max(f.Nodes, 1))
		if f.Nodes == 0 && f.Tasks > 0 {
			perJob = int64((&engine.FluxSpec{Slots: f.Tasks}).Holders(int(min(nodes, math.MaxInt32))))
		}
		if b := w.Batch; b != nil {
			sz := b.sizes()
			lo, hi := float64(sz.Min), float64(sz.Max)
			mean := lo
			if hi > lo {
				mean = sz.Serial*lo + (1-sz.Serial)*(hi+1-lo)/math.Log((hi+1)/lo)
			}
			perJob = int64(math.Ceil(mean))
		}
		return jobs, perJob, field
	}
	if w.Kind != "Pod" {
		perJob = int64(max(w.Parallelism, 1))
		pf := path + ".parallelism"
		if w.Completions > 0 {
			perJob, pf = int64(w.Completions), path+".completions"
		}
		if w.Kind == "MPIJob" {
			perJob++ // the launcher pod
		}
		if perJob > count {
			field = pf
		}
	}
	return jobs, perJob, field
}

// poolNodes is the nodes of every pool (0: none given).
func (sc *Scenario) poolNodes() int64 {
	var n int64
	for i := range sc.Cluster.Pools {
		n = satAdd(n, int64(max(sc.Cluster.Pools[i].Count, 0)))
	}
	return n
}

func (sc *Scenario) parts() []part {
	var out []part
	nodes := sc.poolNodes()
	for i := range sc.Cluster.Pools {
		p := &sc.Cluster.Pools[i]
		n := int64(max(p.Count, 0))
		per := satAdd(BytesPerNode, satMul(int64(len(p.Labels)+len(p.Taints)), BytesPerNodeLabel))
		out = append(out, part{path: fmt.Sprintf("cluster.pools[%d].count", i), nodes: n, bytes: satMul(n, per)})
	}
	if u := sc.Usernetes; u != nil {
		n := int64(u.Workers + 1)
		out = append(out, part{path: "usernetes.workers", nodes: n, jobs: 1, pods: n, bytes: satAdd(satMul(n, BytesPerNode+BytesPerPod), BytesPerJob)})
	}
	for i := range sc.Workflows {
		for k, st := range sc.Workflows[i].Stages {
			w := sc.workload(st.Workload)
			if w == nil {
				continue
			}
			_, perJob, _ := workloadShape(w, "", nodes)
			jobs := int64(max(st.Runs, 0))
			pods := satMul(jobs, perJob)
			out = append(out, part{path: fmt.Sprintf("workflows[%d].stages[%d].runs", i, k), jobs: jobs, pods: pods, bytes: satAdd(satMul(jobs, BytesPerJob), satMul(pods, BytesPerPod))})
		}
	}
	for i := range sc.Workloads {
		if sc.inWorkflow(sc.Workloads[i].Name) {
			continue // its runs are the workflow's
		}
		jobs, perJob, field := workloadShape(&sc.Workloads[i], fmt.Sprintf("workloads[%d]", i), nodes)
		pods := satMul(jobs, perJob)
		out = append(out, part{path: field, jobs: jobs, pods: pods, bytes: satAdd(satMul(jobs, BytesPerJob), satMul(pods, BytesPerPod))})
	}
	return out
}

// Estimate is the size a scenario implies, from its counts alone (it
// builds nothing and cannot overflow).
func Estimate(sc *Scenario) Size {
	s := Size{Bytes: BytesBase}
	for _, p := range sc.parts() {
		s.Nodes = satAdd(s.Nodes, p.nodes)
		s.Jobs = satAdd(s.Jobs, p.jobs)
		s.Pods = satAdd(s.Pods, p.pods)
		s.Bytes = satAdd(s.Bytes, p.bytes)
	}
	s.Events = satAdd(satMul(s.Pods, EventsPerPod), satMul(s.Jobs, EventsPerJob))
	return s
}

// String is the size for messages: "1,000,017 nodes, 46 jobs, 88 pods,
// about 4.8 GiB".
func (s Size) String() string {
	return fmt.Sprintf("%s nodes, %s jobs, %s pods, about %s", count(s.Nodes), count(s.Jobs), count(s.Pods), FormatBytes(s.Bytes))
}

// Limits bound the scenarios a run accepts. A zero field is no limit;
// MaxIDs applies always. The How fields say in a refusal where a limit
// comes from and how to raise it ("--max-memory; the default is 3/4 of
// this machine's memory").
type Limits struct {
	MaxBytes int64 // estimated peak memory
	MaxNodes int64
	MaxPods  int64

	BytesHow, NodesHow, PodsHow string
}

// CheckSize refuses a scenario whose estimate exceeds the limits, with
// an *Error at the field that makes it large (its line, or the override
// that set it). Call it after Parse and before Build.
func CheckSize(sc *Scenario, lim Limits) error {
	if err := checkSize(sc, lim); err != nil {
		err.File = sc.file
		return err
	}
	return nil
}

func checkSize(sc *Scenario, lim Limits) *Error {
	s := Estimate(sc)
	l := &locator{lines: sc.lines, applied: sc.Applied}
	parts := sc.parts()
	// biggest returns the part with the most of f.
	biggest := func(f func(part) int64) part {
		var b part
		for _, p := range parts {
			if f(p) > f(b) {
				b = p
			}
		}
		return b
	}
	how := func(h string) string {
		if h == "" {
			return ""
		}
		return " (" + h + ")"
	}
	switch {
	case s.Nodes > MaxIDs:
		return l.errf(biggest(func(p part) int64 { return p.nodes }).path, "the scenario has %s nodes; a run holds at most %s (the engine numbers them with 32-bit ids)", count(s.Nodes), count(MaxIDs))
	case s.Jobs > MaxIDs:
		return l.errf(biggest(func(p part) int64 { return p.jobs }).path, "the scenario submits %s jobs; a run holds at most %s (the engine numbers them with 32-bit ids)", count(s.Jobs), count(MaxIDs))
	case s.Pods > MaxIDs:
		return l.errf(biggest(func(p part) int64 { return p.pods }).path, "the scenario creates %s pods; a run holds at most %s (the engine numbers them with 32-bit ids)", count(s.Pods), count(MaxIDs))
	case lim.MaxNodes > 0 && s.Nodes > lim.MaxNodes:
		return l.errf(biggest(func(p part) int64 { return p.nodes }).path, "the scenario has %s nodes, more than the limit of %s%s", count(s.Nodes), count(lim.MaxNodes), how(lim.NodesHow))
	case lim.MaxPods > 0 && s.Pods > lim.MaxPods:
		return l.errf(biggest(func(p part) int64 { return p.pods }).path, "the scenario creates %s pods, more than the limit of %s%s", count(s.Pods), count(lim.MaxPods), how(lim.PodsHow))
	case lim.MaxBytes > 0 && lim.MaxBytes < BytesBase:
		return &Error{Msg: fmt.Sprintf("the memory limit of %s%s is below the %s any run needs", FormatBytes(lim.MaxBytes), how(lim.BytesHow), FormatBytes(BytesBase))}
	case lim.MaxBytes > 0 && s.Bytes > lim.MaxBytes:
		return l.errf(biggest(func(p part) int64 { return p.bytes }).path, "the scenario (%s) would need about %s of memory to run, more than the limit of %s%s", s.countsText(), FormatBytes(s.Bytes), FormatBytes(lim.MaxBytes), how(lim.BytesHow))
	}
	return nil
}

func (s Size) countsText() string {
	return fmt.Sprintf("%s nodes, %s jobs, %s pods", count(s.Nodes), count(s.Jobs), count(s.Pods))
}

// count writes n with thousands separators ("9,223,372,036,854,775,807").
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatBytes writes a byte count with a binary unit: "512 B",
// "17.6 GiB", "8 EiB".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0") + " " + units[u]
}
