package apps

import (
	"fmt"
	"math"
)

// Traffic is what a run moves over the whole run: the bytes one rank
// streams through its node's memory (the bytes behind the models'
// memory-bandwidth terms: AMG's per-row bytes, training's per-sample
// bytes, a pattern's memory bytes), and the bytes the busiest node
// sends to other nodes (network.Cost.NodeInterBytes of every
// collective and halo exchange the fabric priced: the node's messages
// on its link, each way). LAMMPS and QMCPACK have no memory term in
// their fits: they stream nothing here.
type Traffic struct {
	MemoryBytes    float64 // per rank
	NodeInterBytes float64 // per node
}

func (t *Traffic) add(w Work) {
	t.MemoryBytes += w.MemoryBytes
	t.NodeInterBytes += w.NodeInterBytes
}

// NodeDemand is what a run asks of one node's shared resources at
// full speed, bytes per second averaged over its run time alone: its
// ranks on the node streaming memory, and sending to other nodes.
type NodeDemand struct {
	Memory  float64
	Network float64
}

// Demand prices m in env, as RunTime does, and says what the run asks
// of each node of the placement (in order) at full speed: each rank's
// memory Traffic over the run time, times the node's ranks, and the
// busiest node's network Traffic over the run time (every node is
// given the busiest's: an upper bound on a placement that is not
// uniform). Nothing here is
// fitted to jobs sharing nodes: the bytes are those the single-job fit
// already prices (a node's memory bandwidth B and the fabric's
// collectives), so what a neighbour does to the run is a prediction.
//
// A run alone asks at most its node's bandwidth B of the memory: its
// memory term is the node's bytes over B, part of its run time.
func Demand(m Model, env *Env) (Result, []NodeDemand, error) {
	if env == nil {
		return Result{}, nil, fmt.Errorf("%w: env: missing", ErrInvalid)
	}
	e := *env
	var tr Traffic
	e.Traffic = &tr
	res, err := m.RunTime(&e)
	if err != nil {
		return Result{}, nil, err
	}
	d := make([]NodeDemand, e.Placement.Nodes())
	if !(res.Seconds > 0) || math.IsInf(res.Seconds, 0) {
		return res, d, nil
	}
	for i, r := range e.Placement.RanksPerNode {
		d[i] = NodeDemand{Memory: float64(r) * tr.MemoryBytes / res.Seconds, Network: tr.NodeInterBytes / res.Seconds}
	}
	return res, d, nil
}
