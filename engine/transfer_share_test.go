package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// oldReshare is the pool's own progressive filling from before the
// pool used package fairshare: the registry's fair share against the
// tightest node, registry first on a tie. Kept here to show the shared
// mechanism gives the very same rates, bit for bit.
func oldReshare(nodes []int, registry, node float64, n int) []float64 {
	inf := math.Inf(1)
	regCap, nodeCap := registry, node
	if regCap <= 0 {
		regCap = inf
	}
	if nodeCap <= 0 {
		nodeCap = inf
	}
	rate := make([]float64, len(nodes))
	perNode := make([]int, n)
	for i := range rate {
		rate[i] = -1
		perNode[nodes[i]]++
	}
	unfrozen, regLeft := len(nodes), regCap
	nodeUsed := map[int]float64{}
	for unfrozen > 0 {
		share := regLeft / float64(unfrozen)
		bottleneck := -1
		for i := range nodes {
			if rate[i] >= 0 {
				continue
			}
			if s := (nodeCap - nodeUsed[nodes[i]]) / float64(perNode[nodes[i]]); s < share {
				share, bottleneck = s, nodes[i]
			}
		}
		for i := range nodes {
			if rate[i] >= 0 || (bottleneck >= 0 && nodes[i] != bottleneck) {
				continue
			}
			rate[i] = share
			unfrozen--
			regLeft -= share
			nodeUsed[nodes[i]] += share
			perNode[nodes[i]]--
		}
	}
	return rate
}

// TestTransferRatesSameAsBefore: on random sets of transfers (round
// and random capacities, so levels tie often), the pool's rates equal
// the old progressive filling's exactly.
func TestTransferRatesSameAsBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 500 {
		const n = 6
		registry, node := 1000*mb, 200*mb
		switch iter % 4 {
		case 1:
			registry, node = rng.Float64()*1000*mb, rng.Float64()*300*mb
		case 2:
			registry = 0
		case 3:
			node = 0
		}
		e := poolEngine(t, n, registry, node)
		tp := &e.transfers
		var nodes []int
		for k := range 1 + rng.IntN(20) {
			nd := rng.IntN(n)
			nodes = append(nodes, nd)
			tp.add(kubelet{e}, 0, nd, int32(k), 1e9)
		}
		want := oldReshare(nodes, registry, node, n)
		for i, f := range tp.flows {
			if f.rate != want[i] {
				t.Fatalf("iter %d (registry %g, node %g, nodes %v): flow %d rate %v, before %v", iter, registry, node, nodes, i, f.rate, want[i])
			}
		}
	}
}
