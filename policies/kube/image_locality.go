package kube

import "github.com/convergesim/converge/engine"

// ImageLocality favours nodes that already have the pod's container images:
// sum = Σ over the pod's (init and app) containers whose image is on the
// node of int64(size · nodesWithImage/totalNodes), clamped to
// [23 MiB, 1000 MiB × containers], score = 100·(sum − 23 MiB)/(max − 23 MiB).

// Thresholds from the reference §1.4 (upstream image_locality.go; quoted
// from memory there, unverified).
const (
	mib                        int64 = 1024 * 1024
	imageMinThreshold                = 23 * mib
	imageMaxContainerThreshold       = 1000 * mib
)

type imageRef struct {
	name string
	size int64 // the container's declared size
}

// imageScorePriority clamps the summed image score and scales it to
// [0, MaxNodeScore] (upstream calculatePriority).
func imageScorePriority(sum int64, numContainers int) int64 {
	maxThreshold := imageMaxContainerThreshold * int64(numContainers)
	sum = max(sum, imageMinThreshold)
	sum = min(sum, maxThreshold)
	if maxThreshold == imageMinThreshold {
		return 0
	}
	return MaxNodeScore * (sum - imageMinThreshold) / (maxThreshold - imageMinThreshold)
}

// scoreImageLocality writes the raw (already 0–100) scores of the feasible
// nodes into scores and reports whether any can be non-zero. It returns
// false without looking at the nodes when even a node holding every image
// would stay at or below the minimum threshold (then every score is 0,
// exactly as upstream would compute).
func (s *Scheduler) scoreImageLocality(ti *templateInfo, c *engine.Cluster, scores []int64) bool {
	if len(ti.images) == 0 {
		return false
	}
	total := float64(len(c.Nodes))
	spread := s.imageSpread[:0]
	var bound int64
	for _, im := range ti.images {
		f := float64(c.NodesWithImage(im.name)) / total
		spread = append(spread, f)
		if f > 0 {
			// The engine keeps one size per image name; imageSize is the
			// largest size any template declared for it, so this bounds
			// what HasImage can report.
			bound += int64(float64(s.imageSize[im.name]) * f)
		}
	}
	s.imageSpread = spread
	if bound <= imageMinThreshold {
		return false
	}
	for i, n := range s.feasibleNodes(c) {
		var sum int64
		for j, im := range ti.images {
			if spread[j] == 0 {
				continue
			}
			if size, ok := n.HasImage(im.name); ok {
				sum += int64(float64(size) * spread[j])
			}
		}
		scores[i] = imageScorePriority(sum, len(ti.images))
	}
	return true
}
