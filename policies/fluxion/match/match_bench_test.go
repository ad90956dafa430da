package match

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
)

// BenchmarkMatchAllocateCancel: one slot>core:4 allocate and its cancel
// on 128 nodes of 32 cores, half full, per policy.
func BenchmarkMatchAllocateCancel(b *testing.B) {
	cores := make([]int64, 128)
	for i := range cores {
		cores[i] = 32
	}
	g := fluxiontest.Flat(b, cores...)
	for _, pol := range []string{"lonode", "first"} {
		b.Run(pol, func(b *testing.B) {
			m := mtMatcher(b, g, pol)
			js := fluxiontest.Req{Slots: 1, Cores: 4}.Jobspec(b)
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

// HPC-scale matcher benchmarks (issue 3): clusters of 1,000 and 10,000
// nodes of 2 sockets × 48 cores, 8 GPUs and 256 GiB of memory (one memory
// vertex per socket), i.e. 109 vertices per node.
//
//	go test ./policies/fluxion/match/ -run '^$' -bench 'MatchHPC' -benchtime 3x
//
// Metrics: matches/s (one allocate or reservation per op, its cancel
// included in the time) and B/vertex, the live heap NewMatcher adds
// per graph vertex.

// mbMatcher builds a matcher and reports its live heap per vertex.
func mbMatcher(b *testing.B, g *graph.Graph, policy string) (*Matcher, float64) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := NewMatcher(g, MatcherOptions{Policy: policy})
	if err != nil {
		b.Fatalf("NewMatcher: %v", err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perVertex := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(g.Len())
	runtime.KeepAlive(m)
	return m, perVertex
}

// mbFillSpec takes n whole nodes for dur seconds.
func mbFillSpec(b *testing.B, n int, dur int64) *jobspec.Jobspec {
	return fluxiontest.Parse(b, fluxiontest.FillText(n, dur))
}

func BenchmarkMatchHPC(b *testing.B) {
	for _, nodes := range []int{1000, 10000} {
		for _, op := range []MatchOp{MatchAllocate, MatchAllocateOrElseReserve} {
			for _, pol := range []string{"first", "lonode"} {
				for _, spec := range fluxiontest.BenchJobspecs {
					name := fmt.Sprintf("nodes=%d/%s/%s/%s", nodes, op, pol, spec.Name)
					b.Run(name, func(b *testing.B) {
						g := fluxiontest.BenchGraph(b, nodes)
						m, perVertex := mbMatcher(b, g, pol)
						js := fluxiontest.Parse(b, spec.YAML)
						if op == MatchAllocateOrElseReserve {
							// Busy: ten jobs of a tenth of the nodes each,
							// ending at 10,000 s, 20,000 s, ...
							for i := range 10 {
								if _, err := m.Match(MatchAllocate, mbFillSpec(b, nodes/10, int64(i+1)*10000), 0); err != nil {
									b.Fatalf("fill %d: %v", i, err)
								}
							}
						}
						b.ResetTimer()
						for range b.N {
							a, err := m.Match(op, js, 0)
							if err != nil {
								b.Fatal(err)
							}
							if (op == MatchAllocateOrElseReserve) != a.Reserved {
								b.Fatalf("reserved = %v", a.Reserved)
							}
							if err := m.Cancel(a.JobID); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
						b.ReportMetric(perVertex, "B/vertex")
					})
				}
			}
		}
	}
}
