package apps

import (
	"testing"

	"github.com/convergesim/converge/network"
)

// efaLike is a two-band transport of the order of EFA (7.5 µs, 12 GB/s
// small; 24 GB/s large) for the benchmarks.
func efaLike() *network.Fabric {
	return &network.Fabric{Inter: &network.Profile{Name: "efa-like", Bands: []network.Band{
		{MaxBytes: 65536, Latency: 7.5e-6, Bandwidth: 12e9}, {Latency: 40e-6, Bandwidth: 24e9}}}}
}

func benchModel(b *testing.B, m Model, env *Env) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.RunTime(env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkLAMMPS: 32 nodes × 16 ranks, the flux-usernetes-aws problem.
func BenchmarkLAMMPS(b *testing.B) {
	env := &Env{Fabric: efaLike(), Placement: network.Uniform(32, 16), Node: Node{Cores: 16, MemoryBandwidth: 250},
		BackgroundLoad: 0.015, BackgroundBurst: 2e-4}
	benchModel(b, &LAMMPS{Params: lammpsParams(), Replicas: [3]int{16, 16, 8}, Steps: 100}, env)
}

// BenchmarkAMG: 32 nodes × 24 ranks, the canopie22 weak-scaling point.
func BenchmarkAMG(b *testing.B) {
	env := &Env{Fabric: efaLike(), Placement: network.Uniform(32, 24), Node: Node{Cores: 96, MemoryBandwidth: 320}}
	benchModel(b, &AMG{Params: amgParams(), N: [3]int{188, 144, 128}, P: [3]int{12, 8, 8}}, env)
}

// BenchmarkQMCPACK: 16 nodes × 94 ranks.
func BenchmarkQMCPACK(b *testing.B) {
	env := &Env{Fabric: efaLike(), Placement: network.Uniform(16, 94), Node: Node{Cores: 96, MemoryBandwidth: 320}}
	p := &QMCPACKParams{InitSeconds: 44, TableBytes: 601e6, TableBroadcasts: 2, StepSeconds: 1.76, WalkerStepSeconds: 0.0056, EstimatorBytes: 4096, Launch: 20}
	benchModel(b, &QMCPACK{Params: p, Walkers: 1504, Sections: []QMCSection{{Name: "vmc", Blocks: 1, Steps: 5}, {Name: "dmc", Blocks: 10, Steps: 5, DMC: true}}}, env)
}

// BenchmarkTraining: 8 nodes × 8 ranks, a 100 MB gradient.
func BenchmarkTraining(b *testing.B) {
	env := &Env{Fabric: efaLike(), Placement: network.Uniform(8, 8), Node: Node{Cores: 8, MemoryBandwidth: 100}}
	benchModel(b, &Training{Params: &TrainingParams{SampleSeconds: 0.01, GradientBytes: 100e6, Overlap: 0.5}, GlobalBatch: 1024, Steps: 1000}, env)
}

// BenchmarkPattern: 16 nodes × 16 ranks, compute + halo + allreduce.
func BenchmarkPattern(b *testing.B) {
	env := &Env{Fabric: efaLike(), Placement: network.Uniform(16, 16), Node: Node{Cores: 16, MemoryBandwidth: 100}}
	p := &PatternParams{Iterations: 100, Phases: []PatternPhase{{Name: "step", Compute: 0.01, HaloBytes: [3]int64{1 << 16, 1 << 16, 1 << 16}, AllreduceBytes: 8}}}
	benchModel(b, &Pattern{Params: p}, env)
}
