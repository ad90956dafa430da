//go:build fluxion

package fluxion

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
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
	if err := fluxiontest.BenchGraph(b, nodes).WriteJGF(&buf); err != nil {
		b.Fatal(err)
	}
	rbJGF[nodes] = buf.Bytes()
	return rbJGF[nodes]
}

// rbFillYAML is mbFillSpec as jobspec text: n whole nodes for dur seconds.
func rbFillYAML(n int, dur int64) []byte { return []byte(fluxiontest.FillText(n, dur)) }

func rbBackendPair(b *testing.B, nodes int, pol string) {
	jgf := rbGraphJGF(b, nodes)
	opt := match.MatcherOptions{Policy: pol}
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
	for _, op := range []match.MatchOp{match.MatchAllocate, match.MatchAllocateOrElseReserve} {
		var fills map[string][]uint64
		if op == match.MatchAllocateOrElseReserve {
			fills = map[string][]uint64{}
			for _, name := range names {
				for i := range 10 {
					res, err := backends[name].Match(match.MatchAllocate, rbFillYAML(nodes/10, int64(i+1)*10000), 0)
					if err != nil {
						b.Fatalf("%s: fill %d: %v", name, i, err)
					}
					fills[name] = append(fills[name], res.JobID)
				}
			}
		}
		for _, spec := range fluxiontest.BenchJobspecs {
			js := []byte(spec.YAML)
			// The check: one match on each backend, same outcome and nodes.
			var sums []string
			for _, name := range names {
				res, err := backends[name].Match(op, js, 0)
				if err != nil {
					b.Fatalf("%s %s %s: %v", name, op, spec.Name, err)
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
				b.Errorf("%s/%s: go and reapi differ:\n go:    %s\n reapi: %s", op, spec.Name, sums[0], sums[1])
			}
			nsPerOp := map[string]float64{}
			for _, name := range names {
				be := backends[name]
				b.Run(fmt.Sprintf("%s/%s/backend=%s", op, spec.Name, name), func(b *testing.B) {
					var ov float64
					b.ResetTimer()
					for range b.N {
						res, err := be.Match(op, js, 0)
						if err != nil {
							b.Fatal(err)
						}
						if (op == match.MatchAllocateOrElseReserve) != res.Reserved {
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
				b.Logf("%s/%s: reapi/go = %.2f (go %.3f ms/op, reapi %.3f ms/op)", op, spec.Name,
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

// BenchmarkBackendFill is issue 13's side-by-side workload: on the graphs
// of BenchmarkBackendMatch, allocate one request shape until the graph is
// full (EBUSY), then allocate_orelse_reserve it fillReserves times on the
// full graph. Both backends get the same JGF and jobspec text; each runs
// the whole workload alone (the library's matches would otherwise evict
// the other's caches between ops), and then every step is compared: the
// same outcome and the same nodes with the same core and gpu counts (a
// difference fails the benchmark). Each op is timed from the jobspec text
// to the R text (what a simulation pays).
//
// At 10,000 nodes a prefill of nine exclusive jobs of 1,000 nodes each
// (untimed, ending at 10,000 s … 90,000 s) leaves 1,000 nodes to fill,
// so that the library's run stays within minutes; the matcher still
// walks past the 9,000 busy nodes.
//
// Loading is timed too: the JGF text to a backend ready to match, with
// its memory (Go: live heap after GC; library: growth of the process's
// resident set).
//
//	go test -tags fluxion ./policies/fluxion/ -run '^$' -bench 'BackendFill/^nodes=1000$/' -benchtime 1x
func BenchmarkBackendFill(b *testing.B) {
	for _, nodes := range []int{1000, 10000} {
		for _, pol := range []string{"first", "lonode"} {
			for _, spec := range fluxiontest.BenchJobspecs {
				b.Run(fmt.Sprintf("nodes=%d/%s/%s", nodes, pol, spec.Name), func(b *testing.B) {
					for range b.N {
						rbFill(b, nodes, pol, spec.Name, []byte(spec.YAML))
					}
				})
			}
		}
	}
}

func rbFill(b *testing.B, nodes int, pol, specName string, js []byte) {
	jgf := rbGraphJGF(b, nodes)
	opt := match.MatcherOptions{Policy: pol}
	names := []string{BackendGo, BackendReapi}
	runs := make([]fillRun, len(names))
	for k, name := range names {
		runs[k] = fillOne(b, name, jgf, opt, nodes, js)
		b.ReportMetric(runs[k].load.Seconds(), name+"-load-s")
		b.ReportMetric(runs[k].loadMem/(1<<20), name+"-load-MiB")
	}
	// The check: the same outcome, reservation and nodes at every step.
	for i := range max(len(runs[0].steps), len(runs[1].steps)) {
		var got [2]string
		for k := range runs {
			if i < len(runs[k].steps) {
				got[k] = runs[k].steps[i]
			}
		}
		if got[0] != got[1] {
			b.Fatalf("step %d (%s): go and reapi differ:\n go:    %s\n reapi: %s", i, specName, got[0], got[1])
		}
	}
	allocs := runs[0].ops[0]
	// The failed allocate that found the graph full is timed with the
	// allocations: a simulation pays for it too.
	perOp := func(r fillRun, phase int) float64 {
		n := r.ops[phase]
		if phase == 0 {
			n++
		}
		return r.spent[phase].Seconds() * 1e3 / float64(n)
	}
	b.ReportMetric(float64(allocs), "allocs")
	for k, name := range names {
		b.ReportMetric(perOp(runs[k], 0), name+"-alloc-ms/op")
		b.ReportMetric(perOp(runs[k], 1), name+"-reserve-ms/op")
	}
	goR, libR := runs[0], runs[1]
	b.Logf("nodes=%d %s %s: %d allocations until full, then %d reservations; reapi/go: allocate %.1f (%.3f / %.3f ms), reserve %.1f (%.3f / %.3f ms); load %.2f / %.2f s, %.0f / %.0f MiB",
		nodes, pol, specName, allocs, goR.ops[1],
		perOp(libR, 0)/perOp(goR, 0), perOp(goR, 0), perOp(libR, 0),
		perOp(libR, 1)/perOp(goR, 1), perOp(goR, 1), perOp(libR, 1),
		goR.load.Seconds(), libR.load.Seconds(), goR.loadMem/(1<<20), libR.loadMem/(1<<20))
}
