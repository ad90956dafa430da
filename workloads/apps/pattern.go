package apps

import (
	"fmt"

	"github.com/convergesim/converge/network"
)

// PatternParams is a generic MPI program: Iterations repetitions of
// the listed phases.
type PatternParams struct {
	Iterations int            `yaml:"iterations"`
	Phases     []PatternPhase `yaml:"phases"`
}

// PatternPhase is one step of a generic MPI program. Every field is
// optional; a phase does its compute, then its communication.
type PatternPhase struct {
	Name string `yaml:"name"`
	// Compute is seconds per rank at speed 1; MemoryBytes the bytes a
	// rank streams through its node's shared memory bandwidth.
	Compute     float64 `yaml:"compute"`
	MemoryBytes float64 `yaml:"memoryBytes"`
	// AllreduceBytes per rank (0: none), HaloBytes per face along the
	// dimensions of network.ProcessGrid, AlltoallBytes per pair,
	// AllgatherBytes per rank, BcastBytes from rank 0.
	AllreduceBytes int64    `yaml:"allreduceBytes"`
	HaloBytes      [3]int64 `yaml:"haloBytes"`
	AlltoallBytes  int64    `yaml:"alltoallBytes"`
	AllgatherBytes int64    `yaml:"allgatherBytes"`
	BcastBytes     int64    `yaml:"bcastBytes"`
	Barrier        bool     `yaml:"barrier"`
}

// Validate reports the first impossible parameter.
func (p *PatternParams) Validate() error {
	if p.Iterations < 0 {
		return &FieldError{"iterations", fmt.Sprintf("%d must not be negative", p.Iterations)}
	}
	for i, ph := range p.Phases {
		f := fmt.Sprintf("phases[%d].", i)
		if err := checkAll(nonNeg(f+"compute", ph.Compute), nonNeg(f+"memoryBytes", ph.MemoryBytes)); err != nil {
			return err
		}
		for _, c := range []struct {
			n string
			v int64
		}{{"allreduceBytes", ph.AllreduceBytes}, {"haloBytes[0]", ph.HaloBytes[0]}, {"haloBytes[1]", ph.HaloBytes[1]}, {"haloBytes[2]", ph.HaloBytes[2]},
			{"alltoallBytes", ph.AlltoallBytes}, {"allgatherBytes", ph.AllgatherBytes}, {"bcastBytes", ph.BcastBytes}} {
			if c.v < 0 {
				return &FieldError{f + c.n, fmt.Sprintf("%d must not be negative", c.v)}
			}
		}
	}
	return nil
}

// Pattern runs a PatternParams program.
type Pattern struct {
	Params *PatternParams
}

// RunTime prices Iterations × the phases: each phase's compute
// (Compute/speed + MemoryBytes·r/B_node on the busiest node) plus its
// collectives priced by the fabric, through Env.Contention. Phases
// are reported summed over the iterations.
func (m *Pattern) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	p := m.Params
	if p == nil {
		return Result{}, fmt.Errorf("%w: mpi-pattern: no parameters", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("mpi-pattern: %w", err)
	}
	pl := env.Placement
	n := float64(p.Iterations)
	ph := phases{env: env}
	for i, x := range p.Phases {
		var c comm
		add := func(what string, cost network.Cost, err error) error {
			if err != nil {
				return fmt.Errorf("mpi-pattern: phases[%d] %s: %w", i, what, err)
			}
			c.add(cost, 1)
			return nil
		}
		var err error
		if x.AllreduceBytes > 0 {
			cost, e := env.Fabric.Allreduce(pl, x.AllreduceBytes, network.AlgAuto)
			err = add("allreduce", cost, e)
		}
		if err == nil && x.HaloBytes != [3]int64{} {
			cost, e := env.Fabric.HaloExchange(pl, network.Halo{FaceBytes: x.HaloBytes})
			err = add("halo", cost, e)
		}
		if err == nil && x.AlltoallBytes > 0 {
			cost, e := env.Fabric.Alltoall(pl, x.AlltoallBytes, network.AlgAuto)
			err = add("alltoall", cost, e)
		}
		if err == nil && x.AllgatherBytes > 0 {
			cost, e := env.Fabric.Allgather(pl, x.AllgatherBytes, network.AlgAuto)
			err = add("allgather", cost, e)
		}
		if err == nil && x.BcastBytes > 0 {
			cost, e := env.Fabric.Bcast(pl, x.BcastBytes, network.AlgAuto)
			err = add("bcast", cost, e)
		}
		if err == nil && x.Barrier {
			cost, e := env.Fabric.Barrier(pl, network.AlgAuto)
			err = add("barrier", cost, e)
		}
		if err != nil {
			return Result{}, err
		}
		compute := x.Compute/env.Node.speed() + x.MemoryBytes*float64(pl.MaxPerNode())/env.Node.bandwidth()
		name := x.Name
		if name == "" {
			name = fmt.Sprintf("phase%d", i)
		}
		ph.add(name, Work{Seconds: n * (compute + c.seconds), InterBytes: n * c.interBytes, Syncs: n * c.syncs, MemoryBytes: n * x.MemoryBytes, NodeInterBytes: n * c.nodeBytes})
	}
	return ph.result(), nil
}
