package kube

import "math"

// functionShapePoint is a shape point scaled to the scheduler's score range.
type functionShapePoint struct {
	utilization, score int64
}

// requestedToCapacityRatioScorer scores each resource by a broken-linear
// function of its utilization (upstream requested_to_capacity_ratio.go).
// The configured shape scores (0–10) are scaled by MaxNodeScore/10. A
// resource whose function value is 0 does not count in the weight sum, and
// the weighted mean is rounded (not truncated) — both upstream quirks.
func requestedToCapacityRatioScorer(weights []int64, shape []UtilizationShapePoint) resourceScorer {
	points := make([]functionShapePoint, len(shape))
	for i, p := range shape {
		points[i] = functionShapePoint{int64(p.Utilization), int64(p.Score) * (MaxNodeScore / maxCustomPriority)}
	}
	f := brokenLinearFunction(points)
	resourceScore := func(requested, capacity int64) int64 {
		if capacity == 0 || requested > capacity {
			return f(maxUtilization)
		}
		return f(requested * maxUtilization / capacity)
	}
	return func(requested, allocatable []int64) int64 {
		var nodeScore, weightSum int64
		for i := range requested {
			if allocatable[i] == 0 {
				continue
			}
			s := resourceScore(requested[i], allocatable[i])
			if s > 0 {
				nodeScore += s * weights[i]
				weightSum += weights[i]
			}
		}
		if weightSum == 0 {
			return 0
		}
		return int64(math.Round(float64(nodeScore) / float64(weightSum)))
	}
}

// brokenLinearFunction interpolates linearly between the shape points
// (integer arithmetic), flat before the first and after the last point
// (upstream helper.BuildBrokenLinearFunction).
func brokenLinearFunction(shape []functionShapePoint) func(int64) int64 {
	return func(p int64) int64 {
		for i := range shape {
			if p <= shape[i].utilization {
				if i == 0 {
					return shape[0].score
				}
				a, b := shape[i-1], shape[i]
				return a.score + (b.score-a.score)*(p-a.utilization)/(b.utilization-a.utilization)
			}
		}
		return shape[len(shape)-1].score
	}
}
