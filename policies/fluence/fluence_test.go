package fluence

import (
	"testing"
)

// A group of 4 pods of 4 cores on 4 nodes of 4 cores: one match, one pod
// per node in lonode order, all bound, the run completes.
func TestGroupPlacedAtOnce(t *testing.T) {
	p := newFluence(t, DefaultConfig())
	j := gang("g", 4, tmpl(4000, gi, 100))
	res := run(t, p, nodes(4, 4, 16), j)
	if res.Stopped != "" || res.FinishedPods() != 4 {
		t.Fatalf("stopped %q, finished %d: %s", res.Stopped, res.FinishedPods(), placement(res))
	}
	if got := jobPlacement(j); got != "node-0 node-1 node-2 node-3" {
		t.Errorf("placement %s", got)
	}
	st := p.Plugin().Stats()
	if st.Asks != 1 || st.Allocated != 1 || st.Released != 1 {
		t.Errorf("stats %+v", st)
	}
}
