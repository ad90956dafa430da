package kube

// leastResourceScorer favours nodes with fewer requested resources
// (upstream least_allocated.go): per resource
// (allocatable − requested)·100/allocatable, 0 when requested exceeds
// allocatable, then the weighted mean over the resources the node has,
// all in integer arithmetic.
func leastResourceScorer(weights []int64) resourceScorer {
	return func(requested, allocatable []int64) int64 {
		var nodeScore, weightSum int64
		for i := range requested {
			if allocatable[i] == 0 {
				continue
			}
			nodeScore += leastRequestedScore(requested[i], allocatable[i]) * weights[i]
			weightSum += weights[i]
		}
		if weightSum == 0 {
			return 0
		}
		return nodeScore / weightSum
	}
}

func leastRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxNodeScore / capacity
}
