package kube

import (
	"github.com/convergesim/converge/engine"
)

// One scheduling cycle (upstream schedulePod): Filter from the rotating
// start index until enough feasible nodes are found, then PreScore, Score,
// NormalizeScore and weights, and a uniformly random choice among the
// nodes with the highest total.

// templateInfo is what the cycle needs from a pod template, compiled once
// per template (the pods of a job share it).
type templateInfo struct {
	shape                 int32            // memo key (1, 2, … in order of first use)
	requests, nonZero     engine.Resources // of the template's pods
	affinity              nodeAffinity
	affinityFilter        bool
	tolerations           []engine.Toleration
	tolerateUnschedulable bool
	preferTolerations     []engine.Toleration
	images                []imageRef  // init containers, then containers
	fail                  *failRecord // the remembered diagnosis, or nil
}

// cycleState is the per-cycle data shared by the plugins (upstream
// CycleState).
type cycleState struct {
	pod *engine.Pod
	ti  *templateInfo
	// only, if set, are the nodes a PreFilter plugin restricted the pod
	// to (PreFilterResult.NodeNames).
	only []*engine.Node
}

func (s *Scheduler) templateInfo(t *engine.PodTemplate) *templateInfo {
	if ti, ok := s.templates[t]; ok {
		return ti
	}
	ti := &templateInfo{
		shape:                 int32(len(s.templates) + 1),
		requests:              t.Requests(),
		nonZero:               t.NonZeroRequests(),
		affinity:              compileNodeAffinity(t),
		tolerations:           t.Tolerations,
		tolerateUnschedulable: toleratesUnschedulable(t.Tolerations),
		preferTolerations:     preferNoScheduleTolerations(t.Tolerations),
	}
	ti.affinityFilter = ti.affinity.hasFilter()
	for _, cs := range [][]engine.Container{t.InitContainers, t.Containers} {
		for _, c := range cs {
			ti.images = append(ti.images, imageRef{s.internImage(c.Image, c.ImageSize)})
		}
	}
	s.templates[t] = ti
	return ti
}

// numFeasibleNodesToFind is how many feasible nodes Filter looks for among
// n nodes (upstream numFeasibleNodesToFind): every node below 100 nodes;
// otherwise the configured percentage, or if 0 the adaptive
// 50 − n/125 percent with a floor of 5 %; and never fewer than 100.
func numFeasibleNodesToFind(percentage int32, n int) int {
	if n < minFeasibleNodes || percentage >= 100 {
		return n
	}
	p := int(percentage)
	if p == 0 {
		p = 50 - n/125
		if p < minFeasiblePercentage {
			p = minFeasiblePercentage
		}
	}
	k := n * p / 100
	if k < minFeasibleNodes {
		return minFeasibleNodes
	}
	return k
}

// filter runs the filter plugins on a node in upstream order and returns
// the one that rejected it (0 if none) with a detail: the index of the
// untolerated taint, or the insufficient resources.
func filter(st *cycleState, n *engine.Node) (pluginSet, int) {
	ti := st.ti
	if n.Unschedulable && !ti.tolerateUnschedulable {
		return pluginNodeUnschedulable, 0
	}
	if len(n.Taints) > 0 {
		if i := findUntoleratedTaint(n.Taints, ti.tolerations); i >= 0 {
			return pluginTaintToleration, i
		}
	}
	if ti.affinityFilter && !ti.affinity.matchRequired(n.Labels) {
		return pluginNodeAffinity, 0
	}
	if r := fitsRequest(&st.pod.Requests, n); r != 0 {
		return pluginNodeResourcesFit, int(r)
	}
	return 0, 0
}

// findNodesThatFit fills s.feasibleIdx and returns how many nodes it
// evaluated. Upstream evaluates nodes in parallel from nextStartNodeIndex
// and cancels once k are feasible; evaluating them in order finds the first
// k feasible nodes of the rotation, which is one of the sets upstream can
// find.
func (s *Scheduler) findNodesThatFit(st *cycleState, nodes []*engine.Node) int {
	if st.only != nil {
		// Only the PreFilter result's nodes are evaluated, all of them.
		feasibleIdx := s.feasibleIdx[:0]
		tainted := false
		off := s.filtersOff
		for _, node := range st.only {
			if filterProfile(st, node, off) == 0 {
				feasibleIdx = append(feasibleIdx, int32(node.Index))
				tainted = tainted || len(node.Taints) > 0
			}
		}
		s.feasibleIdx, s.feasible, s.feasibleTainted = feasibleIdx, s.feasible[:0], tainted
		return len(st.only)
	}
	n := len(nodes)
	k := 1 // no scoring: the first feasible node will do
	if s.scoring {
		k = numFeasibleNodesToFind(s.cfg.PercentageOfNodesToScore, n)
	}
	start := s.nextStartNodeIndex % n
	feasibleIdx := s.feasibleIdx[:0]
	processed := n
	tainted := false
	plain := !st.ti.affinityFilter
	req := &st.pod.Requests
	hot, plainNode := s.nodes.hot[:n], s.nodes.plain[:n]
	for i := 0; i < n; i++ {
		idx := start + i
		if idx >= n {
			idx -= n
		}
		if plain && plainNode[idx] {
			// Only NodeResourcesFit can reject this node.
			if !hot[idx].fits(req) {
				continue
			}
		} else {
			node := nodes[idx]
			if p, _ := filter(st, node); p != 0 {
				continue
			}
			tainted = tainted || len(node.Taints) > 0
		}
		feasibleIdx = append(feasibleIdx, int32(idx))
		if len(feasibleIdx) == k {
			processed = i + 1
			break
		}
	}
	s.feasibleIdx = feasibleIdx
	s.feasible = s.feasible[:0] // built on demand by feasibleNodes
	s.feasibleTainted = tainted
	s.nextStartNodeIndex = (start + processed) % n
	return processed
}

// prioritize computes the weighted total score of every feasible node into
// s.total.
func (s *Scheduler) prioritize(st *cycleState, c *engine.Cluster) []int64 {
	n := len(s.feasibleIdx)
	total := s.total[:n]
	if s.fast != nil {
		s.fast.scoreAll(&s.nodes, s.feasibleIdx, total, &s.podReq, s.podShape)
	} else {
		clear(total)
	}
	raw := s.raw[:n]
	w := &s.cfg.PluginWeights
	p := st.pod
	if w.TaintToleration > 0 && !s.feasibleTainted {
		// No taints: every raw score is 0, reverse-normalized to 100.
		for i := range total {
			total[i] += w.TaintToleration * MaxNodeScore
		}
	} else if w.TaintToleration > 0 {
		for i, n := range s.feasibleNodes(c) {
			raw[i] = 0
			if len(n.Taints) > 0 {
				raw[i] = countIntolerablePreferNoSchedule(n.Taints, st.ti.preferTolerations)
			}
		}
		defaultNormalizeScore(raw, true)
		addWeighted(total, raw, w.TaintToleration)
	}
	if w.NodeAffinity > 0 && len(st.ti.affinity.preferred) > 0 {
		for i, n := range s.feasibleNodes(c) {
			raw[i] = st.ti.affinity.preferredScore(n.Labels)
		}
		defaultNormalizeScore(raw, false)
		addWeighted(total, raw, w.NodeAffinity)
	}
	if s.fast == nil {
		// BalancedAllocation skips best-effort pods (no cpu or memory request).
		balanced := w.NodeResourcesBalancedAllocation > 0 && (p.Requests.MilliCPU != 0 || p.Requests.Memory != 0)
		if w.NodeResourcesFit > 0 {
			for i, n := range s.feasibleNodes(c) {
				total[i] += w.NodeResourcesFit * s.fit.score(n, p)
			}
		}
		if balanced {
			for i, n := range s.feasibleNodes(c) {
				total[i] += w.NodeResourcesBalancedAllocation * s.balanced.score(n, p)
			}
		}
	}
	if w.PodTopologySpread > 0 && s.scorePodTopologySpread(st, c, raw) {
		addWeighted(total, raw, w.PodTopologySpread)
	}
	if w.ImageLocality > 0 && s.scoreImageLocality(st.ti, c, raw) {
		addWeighted(total, raw, w.ImageLocality)
	}
	return total
}

// feasibleNodes returns the feasible nodes of the cycle, building the
// slice on first use (the default plugins need only the indices).
func (s *Scheduler) feasibleNodes(c *engine.Cluster) []*engine.Node {
	if len(s.feasible) != len(s.feasibleIdx) {
		s.feasible = s.feasible[:0]
		for _, i := range s.feasibleIdx {
			s.feasible = append(s.feasible, c.Nodes[i])
		}
	}
	return s.feasible
}

func addWeighted(total, scores []int64, w int64) {
	for i := range total {
		total[i] += w * scores[i]
	}
}

// selectHost picks uniformly at random among the nodes with the maximum
// total score. Upstream does this by reservoir sampling (the c-th
// top-scoring node seen replaces the choice with probability 1/c), which
// draws once per tied node; counting the tied nodes and drawing one index
// gives the same distribution with one draw per cycle.
func (s *Scheduler) selectHost(total []int64) int {
	best := total[0]
	for _, t := range total[1:] {
		best = max(best, t)
	}
	// Collect the tied indices without a data-dependent branch.
	if len(s.ties) < len(total) {
		s.ties = make([]int32, len(total))
	}
	ties := s.ties[:len(total)]
	cnt := 0
	for i, t := range total {
		ties[cnt] = int32(i)
		if t == best {
			cnt++
		}
	}
	if cnt == 1 {
		return int(ties[0])
	}
	return int(ties[s.rng.IntN(cnt)])
}
