package kube

import (
	"math"

	"github.com/convergesim/converge/engine"
)

// PodTopologySpread, scoring only, with the system default constraints
// (defaultingType: System):
//
//	{kubernetes.io/hostname,        maxSkew 3, ScheduleAnyway}
//	{topology.kubernetes.io/zone,   maxSkew 5, ScheduleAnyway}
//
// They apply only to pods a Service/ReplicaSet/StatefulSet selects
// (PodTemplate.SpreadSelectable); for every other pod PreScore returns Skip.
// The selector derived upstream from the owning object is modelled as "pods
// of the same Job". Per feasible node and constraint whose topology label
// the node has:
//
//	score += cnt(domain)·log(domains + 2) + (maxSkew − 1)
//
// where cnt is the number of matching pods on the node (hostname) or in its
// zone (zone; only nodes that match the pod's nodeSelector/required
// affinity count, NodeAffinityPolicy Honor), and domains is the number of
// feasible nodes (hostname) or of distinct zones among them (zone). The sum
// is rounded, then normalized 100·(max + min − s)/max (100 everywhere if
// max = 0). Nodes lacking a label are still scored on the other constraint
// (system defaults do not require all topologies).

const (
	hostnameMaxSkew = 3
	zoneMaxSkew     = 5
)

// jobSpread counts a job's assigned pods per node.
type jobSpread struct {
	count    []int32 // by node index
	occupied []int32 // node indices with count > 0 (may hold stale zeros)
	total    int
}

func (s *Scheduler) spreadAdd(p *engine.Pod, n *engine.Node) {
	if !p.Template.SpreadSelectable || p.Job == nil {
		return
	}
	js := s.spread[p.Job]
	if js == nil {
		size := max(len(s.nodes.hot), n.Index+1)
		js = &jobSpread{count: make([]int32, size), occupied: make([]int32, 0, size)}
		s.spread[p.Job] = js
	}
	if n.Index >= len(js.count) {
		js.count = append(js.count, make([]int32, n.Index+1-len(js.count))...)
	}
	if js.count[n.Index] == 0 {
		js.occupied = append(js.occupied, int32(n.Index))
	}
	js.count[n.Index]++
	js.total++
}

func (s *Scheduler) spreadRemove(p *engine.Pod, n *engine.Node) {
	if n == nil || p.Template == nil || !p.Template.SpreadSelectable {
		return
	}
	js := s.spread[p.Job]
	if js == nil || n.Index >= len(js.count) || js.count[n.Index] == 0 {
		return
	}
	js.count[n.Index]--
	js.total--
	if js.total == 0 {
		delete(s.spread, p.Job)
	}
}

// scorePodTopologySpread writes the normalized scores of the feasible nodes
// and reports false if PreScore skips the pod.
func (s *Scheduler) scorePodTopologySpread(st *cycleState, c *engine.Cluster, scores []int64) bool {
	p := st.pod
	if !p.Template.SpreadSelectable || len(s.feasibleIdx) == 0 {
		return false
	}
	feasible := s.feasibleNodes(c)
	nc := &s.nodes
	js := s.spread[p.Job]

	// PreScore: the zones of the feasible nodes, and the matching pods in
	// each of them over all nodes.
	s.zoneEpoch++
	epoch := s.zoneEpoch
	zones := 0
	for _, n := range feasible {
		if z := nc.zone[n.Index]; z >= 0 && nc.zoneMark[z] != epoch {
			nc.zoneMark[z] = epoch
			nc.zoneCount[z] = 0
			zones++
		}
	}
	var count []int32
	if js != nil {
		count = js.count
		live := js.occupied[:0]
		for _, idx := range js.occupied {
			if count[idx] == 0 {
				continue // stale entry: compact it away
			}
			live = append(live, idx)
			if int(idx) >= len(c.Nodes) {
				continue
			}
			z := nc.zone[idx]
			if z < 0 || nc.zoneMark[z] != epoch {
				continue
			}
			if st.ti.affinity.hasFilter() && !st.ti.affinity.matchRequired(c.Nodes[idx].Labels) {
				continue
			}
			nc.zoneCount[z] += int64(count[idx])
		}
		js.occupied = live
	}
	hostWeight := math.Log(float64(len(feasible) + 2))
	zoneWeight := math.Log(float64(zones + 2))

	// Score.
	minScore, maxScore := int64(math.MaxInt64), int64(0)
	for i, n := range feasible {
		var score float64
		if nc.hasHostname[n.Index] {
			var cnt int64
			if n.Index < len(count) {
				cnt = int64(count[n.Index])
			}
			score += float64(cnt)*hostWeight + float64(hostnameMaxSkew-1)
		}
		if z := nc.zone[n.Index]; z >= 0 {
			score += float64(nc.zoneCount[z])*zoneWeight + float64(zoneMaxSkew-1)
		}
		v := int64(math.Round(score))
		scores[i] = v
		minScore, maxScore = min(minScore, v), max(maxScore, v)
	}
	// NormalizeScore.
	for i := range feasible {
		if maxScore == 0 {
			scores[i] = MaxNodeScore
			continue
		}
		scores[i] = MaxNodeScore * (maxScore + minScore - scores[i]) / maxScore
	}
	return true
}
