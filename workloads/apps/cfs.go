package apps

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// The CPU limit of a pod (limits.cpu = q cores) is the Linux CFS
// bandwidth controller: every period P (cpu.cfs_period_us, 100 ms by
// default) the pod's cgroup gets q·P seconds of CPU time; its threads
// run until the runtime is spent and are then throttled, all of them,
// until the period ends. This file turns that mechanism into the time
// of a bulk-synchronous phase.
//
// Assumptions, each what an MPI code under a quota does:
//
//   - A rank never sleeps: it computes, or it busy-polls for messages
//     (MPI's progress engine spins while it waits). So the ρ ranks of
//     a pod are always runnable, the pod spends its runtime at ρ cores
//     whatever the ranks are doing, and its on/off pattern does not
//     depend on the application: on for a = P·min(1, q/ρ) at the start
//     of each of its periods (less CFSWindowLoss when throttled),
//     throttled for g = P − a. Ranks that
//     finish their share of a step early spin and burn quota like the
//     ones still computing; that is why waiting costs.
//   - The ranks of a pod have the same work per step, so they finish
//     their compute together.
//   - Every pod's cgroup has its own period timer, so pods run out of
//     step with one another: pod j's periods start at φ_j + m·P, the
//     φ_j independent and uniform on [0, P). (Measured: two cgroups on
//     one machine get unrelated phases; nodes certainly do.)
//   - A step (a phase of t0 seconds with S synchronisations has S
//     steps of c = t0/S: compute and communication, spinning) ends
//     when every pod has had c seconds of running time since the step
//     began: the slowest pod gates the step, and the next begins then.
//
// A pod that starts a step at position u of its period (u = time since
// its last refill) needs c of running time, so it finishes after
//
//	D(u) = c                          if u + c ≤ a   (fits the window)
//	D(u) = c + g·⌈(c − a + u)/a⌉      if u < a       (crosses gaps)
//	D(u) = (P − u) + c + g·(⌈c/a⌉ − 1) if u ≥ a      (starts throttled)
//
// which rises from D(0) to its peak c + g·⌈c/a⌉ just as the window
// closes (u = a) and falls back over the gap. The step lasts the
// largest D over the pods; the positions at the next step follow from
// the phases. With the phases fixed this is a deterministic walk round
// the period; cfsQuota runs it for the phase's S steps (the max over a
// sorted set of phases is a binary search, since D has one peak, and a
// run of steps that all fit their windows is taken at once) and
// averages over phase draws from a fixed seed.
//
// The limits: q ≥ ρ leaves D = c (nothing changes). One pod (N = 1)
// never waits for anyone: its S steps need S·c of running time, S·c/δ
// of wall time (δ = a/P = q/ρ), the average model, give or take one
// gap. Steps much longer than P cross ⌈c/a⌉ gaps give or take one, so
// the step is c/δ plus at most about one period whatever N is: the
// average again, for long steps. Steps much shorter than a either fit
// a window (full speed) or wait a whole gap for a pod that is
// throttled; with many pods out of step some pod is nearly always
// throttled, so each step tends to c + g·⌈c/a⌉ (the peak), about one
// period a step: the slowdown grows with the node count, far beyond
// ρ/q.
//
// Left out: the 5 ms slices in which the runtime is handed to each
// CPU (the window is a within a slice per CPU), cpu.cfs_burst_us, a
// pod-level quota nested over the container's, MPI libraries that
// block (sleep) instead of spinning while they wait (a pod that
// waits then saves its quota), and ranks of one pod finishing apart.

// DefaultCFSPeriod is the CFS bandwidth period Kubernetes uses
// (cpu.cfs_period_us = 100000; kubelet's cpuCFSQuotaPeriod).
const DefaultCFSPeriod = 0.1

// CFSWindowLoss is the running time a throttled pod loses each period
// beyond its quota (seconds): its window is q·P/ρ − ℓ. The kernel hands
// the runtime to each CPU in slices and leaves up to 1 ms
// (min_cfs_rq_runtime) on a CPU a thread has left, and the ranks resume
// a little after the refill. Fitted by TestCFSMeasured to the runs of
// scripts/measure-cfs.sh (a grid of 0.1 ms): 0.1 ms. Not pinned: fitted
// on the bound ranks' runs alone it is 0.1 ms, on the unbound ranks'
// 1.0 ms, and pods of 16 ranks on 16 CPUs may strand more. It matters
// only where a step needs a whole number of windows almost exactly.
const CFSWindowLoss = 0.0001

// cfsDraws is how many phase draws the expectation averages over, for
// jobs of up to cfsDrawUnits pods; more pods take fewer draws (the
// slowest of many pods varies little from draw to draw).
const (
	cfsDraws     = 48
	cfsDrawUnits = 64
	cfsSeed      = 0x6366735f71756f74 // "cfs_quot"
	// cfsPeriods is how many periods a long phase is walked before the
	// rest is extrapolated at the rate of its second half.
	cfsPeriods = 200
)

// cfsPods are pods alike under the quota: how many, and the part of
// each period they run (a/P).
type cfsPods struct {
	count int
	duty  float64
}

// cfsJob is a job's pods under CFS bandwidth control.
type cfsJob struct {
	period float64
	// loss is ℓ, CFSWindowLoss (a field so the fit can vary it).
	loss float64
	pods []cfsPods
}

// window is how long a pod that may run duty of each period runs:
// duty·P − ℓ when throttled, never less than half its quota's share.
func (j cfsJob) window(duty float64) float64 {
	a := duty * j.period
	if duty >= 1 {
		return a
	}
	return max(a-j.loss, a/2)
}

// cfsJobOf groups the pods of the placement by their duty: a pod of
// node i runs ρ = r_i/k_i ranks under quota q, so δ = min(1, q/ρ). It
// reports false when no pod is throttled (q ≥ ρ everywhere).
func (e *Env) cfsJob() (cfsJob, bool) {
	j := cfsJob{period: e.CFSPeriod, loss: CFSWindowLoss}
	if j.period == 0 {
		j.period = DefaultCFSPeriod
	}
	if e.CPUQuota <= 0 {
		return j, false
	}
	throttled := false
	for i, r := range e.Placement.RanksPerNode {
		k := e.pods(i)
		rho := float64(r) / float64(k)
		duty := 1.0
		if rho > e.CPUQuota {
			duty = e.CPUQuota / rho
			throttled = true
		}
		found := false
		for g := range j.pods {
			if j.pods[g].duty == duty {
				j.pods[g].count += k
				found = true
				break
			}
		}
		if !found {
			j.pods = append(j.pods, cfsPods{count: k, duty: duty})
		}
	}
	// A fixed order, so the phase draws do not depend on the
	// placement's order of nodes.
	slices.SortFunc(j.pods, func(a, b cfsPods) int {
		switch {
		case a.duty < b.duty:
			return -1
		case a.duty > b.duty:
			return 1
		}
		return a.count - b.count
	})
	return j, throttled
}

// delay is D(u): how long a pod whose window is a of every period P
// takes to get c seconds of running time from position u of its
// period.
func cfsDelay(u, a, P, c float64) float64 {
	if a >= P {
		return c
	}
	g := P - a
	if u < a {
		if c <= a-u {
			return c
		}
		return c + g*math.Ceil((c-a+u)/a)
	}
	return (P - u) + c + g*(math.Ceil(c/a)-1)
}

// cfsGroup is one group of alike pods with their phases drawn: sorted
// starts of their periods in [0, P).
type cfsGroup struct {
	a      float64
	phases []float64
}

// worst is the group's slowest pod for a step starting at x: its D,
// and, when every pod fits the step in its window, how many steps of c
// fit before the first window closes (0 otherwise).
func (g *cfsGroup) worst(x, P, c float64) (d float64, fit float64) {
	if g.a >= P {
		return c, math.Inf(1)
	}
	n := len(g.phases)
	// D peaks at u = a, i.e. at the phase x − a: the candidates are
	// the first phase at or after it (the largest u ≤ a) and the last
	// before it (the smallest u > a).
	y := pos(x-g.a, P)
	k, _ := slices.BinarySearch(g.phases, y)
	in := g.phases[k%n]
	out := g.phases[(k-1+n)%n]
	uIn := pos(x-in, P)
	uOut := pos(x-out, P)
	d = max(cfsDelay(uIn, g.a, P, c), cfsDelay(uOut, g.a, P, c))
	if d == c && uIn <= g.a {
		fit = math.Floor((g.a - uIn) / c)
	}
	return d, fit
}

// pos is t modulo P in [0, P).
func pos(t, P float64) float64 {
	u := t - P*math.Floor(t/P)
	if u < 0 || u >= P {
		// Rounding at the edges of [0, P).
		u = 0
	}
	return u
}

// walk runs steps steps of c seconds from time x0 with the groups'
// phases fixed and returns the time they take. Longer than cfsPeriods
// periods, the rest is extrapolated at the rate of the second half of
// the walk.
func cfsWalk(groups []cfsGroup, P, c, steps, x0 float64) float64 {
	if len(groups) == 1 && len(groups[0].phases) == 1 {
		// One pod waits for no one: its steps need steps·c of running
		// time in a row.
		g := groups[0]
		return cfsDelay(pos(x0-g.phases[0], P), g.a, P, steps*c)
	}
	x, done := x0, 0.0
	halfX, halfDone := math.NaN(), 0.0
	limit := cfsPeriods * P
	for done < steps {
		d, fit := c, math.Inf(1)
		for i := range groups {
			gd, gf := groups[i].worst(x, P, c)
			d = max(d, gd)
			fit = min(fit, gf)
		}
		if d == c && fit >= 1 {
			n := min(fit, math.Ceil(steps-done))
			x += n * c
			done += n
		} else {
			x += d
			done++
		}
		if math.IsNaN(halfX) && x-x0 >= limit/2 {
			halfX, halfDone = x, done
		}
		if x-x0 >= limit && done < steps && done > halfDone {
			rate := (x - halfX) / (done - halfDone)
			return x - x0 + (steps-done)*rate
		}
	}
	// A fractional last step counts its fraction.
	if done > steps {
		x -= (done - steps) * c
	}
	return x - x0
}

// units is the number of pods.
func (j cfsJob) units() int {
	n := 0
	for _, p := range j.pods {
		n += p.count
	}
	return n
}

// expected is the mean time of a phase of steps steps of c seconds
// each, over independent uniform phases of the pods' periods (and of
// the phase's start), drawn from a fixed seed.
func (j cfsJob) expected(c, steps float64) float64 {
	draws := cfsDraws
	if n := j.units(); n > cfsDrawUnits {
		draws = max(8, cfsDraws*cfsDrawUnits/n)
	}
	sum := 0.0
	for _, t := range j.draws(c, steps, draws) {
		sum += t
	}
	return sum / float64(draws)
}

// draws is the phase's time for n draws of the phases.
func (j cfsJob) draws(c, steps float64, n int) []float64 {
	P := j.period
	rng := rand.New(rand.NewPCG(cfsSeed, uint64(j.units())))
	groups := make([]cfsGroup, len(j.pods))
	for i, p := range j.pods {
		groups[i] = cfsGroup{a: j.window(p.duty), phases: make([]float64, p.count)}
	}
	out := make([]float64, n)
	for d := range out {
		for i := range groups {
			for k := range groups[i].phases {
				groups[i].phases[k] = rng.Float64() * P
			}
			slices.Sort(groups[i].phases)
		}
		out[d] = cfsWalk(groups, P, c, steps, rng.Float64()*P)
	}
	return out
}

// quota is the expected time of a phase of t0 seconds uncontended
// with syncs synchronisations (at least one: the phase ends when the
// last pod is done) under the job's quota. Answers are remembered (the
// same job shape recurs across a scenario's jobs and its contention
// pricing); the function is pure, so this changes no result.
func (j cfsJob) quota(t0, syncs float64) float64 {
	steps := max(1, syncs)
	key := j.key(t0, steps)
	cfsMemo.Lock()
	v, ok := cfsMemo.m[key]
	cfsMemo.Unlock()
	if ok {
		return v
	}
	v = j.expected(t0/steps, steps)
	cfsMemo.Lock()
	if len(cfsMemo.m) >= cfsMemoSize {
		clear(cfsMemo.m)
	}
	cfsMemo.m[key] = v
	cfsMemo.Unlock()
	return v
}

const cfsMemoSize = 4096

var cfsMemo = struct {
	sync.Mutex
	m map[string]float64
}{m: make(map[string]float64)}

func (j cfsJob) key(t0, steps float64) string {
	b := make([]byte, 0, 8*(4+2*len(j.pods)))
	for _, v := range []float64{j.period, j.loss, t0, steps} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, p := range j.pods {
		b = binary.LittleEndian.AppendUint64(b, uint64(p.count))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.duty))
	}
	return string(b)
}

// average is the old model: the phase lasts t0/δ on the most throttled
// pod (the limit of long steps).
func (j cfsJob) average(t0 float64) float64 {
	d := 1.0
	for _, p := range j.pods {
		d = min(d, p.duty)
	}
	return t0 / d
}
