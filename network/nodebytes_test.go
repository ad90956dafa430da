package network

import (
	"fmt"
	"testing"
)

// TestNodeInterBytes: the bytes the busiest node sends are what the
// pricing charges its link for, so at the link's rate they take no
// longer than the call; a node sends no more than all its ranks'
// worst; and one node sends nothing between nodes.
func TestNodeInterBytes(t *testing.T) {
	f := &Fabric{Inter: testInter(), Topology: TwoLevel(4, 2)}
	link := linkRate(f.Inter)
	for _, sh := range [][2]int{{1, 8}, {2, 4}, {6, 8}, {16, 16}} {
		pl := Uniform(sh[0], sh[1])
		calls := map[string]func() (Cost, error){
			"allreduce": func() (Cost, error) { return f.Allreduce(pl, 1<<20, AlgAuto) },
			"allgather": func() (Cost, error) { return f.Allgather(pl, 4096, AlgAuto) },
			"alltoall":  func() (Cost, error) { return f.Alltoall(pl, 4096, AlgAuto) },
			"bcast":     func() (Cost, error) { return f.Bcast(pl, 1<<20, AlgAuto) },
			"halo":      func() (Cost, error) { return f.HaloExchange(pl, Halo{FaceBytes: [3]int64{1 << 16, 1 << 15, 1 << 14}}) },
		}
		for _, name := range []string{"allreduce", "allgather", "alltoall", "bcast", "halo"} {
			c, err := calls[name]()
			if err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("%s on %dx%d", name, sh[0], sh[1])
			if sh[0] == 1 {
				if c.NodeInterBytes != 0 {
					t.Errorf("%s: node sends %g bytes between nodes, want 0", what, c.NodeInterBytes)
				}
				continue
			}
			if !(c.NodeInterBytes > 0) {
				t.Errorf("%s: node sends %g bytes between nodes", what, c.NodeInterBytes)
			}
			if c.NodeInterBytes/link > c.Seconds*(1+1e-12) {
				t.Errorf("%s: %g bytes take %g s at the link rate, longer than the call (%g s)", what, c.NodeInterBytes, c.NodeInterBytes/link, c.Seconds)
			}
			if c.NodeInterBytes > float64(sh[1])*c.InterBytes*(1+1e-12) {
				t.Errorf("%s: node sends %g bytes, more than its %d ranks × %g", what, c.NodeInterBytes, sh[1], c.InterBytes)
			}
		}
	}
}
