package match

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestStdSort: the permutations libstdc++ 12's std::sort and
// std::partial_sort(first, last, last) give for these keys (printed by a
// g++ program that sorts (key, index) pairs by key), and a sorted result
// for random input.
func TestStdSort(t *testing.T) {
	rep := func(k, n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = k
		}
		return s
	}
	type kv struct{ k, i int }
	order := func(keys []int, heap bool) []int {
		s := make([]kv, len(keys))
		for i, k := range keys {
			s[i] = kv{k, i}
		}
		less := func(a, b *kv) bool { return a.k < b.k }
		if heap {
			stdHeapSort(s, less, new(kv))
		} else {
			stdSort(s, less)
		}
		out := make([]int, len(s))
		for i, e := range s {
			out[i] = e.i
		}
		return out
	}
	for _, tc := range []struct {
		keys []int
		heap bool
		want []int
	}{
		{rep(0, 20), false, []int{10, 19, 18, 17, 16, 15, 14, 13, 12, 11, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{rep(7, 19), false, []int{9, 18, 17, 16, 15, 14, 13, 12, 11, 10, 0, 8, 7, 6, 5, 4, 3, 2, 1}},
		{rep(0, 17), false, []int{8, 16, 15, 14, 13, 12, 11, 10, 9, 0, 7, 6, 5, 4, 3, 2, 1}},
		{rep(0, 16), false, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
		{[]int{3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, false,
			[]int{1, 19, 4, 16, 7, 13, 10, 11, 20, 17, 14, 8, 5, 2, 0, 12, 9, 15, 6, 18, 3, 21}},
		{[]int{5, 3, 3, 1, 5, 3, 1, 1, 0, 5}, true, []int{8, 6, 7, 3, 1, 2, 5, 0, 4, 9}},
	} {
		if got := order(tc.keys, tc.heap); !slices.Equal(got, tc.want) {
			t.Errorf("keys %v (heap %v): %v, want %v", tc.keys, tc.heap, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 9))
	for range 500 {
		n := rng.IntN(300)
		keys := make([]int, n)
		for i := range keys {
			keys[i] = rng.IntN(1 + rng.IntN(50))
		}
		s := slices.Clone(keys)
		stdSort(s, func(a, b *int) bool { return *a < *b })
		if !slices.IsSorted(s) {
			t.Fatalf("not sorted: %v", s)
		}
		h := slices.Clone(keys)
		stdHeapSort(h, func(a, b *int) bool { return *a < *b }, new(int))
		if !slices.Equal(h, s) {
			t.Fatalf("heap sort %v, sort %v", h, s)
		}
	}
}
