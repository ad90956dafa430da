//go:build fluxion

package fluxion

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkBackendMatch compares the two Backends on the HPC graphs of
// BenchmarkMatchHPC (mbGraph: nodes of 2 sockets × 48 cores, 8 GPUs, one
// memory vertex per socket) with its request shapes (mbJobspecs): both
// backends are opened from the same JGF bytes, get the same jobspec text
// and do the same work per op — one match (jobspec parsing included) and
// the cancel of the job it made.
//
//   - allocate: allocate then cancel, on an idle graph.
//   - allocate_orelse_reserve: on a busy graph (ten jobs of a tenth of the
//     nodes each, ending at 10,000 s, 20,000 s, …, as in BenchmarkMatchHPC),
//     so every op is a reservation, then its cancel.
//
// Before timing, one match per case on each backend is compared (outcome,
// reserved/at, allocated nodes with their core and gpu counts); a
// difference fails the benchmark. After each case pair the ratio of the
// reapi backend's ns/op to the Go backend's is logged, and lib-ms/op is
// the matching time libreapi_cli itself reports (ov), without cgo, jobspec
// text and R emission outside the traverser.
//
//	go test -tags fluxion ./policies/fluxion/ -run '^$' -bench 'BackendMatch/nodes=1000/' -benchtime 20x
//
// nodes=10000 builds a graph of 1.09 M vertices and loads it into
// libreapi_cli once per policy; select it explicitly.
func BenchmarkBackendMatch(b *testing.B) {
	for _, nodes := range []int{1000, 10000} {
		for _, pol := range []string{"first", "lonode"} {
			b.Run(fmt.Sprintf("nodes=%d/%s", nodes, pol), func(b *testing.B) {
				rbBackendPair(b, nodes, pol)
			})
		}
	}
}

// rbJGF caches the JGF text of mbGraph(nodes).
var rbJGF = map[int][]byte{}

func rbGraphJGF(b *testing.B, nodes int) []byte {
	b.Helper()
	if j := rbJGF[nodes]; j != nil {
		return j
	}
	var buf bytes.Buffer
	if err := mbGraph(b, nodes).WriteJGF(&buf); err != nil {
		b.Fatal(err)
	}
	rbJGF[nodes] = buf.Bytes()
	return rbJGF[nodes]
}

// rbFillYAML is mbFillSpec as jobspec text: n whole nodes for dur seconds.
func rbFillYAML(n int, dur int64) []byte { return []byte(mbFillText(n, dur)) }

func rbBackendPair(b *testing.B, nodes int, pol string) {
	jgf := rbGraphJGF(b, nodes)
	opt := MatcherOptions{Policy: pol}
	names := []string{BackendGo, BackendReapi}
	backends := map[string]Backend{}
	for _, name := range names {
		start := time.Now()
		be, err := OpenBackend(name, jgf, opt)
		if err != nil {
			b.Fatalf("OpenBackend(%s): %v", name, err)
		}
		defer be.Close()
		b.Logf("%s: opened over %d nodes (%d bytes of JGF) in %v", name, nodes, len(jgf), time.Since(start).Round(time.Millisecond))
		backends[name] = be
	}
	for _, op := range []MatchOp{MatchAllocate, MatchAllocateOrElseReserve} {
		var fills map[string][]uint64
		if op == MatchAllocateOrElseReserve {
			fills = map[string][]uint64{}
			for _, name := range names {
				for i := range 10 {
					res, err := backends[name].Match(MatchAllocate, rbFillYAML(nodes/10, int64(i+1)*10000), 0)
					if err != nil {
						b.Fatalf("%s: fill %d: %v", name, i, err)
					}
					fills[name] = append(fills[name], res.JobID)
				}
			}
		}
		for _, spec := range mbJobspecs {
			js := []byte(spec.yaml)
			// The check: one match on each backend, same outcome and nodes.
			var sums []string
			for _, name := range names {
				res, err := backends[name].Match(op, js, 0)
				if err != nil {
					b.Fatalf("%s %s %s: %v", name, op, spec.name, err)
				}
				sum, err := SummarizeR(res.Format, res.R)
				if err != nil {
					b.Fatalf("%s: SummarizeR: %v", name, err)
				}
				sums = append(sums, fmt.Sprintf("reserved=%v at=%d [%s]", res.Reserved, res.At, sum))
				if err := backends[name].Cancel(res.JobID); err != nil {
					b.Fatalf("%s: cancel: %v", name, err)
				}
			}
			if sums[0] != sums[1] {
				b.Errorf("%s/%s: go and reapi differ:\n go:    %s\n reapi: %s", op, spec.name, sums[0], sums[1])
			}
			nsPerOp := map[string]float64{}
			for _, name := range names {
				be := backends[name]
				b.Run(fmt.Sprintf("%s/%s/backend=%s", op, spec.name, name), func(b *testing.B) {
					var ov float64
					b.ResetTimer()
					for range b.N {
						res, err := be.Match(op, js, 0)
						if err != nil {
							b.Fatal(err)
						}
						if (op == MatchAllocateOrElseReserve) != res.Reserved {
							b.Fatalf("reserved = %v", res.Reserved)
						}
						ov += res.Overhead
						if err := be.Cancel(res.JobID); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					nsPerOp[name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
					b.ReportMetric(ov*1e3/float64(b.N), "lib-ms/op")
				})
			}
			if nsPerOp[BackendGo] > 0 {
				b.Logf("%s/%s: reapi/go = %.2f (go %.3f ms/op, reapi %.3f ms/op)", op, spec.name,
					nsPerOp[BackendReapi]/nsPerOp[BackendGo], nsPerOp[BackendGo]/1e6, nsPerOp[BackendReapi]/1e6)
			}
		}
		for name, ids := range fills {
			for _, id := range ids {
				if err := backends[name].Cancel(id); err != nil {
					b.Fatalf("%s: cancel fill %d: %v", name, id, err)
				}
			}
		}
	}
}
