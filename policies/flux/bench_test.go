package flux

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/workloads"
)

// batchJobs draws n synthetic batch jobs as scenarios/scale/flux-batch-100k.yaml
// does (sizes 1–maxNodes, lognormal run times, walltime factor 5 with
// modal rounding, 5 % killed), arriving at rate per second.
func batchJobs(n, maxNodes int, rate float64, seed uint64) []sub {
	r := rand.New(rand.NewPCG(seed, 2))
	sizes := workloads.SizeDist{Min: 1, Max: maxNodes, Serial: 0.2, Pow2: 0.75}
	wall := workloads.WalltimeModel{Factor: 5, Round: []float64{900, 1800, 3600, 7200, 14400, 43200, 86400}, Killed: 0.05}
	run := engine.LogNormal{Median: 1800, Sigma: 1.2}
	out := make([]sub, n)
	at := 0.0
	for i := range out {
		at += r.ExpFloat64() / rate
		rt, wt := wall.Draw(run.Sample(r), r)
		out[i] = sub{at: at, name: "j", nodes: sizes.Draw(r), run: rt, walltime: wt}
	}
	return out
}

// benchJobs is the number of jobs of BenchmarkBatch: 2,000, or
// BATCH_JOBS from the environment.
var benchJobs = func() int {
	if n, err := strconv.Atoi(os.Getenv("BATCH_JOBS")); err == nil && n > 0 {
		return n
	}
	return 2000
}()

// BenchmarkBatch runs a synthetic batch workload on 1,024 nodes of 32
// cores under each queue policy; simulated-s/s is simulated time per
// wall second.
func BenchmarkBatch(b *testing.B) {
	for _, q := range QueuePolicies {
		b.Run(q, func(b *testing.B) {
			subs := batchJobs(benchJobs, 256, 0.0058, 1) // as scenarios/scale/flux-batch-100k.yaml
			var simulated float64
			matches := 0
			for range b.N {
				pol, _ := New(cfgOf(q, "first"))
				e, err := engine.New(engine.Config{Seed: 1, Nodes: nodes(1024, 32), Startup: engine.DefaultStartup(), Controllers: engine.DefaultControllers(), Shell: engine.DefaultShellStart()}, pol)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range subs {
					if err := e.Submit(s.at, fluxJob(s)); err != nil {
						b.Fatal(err)
					}
				}
				res, err := e.Run()
				if err != nil {
					b.Fatal(err)
				}
				simulated += res.End
				matches += pol.Matches
			}
			b.ReportMetric(simulated/b.Elapsed().Seconds(), "simulated-s/s")
			// The whole run's wall time per matcher call.
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(max(matches, 1)), "µs/match")
		})
	}
}
