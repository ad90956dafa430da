package kube

import (
	"math"

	"github.com/convergesim/converge/engine"
)

// nodeHot is a compact copy of what the filter and the resource scores read
// of a node (80 bytes), in a slice indexed like Cluster.Nodes. Walking the rotation then streams through contiguous
// memory instead of chasing one pointer per node to an engine.Node (which
// is several hundred bytes and several cache lines away from the next);
// at 5,000 nodes that is most of the cycle's cost.
//
// The copy is kept equal to the engine's node: the scheduler adds a pod's
// requests when it emits a Bind (the engine applies it right after Decide
// returns, before any other cycle), subtracts them on PodDeleted (delivered
// after the engine released them, before any other cycle), and reloads a
// node on NodeChanged. scheduleOne checks the chosen node against the
// engine before binding and reloads everything if they ever disagree.
type nodeHot struct {
	allocCPU, reqCPU, nzCPU int64 // millicores: allocatable, real and non-zero requests
	allocMem, reqMem, nzMem int64 // bytes
	allocGPU, reqGPU        int32
	allocPods, reqPods      int32
	invCPU, invMem          float64 // 1/allocatable (0 if none), for divRecip
}

func clamp32(v int64) int32 { return int32(min(max(v, math.MinInt32), math.MaxInt32)) }

func loadHot(n *engine.Node) nodeHot {
	return nodeHot{
		allocCPU: n.Allocatable.MilliCPU, reqCPU: n.Requested.MilliCPU, nzCPU: n.NonZeroRequested.MilliCPU,
		allocMem: n.Allocatable.Memory, reqMem: n.Requested.Memory, nzMem: n.NonZeroRequested.Memory,
		allocGPU: clamp32(n.Allocatable.GPU), reqGPU: clamp32(n.Requested.GPU),
		allocPods: clamp32(n.Allocatable.Pods), reqPods: clamp32(n.Requested.Pods),
		invCPU: inverse(n.Allocatable.MilliCPU), invMem: inverse(n.Allocatable.Memory),
	}
}

func inverse(v int64) float64 {
	if v <= 0 {
		return 0
	}
	return 1 / float64(v)
}

// add adds (sign +1) or removes (sign −1) a pod's requests.
func (h *nodeHot) add(p *engine.Pod, sign int64) {
	h.reqCPU += sign * p.Requests.MilliCPU
	h.reqMem += sign * p.Requests.Memory
	h.reqGPU += int32(sign * p.Requests.GPU)
	h.reqPods += int32(sign * p.Requests.Pods)
	h.nzCPU += sign * p.NonZero.MilliCPU
	h.nzMem += sign * p.NonZero.Memory
}

// fits is NodeResourcesFit's filter on the compact copy: fitsRequest == 0.
func (h *nodeHot) fits(req *engine.Resources) bool {
	return h.reqPods < h.allocPods &&
		(req.MilliCPU <= 0 || req.MilliCPU <= h.allocCPU-h.reqCPU) &&
		(req.Memory <= 0 || req.Memory <= h.allocMem-h.reqMem) &&
		(req.GPU <= 0 || req.GPU <= int64(h.allocGPU)-int64(h.reqGPU))
}

// nodeCache holds the scheduler's per-node data: the compact copy, whether
// only NodeResourcesFit can reject the node (not cordoned, no taints), and
// PodTopologySpread's zone id (interned, −1 without the label) and hostname
// label presence.
type nodeCache struct {
	hot         []nodeHot
	memo        []scoreMemo // the fast path's last resource score per node
	plain       []bool
	zone        []int32
	hasHostname []bool
	// What the queueing hints compare a changed node with (copies).
	unschedulable []bool
	taints        [][]engine.Taint
	labels        []map[string]string
	zoneIDs       map[string]int32
	zoneMark      []uint32 // scratch: epoch of the cycle that saw the zone
	zoneCount     []int64  // scratch: matching pods per zone

	// The images seen on each node (see image_locality.go), and how many
	// nodes each image id was seen on.
	images     [][]nodeImage
	imageNodes []int
	imageSize  []int64 // the size holders report (one per image name in the engine)
	// Candidate holders: the images of pods bound to each node that were
	// not seen there yet, and per image the nodes, oldest first.
	pending    [][]int32
	candidates [][]int32

	// The untolerated-taint reasons of the FailedScheduling message,
	// interned: taintIDs[i][j] is the id of node i's taint j, and
	// taintReasons[id] its text.
	taintIDs       [][]int32
	taintReasons   []string
	taintReasonIDs map[string]int32

	// The change log: the index of every node whose filter inputs changed
	// (requests, or anything a NodeChanged reports), kept while logging is
	// on (some failRecord exists). changes[0] is change number logBase;
	// the log is cut when it grows past a few times the node count (older
	// records then recompute everything). epoch counts rebuilds, which
	// invalidate every record.
	logging bool
	changes []int32
	logBase uint64
	epoch   uint64
}

func (nc *nodeCache) rebuild(c *engine.Cluster) {
	if nc.zoneIDs == nil {
		nc.zoneIDs = map[string]int32{}
	}
	n := len(c.Nodes)
	nc.hot = make([]nodeHot, n)
	nc.memo = make([]scoreMemo, n)
	nc.plain = make([]bool, n)
	nc.zone = make([]int32, n)
	nc.hasHostname = make([]bool, n)
	nc.unschedulable = make([]bool, n)
	nc.taints = make([][]engine.Taint, n)
	nc.labels = make([]map[string]string, n)
	nc.taintIDs = make([][]int32, n)
	nc.images = make([][]nodeImage, n)
	nc.pending = make([][]int32, n)
	clear(nc.imageNodes)
	clear(nc.candidates)
	for _, node := range c.Nodes {
		nc.update(node)
	}
	nc.epoch++
	nc.logBase += uint64(len(nc.changes))
	nc.changes = nc.changes[:0]
}

// changeLogSlack is how many changes beyond 4 per node the log keeps.
var changeLogSlack = 1024

// logChange notes that node i's filter inputs changed.
func (nc *nodeCache) logChange(i int) {
	if !nc.logging {
		return
	}
	if len(nc.changes) >= 4*len(nc.hot)+changeLogSlack {
		nc.logBase += uint64(len(nc.changes))
		nc.changes = nc.changes[:0]
	}
	nc.changes = append(nc.changes, int32(i))
}

// logSeq is the number of the next change.
func (nc *nodeCache) logSeq() uint64 { return nc.logBase + uint64(len(nc.changes)) }

// changesSince returns the nodes changed since change number seq of the
// given epoch, or false if the log no longer goes back that far.
func (nc *nodeCache) changesSince(seq, epoch uint64) ([]int32, bool) {
	if !nc.logging || epoch != nc.epoch || seq < nc.logBase || seq > nc.logSeq() {
		return nil, false
	}
	return nc.changes[seq-nc.logBase:], true
}

// taintReason returns the id of the reason "node(s) had untolerated taint
// {key: value}" for node n's taint j.
func (nc *nodeCache) taintReason(n *engine.Node, j int) int32 {
	i := n.Index
	if i >= 0 && i < len(nc.taintIDs) && len(nc.taintIDs[i]) == len(n.Taints) {
		return nc.taintIDs[i][j]
	}
	return nc.internTaint(&n.Taints[j])
}

func (nc *nodeCache) internTaint(t *engine.Taint) int32 {
	r := untoleratedTaintReason(t)
	id, ok := nc.taintReasonIDs[r]
	if !ok {
		if nc.taintReasonIDs == nil {
			nc.taintReasonIDs = map[string]int32{}
		}
		id = int32(len(nc.taintReasons))
		nc.taintReasonIDs[r] = id
		nc.taintReasons = append(nc.taintReasons, r)
	}
	return id
}

// update reloads one node from the engine.
func (nc *nodeCache) update(n *engine.Node) {
	i := n.Index
	if i < 0 || i >= len(nc.hot) {
		return // not in the cluster the cache was built for: sync rebuilds
	}
	nc.hot[i] = loadHot(n)
	nc.memo[i] = scoreMemo{}
	nc.plain[i] = !n.Unschedulable && len(n.Taints) == 0
	nc.remember(n)
	nc.taintIDs[i] = nc.taintIDs[i][:0]
	for j := range n.Taints {
		nc.taintIDs[i] = append(nc.taintIDs[i], nc.internTaint(&n.Taints[j]))
	}
	nc.logChange(i)
	_, nc.hasHostname[i] = n.Labels[engine.LabelHostname]
	z, ok := n.Labels[engine.LabelZone]
	if !ok {
		nc.zone[i] = -1
		return
	}
	id, ok := nc.zoneIDs[z]
	if !ok {
		id = int32(len(nc.zoneIDs))
		nc.zoneIDs[z] = id
		nc.zoneMark = append(nc.zoneMark, 0)
		nc.zoneCount = append(nc.zoneCount, 0)
	}
	nc.zone[i] = id
}

// addPod adds (sign +1) or removes (sign −1) a pod's requests on node i.
func (nc *nodeCache) addPod(i int, p *engine.Pod, sign int64) {
	if i < 0 || i >= len(nc.hot) {
		return
	}
	nc.hot[i].add(p, sign)
	nc.memo[i] = scoreMemo{}
	nc.logChange(i)
}

// scoreMemo remembers a node's weighted NodeResourcesFit + BalancedAllocation
// score for the pods of one template (shape, 0 = none). Those scores are a
// function of the node's requests and the pod's requests only, and every
// change of the node's requests clears the memo, so reusing it is exact.
type scoreMemo struct {
	score int64
	shape int32
}

// matches reports whether the compact copy of n equals the engine's node.
func (nc *nodeCache) matches(n *engine.Node) bool {
	i := n.Index
	return i >= 0 && i < len(nc.hot) && nc.hot[i] == loadHot(n) &&
		nc.plain[i] == (!n.Unschedulable && len(n.Taints) == 0)
}
