package network

import (
	"fmt"
	"math"
)

// Topology is the switch fabric between the nodes: one non-blocking
// switch, or a two-level tree of leaf switches under a spine where each
// leaf's uplink carries at most NodesPerLeaf·link/Oversubscription.
// The zero value (and a nil *Topology) is one switch.
type Topology struct {
	// Levels is 1 (one switch; 0 means the same) or 2 (leaves and spine).
	Levels int `yaml:"levels" json:"levels"`
	// NodesPerLeaf is how many nodes hang off one leaf switch (Levels 2).
	NodesPerLeaf int `yaml:"nodesPerLeaf" json:"nodesPerLeaf"`
	// Oversubscription is a leaf's downlink over uplink capacity (Levels
	// 2): 1 is a full-bisection tree, 4 a common 4:1 taper.
	Oversubscription float64 `yaml:"oversubscription" json:"oversubscription"`
}

// OneSwitch is every node on one non-blocking switch.
func OneSwitch() *Topology { return &Topology{Levels: 1} }

// TwoLevel is a tree of leaf switches with nodesPerLeaf nodes each and
// the given oversubscription of their uplinks. Impossible values are
// reported by Validate.
func TwoLevel(nodesPerLeaf int, oversubscription float64) *Topology {
	return &Topology{Levels: 2, NodesPerLeaf: nodesPerLeaf, Oversubscription: oversubscription}
}

// Validate reports impossible values, naming the field.
func (t *Topology) Validate() error {
	if t == nil {
		return nil
	}
	switch t.Levels {
	case 0, 1:
		return nil
	case 2:
		if t.NodesPerLeaf <= 0 {
			return fmt.Errorf("%w: topology: nodesPerLeaf: %d must be positive", ErrInvalid, t.NodesPerLeaf)
		}
		if !(t.Oversubscription > 0) || math.IsInf(t.Oversubscription, 0) {
			return fmt.Errorf("%w: topology: oversubscription: %g must be positive and finite", ErrInvalid, t.Oversubscription)
		}
		return nil
	default:
		return fmt.Errorf("%w: topology: levels: %d must be 1 (one switch) or 2 (leaves and spine)", ErrInvalid, t.Levels)
	}
}

// tree reports whether t has leaves.
func (t *Topology) tree() bool { return t != nil && t.Levels == 2 }

// Leaf is the leaf switch of node index node (0 on one switch).
func (t *Topology) Leaf(node int) int {
	if !t.tree() || t.NodesPerLeaf <= 0 {
		return 0
	}
	return node / t.NodesPerLeaf
}

// Leaves is how many leaf switches nodes nodes occupy (1 on one switch).
func (t *Topology) Leaves(nodes int) int {
	if !t.tree() || t.NodesPerLeaf <= 0 {
		return 1
	}
	return (nodes + t.NodesPerLeaf - 1) / t.NodesPerLeaf
}

// UplinkBandwidth is a leaf's uplink capacity (each direction) for
// nodes with the given link rate: NodesPerLeaf·link/Oversubscription,
// +Inf on one switch.
func (t *Topology) UplinkBandwidth(link float64) float64 {
	if !t.tree() {
		return math.Inf(1)
	}
	return float64(t.NodesPerLeaf) * link / t.Oversubscription
}
