package network

import (
	"fmt"
	"slices"
)

// Placement is the ranks a job runs on each of its nodes (len =
// nodes). Ranks are numbered node by node (block mapping, the default
// of mpirun and flux run): node 0 holds ranks 0..RanksPerNode[0]-1,
// node 1 the next RanksPerNode[1], and so on. Node i of a placement
// sits on leaf Topology.Leaf(i).
type Placement struct {
	RanksPerNode []int `yaml:"ranksPerNode" json:"ranksPerNode"`
	// Leaves, if set, is the leaf switch of each node on a two-level
	// Topology (the job's nodes as the scheduler placed them), with the
	// nodes of one leaf listed together, as a host list sorted by
	// switch numbers them. Unset, node i is on leaf
	// i/Topology.NodesPerLeaf.
	Leaves []int `yaml:"leaves,omitempty" json:"leaves,omitempty"`
}

// Uniform is nodes nodes with perNode ranks each.
func Uniform(nodes, perNode int) Placement {
	if nodes < 0 {
		nodes = 0
	}
	r := make([]int, nodes)
	for i := range r {
		r[i] = perNode
	}
	return Placement{RanksPerNode: r}
}

// Nodes is the number of nodes.
func (pl Placement) Nodes() int { return len(pl.RanksPerNode) }

// Ranks is the total number of ranks.
func (pl Placement) Ranks() int {
	n := 0
	for _, r := range pl.RanksPerNode {
		n += r
	}
	return n
}

// MaxPerNode is the largest number of ranks on one node.
func (pl Placement) MaxPerNode() int {
	m := 0
	for _, r := range pl.RanksPerNode {
		m = max(m, r)
	}
	return m
}

// Validate reports a placement with no nodes or a node without ranks.
func (pl Placement) Validate() error {
	if len(pl.RanksPerNode) == 0 {
		return fmt.Errorf("%w: placement: ranksPerNode: no nodes", ErrInvalid)
	}
	total := 0
	for i, r := range pl.RanksPerNode {
		if r <= 0 {
			return fmt.Errorf("%w: placement: ranksPerNode[%d]: %d ranks, must be positive", ErrInvalid, i, r)
		}
		total += r
		if total > maxRanks {
			return fmt.Errorf("%w: placement: ranksPerNode: more than %d ranks", ErrInvalid, maxRanks)
		}
	}
	_, err := pl.leafRuns()
	return err
}

// leafRuns returns the node index where each run of nodes on one leaf
// starts, with len(Leaves) appended (nil without Leaves), or an error
// if Leaves is malformed.
func (pl Placement) leafRuns() ([]int, error) {
	if pl.Leaves == nil {
		return nil, nil
	}
	if len(pl.Leaves) != len(pl.RanksPerNode) {
		return nil, fmt.Errorf("%w: placement: leaves: %d entries for %d nodes", ErrInvalid, len(pl.Leaves), len(pl.RanksPerNode))
	}
	var starts []int
	for i, l := range pl.Leaves {
		if l < 0 {
			return nil, fmt.Errorf("%w: placement: leaves[%d]: %d must not be negative", ErrInvalid, i, l)
		}
		if i == 0 || l != pl.Leaves[i-1] {
			starts = append(starts, i)
		}
	}
	seen := make([]int, len(starts))
	for k, s := range starts {
		seen[k] = pl.Leaves[s]
	}
	slices.Sort(seen)
	for k := 1; k < len(seen); k++ {
		if seen[k] == seen[k-1] {
			for _, s := range starts[1:] {
				if pl.Leaves[s] == seen[k] {
					return nil, fmt.Errorf("%w: placement: leaves[%d]: leaf %d appears again after other leaves; list the nodes of a leaf together", ErrInvalid, s, seen[k])
				}
			}
		}
	}
	return append(starts, len(pl.Leaves)), nil
}

// maxRanks bounds a placement so that rank arithmetic (products of two
// rank counts) cannot overflow.
const maxRanks = 1 << 30
