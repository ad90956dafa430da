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
