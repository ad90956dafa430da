package kube

import (
	"testing"

	"github.com/convergesim/converge/engine"
)

func benchFind(b *testing.B, nNodes int) {
	nodes := makeNodes(nNodes, 32000, 128*gi)
	s := newTestScheduler(b, DefaultConfig(), 1)
	c := &engine.Cluster{Nodes: nodes}
	for i, n := range nodes {
		n.Requested.MilliCPU = int64(i%7) * 1000
		n.NonZeroRequested.MilliCPU = int64(i%7) * 1000
	}
	s.resize(c)
	tmpl := benchTemplate()
	p := makePod(0, tmpl)
	st := cycleState{pod: p, ti: s.templateInfo(tmpl)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.findNodesThatFit(&st, nodes)
	}
}
func BenchmarkFind5000(b *testing.B) { benchFind(b, 5000) }
func BenchmarkFind500(b *testing.B)  { benchFind(b, 500) }
func BenchmarkBalanced(b *testing.B) {
	var t int64
	for i := 0; i < b.N; i++ {
		t += balancedScore(32000, 128<<30, int64(i&1023)*10, int64(i&4095)<<20)
	}
	sink = t
}

var sink int64

func BenchmarkNodeScore500(b *testing.B) {
	nodes := makeNodes(500, 32000, 128*gi)
	for i, n := range nodes {
		n.Requested.MilliCPU = int64(i%7) * 1000
		n.NonZeroRequested.MilliCPU = int64(i%7) * 1000
	}
	s := newTestScheduler(b, DefaultConfig(), 1)
	s.resize(&engine.Cluster{Nodes: nodes})
	p := makePod(0, benchTemplate())
	pr := s.fast.podRequests(p)
	b.ResetTimer()
	var t int64
	for i := 0; i < b.N; i++ {
		for j := range s.nodes.hot {
			t += s.fast.nodeScore(&s.nodes.hot[j], &pr)
		}
	}
	sink = t
}
func BenchmarkFits500(b *testing.B) {
	nodes := makeNodes(500, 32000, 128*gi)
	s := newTestScheduler(b, DefaultConfig(), 1)
	s.resize(&engine.Cluster{Nodes: nodes})
	p := makePod(0, benchTemplate())
	b.ResetTimer()
	var t int64
	for i := 0; i < b.N; i++ {
		for j := range s.nodes.hot {
			if s.nodes.hot[j].fits(&p.Requests) {
				t++
			}
		}
	}
	sink = t
}

// experiment: exact floor((A-R)*100/A) via reciprocal
func leastRecip(req, alloc int64, inv float64) int64 {
	if req > alloc {
		return 0
	}
	n := (alloc - req) * 100
	q := int64(float64(n) * inv)
	if q*alloc > n {
		q--
	} else if (q+1)*alloc <= n {
		q++
	}
	return q
}

func BenchmarkNodeScoreRecip500(b *testing.B) {
	nodes := makeNodes(500, 32000, 128*gi)
	for i, n := range nodes {
		n.Requested.MilliCPU = int64(i%7) * 1000
		n.NonZeroRequested.MilliCPU = int64(i%7) * 1000
	}
	s := newTestScheduler(b, DefaultConfig(), 1)
	s.resize(&engine.Cluster{Nodes: nodes})
	inv := make([][2]float64, 500)
	for j, h := range s.nodes.hot {
		inv[j] = [2]float64{1 / float64(h.allocCPU), 1 / float64(h.allocMem)}
	}
	p := makePod(0, benchTemplate())
	pr := s.fast.podRequests(p)
	b.ResetTimer()
	var t int64
	for i := 0; i < b.N; i++ {
		for j := range s.nodes.hot {
			h := &s.nodes.hot[j]
			f := (leastRecip(h.nzCPU+pr.nzCPU, h.allocCPU, inv[j][0]) + leastRecip(h.nzMem+pr.nzMem, h.allocMem, inv[j][1])) >> 1
			t += f + balancedScore(h.allocCPU, h.allocMem, h.reqCPU+pr.cpu, h.reqMem+pr.mem)
		}
	}
	sink = t
}
func BenchmarkBalancedOnly500(b *testing.B) {
	nodes := makeNodes(500, 32000, 128*gi)
	s := newTestScheduler(b, DefaultConfig(), 1)
	s.resize(&engine.Cluster{Nodes: nodes})
	p := makePod(0, benchTemplate())
	pr := s.fast.podRequests(p)
	b.ResetTimer()
	var t int64
	for i := 0; i < b.N; i++ {
		for j := range s.nodes.hot {
			h := &s.nodes.hot[j]
			t += balancedScore(h.allocCPU, h.allocMem, h.reqCPU+pr.cpu, h.reqMem+pr.mem)
		}
	}
	sink = t
}
