package planner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naivePoints is the reference for planTree: sorted (time, use) pairs.
type naivePoints struct{ at, used []int64 }

func (n *naivePoints) idx(at int64) (int, bool) { return slices.BinarySearch(n.at, at) }

// TestPlanTreeQueries drives the treap directly with inserts, removals and
// range additions (so that many lazy tags are pending at any time) and
// checks every query against a sorted slice.
func TestPlanTreeQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	var tr planTree
	tr.reset()
	var nv naivePoints
	const keySpace = 400
	for op := range 20000 {
		switch k := rng.IntN(10); {
		case k < 4 || len(nv.at) < 5: // insert a new point
			at := rng.Int64N(keySpace)
			if _, found := nv.idx(at); found {
				continue
			}
			used := rng.Int64N(50)
			tr.insert(at, used)
			i, _ := nv.idx(at)
			nv.at = slices.Insert(nv.at, i, at)
			nv.used = slices.Insert(nv.used, i, used)
		case k < 5 && len(nv.at) > 0: // remove
			i := rng.IntN(len(nv.at))
			tr.remove(nv.at[i])
			nv.at = slices.Delete(nv.at, i, i+1)
			nv.used = slices.Delete(nv.used, i, i+1)
		default: // range add
			lo := rng.Int64N(keySpace)
			hi := lo + rng.Int64N(keySpace/2)
			v := rng.Int64N(21) - 10
			tr.rangeAdd(lo, hi, v)
			for i, a := range nv.at {
				if lo <= a && a < hi {
					nv.used[i] += v
				}
			}
		}
		if tr.size() != len(nv.at) {
			t.Fatalf("op %d: size %d, want %d", op, tr.size(), len(nv.at))
		}
		for range 5 {
			a := rng.Int64N(keySpace+20) - 10
			b := a + rng.Int64N(keySpace/2)
			thr := rng.Int64N(80) - 20

			// floor
			x, used := tr.floor(a)
			wi := -1
			for i, at := range nv.at {
				if at <= a {
					wi = i
				}
			}
			if (x == 0) != (wi < 0) || (wi >= 0 && (tr.nodes[x].at != nv.at[wi] || used != nv.used[wi])) {
				t.Fatalf("op %d: floor(%d) wrong", op, a)
			}
			// maxUsedIn
			wm, wok := int64(math.MinInt64), false
			for i, at := range nv.at {
				if a <= at && at < b {
					wm, wok = max(wm, nv.used[i]), true
				}
			}
			if m, ok := tr.maxUsedIn(a, b); ok != wok || (ok && m != wm) {
				t.Fatalf("op %d: maxUsedIn(%d, %d) = %d, %v; want %d, %v", op, a, b, m, ok, wm, wok)
			}
			// firstFit
			var want int64 = -1
			for i, at := range nv.at {
				if at >= a && nv.used[i] <= thr {
					want = at
					break
				}
			}
			got := int64(-1)
			if x := tr.firstFit(tr.root, a, thr, 0); x != 0 {
				got = tr.nodes[x].at
			}
			if got != want {
				t.Fatalf("op %d: firstFit(%d, %d) = %d, want %d", op, a, thr, got, want)
			}
			// lastBlock
			want = -1
			for i, at := range nv.at {
				if at < b && nv.used[i] > thr {
					want = at
				}
			}
			got = -1
			if x := tr.lastBlock(tr.root, b, thr, 0); x != 0 {
				got = tr.nodes[x].at
			}
			if got != want {
				t.Fatalf("op %d: lastBlock(%d, %d) = %d, want %d", op, b, thr, got, want)
			}
		}
		if op%500 == 0 {
			i := 0
			tr.walk(func(at, used int64, _ int32) bool {
				if at != nv.at[i] || used != nv.used[i] {
					t.Fatalf("op %d: walk point %d = (%d, %d), want (%d, %d)", op, i, at, used, nv.at[i], nv.used[i])
				}
				i++
				return true
			})
		}
	}
}
