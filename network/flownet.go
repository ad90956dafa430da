package network

import (
	"fmt"
	"math"
)

// FlowNetwork is the links of a cluster in a Flows: every node's egress
// and ingress (its line rate each way) and, on a two-level tree, every
// leaf's uplink and downlink (NodesPerLeaf·link/Oversubscription).
type FlowNetwork struct {
	Egress, Ingress []LinkID // by node
	Up, Down        []LinkID // by leaf (none on one switch)
	topo            *Topology
}

// NewFlowNetwork adds the links of nodes nodes with line rate link
// (bytes/s) over topology t (nil: one switch) to f.
func NewFlowNetwork(f *Flows, nodes int, link float64, t *Topology) (*FlowNetwork, error) {
	if nodes <= 0 {
		return nil, fmt.Errorf("%w: flow network: nodes: %d must be positive", ErrInvalid, nodes)
	}
	if !(link > 0) || math.IsInf(link, 1) {
		return nil, fmt.Errorf("%w: flow network: link: %g B/s must be positive and finite", ErrInvalid, link)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("flow network: %w", err)
	}
	n := &FlowNetwork{Egress: make([]LinkID, nodes), Ingress: make([]LinkID, nodes), topo: t}
	for i := range nodes {
		n.Egress[i], n.Ingress[i] = f.AddLink(link), f.AddLink(link)
	}
	if t.tree() {
		leaves := t.Leaves(nodes)
		n.Up, n.Down = make([]LinkID, leaves), make([]LinkID, leaves)
		up := t.UplinkBandwidth(link)
		for i := range leaves {
			n.Up[i], n.Down[i] = f.AddLink(up), f.AddLink(up)
		}
	}
	return n, nil
}

// Path is the links a transfer from node src to node dst crosses:
// src's egress, the leaf uplink and downlink if they are on different
// leaves, dst's ingress. Nodes out of range give nil.
func (n *FlowNetwork) Path(src, dst int) []LinkID {
	if src < 0 || dst < 0 || src >= len(n.Egress) || dst >= len(n.Egress) {
		return nil
	}
	if src == dst {
		return []LinkID{}
	}
	p := []LinkID{n.Egress[src], n.Ingress[dst]}
	if ls, ld := n.topo.Leaf(src), n.topo.Leaf(dst); n.Up != nil && ls != ld {
		p = append(p, n.Up[ls], n.Down[ld])
	}
	return p
}

// Into is the links a transfer from outside the cluster (a registry
// behind link from, e.g. one made with AddLink for its egress) to node
// dst crosses: from, dst's leaf downlink on a tree, dst's ingress.
func (n *FlowNetwork) Into(from LinkID, dst int) []LinkID {
	if dst < 0 || dst >= len(n.Ingress) {
		return nil
	}
	p := []LinkID{from, n.Ingress[dst]}
	if n.Down != nil {
		p = append(p, n.Down[n.topo.Leaf(dst)])
	}
	return p
}
