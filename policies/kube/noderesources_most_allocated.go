package kube

// mostResourceScorer favours nodes with more requested resources (upstream
// most_allocated.go): per resource requested·100/allocatable, with
// requested capped at allocatable (non-zero defaults can exceed it), then
// the weighted mean over the resources the node has.
func mostResourceScorer(weights []int64) resourceScorer {
	return func(requested, allocatable []int64) int64 {
		var nodeScore, weightSum int64
		for i := range requested {
			if allocatable[i] == 0 {
				continue
			}
			nodeScore += mostRequestedScore(requested[i], allocatable[i]) * weights[i]
			weightSum += weights[i]
		}
		if weightSum == 0 {
			return 0
		}
		return nodeScore / weightSum
	}
}

func mostRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 {
		return 0
	}
	requested = min(requested, capacity)
	return requested * MaxNodeScore / capacity
}
