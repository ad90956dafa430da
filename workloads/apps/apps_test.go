package apps

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
)

// instant is a transport that costs nothing, so that a model's compute
// can be checked against its formula alone.
func instant() *network.Fabric {
	free := &network.Profile{Name: "free", Bands: []network.Band{{Latency: 0, Bandwidth: 1e300}}}
	return &network.Fabric{Inter: free, Intra: free, ReduceRate: 1e300}
}

// slow is a transport where every message costs latency lat between
// nodes and nothing within a node.
func slow(lat float64) *network.Fabric {
	free := &network.Profile{Name: "free", Bands: []network.Band{{Latency: 0, Bandwidth: 1e300}}}
	inter := &network.Profile{Name: "slow", Bands: []network.Band{{Latency: lat, Bandwidth: 1e300}}}
	return &network.Fabric{Inter: inter, Intra: free, ReduceRate: 1e300}
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+1e-15
}

func TestContention(t *testing.T) {
	node := Node{Cores: 16, MemoryBandwidth: 100}
	base := func() *Env {
		return &Env{Fabric: instant(), Placement: network.Uniform(4, 16), Node: node}
	}
	const t0 = 10.0
	cases := []struct {
		name string
		env  func() *Env
		w    Work
		want float64
	}{
		{"idle cores", func() *Env { e := base(); e.Placement = network.Uniform(4, 8); return e }, Work{Seconds: t0}, t0},
		{"full node, nothing else", base, Work{Seconds: t0}, t0},
		{"quota above the ranks", func() *Env { e := base(); e.CPUQuota = 32; return e }, Work{Seconds: t0}, t0},
		{"one core of daemons", func() *Env { e := base(); e.BackgroundLoad = 1; return e }, Work{Seconds: t0}, t0 * 16 / 15},
		{"daemons on idle cores", func() *Env {
			e := base()
			e.Placement, e.BackgroundLoad = network.Uniform(4, 8), 4
			return e
		}, Work{Seconds: t0}, t0},
		{"network stack CPU", func() *Env {
			e := base()
			e.Fabric.Inter = e.Fabric.Inter.With("slirp", network.Stage{Name: "slirp4netns", CPUPerByte: 1e-9})
			return e
		}, Work{Seconds: t0, InterBytes: 1e9}, (t0*16 + 2*16*1e9*1e-9) / 16},
		{"uneven placement: the busiest node", func() *Env {
			e := base()
			e.Placement = network.Placement{RanksPerNode: []int{8, 20}}
			return e
		}, Work{Seconds: t0}, t0 * 20 / 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.env().Contention(c.w); !near(got, c.want, 1e-12) {
				t.Errorf("got %.9g s, want %.9g s", got, c.want)
			}
		})
	}
}

func TestContentionNoise(t *testing.T) {
	e := &Env{Fabric: instant(), Placement: network.Uniform(4, 16), Node: Node{Cores: 16, MemoryBandwidth: 100},
		BackgroundLoad: 0.5, BackgroundBurst: 1e-3}
	w := Work{Seconds: 10, Syncs: 1000}
	avg := 10 * 16 / 15.5
	tau := avg / 1000
	want := avg * (1 + (1e-3/tau)*(1-math.Exp(-4*0.5*tau/1e-3)))
	if got := e.Contention(w); !near(got, want, 1e-12) {
		t.Errorf("got %.9g, want %.9g", got, want)
	}
	// Rare bursts: every node's bursts add up (N·e).
	e.BackgroundLoad, e.BackgroundBurst = 1e-4, 1e-6
	avg = 10 * 16 / (16 - 1e-4)
	if got, lin := e.Contention(w), avg*(1+4*1e-4); !near(got, lin, 1e-3) {
		t.Errorf("rare bursts: got %.9g, want about %.9g", got, lin)
	}
	// No synchronisation, no amplification.
	w.Syncs = 0
	if got := e.Contention(w); !near(got, avg, 1e-12) {
		t.Errorf("no syncs: got %.9g, want %.9g", got, avg)
	}
	// Idle cores absorb the bursts.
	e.Placement = network.Uniform(4, 8)
	w.Syncs = 1000
	if got := e.Contention(w); got != 10 {
		t.Errorf("idle cores: got %.9g, want 10", got)
	}
}

func TestLAMMPSGridMatchesLAMMPS(t *testing.T) {
	// The grids LAMMPS printed in the logs of ../shared/data
	// (flux-usernetes-aws: x 16 y 16 z 8 on 64 procs; canopie22: x 64
	// y 16 z 16 on 3008 procs).
	box := func(x, y, z int) [2][3]float64 {
		return [2][3]float64{
			{float64(x) * HNS.Cell[0], float64(y) * HNS.Cell[1], float64(z) * HNS.Cell[2]},
			{float64(y) * HNS.Tilt[0], float64(z) * HNS.Tilt[1], float64(z) * HNS.Tilt[2]},
		}
	}
	for _, c := range []struct {
		ranks int
		L     [2][3]float64
		want  [3]int
	}{
		{64, box(16, 16, 8), [3]int{8, 4, 2}},
		{3008, box(64, 16, 16), [3]int{47, 8, 8}},
		{64, box(1, 1, 1), [3]int{4, 4, 4}},
	} {
		if got := LAMMPSGrid(c.ranks, c.L[0], c.L[1]); got != c.want {
			t.Errorf("%d ranks on %v: grid %v, want %v", c.ranks, c.L, got, c.want)
		}
	}
}

func TestLAMMPSGeometryMatchesLogs(t *testing.T) {
	// Atoms and average ghost atoms per rank as the logs print them.
	for _, c := range []struct {
		rep   [3]int
		ranks int
		atoms int
		ghost float64
	}{
		{[3]int{16, 16, 8}, 64, 622592, 21052.9},
		{[3]int{64, 16, 16}, 3008, 4980736, 8749.49},
	} {
		g := HNS.Geometry(c.rep, c.ranks)
		if g.Atoms != c.atoms {
			t.Errorf("%v: %d atoms, want %d", c.rep, g.Atoms, c.atoms)
		}
		// The model ignores the triclinic tilt; within 5%.
		if !near(g.Ghost, c.ghost, 0.05) {
			t.Errorf("%v on %d: %.0f ghosts, the log says %.0f", c.rep, c.ranks, g.Ghost, c.ghost)
		}
	}
}

func lammpsParams() *LAMMPSParams {
	return &LAMMPSParams{Input: HNS, PairPerAtom: 4e-5, PairPerGhost: 3e-6, QEqPerAtom: 2e-5, QEqPerGhost: 4e-6,
		QEqIterations: 30, QEqBytesPerGhost: 8, CommBytesPerGhost: 48, ThermoEvery: 10, ThermoBytes: 64,
		SetupSeconds: 0.5, SetupSteps: 2, Launch: 3, LaunchPerNode: 0.1}
}

func TestLAMMPSComputeFormula(t *testing.T) {
	p := lammpsParams()
	m := &LAMMPS{Params: p, Replicas: [3]int{16, 16, 8}, Steps: 100}
	env := &Env{Fabric: instant(), Placement: network.Uniform(4, 16), Node: Node{Cores: 16, MemoryBandwidth: 250, Speed: 2}}
	res, err := m.RunTime(env)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: 622592 atoms on an 8 × 4 × 2 grid of a 357.216 ×
	// 178.2592 × 110.231728 Å box, ghost shell 11 Å thick.
	L := [3]float64{16 * 22.326, 16 * 11.1412, 8 * 13.778966}
	l := [3]float64{L[0] / 8, L[1] / 4, L[2] / 2}
	rho := 622592 / (L[0] * L[1] * L[2])
	local := 622592.0 / 64
	ghost := rho * ((l[0]+22)*(l[1]+22)*(l[2]+22) - l[0]*l[1]*l[2])
	step := (4e-5*local + 3e-6*ghost + 2e-5*local + 4e-6*ghost) / 2
	want := 3 + 0.1*4 + 0.5 + 2*step + 100*step
	if !near(res.Seconds, want, 1e-9) {
		t.Errorf("run time %.6f s, want %.6f s", res.Seconds, want)
	}
	if loop := m.Loop(res); !near(loop, 100*step, 1e-9) {
		t.Errorf("loop %.6f s, want %.6f s", loop, 100*step)
	}
	sum := 0.0
	for _, ph := range res.Phases {
		sum += ph.Seconds
	}
	if !near(sum, res.Seconds, 1e-12) {
		t.Errorf("phases add to %.6f, run time %.6f", sum, res.Seconds)
	}
}

func TestLAMMPSPlacementMatters(t *testing.T) {
	m := &LAMMPS{Params: lammpsParams(), Replicas: [3]int{16, 16, 8}, Steps: 100}
	run := func(nodes, perNode int) float64 {
		env := &Env{Fabric: slow(20e-6), Placement: network.Uniform(nodes, perNode), Node: Node{Cores: 16, MemoryBandwidth: 250}}
		r, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		return r.Seconds - (3 + 0.1*float64(nodes))
	}
	packed, spread := run(4, 16), run(8, 8)
	if !(spread > packed) {
		t.Errorf("64 ranks on 8 nodes (%.3f s) should take longer than on 4 (%.3f s): more messages cross nodes", spread, packed)
	}
	// Quota: 16 ranks in a pod limited to 8 cores. On one node the loop
	// runs about twice as long, give or take one CFS period (the launcher is
	// outside the quota); on four nodes throttled out of step, longer
	// than that (cfs.go).
	quota := func(nodes int) (free, throttled float64) {
		env := &Env{Fabric: instant(), Placement: network.Uniform(nodes, 16), Node: Node{Cores: 16, MemoryBandwidth: 250}}
		f, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		env.CPUQuota = 8
		q, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		launch := 3 + 0.1*float64(nodes)
		return f.Seconds - launch, q.Seconds - launch
	}
	// (The pod runs a − ℓ of each period: a = P·8/16, ℓ CFSWindowLoss.)
	a := DefaultCFSPeriod * 8 / 16
	if free, throttled := quota(1); math.Abs(throttled-2*free*a/(a-CFSWindowLoss)) > DefaultCFSPeriod {
		t.Errorf("one node: throttled %.4f s, want %.4f s within a period", throttled, 2*free*a/(a-CFSWindowLoss))
	}
	if free, throttled := quota(4); !(throttled > 2*free+DefaultCFSPeriod) {
		t.Errorf("four nodes: throttled %.4f s, want more than twice %.4f s", throttled, free)
	}
}

func amgParams() *AMGParams {
	return &AMGParams{
		Generate:    AMGStage{Compute: 4e-7, Bytes: 3000},
		Setup:       AMGStage{Compute: 3e-6, Bytes: 5000, Allreduces: 1000, Allgathers: 2, Halos: 100},
		Iteration:   AMGStage{Compute: 3.5e-7, Bytes: 3000, Allreduces: 2, Halos: 30},
		Startup:     AMGStage{Bytes: 8000},
		Iterations0: 23, IterationsPerDoubling: 1, ReferenceRows: 1e8,
		Launch: 1,
	}
}

func TestAMGMemoryBandwidth(t *testing.T) {
	p := amgParams()
	m := &AMG{Params: p, N: [3]int{188, 144, 128}, Iterations: 23}
	node := Node{Cores: 96, MemoryBandwidth: 320}
	run := func(nodes int) float64 {
		env := &Env{Fabric: instant(), Placement: network.Uniform(nodes, 144/nodes), Node: node}
		r, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		return r.Seconds
	}
	t2, t3, t6 := run(2), run(3), run(6)
	if !(t2 > t3 && t3 > t6) {
		t.Fatalf("144 ranks on 2/3/6 nodes: %.1f/%.1f/%.1f s, want decreasing", t2, t3, t6)
	}
	// With free communication the difference is the memory traffic of
	// 72 − 24 more ranks per node through the node's bandwidth.
	rows := 188.0 * 144 * 128
	bytes := p.Startup.Bytes + p.Generate.Bytes + p.Setup.Bytes + 23*p.Iteration.Bytes
	if got, want := t2-t6, rows*bytes*(72-24)/320e9; !near(got, want, 1e-9) {
		t.Errorf("2 vs 6 nodes: %.4f s apart, want %.4f s", got, want)
	}
	// A slower network costs more at 8 nodes than the free one.
	slowEnv := &Env{Fabric: slow(50e-6), Placement: network.Uniform(8, 24), Node: node}
	fastEnv := &Env{Fabric: instant(), Placement: network.Uniform(8, 24), Node: node}
	rs, err := m.RunTime(slowEnv)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := m.RunTime(fastEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !(rs.Seconds > rf.Seconds) {
		t.Errorf("TCP-like fabric %.2f s, free %.2f s", rs.Seconds, rf.Seconds)
	}
	if got := p.PredictIterations(4e8); !near(got, 25, 1e-12) {
		t.Errorf("iterations at 4× the reference rows: %g, want 25", got)
	}
}

func TestAMGProcessGridMustMatch(t *testing.T) {
	m := &AMG{Params: amgParams(), N: [3]int{10, 10, 10}, P: [3]int{2, 2, 2}}
	env := &Env{Fabric: instant(), Placement: network.Uniform(2, 3), Node: Node{Cores: 8, MemoryBandwidth: 10}}
	if _, err := m.RunTime(env); !errors.Is(err, ErrInvalid) {
		t.Errorf("8-rank grid on 6 ranks: %v", err)
	}
}

func TestQMCPACKFormula(t *testing.T) {
	p := &QMCPACKParams{InitSeconds: 40, StepSeconds: 1.5, WalkerStepSeconds: 0.2, Launch: 20, LaunchPerNode: 0.5}
	m := &QMCPACK{Params: p, Walkers: 1000, Sections: []QMCSection{{Name: "vmc", Blocks: 2, Steps: 10}, {Name: "dmc", Blocks: 10, Steps: 5, DMC: true}}}
	env := &Env{Fabric: instant(), Placement: network.Uniform(4, 94), Node: Node{Cores: 96, MemoryBandwidth: 320}}
	r, err := m.RunTime(env)
	if err != nil {
		t.Fatal(err)
	}
	walkers := math.Ceil(1000.0 / 376)
	want := 20 + 0.5*4 + 40 + 70*(1.5+walkers*0.2)
	if !near(r.Seconds, want, 1e-9) {
		t.Errorf("run time %.4f s, want %.4f s", r.Seconds, want)
	}
}

func TestTrainingOverlap(t *testing.T) {
	p := &TrainingParams{SampleSeconds: 0.01, GradientBytes: 100e6, Algorithm: "ring"}
	m := &Training{Params: p, GlobalBatch: 256, Steps: 10}
	fab := slow(10e-6)
	env := &Env{Fabric: fab, Placement: network.Uniform(4, 8), Node: Node{Cores: 8, MemoryBandwidth: 100}}
	ar, err := fab.Allreduce(env.Placement, 100e6, network.AlgRing)
	if err != nil {
		t.Fatal(err)
	}
	compute := 256.0 / 32 * 0.01
	for _, o := range []float64{0, 0.5, 1} {
		p.Overlap = o
		r, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		want := 10 * (compute + ar.Seconds - min(o*ar.Seconds, compute))
		if !near(r.Seconds, want, 1e-9) {
			t.Errorf("overlap %g: %.6f s, want %.6f s", o, r.Seconds, want)
		}
	}
}

func TestPatternFormula(t *testing.T) {
	p := &PatternParams{Iterations: 50, Phases: []PatternPhase{
		{Name: "stream", Compute: 0.01, MemoryBytes: 1e9},
		{Name: "reduce", AllreduceBytes: 8, Barrier: true, HaloBytes: [3]int64{1024, 1024, 1024}, AlltoallBytes: 64, AllgatherBytes: 8, BcastBytes: 1024},
	}}
	m := &Pattern{Params: p}
	env := &Env{Fabric: instant(), Placement: network.Uniform(2, 16), Node: Node{Cores: 16, MemoryBandwidth: 100, Speed: 0.5}}
	r, err := m.RunTime(env)
	if err != nil {
		t.Fatal(err)
	}
	if want := 50 * (0.01/0.5 + 1e9*16/100e9); !near(r.Seconds, want, 1e-9) {
		t.Errorf("free fabric: %.6f s, want %.6f s", r.Seconds, want)
	}
	env.Fabric = slow(5e-6)
	r2, err := m.RunTime(env)
	if err != nil {
		t.Fatal(err)
	}
	if !(r2.Seconds > r.Seconds) || len(r2.Phases) != 2 {
		t.Errorf("slow fabric: %+v", r2)
	}
}

func TestFixed(t *testing.T) {
	m := &Fixed{Params: &FixedParams{Seconds: 42}}
	env := &Env{Fabric: instant(), Placement: network.Uniform(3, 1), Node: Node{Cores: 1, MemoryBandwidth: 1}}
	r, err := m.RunTime(env)
	if err != nil || r.Seconds != 42 {
		t.Errorf("fixed: %+v, %v", r, err)
	}
}

func TestInvalid(t *testing.T) {
	good := func() *Env {
		return &Env{Fabric: instant(), Placement: network.Uniform(2, 4), Node: Node{Cores: 4, MemoryBandwidth: 10}}
	}
	bad := []struct {
		name string
		env  func() *Env
		want string
	}{
		{"no fabric", func() *Env { e := good(); e.Fabric = nil; return e }, "fabric"},
		{"no nodes", func() *Env { e := good(); e.Placement = network.Placement{}; return e }, "ranksPerNode"},
		{"no cores", func() *Env { e := good(); e.Node.Cores = 0; return e }, "cores"},
		{"negative quota", func() *Env { e := good(); e.CPUQuota = -1; return e }, "cpuQuota"},
		{"daemons take the node", func() *Env { e := good(); e.BackgroundLoad = 4; return e }, "backgroundLoad"},
		{"pods per node length", func() *Env { e := good(); e.PodsPerNode = []int{1}; return e }, "podsPerNode"},
	}
	m := &Fixed{Params: &FixedParams{Seconds: 1}}
	for _, c := range bad {
		_, err := m.RunTime(c.env())
		if !errors.Is(err, network.ErrInvalid) && !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid-input error naming %s", c.name, err, c.want)
		}
	}
	if _, err := NewParams("gromacs"); err == nil || !strings.Contains(err.Error(), "lammps") {
		t.Errorf("unknown app: %v, want the valid names listed", err)
	}
	p := lammpsParams()
	p.PairPerAtom = -1
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "pairPerAtom") {
		t.Errorf("negative pairPerAtom: %v", err)
	}
	if _, err := (&LAMMPS{Params: lammpsParams(), Replicas: [3]int{0, 1, 1}, Steps: 1}).RunTime(good()); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero replicas: %v", err)
	}
}

func TestLAMMPSGridIsExhaustive(t *testing.T) {
	// Brute force over every factorisation for small counts and boxes.
	for ranks := 1; ranks <= 200; ranks++ {
		for _, L := range [][3]float64{{10, 20, 30}, {300, 20, 30}, {22.326, 11.1412, 13.778966}} {
			best, bestSurf := [3]int{}, math.Inf(1)
			for i := 1; i <= ranks; i++ {
				for j := 1; j <= ranks; j++ {
					if ranks%(i*j) != 0 {
						continue
					}
					k := ranks / (i * j)
					s := L[0]*L[1]/float64(i*j) + L[0]*L[2]/float64(i*k) + L[1]*L[2]/float64(j*k)
					if s < bestSurf {
						best, bestSurf = [3]int{i, j, k}, s
					}
				}
			}
			if got := LAMMPSGrid(ranks, L, [3]float64{}); got != best {
				t.Fatalf("%d ranks on %v: %v, brute force %v", ranks, L, got, best)
			}
		}
	}
}

// TestRegistry: every model a file or scenario can name is registered
// with its parameters and job shape, and its job shape builds a model
// of its own parameters' type.
func TestRegistry(t *testing.T) {
	if !slices.IsSorted(Names) || len(Names) < 6 {
		t.Fatalf("Names = %v", Names)
	}
	for _, name := range Names {
		a, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewParams(name)
		if err != nil || p == nil {
			t.Fatalf("%s: NewParams: %v", name, err)
		}
		if _, err := a.Job().Model(p, 4); err != nil {
			t.Errorf("%s: a job shape refuses its own parameters: %v", name, err)
		}
		other := &FixedParams{}
		if name != "fixed" {
			if _, err := a.Job().Model(other, 4); err == nil {
				t.Errorf("%s: a job shape accepts another model's parameters", name)
			}
		}
	}
	if _, err := Lookup("gromacs"); err == nil || !strings.Contains(err.Error(), "valid apps: amg") {
		t.Errorf("unknown app: %v", err)
	}
}
