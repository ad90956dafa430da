package launchers

import (
	"math"
	"math/rand/v2"
)

// Late is the wait for the last of n parties that each join a barrier
// late, independently: a party misses its first chance with
// probability P, every further chance with probability Q, and the
// chances come Retry seconds apart. K, the largest number of missed
// chances over the parties, has
//
//	P(K ≤ k) = (1 − P·Q^k)^n,  k = 0, 1, 2, …
//
// and the wait is K·Retry. MaxRetries caps K (a party that would miss
// more chances is counted at the cap: ssh gives up after its
// ConnectionAttempts). A late party's wait also varies by Spread
// (normal, standard deviation in seconds): the parties that are late
// do not all join on the tick. The zero value never waits.
type Late struct {
	N          int
	P, Q       float64
	Retry      float64
	MaxRetries int
	Spread     float64
}

// maxK bounds the sums over K: past it the remaining probability is
// below 1e-12 or the cap is reached.
func (l Late) maxK() int {
	if l.N <= 0 || l.P <= 0 || l.Retry <= 0 {
		return 0
	}
	limit := 200
	if l.MaxRetries > 0 {
		limit = l.MaxRetries
	}
	k := 0
	for k < limit && 1-l.cdf(k) > 1e-12 {
		k++
	}
	return k
}

// cdf is P(K ≤ k) without the cap.
func (l Late) cdf(k int) float64 {
	if k < 0 {
		return 0
	}
	if l.N <= 0 || l.P <= 0 {
		return 1
	}
	return math.Pow(1-l.P*math.Pow(l.Q, float64(k)), float64(l.N))
}

// probs are P(K = k) for k = 0..maxK (the cap takes the tail).
func (l Late) probs() []float64 {
	m := l.maxK()
	out := make([]float64, m+1)
	prev := 0.0
	for k := 0; k <= m; k++ {
		c := l.cdf(k)
		if k == m {
			c = 1
		}
		out[k] = c - prev
		prev = c
	}
	return out
}

// Mean is the expected wait, seconds.
func (l Late) Mean() float64 {
	s := 0.0
	for k, p := range l.probs() {
		s += p * float64(k) * l.Retry
	}
	return s
}

// Dist is the distribution of a measured stretch of a launch:
//
//	X = Base + K·Late.Retry + U + E
//
// with K the late parties' missed chances (Late), U uniform on
// [0, Truncation) (a time logged in whole seconds, truncated, makes the
// difference to another clock look that much longer) and E normal with
// standard deviation Jitter (everything else that varies from run to
// run), widened to √(Jitter² + Late.Spread²) when someone was late.
type Dist struct {
	Base       float64
	Late       Late
	Truncation float64
	Jitter     float64
}

// Mean is E[X].
func (d Dist) Mean() float64 { return d.Base + d.Late.Mean() + d.Truncation/2 }

// sigma is the standard deviation of E given k missed chances.
func (d Dist) sigma(k int) float64 {
	if k == 0 || d.Late.Spread <= 0 {
		return d.Jitter
	}
	return math.Hypot(d.Jitter, d.Late.Spread)
}

// noiseCDF is P(U + E ≤ x) with E's standard deviation s.
func (d Dist) noiseCDF(x, s float64) float64 {
	t := d.Truncation
	switch {
	case t <= 0 && s <= 0:
		if x >= 0 {
			return 1
		}
		return 0
	case t <= 0:
		return normCDF(x / s)
	case s <= 0:
		return min(max(x/t, 0), 1)
	}
	h := func(y float64) float64 { return y*normCDF(y/s) + s*normPDF(y/s) }
	return (h(x) - h(x-t)) / t
}

// noisePDF is the density of U + E (s > 0, or Truncation > 0).
func (d Dist) noisePDF(x, s float64) float64 {
	t := d.Truncation
	switch {
	case t <= 0:
		return normPDF(x/s) / s
	case s <= 0:
		if x >= 0 && x < t {
			return 1 / t
		}
		return 0
	}
	return (normCDF(x/s) - normCDF((x-t)/s)) / t
}

// CDF is P(X ≤ x).
func (d Dist) CDF(x float64) float64 {
	c := 0.0
	for k, p := range d.Late.probs() {
		c += p * d.noiseCDF(x-d.Base-float64(k)*d.Late.Retry, d.sigma(k))
	}
	return c
}

// LogPDF is the log density of X at x; −Inf where it has none. It needs
// Jitter > 0 or Truncation > 0.
func (d Dist) LogPDF(x float64) float64 {
	f := 0.0
	for k, p := range d.Late.probs() {
		f += p * d.noisePDF(x-d.Base-float64(k)*d.Late.Retry, d.sigma(k))
	}
	if f <= 0 {
		return math.Inf(-1)
	}
	return math.Log(f)
}

// Quantile is the u-quantile of X (0 < u < 1), to a microsecond.
func (d Dist) Quantile(u float64) float64 {
	w := math.Hypot(d.Jitter, d.Late.Spread)
	span := d.Truncation + 10*w + 1
	lo := d.Base - 10*w - 1
	hi := d.Base + float64(len(d.Late.probs()))*d.Late.Retry + span
	for hi-lo > 1e-6 {
		mid := (lo + hi) / 2
		if d.CDF(mid) < u {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// Sample draws X.
func (d Dist) Sample(r *rand.Rand) float64 {
	x := d.Base
	if l := d.Late; l.N > 0 && l.P > 0 && l.Retry > 0 {
		k := 0
		for range l.N {
			j := 0
			if r.Float64() < l.P {
				j = 1
				for r.Float64() < l.Q && (l.MaxRetries <= 0 || j < l.MaxRetries) {
					j++
				}
			}
			k = max(k, j)
		}
		if l.MaxRetries > 0 {
			k = min(k, l.MaxRetries)
		}
		x += float64(k) * l.Retry
		if k > 0 && l.Spread > 0 {
			x += l.Spread * r.NormFloat64()
		}
	}
	if d.Truncation > 0 {
		x += d.Truncation * r.Float64()
	}
	if d.Jitter > 0 {
		x += d.Jitter * r.NormFloat64()
	}
	return x
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
func normPDF(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
