package network

// The collectives build their rounds exactly as the MPICH (and Open MPI
// coll/base) algorithms exchange messages, with rank 0 as root, and
// price each round on the placement (evaluator.run).

// Allreduce prices MPI_Allreduce of bytes bytes per rank.
//
//   - ring: reduce-scatter then allgather around the ring, 2(p−1)
//     rounds of bytes/p to the next rank, reducing in the first p−1.
//   - recursive-doubling: the non-power-of-two fix-up (even ranks
//     below 2·rem hand their data to the next rank), log2 p' exchanges
//     of the whole buffer with rank XOR 2^k, the result handed back.
//   - rabenseifner: the same fix-up, reduce-scatter by recursive
//     halving (XOR 1, 2, 4… with halving sizes) and allgather by
//     recursive doubling (the reverse order), MPICH's
//     reduce_scatter_allgather.
func (f *Fabric) Allreduce(pl Placement, bytes int64, alg Algorithm) (Cost, error) {
	e, err := f.begin("allreduce", pl, "bytes", bytes, alg, func(p int) Algorithm { return selectAllreduce(p, bytes) },
		AlgRing, AlgRecursiveDoubling, AlgRabenseifner)
	if err != nil {
		return Cost{}, err
	}
	p, alg := e.p, e.cost.Algorithm
	if p == 1 {
		return e.done(), nil
	}
	n := float64(bytes)
	switch alg {
	case AlgRing:
		chunk := n / float64(p)
		e.run(round{pat: patShift, d: 1, m: p, bytes: chunk, reduce: chunk}, p-1)
		e.run(round{pat: patShift, d: 1, m: p, bytes: chunk}, p-1)
	case AlgRecursiveDoubling, AlgRabenseifner:
		p2 := pof2(p)
		rem := p - p2
		if rem > 0 {
			e.run(round{pat: patBinomial, d: 1, m: 2 * rem, bytes: n, reduce: n}, 1)
		}
		if alg == AlgRecursiveDoubling {
			for mask := 1; mask < p2; mask *= 2 {
				e.run(round{pat: patXor, d: mask, m: p2, rem: rem, bytes: n, reduce: n}, 1)
			}
		} else {
			for mask := 1; mask < p2; mask *= 2 {
				part := n / float64(2*mask)
				e.run(round{pat: patXor, d: mask, m: p2, rem: rem, bytes: part, reduce: part}, 1)
			}
			for mask := p2 / 2; mask >= 1; mask /= 2 {
				e.run(round{pat: patXor, d: mask, m: p2, rem: rem, bytes: n / float64(2*mask)}, 1)
			}
		}
		if rem > 0 {
			e.run(round{pat: patBinomial, d: 1, m: 2 * rem, reverse: true, bytes: n}, 1)
		}
	}
	return e.done(), nil
}

// Bcast prices MPI_Bcast of bytes bytes from rank 0.
//
//   - binomial: MPICH's binomial tree, the root first sending to the
//     farthest subtree (mask p'/2, then p'/4, …), ceil(log2 p) rounds.
//   - scatter-allgather: van de Geijn's broadcast, a binomial scatter
//     of ceil(bytes/p)-byte pieces followed by an allgather, by
//     recursive doubling for power-of-two rank counts below 512 KiB,
//     by a ring otherwise (MPICH's scatter_doubling_allgather and
//     scatter_ring_allgather).
func (f *Fabric) Bcast(pl Placement, bytes int64, alg Algorithm) (Cost, error) {
	e, err := f.begin("bcast", pl, "bytes", bytes, alg, func(p int) Algorithm { return selectBcast(p, bytes) },
		AlgBinomial, AlgScatterAllgather)
	if err != nil {
		return Cost{}, err
	}
	p, alg := e.p, e.cost.Algorithm
	if p == 1 {
		return e.done(), nil
	}
	n := float64(bytes)
	top := pof2(p - 1) // the largest mask below p
	if alg == AlgBinomial {
		for mask := top; mask >= 1; mask /= 2 {
			e.run(round{pat: patBinomial, d: mask, m: p, bytes: n}, 1)
		}
		return e.done(), nil
	}
	piece := float64(bytes / int64(p))
	if bytes%int64(p) != 0 {
		piece++
	}
	for mask := top; mask >= 1; mask /= 2 {
		// The root holds the most: it keeps mask pieces, sends the rest
		// of its subtree's 2·mask pieces.
		send := max(0, min(2*float64(mask)*piece, n)-float64(mask)*piece)
		e.run(round{pat: patBinomial, d: mask, m: p, bytes: send}, 1)
	}
	if isPof2(p) && bytes < bcastLongMsg {
		for mask := 1; mask < p; mask *= 2 {
			e.run(round{pat: patXor, d: mask, m: p, bytes: float64(mask) * piece}, 1)
		}
	} else {
		e.run(round{pat: patShift, d: 1, m: p, bytes: piece}, p-1)
	}
	return e.done(), nil
}

// Barrier prices MPI_Barrier: dissemination (ceil(log2 p) rounds, rank
// r signalling r+2^k) or recursive-doubling (XOR partners with the
// non-power-of-two fix-up). Messages carry no payload.
func (f *Fabric) Barrier(pl Placement, alg Algorithm) (Cost, error) {
	e, err := f.begin("barrier", pl, "", 0, alg, func(int) Algorithm { return AlgDissemination },
		AlgDissemination, AlgRecursiveDoubling)
	if err != nil {
		return Cost{}, err
	}
	p, alg := e.p, e.cost.Algorithm
	if p == 1 {
		return e.done(), nil
	}
	if alg == AlgDissemination {
		for mask := 1; mask < p; mask *= 2 {
			e.run(round{pat: patShift, d: mask, m: p}, 1)
		}
		return e.done(), nil
	}
	p2 := pof2(p)
	rem := p - p2
	if rem > 0 {
		e.run(round{pat: patBinomial, d: 1, m: 2 * rem}, 1)
	}
	for mask := 1; mask < p2; mask *= 2 {
		e.run(round{pat: patXor, d: mask, m: p2, rem: rem}, 1)
	}
	if rem > 0 {
		e.run(round{pat: patBinomial, d: 1, m: 2 * rem, reverse: true}, 1)
	}
	return e.done(), nil
}

// Alltoall prices MPI_Alltoall with bytesPerPair bytes from every rank
// to every other.
//
//   - pairwise: p−1 rounds, in round k rank r sends to r+k and
//     receives from r−k (Open MPI coll/base pairwise; MPICH uses XOR
//     partners for power-of-two counts, the same volume).
//   - bruck: ceil(log2 p) rounds, in round k rank r sends to r+2^k the
//     blocks whose index has bit k set.
//   - linear: every message posted at once (MPICH's isend/irecv
//     algorithm, modelled without its throttle of 32 outstanding
//     requests): one round in which all of a node's messages share its
//     link.
func (f *Fabric) Alltoall(pl Placement, bytesPerPair int64, alg Algorithm) (Cost, error) {
	e, err := f.begin("alltoall", pl, "bytesPerPair", bytesPerPair, alg, func(p int) Algorithm { return selectAlltoall(p, bytesPerPair) },
		AlgPairwise, AlgBruck, AlgLinear)
	if err != nil {
		return Cost{}, err
	}
	p, alg := e.p, e.cost.Algorithm
	if p == 1 {
		return e.done(), nil
	}
	n := float64(bytesPerPair)
	switch alg {
	case AlgPairwise:
		// A shift by k with far <= k <= p−far, far the most ranks in a
		// node (or a leaf), sends every message off its node (and leaf):
		// those rounds are all alike, priced once.
		far := max(e.longest(1, 0, p), e.longestLeaf())
		alike := 0
		for k := 1; k < p; k++ {
			if k >= far && k <= p-far {
				alike++
				continue
			}
			e.run(round{pat: patShift, d: k, m: p, bytes: n}, 1)
		}
		e.run(round{pat: patShift, d: far, m: p, bytes: n}, alike)
	case AlgBruck:
		for k := 1; k < p; k *= 2 {
			blocks := countBit(p, k)
			e.run(round{pat: patShift, d: k, m: p, bytes: n * float64(blocks)}, 1)
		}
	case AlgLinear:
		e.run(round{pat: patAll, m: p, bytes: n}, 1)
	}
	return e.done(), nil
}

// countBit is how many of 0..p-1 have bit k (a power of two) set.
func countBit(p, k int) int {
	return p/(2*k)*k + max(0, p%(2*k)-k)
}

// Allgather prices MPI_Allgather of bytesPerRank bytes from each rank.
//
//   - ring: p−1 rounds, each rank passing one block to the next.
//   - recursive-doubling: log2 p rounds with rank XOR 2^k, the blocks
//     doubling (power-of-two rank counts only).
//   - bruck: floor(log2 p) rounds to rank − 2^k with 2^k blocks, and
//     one more with the p − 2^floor(log2 p) remaining blocks.
func (f *Fabric) Allgather(pl Placement, bytesPerRank int64, alg Algorithm) (Cost, error) {
	const coll = "allgather"
	given := alg
	e, err := f.begin(coll, pl, "bytesPerRank", bytesPerRank, alg, func(p int) Algorithm { return selectAllgather(p, bytesPerRank) },
		AlgRing, AlgRecursiveDoubling, AlgBruck)
	if err != nil {
		return Cost{}, err
	}
	p, alg := e.p, e.cost.Algorithm
	if given == AlgRecursiveDoubling && !isPof2(p) {
		return Cost{}, errPof2(coll, alg, p)
	}
	if p == 1 {
		return e.done(), nil
	}
	n := float64(bytesPerRank)
	switch alg {
	case AlgRing:
		e.run(round{pat: patShift, d: 1, m: p, bytes: n}, p-1)
	case AlgRecursiveDoubling:
		for mask := 1; mask < p; mask *= 2 {
			e.run(round{pat: patXor, d: mask, m: p, bytes: float64(mask) * n}, 1)
		}
	case AlgBruck:
		k := 1
		for ; 2*k <= p; k *= 2 {
			e.run(round{pat: patShift, d: p - k, m: p, bytes: float64(k) * n}, 1)
		}
		if rem := p - k; rem > 0 {
			e.run(round{pat: patShift, d: p - k, m: p, bytes: float64(rem) * n}, 1)
		}
	}
	return e.done(), nil
}
