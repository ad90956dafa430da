package kube

import (
	"slices"

	"github.com/convergesim/converge/engine"
)

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

// Image names are interned once per template: the scheduler gives each
// name a small id, and the node cache remembers, per node, the images it
// has seen there with their sizes. The engine only ever adds images to a
// node (a pull completes; nothing removes one), so a node seen holding an
// image holds it for good. The engine also counts the nodes that hold
// each image (NodesWithImage, read once per image per cycle for the
// spread): when that count equals the nodes the cache knows, the cache
// knows every holder and an image it has not seen on a node is absent —
// no lookup. While some holder is unseen, the nodes the scheduler bound
// a pod of the image to since are asked first (that is where the kubelet
// pulls it), a few per cycle; if that does not account for every holder,
// the unseen nodes being scored are asked (Node.HasImage, a lookup by
// name). What they answer is remembered. So scoring a node hashes no
// string once the cache has caught up, and never does more lookups than
// asking every time would.

// imageRef is one container's image in a template.
type imageRef struct {
	id int32 // the scheduler's id of the image name
}

// imageInfo is what the scheduler knows of an image name.
type imageInfo struct {
	name    string
	maxSize int64 // the largest size any template declared for it
}

// internImage returns the id of an image name, noting a declared size.
func (s *Scheduler) internImage(name string, size int64) int32 {
	id, ok := s.imageIDs[name]
	if !ok {
		id = int32(len(s.images))
		s.imageIDs[name] = id
		s.images = append(s.images, imageInfo{name: name})
	}
	s.images[id].maxSize = max(s.images[id].maxSize, size)
	return id
}

// nodeImage is an image seen on a node, with the size the node reported.
type nodeImage struct {
	id   int32
	size int64
}

// heldImage returns the size of the image on a node's list.
func heldImage(held []nodeImage, id int32) (int64, bool) {
	for _, h := range held {
		if h.id == id {
			return h.size, true
		}
	}
	return 0, false
}

// imageBound notes that a pod using image id was bound to node i: unless
// the node is known to hold it, it becomes a candidate holder.
func (nc *nodeCache) imageBound(i int, id int32) {
	if i < 0 || i >= len(nc.images) {
		return
	}
	if _, ok := heldImage(nc.images[i], id); ok || slices.Contains(nc.pending[i], id) {
		return
	}
	nc.growImages(id)
	nc.pending[i] = append(nc.pending[i], id)
	nc.candidates[id] = append(nc.candidates[id], int32(i))
}

func (nc *nodeCache) growImages(id int32) {
	for int(id) >= len(nc.imageNodes) {
		nc.imageNodes = append(nc.imageNodes, 0)
		nc.candidates = append(nc.candidates, nil)
		nc.imageSize = append(nc.imageSize, 0)
	}
}

// learnImage remembers that node i holds image id.
func (nc *nodeCache) learnImage(i int, id int32, size int64) {
	nc.images[i] = append(nc.images[i], nodeImage{id, size})
	nc.imageSize[id] = size
	nc.imageNodes[id]++
	if j := slices.Index(nc.pending[i], id); j >= 0 {
		nc.pending[i] = slices.Delete(nc.pending[i], j, j+1)
	}
}

// catchUp asks at most budget candidate holders of image id (oldest
// first) whether the pull has completed, until the cache knows count
// holders. Candidates still without the image go to the back.
func (nc *nodeCache) catchUp(c *engine.Cluster, id int32, name string, count, budget int) {
	cand := nc.candidates[id]
	keep := cand[:0]
	var later []int32
	k := 0
	for ; k < len(cand) && budget > 0 && nc.imageNodes[id] < count; k++ {
		i := cand[k]
		if _, ok := heldImage(nc.images[i], id); ok {
			continue // learnt while being scored
		}
		budget--
		if size, ok := c.Nodes[i].HasImage(name); ok {
			nc.learnImage(int(i), id, size)
			continue
		}
		later = append(later, i)
	}
	keep = append(keep, cand[k:]...)
	nc.candidates[id] = append(keep, later...)
}

// imagesKnown reports whether the cache knows every node that holds image
// id, given the engine's count of them.
func (nc *nodeCache) imagesKnown(id int32, count int) bool {
	nc.growImages(id)
	if nc.imageNodes[id] > count {
		// Fewer holders than seen: an image was removed, which the engine
		// never does. Forget what was seen of it and ask again.
		for i, held := range nc.images {
			for j := range held {
				if held[j].id == id {
					nc.images[i] = append(held[:j], held[j+1:]...)
					break
				}
			}
		}
		nc.imageNodes[id] = 0
	}
	return nc.imageNodes[id] == count
}

// imageOn asks the engine whether node n holds the image and remembers a
// yes.
func (nc *nodeCache) imageOn(n *engine.Node, id int32, name string) (int64, bool) {
	size, ok := n.HasImage(name)
	if ok && n.Index >= 0 && n.Index < len(nc.images) {
		nc.learnImage(n.Index, id, size)
	}
	return size, ok
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
	spread, count, known := s.imageSpread[:0], s.imageCount[:0], s.imageKnown[:0]
	var bound int64
	for _, im := range ti.images {
		info := &s.images[im.id]
		n := c.NodesWithImage(info.name)
		f := float64(n) / total
		spread = append(spread, f)
		count = append(count, n)
		if f > 0 {
			// The engine keeps one size per image name; maxSize is the
			// largest size any template declared for it, so this bounds
			// what HasImage can report.
			bound += int64(float64(info.maxSize) * f)
		}
	}
	s.imageSpread, s.imageCount = spread, count
	if bound <= imageMinThreshold {
		return false
	}
	// Every image on every node (the usual state once a workload has
	// run for a while): each node holds each image at the one size the
	// engine keeps per image name, so every node scores the same. Ask one
	// node for the sizes and give all the same score.
	everywhere := true
	for _, n := range count {
		everywhere = everywhere && n == len(c.Nodes)
	}
	if everywhere && len(s.feasibleIdx) > 0 {
		first := c.Nodes[s.feasibleIdx[0]]
		var sum int64
		for j, im := range ti.images {
			size, _ := first.HasImage(s.images[im.id].name)
			sum += int64(float64(size) * spread[j])
		}
		v := imageScorePriority(sum, len(ti.images))
		for i := range s.feasibleIdx {
			scores[i] = v
		}
		return true
	}
	for j, im := range ti.images {
		ok := s.nodes.imagesKnown(im.id, count[j])
		if !ok {
			s.nodes.catchUp(c, im.id, s.images[im.id].name, count[j], max(len(s.feasibleIdx)/4, 16))
			ok = s.nodes.imageNodes[im.id] == count[j]
		}
		known = append(known, ok)
	}
	s.imageKnown = known
	nc := &s.nodes
	if !slices.Contains(known, false) {
		// The cache knows every holder: a node's sum is the sum of the
		// images it holds of int64(size × spread), with the one size the
		// engine keeps per image name (what every holder reports).
		contrib := s.imageContrib[:0]
		for j, im := range ti.images {
			var c int64
			if spread[j] > 0 {
				c = int64(float64(nc.imageSize[im.id]) * spread[j])
			}
			contrib = append(contrib, c)
		}
		s.imageContrib = contrib
		for i, idx := range s.feasibleIdx {
			held := nc.images[idx]
			var sum int64
			if len(held) > 0 {
				for j, im := range ti.images {
					if contrib[j] != 0 {
						if _, ok := heldImage(held, im.id); ok {
							sum += contrib[j]
						}
					}
				}
			}
			if sum == 0 {
				scores[i] = 0 // imageScorePriority(0, n)
				continue
			}
			scores[i] = imageScorePriority(sum, len(ti.images))
		}
		return true
	}
	for i, idx := range s.feasibleIdx {
		var sum int64
		for j, im := range ti.images {
			if spread[j] == 0 {
				continue
			}
			size, ok := heldImage(nc.images[idx], im.id)
			if !ok && !known[j] {
				size, ok = nc.imageOn(c.Nodes[idx], im.id, s.images[im.id].name)
				if ok {
					known[j] = nc.imageNodes[im.id] == count[j]
				}
			}
			if ok {
				sum += int64(float64(size) * spread[j])
			}
		}
		scores[i] = imageScorePriority(sum, len(ti.images))
	}
	return true
}
