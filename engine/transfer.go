package engine

import "math"

// transferPool shares bandwidth among concurrent image transfers with
// max-min fairness under two kinds of link: the registry's egress (shared
// by every transfer) and each node's ingress. Rates are recomputed by
// progressive filling whenever a transfer starts or ends.
type transferPool struct {
	registry float64 // bytes/s, 0 = unlimited
	node     float64 // bytes/s per node, 0 = unlimited
	flows    []flow
	last     float64
	gen      int64
	perNode  []int // scratch: unfrozen flows per node
}

type flow struct {
	node   int
	img    int32
	remain float64
	rate   float64
}

func (tp *transferPool) init(nodes int, registry, node float64) {
	tp.registry, tp.node = registry, node
	tp.perNode = make([]int, nodes)
}

func (tp *transferPool) active() int { return len(tp.flows) }

func (tp *transferPool) unlimited() bool { return tp.registry <= 0 && tp.node <= 0 }

// add starts a transfer of size bytes to node.
func (tp *transferPool) add(e *Engine, now float64, node int, img int32, size float64) {
	if tp.unlimited() || size <= 0 {
		e.transferDone(node, img, now)
		return
	}
	tp.advance(now)
	tp.flows = append(tp.flows, flow{node: node, img: img, remain: size})
	tp.reshare(e, now)
}

// advance moves every flow forward to now at its current rate.
func (tp *transferPool) advance(now float64) {
	dt := now - tp.last
	if dt > 0 {
		for i := range tp.flows {
			tp.flows[i].remain -= tp.flows[i].rate * dt
		}
	}
	tp.last = now
}

// reshare computes max-min fair rates and schedules the next completion.
func (tp *transferPool) reshare(e *Engine, now float64) {
	tp.gen++
	if len(tp.flows) == 0 {
		return
	}
	inf := math.Inf(1)
	regCap := tp.registry
	if regCap <= 0 {
		regCap = inf
	}
	nodeCap := tp.node
	if nodeCap <= 0 {
		nodeCap = inf
	}
	// Progressive filling. All node links have the same capacity, so the
	// most loaded node saturates first; the registry link competes.
	for i := range tp.flows {
		tp.flows[i].rate = -1
		tp.perNode[tp.flows[i].node]++
	}
	unfrozen := len(tp.flows)
	regLeft := regCap
	nodeUsed := map[int]float64{}
	for unfrozen > 0 {
		// Fair share on the registry link.
		share := regLeft / float64(unfrozen)
		// Tightest node link.
		bottleneck := -1
		for i := range tp.flows {
			f := &tp.flows[i]
			if f.rate >= 0 {
				continue
			}
			s := (nodeCap - nodeUsed[f.node]) / float64(tp.perNode[f.node])
			if s < share {
				share, bottleneck = s, f.node
			}
		}
		for i := range tp.flows {
			f := &tp.flows[i]
			if f.rate >= 0 || (bottleneck >= 0 && f.node != bottleneck) {
				continue
			}
			f.rate = share
			unfrozen--
			regLeft -= share
			nodeUsed[f.node] += share
			tp.perNode[f.node]--
		}
	}
	next := inf
	for i := range tp.flows {
		if t := tp.flows[i].remain / tp.flows[i].rate; t < next {
			next = t
		}
	}
	e.push(item{t: now + max(next, 0), kind: evTransfer, tag: tp.gen})
}

// tick completes the transfers that are done.
func (e *Engine) transferTick(gen int64, now float64) {
	tp := &e.transfers
	if gen != tp.gen {
		return // rates changed since this completion was scheduled
	}
	tp.advance(now)
	kept := tp.flows[:0]
	var done []flow
	for _, f := range tp.flows {
		if f.remain <= 1e-6*max(1, f.rate) {
			done = append(done, f)
		} else {
			kept = append(kept, f)
		}
	}
	tp.flows = kept
	tp.reshare(e, now)
	for _, f := range done {
		e.transferDone(f.node, f.img, now)
	}
}
