package scenarios

import (
	"math"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/workloads/apps"
)

// env is the model's environment on a placement: ranks per node are
// pods × ranks per pod, the node shape is the first node's (cores from
// its allocatable CPU, memory bandwidth and core speed from its pool,
// the fit's memory bandwidth when the pool gives none). It returns the
// ranks too.
func (a *appRun) env(pl []engine.NodeShare) (*apps.Env, int) {
	rpn := make([]int, len(pl))
	ppn := make([]int, len(pl))
	ranks := 0
	for i, s := range pl {
		ppn[i] = s.Pods
		rpn[i] = s.Pods * a.perPod
		ranks += rpn[i]
	}
	node := apps.Node{Cores: int(pl[0].Node.Allocatable.MilliCPU / 1000), MemoryBandwidth: a.memoryBandwidth(pl[0].Node), Speed: a.pools[pl[0].Node.Pool].CoreSpeed}
	return &apps.Env{
		Fabric: a.fabric, Placement: network.Placement{RanksPerNode: rpn}, Node: node,
		CPUQuota: a.spec.CPUQuota, CFSPeriod: a.spec.CFSPeriod, PodsPerNode: ppn,
		BackgroundLoad: a.bg.Load, BackgroundBurst: a.bg.Burst,
	}, ranks
}

// memoryBandwidth is node n's memory bandwidth, GB/s: its pool's, or
// the fit's hardware's when the pool gives none.
func (a *appRun) memoryBandwidth(n *engine.Node) float64 {
	if bw := a.pools[n.Pool].MemoryBandwidth; bw > 0 {
		return bw
	}
	return a.fit.Node.MemoryBandwidth
}

// Demand makes every app job an engine.ContendedRunModel: what the run
// asks of each node's memory bandwidth and network link (and, on a
// two-level tree, its leaf's uplink) at full speed, from the bytes the
// app's single-job fit prices (apps.Demand), with the capacities of
// the hardware: the node's memory bandwidth (its pool's), the
// transport's line rate (the profile's link bandwidth, or its last
// band's: what the wire carries, before any runtime's stages, since
// jobs of other runtimes share the same NIC), the topology's uplink.
//
// The part of a node's traffic that leaves its leaf is the share of
// the job's other ranks outside the leaf (peers taken as uniform).
func (a *appRun) Demand(pl []engine.NodeShare, alone engine.RunResult) ([]engine.NodeDemand, error) {
	env, ranks := a.env(pl)
	m, err := a.model(ranks)
	if err != nil {
		return nil, err
	}
	res, d, err := apps.Demand(m, env)
	if err != nil {
		return nil, err
	}
	// Bytes over the run time the engine priced (the same env: the
	// same time, but the engine's is the one that counts).
	scale := 1.0
	if alone.Seconds > 0 && res.Seconds > 0 {
		scale = res.Seconds / alone.Seconds
	}
	link := lineRate(a.fabric.Inter)
	topo := a.fabric.Topology
	tree := topo != nil && topo.Levels == 2
	inLeaf := map[int]int{} // ranks of the job by leaf (lookups only)
	if tree {
		for i, s := range pl {
			inLeaf[topo.Leaf(s.Node.Index)] += env.Placement.RanksPerNode[i]
		}
	}
	out := make([]engine.NodeDemand, len(pl))
	for i, s := range pl {
		nd := engine.NodeDemand{
			Memory: d[i].Memory * scale, MemoryCapacity: a.memoryBandwidth(s.Node) * 1e9,
			Network: d[i].Network * scale, NetworkCapacity: link, Leaf: -1,
		}
		if math.IsInf(link, 1) {
			nd.Network = 0
		}
		if a.cpuShared {
			host := s.Node
			if host.Host != nil {
				host = host.Host
			}
			nd.CPU = float64(env.Placement.RanksPerNode[i])
			nd.CPUCapacity = float64(host.Allocatable.MilliCPU) / 1000
		}
		if tree && nd.Network > 0 {
			leaf := topo.Leaf(s.Node.Index)
			peers := ranks - env.Placement.RanksPerNode[i]
			if off := ranks - inLeaf[leaf]; off > 0 && peers > 0 {
				nd.Leaf = leaf
				nd.Uplink = nd.Network * float64(off) / float64(peers)
				nd.UplinkCapacity = topo.UplinkBandwidth(link)
			}
		}
		out[i] = nd
	}
	return out, nil
}

// lineRate is a transport's line rate, bytes/s: its LinkBandwidth, or
// its last band's bandwidth; +Inf without a profile.
func lineRate(p *network.Profile) float64 {
	switch {
	case p == nil || len(p.Bands) == 0:
		return math.Inf(1)
	case p.LinkBandwidth > 0:
		return p.LinkBandwidth
	}
	return p.Bands[len(p.Bands)-1].Bandwidth
}
