package graph

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/convergesim/converge/engine"
)

// benchNodes: n nodes of 96 cores (2 sockets × 48), 8 GPUs and 512 GiB, in
// four zones.
func benchNodes(n int) []*engine.Node {
	nodes := make([]*engine.Node, n)
	for i := range nodes {
		nodes[i] = &engine.Node{
			Index: i, Name: fmt.Sprintf("n%05d", i), Zone: fmt.Sprintf("z%d", i%4),
			Allocatable: engine.Resources{MilliCPU: 96000, Memory: 512 << 30, GPU: 8, Pods: 110},
		}
	}
	return nodes
}

// benchOpts gives per node: 1 node + 2 sockets + 96 cores + 8 gpus + 2
// memory = 109 vertices, so 10,000 nodes make 1,090,001 vertices.
var benchOpts = GenerateOptions{Sockets: 2}

// liveBytes returns the heap retained by the value build returns.
func liveBytes(build func() any) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(v)
	return m1.HeapAlloc - m0.HeapAlloc
}

// reportPerVertex reports time and allocation per vertex over the loop, and
// the graph's retained heap per vertex.
func reportPerVertex(b *testing.B, iters, verts int, m0, m1 *runtime.MemStats, live uint64) {
	n := float64(iters) * float64(verts)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/vertex")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/n, "alloc-B/vertex")
	b.ReportMetric(float64(live)/float64(verts), "live-B/vertex")
	b.ReportMetric(float64(verts), "vertices")
}

func BenchmarkFromNodes10k(b *testing.B) {
	nodes := benchNodes(10000)
	var g *Graph
	live := liveBytes(func() any {
		var err error
		if g, err = FromNodes(nodes, benchOpts); err != nil {
			b.Fatal(err)
		}
		return g
	})
	verts := g.Len()
	g = nil
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	iters := 0
	for b.Loop() {
		if _, err := FromNodes(nodes, benchOpts); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	runtime.ReadMemStats(&m1)
	reportPerVertex(b, iters, verts, &m0, &m1, live)
}

func BenchmarkReadJGF10k(b *testing.B) {
	g, err := FromNodes(benchNodes(10000), benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	verts := g.Len()
	g = nil
	live := liveBytes(func() any {
		g2, err := ReadJGF(bytes.NewReader(data), "bench.json")
		if err != nil {
			b.Fatal(err)
		}
		return g2
	})
	b.SetBytes(int64(len(data)))
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	iters := 0
	for b.Loop() {
		if _, err := ReadJGF(bytes.NewReader(data), "bench.json"); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	runtime.ReadMemStats(&m1)
	reportPerVertex(b, iters, verts, &m0, &m1, live)
	b.ReportMetric(float64(len(data))/float64(verts), "JGF-B/vertex")
}

func BenchmarkWriteJGF10k(b *testing.B) {
	g, err := FromNodes(benchNodes(10000), benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	iters := 0
	for b.Loop() {
		if err := g.WriteJGF(io.Discard); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	runtime.ReadMemStats(&m1)
	reportPerVertex(b, iters, g.Len(), &m0, &m1, 0)
}
