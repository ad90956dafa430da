package apps

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
)

// finish is when a pod whose windows are [φ+mP, φ+mP+a) has had c
// seconds of running time from x, found by walking its windows one by
// one: a reference for cfsDelay and the walk that shares none of their
// code.
func finish(x, phi, a, P, c float64) float64 {
	need := c
	for m := math.Floor((x-phi)/P) - 1; ; m++ {
		ws, we := phi+m*P, phi+m*P+a
		if we <= x {
			continue
		}
		s := max(x, ws)
		if we-s >= need {
			return s + need
		}
		need -= we - s
	}
}

// bruteWalk is the job's steps with every pod's finish computed by
// finish: the reference for cfsWalk.
func bruteWalk(phases []float64, a, P, c float64, steps int, x0 float64) float64 {
	x := x0
	for range steps {
		next := x + c
		for _, phi := range phases {
			next = max(next, finish(x, phi, a, P, c))
		}
		x = next
	}
	return x - x0
}

func TestCFSDelayMatchesWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const P = 0.1
	for i := range 20000 {
		a := P * (0.05 + 0.95*rng.Float64())
		c := []float64{1e-4, 1e-3, 0.01, 0.05, 0.3, 2.5}[i%6] * (0.5 + rng.Float64())
		u := rng.Float64() * P
		got := cfsDelay(u, a, P, c)
		want := finish(u, 0, a, P, c) - u
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("a %.6g c %.6g u %.6g: D %.9g, walking the windows %.9g", a, c, u, got, want)
		}
	}
}

func TestCFSWalkMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const P = 0.1
	for i := range 300 {
		n := []int{1, 2, 3, 5, 16, 40}[i%6]
		a := P * (0.1 + 0.85*rng.Float64())
		c := []float64{2e-4, 3e-3, 0.02, 0.07, 0.25}[i%5] * (0.5 + rng.Float64())
		steps := 1 + rng.IntN(300)
		phases := make([]float64, n)
		for k := range phases {
			phases[k] = rng.Float64() * P
		}
		x0 := rng.Float64() * P
		want := bruteWalk(phases, a, P, c, steps, x0)
		slices.Sort(phases)
		got := cfsWalk([]cfsGroup{{a: a, phases: phases}}, P, c, float64(steps), x0)
		// Walks longer than cfsPeriods periods are extrapolated from
		// their second half: off by about a period over that half.
		tol := 1e-9 * float64(steps)
		if want > cfsPeriods*P {
			tol = want * 2 / cfsPeriods
		}
		if math.Abs(got-want) > tol {
			t.Fatalf("%d pods, a %.4g, c %.4g, %d steps: walk %.9g s, brute force %.9g s", n, a, c, steps, got, want)
		}
	}
	// Two groups of different duties: the slowest pod of either gates.
	phA, phB := []float64{0.013, 0.061}, []float64{0.002, 0.044, 0.09}
	var want float64
	x := 0.031
	for range 50 {
		next := x + 0.004
		for _, phi := range phA {
			next = max(next, finish(x, phi, 0.03, 0.1, 0.004))
		}
		for _, phi := range phB {
			next = max(next, finish(x, phi, 0.07, 0.1, 0.004))
		}
		want += next - x
		x = next
	}
	got := cfsWalk([]cfsGroup{{a: 0.03, phases: phA}, {a: 0.07, phases: phB}}, 0.1, 0.004, 50, 0.031)
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("two duties: walk %.9g s, brute force %.9g s", got, want)
	}
}

// job is n pods of rho ranks under quota q, period P.
func job(n int, rho, q, P float64) cfsJob {
	return cfsJob{period: P, pods: []cfsPods{{count: n, duty: min(1, q/rho)}}}
}

func TestCFSLimits(t *testing.T) {
	const P = DefaultCFSPeriod
	// One pod: the average, give or take one gap, for any step.
	for _, c := range []float64{1e-4, 3e-3, 0.04, 0.5} {
		j := job(1, 16, 6, P)
		steps := 20 / c * P
		got, avg := j.expected(c, steps), j.average(c*steps)
		if gap := P * (1 - 6.0/16); math.Abs(got-avg) > gap {
			t.Errorf("one pod, c %g: %.4f s, the average %.4f s: more than a gap (%.3f s) apart", c, got, avg, gap)
		}
	}
	// Long steps: the average plus at most about a period a step,
	// whatever the number of pods.
	for _, n := range []int{2, 8, 64} {
		j := job(n, 16, 8, P)
		c, steps := 50*P+0.0123, 10.0
		got, avg := j.expected(c, steps), j.average(c*steps)
		if !(got >= avg-P && got <= avg+steps*P) {
			t.Errorf("%d pods, steps of %g s: %.3f s, want within [%.3f, %.3f] (average, plus a period a step)", n, c, got, avg-P, avg+steps*P)
		}
		if rel := got/avg - 1; rel > P/(c*0.5) {
			t.Errorf("%d pods, steps of %g s: %.4f above the average, more than a period per step (%.4f)", n, c, rel, P/(c*0.5))
		}
	}
	// Short steps: the slowdown grows with the pods out of step, past
	// the ratio of ranks to cores, towards the peak of D (a gap a step).
	c, steps := 1e-3, 2000.0
	peak := c + (P-P*0.5)*math.Ceil(c/(P*0.5))
	prev := 0.0
	for _, n := range []int{1, 2, 4, 8, 32, 128, 512} {
		per := job(n, 16, 8, P).expected(c, steps) / steps
		if per < prev {
			t.Errorf("%d pods: %.5f s a step, fewer than with fewer pods (%.5f s)", n, per, prev)
		}
		if per > peak*(1+1e-9) {
			t.Errorf("%d pods: %.5f s a step, beyond the peak %.5f s", n, per, peak)
		}
		prev = per
	}
	if avgStep := 2 * c; !(prev > (peak+avgStep)/2) {
		t.Errorf("512 pods: %.5f s a step, want near the peak %.5f s (the average is %.5f s)", prev, peak, avgStep)
	}
	// More quota, less time.
	last := math.Inf(1)
	for _, q := range []float64{2, 4, 8, 12, 15} {
		got := job(8, 16, q, P).expected(0.01, 300)
		if !(got < last) {
			t.Errorf("quota %g: %.4f s, not less than with less quota (%.4f s)", q, got, last)
		}
		last = got
	}
}

func TestContentionQuota(t *testing.T) {
	node := Node{Cores: 16, MemoryBandwidth: 100}
	env := func(q float64, ppn []int) *Env {
		return &Env{Fabric: instant(), Placement: network.Uniform(4, 16), Node: node, CPUQuota: q, PodsPerNode: ppn}
	}
	w := Work{Seconds: 10, Syncs: 2000}
	free := env(0, nil).Contention(w)
	// A quota at or above the ranks of a pod changes nothing.
	for _, q := range []float64{16, 32} {
		if got := env(q, nil).Contention(w); got != free {
			t.Errorf("quota %g for 16 ranks: %.9g s, want %.9g s as without", q, got, free)
		}
	}
	if got := env(8, []int{2, 2, 2, 2}).Contention(w); got != free {
		t.Errorf("2 pods of 8 ranks with quota 8: %.9g s, want %.9g s as without", got, free)
	}
	// 2 pods of 8 ranks a node at 4 cores: 8 pods at half speed, out of
	// step; the same as cfs.go's expectation, and beyond the average.
	e := env(4, []int{2, 2, 2, 2})
	got := e.Contention(w)
	j, throttled := e.cfsJob()
	if !throttled || j.units() != 8 || len(j.pods) != 1 || j.pods[0].duty != 0.5 {
		t.Fatalf("pods under the quota: %+v (throttled %v), want 8 pods at duty 0.5", j, throttled)
	}
	if want := j.quota(w.Seconds, w.Syncs); got != want {
		t.Errorf("Contention %.9g s, the CFS model %.9g s", got, want)
	}
	if avg := w.Seconds * 16 / 8; !(got > avg) {
		t.Errorf("%.4f s, want more than the average %.4f s", got, avg)
	}
	// Same inputs, same answer (a fixed seed).
	if again := env(4, []int{2, 2, 2, 2}).Contention(w); again != got {
		t.Errorf("not deterministic: %.17g then %.17g", got, again)
	}
	// The node's own cores still bind when they are the tighter limit:
	// a quota above the ranks on an oversubscribed node.
	over := &Env{Fabric: instant(), Placement: network.Uniform(2, 32), Node: node, CPUQuota: 40}
	if got, want := over.Contention(Work{Seconds: 10}), 10*32.0/16; !near(got, want, 1e-12) {
		t.Errorf("32 ranks on 16 cores, quota 40: %.9g s, want %.9g s", got, want)
	}
	// A period other than 100 ms, and the kernel's bounds on it.
	e.CFSPeriod = 0.02
	if short := e.Contention(w); !(short < got) {
		t.Errorf("20 ms periods: %.4f s, want less than with 100 ms (%.4f s): shorter gaps", short, got)
	}
	for _, p := range []float64{1e-4, 2, math.NaN(), -0.1} {
		e.CFSPeriod = p
		if err := e.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cfsPeriod") {
			t.Errorf("cfsPeriod %g: %v, want an error naming cfsPeriod", p, err)
		}
	}
}

// measuredRun is one row of scripts/measure-cfs.sh's output.
type measuredRun struct {
	bind, groups, ranks int
	quota, period       float64 // cores, s
	compute             float64 // s
	steps               int
	start               float64 // s, modulo the period
	phases              []float64
	coherence, wall     float64
	line                int
}

const measuredCFS = "../../scenarios/calibrate/testdata/cfs-measured.csv"

func readMeasuredCFS(t *testing.T) []measuredRun {
	t.Helper()
	f, err := os.Open(measuredCFS)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", measuredCFS, err)
	}
	want := []string{"bind", "groups", "ranks", "quota_cores", "period_ms", "compute_ms", "steps", "start_ms", "phases_ms", "coherence", "wall_s"}
	if !slices.Equal(header, want) {
		t.Fatalf("%s: header %v, want %v", measuredCFS, header, want)
	}
	var runs []measuredRun
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", measuredCFS, err)
		}
		line, _ := r.FieldPos(0)
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s:%d: %s: %q is not a number ≥ 0", measuredCFS, line, want[i], rec[i])
			}
			return v
		}
		m := measuredRun{bind: int(num(0)), groups: int(num(1)), ranks: int(num(2)), quota: num(3), period: num(4) / 1e3,
			compute: num(5) / 1e3, steps: int(num(6)), start: num(7) / 1e3, coherence: num(9), wall: num(10), line: line}
		for _, p := range strings.Split(rec[8], ";") {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil {
				t.Fatalf("%s:%d: phases_ms: %q", measuredCFS, line, rec[8])
			}
			m.phases = append(m.phases, v/1e3)
		}
		if len(m.phases) != m.groups || m.groups < 1 || m.ranks < 1 || m.steps < 1 || !(m.period > 0) || !(m.wall > 0) {
			t.Fatalf("%s:%d: inconsistent row %v", measuredCFS, line, rec)
		}
		slices.Sort(m.phases)
		runs = append(runs, m)
	}
	if len(runs) == 0 {
		t.Fatalf("%s: no runs", measuredCFS)
	}
	return runs
}

// atPhases is the model walked on the phases run m measured, from its
// start, with window loss loss.
func (m measuredRun) atPhases(loss float64) float64 {
	j := cfsJob{period: m.period, loss: loss}
	duty := min(1, m.quota/float64(m.ranks))
	return cfsWalk([]cfsGroup{{a: j.window(duty), phases: m.phases}}, m.period, m.compute, float64(m.steps), m.start)
}

// meanError is the mean absolute relative error of predict over runs.
func meanError(runs []measuredRun, predict func(measuredRun) float64) float64 {
	sum := 0.0
	for _, m := range runs {
		sum += math.Abs(predict(m)/m.wall - 1)
	}
	return sum / float64(len(runs))
}

// medianError is the median absolute relative error of predict over
// runs (a run that other work on the machine held up moves it little).
func medianError(runs []measuredRun, predict func(measuredRun) float64) float64 {
	e := make([]float64, len(runs))
	for i, m := range runs {
		e[i] = math.Abs(predict(m)/m.wall - 1)
	}
	slices.Sort(e)
	if n := len(e); n%2 == 1 {
		return e[n/2]
	} else {
		return (e[n/2-1] + e[n/2]) / 2
	}
}

// fitLoss is the window loss, on a grid of 0.1 ms from 0 to 2 ms, that
// makes the model walked on the measured phases closest to runs.
func fitLoss(runs []measuredRun) float64 {
	best, bestErr := 0.0, math.Inf(1)
	for k := 0; k <= 20; k++ {
		l := float64(k) * 1e-4
		if e := meanError(runs, func(m measuredRun) float64 { return m.atPhases(l) }); e < bestErr {
			best, bestErr = l, e
		}
	}
	return best
}

func (m measuredRun) average() float64 {
	return float64(m.steps) * m.compute / min(1, m.quota/float64(m.ranks))
}

func (m measuredRun) expected(loss float64) float64 {
	j := cfsJob{period: m.period, loss: loss, pods: []cfsPods{{count: m.groups, duty: min(1, m.quota/float64(m.ranks))}}}
	return j.expected(m.compute, float64(m.steps))
}

func filter(runs []measuredRun, keep func(measuredRun) bool) []measuredRun {
	var out []measuredRun
	for _, m := range runs {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// TestCFSMeasured checks the model against the runs of
// scripts/measure-cfs.sh on a 2-core machine (committed; the test needs
// no cgroups): each run's G groups ("nodes") of R ranks, quota q cores
// each, S steps of c ms of CPU work and a busy-polling barrier. The
// model walked on the period phases each run measured (from its start)
// tests the mechanism itself; its expectation over uniform phases, what
// Contention uses, is reported beside it. The baseline is the old
// average, S·c·R/q.
//
// One parameter, the window loss ℓ (CFSWindowLoss), is fitted here on a
// grid; the committed constant must be the fit over all runs. Held out:
// ℓ fitted on the runs with bound ranks predicts the unbound ones, and
// the other way round. The model must beat the average held out, and
// on the runs of several groups in sample.
func TestCFSMeasured(t *testing.T) {
	runs := readMeasuredCFS(t)
	if got := fitLoss(runs); math.Abs(got-CFSWindowLoss) > 1e-12 {
		t.Errorf("window loss fitted to %s: %.4f s; CFSWindowLoss is %.4f s: update it", measuredCFS, got, CFSWindowLoss)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-5s %-3s %-3s %-5s %-4s %-5s %-4s %-8s %-17s %-17s %-17s\n", "bind", "G", "R", "q", "P ms", "c ms", "S", "measured", "model (phases)", "model (expected)", "average")
	for _, m := range runs {
		at, exp, avg := m.atPhases(CFSWindowLoss), m.expected(CFSWindowLoss), m.average()
		rel := func(v float64) float64 { return 100 * (v/m.wall - 1) }
		fmt.Fprintf(&table, "%-5d %-3d %-3d %-5g %-4g %-5g %-4d %-8.3f %6.3f (%+4.0f%%)   %6.3f (%+4.0f%%)   %6.3f (%+4.0f%%)\n",
			m.bind, m.groups, m.ranks, m.quota, m.period*1e3, m.compute*1e3, m.steps, m.wall, at, rel(at), exp, rel(exp), avg, rel(avg))
	}
	t.Logf("%s: %d runs, model with ℓ = %.1f ms\n%s", measuredCFS, len(runs), CFSWindowLoss*1e3, table.String())

	avg := func(m measuredRun) float64 { return m.average() }
	for _, c := range []struct {
		name string
		runs []measuredRun
	}{
		{"all runs", runs},
		{"runs of 2 to 4 groups", filter(runs, func(m measuredRun) bool { return m.groups > 1 })},
		{"runs of one group", filter(runs, func(m measuredRun) bool { return m.groups == 1 })},
	} {
		at := meanError(c.runs, func(m measuredRun) float64 { return m.atPhases(CFSWindowLoss) })
		at0 := meanError(c.runs, func(m measuredRun) float64 { return m.atPhases(0) })
		exp := meanError(c.runs, func(m measuredRun) float64 { return m.expected(CFSWindowLoss) })
		base := meanError(c.runs, avg)
		atMed := medianError(c.runs, func(m measuredRun) float64 { return m.atPhases(CFSWindowLoss) })
		baseMed := medianError(c.runs, avg)
		t.Logf("in sample, %s (%d): mean absolute error: model on the measured phases %.1f%% (ℓ = 0: %.1f%%), model's expectation %.1f%%, average %.1f%%; median: model on the measured phases %.1f%%, average %.1f%%",
			c.name, len(c.runs), 100*at, 100*at0, 100*exp, 100*base, 100*atMed, 100*baseMed)
		if c.name == "runs of 2 to 4 groups" && !(at < base) {
			t.Errorf("%s: the model on the measured phases (%.1f%%) does not beat the average (%.1f%%)", c.name, 100*at, 100*base)
		}
	}
	for _, b := range []int{0, 1} {
		train := filter(runs, func(m measuredRun) bool { return m.bind != b })
		test := filter(runs, func(m measuredRun) bool { return m.bind == b })
		l := fitLoss(train)
		at := meanError(test, func(m measuredRun) float64 { return m.atPhases(l) })
		base := meanError(test, avg)
		t.Logf("held out: ℓ = %.1f ms fitted on the runs with bind=%d predicts the %d runs with bind=%d: model on the measured phases %.1f%%, average %.1f%%",
			l*1e3, 1-b, len(test), b, 100*at, 100*base)
		if !(at < base) {
			t.Errorf("held out bind=%d: the model (%.1f%%) does not beat the average (%.1f%%)", b, 100*at, 100*base)
		}
	}

	// The expectation over phases, where one configuration was run from
	// several drawn phases: the mean of the runs against the model's
	// expectation.
	type cfg struct {
		bind, groups, ranks, steps int
		quota, period, c           float64
	}
	byCfg := map[cfg][]measuredRun{}
	var order []cfg
	for _, m := range runs {
		k := cfg{m.bind, m.groups, m.ranks, m.steps, m.quota, m.period, m.compute}
		if byCfg[k] == nil {
			order = append(order, k)
		}
		byCfg[k] = append(byCfg[k], m)
	}
	var expErr, baseErr float64
	n := 0
	for _, k := range order {
		rs := byCfg[k]
		if len(rs) < 8 {
			continue
		}
		mean, meanExp, meanAvg := 0.0, 0.0, 0.0
		for _, m := range rs {
			mean += m.wall / float64(len(rs))
			meanExp += m.expected(CFSWindowLoss) / float64(len(rs))
			meanAvg += m.average() / float64(len(rs))
		}
		// The model's own spread over phases: the standard error of a
		// mean of len(rs) draws.
		m0 := rs[0]
		j := cfsJob{period: m0.period, loss: CFSWindowLoss, pods: []cfsPods{{count: m0.groups, duty: min(1, m0.quota/float64(m0.ranks))}}}
		ds := j.draws(m0.compute, float64(m0.steps), 2000)
		mu, v := 0.0, 0.0
		for _, d := range ds {
			mu += d / float64(len(ds))
		}
		for _, d := range ds {
			v += (d - mu) * (d - mu) / float64(len(ds)-1)
		}
		se := math.Sqrt(v / float64(len(rs)))
		t.Logf("%d runs of %d groups × %d ranks, q %g, %d steps of %g ms: measured mean %.3f s; model's expectation %.3f s (%+.0f%%; its spread over phases %.3f s, so ± %.3f s for a mean of %d: %.1f standard errors off); average %.3f s (%+.0f%%)",
			len(rs), k.groups, k.ranks, k.quota, k.steps, k.c*1e3, mean, meanExp, 100*(meanExp/mean-1), math.Sqrt(v), se, len(rs), (mean-mu)/se, meanAvg, 100*(meanAvg/mean-1))
		expErr += math.Abs(meanExp/mean - 1)
		baseErr += math.Abs(meanAvg/mean - 1)
		n++
	}
	if n > 0 && !(expErr < baseErr) {
		t.Errorf("over phases: the model's expectation (%.1f%%) does not beat the average (%.1f%%)", 100*expErr/float64(n), 100*baseErr/float64(n))
	}
}

// BenchmarkCFSQuota is the expectation behind one Contention of a
// throttled phase, not remembered: 32 nodes of 16 ranks at 8 cores,
// 100 s in 10⁵ synchronisations.
func BenchmarkCFSQuota(b *testing.B) {
	e := &Env{Fabric: instant(), Placement: network.Uniform(32, 16), Node: Node{Cores: 16, MemoryBandwidth: 100}, CPUQuota: 8}
	j, _ := e.cfsJob()
	for b.Loop() {
		j.expected(100/1e5, 1e5)
	}
}

// TestCFSPredictions prints what the model predicts beyond the
// measurements: 4 to 32 nodes of 16 ranks (one pod a node), quotas of
// 8, 12 and 16 cores, bulk-synchronous steps of 1, 10 and 100 ms of
// CPU time, as slowdowns over the unthrottled run beside the average
// (16/q). It checks the shape: never below the average (less a period
// over the run), growing with the nodes.
func TestCFSPredictions(t *testing.T) {
	const run = 60.0 // seconds of unthrottled work
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-6s %-6s %-8s", "nodes", "ranks", "quota", "average")
	steps := []float64{1e-3, 1e-2, 1e-1}
	for _, c := range steps {
		fmt.Fprintf(&b, " %-10s", fmt.Sprintf("c=%gms", c*1e3))
	}
	b.WriteString("\n")
	for _, q := range []float64{8, 12, 16} {
		prev := make([]float64, len(steps))
		for _, n := range []int{4, 8, 16, 32} {
			e := &Env{Fabric: instant(), Placement: network.Uniform(n, 16), Node: Node{Cores: 16, MemoryBandwidth: 100}, CPUQuota: q}
			avg := 16 / q
			fmt.Fprintf(&b, "%-6d %-6d %-6g %-8.3f", n, 16*n, q, avg)
			for i, c := range steps {
				s := e.Contention(Work{Seconds: run, Syncs: run / c}) / run
				fmt.Fprintf(&b, " %-10.3f", s)
				if s < avg-DefaultCFSPeriod/run || s < prev[i]*(1-1e-9) {
					t.Errorf("%d nodes, quota %g, steps of %g s: %.3f×, below the average %.3f× or than on fewer nodes %.3f×", n, q, c, s, avg, prev[i])
				}
				prev[i] = s
			}
			b.WriteString("\n")
		}
	}
	t.Logf("slowdown over the unthrottled run (16 ranks a node, one pod a node, P = 100 ms):\n%s", b.String())
}
