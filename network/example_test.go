package network_test

import (
	"fmt"

	"github.com/convergesim/converge/network"
)

func ExampleFabric_Allreduce() {
	f := &network.Fabric{
		Inter: &network.Profile{
			Name: "100GbE",
			Bands: []network.Band{
				{MaxBytes: 65536, Latency: 2e-6, Bandwidth: 10e9},
				{Latency: 4e-6, Bandwidth: 12e9},
			},
		},
		Topology: network.TwoLevel(16, 2),
	}
	for _, pl := range []network.Placement{network.Uniform(8, 1), network.Uniform(8, 16)} {
		c, err := f.Allreduce(pl, 8<<20, network.AlgAuto)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d ranks on %d nodes: %s, %d rounds, %.3f ms\n",
			pl.Ranks(), pl.Nodes(), c.Algorithm, c.Steps, c.Seconds*1e3)
	}
	_, err := f.Allreduce(network.Uniform(8, 0), 8<<20, network.AlgAuto)
	fmt.Println(err)
	// Output:
	// 8 ranks on 8 nodes: rabenseifner, 6 rounds, 2.715 ms
	// 128 ranks on 8 nodes: rabenseifner, 14 rounds, 4.493 ms
	// network: invalid: placement: ranksPerNode[0]: 0 ranks, must be positive
}

// Three image pulls from a registry with a 1 GB/s egress to two nodes
// with 1 GB/s links: node 0 pulls two images, node 1 one. Max-min
// sharing gives every pull a third of the registry until the smallest
// finishes.
func ExampleFlows() {
	var f network.Flows
	registry := f.AddLink(1e9)
	nodes, err := network.NewFlowNetwork(&f, 2, 1e9, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	a := f.AddFlow(nodes.Into(registry, 0), 300e6)
	b := f.AddFlow(nodes.Into(registry, 0), 600e6)
	c := f.AddFlow(nodes.Into(registry, 1), 900e6)
	names := map[network.FlowID]string{a: "a", b: "b", c: "c"}
	for f.Len() > 0 {
		_, dt := f.NextCompletion()
		for _, id := range f.Advance(dt) {
			fmt.Printf("%.2f s: %s done\n", f.Now(), names[id])
		}
	}
	// Output:
	// 0.90 s: a done
	// 1.50 s: b done
	// 1.80 s: c done
}
