package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Dist is a distribution of non-negative durations (seconds).
type Dist interface {
	// Sample draws one value from r. Never negative.
	Sample(r *rand.Rand) float64
	// Mean is the distribution's mean.
	Mean() float64
	String() string
}

// Const always returns its value.
type Const float64

// Sample returns c.
func (c Const) Sample(*rand.Rand) float64 { return float64(c) }

// Mean returns c.
func (c Const) Mean() float64 { return float64(c) }

func (c Const) String() string { return fmt.Sprintf("const(%g)", float64(c)) }

// Uniform is uniform on [Min, Max).
type Uniform struct{ Min, Max float64 }

// Sample draws from [Min, Max).
func (u Uniform) Sample(r *rand.Rand) float64 { return u.Min + (u.Max-u.Min)*r.Float64() }

// Mean returns (Min+Max)/2.
func (u Uniform) Mean() float64 { return (u.Min + u.Max) / 2 }

func (u Uniform) String() string { return fmt.Sprintf("uniform(%g,%g)", u.Min, u.Max) }

// Exponential has the given mean.
type Exponential struct{ MeanValue float64 }

// Sample draws an exponential variate.
func (e Exponential) Sample(r *rand.Rand) float64 { return r.ExpFloat64() * e.MeanValue }

// Mean returns the mean.
func (e Exponential) Mean() float64 { return e.MeanValue }

func (e Exponential) String() string { return fmt.Sprintf("exponential(mean=%g)", e.MeanValue) }

// LogNormal has median Median and log-space standard deviation Sigma.
type LogNormal struct{ Median, Sigma float64 }

// Sample draws a lognormal variate.
func (l LogNormal) Sample(r *rand.Rand) float64 {
	return l.Median * math.Exp(l.Sigma*r.NormFloat64())
}

// Mean returns median·exp(σ²/2).
func (l LogNormal) Mean() float64 { return l.Median * math.Exp(l.Sigma*l.Sigma/2) }

func (l LogNormal) String() string {
	return fmt.Sprintf("lognormal(median=%g,sigma=%g)", l.Median, l.Sigma)
}

// Normal is a normal distribution truncated at zero (negative draws become 0).
type Normal struct{ MeanValue, StdDev float64 }

// Sample draws max(0, N(mean, sd)).
func (n Normal) Sample(r *rand.Rand) float64 {
	return max(0, n.MeanValue+n.StdDev*r.NormFloat64())
}

// Mean returns the untruncated mean.
func (n Normal) Mean() float64 { return n.MeanValue }

func (n Normal) String() string { return fmt.Sprintf("normal(mean=%g,sd=%g)", n.MeanValue, n.StdDev) }

// Sample draws from d, treating a nil Dist as 0.
func Sample(d Dist, r *rand.Rand) float64 {
	if d == nil {
		return 0
	}
	return d.Sample(r)
}
