package fluence

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/engine"
)

// benchNodes is the cluster of the benchmarks: 5,000 nodes of 32 cores
// and 128 GiB (Fluence's graph: 32 cores and 128 memory pools a node,
// 805,001 vertices).
const benchNodes = 5000

func benchCluster() ([]*engine.Node, *engine.Cluster) {
	ns := nodes(benchNodes, 32, 128)
	for i, n := range ns {
		n.Index = i
	}
	return ns, &engine.Cluster{Nodes: ns}
}

// BenchmarkPlace runs Fluence, on the go backend, over 5,000 nodes with
// groups of 8, 32 and 128 pods of 30 cores and 100 GiB (one pod per
// node), enough groups to fill the cluster, all submitted at once; every
// pod is placed, runs and ends. pods/s is placed pods per second of wall
// time for the whole run (one match per group, the kube-scheduler
// cycles and Permit, the release of each allocation, the engine's pod
// lifecycle), without building the graph (BenchmarkGraph), under the
// Helm chart's lonode and under first (reapi_cli's default).
func BenchmarkPlace(b *testing.B) {
	for _, pc := range []struct {
		policy string
		size   int
	}{
		{"lonode", 8}, {"lonode", 32}, {"lonode", 128},
		{"first", 8}, {"first", 32}, {"first", 128},
	} {
		policy, size := pc.policy, pc.size
		b.Run(fmt.Sprintf("policy=%s/group=%d", policy, size), func(b *testing.B) {
			groups := benchNodes / size
			pods := groups * size
			for b.Loop() {
				b.StopTimer()
				t := tmpl(30000, 100*gi, 600)
				p := newFluence(b, with(func(c *Config) { c.Policy = policy }))
				ns, c := benchCluster()
				p.Plugin().startOnce(c) // the graph, outside the timing
				e, err := engine.New(engineConfig(ns), p)
				if err != nil {
					b.Fatal(err)
				}
				for i := range groups {
					if err := e.Submit(0, mpi(fmt.Sprintf("g%d", i), size, t, 600)); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				res, err := e.Run()
				if err != nil {
					b.Fatal(err)
				}
				if res.Stopped != "" || res.FinishedPods() != pods {
					b.Fatalf("stopped %q, %d of %d pods finished", res.Stopped, res.FinishedPods(), pods)
				}
			}
			b.ReportMetric(float64(pods)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}

// BenchmarkGraph builds Fluence's graph of the 5,000 nodes and the Go
// matcher over it (the sidecar's start).
func BenchmarkGraph(b *testing.B) {
	_, c := benchCluster()
	for b.Loop() {
		pl := newPlugin(DefaultConfig())
		pl.startOnce(c)
		if pl.Err() != nil {
			b.Fatal(pl.Err())
		}
	}
}
