package workloads

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestArrivals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	if got := (AllAtOnce{At: 5}).Times(3, r); got[0] != 5 || got[2] != 5 {
		t.Errorf("AllAtOnce = %v", got)
	}
	// 10, 10+30, 10+60
	if got := (FixedInterval{Start: 10, Every: 30}).Times(3, r); got[0] != 10 || got[1] != 40 || got[2] != 70 {
		t.Errorf("FixedInterval = %v", got)
	}
	// A Poisson process of rate 0.5/s: mean inter-arrival 2 s; over
	// 20,000 arrivals the mean gap is within 3% of 2 and times increase.
	ts := (Poisson{Start: 100, Rate: 0.5}).Times(20000, r)
	for i := 1; i < len(ts); i++ {
		if ts[i] < ts[i-1] {
			t.Fatalf("Poisson times decrease at %d", i)
		}
	}
	gap := (ts[len(ts)-1] - 100) / float64(len(ts))
	if math.Abs(gap-2)/2 > 0.03 {
		t.Errorf("Poisson mean gap %.3f, want 2±3%%", gap)
	}
}
