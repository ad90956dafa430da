package network

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Algorithm names a collective algorithm. AlgAuto (or "") selects one
// by message size and rank count as MPICH's default decision rules do
// (see selection.go); the other names force one.
type Algorithm string

// The algorithms. Not every collective has every algorithm; asking a
// collective for one it does not have is an error wrapping ErrInvalid.
const (
	AlgAuto              Algorithm = "auto"
	AlgRing              Algorithm = "ring"
	AlgRecursiveDoubling Algorithm = "recursive-doubling"
	AlgRabenseifner      Algorithm = "rabenseifner"
	AlgBinomial          Algorithm = "binomial"
	AlgScatterAllgather  Algorithm = "scatter-allgather"
	AlgDissemination     Algorithm = "dissemination"
	AlgPairwise          Algorithm = "pairwise"
	AlgBruck             Algorithm = "bruck"
	AlgLinear            Algorithm = "linear"
)

// Cost is the price of one collective call on a placement.
type Cost struct {
	// Seconds from the first rank entering to the last leaving, all
	// ranks entering together.
	Seconds float64
	// Algorithm is the one used (resolved from AlgAuto).
	Algorithm Algorithm
	// Steps is the number of communication rounds.
	Steps int
	// InterBytes is what one rank sends over the network, and
	// IntraBytes what it moves in shared memory: per round the largest
	// amount any rank sends, summed over rounds (the maximum over ranks
	// when the ranks are equivalent, an upper bound otherwise).
	InterBytes float64
	IntraBytes float64
	// NodeInterBytes is what the busiest node sends over its link (or
	// receives, whichever is more): per round its inter-node messages
	// times their size, summed over rounds. It is the node's share of
	// the link the pricing already charges, and what the job asks of
	// a NIC it shares with other jobs.
	NodeInterBytes float64
	// CPUSeconds is the node CPU time per rank that the inter-node path
	// burns outside the application (Inter.NodeCPUPerByte on every byte
	// sent and received; a rank is taken to receive what it sends, so
	// 2·InterBytes): what a user-space stack such as slirp4netns takes
	// from the ranks' cores.
	CPUSeconds float64
}

// pattern is the partner rule of one communication round.
type pattern uint8

const (
	// patShift: every rank n of [0,m) sends to (n+d) mod m.
	patShift pattern = iota
	// patXor: every rank n of [0,m) exchanges with n XOR d (d a power
	// of two, m a multiple of 2d).
	patXor
	// patBinomial: every rank n with n mod 2d = 0 and n+d < m sends to
	// n+d (one level of a binomial tree rooted at 0).
	patBinomial
	// patHalo: every rank sends to both neighbours along one dimension
	// of a periodic grid of D ranks per row with stride d.
	patHalo
	// patAll: every rank sends to every other rank at once.
	patAll
)

// round is one communication round: the partner rule and the bytes of
// each message.
type round struct {
	pat pattern
	d   int // shift, XOR distance, binomial mask or halo stride
	dim int // halo: ranks along the dimension
	m   int // ranks taking part in the pattern's numbering
	// rem, when positive, renumbers ranks as the non-power-of-two
	// fix-up of recursive doubling does: ranks 2i+1 (i < rem) and all
	// ranks >= 2·rem take part, as numbers 0, 1, ...
	rem     int
	reverse bool    // messages flow from receiver to sender of pat
	bytes   float64 // bytes of each message
	reduce  float64 // bytes each receiver reduces after the round
}

// counts of one group of consecutive ranks [a, b) in a round: the
// messages they send, those leaving the group, those entering it.
func (r *round) counts(a, b int) (total, out, in int) {
	if r.rem > 0 {
		a, b = participantsBelow(a, r.rem), participantsBelow(b, r.rem)
	}
	if b > r.m {
		b = r.m
	}
	if a >= b {
		return 0, 0, 0
	}
	L := b - a
	switch r.pat {
	case patShift:
		s := r.d % r.m
		if s == 0 {
			return 0, 0, 0
		}
		ov := max(0, L-s) + max(0, L-(r.m-s))
		return L, L - ov, L - ov
	case patXor:
		sh := uint(bits.TrailingZeros(uint(r.d)))
		o := xorLeaving(a, b, sh)
		return L, o, o
	case patBinomial:
		d, lim := r.d, r.m-r.d // senders n < lim
		sh := uint(bits.TrailingZeros(uint(d))) + 1
		senders := countPow2(a, min(b, lim), sh, 0)
		out = countPow2(max(a, b-d), min(b, lim), sh, 0)
		recv := countPow2(a, b, sh, d)
		in = countPow2(a, min(b, a+d), sh, d)
		if r.reverse {
			return recv, in, out
		}
		return senders, out, in
	case patHalo:
		if r.dim <= 1 {
			return 0, 0, 0
		}
		o := haloLeaving(a, b, r.d, r.dim)
		return 2 * L, o, o
	case patAll:
		return L * (r.m - 1), L * (r.m - L), L * (r.m - L)
	}
	return 0, 0, 0
}

// participantsBelow is how many ranks below x take part after the
// fix-up with rem extra ranks: the odd ranks below 2·rem and every rank
// from 2·rem on.
func participantsBelow(x, rem int) int {
	return min(x, 2*rem)/2 + max(0, x-2*rem)
}

// countPow2 is how many n in [x, y) have n mod 2^sh == res
// (0 <= res < 2^sh).
func countPow2(x, y int, sh uint, res int) int {
	if y <= x {
		return 0
	}
	mask := 1<<sh - 1
	c := func(n int) int {
		q := n >> sh
		if n&mask > res {
			q++
		}
		return q
	}
	return c(y) - c(x)
}

// xorLeaving is how many n in [a, b) have n XOR 2^sh outside [a, b).
func xorLeaving(a, b int, sh uint) int {
	d := 1 << sh
	f := func(n int) int { return n>>(sh+1)<<sh + max(0, n&(2*d-1)-d) } // bit set below n
	set := func(x, y int) int {
		if y <= x {
			return 0
		}
		return f(y) - f(x)
	}
	clear := func(x, y int) int {
		if y <= x {
			return 0
		}
		return y - x - set(x, y)
	}
	// bit clear: partner n+d leaves when n >= b-d; bit set: partner
	// n-d leaves when n < a+d.
	return clear(max(a, b-d), b) + set(a, min(b, a+d))
}

// haloLeaving is how many of the 2·(b−a) messages of ranks [a, b) to
// their ± neighbours along a periodic dimension of dim ranks with
// stride st go outside [a, b).
func haloLeaving(a, b, st, dim int) int {
	period := st * dim
	g := func(n, c int) int { // n' in [0,n) with coordinate c
		return n/period*st + min(st, max(0, n%period-c*st))
	}
	at := func(x, y, c int) int {
		if y <= x {
			return 0
		}
		return g(y, c) - g(x, c)
	}
	span := func(x, y int) int { return max(0, y-x) }
	last, w := dim-1, (dim-1)*st
	// +: coordinate < last goes to n+st; coordinate last wraps to n−w.
	plus := span(max(a, b-st), b) - at(max(a, b-st), b, last) + at(a, min(b, a+w), last)
	// −: coordinate > 0 goes to n−st; coordinate 0 wraps to n+w.
	minus := span(a, min(b, a+st)) - at(a, min(b, a+st), 0) + at(max(a, b-w), b, 0)
	return plus + minus
}

// evaluator prices rounds on one placement.
type evaluator struct {
	f   *Fabric
	pl  Placement
	p   int // ranks
	ppn int // ranks per node if uniform, else 0
	npl int // nodes per leaf, 0 on one switch
	// leafRanks, from Placement.Leaves on a tree, is the first rank of
	// each leaf's nodes and then the number of ranks.
	leafRanks            []int
	inter                *Profile
	intra                *Profile
	interPath, intraPath path
	link                 float64         // node payload capacity (inter)
	intraCap             float64         // node shared-memory capacity, +Inf if uncapped
	uplink               float64         // leaf uplink payload capacity
	gamma                float64         // seconds per reduced byte
	long                 [2][2]longCache // longest group: nodes, leaves
	longNext             [2]int
	// noPeriodic turns off scanPeriodic (tests compare it with scanAll).
	noPeriodic bool
	cost       Cost
}

func (f *Fabric) evaluator(pl Placement) (evaluator, error) {
	if err := f.Validate(); err != nil {
		return evaluator{}, err
	}
	// One pass for the checks, the rank count and uniformity.
	total, ppn, bad := 0, 0, len(pl.RanksPerNode) == 0
	if !bad {
		ppn = pl.RanksPerNode[0]
	}
	for _, k := range pl.RanksPerNode {
		total += k
		bad = bad || k <= 0 || total > maxRanks
		if k != ppn {
			ppn = 0
		}
	}
	if bad {
		return evaluator{}, pl.Validate()
	}
	runs, err := pl.leafRuns()
	if err != nil {
		return evaluator{}, err
	}
	e := evaluator{f: f, pl: pl, p: total, ppn: ppn, inter: f.Inter, intra: f.intra()}
	e.link = linkRate(e.inter)
	e.interPath, e.intraPath = newPath(e.inter), newPath(e.intra)
	e.intraCap = math.Inf(1)
	if e.intra.LinkBandwidth > 0 {
		e.intraCap = e.intra.LinkBandwidth * e.intra.Goodput()
	}
	e.uplink = math.Inf(1)
	if f.Topology.tree() {
		e.npl = f.Topology.NodesPerLeaf
		if runs != nil {
			// Rank bounds of each leaf's run of nodes.
			e.leafRanks = make([]int, len(runs))
			a, i := 0, 0
			for k, n := range runs {
				for ; i < n; i++ {
					a += pl.RanksPerNode[i]
				}
				e.leafRanks[k] = a
			}
		}
		e.uplink = f.Topology.UplinkBandwidth(e.link)
	}
	e.gamma = 1 / f.reduceRate()
	return e, nil
}

// stats of one round over the placement.
type roundStats struct {
	intraMsgs                  bool
	maxIntra                   int // most intra-node messages on one node
	maxOut, maxIn              int // most inter-node messages leaving / entering one node
	maxLeafOut, maxLeaf        int // most messages leaving / entering one leaf
	perRankInter, perRankIntra int
}

func (e *evaluator) stats(r *round) roundStats {
	var s roundStats
	s.maxIntra, s.maxOut, s.maxIn = e.scan(r, 1)
	s.intraMsgs = s.maxIntra > 0
	switch {
	case len(e.leafRanks) > 2: // two leaves or more
		for j := 0; j+1 < len(e.leafRanks); j++ {
			_, out, in := r.counts(e.leafRanks[j], e.leafRanks[j+1])
			s.maxLeafOut, s.maxLeaf = max(s.maxLeafOut, out), max(s.maxLeaf, in)
		}
	case e.leafRanks == nil && e.npl > 0 && e.pl.Nodes() > e.npl:
		_, s.maxLeafOut, s.maxLeaf = e.scan(r, e.npl)
	}
	per := 1
	switch r.pat {
	case patHalo:
		per = 2
	case patAll:
		per = r.m - 1
	}
	if r.pat == patAll {
		mn := e.pl.RanksPerNode[0]
		for _, k := range e.pl.RanksPerNode {
			mn = min(mn, k)
		}
		if s.maxOut > 0 {
			s.perRankInter = r.m - mn
		}
		if s.intraMsgs {
			s.perRankIntra = e.pl.MaxPerNode() - 1
		}
	} else {
		s.perRankInter = min(per, s.maxOut)
		s.perRankIntra = min(per, s.maxIntra)
	}
	return s
}

// scan prices a round over consecutive groups of g nodes (g = 1:
// nodes; g = NodesPerLeaf: leaves) and returns the most messages that
// stay in one group, leave one group and enter one group. Symmetries
// make most rounds O(1); the rest cost O(groups).
func (e *evaluator) scan(r *round, g int) (maxIntra, maxOut, maxIn int) {
	nodes := e.pl.Nodes()
	equal := e.ppn > 0 && nodes%g == 0 // every group has the same ranks
	switch r.pat {
	case patShift, patAll:
		if equal && r.rem == 0 && r.m == e.p {
			// Every group is equivalent under rotation by its ranks.
			tot, out, in := r.counts(0, e.ppn*g)
			return tot - out, out, in
		}
	case patXor:
		// Partners are r.d apart: if no group is longer, all leave.
		if l := e.longest(g, r.rem, r.m); r.d >= l {
			return 0, l, l
		}
	case patHalo:
		// Neighbours are at least r.d apart: if no group is longer,
		// both messages of every rank leave.
		if l := e.longest(g, 0, r.m); r.dim > 1 && r.d >= l {
			return 0, 2 * l, 2 * l
		}
	case patBinomial:
		// Senders are 2·r.d apart: a group holds at most one sender and
		// one receiver, and their messages leave it. Rank 0 always
		// sends (r.d < r.m) and rank r.d receives.
		if r.rem == 0 && r.d < r.m && r.d >= e.longest(g, 0, r.m) {
			return 0, 1, 1
		}
	}
	if e.ppn > 0 && !e.noPeriodic {
		var period int
		switch r.pat {
		case patXor, patBinomial:
			period = 2 * r.d
		case patHalo:
			period = r.dim * r.d
		}
		if period > 0 {
			return e.scanPeriodic(r, g, period)
		}
	}
	return e.scanAll(r, g)
}

// scanAll visits every group.
func (e *evaluator) scanAll(r *round, g int) (maxIntra, maxOut, maxIn int) {
	nodes := e.pl.Nodes()
	a := 0
	for i := 0; i < nodes; i += g {
		b := a
		if e.ppn > 0 {
			b += e.ppn * min(g, nodes-i)
		} else {
			for _, k := range e.pl.RanksPerNode[i:min(nodes, i+g)] {
				b += k
			}
		}
		tot, out, in := r.counts(a, b)
		maxIntra, maxOut, maxIn = max(maxIntra, tot-out), max(maxOut, out), max(maxIn, in)
		a = b
	}
	return maxIntra, maxOut, maxIn
}

// scanPeriodic visits the groups of a uniform placement that can
// differ when the round's pattern repeats every period ranks (in its
// own numbering): translating a group by a multiple of the period
// gives the same counts. Groups of G ranks below the fix-up split
// (2·rem, numbered at half density) repeat every 2·period/gcd(G,
// 2·period) groups, those above every period/gcd(G, period) groups;
// the group straddling the split, the groups near the end of the
// pattern (binomial senders need a partner below m) and a last,
// shorter group are visited too.
func (e *evaluator) scanPeriodic(r *round, g, period int) (maxIntra, maxOut, maxIn int) {
	nodes := e.pl.Nodes()
	G := e.ppn * g
	groups := (nodes + g - 1) / g
	visit := func(i int) {
		a := i * G
		tot, out, in := r.counts(a, min(a+G, e.p))
		maxIntra, maxOut, maxIn = max(maxIntra, tot-out), max(maxOut, out), max(maxIn, in)
	}
	split := 2 * r.rem
	below := min(groups, split/G) // groups entirely below the split
	for i := range min(below, 2*period/gcd(G, 2*period)) {
		visit(i)
	}
	from := below
	if from < groups && from*G < split {
		visit(from)
		from++
	}
	q := period / gcd(G, period)
	to := min(groups, from+q)
	for i := from; i < to; i++ {
		visit(i)
	}
	// Groups near the end of the numbering: real start x maps to
	// x − rem above the split; visit those whose end passes m − 2·period
	// and whose start is below m.
	tail := max(to, (r.m-2*period+r.rem)/G-1)
	end := min(groups, (r.m+r.rem)/G+1)
	for i := tail; i < end; i++ {
		visit(i)
	}
	if last := groups - 1; last >= max(to, end) {
		visit(last)
	}
	return maxIntra, maxOut, maxIn
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// longestLeaf is the most ranks on one leaf when there are two leaves
// or more, else 0.
func (e *evaluator) longestLeaf() int {
	if len(e.leafRanks) > 2 {
		n := 0
		for j := 0; j+1 < len(e.leafRanks); j++ {
			n = max(n, e.leafRanks[j+1]-e.leafRanks[j])
		}
		return n
	}
	if e.leafRanks == nil && e.npl > 0 && e.pl.Nodes() > e.npl {
		return e.longest(e.npl, 0, e.p)
	}
	return 0
}

// longest is the most ranks taking part (numbered below m after the
// fix-up renumbering with rem extra ranks) in one group of g
// consecutive nodes, cached.
func (e *evaluator) longest(g, rem, m int) int {
	c := &e.long[0]
	if g != 1 {
		c = &e.long[1]
	}
	for i := range c {
		if c[i].ok && c[i].rem == rem && c[i].m == m {
			return c[i].n
		}
	}
	n, nodes := 0, e.pl.Nodes()
	size := func(a, b int) int {
		va, vb := a, b
		if rem > 0 {
			va, vb = participantsBelow(a, rem), participantsBelow(b, rem)
		}
		return min(vb, m) - min(va, m)
	}
	if e.ppn > 0 {
		// Uniform: groups below the fix-up split hold every other rank
		// (two parities), then the straddling group, full groups and a
		// last, shorter one.
		G, groups := e.ppn*g, (nodes+g-1)/g
		s := min(groups-1, 2*rem/G)
		for _, i := range [...]int{0, 1, s, s + 1, groups - 1} {
			if i < groups {
				n = max(n, size(i*G, min(i*G+G, e.p)))
			}
		}
	} else {
		a := 0
		for i := 0; i < nodes; i += g {
			b := a
			for _, k := range e.pl.RanksPerNode[i:min(nodes, i+g)] {
				b += k
			}
			n = max(n, size(a, b))
			a = b
		}
	}
	c[e.longNext[min(g-1, 1)]%len(c)] = longCache{ok: true, rem: rem, m: m, n: n}
	e.longNext[min(g-1, 1)]++
	return n
}

// path is a Profile with what does not depend on the message size
// worked out once: Latency(n) = band latency + rendezvous + fixed, and
// Bandwidth(n) = min(band bandwidth · goodput, limit), as Profile has
// them; serial holds the stages with a serial cost (a per-node queue).
type path struct {
	p              *Profile
	fixed, goodput float64
	limit          float64
	payload        float64 // application bytes per packet (Profile.payload)
	serial         []serialStage
}

// serialStage is a stage's serial cost: PerPacket and PerByte, and the
// header bytes its packets carry besides the payload.
type serialStage struct {
	perPacket, perByte, header float64
}

func newPath(p *Profile) path {
	q := path{p: p, goodput: p.Goodput(), limit: math.Inf(1)}
	for i, s := range p.Stages {
		q.fixed += s.Latency
		q.limit = math.Min(q.limit, p.StageRate(i))
	}
	if len(p.Stages) > 0 {
		q.payload = p.payload()
	}
	for i, s := range p.Stages {
		if s.PerPacket > 0 || s.PerByte > 0 {
			q.serial = append(q.serial, serialStage{s.PerPacket, s.PerByte, float64(p.packetSize(i)) - q.payload})
		}
	}
	return q
}

// service is the longest time a serial stage of the path spends on one
// message of n bytes: its packets (at least one; n/payload rounded up)
// each cost PerPacket, and their bytes (the payload and every packet's
// headers) PerByte. For full packets it is n/StageRate; for a message
// smaller than a packet it is about PerPacket, however small n is.
func (q *path) service(n float64) float64 {
	if len(q.serial) == 0 {
		return 0
	}
	pk := max(1, math.Ceil(n/q.payload))
	t := 0.0
	for _, s := range q.serial {
		t = max(t, pk*s.perPacket+(n+pk*s.header)*s.perByte)
	}
	return t
}

// msgTime is the time of a message of n bytes when the tightest share
// of the path it gets costs inv seconds per byte and, at a serial
// stage, it waits behind queued seconds of other messages.
//
// The queue is a serial stage's per-node cost (one slirp4netns process
// serves every rank of its node, one packet at a time): when k ranks of
// a node send at once, the last message waits (k−1)·service(n) before
// the stage takes it. Its own service is in the path's latency (the
// stage's Latency, measured with one small packet) and in n/bandwidth.
// For large messages the node's share of the link (inv, capped by the
// stage's rate: linkRate) already costs as much, so the queue shows
// for small and mid-size messages, where a rate cap does not: eight
// 8-byte messages through one slirp4netns cost eight per-packet costs,
// not 64 bytes at its rate. With queued = 0 it is lat + n·max(1/bw, inv).
func (q *path) msgTime(n, inv, queued float64) float64 {
	nb := int64(math.Ceil(n))
	b := q.p.BandOf(nb)
	lat := b.Latency + q.fixed
	if q.p.EagerLimit > 0 && nb > q.p.EagerLimit {
		lat += q.p.RendezvousLatency
	}
	bw := math.Min(b.Bandwidth*q.goodput, q.limit)
	t := n * max(1/bw, inv)
	if queued > 0 {
		t = max(t, n/bw+queued)
	}
	return lat + t
}

// times of one round: the slowest intra-node and inter-node messages
// (0 when there are none), without the reduction.
func (e *evaluator) times(r *round, s *roundStats) (intra, inter float64) {
	if s.intraMsgs {
		inv := 0.0
		if !math.IsInf(e.intraCap, 1) {
			inv = float64(s.maxIntra) / e.intraCap
		}
		intra = e.intraPath.msgTime(r.bytes, inv, 0)
	}
	if s.maxOut > 0 || s.maxIn > 0 {
		k := max(s.maxOut, s.maxIn)
		inv := float64(k) / e.link
		if s.maxLeafOut > 0 || s.maxLeaf > 0 {
			inv = max(inv, float64(max(s.maxLeafOut, s.maxLeaf))/e.uplink)
		}
		// The node's other k−1 messages ahead of the last one at its
		// serial stages (0 on a path without one).
		queued := float64(k-1) * e.interPath.service(r.bytes)
		inter = e.interPath.msgTime(r.bytes, inv, queued)
	}
	return intra, inter
}

// run prices round r repeated times and adds it to the cost: the
// slowest message, then the reduction of what arrived.
func (e *evaluator) run(r round, times int) {
	if times <= 0 {
		return
	}
	s := e.stats(&r)
	intra, inter := e.times(&r, &s)
	t := max(intra, inter)
	if s.intraMsgs || s.maxOut > 0 || s.maxIn > 0 {
		t += r.reduce * e.gamma
	}
	e.cost.Seconds += t * float64(times)
	e.cost.Steps += times
	e.cost.InterBytes += r.bytes * float64(s.perRankInter*times)
	e.cost.NodeInterBytes += r.bytes * float64(max(s.maxOut, s.maxIn)*times)
	e.cost.IntraBytes += r.bytes * float64(s.perRankIntra*times)
}

// done finishes the cost.
func (e *evaluator) done() Cost {
	e.cost.CPUSeconds = 2 * e.cost.InterBytes * e.inter.NodeCPUPerByte()
	return e.cost
}

// begin validates one collective call — the placement, a size that must
// not be negative (field names it), the algorithm (auto: pick(ranks),
// else one of valid) — and returns the evaluator with the algorithm
// resolved in its cost.
func (f *Fabric) begin(coll string, pl Placement, field string, n int64, alg Algorithm, pick func(p int) Algorithm, valid ...Algorithm) (evaluator, error) {
	e, err := f.evaluator(pl)
	if err != nil {
		return evaluator{}, err
	}
	if n < 0 {
		return evaluator{}, errBytes(coll, field, n)
	}
	switch {
	case alg == AlgAuto || alg == "":
		alg = pick(e.p)
	case !slices.Contains(valid, alg):
		return evaluator{}, errAlgorithm(coll, alg, slices.Clone(valid)...)
	}
	e.cost.Algorithm = alg
	return e, nil
}

// errAlgorithm is the error for an algorithm a collective does not have.
func errAlgorithm(coll string, alg Algorithm, have ...Algorithm) error {
	return fmt.Errorf("%w: %s: algorithm: %q is not one of auto, %v", ErrInvalid, coll, string(alg), have)
}

func errBytes(coll, field string, n int64) error {
	return fmt.Errorf("%w: %s: %s: %d must not be negative", ErrInvalid, coll, field, n)
}

// pof2 is the largest power of two <= n (n >= 1).
func pof2(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

func isPof2(n int) bool { return n > 0 && n&(n-1) == 0 }

func errPof2(coll string, alg Algorithm, p int) error {
	return fmt.Errorf("%w: %s: algorithm: %q needs a power-of-two number of ranks, not %d", ErrInvalid, coll, string(alg), p)
}

type longCache struct {
	ok        bool
	rem, m, n int
}
