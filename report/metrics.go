package report

import (
	"math"
	"slices"
	"sync"

	"github.com/convergesim/converge/engine"
)

// PodMetrics are the durations (seconds) of one pod, computed from its
// lifecycle timestamps. A duration whose end never happened is NaN.
type PodMetrics struct {
	StartupDelay    float64 // Created → ContainersStarted (pod start-up latency)
	Wait            float64 // Created → Scheduled (PodScheduled=True: the bind completed)
	SchedulingDelay float64 // Created → Assigned (the scheduler chose a node)
	RunTime         float64 // ContainersStarted → Finished
}

// MeasurePod returns the pod's durations.
func MeasurePod(p *engine.Pod) PodMetrics {
	return PodMetrics{
		StartupDelay:    span(p.Created, p.ContainersStarted),
		Wait:            span(p.Created, p.Scheduled),
		SchedulingDelay: span(p.Created, p.Assigned),
		RunTime:         span(p.ContainersStarted, p.Finished),
	}
}

// JobMetrics are the times and durations (seconds) of one job, computed
// from its own and its pods' lifecycle timestamps. The job's first wave is
// the first k = min(parallelism, completions) of its pods to reach a
// condition, matching engine.Job.AllStarted. Anything that never happened is
// NaN.
type JobMetrics struct {
	FirstCreated float64 // creation of the job's first pod
	AllScheduled float64 // time by which k of its pods had PodScheduled=True
	AllStarted   float64 // time by which k of its pods had started their containers

	Startup    float64 // FirstCreated → AllStarted
	Wait       float64 // Submitted → AllScheduled
	RunTime    float64 // AllStarted → Finished
	Turnaround float64 // Submitted → Finished
}

// MeasureJob returns the job's times and durations.
func MeasureJob(j *engine.Job) JobMetrics {
	m := JobMetrics{
		FirstCreated: j.FirstCreated(),
		AllScheduled: firstWave(j, func(p *engine.Pod) float64 { return p.Scheduled }),
		AllStarted:   j.AllStarted(),
	}
	m.Startup = span(m.FirstCreated, m.AllStarted)
	m.Wait = span(j.Submitted, m.AllScheduled)
	m.RunTime = span(m.AllStarted, j.Finished)
	m.Turnaround = span(j.Submitted, j.Finished)
	return m
}

// firstWave returns the k-th smallest set value of at over the job's pods,
// k = min(parallelism, completions) plus an operator's launcher pod
// (engine.Job.WavePods), or NaN if fewer than k are set.
func firstWave(j *engine.Job, at func(*engine.Pod) float64) float64 {
	k := j.WavePods()
	ts := make([]float64, 0, len(j.Pods))
	for _, p := range j.Pods {
		if t := at(p); engine.IsSet(t) {
			ts = append(ts, t)
		}
	}
	if k <= 0 || len(ts) < k {
		return math.NaN()
	}
	slices.Sort(ts)
	return ts[k-1]
}

// span returns to − from, NaN if either is unset.
func span(from, to float64) float64 {
	if !engine.IsSet(from) || !engine.IsSet(to) {
		return math.NaN()
	}
	return to - from
}

// Utilisation is the requested share of the cluster over the utilisation
// window: Σ over pods of request × time held (Assigned → Finished, or →
// Result.End for a pod still holding its node), divided by the cluster's
// allocatable × window. Fractions in [0, 1] (above 1 only when a policy
// over-commits); NaN when undefined.
type Utilisation struct {
	Window float64 // seconds averaged over (see Summary.WindowEnd)
	CPU    float64
	Memory float64
	GPU    float64 // NaN when the cluster has no GPU (HasGPU false)
	HasGPU bool
}

// Summary is the run's headline metrics.
type Summary struct {
	Stopped     string // "" (all work done), "stalled" or "horizon"; see engine.Result
	StallReason string // message of the run's Stalled record, if recorded
	// Stall explains a stalled run (nil otherwise); Starved lists the
	// jobs that waited over DefaultStarveAfter while later jobs started.
	Stall    *Stall
	Starved  []Starved
	Complete bool // every job and every pod finished
	End      float64
	Events   int // calendar events processed
	Records  int // records in the event trace

	Nodes    int
	Capacity engine.Resources // Σ allocatable over nodes

	Jobs         int
	JobsFinished int

	Pods               int // pods created
	PodsScheduled      int // PodScheduled=True
	PodsStarted        int // containers started
	PodsFinished       int
	PodsNeverScheduled int // created but never PodScheduled=True
	PodsNeverStarted   int // created but containers never started
	PodsUnfinished     int // created but never finished
	PodsNeverCreated   int // Σ over jobs of completions − pods created (work that never began)

	FirstSubmitted float64 // earliest job submission
	LastFinished   float64 // latest pod finish
	// Makespan is FirstSubmitted → LastFinished when the run is Complete,
	// NaN otherwise (the workload never finished).
	Makespan float64
	// WindowEnd closes the utilisation window [FirstSubmitted, WindowEnd]:
	// LastFinished when Complete, otherwise End.
	WindowEnd float64

	PodStartupDelay    Stats // over pods whose containers started
	PodWait            Stats // over pods that were scheduled
	PodSchedulingDelay Stats // over pods that were assigned
	PodRunTime         Stats // over pods that finished
	JobStartup         Stats // over jobs whose first wave started
	JobWait            Stats // over jobs whose first wave was scheduled
	JobRunTime         Stats // over jobs that finished
	JobTurnaround      Stats // over jobs that finished
	// JobLaunch and JobAppRunTime are over jobs a launcher started
	// (Launch or Shutdown set; count 0 without): the program's gate →
	// the application's start, and the application's start → end.
	JobLaunch     Stats
	JobAppRunTime Stats

	Utilisation Utilisation

	SchedulingAttempts   int     // Σ Pod.Attempts
	SchedulingFailures   int     // Σ attempts that did not assign the pod
	PullFailures         int     // Σ Pod.PullFailures
	PodsWithPullFailures int     // pods with at least one pull failure
	PullSeconds          float64 // Σ Pod.PullSeconds (completed pulls, queueing included)

	Workloads []WorkloadSummary // per workload, in order of first job
	// Runtimes compares the run time of each workload's jobs across the
	// runtimes they ran in (jobs with a Runtime), in order of first job.
	Runtimes []RuntimeSummary
	// HPC is the batch-scheduling view of the run's Flux jobs (nil if
	// it has none).
	HPC *HPC
}

// RuntimeSummary is the run time of one workload's jobs in one runtime,
// and its ratio to the workload's first runtime (the baseline).
type RuntimeSummary struct {
	Workload string
	Runtime  string
	Jobs     int // jobs that finished (the statistics cover these)
	RunTime  Stats
	// Ratio is RunTime.Mean over the baseline's (1 for the baseline;
	// NaN if either has no finished job).
	Ratio float64
	// Phases are the app model's phases, mean seconds over the jobs, in
	// the order the model reports them.
	Phases []engine.Phase
}

func summarizeRuntimes(jobs []*engine.Job) []RuntimeSummary {
	type key struct{ w, rt string }
	var order []key
	byKey := map[key][]*engine.Job{}
	for _, j := range jobs {
		if j.Runtime == "" {
			continue
		}
		k := key{j.Workload, j.Runtime}
		if j.Experiment != "" {
			k.w = j.Experiment
		}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], j)
	}
	// An experiment's runtimes together, in order of its first job.
	first := map[string]int{}
	for i, k := range order {
		if _, ok := first[k.w]; !ok {
			first[k.w] = i
		}
	}
	slices.SortStableFunc(order, func(a, b key) int { return first[a.w] - first[b.w] })
	out := make([]RuntimeSummary, 0, len(order))
	base := map[string]float64{}
	for _, k := range order {
		r := RuntimeSummary{Workload: k.w, Runtime: k.rt}
		var rts []float64
		var names []string
		sums := map[string]float64{}
		for _, j := range byKey[k] {
			rt := MeasureJob(j).RunTime
			if math.IsNaN(rt) {
				continue
			}
			r.Jobs++
			rts = append(rts, rt)
			for _, ph := range j.Phases {
				if _, ok := sums[ph.Name]; !ok {
					names = append(names, ph.Name)
				}
				sums[ph.Name] += ph.Seconds
			}
		}
		r.RunTime = Describe(rts)
		for _, n := range names {
			r.Phases = append(r.Phases, engine.Phase{Name: n, Seconds: sums[n] / float64(r.Jobs)})
		}
		b, ok := base[k.w]
		if !ok {
			b = r.RunTime.Mean
			base[k.w] = b
		}
		r.Ratio = r.RunTime.Mean / b
		if r.Jobs == 0 || math.IsNaN(b) {
			r.Ratio = math.NaN()
		}
		out = append(out, r)
	}
	return out
}

// WorkloadSummary is the job metrics of one workload (jobs with the same
// engine.Job.Workload).
type WorkloadSummary struct {
	Name          string
	Jobs          int
	JobsFinished  int
	JobStartup    Stats
	JobWait       Stats
	JobTurnaround Stats
}

func summarizeWorkloads(jobs []*engine.Job) []WorkloadSummary {
	var order []string
	byName := map[string][]*engine.Job{}
	for _, j := range jobs {
		if _, ok := byName[j.Workload]; !ok {
			order = append(order, j.Workload)
		}
		byName[j.Workload] = append(byName[j.Workload], j)
	}
	out := make([]WorkloadSummary, 0, len(order))
	for _, name := range order {
		w := WorkloadSummary{Name: name}
		var st, wt, tt []float64
		for _, j := range byName[name] {
			w.Jobs++
			if engine.IsSet(j.Finished) {
				w.JobsFinished++
			}
			m := MeasureJob(j)
			st, wt, tt = append(st, m.Startup), append(wt, m.Wait), append(tt, m.Turnaround)
		}
		w.JobStartup, w.JobWait, w.JobTurnaround = Describe(st), Describe(wt), Describe(tt)
		out = append(out, w)
	}
	return out
}

// Summarize computes the run's headline metrics from its lifecycle
// timestamps.
func Summarize(res *engine.Result) Summary { return SummarizeWith(res, 0) }

// SummarizeWith is Summarize with the bounded slowdown's threshold τ
// in seconds (0: DefaultBSLDThreshold).
func SummarizeWith(res *engine.Result, tau float64) Summary {
	s := Summary{
		Stopped:        res.Stopped,
		End:            res.End,
		Events:         res.Events,
		Records:        res.RecordCount,
		StallReason:    res.StallReason,
		Stall:          ExplainStall(res),
		Starved:        FindStarved(res, DefaultStarveAfter),
		Jobs:           len(res.Jobs),
		Pods:           len(res.Pods),
		FirstSubmitted: math.NaN(),
		LastFinished:   math.NaN(),
	}
	if res.Cluster != nil {
		s.Nodes = len(res.Cluster.Nodes)
		s.Capacity = res.Cluster.Capacity()
	}

	var jLaunch, jApp []float64
	nj := len(res.Jobs)
	jStartup, jWait, jRun, jTurn := make([]float64, 0, nj), make([]float64, 0, nj), make([]float64, 0, nj), make([]float64, 0, nj)
	for _, j := range res.Jobs {
		if j.Launch > 0 || j.Shutdown > 0 {
			jLaunch = append(jLaunch, span(j.Started, j.AppStarted()))
			jApp = append(jApp, span(j.AppStarted(), j.AppFinished()))
		}
		if engine.IsSet(j.Submitted) && !(s.FirstSubmitted <= j.Submitted) {
			s.FirstSubmitted = j.Submitted
		}
		if engine.IsSet(j.Finished) {
			s.JobsFinished++
		}
		s.PodsNeverCreated += max(0, j.PodsWanted()-len(j.Pods))
		m := MeasureJob(j)
		jStartup = append(jStartup, m.Startup)
		jWait = append(jWait, m.Wait)
		jRun = append(jRun, m.RunTime)
		jTurn = append(jTurn, m.Turnaround)
	}

	np := len(res.Pods)
	pStartup, pWait, pSched, pRun := make([]float64, 0, np), make([]float64, 0, np), make([]float64, 0, np), make([]float64, 0, np)
	for _, p := range res.Pods {
		if engine.IsSet(p.Scheduled) {
			s.PodsScheduled++
		} else {
			s.PodsNeverScheduled++
		}
		if engine.IsSet(p.ContainersStarted) {
			s.PodsStarted++
		} else {
			s.PodsNeverStarted++
		}
		if engine.IsSet(p.Finished) {
			s.PodsFinished++
			if !(s.LastFinished >= p.Finished) {
				s.LastFinished = p.Finished
			}
		} else {
			s.PodsUnfinished++
		}
		s.SchedulingAttempts += p.Attempts
		failed := p.Attempts
		if engine.IsSet(p.Assigned) {
			failed--
		}
		s.SchedulingFailures += max(0, failed)
		s.PullFailures += p.PullFailures
		if p.PullFailures > 0 {
			s.PodsWithPullFailures++
		}
		s.PullSeconds += p.PullSeconds
		m := MeasurePod(p)
		pStartup = append(pStartup, m.StartupDelay)
		pWait = append(pWait, m.Wait)
		pSched = append(pSched, m.SchedulingDelay)
		pRun = append(pRun, m.RunTime)
	}

	// Each series is sorted on a goroutine of its own (a million pods
	// make four sorts of a million values) while the rest is computed.
	var wg sync.WaitGroup
	for _, d := range []struct {
		to *Stats
		xs []float64
	}{
		{&s.PodStartupDelay, pStartup}, {&s.PodWait, pWait}, {&s.PodSchedulingDelay, pSched}, {&s.PodRunTime, pRun},
		{&s.JobStartup, jStartup}, {&s.JobWait, jWait}, {&s.JobRunTime, jRun}, {&s.JobTurnaround, jTurn},
		{&s.JobLaunch, jLaunch}, {&s.JobAppRunTime, jApp},
	} {
		wg.Go(func() { *d.to = Describe(d.xs) })
	}
	s.Workloads = summarizeWorkloads(res.Jobs)
	s.Runtimes = summarizeRuntimes(res.Jobs)
	s.HPC = MeasureHPC(res, tau)

	s.Complete = s.JobsFinished == s.Jobs && s.PodsUnfinished == 0 && s.PodsNeverCreated == 0
	s.Makespan = math.NaN()
	s.WindowEnd = res.End
	if s.Complete {
		s.Makespan = span(s.FirstSubmitted, s.LastFinished)
		s.WindowEnd = s.LastFinished
	}
	s.Utilisation = utilisation(res, s.Capacity, span(s.FirstSubmitted, s.WindowEnd))
	wg.Wait()
	return s
}

// utilisation integrates the requests of the pods over the time they held
// their node and divides by capacity × window.
func utilisation(res *engine.Result, capacity engine.Resources, window float64) Utilisation {
	u := Utilisation{Window: window, HasGPU: capacity.GPU > 0}
	var cpu, mem, gpu float64 // resource·seconds
	for _, p := range res.Pods {
		if !engine.IsSet(p.Assigned) {
			continue
		}
		until := p.Finished
		if !engine.IsSet(until) {
			until = res.End
		}
		held := max(0, until-p.Assigned)
		cpu += float64(p.Requests.MilliCPU) * held
		mem += float64(p.Requests.Memory) * held
		gpu += float64(p.Requests.GPU) * held
	}
	u.CPU = ratio(cpu, float64(capacity.MilliCPU)*window)
	u.Memory = ratio(mem, float64(capacity.Memory)*window)
	u.GPU = math.NaN()
	if u.HasGPU {
		u.GPU = ratio(gpu, float64(capacity.GPU)*window)
	}
	return u
}

func ratio(a, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return a / b
}
