package network

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// testInter is an inter-node profile with two bands and a rendezvous
// step, so band selection and the eager limit both matter.
func testInter() *Profile {
	return &Profile{
		Name: "eth",
		Bands: []Band{
			{MaxBytes: 65536, Latency: 20e-6, Bandwidth: 1e9},
			{Latency: 30e-6, Bandwidth: 1.25e9},
		},
		EagerLimit:        65536,
		RendezvousLatency: 10e-6,
	}
}

// one-band profiles make the α–β formulas of the tests exact.
func flat(name string, alpha, beta float64) *Profile {
	return &Profile{Name: name, Bands: []Band{{Latency: alpha, Bandwidth: beta}}}
}

func close(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(math.Abs(want), 1e-12) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// bruteMessages lists a round's messages (sender, receiver) in real
// rank numbers, straight from each pattern's definition.
func bruteMessages(r round) [][2]int {
	real := func(n int) int {
		if r.rem > 0 {
			if n < r.rem {
				return 2*n + 1
			}
			return n + r.rem
		}
		return n
	}
	var msgs [][2]int
	add := func(a, b int) { msgs = append(msgs, [2]int{real(a), real(b)}) }
	m, d := r.m, r.d
	for n := 0; n < m; n++ {
		switch r.pat {
		case patShift:
			if d%m != 0 {
				add(n, (n+d)%m)
			}
		case patXor:
			add(n, n^d)
		case patBinomial:
			if n%(2*d) == 0 && n+d < m {
				if r.reverse {
					add(n+d, n)
				} else {
					add(n, n+d)
				}
			}
		case patHalo:
			if r.dim > 1 {
				c := (n / d) % r.dim
				if c < r.dim-1 {
					add(n, n+d)
				} else {
					add(n, n-(r.dim-1)*d)
				}
				if c > 0 {
					add(n, n-d)
				} else {
					add(n, n+(r.dim-1)*d)
				}
			}
		case patAll:
			for q := 0; q < m; q++ {
				if q != n {
					add(n, q)
				}
			}
		}
	}
	return msgs
}

// bruteRound prices a round message by message: each inter-node
// message gets the smallest of its band's rate and its share of the
// links it crosses (sender's node out, receiver's node in, and the
// leaf uplinks when it changes leaf).
func bruteRound(f *Fabric, pl Placement, r round) (intra, inter float64) {
	var node []int
	for i, k := range pl.RanksPerNode {
		for range k {
			node = append(node, i)
		}
	}
	leaf := func(n int) int {
		if pl.Leaves != nil {
			return pl.Leaves[node[n]]
		}
		return f.Topology.Leaf(node[n])
	}
	out, in, intraN := map[int]int{}, map[int]int{}, map[int]int{}
	lout, lin := map[int]int{}, map[int]int{}
	msgs := bruteMessages(r)
	for _, m := range msgs {
		a, b := node[m[0]], node[m[1]]
		if a == b {
			intraN[a]++
			continue
		}
		out[a]++
		in[b]++
		if leaf(m[0]) != leaf(m[1]) {
			lout[leaf(m[0])]++
			lin[leaf(m[1])]++
		}
	}
	link := linkRate(f.Inter)
	up := f.Topology.UplinkBandwidth(link)
	nb := int64(math.Ceil(r.bytes))
	ip := f.intra()
	for _, m := range msgs {
		a, b := node[m[0]], node[m[1]]
		if a == b {
			rate := ip.Bandwidth(nb)
			if ip.LinkBandwidth > 0 {
				rate = math.Min(rate, ip.LinkBandwidth*ip.Goodput()/float64(intraN[a]))
			}
			intra = math.Max(intra, ip.Latency(nb)+r.bytes/rate)
			continue
		}
		rate := math.Min(f.Inter.Bandwidth(nb), math.Min(link/float64(out[a]), link/float64(in[b])))
		if la, lb := leaf(m[0]), leaf(m[1]); la != lb {
			rate = math.Min(rate, math.Min(up/float64(lout[la]), up/float64(lin[lb])))
		}
		t := r.bytes / rate
		// A serial stage serves the node's messages one at a time: the
		// last waits behind the others of its busier end.
		if wait := float64(max(out[a], in[b])-1) * bruteService(f.Inter, r.bytes); wait > 0 {
			t = math.Max(t, r.bytes/f.Inter.Bandwidth(nb)+wait)
		}
		inter = math.Max(inter, f.Inter.Latency(nb)+t)
	}
	return intra, inter
}

// bruteService is the longest time one stage of p with a serial cost
// spends on a message of n bytes: its packets (n over the payload per
// packet, rounded up, at least one) at PerPacket each, and their bytes,
// headers included, at PerByte each.
func bruteService(p *Profile, n float64) float64 {
	worst := 0.0
	for i, s := range p.Stages {
		payload := float64(p.payload())
		packets := math.Max(1, math.Ceil(n/payload))
		header := float64(p.packetSize(i)) - payload
		worst = math.Max(worst, packets*s.PerPacket+(n+packets*header)*s.PerByte)
	}
	return worst
}

func randomPlacement(rng *rand.Rand) Placement {
	nodes := 1 + rng.IntN(9)
	if rng.IntN(2) == 0 {
		return Uniform(nodes, 1+rng.IntN(6))
	}
	r := make([]int, nodes)
	for i := range r {
		r[i] = 1 + rng.IntN(6)
	}
	return Placement{RanksPerNode: r}
}

func randomRound(rng *rand.Rand, p int) round {
	r := round{bytes: float64(rng.IntN(200000))}
	switch rng.IntN(5) {
	case 0:
		r.pat, r.m, r.d = patShift, p, rng.IntN(p)
	case 1:
		p2 := pof2(p)
		r.pat, r.m = patXor, p2
		if p2 < 2 {
			r.pat, r.m, r.d = patShift, p, 1
			break
		}
		r.d = 1 << rng.IntN(int(math.Log2(float64(p2))))
		if rng.IntN(2) == 0 {
			r.rem = p - p2
		}
	case 2:
		r.pat, r.m = patBinomial, p
		if rem := p - pof2(p); rem > 0 && rng.IntN(2) == 0 {
			r.m, r.d = 2*rem, 1
		} else {
			r.d = pof2(max(1, rng.IntN(p)))
		}
		r.reverse = rng.IntN(2) == 0
	case 3:
		g := ProcessGrid(p)
		i := rng.IntN(3)
		r.pat, r.m, r.dim = patHalo, p, g[i]
		r.d = 1
		for j := i + 1; j < 3; j++ {
			r.d *= g[j]
		}
	case 4:
		r.pat, r.m = patAll, p
	}
	return r
}

// TestRoundMatchesBruteForce checks the interval arithmetic that prices
// a round in O(nodes) against pricing every message on its own.
func TestRoundMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4000 {
		pl := randomPlacement(rng)
		f := &Fabric{Inter: testInter()}
		switch rng.IntN(5) {
		case 4:
			// A user-space stack in front: one serial server per node.
			f.Inter = testInter().With("slirp", Stage{Name: "vxlan", Latency: 10e-6, HeaderBytes: 50, MTU: 1450},
				Stage{Name: "slirp", Latency: 15e-6, PerPacket: 5e-6 + 20e-6*rng.Float64(), PerByte: 2e-9 * rng.Float64()})
		case 1:
			f.Topology = TwoLevel(1+rng.IntN(3), 0.5+3*rng.Float64())
		case 3:
			f.Topology = TwoLevel(1+rng.IntN(3), 0.5+3*rng.Float64())
			pl.Leaves = randomLeaves(rng, pl.Nodes())
		case 2:
			f.Intra = DefaultIntra()
			f.Intra.LinkBandwidth = 20e9
		}
		e, err := f.evaluator(pl)
		if err != nil {
			t.Fatal(err)
		}
		r := randomRound(rng, e.p)
		s := e.stats(&r)
		gotIntra, gotInter := e.times(&r, &s)
		wantIntra, wantInter := bruteRound(f, pl, r)
		if math.Abs(gotIntra-wantIntra) > 1e-12 || math.Abs(gotInter-wantInter) > 1e-12 {
			t.Fatalf("case %d: placement %v topology %+v round %+v: got intra %g inter %g, want %g %g",
				i, pl.RanksPerNode, f.Topology, r, gotIntra, gotInter, wantIntra, wantInter)
		}
	}
}

func TestCollectiveFormulas(t *testing.T) {
	const (
		alpha = 5e-6
		beta  = 1e9
		ai    = 0.5e-6
		bi    = 8e9
		rr    = 4e9
	)
	inter, intra := flat("net", alpha, beta), flat("shm", ai, bi)
	one := &Fabric{Inter: inter, Intra: intra, ReduceRate: rr}
	g := 1 / rr
	lg := func(p int) float64 { return math.Ceil(math.Log2(float64(p))) }
	type call func(f *Fabric, pl Placement) (Cost, error)
	allreduce := func(n int64, a Algorithm) call {
		return func(f *Fabric, pl Placement) (Cost, error) { return f.Allreduce(pl, n, a) }
	}
	n := 1.0 * (1 << 20)
	piece12 := math.Ceil(n / 12)
	tests := []struct {
		name  string
		f     *Fabric
		pl    Placement
		c     call
		want  float64
		steps int
	}{
		{"ring allreduce, 1 rank per node", one, Uniform(8, 1), allreduce(1<<20, AlgRing),
			2*7*(alpha+n/8/beta) + 7*n/8*g, 14},
		{"ring allreduce, 5 nodes", one, Uniform(5, 1), allreduce(1<<20, AlgRing),
			2*4*(alpha+n/5/beta) + 4*n/5*g, 8},
		{"ring allreduce, one node: Intra only", one, Uniform(1, 8), allreduce(1<<20, AlgRing),
			2*7*(ai+n/8/bi) + 7*n/8*g, 14},
		{"recursive doubling, 16 nodes", one, Uniform(16, 1), allreduce(1<<20, AlgRecursiveDoubling),
			4 * (alpha + n/beta + n*g), 4},
		{"recursive doubling, 2 ranks per node: one intra round, three rounds with 2 flows per link",
			one, Uniform(8, 2), allreduce(1<<20, AlgRecursiveDoubling),
			(ai + n/bi + n*g) + 3*(alpha+2*n/beta+n*g), 4},
		{"recursive doubling, 6 nodes: fix-up, 2 rounds, hand-back", one, Uniform(6, 1), allreduce(1<<20, AlgRecursiveDoubling),
			(alpha + n/beta + n*g) + 2*(alpha+n/beta+n*g) + (alpha + n/beta), 4},
		{"rabenseifner, 8 nodes", one, Uniform(8, 1), allreduce(1<<20, AlgRabenseifner),
			(alpha + n/2/beta + n/2*g) + (alpha + n/4/beta + n/4*g) + (alpha + n/8/beta + n/8*g) +
				(alpha + n/8/beta) + (alpha + n/4/beta) + (alpha + n/2/beta), 6},
		{"rabenseifner, 6 nodes: fix-up, halving and doubling on 4, hand-back", one, Uniform(6, 1), allreduce(1<<20, AlgRabenseifner),
			(alpha + n/beta + n*g) +
				(alpha + n/2/beta + n/2*g) + (alpha + n/4/beta + n/4*g) +
				(alpha + n/4/beta) + (alpha + n/2/beta) +
				(alpha + n/beta), 6},
		{"scatter-allgather bcast, 12 nodes (ring allgather)", one, Uniform(12, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Bcast(pl, 1<<20, AlgAuto) },
			4*alpha + (n-8*piece12+4*piece12+2*piece12+piece12)/beta + 11*(alpha+piece12/beta), 4 + 11},
		{"two-level tree 2 nodes per leaf, 4:1: the cross-leaf round shares a leaf uplink of L/2 by 2",
			&Fabric{Inter: inter, Intra: intra, ReduceRate: rr, Topology: TwoLevel(2, 4)}, Uniform(4, 1),
			allreduce(1<<20, AlgRecursiveDoubling),
			(alpha + n/beta + n*g) + (alpha + n/(beta*2/4/2) + n*g), 2},
		{"binomial bcast, 13 nodes", one, Uniform(13, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Bcast(pl, 1<<20, AlgBinomial) },
			lg(13) * (alpha + n/beta), 4},
		{"scatter-allgather bcast, 8 nodes (recursive doubling allgather)", one, Uniform(8, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Bcast(pl, 1<<18, AlgScatterAllgather) },
			// scatter: n/2, n/4, n/8; allgather: n/8, n/4, n/2 (n = 256 KiB)
			2 * (3*alpha + (n/4)*(1.0/2+1.0/4+1.0/8)/beta), 6},
		{"dissemination barrier, 10 nodes", one, Uniform(10, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Barrier(pl, AlgAuto) },
			lg(10) * alpha, 4},
		{"dissemination barrier, one node", one, Uniform(1, 10),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Barrier(pl, AlgAuto) },
			lg(10) * ai, 4},
		{"linear alltoall, 6 nodes: 5 flows per link", one, Uniform(6, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Alltoall(pl, 1<<20, AlgLinear) },
			alpha + 5*n/beta, 1},
		{"pairwise alltoall, 6 nodes", one, Uniform(6, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Alltoall(pl, 1<<20, AlgPairwise) },
			5 * (alpha + n/beta), 5},
		{"bruck alltoall, 5 nodes: blocks with bit k set (2, 2, 1)", one, Uniform(5, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Alltoall(pl, 1000, AlgBruck) },
			3*alpha + (2+2+1)*1000/beta, 3},
		{"ring allgather, 7 nodes", one, Uniform(7, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Allgather(pl, 1<<20, AlgRing) },
			6 * (alpha + n/beta), 6},
		{"bruck allgather, 6 nodes: 1, 2, then 2 remaining blocks", one, Uniform(6, 1),
			func(f *Fabric, pl Placement) (Cost, error) { return f.Allgather(pl, 1000, AlgBruck) },
			3*alpha + (1+2+2)*1000/beta, 3},
		{"halo 2x2x2 one rank per node: 2 flows per link per dimension", one, Uniform(8, 1),
			func(f *Fabric, pl Placement) (Cost, error) {
				return f.HaloExchange(pl, Halo{FaceBytes: [3]int64{1000, 2000, 3000}})
			},
			3*alpha + 2*(1000+2000+3000)/beta, 3},
		{"halo on one node: Intra only", one, Uniform(1, 8),
			func(f *Fabric, pl Placement) (Cost, error) {
				return f.HaloExchange(pl, Halo{FaceBytes: [3]int64{1000, 2000, 3000}})
			},
			3*ai + (1000+2000+3000)/bi, 3},
		{"single rank costs nothing", one, Uniform(1, 1), allreduce(1<<20, AlgAuto), 0, 0},
	}
	for _, tc := range tests {
		c, err := tc.c(tc.f, tc.pl)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		close(t, tc.name, c.Seconds, tc.want)
		if c.Steps != tc.steps {
			t.Errorf("%s: steps = %d, want %d", tc.name, c.Steps, tc.steps)
		}
	}
}

func TestOneNodeUsesIntraOnly(t *testing.T) {
	f := &Fabric{Inter: testInter()}
	pl := Uniform(1, 12)
	for name, c := range costs(t, f, pl, 1<<16) {
		if c.InterBytes != 0 {
			t.Errorf("%s on one node: InterBytes = %g, want 0", name, c.InterBytes)
		}
		// The inter-node profile must not matter.
		f2 := &Fabric{Inter: flat("slow", 1, 1)}
		c2 := costs(t, f2, pl, 1<<16)[name]
		close(t, name+" with another Inter", c2.Seconds, c.Seconds)
	}
}

// costs runs every collective with every algorithm that applies.
func costs(t *testing.T, f *Fabric, pl Placement, n int64) map[string]Cost {
	t.Helper()
	out := map[string]Cost{}
	put := func(name string, c Cost, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = c
	}
	for _, a := range []Algorithm{AlgAuto, AlgRing, AlgRecursiveDoubling, AlgRabenseifner} {
		c, err := f.Allreduce(pl, n, a)
		put("allreduce/"+string(a), c, err)
	}
	for _, a := range []Algorithm{AlgAuto, AlgBinomial, AlgScatterAllgather} {
		c, err := f.Bcast(pl, n, a)
		put("bcast/"+string(a), c, err)
	}
	for _, a := range []Algorithm{AlgAuto, AlgDissemination, AlgRecursiveDoubling} {
		c, err := f.Barrier(pl, a)
		put("barrier/"+string(a), c, err)
	}
	for _, a := range []Algorithm{AlgAuto, AlgPairwise, AlgBruck, AlgLinear} {
		c, err := f.Alltoall(pl, n, a)
		put("alltoall/"+string(a), c, err)
	}
	for _, a := range []Algorithm{AlgAuto, AlgRing, AlgBruck} {
		c, err := f.Allgather(pl, n, a)
		put("allgather/"+string(a), c, err)
	}
	c, err := f.HaloExchange(pl, Halo{FaceBytes: [3]int64{n, n / 2, n / 3}})
	put("halo", c, err)
	return out
}

// TestMoreRanksPerNodeNeverCheaper: with the nodes fixed, adding ranks
// to every node never makes a round's inter-node messages faster.
func TestMoreRanksPerNodeNeverCheaper(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		nodes := 2 + rng.IntN(8)
		f := &Fabric{Inter: testInter()}
		if rng.IntN(2) == 0 {
			f.Topology = TwoLevel(1+rng.IntN(3), 1+3*rng.Float64())
		}
		n := float64(1 + rng.IntN(1<<20))
		prev := 0.0
		kind := rng.IntN(3)
		d := 1 << rng.IntN(3)
		for k := 1; k <= 8; k++ {
			e, err := f.evaluator(Uniform(nodes, k))
			if err != nil {
				t.Fatal(err)
			}
			var r round
			switch kind {
			case 0: // ring neighbour
				r = round{pat: patShift, d: 1, m: e.p, bytes: n}
			case 1: // shift by d (dissemination, Bruck)
				r = round{pat: patShift, d: d % e.p, m: e.p, bytes: n}
			case 2: // everyone at once
				r = round{pat: patAll, m: e.p, bytes: n}
			}
			s := e.stats(&r)
			_, inter := e.times(&r, &s)
			if inter < prev-1e-15 {
				t.Fatalf("nodes %d kind %d d %d: %d ranks per node: inter-node round %g s < %g s with fewer", nodes, kind, d, k, inter, prev)
			}
			prev = inter
		}
	}
}

func TestAutoSelection(t *testing.T) {
	f := &Fabric{Inter: testInter()}
	tests := []struct {
		coll  string
		pl    Placement
		bytes int64
		want  Algorithm
	}{
		{"allreduce", Uniform(4, 4), 2048, AlgRecursiveDoubling},
		{"allreduce", Uniform(4, 4), 2056, AlgRabenseifner},
		{"allreduce", Uniform(1024, 96), 64 << 10, AlgRecursiveDoubling}, // 8192 doubles < 65536 ranks
		{"allreduce", Uniform(32, 16), 64 << 10, AlgRabenseifner},
		{"bcast", Uniform(16, 1), 12287, AlgBinomial},
		{"bcast", Uniform(16, 1), 12288, AlgScatterAllgather},
		{"bcast", Uniform(7, 1), 1 << 20, AlgBinomial},
		{"alltoall", Uniform(8, 1), 256, AlgBruck},
		{"alltoall", Uniform(4, 1), 256, AlgLinear},
		{"alltoall", Uniform(8, 1), 32768, AlgLinear},
		{"alltoall", Uniform(8, 1), 32769, AlgPairwise},
		{"allgather", Uniform(8, 1), 65535, AlgRecursiveDoubling},
		{"allgather", Uniform(6, 1), 1000, AlgBruck},
		{"allgather", Uniform(6, 1), 81920 / 6 * 2, AlgRing},
		{"barrier", Uniform(6, 1), 0, AlgDissemination},
		{"allgather", Uniform(8, 1), math.MaxInt64 / 4, AlgRing}, // no overflow
		{"bcast", Uniform(8, 1), math.MaxInt64, AlgScatterAllgather},
	}
	for _, tc := range tests {
		var c Cost
		var err error
		switch tc.coll {
		case "allreduce":
			c, err = f.Allreduce(tc.pl, tc.bytes, AlgAuto)
		case "bcast":
			c, err = f.Bcast(tc.pl, tc.bytes, "")
		case "alltoall":
			c, err = f.Alltoall(tc.pl, tc.bytes, AlgAuto)
		case "allgather":
			c, err = f.Allgather(tc.pl, tc.bytes, AlgAuto)
		case "barrier":
			c, err = f.Barrier(tc.pl, AlgAuto)
		}
		if err != nil || c.Algorithm != tc.want {
			t.Errorf("%s %d ranks %d bytes: %q, %v; want %q", tc.coll, tc.pl.Ranks(), tc.bytes, c.Algorithm, err, tc.want)
		}
	}
}

func TestCollectiveErrors(t *testing.T) {
	good := &Fabric{Inter: testInter()}
	pl := Uniform(4, 2)
	bad := func(mod func(f *Fabric)) *Fabric {
		f := &Fabric{Inter: testInter(), Intra: DefaultIntra()}
		mod(f)
		return f
	}
	tests := []struct {
		name  string
		err   func() error
		field string
	}{
		{"no inter", func() error { _, err := (&Fabric{}).Allreduce(pl, 8, AlgAuto); return err }, "inter"},
		{"nil fabric", func() error { var f *Fabric; _, err := f.Barrier(pl, AlgAuto); return err }, "fabric"},
		{"bad inter band", func() error {
			_, err := bad(func(f *Fabric) { f.Inter.Bands[1].Bandwidth = 0 }).Bcast(pl, 8, AlgAuto)
			return err
		}, "bandwidth"},
		{"bad intra", func() error {
			_, err := bad(func(f *Fabric) { f.Intra.Bands[0].Latency = math.NaN() }).Bcast(pl, 8, AlgAuto)
			return err
		}, "intra"},
		{"bad topology", func() error {
			_, err := bad(func(f *Fabric) { f.Topology = TwoLevel(0, 1) }).Barrier(pl, AlgAuto)
			return err
		}, "nodesPerLeaf"},
		{"bad oversubscription", func() error {
			_, err := bad(func(f *Fabric) { f.Topology = TwoLevel(4, math.NaN()) }).Barrier(pl, AlgAuto)
			return err
		}, "oversubscription"},
		{"bad levels", func() error {
			_, err := bad(func(f *Fabric) { f.Topology = &Topology{Levels: 3} }).Barrier(pl, AlgAuto)
			return err
		}, "levels"},
		{"bad reduce rate", func() error {
			_, err := bad(func(f *Fabric) { f.ReduceRate = -1 }).Allreduce(pl, 8, AlgAuto)
			return err
		}, "reduceRate"},
		{"empty placement", func() error { _, err := good.Allreduce(Placement{}, 8, AlgAuto); return err }, "ranksPerNode"},
		{"zero ranks on a node", func() error {
			_, err := good.Allreduce(Placement{RanksPerNode: []int{2, 0}}, 8, AlgAuto)
			return err
		}, "ranksPerNode[1]"},
		{"negative ranks", func() error { _, err := good.Allreduce(Uniform(2, -1), 8, AlgAuto); return err }, "ranksPerNode[0]"},
		{"negative bytes", func() error { _, err := good.Allreduce(pl, -1, AlgAuto); return err }, "bytes"},
		{"negative pair bytes", func() error { _, err := good.Alltoall(pl, -1, AlgAuto); return err }, "bytesPerPair"},
		{"negative rank bytes", func() error { _, err := good.Allgather(pl, -1, AlgAuto); return err }, "bytesPerRank"},
		{"negative face", func() error { _, err := good.HaloExchange(pl, Halo{FaceBytes: [3]int64{1, -2, 3}}); return err }, "faceBytes[1]"},
		{"unknown algorithm", func() error { _, err := good.Allreduce(pl, 8, "butterfly"); return err }, "algorithm"},
		{"bcast ring", func() error { _, err := good.Bcast(pl, 8, AlgRing); return err }, "algorithm"},
		{"barrier bruck", func() error { _, err := good.Barrier(pl, AlgBruck); return err }, "algorithm"},
		{"alltoall ring", func() error { _, err := good.Alltoall(pl, 8, AlgRing); return err }, "algorithm"},
		{"allgather linear", func() error { _, err := good.Allgather(pl, 8, AlgLinear); return err }, "algorithm"},
		{"allgather doubling on 6 ranks", func() error { _, err := good.Allgather(Uniform(3, 2), 8, AlgRecursiveDoubling); return err }, "power-of-two"},
	}
	for _, tc := range tests {
		err := tc.err()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %q does not name %q", tc.name, err, tc.field)
		}
	}
}

func TestPointToPoint(t *testing.T) {
	f := &Fabric{Inter: testInter()}
	close(t, "inter", f.PointToPoint(false, 1<<20), testInter().Time(1<<20))
	close(t, "intra", f.PointToPoint(true, 1<<20), DefaultIntra().Time(1<<20))
	if got := (&Fabric{}).PointToPoint(false, 8); !math.IsInf(got, 1) {
		t.Errorf("no inter profile: %g, want +Inf", got)
	}
	var nilf *Fabric
	if got := nilf.PointToPoint(true, 8); !math.IsInf(got, 1) {
		t.Errorf("nil fabric: %g, want +Inf", got)
	}
	if err := DefaultIntra().Validate(); err != nil {
		t.Error(err)
	}
}

func TestProcessGrid(t *testing.T) {
	tests := []struct {
		n    int
		want [3]int
	}{
		{1, [3]int{1, 1, 1}}, {2, [3]int{2, 1, 1}}, {6, [3]int{3, 2, 1}}, {8, [3]int{2, 2, 2}},
		{12, [3]int{3, 2, 2}}, {16, [3]int{4, 2, 2}}, {48, [3]int{4, 4, 3}}, {7, [3]int{7, 1, 1}},
		{512, [3]int{8, 8, 8}}, {98304, [3]int{64, 48, 32}}, {0, [3]int{}}, {-3, [3]int{}},
	}
	for _, tc := range tests {
		if got := ProcessGrid(tc.n); got != tc.want {
			t.Errorf("ProcessGrid(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestPlacement(t *testing.T) {
	pl := Placement{RanksPerNode: []int{3, 5, 2}}
	if pl.Nodes() != 3 || pl.Ranks() != 10 || pl.MaxPerNode() != 5 {
		t.Errorf("nodes %d ranks %d max %d", pl.Nodes(), pl.Ranks(), pl.MaxPerNode())
	}
	if u := Uniform(4, 6); u.Nodes() != 4 || u.Ranks() != 24 || u.MaxPerNode() != 6 || u.Validate() != nil {
		t.Errorf("Uniform(4, 6) = %v", u)
	}
	if Uniform(-1, 2).Validate() == nil {
		t.Error("Uniform(-1, 2) validates")
	}
}

func TestTopology(t *testing.T) {
	tp := TwoLevel(4, 2)
	if tp.Leaf(0) != 0 || tp.Leaf(3) != 0 || tp.Leaf(4) != 1 || tp.Leaves(9) != 3 {
		t.Errorf("leaves wrong: %d %d %d %d", tp.Leaf(0), tp.Leaf(3), tp.Leaf(4), tp.Leaves(9))
	}
	close(t, "uplink", tp.UplinkBandwidth(10), 4*10/2.0)
	var none *Topology
	if none.Leaf(7) != 0 || none.Leaves(100) != 1 || !math.IsInf(OneSwitch().UplinkBandwidth(1), 1) || none.Validate() != nil {
		t.Error("nil/one switch topology")
	}
	for _, bad := range []*Topology{TwoLevel(-1, 1), TwoLevel(2, 0), TwoLevel(2, -1), TwoLevel(2, math.Inf(1)), {Levels: -1}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestPeriodicScan: on uniform placements, visiting one period of
// groups (and the edges) finds the same maxima as visiting them all.
func TestPeriodicScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 3000 {
		nodes, ppn := 1+rng.IntN(300), 1+rng.IntN(12)
		if rng.IntN(4) == 0 {
			ppn = 1 << rng.IntN(5)
		}
		f := &Fabric{Inter: testInter()}
		g := 1
		if rng.IntN(2) == 0 {
			g = 1 + rng.IntN(40)
			f.Topology = TwoLevel(g, 2)
		}
		e, err := f.evaluator(Uniform(nodes, ppn))
		if err != nil {
			t.Fatal(err)
		}
		r := randomRound(rng, e.p)
		if r.pat == patXor && rng.IntN(2) == 0 { // small distances, where the scan matters
			r.d = 1 << rng.IntN(max(1, min(5, log2(r.m))))
			if r.d >= r.m {
				r.d = r.m / 2
			}
		}
		if r.m < 2 && r.pat != patShift && r.pat != patAll && r.pat != patHalo {
			continue
		}
		a1, b1, c1 := e.scan(&r, g)
		e.noPeriodic = true
		a2, b2, c2 := e.scan(&r, g)
		if a1 != a2 || b1 != b2 || c1 != c2 {
			t.Fatalf("case %d: %d×%d, groups of %d, round %+v: periodic %d %d %d, all %d %d %d",
				i, nodes, ppn, g, r, a1, b1, c1, a2, b2, c2)
		}
	}
}

func log2(n int) int {
	b := 0
	for n > 1 {
		n /= 2
		b++
	}
	return b
}

// FuzzCollectives: any input gives a finite, non-negative cost or an
// error wrapping ErrInvalid, never a panic.
func FuzzCollectives(f *testing.F) {
	f.Add(uint16(4), int8(2), int8(0), int64(1<<16), "auto", uint8(0), 2.0, 1e9)
	f.Add(uint16(7), int8(3), int8(1), int64(100), "ring", uint8(3), 4.0, 0.0)
	f.Add(uint16(0), int8(-1), int8(0), int64(-5), "bruck", uint8(1), math.NaN(), -1.0)
	f.Fuzz(func(t *testing.T, nodes uint16, ppn, jitter int8, n int64, alg string, npl uint8, over, link float64) {
		nodes %= 300
		rpn := make([]int, nodes)
		for i := range rpn {
			rpn[i] = int(ppn) + i%(1+int(jitter)&3)
		}
		pl := Placement{RanksPerNode: rpn}
		inter := testInter()
		inter.LinkBandwidth = link
		fab := &Fabric{Inter: inter}
		if npl > 0 {
			fab.Topology = TwoLevel(int(npl)-1, over)
		}
		n %= 1 << 24
		check := func(c Cost, err error) {
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if !(c.Seconds >= 0) || math.IsInf(c.Seconds, 0) || c.Steps < 0 || !(c.InterBytes >= 0) || !(c.IntraBytes >= 0) {
				t.Fatalf("cost %+v", c)
			}
		}
		a := Algorithm(alg)
		check(fab.Allreduce(pl, n, a))
		check(fab.Bcast(pl, n, a))
		check(fab.Barrier(pl, a))
		if pl.Ranks() <= 2000 {
			check(fab.Alltoall(pl, n, a))
		}
		check(fab.Allgather(pl, n, a))
		check(fab.HaloExchange(pl, Halo{FaceBytes: [3]int64{n, n / 2, -n}}))
	})
}

func TestCostBytes(t *testing.T) {
	f := &Fabric{Inter: testInter()}
	const n = 1 << 20
	c, err := f.Allreduce(Uniform(8, 1), n, AlgRing)
	if err != nil {
		t.Fatal(err)
	}
	close(t, "ring inter bytes", c.InterBytes, 2*7*float64(n)/8)
	close(t, "ring intra bytes", c.IntraBytes, 0)
	close(t, "no CPU cost", c.CPUSeconds, 0)
	slirp := testInter().With("slirp", Stage{Name: "slirp4netns", CPUPerByte: 2e-9})
	slirp.CPUPerByte = 1e-9
	c, err = (&Fabric{Inter: slirp}).Allreduce(Uniform(8, 1), n, AlgRing)
	if err != nil {
		t.Fatal(err)
	}
	close(t, "CPU seconds", c.CPUSeconds, 2*(2*7*float64(n)/8)*3e-9)
	// 4 nodes × 4 ranks, recursive doubling: distances 1 and 2 stay on
	// the node, 4 and 8 leave it.
	c, err = f.Allreduce(Uniform(4, 4), n, AlgRecursiveDoubling)
	if err != nil {
		t.Fatal(err)
	}
	close(t, "doubling inter bytes", c.InterBytes, 2*n)
	close(t, "doubling intra bytes", c.IntraBytes, 2*n)
	// Linear alltoall on 3 nodes × 2: a rank sends 4 messages off node
	// and 1 on it.
	c, err = f.Alltoall(Uniform(3, 2), 1000, AlgLinear)
	if err != nil {
		t.Fatal(err)
	}
	close(t, "alltoall inter bytes", c.InterBytes, 4000)
	close(t, "alltoall intra bytes", c.IntraBytes, 1000)
}

// TestPairwiseAlike: pricing the far shifts once gives what pricing
// every round gives.
func TestPairwiseAlike(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		pl := randomPlacement(rng)
		f := &Fabric{Inter: testInter()}
		if rng.IntN(2) == 0 {
			f.Topology = TwoLevel(1+rng.IntN(3), 2)
		}
		if f.Topology != nil && rng.IntN(2) == 0 {
			pl.Leaves = randomLeaves(rng, pl.Nodes())
		}
		got, err := f.Alltoall(pl, 5000, AlgPairwise)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := f.evaluator(pl)
		for k := 1; k < e.p; k++ {
			e.run(round{pat: patShift, d: k, m: e.p, bytes: 5000}, 1)
		}
		want := e.done()
		close(t, "pairwise seconds", got.Seconds, want.Seconds)
		close(t, "pairwise inter bytes", got.InterBytes, want.InterBytes)
		close(t, "pairwise intra bytes", got.IntraBytes, want.IntraBytes)
		if got.Steps != want.Steps {
			t.Fatalf("steps %d, want %d", got.Steps, want.Steps)
		}
	}
}

// randomLeaves puts runs of nodes on distinct leaves in random order.
func randomLeaves(rng *rand.Rand, nodes int) []int {
	leaves := make([]int, nodes)
	ids := rng.Perm(nodes + 5)
	run := 0
	for i := range leaves {
		if i > 0 && rng.IntN(3) == 0 {
			run++
		}
		leaves[i] = ids[run]
	}
	return leaves
}

func TestPlacementLeaves(t *testing.T) {
	f := &Fabric{Inter: flat("net", 5e-6, 1e9), Topology: TwoLevel(4, 4)} // uplinks 4·β/4 = β
	const n = 1 << 20
	// Four nodes with one rank each; recursive doubling exchanges with
	// distance 1 then 2. Without Leaves all four share leaf 0; placed
	// on leaves 7,7,3,3 the distance-2 round crosses leaves: two
	// messages share each uplink.
	pl := Uniform(4, 1)
	c1, err := f.Allreduce(pl, n, AlgRecursiveDoubling)
	if err != nil {
		t.Fatal(err)
	}
	pl.Leaves = []int{7, 7, 3, 3}
	c2, err := f.Allreduce(pl, n, AlgRecursiveDoubling)
	if err != nil {
		t.Fatal(err)
	}
	g := 1 / DefaultReduceRate
	close(t, "one leaf", c1.Seconds, 2*(5e-6+n/1e9+n*g))
	close(t, "two leaves", c2.Seconds, (5e-6+n/1e9+n*g)+(5e-6+2*n/1e9+n*g))
	for _, bad := range []struct {
		leaves []int
		field  string
	}{
		{[]int{0, 0, 1}, "leaves: 3 entries for 4 nodes"},
		{[]int{0, -1, 1, 1}, "leaves[1]"},
		{[]int{0, 1, 0, 2}, "leaves[2]: leaf 0 appears again"},
	} {
		pl.Leaves = bad.leaves
		_, err := f.Barrier(pl, AlgAuto)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("leaves %v: %v", bad.leaves, err)
		}
	}
}
