package traces

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Comparison is how close a simulated run came to a recorded one, job
// by job (jobs matched by key: see JobKey) and as distributions.
type Comparison struct {
	// Recorded and Simulated count the jobs on each side; Matched the
	// jobs found on both.
	Recorded, Simulated, Matched int
	Jobs                         []JobComparison

	// Start-up (submission until the job runs) and run time (from then
	// until it ended), in seconds, over the matched jobs with both
	// known: mean error (simulated − recorded), mean absolute error,
	// mean absolute percentage error, and the count.
	Startup, RunTime ErrorStats
	// StartupBaseline and RunTimeBaseline are the errors of the naive
	// prediction over the same jobs: each job's value predicted by the
	// mean of the other recorded jobs' (leave one out).
	StartupBaseline, RunTimeBaseline ErrorStats
	// KS is the Kolmogorov–Smirnov distance between the recorded and the
	// simulated start-up delays (all jobs of each side with one), NaN
	// when a side has none.
	KS float64
	// Makespan is each side's first submission to last end, and its
	// relative error (simulated/recorded − 1).
	RecordedMakespan, SimulatedMakespan, MakespanError float64
	// Placement: the share of matched jobs whose pods per node (sorted)
	// are the same on both sides; the mean absolute difference in
	// distinct nodes; over the jobs with a placement on both sides
	// (Placed).
	PlacementAgreement, DistinctNodesMAE float64
	Placed                               int
}

// ErrorStats summarise errors simulated − recorded.
type ErrorStats struct {
	N               int
	Mean, MAE, MAPE float64
}

// JobComparison is one matched job.
type JobComparison struct {
	Key                                       string
	RecordedStartup, SimulatedStartup         float64
	RecordedRunTime, SimulatedRunTime         float64
	RecordedDistinct, SimulatedDistinct       int
	RecordedMostPerNode, SimulatedMostPerNode int
	SamePlacement                             bool
}

// JobKey is the key jobs are matched on: the job's ID with every
// character outside [A-Za-z0-9._-] replaced by '.', as a replayed job
// is named.
func JobKey(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '.'
	}, id)
}

// StartupOf is a job's start-up delay: the recorded Startup, else
// Start − Submit (NaN when unknown).
func StartupOf(j *Job) float64 {
	if Known(j.Startup) {
		return j.Startup
	}
	return j.Start - j.Submit
}

// RunTimeOf is a job's run time: from the end of its start-up to its
// end (NaN when unknown).
func RunTimeOf(j *Job) float64 {
	if s := StartupOf(j); Known(s) && Known(j.Submit) && Known(j.End) {
		return j.End - (j.Submit + s)
	}
	return j.Duration()
}

// placement returns a job's pods per node, largest first (nil when no
// pod has a node). Without pods, each node of the nodelist counts once.
func placement(t *Trace, j *Job) []int {
	per := map[string]int{}
	for _, i := range j.Pods {
		if p := t.Pods[i]; p.Node != "" && p.Role != "launcher" {
			per[p.Node]++
		}
	}
	if len(j.Pods) == 0 {
		for _, n := range j.NodeList {
			per[n]++
		}
	}
	if len(per) == 0 {
		return nil
	}
	out := make([]int, 0, len(per))
	for _, c := range per {
		out = append(out, c)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// Compare compares a simulated run with the recorded one it replays.
func Compare(recorded, simulated *Trace) *Comparison {
	c := &Comparison{Recorded: len(recorded.Jobs), Simulated: len(simulated.Jobs)}
	sims := map[string]*Job{}
	for _, j := range simulated.Jobs {
		sims[JobKey(j.ID)] = j
	}
	var su, ru errAcc
	var dist errAcc
	agree := 0
	// The simulated side's distributions are over the jobs matched (a
	// replay may run more jobs than one scheduler recorded).
	matched := &Trace{}
	for _, r := range recorded.Jobs {
		key := JobKey(r.ID)
		s := sims[key]
		if s == nil {
			continue
		}
		c.Matched++
		matched.Jobs = append(matched.Jobs, s)
		jc := JobComparison{Key: key,
			RecordedStartup: StartupOf(r), SimulatedStartup: StartupOf(s),
			RecordedRunTime: RunTimeOf(r), SimulatedRunTime: RunTimeOf(s)}
		su.add(jc.SimulatedStartup, jc.RecordedStartup)
		ru.add(jc.SimulatedRunTime, jc.RecordedRunTime)
		rp, sp := placement(recorded, r), placement(simulated, s)
		if rp != nil && sp != nil {
			c.Placed++
			jc.RecordedDistinct, jc.SimulatedDistinct = len(rp), len(sp)
			jc.RecordedMostPerNode, jc.SimulatedMostPerNode = rp[0], sp[0]
			jc.SamePlacement = slices.Equal(rp, sp)
			if jc.SamePlacement {
				agree++
			}
			dist.add(float64(len(sp)), float64(len(rp)))
		}
		c.Jobs = append(c.Jobs, jc)
	}
	c.Startup, c.RunTime = su.stats(), ru.stats()
	c.StartupBaseline = leaveOneOut(c.Jobs, func(j *JobComparison) (float64, float64) { return j.RecordedStartup, j.SimulatedStartup })
	c.RunTimeBaseline = leaveOneOut(c.Jobs, func(j *JobComparison) (float64, float64) { return j.RecordedRunTime, j.SimulatedRunTime })
	c.PlacementAgreement, c.DistinctNodesMAE = NaN, NaN
	if c.Placed > 0 {
		c.PlacementAgreement = float64(agree) / float64(c.Placed)
		c.DistinctNodesMAE = dist.stats().MAE
	}
	c.KS = KSDistance(startups(recorded), startups(matched))
	c.RecordedMakespan, c.SimulatedMakespan = makespan(recorded), makespan(matched)
	c.MakespanError = c.SimulatedMakespan/c.RecordedMakespan - 1
	return c
}

func startups(t *Trace) []float64 {
	var v []float64
	for _, j := range t.Jobs {
		if s := StartupOf(j); Known(s) {
			v = append(v, s)
		}
	}
	return v
}

// makespan is the first submission to the last end (NaN when a job has
// no end).
func makespan(t *Trace) float64 {
	first, last := NaN, NaN
	for _, j := range t.Jobs {
		if Known(j.Submit) && (!Known(first) || j.Submit < first) {
			first = j.Submit
		}
		if !Known(j.End) {
			if j.Status == "cancelled" || j.Status == "failed" {
				continue
			}
			return NaN
		}
		last = maxKnown(last, j.End)
	}
	return last - first
}

type errAcc struct {
	n             int
	sum, abs, rel float64
	nrel          int
}

func (a *errAcc) add(sim, rec float64) {
	if !Known(sim) || !Known(rec) {
		return
	}
	d := sim - rec
	a.n++
	a.sum += d
	a.abs += math.Abs(d)
	if rec != 0 {
		a.rel += math.Abs(d / rec)
		a.nrel++
	}
}

func (a *errAcc) stats() ErrorStats {
	s := ErrorStats{N: a.n, Mean: NaN, MAE: NaN, MAPE: NaN}
	if a.n > 0 {
		s.Mean, s.MAE = a.sum/float64(a.n), a.abs/float64(a.n)
	}
	if a.nrel > 0 {
		s.MAPE = 100 * a.rel / float64(a.nrel)
	}
	return s
}

// leaveOneOut is the error of predicting each recorded value by the
// mean of the others, over the jobs whose simulated value is known too.
func leaveOneOut(jobs []JobComparison, f func(*JobComparison) (rec, sim float64)) ErrorStats {
	var sum float64
	n := 0
	for i := range jobs {
		if r, s := f(&jobs[i]); Known(r) && Known(s) {
			sum += r
			n++
		}
	}
	var acc errAcc
	if n < 2 {
		return acc.stats()
	}
	for i := range jobs {
		if r, s := f(&jobs[i]); Known(r) && Known(s) {
			acc.add((sum-r)/float64(n-1), r)
		}
	}
	return acc.stats()
}

// KSDistance is the two-sample Kolmogorov–Smirnov statistic: the
// largest difference between the empirical distribution functions of a
// and b (NaN when either is empty).
func KSDistance(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return NaN
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	var i, j int
	d := 0.0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// Text renders the comparison for a person.
func (c *Comparison) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jobs            %d recorded, %d simulated, %d matched\n", c.Recorded, c.Simulated, c.Matched)
	row := func(label string, e ErrorStats) {
		if e.N == 0 {
			fmt.Fprintf(&b, "%-15s no job with both\n", label)
			return
		}
		what := ""
		if strings.HasSuffix(label, "baseline") {
			what = ": each job predicted by the mean of the others"
		}
		fmt.Fprintf(&b, "%-15s mean error %+.3g s, MAE %.3g s, MAPE %.1f%% (%d jobs)%s\n", label, e.Mean, e.MAE, e.MAPE, e.N, what)
	}
	row("start-up", c.Startup)
	row("  baseline", c.StartupBaseline)
	row("run time", c.RunTime)
	row("  baseline", c.RunTimeBaseline)
	if Known(c.KS) {
		fmt.Fprintf(&b, "start-up KS     %.3f (distance between the start-up delay distributions)\n", c.KS)
	}
	if Known(c.MakespanError) {
		fmt.Fprintf(&b, "makespan        %.1f s recorded, %.1f s simulated (%+.1f%%)\n", c.RecordedMakespan, c.SimulatedMakespan, 100*c.MakespanError)
	}
	if c.Placed > 0 {
		fmt.Fprintf(&b, "placement       %.0f%% of %d jobs with the same pods per node; distinct nodes off by %.2f on average\n",
			100*c.PlacementAgreement, c.Placed, c.DistinctNodesMAE)
	}
	return b.String()
}

// CSV renders the per-job comparison.
func (c *Comparison) CSV() string {
	var b strings.Builder
	b.WriteString("job,recorded_startup,simulated_startup,recorded_run_time,simulated_run_time,recorded_distinct_nodes,simulated_distinct_nodes,recorded_most_per_node,simulated_most_per_node,same_placement\n")
	f := func(v float64) string {
		if !Known(v) {
			return ""
		}
		return fmt.Sprintf("%.6f", v)
	}
	for _, j := range c.Jobs {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%d,%d,%d,%d,%t\n", j.Key, f(j.RecordedStartup), f(j.SimulatedStartup),
			f(j.RecordedRunTime), f(j.SimulatedRunTime), j.RecordedDistinct, j.SimulatedDistinct,
			j.RecordedMostPerNode, j.SimulatedMostPerNode, j.SamePlacement)
	}
	return b.String()
}
