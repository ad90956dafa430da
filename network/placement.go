package network

import "fmt"

// Placement is the ranks a job runs on each of its nodes (len =
// nodes). Ranks are numbered node by node (block mapping, the default
// of mpirun and flux run): node 0 holds ranks 0..RanksPerNode[0]-1,
// node 1 the next RanksPerNode[1], and so on. Node i of a placement
// sits on leaf Topology.Leaf(i).
type Placement struct {
	RanksPerNode []int `yaml:"ranksPerNode" json:"ranksPerNode"`
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
	return nil
}

// maxRanks bounds a placement so that rank arithmetic (products of two
// rank counts) cannot overflow.
const maxRanks = 1 << 30
