package fluxion

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
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
					var sum fillRun
					for range b.N {
						r := fillOne(b, BackendGo, buf.Bytes(), match.MatcherOptions{Policy: pol}, nodes, []byte(spec.YAML))
						sum.load += r.load
						sum.spent[0] += r.spent[0]
						sum.spent[1] += r.spent[1]
						sum.ops, sum.loadMem, sum.fullMem = r.ops, r.loadMem, r.fullMem
					}
					n := float64(b.N)
					b.ReportMetric(float64(sum.ops[0]), "allocs")
					b.ReportMetric(sum.load.Seconds()/n, "load-s")
					b.ReportMetric(sum.loadMem/(1<<20), "load-MiB")
					b.ReportMetric(sum.fullMem/(1<<20), "full-MiB")
					b.ReportMetric(sum.spent[0].Seconds()*1e3/(n*float64(sum.ops[0]+1)), "alloc-ms/op")
					b.ReportMetric(sum.spent[1].Seconds()*1e3/(n*float64(sum.ops[1])), "reserve-ms/op")
				})
			}
		}
	}
}

// fillReserves is the number of allocate_orelse_reserve ops on the full
// graph in the fill workload.
const fillReserves = 20

// fillRun is one backend's run of the fill workload.
type fillRun struct {
	load    time.Duration
	loadMem float64
	fullMem float64          // live heap once the workload has run (Go backend)
	spent   [2]time.Duration // allocations (with the one refused), reservations
	ops     [2]int
	steps   []string // per match: outcome, reservation, nodes
}

// fillOne opens one backend and runs the whole workload on it, then
// closes it: each backend runs alone, with its own caches warm, as a
// simulation would run it.
func fillOne(b *testing.B, name string, jgf []byte, opt match.MatcherOptions, nodes int, js []byte) fillRun {
	var r fillRun
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	rss0 := procRSS(b)
	start := time.Now()
	be, err := OpenBackend(name, jgf, opt)
	if err != nil {
		b.Fatalf("OpenBackend(%s): %v", name, err)
	}
	defer be.Close()
	r.load = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	r.loadMem = float64(int64(m1.HeapAlloc) - int64(m0.HeapAlloc))
	if name == BackendReapi {
		r.loadMem = float64(procRSS(b) - rss0)
	}
	if nodes >= 10000 {
		for i := range 9 {
			if _, err := be.Match(match.MatchAllocate, []byte(fluxiontest.FillText(nodes/10, int64(i+1)*10000)), 0); err != nil {
				b.Fatalf("%s: prefill %d: %v", name, i, err)
			}
		}
	}
	for phase, op := range []match.MatchOp{match.MatchAllocate, match.MatchAllocateOrElseReserve} {
		for i := 0; phase == 0 || i < fillReserves; i++ {
			start := time.Now()
			res, err := be.Match(op, js, 0)
			r.spent[phase] += time.Since(start)
			if phase == 0 && errors.Is(err, match.ErrBusy) {
				r.steps = append(r.steps, "full")
				break
			}
			if err != nil {
				b.Fatalf("%s %s #%d: %v", name, op, i, err)
			}
			sum, err := SummarizeR(res.Format, res.R)
			if err != nil {
				b.Fatalf("%s: SummarizeR: %v", name, err)
			}
			r.steps = append(r.steps, fmt.Sprintf("reserved=%v at=%d [%s]", res.Reserved, res.At, sum))
			r.ops[phase]++
		}
	}
	if name == BackendGo {
		var m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m2)
		r.fullMem = float64(int64(m2.HeapAlloc) - int64(m0.HeapAlloc))
		runtime.KeepAlive(be)
	}
	return r
}

// procRSS is the process's resident set in bytes (/proc/self/status VmRSS).
func procRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
