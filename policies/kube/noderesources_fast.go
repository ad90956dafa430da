package kube

import "github.com/convergesim/converge/engine"

// A fused, exact fast path for the common configuration: NodeResourcesFit
// with LeastAllocated or MostAllocated on cpu and/or memory, plus
// BalancedAllocation on cpu and memory. It reads each node once and avoids
// the per-resource indirection and the int64 divisions of the generic
// resourceAllocationScorer; fast_test.go checks that both give the same
// integers.

// fastFloatLimit bounds the allocatable for which the float shortcuts are
// used: with allocatable < 2^46 every numerator below (≤ allocatable·100)
// is < 2^53, so operands convert to float64 exactly.
const fastFloatLimit = 1 << 46

// floorDiv is n/d for 0 ≤ n < 2^53 and 0 < d < 2^53, computed in float64:
// the quotient is correctly rounded, and its error is below 1/d, less than
// the distance from a non-integer quotient to the next integer, so the
// truncation is exact.
func floorDiv(n, d int64) int64 { return int64(float64(n) / float64(d)) }

// divRecip is n/d for 0 ≤ n < 2^53 and 0 < d < 2^46, given inv = 1/d: the
// float product is within one of the quotient, and one integer step fixes
// it. A multiplication instead of a division per resource and node.
func divRecip(n, d int64, inv float64) int64 {
	q := int64(float64(n) * inv)
	if q*d > n {
		q--
	} else if (q+1)*d <= n {
		q++
	}
	return q
}

// fastResources is the fast path's configuration, or nil if the
// configuration needs the generic path.
type fastResources struct {
	most           bool  // MostAllocated (else LeastAllocated)
	wCPU, wMem     int64 // Fit weights per resource (0 = not scored)
	equal          bool  // wCPU == wMem != 0
	leastEqual     bool  // LeastAllocated and equal
	fitW, balanced int64 // plugin weights
}

func newFastResources(cfg *Config) *fastResources {
	s := &cfg.ScoringStrategy
	if s.Type != LeastAllocated && s.Type != MostAllocated {
		return nil
	}
	f := &fastResources{
		most:     s.Type == MostAllocated,
		fitW:     cfg.PluginWeights.NodeResourcesFit,
		balanced: cfg.PluginWeights.NodeResourcesBalancedAllocation,
	}
	for _, r := range s.Resources {
		switch r.Name {
		case ResourceCPU:
			f.wCPU = r.Weight
		case ResourceMemory:
			f.wMem = r.Weight
		default:
			return nil
		}
	}
	f.equal = f.wCPU != 0 && f.wCPU == f.wMem
	f.leastEqual = f.equal && !f.most
	return f
}

// fitScore is leastResourceScorer/mostResourceScorer on cpu and memory.
func (f *fastResources) fitScore(h *nodeHot, reqCPU, reqMem int64) int64 {
	if f.equal && h.allocCPU != 0 && h.allocMem != 0 {
		// w·(a + b)/(2w) = (a + b)/2 exactly; both terms are ≥ 0.
		return (f.resourceScore(reqCPU, h.allocCPU, h.invCPU) + f.resourceScore(reqMem, h.allocMem, h.invMem)) >> 1
	}
	var sum, wsum int64
	if h.allocCPU != 0 && f.wCPU != 0 {
		sum += f.wCPU * f.resourceScore(reqCPU, h.allocCPU, h.invCPU)
		wsum += f.wCPU
	}
	if h.allocMem != 0 && f.wMem != 0 {
		sum += f.wMem * f.resourceScore(reqMem, h.allocMem, h.invMem)
		wsum += f.wMem
	}
	if wsum == 0 {
		return 0
	}
	return floorDiv(sum, wsum) // sum ≤ 100·200
}

// resourceScore is leastRequestedScore or mostRequestedScore; inv is
// 1/capacity.
func (f *fastResources) resourceScore(requested, capacity int64, inv float64) int64 {
	if capacity <= 0 || capacity >= fastFloatLimit || requested < 0 {
		if f.most {
			return mostRequestedScore(requested, capacity)
		}
		return leastRequestedScore(requested, capacity)
	}
	if f.most {
		return divRecip(min(requested, capacity)*MaxNodeScore, capacity, inv)
	}
	if requested > capacity {
		return 0
	}
	return divRecip((capacity-requested)*MaxNodeScore, capacity, inv)
}

// balancedScore is balancedResourceScorer on (cpu, memory), with the same
// floating-point operations in the same order.
func balancedScore(allocCPU, allocMem, reqCPU, reqMem int64) int64 {
	if allocCPU == 0 || allocMem == 0 {
		return MaxNodeScore // at most one fraction: std = 0
	}
	fc := float64(reqCPU) / float64(allocCPU)
	fm := float64(reqMem) / float64(allocMem)
	if fc > 1 {
		fc = 1
	}
	if fm > 1 {
		fm = 1
	}
	std := (fc - fm) / 2
	if std < 0 {
		std = -std
	}
	return int64((1 - std) * float64(MaxNodeScore))
}

// podRequests are the pod's requests the fast path reads.
type podRequests struct {
	nzCPU, nzMem int64 // non-zero requests (Fit)
	cpu, mem     int64 // real requests (BalancedAllocation)
	balanced     bool  // BalancedAllocation scores this pod (not best-effort)
}

func (f *fastResources) podRequests(p *engine.Pod) podRequests {
	return podRequests{
		nzCPU: p.NonZero.MilliCPU, nzMem: p.NonZero.Memory,
		cpu: p.Requests.MilliCPU, mem: p.Requests.Memory,
		balanced: f.balanced > 0 && (p.Requests.MilliCPU != 0 || p.Requests.Memory != 0),
	}
}

// scoreAll writes the weighted NodeResourcesFit plus (unless skipped)
// BalancedAllocation score of each feasible node (by index) into total.
// Neither score depends on the other feasible nodes. With shape ≠ 0 it
// reuses and refreshes the nodes' memos (see scoreMemo).
func (f *fastResources) scoreAll(nc *nodeCache, feasible []int32, total []int64, r *podRequests, shape int32) {
	total = total[:len(feasible)]
	hot, memo := nc.hot, nc.memo
	// The default configuration (LeastAllocated with equal cpu and memory
	// weights, plus BalancedAllocation) is inlined below.
	inline := f.leastEqual && f.fitW != 0 && r.balanced
	fitW, balW := f.fitW, f.balanced
	for i, idx := range feasible {
		m := &memo[idx]
		if shape != 0 && m.shape == shape {
			total[i] = m.score
			continue
		}
		h := &hot[idx]
		c, mem := h.nzCPU+r.nzCPU, h.nzMem+r.nzMem
		var v int64
		if inline && c >= 0 && mem >= 0 && uint64(h.allocCPU-1) < fastFloatLimit-1 && uint64(h.allocMem-1) < fastFloatLimit-1 {
			var sc, sm int64
			if c <= h.allocCPU {
				sc = divRecip((h.allocCPU-c)*MaxNodeScore, h.allocCPU, h.invCPU)
			}
			if mem <= h.allocMem {
				sm = divRecip((h.allocMem-mem)*MaxNodeScore, h.allocMem, h.invMem)
			}
			v = fitW*((sc+sm)>>1) + balW*balancedScore(h.allocCPU, h.allocMem, h.reqCPU+r.cpu, h.reqMem+r.mem)
		} else {
			v = f.nodeScore(h, r)
		}
		total[i] = v
		if shape != 0 {
			*m = scoreMemo{v, shape}
		}
	}
}

// nodeScore is one node's entry of scoreAll, for any fast configuration.
func (f *fastResources) nodeScore(h *nodeHot, r *podRequests) int64 {
	var t int64
	if f.fitW != 0 {
		t = f.fitW * f.fitScore(h, h.nzCPU+r.nzCPU, h.nzMem+r.nzMem)
	}
	if r.balanced {
		t += f.balanced * balancedScore(h.allocCPU, h.allocMem, h.reqCPU+r.cpu, h.reqMem+r.mem)
	}
	return t
}
