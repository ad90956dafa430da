package engine

import (
	"math"

	"github.com/convergesim/converge/internal/fairshare"
)

// transferPool shares bandwidth among concurrent image transfers with
// max-min fairness under two kinds of link: the registry's egress (shared
// by every transfer) and each node's ingress. Rates come from package
// fairshare (the mechanism network.Flows and job contention use too),
// recomputed whenever a transfer starts or ends; the pool keeps the
// bytes left and schedules the next completion.
type transferPool struct {
	registry float64 // bytes/s, 0 = unlimited
	node     float64 // bytes/s per node, 0 = unlimited
	flows    []flow
	last     float64
	gen      int64
	sys      fairshare.System
	regLink  int32   // -1: unlimited
	nodeLink []int32 // by node, made on first use; -1: none yet
	path     []int32 // scratch
}

type flow struct {
	node   int
	img    int32
	slot   int32 // in sys
	remain float64
	rate   float64
}

func (tp *transferPool) init(nodes int, registry, node float64) {
	tp.registry, tp.node = registry, node
	tp.sys.OrderTies = true // the registry first on a tie, as the pool always did
	tp.regLink = -1
	if registry > 0 {
		tp.regLink = tp.sys.AddLink(registry)
	}
	if node > 0 {
		tp.nodeLink = make([]int32, nodes)
		for i := range tp.nodeLink {
			tp.nodeLink[i] = -1
		}
	}
}

func (tp *transferPool) active() int { return len(tp.flows) }

func (tp *transferPool) unlimited() bool { return tp.registry <= 0 && tp.node <= 0 }

// add starts a transfer of size bytes to node.
func (tp *transferPool) add(e kubelet, now float64, node int, img int32, size float64) {
	if tp.unlimited() || size <= 0 {
		e.transferDone(node, img, now)
		return
	}
	tp.advance(now)
	p := tp.path[:0]
	if tp.regLink >= 0 {
		p = append(p, tp.regLink)
	}
	if tp.nodeLink != nil {
		if tp.nodeLink[node] < 0 {
			tp.nodeLink[node] = tp.sys.AddLink(tp.node)
		}
		p = append(p, tp.nodeLink[node])
	}
	tp.path = p
	slot := tp.sys.Add(p, nil, math.Inf(1))
	tp.flows = append(tp.flows, flow{node: node, img: img, slot: slot, remain: size})
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
func (tp *transferPool) reshare(e kubelet, now float64) {
	tp.gen++
	if len(tp.flows) == 0 {
		return
	}
	tp.sys.SolveAll()
	next := math.Inf(1)
	for i := range tp.flows {
		f := &tp.flows[i]
		f.rate = tp.sys.Rate(f.slot)
		if t := f.remain / f.rate; t < next {
			next = t
		}
	}
	e.after(now+max(next, 0), kTransfer, 0, tp.gen)
}

// tick completes the transfers that are done.
func (e kubelet) transferTick(gen int64, now float64) {
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
			tp.sys.Remove(f.slot)
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
