package fluxion

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// BenchmarkGoFill is BenchmarkBackendFill's workload on the Go backend
// alone (no library needed), for profiling: open the backend from the JGF
// text, prefill at 10,000 nodes, allocate the request until the graph is
// full, then 20 allocate_orelse_reserve. One op is the whole cycle;
// load-s and load-MiB are the open's time and the live heap it adds,
// full-MiB the live heap of the backend once the workload has run.
//
//	go test ./policies/fluxion/ -run '^$' -bench 'GoFill/nodes=10000/lonode' -benchtime 1x -cpuprofile /tmp/cpu.out
func BenchmarkGoFill(b *testing.B) {
	for _, nodes := range []int{1000, 10000} {
		for _, pol := range []string{"first", "lonode"} {
			for _, spec := range fluxiontest.BenchJobspecs {
				b.Run(fmt.Sprintf("nodes=%d/%s/%s", nodes, pol, spec.Name), func(b *testing.B) {
					var buf bytes.Buffer
					if err := fluxiontest.BenchGraph(b, nodes).WriteJGF(&buf); err != nil {
						b.Fatal(err)
					}
					js := []byte(spec.YAML)
					allocs := 0
					var tAlloc, tReserve time.Duration
					var tLoad time.Duration
					var loadMem, fullMem float64
					for range b.N {
						var m0, m1 runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m0)
						start := time.Now()
						be, err := OpenBackend(BackendGo, buf.Bytes(), match.MatcherOptions{Policy: pol})
						if err != nil {
							b.Fatal(err)
						}
						tLoad += time.Since(start)
						runtime.GC()
						runtime.ReadMemStats(&m1)
						loadMem = float64(int64(m1.HeapAlloc) - int64(m0.HeapAlloc))
						if nodes >= 10000 {
							for i := range 9 {
								if _, err := be.Match(match.MatchAllocate, []byte(fluxiontest.FillText(nodes/10, int64(i+1)*10000)), 0); err != nil {
									b.Fatalf("prefill %d: %v", i, err)
								}
							}
						}
						start = time.Now()
						for allocs = 0; ; allocs++ {
							_, err := be.Match(match.MatchAllocate, js, 0)
							if errors.Is(err, match.ErrBusy) {
								break
							}
							if err != nil {
								b.Fatal(err)
							}
						}
						tAlloc += time.Since(start)
						start = time.Now()
						for range 20 {
							res, err := be.Match(match.MatchAllocateOrElseReserve, js, 0)
							if err != nil || !res.Reserved {
								b.Fatalf("reserve: %v", err)
							}
						}
						tReserve += time.Since(start)
						var m2 runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m2)
						fullMem = float64(int64(m2.HeapAlloc) - int64(m0.HeapAlloc))
						runtime.KeepAlive(be)
					}
					b.ReportMetric(float64(allocs), "allocs")
					b.ReportMetric(tLoad.Seconds()/float64(b.N), "load-s")
					b.ReportMetric(loadMem/(1<<20), "load-MiB")
					b.ReportMetric(fullMem/(1<<20), "full-MiB")
					b.ReportMetric(tAlloc.Seconds()*1e3/float64(b.N*(allocs+1)), "alloc-ms/op")
					b.ReportMetric(tReserve.Seconds()*1e3/float64(b.N*20), "reserve-ms/op")
				})
			}
		}
	}
}
