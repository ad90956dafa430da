package workloads

import (
	"fmt"
	"math/rand/v2"
)

// Arrival generates the submission times of a sequence of jobs.
type Arrival interface {
	// Times returns n non-decreasing submission times.
	Times(n int, r *rand.Rand) []float64
	String() string
}

// AllAtOnce submits every job at At.
type AllAtOnce struct{ At float64 }

// Times returns n copies of At.
func (a AllAtOnce) Times(n int, _ *rand.Rand) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = a.At
	}
	return t
}

func (a AllAtOnce) String() string { return fmt.Sprintf("all at %gs", a.At) }

// FixedInterval submits job i at Start + i·Every.
type FixedInterval struct{ Start, Every float64 }

// Times returns Start, Start+Every, ….
func (a FixedInterval) Times(n int, _ *rand.Rand) []float64 {
	t := make([]float64, n)
	for i := range t {
		t[i] = a.Start + float64(i)*a.Every
	}
	return t
}

func (a FixedInterval) String() string { return fmt.Sprintf("every %gs from %gs", a.Every, a.Start) }

// Poisson submits jobs as a Poisson process of Rate jobs per second
// starting at Start (exponential inter-arrival times; the first job
// arrives one inter-arrival time after Start).
type Poisson struct{ Start, Rate float64 }

// Times draws n arrival times.
func (a Poisson) Times(n int, r *rand.Rand) []float64 {
	t := make([]float64, n)
	now := a.Start
	for i := range t {
		now += r.ExpFloat64() / a.Rate
		t[i] = now
	}
	return t
}

func (a Poisson) String() string { return fmt.Sprintf("poisson %g/s from %gs", a.Rate, a.Start) }
