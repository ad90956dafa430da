package report

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
)

// DefaultBSLDThreshold is the bounded slowdown's threshold τ in seconds
// (Feitelson et al., "Theory and practice in parallel job scheduling",
// JSSPP 1997: 10 s keeps very short jobs from dominating the mean).
const DefaultBSLDThreshold = 10.0

// UtilisationWindows is how many equal windows the utilisation over
// time is given in.
const UtilisationWindows = 10

// HPC is the batch-scheduling view of the Flux jobs of a run, as the
// Parallel Workloads Archive literature measures it. Times are Flux's:
// wait = alloc − submit (t_run − t_submit), run = finish − alloc (R's
// runtime, the shells' start-up included), turnaround = finish − submit.
type HPC struct {
	Jobs     int // Flux jobs
	Finished int
	Killed   int // killed at their time limit
	Rejected int // unsatisfiable
	// Threshold is the bounded slowdown's τ (seconds).
	Threshold float64
	Wait      Stats
	Run       Stats
	// Turnaround and BoundedSlowdown, max(1, (wait + run) / max(run, τ)),
	// are over the finished jobs.
	Turnaround      Stats
	BoundedSlowdown Stats
	// Accuracy is run ÷ requested walltime over the finished jobs that
	// had one.
	Accuracy Stats
	// BySize groups the jobs by node count in powers of two (1, 2,
	// 3–4, 5–8, …; jobs without a node count by their slots).
	BySize []SizeClass
	// Fairness is Jain's index of the size classes' mean bounded
	// slowdowns, (Σx)²/(n·Σx²): 1 when every class is slowed alike,
	// 1/n when one class takes all the slowdown.
	Fairness float64
	// Utilisation is the share of the cluster's cores the jobs held in
	// each of UtilisationWindows equal windows from the first
	// submission to the last finish.
	Utilisation []float64
}

// SizeClass is the jobs of sizes (Min, Max].
type SizeClass struct {
	Min, Max        int
	Jobs            int
	Wait            Stats
	BoundedSlowdown Stats
}

// MeasureHPC computes the HPC view of res's Flux jobs with threshold τ
// (0: DefaultBSLDThreshold); nil if the run has none.
func MeasureHPC(res *engine.Result, tau float64) *HPC {
	if tau <= 0 {
		tau = DefaultBSLDThreshold
	}
	h := &HPC{Threshold: tau}
	var wait, run, turn, bsld, acc []float64
	classes := map[int]*struct{ wait, bsld []float64 }{}
	first, last := math.Inf(1), math.Inf(-1)
	for _, j := range res.Jobs {
		f := j.Flux
		if f == nil {
			continue
		}
		h.Jobs++
		first = min(first, j.Submitted)
		if j.IsRejected() {
			h.Rejected++
			continue
		}
		if f.TimedOut() {
			h.Killed++
		}
		w := span(j.Submitted, f.Alloc)
		wait = append(wait, w)
		size := f.Nodes
		if size == 0 {
			size = f.Slots
		}
		k := bits.Len(uint(size - 1)) // 1 → 0, 2 → 1, 3–4 → 2, 5–8 → 3
		c := classes[k]
		if c == nil {
			c = &struct{ wait, bsld []float64 }{}
			classes[k] = c
		}
		if engine.IsSet(w) {
			c.wait = append(c.wait, w)
		}
		if !engine.IsSet(j.Finished) {
			continue
		}
		h.Finished++
		last = max(last, j.Finished)
		r := j.Finished - f.Alloc
		run = append(run, r)
		turn = append(turn, j.Finished-j.Submitted)
		b := max(1, (w+r)/max(r, tau))
		bsld = append(bsld, b)
		c.bsld = append(c.bsld, b)
		if f.Walltime > 0 {
			acc = append(acc, r/f.Walltime)
		}
	}
	if h.Jobs == 0 {
		return nil
	}
	h.Wait, h.Run, h.Turnaround, h.BoundedSlowdown, h.Accuracy = Describe(wait), Describe(run), Describe(turn), Describe(bsld), Describe(acc)
	keys := make([]int, 0, len(classes))
	for k := range classes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sum, sum2 float64
	n := 0
	for _, k := range keys {
		c := classes[k]
		lo, hi := 1<<max(k-1, 0), 1<<k
		if k == 0 {
			lo = 0
		}
		sc := SizeClass{Min: lo, Max: hi, Jobs: len(c.wait), Wait: Describe(c.wait), BoundedSlowdown: Describe(c.bsld)}
		h.BySize = append(h.BySize, sc)
		if m := sc.BoundedSlowdown.Mean; sc.BoundedSlowdown.Count > 0 && engine.IsSet(m) {
			sum += m
			sum2 += m * m
			n++
		}
	}
	h.Fairness = math.NaN()
	if n > 0 && sum2 > 0 {
		h.Fairness = sum * sum / (float64(n) * sum2)
	}
	h.Utilisation = coreUtilisation(res, first, last)
	return h
}

// coreUtilisation is the share of the cluster's cores held by Flux jobs
// in UtilisationWindows equal windows of [from, to].
func coreUtilisation(res *engine.Result, from, to float64) []float64 {
	if !(to > from) || res.Cluster == nil {
		return nil
	}
	var cores float64
	for _, n := range res.Cluster.Nodes {
		if !n.Nested {
			cores += float64(n.Allocatable.MilliCPU)
		}
	}
	if cores == 0 {
		return nil
	}
	held := make([]float64, UtilisationWindows)
	width := (to - from) / UtilisationWindows
	for _, p := range res.Pods {
		if p.Job.Flux == nil || !engine.IsSet(p.Assigned) {
			continue
		}
		end := p.Finished
		if !engine.IsSet(end) {
			end = to
		}
		a, b := p.Assigned, min(end, to)
		for i := max(0, int((a-from)/width)); i < UtilisationWindows; i++ {
			ws, we := from+float64(i)*width, from+float64(i+1)*width
			if ws >= b {
				break
			}
			if ov := min(b, we) - max(a, ws); ov > 0 {
				held[i] += float64(p.Requests.MilliCPU) * ov
			}
		}
	}
	for i := range held {
		held[i] /= cores * width
	}
	return held
}

// renderHPC appends the HPC section of the summary.
func renderHPC(b *bytes.Buffer, h *HPC, width int) {
	fmt.Fprintf(b, "\nBatch jobs (Flux; seconds)%*s", width+3-len("Batch jobs (Flux; seconds)"), "")
	for _, hd := range []string{"count", "mean", "p50", "p90", "p99", "max"} {
		fmt.Fprintf(b, "%*s", statWidth, hd)
	}
	b.WriteString("\n")
	row := func(label string, st Stats) {
		fmt.Fprintf(b, "  %-*s %*d", width, label, statWidth, st.Count)
		for _, v := range []float64{st.Mean, st.P50, st.P90, st.P99, st.Max} {
			fmt.Fprintf(b, "%*s", statWidth, cell(v))
		}
		b.WriteString("\n")
	}
	row("wait (submit → alloc)", h.Wait)
	row("run (alloc → finish)", h.Run)
	row("turnaround", h.Turnaround)
	row(fmt.Sprintf("bounded slowdown (τ %g s)", h.Threshold), h.BoundedSlowdown)
	if h.Accuracy.Count > 0 {
		row("walltime accuracy", h.Accuracy)
	}
	fmt.Fprintf(b, "  %-*s %d of %d finished, %d killed at their time limit, %d unsatisfiable\n", width, "jobs", h.Finished, h.Jobs, h.Killed, h.Rejected)
	fmt.Fprintf(b, "\nWait by job size (nodes)%*s", width+3-len("Wait by job size (nodes)"), "")
	for _, hd := range []string{"jobs", "wait mean", "wait p90", "bsld mean"} {
		fmt.Fprintf(b, "%*s", statWidth, hd)
	}
	b.WriteString("\n")
	for _, c := range h.BySize {
		label := fmt.Sprintf("%d–%d", c.Min+1, c.Max)
		if c.Min+1 == c.Max {
			label = fmt.Sprint(c.Max)
		}
		fmt.Fprintf(b, "  %-*s %*d%*s%*s%*s\n", width, label, statWidth, c.Jobs, statWidth, cell(c.Wait.Mean), statWidth, cell(c.Wait.P90), statWidth, cell(c.BoundedSlowdown.Mean))
	}
	fmt.Fprintf(b, "  %-*s %s\n", width, "fairness (Jain, bsld)", decimal(h.Fairness))
	if len(h.Utilisation) > 0 {
		parts := make([]string, len(h.Utilisation))
		for i, u := range h.Utilisation {
			parts[i] = fmt.Sprintf("%.0f", 100*u)
		}
		fmt.Fprintf(b, "  %-*s %s %%\n", width, "cores held, by tenth", strings.Join(parts, " "))
	}
}
