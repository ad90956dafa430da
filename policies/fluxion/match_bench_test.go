package fluxion

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/convergesim/converge/engine"
)

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

// HPC-scale matcher benchmarks (issue 3): clusters of 1,000 and 10,000
// nodes of 2 sockets × 48 cores, 8 GPUs and 256 GiB of memory (one memory
// vertex per socket), i.e. 109 vertices per node.
//
//	go test ./policies/fluxion/ -run '^$' -bench 'MatchHPC' -benchtime 3x
//
// Metrics: matches/s (one allocate or reservation per op, its cancel
// included in the time) and B/vertex, the live heap NewMatcher adds
// per graph vertex.

// mbGraphs caches the generated graphs across sub-benchmarks.
var mbGraphs = map[int]*Graph{}

func mbGraph(b *testing.B, nodes int) *Graph {
	b.Helper()
	if g := mbGraphs[nodes]; g != nil {
		return g
	}
	ns := make([]*engine.Node, nodes)
	for i := range ns {
		ns[i] = &engine.Node{Index: i, Name: fmt.Sprintf("n%d", i),
			Allocatable: engine.Resources{MilliCPU: 96000, GPU: 8, Memory: 256 << 30, Pods: 110}}
	}
	g, err := FromNodes(ns, GenerateOptions{Sockets: 2, Memory: MemorySingle})
	if err != nil {
		b.Fatalf("FromNodes: %v", err)
	}
	mbGraphs[nodes] = g
	return g
}

// mbMatcher builds a matcher and reports its live heap per vertex.
func mbMatcher(b *testing.B, g *Graph, policy string) (*Matcher, float64) {
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

// mbJobspecs are the request shapes: whole nodes (4 exclusive nodes, each
// one slot of both sockets with all their cores and GPUs; version 9999,
// as version 1 allows only core, gpu and memory in a slot) and 16 packed
// slots of 4 cores and a GPU (hosted by sockets).
var mbJobspecs = []struct{ name, yaml string }{
	{"wholenode", `version: 9999
resources:
- type: node
  count: 4
  exclusive: true
  with:
  - type: slot
    count: 1
    label: default
    with:
    - type: socket
      count: 2
      with:
      - type: core
        count: 48
      - type: gpu
        count: 4
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: 3600
`},
	{"packed", `version: 1
resources:
- type: slot
  count: 16
  label: default
  with:
  - type: core
    count: 4
  - type: gpu
    count: 1
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: 3600
`},
}

// mbFillText is the jobspec of n whole nodes for dur seconds.
func mbFillText(n int, dur int64) string {
	return fmt.Sprintf(`version: 9999
resources:
- type: node
  count: %d
  exclusive: true
  with:
  - type: slot
    count: 1
    label: default
    with:
    - type: socket
      count: 2
      with:
      - type: core
        count: 48
tasks:
- command: [app]
  slot: default
  count: {per_slot: 1}
attributes:
  system:
    duration: %d
`, n, dur)
}

// mbFillSpec takes n whole nodes for dur seconds.
func mbFillSpec(b *testing.B, n int, dur int64) *Jobspec {
	return mtParse(b, mbFillText(n, dur))
}

func BenchmarkMatchHPC(b *testing.B) {
	for _, nodes := range []int{1000, 10000} {
		for _, op := range []MatchOp{MatchAllocate, MatchAllocateOrElseReserve} {
			for _, pol := range []string{"first", "lonode"} {
				for _, spec := range mbJobspecs {
					name := fmt.Sprintf("nodes=%d/%s/%s/%s", nodes, op, pol, spec.name)
					b.Run(name, func(b *testing.B) {
						g := mbGraph(b, nodes)
						m, perVertex := mbMatcher(b, g, pol)
						js := mtParse(b, spec.yaml)
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
			for _, spec := range mbJobspecs {
				b.Run(fmt.Sprintf("nodes=%d/%s/%s", nodes, pol, spec.name), func(b *testing.B) {
					var buf bytes.Buffer
					if err := mbGraph(b, nodes).WriteJGF(&buf); err != nil {
						b.Fatal(err)
					}
					js := []byte(spec.yaml)
					allocs := 0
					var tAlloc, tReserve time.Duration
					var tLoad time.Duration
					var loadMem, fullMem float64
					for range b.N {
						var m0, m1 runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m0)
						start := time.Now()
						be, err := OpenBackend(BackendGo, buf.Bytes(), MatcherOptions{Policy: pol})
						if err != nil {
							b.Fatal(err)
						}
						tLoad += time.Since(start)
						runtime.GC()
						runtime.ReadMemStats(&m1)
						loadMem = float64(int64(m1.HeapAlloc) - int64(m0.HeapAlloc))
						if nodes >= 10000 {
							for i := range 9 {
								if _, err := be.Match(MatchAllocate, []byte(mbFillText(nodes/10, int64(i+1)*10000)), 0); err != nil {
									b.Fatalf("prefill %d: %v", i, err)
								}
							}
						}
						start = time.Now()
						for allocs = 0; ; allocs++ {
							_, err := be.Match(MatchAllocate, js, 0)
							if errors.Is(err, ErrBusy) {
								break
							}
							if err != nil {
								b.Fatal(err)
							}
						}
						tAlloc += time.Since(start)
						start = time.Now()
						for range 20 {
							res, err := be.Match(MatchAllocateOrElseReserve, js, 0)
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
