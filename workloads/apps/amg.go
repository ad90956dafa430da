package apps

import (
	"fmt"
	"math"

	"github.com/convergesim/converge/network"
)

// AMGStage is the cost of one stage of AMG (matrix generation, the
// BoomerAMG setup, one PCG iteration of the solve) per row a rank
// owns: compute at the reference core speed plus memory traffic that
// all ranks of a node stream through the node's shared memory
// bandwidth, and the communication the stage does.
type AMGStage struct {
	// Compute is seconds per row at speed 1.
	Compute float64 `yaml:"compute"`
	// Bytes is memory traffic per row (bytes).
	Bytes float64 `yaml:"bytes"`
	// Allreduces, Allgathers and Halos are how many MPI_Allreduce (8
	// bytes), MPI_Allgather (8 bytes a rank) and fine-grid halo
	// exchanges (one double per face point) the stage does.
	Allreduces float64 `yaml:"allreduces"`
	Allgathers float64 `yaml:"allgathers"`
	Halos      float64 `yaml:"halos"`
}

func (s AMGStage) check(field string) error {
	return checkAll(nonNeg(field+".compute", s.Compute), nonNeg(field+".bytes", s.Bytes),
		nonNeg(field+".allreduces", s.Allreduces), nonNeg(field+".allgathers", s.Allgathers), nonNeg(field+".halos", s.Halos))
}

// AMGParams are the costs of AMG (the ECP proxy app, the 27-point
// Laplacian problem -problem 1, solver 1: AMG-preconditioned PCG) on
// one kind of node, fitted to measured runs.
type AMGParams struct {
	Generate AMGStage `yaml:"generate"`
	Setup    AMGStage `yaml:"setup"`
	// Iteration is one PCG iteration of the solve.
	Iteration AMGStage `yaml:"iteration"`
	// Iterations to convergence grow slowly with the global problem:
	// Iterations0 + IterationsPerDoubling·log2(rows/ReferenceRows).
	Iterations0           float64 `yaml:"iterations0"`
	IterationsPerDoubling float64 `yaml:"iterationsPerDoubling"`
	ReferenceRows         float64 `yaml:"referenceRows"`
	// Startup is the program's start and end outside the timed stages
	// (MPI_Init, allocation, teardown): Bytes per row through the
	// memory bandwidth, plus Compute per row.
	Startup AMGStage `yaml:"startup"`
	// Launch is the launcher's time (mpirun over ssh), seconds plus per
	// node.
	Launch        float64 `yaml:"launch"`
	LaunchPerNode float64 `yaml:"launchPerNode"`
}

// Validate reports the first impossible parameter.
func (p *AMGParams) Validate() error {
	for _, s := range []struct {
		f string
		s AMGStage
	}{{"generate", p.Generate}, {"setup", p.Setup}, {"iteration", p.Iteration}, {"startup", p.Startup}} {
		if err := s.s.check(s.f); err != nil {
			return err
		}
	}
	return checkAll(positive("iterations0", p.Iterations0), nonNeg("iterationsPerDoubling", p.IterationsPerDoubling),
		positive("referenceRows", p.ReferenceRows), nonNeg("launch", p.Launch), nonNeg("launchPerNode", p.LaunchPerNode))
}

// AMG is one run: every rank owns an N[0] × N[1] × N[2] block of the
// grid (-n), the ranks form the process grid P (-P; zero means
// network.ProcessGrid). Iterations 0 means the fitted convergence.
type AMG struct {
	Params     *AMGParams
	N          [3]int
	P          [3]int
	Iterations int
}

// RunTime prices the run. For each stage, on the node with the most
// ranks r (R rows a rank):
//
//	t = R·Compute/speed + R·Bytes·r/B_node + Σ collectives priced by the fabric
//
// so the same ranks run longer packed onto fewer nodes: they share one
// node's memory bandwidth B_node. The solve is Iterations such stages.
// Each stage then goes through Env.Contention.
func (m *AMG) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	p := m.Params
	if p == nil {
		return Result{}, fmt.Errorf("%w: amg: no parameters", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("amg: %w", err)
	}
	pl := env.Placement
	grid := m.P
	if grid == [3]int{} {
		grid = network.ProcessGrid(pl.Ranks())
	}
	if grid[0]*grid[1]*grid[2] != pl.Ranks() {
		return Result{}, fmt.Errorf("%w: amg: process grid %v is %d ranks, the placement has %d", ErrInvalid, grid, grid[0]*grid[1]*grid[2], pl.Ranks())
	}
	for i, n := range m.N {
		if n <= 0 {
			return Result{}, fmt.Errorf("%w: amg: n[%d]: %d must be positive", ErrInvalid, i, n)
		}
	}
	if m.Iterations < 0 {
		return Result{}, fmt.Errorf("%w: amg: iterations: %d must not be negative", ErrInvalid, m.Iterations)
	}
	rows := float64(m.N[0]) * float64(m.N[1]) * float64(m.N[2])
	face := [3]float64{8 * float64(m.N[1]*m.N[2]), 8 * float64(m.N[0]*m.N[2]), 8 * float64(m.N[0]*m.N[1])}
	h, err := env.Fabric.HaloExchange(pl, halo(grid, face))
	if err != nil {
		return Result{}, fmt.Errorf("amg: halo: %w", err)
	}
	ar, err := env.Fabric.Allreduce(pl, 8, network.AlgAuto)
	if err != nil {
		return Result{}, fmt.Errorf("amg: allreduce: %w", err)
	}
	ag, err := env.Fabric.Allgather(pl, 8, network.AlgAuto)
	if err != nil {
		return Result{}, fmt.Errorf("amg: allgather: %w", err)
	}
	speed, bw, r := env.Node.speed(), env.Node.bandwidth(), float64(pl.MaxPerNode())
	stage := func(s AMGStage, times float64) Work {
		var c comm
		c.add(ar, s.Allreduces)
		c.add(ag, s.Allgathers)
		c.add(h, s.Halos)
		return Work{
			Seconds:     times * (rows*s.Compute/speed + rows*s.Bytes*r/bw + c.seconds),
			InterBytes:  times * c.interBytes,
			Syncs:       times * c.syncs,
			MemoryBytes: times * rows * s.Bytes,

			NodeInterBytes: times * c.nodeBytes,
		}
	}
	iters := float64(m.Iterations)
	if iters == 0 {
		iters = m.Params.PredictIterations(rows * float64(pl.Ranks()))
	}
	ph := phases{env: env}
	ph.fixed("launch", p.Launch+p.LaunchPerNode*float64(pl.Nodes()))
	ph.add("startup", stage(p.Startup, 1))
	ph.add("generate", stage(p.Generate, 1))
	ph.add("setup", stage(p.Setup, 1))
	ph.add("solve", stage(p.Iteration, iters))
	return ph.result(), nil
}

// PredictIterations is the fitted PCG iteration count for a global
// problem of rows rows (at least 1).
func (p *AMGParams) PredictIterations(rows float64) float64 {
	return max(1, p.Iterations0+p.IterationsPerDoubling*math.Log2(rows/p.ReferenceRows))
}
