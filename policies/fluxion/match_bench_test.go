package fluxion

import "testing"

// BenchmarkMatchAllocateCancel: one slot>core:4 allocate and its cancel
// on 128 nodes of 32 cores, half full, per policy.
func BenchmarkMatchAllocateCancel(b *testing.B) {
	cores := make([]int64, 128)
	for i := range cores {
		cores[i] = 32
	}
	g := mtFlat(b, cores...)
	for _, pol := range []string{"lonode", "first"} {
		b.Run(pol, func(b *testing.B) {
			m := mtMatcher(b, g, pol)
			js := mtReq{slots: 1, cores: 4}.js(b)
			for range 128 * 4 {
				mtOK(b)(m.Match(MatchAllocate, js, 0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				a, err := m.Match(MatchAllocate, js, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Cancel(a.JobID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
