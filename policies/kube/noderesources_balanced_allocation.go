package kube

import "math"

// balancedResources are the resources BalancedAllocation looks at
// (NodeResourcesBalancedAllocationArgs default: cpu and memory, weight 1).
var balancedResources = []ResourceSpec{{Name: ResourceCPU, Weight: 1}, {Name: ResourceMemory, Weight: 1}}

// maxBalancedResources bounds the on-stack fraction buffer.
const maxBalancedResources = 8

// balancedResourceScorer favours nodes whose resource utilizations
// (real requests, node + pod, capped at 1) are close to each other
// (upstream balanced_allocation.go): with two resources
// std = |f₁ − f₂|/2, with more the population standard deviation;
// score = int64((1 − std)·100).
func balancedResourceScorer(requested, allocatable []int64) int64 {
	var buf [maxBalancedResources]float64
	fractions := buf[:0]
	var total float64
	for i := range requested {
		if allocatable[i] == 0 {
			continue
		}
		f := min(float64(requested[i])/float64(allocatable[i]), 1)
		total += f
		fractions = append(fractions, f)
	}
	var std float64
	switch {
	case len(fractions) == 2:
		std = math.Abs((fractions[0] - fractions[1]) / 2)
	case len(fractions) > 2:
		mean := total / float64(len(fractions))
		var sum float64
		for _, f := range fractions {
			sum += (f - mean) * (f - mean)
		}
		std = math.Sqrt(sum / float64(len(fractions)))
	}
	return int64((1 - std) * float64(MaxNodeScore))
}
