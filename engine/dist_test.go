package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func samples(d Dist, n int) []float64 {
	r := rand.New(rand.NewPCG(11, 12))
	out := make([]float64, n)
	for i := range out {
		out[i] = d.Sample(r)
	}
	return out
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestConst(t *testing.T) {
	c := Const(2.5)
	for _, x := range samples(c, 10) {
		if x != 2.5 {
			t.Fatalf("Const(2.5) sampled %v", x)
		}
	}
	if c.Mean() != 2.5 || c.String() != "const(2.5)" {
		t.Errorf("Mean %v String %q", c.Mean(), c.String())
	}
	// A nil Dist samples 0 (an unset latency costs nothing).
	if got := Sample(nil, nil); got != 0 {
		t.Errorf("Sample(nil) = %v, want 0", got)
	}
}

func TestUniform(t *testing.T) {
	u := Uniform{Min: 2, Max: 5}
	xs := samples(u, 100000)
	for _, x := range xs {
		if x < 2 || x >= 5 {
			t.Fatalf("Uniform[2,5) sampled %v", x)
		}
	}
	// Mean (2+5)/2 = 3.5; the sd of the mean is (3/√12)/√1e5 ≈ 0.0027,
	// so 0.02 is over 7 standard errors.
	if m := mean(xs); math.Abs(m-3.5) > 0.02 {
		t.Errorf("sample mean %v, want 3.5 ± 0.02", m)
	}
	if u.Mean() != 3.5 {
		t.Errorf("Mean() = %v, want 3.5", u.Mean())
	}
	// Degenerate Min == Max is a constant.
	for _, x := range samples(Uniform{Min: 1, Max: 1}, 10) {
		if x != 1 {
			t.Fatalf("Uniform[1,1] sampled %v", x)
		}
	}
}

func TestLogNormal(t *testing.T) {
	tests := []struct {
		median, sigma float64
	}{
		{0.6, 0.3}, // DefaultStartup's sandbox
		{0.01, 0.5},
		{100, 1},
	}
	for _, tc := range tests {
		l := LogNormal{Median: tc.median, Sigma: tc.sigma}
		xs := samples(l, 40001)
		// The sample median of n draws has log-space standard error
		// ≈ 1.2533·σ/√n ≤ 1.2533·1/200 ≈ 0.0063, so a 3% relative
		// tolerance is more than 4.5 standard errors.
		if m := median(xs); math.Abs(m/tc.median-1) > 0.03 {
			t.Errorf("%v: sample median %v, want %v ± 3%%", l, m, tc.median)
		}
		// Mean() = median·exp(σ²/2), e.g. 0.6·e^0.045 = 0.6276.
		want := tc.median * math.Exp(tc.sigma*tc.sigma/2)
		if math.Abs(l.Mean()-want) > 1e-12*want {
			t.Errorf("%v: Mean() = %v, want %v", l, l.Mean(), want)
		}
		if m := mean(xs); math.Abs(m/want-1) > 0.05 {
			t.Errorf("%v: sample mean %v, want %v ± 5%%", l, m, want)
		}
		if slices.Min(xs) <= 0 {
			t.Errorf("%v: non-positive sample", l)
		}
	}
}

func TestNormalTruncatedAtZero(t *testing.T) {
	// N(0, 1): half the draws are negative and become exactly 0.
	xs := samples(Normal{MeanValue: 0, StdDev: 1}, 100000)
	zeros := 0
	for _, x := range xs {
		if x < 0 {
			t.Fatalf("Normal sampled negative %v", x)
		}
		if x == 0 {
			zeros++
		}
	}
	// P(X<0) = 0.5; sd of the fraction is 0.5/√1e5 ≈ 0.0016.
	if f := float64(zeros) / float64(len(xs)); math.Abs(f-0.5) > 0.01 {
		t.Errorf("fraction truncated to 0 = %v, want 0.5 ± 0.01", f)
	}
	// N(10, 1): truncation essentially never happens, the mean is 10.
	xs = samples(Normal{MeanValue: 10, StdDev: 1}, 100000)
	if m := mean(xs); math.Abs(m-10) > 0.02 {
		t.Errorf("N(10,1) sample mean %v, want 10 ± 0.02", m)
	}
	// Mean() is the untruncated mean (documented).
	if got := (Normal{MeanValue: -1, StdDev: 1}).Mean(); got != -1 {
		t.Errorf("Mean() = %v, want -1", got)
	}
}

func TestExponential(t *testing.T) {
	xs := samples(Exponential{MeanValue: 3}, 100000)
	// sd of the mean = 3/√1e5 ≈ 0.0095.
	if m := mean(xs); math.Abs(m-3) > 0.05 {
		t.Errorf("sample mean %v, want 3 ± 0.05", m)
	}
	if slices.Min(xs) < 0 {
		t.Error("negative exponential sample")
	}
}

func TestDistStrings(t *testing.T) {
	tests := []struct {
		d    Dist
		want string
	}{
		{Const(1), "const(1)"},
		{Uniform{1, 2}, "uniform(1,2)"},
		{Exponential{3}, "exponential(mean=3)"},
		{LogNormal{0.6, 0.3}, "lognormal(median=0.6,sigma=0.3)"},
		{Normal{5, 1}, "normal(mean=5,sd=1)"},
	}
	for _, tc := range tests {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
