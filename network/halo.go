package network

import "fmt"

// Halo is a nearest-neighbour exchange on a 3-D process grid: every
// rank swaps a face with both neighbours along each dimension (x, y, z
// in the order of ProcessGrid, periodic, as stencil codes and LAMMPS
// do). FaceBytes are the bytes of one face along x, y and z.
type Halo struct {
	FaceBytes [3]int64 `yaml:"faceBytes" json:"faceBytes"`
}

// HaloExchange prices one halo exchange. The ranks form the grid
// ProcessGrid(ranks) in row-major order (z fastest, as MPI_Cart_create
// numbers them) and are mapped to nodes in blocks. The exchange runs
// one dimension at a time (as LAMMPS and most stencil codes do, so
// corner data travel with the later faces); within a dimension both
// directions go at once and share the node links. Dimensions of one
// rank exchange nothing; neighbours on the same node use Intra.
// Cost.Algorithm is empty: there is no choice to report.
func (f *Fabric) HaloExchange(pl Placement, h Halo) (Cost, error) {
	e, err := f.evaluator(pl)
	if err != nil {
		return Cost{}, err
	}
	for i, b := range h.FaceBytes {
		if b < 0 {
			return Cost{}, errBytes("halo", fmt.Sprintf("faceBytes[%d]", i), b)
		}
	}
	dims := ProcessGrid(e.p)
	stride := e.p
	for i, d := range dims {
		stride /= d
		if d > 1 {
			e.run(round{pat: patHalo, d: stride, dim: d, m: e.p, bytes: float64(h.FaceBytes[i])}, 1)
		}
	}
	return e.done(), nil
}

// ProcessGrid factors ranks into three dimensions as MPI_Dims_create
// (ranks, 3, {0,0,0}) does: as balanced as possible (the smallest
// spread between the largest and smallest, then the smallest largest),
// in non-increasing order. ranks <= 0 gives {0, 0, 0}.
func ProcessGrid(ranks int) [3]int {
	if ranks <= 0 {
		return [3]int{}
	}
	best := [3]int{ranks, 1, 1}
	for c := 1; c*c*c <= ranks; c++ {
		if ranks%c != 0 {
			continue
		}
		rest := ranks / c
		for b := c; b*b <= rest; b++ {
			if rest%b != 0 {
				continue
			}
			a := rest / b
			spread, bestSpread := a-c, best[0]-best[2]
			if spread < bestSpread || (spread == bestSpread && a < best[0]) {
				best = [3]int{a, b, c}
			}
		}
	}
	return best
}
