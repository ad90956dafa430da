package apps

import (
	"fmt"
	"math"

	"github.com/convergesim/converge/network"
)

// QMCPACKParams are the costs of a QMCPACK run (batched VMC and DMC
// drivers) on one kind of node, fitted to measured runs.
type QMCPACKParams struct {
	// InitSeconds is the per-rank initialisation besides the
	// broadcasts (reading the wave function, building the B-spline
	// orbitals), at speed 1.
	InitSeconds float64 `yaml:"initSeconds"`
	// TableBytes is one B-spline coefficient table ("MEMORY … MB
	// allocated for the coefficients") and TableBroadcasts how many
	// are read on one rank and broadcast to all.
	TableBytes      float64 `yaml:"tableBytes"`
	TableBroadcasts float64 `yaml:"tableBroadcasts"`
	// StepSeconds is a rank's per-step cost independent of its walkers
	// (the driver, crowds, estimators) and WalkerStepSeconds the cost
	// of moving one walker one step, both at speed 1.
	StepSeconds       float64 `yaml:"stepSeconds"`
	WalkerStepSeconds float64 `yaml:"walkerStepSeconds"`
	// EstimatorBytes are reduced over all ranks at the end of every
	// block (MPI_Allreduce).
	EstimatorBytes float64 `yaml:"estimatorBytes"`
	// Launch is the launcher's time, seconds plus per node.
	Launch        float64 `yaml:"launch"`
	LaunchPerNode float64 `yaml:"launchPerNode"`
}

// Validate reports the first impossible parameter.
func (p *QMCPACKParams) Validate() error {
	return checkAll(nonNeg("initSeconds", p.InitSeconds), nonNeg("tableBytes", p.TableBytes), nonNeg("tableBroadcasts", p.TableBroadcasts),
		nonNeg("stepSeconds", p.StepSeconds), nonNeg("walkerStepSeconds", p.WalkerStepSeconds), nonNeg("estimatorBytes", p.EstimatorBytes),
		nonNeg("launch", p.Launch), nonNeg("launchPerNode", p.LaunchPerNode))
}

// QMCSection is one driver section of the input (a VMC or DMC block).
type QMCSection struct {
	Name   string
	Blocks int
	Steps  int // per block
	// DMC sections control the walker population every step: an
	// MPI_Allgather of each rank's walker count (8 bytes).
	DMC bool
}

// QMCPACK is one run: Walkers in total, spread evenly over the ranks
// (the busiest rank has the ceiling), through Sections.
type QMCPACK struct {
	Params   *QMCPACKParams
	Walkers  int
	Sections []QMCSection
}

// RunTime prices the run: compute bound, every rank moving its walkers
// independently, with a synchronisation per block (estimators) and,
// in DMC, per step (population control):
//
//	init = InitSeconds/speed + TableBroadcasts·Bcast(TableBytes)
//	section = blocks·steps·(StepSeconds + ⌈W/ranks⌉·WalkerStepSeconds)/speed
//	          + blocks·Allreduce(EstimatorBytes) [+ blocks·steps·Allgather(8)]
func (m *QMCPACK) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	p := m.Params
	if p == nil {
		return Result{}, fmt.Errorf("%w: qmcpack: no parameters", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("qmcpack: %w", err)
	}
	if m.Walkers <= 0 {
		return Result{}, fmt.Errorf("%w: qmcpack: walkers: %d must be positive", ErrInvalid, m.Walkers)
	}
	pl := env.Placement
	speed := env.Node.speed()
	walkers := math.Ceil(float64(m.Walkers) / float64(pl.Ranks()))
	ph := phases{env: env}
	ph.fixed("launch", p.Launch+p.LaunchPerNode*float64(pl.Nodes()))
	init := Work{Seconds: p.InitSeconds / speed}
	if p.TableBroadcasts > 0 {
		bc, err := env.Fabric.Bcast(pl, int64(p.TableBytes), network.AlgAuto)
		if err != nil {
			return Result{}, fmt.Errorf("qmcpack: table broadcast: %w", err)
		}
		init.Seconds += p.TableBroadcasts * bc.Seconds
		init.InterBytes += p.TableBroadcasts * bc.InterBytes
		init.NodeInterBytes += p.TableBroadcasts * bc.NodeInterBytes
		init.Syncs += p.TableBroadcasts
	}
	ph.add("init", init)
	est, err := env.Fabric.Allreduce(pl, int64(p.EstimatorBytes), network.AlgAuto)
	if err != nil {
		return Result{}, fmt.Errorf("qmcpack: estimators: %w", err)
	}
	pop, err := env.Fabric.Allgather(pl, 8, network.AlgAuto)
	if err != nil {
		return Result{}, fmt.Errorf("qmcpack: population: %w", err)
	}
	for i, s := range m.Sections {
		if s.Blocks < 0 || s.Steps < 0 {
			return Result{}, fmt.Errorf("%w: qmcpack: sections[%d]: blocks %d and steps %d must not be negative", ErrInvalid, i, s.Blocks, s.Steps)
		}
		steps := float64(s.Blocks * s.Steps)
		var c comm
		c.add(est, float64(s.Blocks))
		if s.DMC {
			c.add(pop, steps)
		}
		ph.add(s.Name, Work{
			Seconds:    steps*(p.StepSeconds+walkers*p.WalkerStepSeconds)/speed + c.seconds,
			InterBytes: c.interBytes,
			Syncs:      c.syncs,

			NodeInterBytes: c.nodeBytes,
		})
	}
	return ph.result(), nil
}
