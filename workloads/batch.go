package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Synthetic batch workloads in the forms the Parallel Workloads Archive
// literature uses:
//
//   - Job sizes (Lublin & Feitelson, JPDC 2003; Downey 1997): a share of
//     serial jobs; the others log-uniform between a minimum and maximum
//     size, a share of them rounded to a power of two (most real
//     machines show a strong power-of-two peak).
//   - Requested walltimes (Mu'alem & Feitelson, TPDS 2001; Tsafrir,
//     Etsion & Feitelson, JSSPP 2005): the user asks for the run time
//     times a factor drawn uniformly from [1, F], rounded up to the next
//     of a few modal values users pick (15 min, 1 h, 4 h, ...); and a
//     share of jobs outrun their request and are killed at the limit.
//     The walltime accuracy is run time ÷ walltime.

// SizeDist draws job sizes (nodes).
type SizeDist struct {
	// Min and Max bound the size (nodes); Max ≥ Min ≥ 1.
	Min, Max int
	// Serial is the share of jobs of size Min (one node, usually).
	Serial float64
	// Pow2 is the share of the other jobs whose size is rounded to the
	// nearest power of two within [Min, Max].
	Pow2 float64
}

// Validate reports an impossible distribution.
func (s SizeDist) Validate() error {
	switch {
	case s.Min < 1:
		return fmt.Errorf("min: %d must be at least 1", s.Min)
	case s.Max < s.Min:
		return fmt.Errorf("max: %d must be at least min (%d)", s.Max, s.Min)
	case !(s.Serial >= 0 && s.Serial <= 1):
		return fmt.Errorf("serial: %v must be a share in [0, 1]", s.Serial)
	case !(s.Pow2 >= 0 && s.Pow2 <= 1):
		return fmt.Errorf("pow2: %v must be a share in [0, 1]", s.Pow2)
	}
	return nil
}

// Draw draws one size.
func (s SizeDist) Draw(r *rand.Rand) int {
	if s.Max == s.Min || r.Float64() < s.Serial {
		return s.Min
	}
	lo, hi := math.Log2(float64(s.Min)), math.Log2(float64(s.Max)+1)
	x := math.Exp2(lo + r.Float64()*(hi-lo))
	n := min(max(int(x), s.Min), s.Max)
	if r.Float64() < s.Pow2 {
		p := 1 << int(math.Round(math.Log2(float64(n))))
		for p > s.Max {
			p >>= 1
		}
		for p < s.Min {
			p <<= 1
		}
		if p <= s.Max {
			n = p
		}
	}
	return n
}

// WalltimeModel turns a job's run time into its requested walltime.
type WalltimeModel struct {
	// Factor F ≥ 1: the request is the run time × U(1, F) (1: exact).
	Factor float64
	// Round lists the modal values users ask for, increasing (seconds);
	// a request is rounded up to the next (beyond the last, kept).
	Round []float64
	// Killed is the share of jobs that would run past their request
	// (their run time is the request × U(1, 2): they are killed at the
	// limit).
	Killed float64
}

// Validate reports an impossible model.
func (w WalltimeModel) Validate() error {
	switch {
	case !(w.Factor >= 1) || math.IsInf(w.Factor, 0):
		return fmt.Errorf("factor: %v must be at least 1 and finite", w.Factor)
	case !(w.Killed >= 0 && w.Killed <= 1):
		return fmt.Errorf("killed: %v must be a share in [0, 1]", w.Killed)
	}
	for i, v := range w.Round {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("round[%d]: %v must be positive and finite", i, v)
		}
		if i > 0 && v <= w.Round[i-1] {
			return fmt.Errorf("round[%d]: %v must be greater than round[%d] (%v)", i, v, i-1, w.Round[i-1])
		}
	}
	return nil
}

// Draw returns (run time, walltime) for a job whose run time, if it
// were not limited, is run.
func (w WalltimeModel) Draw(run float64, r *rand.Rand) (float64, float64) {
	f := 1 + r.Float64()*(w.Factor-1)
	wall := run * f
	if i, _ := slices.BinarySearch(w.Round, wall); i < len(w.Round) {
		wall = w.Round[i]
	}
	wall = math.Ceil(wall)
	if r.Float64() < w.Killed {
		run = wall * (1 + r.Float64())
	}
	return run, wall
}
