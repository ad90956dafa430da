package network

import "math"

// Automatic algorithm selection follows MPICH's default decision rules
// (the MPIR_*_intra "auto" selections of MPICH 3.x, src/mpi/coll/*.c,
// with the thresholds of their MPIR_CVAR_* defaults), which are a few
// size thresholds rather than Open MPI's measured tables
// (ompi/mca/coll/tuned/coll_tuned_decision_fixed.c). Sizes are those
// of one rank's buffer; element counts assume 8-byte elements
// (MPI_DOUBLE).
const (
	// MPIR_CVAR_ALLREDUCE_SHORT_MSG_SIZE (src/mpi/coll/allreduce.c):
	// recursive doubling up to this size, or when there are fewer
	// elements than the power of two of ranks; Rabenseifner's
	// reduce-scatter + allgather above.
	allreduceShortMsg = 2048
	// MPIR_CVAR_BCAST_SHORT_MSG_SIZE, _LONG_MSG_SIZE, _MIN_PROCS
	// (src/mpi/coll/bcast.c): binomial tree below the short size or
	// with fewer than 8 ranks; otherwise scatter + allgather, the
	// allgather by recursive doubling for power-of-two rank counts
	// below the long size, by a ring otherwise.
	bcastShortMsg = 12288
	bcastLongMsg  = 524288
	bcastMinProcs = 8
	// MPIR_CVAR_ALLTOALL_SHORT_MSG_SIZE, _MEDIUM_MSG_SIZE
	// (src/mpi/coll/alltoall.c): Bruck for short messages with at least
	// 8 ranks, all isend/irecv at once (linear) for medium, pairwise
	// exchange for long.
	alltoallShortMsg  = 256
	alltoallMediumMsg = 32768
	alltoallMinProcs  = 8
	// MPIR_CVAR_ALLGATHER_SHORT_MSG_SIZE, _LONG_MSG_SIZE
	// (src/mpi/coll/allgather.c), on the total gathered size:
	// recursive doubling below the long size for power-of-two rank
	// counts, Bruck below the short size, ring otherwise.
	allgatherShortMsg = 81920
	allgatherLongMsg  = 524288
	// Barrier: MPICH's MPIR_Barrier_intra is the dissemination
	// algorithm (src/mpi/coll/barrier.c).
	elementBytes = 8
)

func selectAllreduce(p int, bytes int64) Algorithm {
	if bytes <= allreduceShortMsg || bytes/elementBytes < int64(pof2(p)) {
		return AlgRecursiveDoubling
	}
	return AlgRabenseifner
}

func selectBcast(p int, bytes int64) Algorithm {
	if bytes < bcastShortMsg || p < bcastMinProcs {
		return AlgBinomial
	}
	return AlgScatterAllgather
}

func selectAlltoall(p int, bytes int64) Algorithm {
	switch {
	case bytes <= alltoallShortMsg && p >= alltoallMinProcs:
		return AlgBruck
	case bytes <= alltoallMediumMsg:
		return AlgLinear
	}
	return AlgPairwise
}

func selectAllgather(p int, bytes int64) Algorithm {
	total := int64(math.MaxInt64)
	if bytes <= math.MaxInt64/int64(p) {
		total = bytes * int64(p)
	}
	switch {
	case total < allgatherLongMsg && isPof2(p):
		return AlgRecursiveDoubling
	case total < allgatherShortMsg:
		return AlgBruck
	}
	return AlgRing
}
