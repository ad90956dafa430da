package network

import (
	"fmt"
	"testing"
)

// BenchmarkCollective measures collective cost evaluations per second:
// allreduce of 64 KiB (auto selection, and Rabenseifner and ring
// forced) on 6×8, 32×16 and 1024×96 ranks over a two-level tree.
func BenchmarkCollective(b *testing.B) {
	f := &Fabric{Inter: testInter(), Topology: TwoLevel(32, 2)}
	for _, sh := range [][2]int{{6, 8}, {32, 16}, {1024, 96}} {
		pl := Uniform(sh[0], sh[1])
		for _, alg := range []Algorithm{AlgAuto, AlgRabenseifner, AlgRing} {
			b.Run(fmt.Sprintf("allreduce-64KiB/%dx%d/%s", sh[0], sh[1], alg), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Allreduce(pl, 64<<10, alg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
			})
		}
	}
	pl := Uniform(1024, 96)
	b.Run("halo/1024x96", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.HaloExchange(pl, Halo{FaceBytes: [3]int64{1 << 16, 1 << 16, 1 << 16}}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	})
	b.Run("alltoall-pairwise-4KiB/1024x96", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Alltoall(pl, 4096, AlgPairwise); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	})
	b.Run("bcast-1MiB/1024x96", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Bcast(pl, 1<<20, AlgAuto); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	})
}
