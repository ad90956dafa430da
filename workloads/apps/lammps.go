package apps

import (
	"fmt"
	"math"
	"slices"

	"github.com/convergesim/converge/network"
)

// LAMMPSInput is the geometry of the replicated data file: the ReaxFF
// HNS benchmark (examples/reaxff/HNS, data.hns-equil) has 304 atoms in
// a triclinic 22.326 × 11.1412 × 13.778966 Å cell with tilt factors
// (xy, xz, yz) = (0, −5.02603, 0) (the logs print all three), and its
// ghost cutoff is the 10 Å ReaxFF cutoff plus the 1 Å neighbour skin.
type LAMMPSInput struct {
	AtomsPerReplica int        `yaml:"atomsPerReplica"`
	Cell            [3]float64 `yaml:"cell"`
	Tilt            [3]float64 `yaml:"tilt"`
	GhostCutoff     float64    `yaml:"ghostCutoff"`
}

// HNS is the ReaxFF HNS benchmark's input.
var HNS = LAMMPSInput{AtomsPerReplica: 304, Cell: [3]float64{22.326, 11.1412, 13.778966}, Tilt: [3]float64{0, -5.02603, 0}, GhostCutoff: 11}

// LAMMPSParams are the costs of one LAMMPS ReaxFF build on one kind of
// core, fitted to measured runs.
type LAMMPSParams struct {
	Input LAMMPSInput `yaml:"input"`
	// PairPerAtom and PairPerGhost are the ReaxFF force computation
	// (pair reaxff with its neighbour-list builds) per step, seconds per
	// owned atom and per ghost atom of a rank (ReaxFF computes bond
	// orders over ghost atoms too).
	PairPerAtom  float64 `yaml:"pairPerAtom"`
	PairPerGhost float64 `yaml:"pairPerGhost"`
	// QEqPerAtom and QEqPerGhost are the charge equilibration's
	// computation per step (all its CG iterations), seconds per owned
	// and per ghost atom.
	QEqPerAtom  float64 `yaml:"qeqPerAtom"`
	QEqPerGhost float64 `yaml:"qeqPerGhost"`
	// QEqIterations is the CG iterations per step (both solves of fix
	// qeq/reaxff); each exchanges the ghost atoms' vector entries
	// forward and back (QEqBytesPerGhost) and calls MPI_Allreduce twice
	// on one double.
	QEqIterations    float64 `yaml:"qeqIterations"`
	QEqBytesPerGhost float64 `yaml:"qeqBytesPerGhost"`
	// CommBytesPerGhost is what the per-step forward communication
	// sends per ghost atom (positions and the ReaxFF per-atom data).
	CommBytesPerGhost float64 `yaml:"commBytesPerGhost"`
	// ThermoEvery is the thermo output interval (steps); each output
	// reduces the thermodynamic sums (MPI_Allreduce of ThermoBytes).
	ThermoEvery int     `yaml:"thermoEvery"`
	ThermoBytes float64 `yaml:"thermoBytes"`
	// SetupSeconds is the fixed start-up inside the program (MPI_Init,
	// reading and replicating the data file); SetupSteps is the setup's
	// force and charge computation, in steps.
	SetupSeconds float64 `yaml:"setupSeconds"`
	SetupSteps   float64 `yaml:"setupSteps"`
	// Launch is the launcher's time before the program starts and after
	// it ends (mpirun over ssh, flux run), seconds plus per node.
	Launch        float64 `yaml:"launch"`
	LaunchPerNode float64 `yaml:"launchPerNode"`
}

// Validate reports the first impossible parameter.
func (p *LAMMPSParams) Validate() error {
	if p.Input.AtomsPerReplica <= 0 {
		return &FieldError{"input.atomsPerReplica", fmt.Sprintf("%d must be positive", p.Input.AtomsPerReplica)}
	}
	if p.ThermoEvery < 0 {
		return &FieldError{"thermoEvery", fmt.Sprintf("%d must not be negative (0: no thermo output)", p.ThermoEvery)}
	}
	return checkAll(
		positive("input.cell[0]", p.Input.Cell[0]), positive("input.cell[1]", p.Input.Cell[1]), positive("input.cell[2]", p.Input.Cell[2]),
		positive("input.ghostCutoff", p.Input.GhostCutoff),
		nonNeg("pairPerAtom", p.PairPerAtom), nonNeg("pairPerGhost", p.PairPerGhost),
		nonNeg("qeqPerAtom", p.QEqPerAtom), nonNeg("qeqPerGhost", p.QEqPerGhost), nonNeg("qeqIterations", p.QEqIterations), nonNeg("qeqBytesPerGhost", p.QEqBytesPerGhost),
		nonNeg("commBytesPerGhost", p.CommBytesPerGhost), nonNeg("thermoBytes", p.ThermoBytes),
		nonNeg("setupSeconds", p.SetupSeconds), nonNeg("setupSteps", p.SetupSteps),
		nonNeg("launch", p.Launch), nonNeg("launchPerNode", p.LaunchPerNode),
	)
}

// LAMMPS is one run of the ReaxFF benchmark: the data file replicated
// Replicas[0] × Replicas[1] × Replicas[2] times (-v x -v y -v z), for
// Steps time steps.
type LAMMPS struct {
	Params   *LAMMPSParams
	Replicas [3]int
	Steps    int
}

// LAMMPSGeometry is what a rank owns: the process grid LAMMPS chooses,
// the atoms and ghost atoms of a rank, and the bytes of the ghost
// layer facing each neighbour.
type LAMMPSGeometry struct {
	Atoms     int
	Grid      [3]int
	Subdomain [3]float64 // Å
	Local     float64    // atoms per rank
	Ghost     float64    // ghost atoms per rank
	// FaceAtoms are the atoms a rank sends to one neighbour along x, y
	// and z (LAMMPS swaps x first, then y and z including the ghosts
	// just received, so later faces are larger).
	FaceAtoms [3]float64
	// Need is LAMMPS's swaps per direction along each dimension
	// (Comm::setup's maxneed = ⌊r_c·p/L⌋ + 1): a subdomain thinner than
	// the ghost cutoff takes its ghosts from several ranks in turn.
	// Dimensions of one process need no messages (0).
	Need [3]int
}

// ExtraSwaps is the swaps beyond one per direction, in units of a
// whole halo exchange's dimensions: Σ(need−1) over the dimensions cut
// into pieces, divided by their number.
func (g LAMMPSGeometry) ExtraSwaps() float64 {
	extra, dims := 0, 0
	for _, n := range g.Need {
		if n > 0 {
			extra += n - 1
			dims++
		}
	}
	if dims == 0 {
		return 0
	}
	return float64(extra) / float64(dims)
}

// Geometry computes the decomposition of the replicated box over ranks.
func (in LAMMPSInput) Geometry(replicas [3]int, ranks int) LAMMPSGeometry {
	var L [3]float64
	vol := 1.0
	atoms := in.AtomsPerReplica
	for i := range 3 {
		L[i] = float64(replicas[i]) * in.Cell[i]
		vol *= L[i]
		atoms *= replicas[i]
	}
	// replicate scales a tilt with the replicas of the dimension it
	// tilts along: xy with y, xz and yz with z.
	tilt := [3]float64{float64(replicas[1]) * in.Tilt[0], float64(replicas[2]) * in.Tilt[1], float64(replicas[2]) * in.Tilt[2]}
	g := LAMMPSGeometry{Atoms: atoms, Grid: LAMMPSGrid(ranks, L, tilt)}
	rho := float64(atoms) / vol
	var l [3]float64
	for i := range 3 {
		l[i] = L[i] / float64(g.Grid[i])
	}
	g.Subdomain = l
	rc := in.GhostCutoff
	g.Local = float64(atoms) / float64(ranks)
	g.Ghost = rho * ((l[0]+2*rc)*(l[1]+2*rc)*(l[2]+2*rc) - l[0]*l[1]*l[2])
	for i := range 3 {
		if g.Grid[i] > 1 {
			g.Need[i] = int(rc/l[i]) + 1
		}
	}
	g.FaceAtoms = [3]float64{
		rho * rc * l[1] * l[2],
		rho * rc * (l[0] + 2*rc) * l[2],
		rho * rc * (l[0] + 2*rc) * (l[1] + 2*rc),
	}
	return g
}

// LAMMPSGrid is the process grid LAMMPS's ProcMap::onelevel_grid picks
// for a box of lengths L and tilt factors (xy, xz, yz): of all
// factorisations px·py·pz = ranks (enumerated with px, then py
// ascending) the first with the smallest subdomain surface
// A_xy/(px·py) + A_xz/(px·pz) + A_yz/(py·pz), the face areas A being
// those of the triclinic box (ProcMap::best_factors: cross products of
// the edge vectors a = (L_x,0,0), b = (xy,L_y,0), c = (xz,yz,L_z)).
func LAMMPSGrid(ranks int, L, tilt [3]float64) [3]int {
	xy, xz, yz := tilt[0], tilt[1], tilt[2]
	axy := L[0] * L[1]
	axz := L[0] * math.Hypot(L[2], yz)
	ayz := math.Sqrt(L[1]*L[2]*L[1]*L[2] + xy*L[2]*xy*L[2] + (xy*yz-L[1]*xz)*(xy*yz-L[1]*xz))
	best := [3]int{ranks, 1, 1}
	bestSurf := math.Inf(1)
	divs := divisors(ranks)
	for _, i := range divs {
		nyz := ranks / i
		for _, j := range divs {
			if j > nyz {
				break
			}
			if nyz%j != 0 {
				continue
			}
			k := nyz / j
			fi, fj, fk := float64(i), float64(j), float64(k)
			surf := axy/(fi*fj) + axz/(fi*fk) + ayz/(fj*fk)
			if surf < bestSurf {
				best, bestSurf = [3]int{i, j, k}, surf
			}
		}
	}
	return best
}

// divisors lists n's divisors in ascending order.
func divisors(n int) []int {
	var lo, hi []int
	for d := 1; d*d <= n; d++ {
		if n%d == 0 {
			lo = append(lo, d)
			if d != n/d {
				hi = append(hi, n/d)
			}
		}
	}
	for i := len(hi) - 1; i >= 0; i-- {
		lo = append(lo, hi[i])
	}
	return lo
}

// halo maps per-dimension face bytes of the application's own grid
// onto the order of network.ProcessGrid (dimensions by decreasing
// process count): the dimension cut into the most pieces gets the
// first slot. An approximation when the two grids differ.
func halo(grid [3]int, face [3]float64) network.Halo {
	idx := []int{0, 1, 2}
	slices.SortStableFunc(idx, func(a, b int) int { return grid[b] - grid[a] })
	var h network.Halo
	for i, d := range idx {
		h.FaceBytes[i] = int64(math.Round(face[d]))
	}
	return h
}

// RunTime prices the run. Per step, on the rank with the most work:
//
//	pair  = PairPerAtom·N_local + PairPerGhost·N_ghost
//	qeq   = QEqPerAtom·N_local + QEqPerGhost·N_ghost + K·(2 halo exchanges of QEqBytesPerGhost per
//	        ghost face atom + 2 allreduces of 8 bytes)
//	comm  = a halo exchange of CommBytesPerGhost per ghost face atom
//	thermo = an allreduce of ThermoBytes every ThermoEvery steps
//
// with the atoms N = 304·x·y·z spread over the process grid LAMMPS
// picks, N_local = N/ranks and N_ghost the atoms within the ghost
// cutoff r_c of a subdomain of sides l: ρ·((l_x+2r_c)(l_y+2r_c)(l_z+2r_c)
// − l_x·l_y·l_z). Compute is divided by the node's core speed;
// communication is priced by the fabric on the placement. The steps
// and the setup (SetupSeconds + SetupSteps steps) run as one
// bulk-synchronous loop through Env.Contention; the launcher's time is
// added outside it.
func (m *LAMMPS) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	p := m.Params
	if p == nil {
		return Result{}, fmt.Errorf("%w: lammps: no parameters", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("lammps: %w", err)
	}
	for i, r := range m.Replicas {
		if r <= 0 {
			return Result{}, fmt.Errorf("%w: lammps: replicas[%d]: %d must be positive", ErrInvalid, i, r)
		}
	}
	if m.Steps < 0 {
		return Result{}, fmt.Errorf("%w: lammps: steps: %d must not be negative", ErrInvalid, m.Steps)
	}
	pl := env.Placement
	g := p.Input.Geometry(m.Replicas, pl.Ranks())
	speed := env.Node.speed()
	pair := (p.PairPerAtom*g.Local + p.PairPerGhost*g.Ghost) / speed
	qeqCompute := (p.QEqPerAtom*g.Local + p.QEqPerGhost*g.Ghost) / speed

	scale := func(b float64) [3]float64 {
		return [3]float64{g.FaceAtoms[0] * b, g.FaceAtoms[1] * b, g.FaceAtoms[2] * b}
	}
	// Extra swaps (subdomains thinner than the cutoff) cost a
	// dimension's message latency each: the halo exchange of empty
	// faces, over the dimensions.
	var swap network.Cost
	if extra := g.ExtraSwaps(); extra > 0 {
		h0, err := env.Fabric.HaloExchange(pl, network.Halo{})
		if err != nil {
			return Result{}, fmt.Errorf("lammps: halo: %w", err)
		}
		swap = network.Cost{Seconds: extra * h0.Seconds}
	}
	var qeq, step, thermo comm
	if p.QEqIterations > 0 {
		h, err := env.Fabric.HaloExchange(pl, halo(g.Grid, scale(p.QEqBytesPerGhost)))
		if err != nil {
			return Result{}, fmt.Errorf("lammps: qeq halo: %w", err)
		}
		ar, err := env.Fabric.Allreduce(pl, 8, network.AlgAuto)
		if err != nil {
			return Result{}, fmt.Errorf("lammps: qeq allreduce: %w", err)
		}
		qeq.add(h, 2*p.QEqIterations)
		qeq.add(swap, 2*p.QEqIterations)
		qeq.add(ar, 2*p.QEqIterations)
	}
	h, err := env.Fabric.HaloExchange(pl, halo(g.Grid, scale(p.CommBytesPerGhost)))
	if err != nil {
		return Result{}, fmt.Errorf("lammps: halo: %w", err)
	}
	step.add(h, 1)
	step.add(swap, 1)
	if p.ThermoEvery > 0 {
		ar, err := env.Fabric.Allreduce(pl, int64(p.ThermoBytes), network.AlgAuto)
		if err != nil {
			return Result{}, fmt.Errorf("lammps: thermo allreduce: %w", err)
		}
		thermo.add(ar, 1/float64(p.ThermoEvery))
	}
	perStep := pair + qeqCompute + qeq.seconds + step.seconds + thermo.seconds
	steps := float64(m.Steps)
	setup := p.SetupSeconds + p.SetupSteps*perStep
	loop := steps * perStep
	// One bulk-synchronous run: contention stretches it as a whole,
	// the phases keep their shares.
	w := Work{
		Seconds:    setup + loop,
		InterBytes: (steps + p.SetupSteps) * (qeq.interBytes + step.interBytes + thermo.interBytes),
		Syncs:      (steps + p.SetupSteps) * (qeq.syncs + step.syncs + thermo.syncs),

		NodeInterBytes: (steps + p.SetupSteps) * (qeq.nodeBytes + step.nodeBytes + thermo.nodeBytes),
	}
	t := env.Contention(w)
	f := 1.0
	if w.Seconds > 0 {
		f = t / w.Seconds
	}
	launch := p.Launch + p.LaunchPerNode*float64(pl.Nodes())
	res := Result{Seconds: launch + t}
	res.Phases = []Phase{
		{Name: "launch", Seconds: launch},
		{Name: "setup", Seconds: f * setup},
		{Name: "pair", Seconds: f * steps * pair},
		{Name: "qeq", Seconds: f * steps * (qeqCompute + qeq.seconds)},
		{Name: "comm", Seconds: f * steps * (step.seconds + thermo.seconds)},
	}
	return res, nil
}

// Loop is the time of the steps alone (LAMMPS's "Loop time"), from a
// RunTime result.
func (m *LAMMPS) Loop(r Result) float64 {
	s := 0.0
	for _, ph := range r.Phases {
		switch ph.Name {
		case "pair", "qeq", "comm":
			s += ph.Seconds
		}
	}
	return s
}
