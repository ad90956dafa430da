package match

import "math/bits"

// stdSort sorts s by less the way libstdc++'s std::sort does (GCC's
// bits/stl_algo.h and bits/stl_heap.h: introsort with median-of-three
// pivots down to runs of 16, a heap sort past a depth of 2*floor(log2 n),
// then one insertion sort), so that it leaves equal elements in the same
// order as flux-sched's choose_best_k does when built with libstdc++.
// std::sort is not stable: of 20 equal elements it puts the 11th first.
// less must be a strict weak order, as std::sort requires.
func stdSort[E any](s []E, less func(a, b *E) bool) {
	if len(s) < 2 {
		return
	}
	// The element being moved lives in tmp, one per sort: a local whose
	// address went to less would escape, an allocation per move.
	tmp := new(E)
	stdIntrosort(s, 0, len(s), 2*(bits.Len(uint(len(s)))-1), less, tmp)
	if len(s) > stdThreshold {
		stdInsertion(s[:stdThreshold], less, tmp)
		for i := stdThreshold; i < len(s); i++ {
			stdLinearInsert(s, i, less, tmp)
		}
		return
	}
	stdInsertion(s, less, tmp)
}

// stdThreshold is libstdc++'s _S_threshold.
const stdThreshold = 16

func stdIntrosort[E any](s []E, first, last, depth int, less func(a, b *E) bool, tmp *E) {
	for last-first > stdThreshold {
		if depth == 0 {
			stdHeapSort(s[first:last], less, tmp)
			return
		}
		depth--
		// The median of s[first+1], s[mid], s[last-1] goes to s[first]
		// and is the pivot of an unguarded partition of s[first+1:last].
		a, b, c := first+1, first+(last-first)/2, last-1
		m := b
		switch {
		case less(&s[a], &s[b]):
			switch {
			case less(&s[b], &s[c]):
				m = b
			case less(&s[a], &s[c]):
				m = c
			default:
				m = a
			}
		case less(&s[a], &s[c]):
			m = a
		case less(&s[b], &s[c]):
			m = c
		}
		s[first], s[m] = s[m], s[first]
		lo, hi := first+1, last
		for {
			for less(&s[lo], &s[first]) {
				lo++
			}
			hi--
			for less(&s[first], &s[hi]) {
				hi--
			}
			if lo >= hi {
				break
			}
			s[lo], s[hi] = s[hi], s[lo]
			lo++
		}
		stdIntrosort(s, lo, last, depth, less, tmp)
		last = lo
	}
}

// stdInsertion is __insertion_sort.
func stdInsertion[E any](s []E, less func(a, b *E) bool, tmp *E) {
	for i := 1; i < len(s); i++ {
		if less(&s[i], &s[0]) {
			v := s[i]
			copy(s[1:i+1], s[:i])
			s[0] = v
		} else {
			stdLinearInsert(s, i, less, tmp)
		}
	}
}

// stdLinearInsert is __unguarded_linear_insert: s[i] moves down past
// the elements greater than it (something at or before it is not).
func stdLinearInsert[E any](s []E, i int, less func(a, b *E) bool, tmp *E) {
	*tmp = s[i]
	for less(tmp, &s[i-1]) {
		s[i] = s[i-1]
		i--
	}
	s[i] = *tmp
}

// stdHeapSort is __partial_sort(first, last, last): make_heap, then
// sort_heap.
func stdHeapSort[E any](s []E, less func(a, b *E) bool, tmp *E) {
	n := len(s)
	if n >= 2 {
		for p := (n - 2) / 2; ; p-- {
			*tmp = s[p]
			stdAdjustHeap(s, p, n, tmp, less)
			if p == 0 {
				break
			}
		}
	}
	for last := n - 1; last > 0; last-- {
		*tmp = s[last]
		s[last] = s[0]
		stdAdjustHeap(s, 0, last, tmp, less)
	}
}

// stdAdjustHeap is __adjust_heap followed by __push_heap; *v is the
// value to place (not an element of s).
func stdAdjustHeap[E any](s []E, hole, n int, v *E, less func(a, b *E) bool) {
	top, child := hole, hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if less(&s[child], &s[child-1]) {
			child--
		}
		s[hole] = s[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		s[hole] = s[child-1]
		hole = child - 1
	}
	for parent := (hole - 1) / 2; hole > top && less(&s[parent], v); parent = (hole - 1) / 2 {
		s[hole] = s[parent]
		hole = parent
	}
	s[hole] = *v
}
