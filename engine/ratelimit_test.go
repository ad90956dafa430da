package engine

import (
	"math"
	"testing"
)

// A step of a token-bucket script: at time at, call Reserve (try=false) or
// TryAccept (try=true) and expect wait or ok.
type bucketStep struct {
	at   float64
	try  bool
	wait float64 // Reserve: expected wait
	ok   bool    // TryAccept: expected answer
	why  string  // the arithmetic
}

func runBucket(t *testing.T, b *TokenBucket, steps []bucketStep) {
	t.Helper()
	for i, s := range steps {
		if s.try {
			if got := b.TryAccept(s.at); got != s.ok {
				t.Errorf("step %d: TryAccept(%v) = %v, want %v (%s)", i, s.at, got, s.ok, s.why)
			}
			continue
		}
		if got := b.Reserve(s.at); math.Abs(got-s.wait) > 1e-12 {
			t.Errorf("step %d: Reserve(%v) = %v, want %v (%s)", i, s.at, got, s.wait, s.why)
		}
	}
}

func reserveN(n int, at float64, first, step float64, why string) []bucketStep {
	s := make([]bucketStep, n)
	for i := range s {
		s[i] = bucketStep{at: at, wait: first + float64(i)*step, why: why}
	}
	return s
}

func TestTokenBucketReserve(t *testing.T) {
	tests := []struct {
		name  string
		qps   float64
		burst int
		steps []bucketStep
	}{
		{
			name: "qps5 burst10: ten immediate then 0.2 s apart",
			qps:  5, burst: 10,
			steps: append(
				// The bucket starts full (10 tokens): the first 10 take one each.
				reserveN(10, 0, 0, 0, "burst of 10 → no wait"),
				// 11th: tokens −1 → wait 1/5 = 0.2; 12th: −2 → 0.4; … 15th: −5 → 1.0.
				reserveN(5, 0, 0.2, 0.2, "debt k tokens → k/qps")...),
		},
		{
			name: "qps5 burst10: refill after 1 s gives 5 tokens",
			qps:  5, burst: 10,
			steps: append(append(
				reserveN(10, 0, 0, 0, "burst"),
				// At t=1: 0 + 1 s × 5/s = 5 tokens → 5 immediate.
				reserveN(5, 1, 0, 0, "refilled 5")...),
				// 6th at t=1: −1 → 0.2.
				bucketStep{at: 1, wait: 0.2, why: "debt 1 → 0.2"}),
		},
		{
			name: "debt is repaid by refill",
			qps:  4, burst: 2,
			steps: []bucketStep{
				// 2 immediate, then waits 0.25, 0.5, 0.75 (tokens −1, −2, −3).
				{at: 0, wait: 0}, {at: 0, wait: 0},
				{at: 0, wait: 0.25, why: "−1/4"},
				{at: 0, wait: 0.5, why: "−2/4"},
				{at: 0, wait: 0.75, why: "−3/4"},
				// At t=0.5: −3 + 0.5×4 = −1; take one → −2 → wait 0.5.
				{at: 0.5, wait: 0.5, why: "−3+2−1 = −2 → 2/4"},
				// At t=10: −2 + 40 capped at burst 2 → 2 immediate, then 0.25.
				{at: 10, wait: 0, why: "capped at burst"},
				{at: 10, wait: 0},
				{at: 10, wait: 0.25, why: "−1/4"},
			},
		},
		{
			name: "starts full at first use, not at time 0",
			qps:  1, burst: 3,
			// First use at t=100: 3 tokens (not 100), then −1 → 1 s.
			steps: []bucketStep{{at: 100}, {at: 100}, {at: 100}, {at: 100, wait: 1, why: "−1/1"}},
		},
		{
			name: "qps 0 is unlimited",
			qps:  0, burst: 1,
			steps: reserveN(100, 0, 0, 0, "unlimited"),
		},
		{
			name: "burst 0 is treated as 1",
			qps:  2, burst: 0,
			// One token, then −1/2 = 0.5, −2/2 = 1.
			steps: []bucketStep{{at: 0}, {at: 0, wait: 0.5}, {at: 0, wait: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runBucket(t, NewTokenBucket(tc.qps, tc.burst), tc.steps)
		})
	}
}

func TestTokenBucketTryAccept(t *testing.T) {
	ok := func(at float64, why string) bucketStep { return bucketStep{at: at, try: true, ok: true, why: why} }
	no := func(at float64, why string) bucketStep { return bucketStep{at: at, try: true, ok: false, why: why} }
	tests := []struct {
		name  string
		qps   float64
		burst int
		steps []bucketStep
	}{
		{
			name: "qps5 burst10: 10 accepted, then refused until refill",
			qps:  5, burst: 10,
			steps: func() []bucketStep {
				var s []bucketStep
				for range 10 {
					s = append(s, ok(0, "burst of 10"))
				}
				// 0 tokens left; a refusal takes nothing.
				s = append(s, no(0, "empty"), no(0, "still empty: refusals do not borrow"))
				// t=0.125: 0.625 tokens < 1.
				s = append(s, no(0.125, "0.125 s × 5 = 0.625"))
				// t=0.25: 1.25 tokens → accept, 0.25 left.
				s = append(s, ok(0.25, "0.25 s × 5 = 1.25"), no(0.25, "0.25 left"))
				// t=0.375: 0.25 + 0.625 = 0.875 → refuse; t=0.5: 1.5 → accept.
				s = append(s, no(0.375, "0.875"), ok(0.5, "1.5"))
				return s
			}(),
		},
		{
			name: "refill caps at burst",
			qps:  4, burst: 2,
			steps: []bucketStep{
				ok(0, "2"), ok(0, "1"), no(0, "0"),
				// t=100: min(2, 0 + 400) = 2.
				ok(100, "capped 2"), ok(100, "1"), no(100, "0"),
			},
		},
		{
			name: "TryAccept sees Reserve's debt",
			qps:  4, burst: 1,
			steps: []bucketStep{
				{at: 0, wait: 0}, {at: 0, wait: 0.25, why: "−1"},
				// Tokens −1: refused until t = 0.5 (−1 + 0.5×4 = 1).
				no(0.25, "−1 + 1 = 0"), ok(0.5, "0 + 1 = 1"),
			},
		},
		{
			name:  "qps 0 always accepts",
			qps:   0,
			burst: 1,
			steps: []bucketStep{ok(0, ""), ok(0, ""), ok(0, "")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runBucket(t, NewTokenBucket(tc.qps, tc.burst), tc.steps)
		})
	}
}
