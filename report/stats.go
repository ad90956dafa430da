package report

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Stats summarises a sample of durations (seconds). Every field but Count
// is NaN when Count is 0.
type Stats struct {
	Count int     // values that were set (NaN values are not counted)
	Mean  float64 // arithmetic mean
	Min   float64
	P50   float64 // median, Quantile(0.50)
	P90   float64 // Quantile(0.90)
	P99   float64 // Quantile(0.99)
	Max   float64
}

// Describe returns the summary statistics of the values of xs that are set.
// NaN values (a timestamp that never happened) are skipped, so a pod that
// never started does not enter a start-up delay statistic. The percentiles
// use Quantile (type 7, linear interpolation between closest ranks). xs is
// not modified.
func Describe(xs []float64) Stats {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		nan := math.NaN()
		return Stats{Mean: nan, Min: nan, P50: nan, P90: nan, P99: nan, Max: nan}
	}
	slices.Sort(v)
	return Stats{
		Count: len(v),
		Mean:  stat.Mean(v, nil), // summed in ascending order: independent of input order
		Min:   v[0],
		P50:   Quantile(0.50, v),
		P90:   Quantile(0.90, v),
		P99:   Quantile(0.99, v),
		Max:   v[len(v)-1],
	}
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of sorted, which must be in
// ascending order and hold no NaN, by linear interpolation between closest
// ranks: Hyndman and Fan's definition 7, the default of R's quantile(),
// NumPy's percentile(method="linear") and Excel's PERCENTILE.INC. With n
// values x₀ ≤ … ≤ xₙ₋₁,
//
//	h = (n−1)·p,  Q(p) = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋+1 − x⌊h⌋).
//
// So Q(0) is the minimum, Q(1) the maximum, and the median of an even
// number of values is the mean of the middle two. It returns NaN for an
// empty slice or a p outside [0, 1].
//
// gonum's stat.Quantile is not used because its LinInterp kind is
// definition 4 (interpolating the empirical CDF), which gives different
// values on small samples.
func Quantile(p float64, sorted []float64) float64 {
	n := len(sorted)
	if n == 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := h - float64(lo)
	if frac == 0 {
		return sorted[lo]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}
