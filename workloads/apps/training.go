package apps

import (
	"fmt"

	"github.com/convergesim/converge/network"
)

// TrainingParams are the costs of data-parallel training of one model
// on one kind of core.
type TrainingParams struct {
	// SampleSeconds is the forward and backward pass of one sample on
	// one rank at speed 1.
	SampleSeconds float64 `yaml:"sampleSeconds"`
	// SampleBytes is the memory traffic of one sample (activations,
	// weights streamed), through the node's shared bandwidth.
	SampleBytes float64 `yaml:"sampleBytes"`
	// GradientBytes is the size of the gradients allreduced every step
	// (parameters × bytes per parameter).
	GradientBytes float64 `yaml:"gradientBytes"`
	// Overlap is the fraction of the gradient allreduce that can run
	// behind the backward pass (bucketed allreduce, as PyTorch DDP
	// does), 0 to 1.
	Overlap float64 `yaml:"overlap"`
	// Algorithm is the allreduce algorithm (auto, ring,
	// recursive-doubling, rabenseifner).
	Algorithm string `yaml:"algorithm"`
	// StartupSeconds loads the data and the model.
	StartupSeconds float64 `yaml:"startupSeconds"`
}

// Validate reports the first impossible parameter.
func (p *TrainingParams) Validate() error {
	if p.Overlap > 1 {
		return &FieldError{"overlap", fmt.Sprintf("%g must be at most 1", p.Overlap)}
	}
	switch network.Algorithm(p.Algorithm) {
	case "", network.AlgAuto, network.AlgRing, network.AlgRecursiveDoubling, network.AlgRabenseifner:
	default:
		return &FieldError{"algorithm", fmt.Sprintf("unknown allreduce algorithm %q; valid: auto, ring, recursive-doubling, rabenseifner", p.Algorithm)}
	}
	return checkAll(nonNeg("sampleSeconds", p.SampleSeconds), nonNeg("sampleBytes", p.SampleBytes), nonNeg("gradientBytes", p.GradientBytes),
		nonNeg("overlap", p.Overlap), nonNeg("startupSeconds", p.StartupSeconds))
}

// Training is one run: Steps steps of GlobalBatch samples split over
// the ranks (the busiest rank takes the ceiling).
type Training struct {
	Params      *TrainingParams
	GlobalBatch int
	Steps       int
}

// RunTime prices the run. Per step, with b = ⌈GlobalBatch/ranks⌉ and
// r ranks on the busiest node:
//
//	compute = b·(SampleSeconds/speed + SampleBytes·r/B_node)
//	step    = compute + allreduce − min(Overlap·allreduce, compute)
//
// the allreduce of GradientBytes priced by the fabric.
func (m *Training) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	p := m.Params
	if p == nil {
		return Result{}, fmt.Errorf("%w: training: no parameters", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("training: %w", err)
	}
	if m.GlobalBatch <= 0 || m.Steps < 0 {
		return Result{}, fmt.Errorf("%w: training: globalBatch %d must be positive and steps %d not negative", ErrInvalid, m.GlobalBatch, m.Steps)
	}
	pl := env.Placement
	alg := network.Algorithm(p.Algorithm)
	if alg == "" {
		alg = network.AlgAuto
	}
	ar, err := env.Fabric.Allreduce(pl, int64(p.GradientBytes), alg)
	if err != nil {
		return Result{}, fmt.Errorf("training: gradient allreduce: %w", err)
	}
	ranks := pl.Ranks()
	b := float64((m.GlobalBatch + ranks - 1) / ranks)
	compute := b * (p.SampleSeconds/env.Node.speed() + p.SampleBytes*float64(pl.MaxPerNode())/env.Node.bandwidth())
	hidden := min(p.Overlap*ar.Seconds, compute)
	steps := float64(m.Steps)
	ph := phases{env: env}
	ph.add("startup", Work{Seconds: p.StartupSeconds / env.Node.speed()})
	ph.add("compute", Work{Seconds: steps * compute, MemoryBytes: steps * b * p.SampleBytes})
	ph.add("allreduce", Work{Seconds: steps * (ar.Seconds - hidden), InterBytes: steps * ar.InterBytes, Syncs: steps, NodeInterBytes: steps * ar.NodeInterBytes})
	return ph.result(), nil
}
