package kube

import (
	"fmt"

	"github.com/convergesim/converge/engine"
)

// TaintToleration. Filter: every NoSchedule and NoExecute taint of the node
// must be tolerated. Score: the number of PreferNoSchedule taints the pod
// does not tolerate (only its tolerations with effect PreferNoSchedule or
// empty count), normalized in reverse: 100 − 100·raw/max, and 100 for
// every node when max = 0.

func tolerationsTolerateTaint(tols []engine.Toleration, t *engine.Taint) bool {
	for i := range tols {
		if tols[i].Tolerates(*t) {
			return true
		}
	}
	return false
}

// findUntoleratedTaint returns the index of the node's first NoSchedule or
// NoExecute taint that no toleration tolerates, or −1.
func findUntoleratedTaint(taints []engine.Taint, tols []engine.Toleration) int {
	for i := range taints {
		t := &taints[i]
		if t.Effect != engine.NoSchedule && t.Effect != engine.NoExecute {
			continue
		}
		if !tolerationsTolerateTaint(tols, t) {
			return i
		}
	}
	return -1
}

func untoleratedTaintReason(t *engine.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

// preferNoScheduleTolerations returns the tolerations that count for the
// score: effect PreferNoSchedule or empty (all effects).
func preferNoScheduleTolerations(tols []engine.Toleration) []engine.Toleration {
	var out []engine.Toleration
	for _, t := range tols {
		if t.Effect == "" || t.Effect == engine.PreferNoSchedule {
			out = append(out, t)
		}
	}
	return out
}

// countIntolerablePreferNoSchedule is TaintToleration's raw score.
func countIntolerablePreferNoSchedule(taints []engine.Taint, tols []engine.Toleration) int64 {
	var n int64
	for i := range taints {
		if taints[i].Effect == engine.PreferNoSchedule && !tolerationsTolerateTaint(tols, &taints[i]) {
			n++
		}
	}
	return n
}

// defaultNormalizeScore scales raw scores to [0, MaxNodeScore] by
// max·raw/maxRaw, reversed (max − that) if reverse; when every raw score is
// 0 the result is 0 everywhere, or MaxNodeScore everywhere if reverse
// (upstream helper.DefaultNormalizeScore).
func defaultNormalizeScore(scores []int64, reverse bool) {
	var maxCount int64
	for _, s := range scores {
		maxCount = max(maxCount, s)
	}
	if maxCount == 0 {
		if reverse {
			for i := range scores {
				scores[i] = MaxNodeScore
			}
		}
		return
	}
	for i, s := range scores {
		s = MaxNodeScore * s / maxCount
		if reverse {
			s = MaxNodeScore - s
		}
		scores[i] = s
	}
}
