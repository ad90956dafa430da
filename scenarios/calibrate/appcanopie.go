package calibrate

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/apps"
)

// CanopieArchives are the canopie22-scaling job archives by study.
var CanopieArchives = map[string]string{
	"amg_ranks_per_node": "amg_ranks_per_node/amg_ranks_per_node_study.tgz",
	"amg_efa":            "amg_scaling-efa/amg_scaling_efa.tgz",
	"amg_no_efa":         "amg_scaling-no_efa/amg_scaling_no_efa.tgz",
	"lammps":             "lammps_scaling/lammps_scaling.tgz",
	"qmcpack":            "qmcpack_scaling/qmcpack_scaling.tgz",
}

// CanopieGroup is the jobs of one study with the same ranks and pods
// (one pod per node in every canopie22 study).
type CanopieGroup struct {
	Study       string
	Ranks, Pods int
	Jobs        []CanopieJob
}

// ReadCanopie reads the named studies' archives under dir
// (canopie22-scaling) and groups their jobs.
func ReadCanopie(dir string, studies ...string) ([]*CanopieGroup, error) {
	var groups []*CanopieGroup
	for _, s := range studies {
		rel, ok := CanopieArchives[s]
		if !ok {
			return nil, fmt.Errorf("unknown canopie22 study %q", s)
		}
		jobs, err := ReadCanopieArchive(filepath.Join(dir, rel))
		if err != nil {
			return nil, err
		}
		byKey := map[[2]int]*CanopieGroup{}
		var mine []*CanopieGroup
		for _, j := range jobs {
			k := [2]int{j.Ranks, j.Pods}
			g := byKey[k]
			if g == nil {
				g = &CanopieGroup{Study: s, Ranks: j.Ranks, Pods: j.Pods}
				byKey[k] = g
				mine = append(mine, g)
			}
			g.Jobs = append(g.Jobs, j)
		}
		slices.SortFunc(mine, func(a, b *CanopieGroup) int {
			if a.Ranks != b.Ranks {
				return a.Ranks - b.Ranks
			}
			return a.Pods - b.Pods
		})
		groups = append(groups, mine...)
	}
	return groups, nil
}

func (g *CanopieGroup) name() string {
	return fmt.Sprintf("%s %d ranks on %d nodes", g.Study, g.Ranks, g.Pods)
}

func (g *CanopieGroup) values(f func(CanopieJob) (float64, bool)) []float64 {
	var out []float64
	for _, j := range g.Jobs {
		if v, ok := f(j); ok {
			out = append(out, v)
		}
	}
	return out
}

func runtimeOf(j CanopieJob) (float64, bool) { return j.Runtime, true }

func stageOf(name string) func(CanopieJob) (float64, bool) {
	return func(j CanopieJob) (float64, bool) {
		v, ok := j.Stages[name]
		return v, ok
	}
}

// groupCase is one measured quantity of a canopie22 group.
func (g *CanopieGroup) groupCase(kind string, measured []float64, weight float64, model func() (float64, apps.Result, error)) *AppCase {
	return &AppCase{Name: g.name() + " " + kind, Config: g.name(), Kind: kind, Series: g.Study + " " + kind, Nodes: g.Pods, Scale: float64(g.Pods),
		Measured: measured, Weight: weight, Model: model}
}

// memoRun evaluates m in env once per parameter state of s, and returns
// a Model for each measured quantity: the run time ("") or a phase.
func memoRun(s *AppSetup, rt Runtime, m apps.Model, env *apps.Env) func(value func(apps.Result) float64) func() (float64, apps.Result, error) {
	memo := s.memo()
	return func(value func(apps.Result) float64) func() (float64, apps.Result, error) {
		return func() (float64, apps.Result, error) {
			r, err := memo.run(func() (apps.Result, error) { return rt.run(m, env) })
			return value(r), r, err
		}
	}
}

func seconds(r apps.Result) float64 { return r.Seconds }

func phaseOf(name string) func(apps.Result) float64 {
	return func(r apps.Result) float64 { return phase(r, name) }
}

// AMGCases are the canopie22 AMG studies: the MPIJob runtime of every
// group (weight 1) and the generate, setup and solve times and the
// iteration count AMG prints (PhaseWeight). runtimes maps a study to
// its runtime (EFA or not).
func AMGCases(s *AppSetup, groups []*CanopieGroup, runtimes map[string]Runtime) ([]*AppCase, error) {
	fit := s.Fit
	p, ok := fit.Parameters.(*apps.AMGParams)
	if !ok {
		return nil, fmt.Errorf("fit %s: not AMG parameters", fit.Name)
	}
	var cases []*AppCase
	for _, g := range groups {
		rt, ok := runtimes[g.Study]
		if !ok {
			return nil, fmt.Errorf("no runtime for study %q", g.Study)
		}
		n, ok1 := traces.Flag3(g.Jobs[0].Command, "-n")
		grid, ok2 := traces.Flag3(g.Jobs[0].Command, "-P")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: no -n or -P in %q", g.Jobs[0].File, g.Jobs[0].Command)
		}
		if g.Ranks%g.Pods != 0 {
			return nil, fmt.Errorf("%s: %d ranks do not divide over %d pods", g.name(), g.Ranks, g.Pods)
		}
		m := &apps.AMG{Params: p, N: n, P: grid}
		env := rt.env(fit.Node, g.Pods, g.Ranks/g.Pods)
		rows := float64(n[0]*n[1]*n[2]) * float64(g.Ranks)
		run := memoRun(s, rt, m, env)
		cases = append(cases, g.groupCase("runtime", g.values(runtimeOf), 0, run(seconds)))
		for _, st := range []string{"generate", "setup", "solve"} {
			cases = append(cases, g.groupCase(st, g.values(stageOf(st)), PhaseWeight, run(phaseOf(st))))
		}
		cases = append(cases, g.groupCase("iterations", g.values(stageOf("iterations")), PhaseWeight,
			func() (float64, apps.Result, error) { return p.PredictIterations(rows), apps.Result{}, nil }))
	}
	return cases, nil
}

// CanopieLAMMPSCases are the canopie22 LAMMPS strong-scaling runs
// (-v x 64 -v y 16 -v z 16, 100 steps, 94 ranks a node): MPIJob
// runtime (weight 1) and LAMMPS's loop time (PhaseWeight).
func CanopieLAMMPSCases(s *AppSetup, groups []*CanopieGroup, rt Runtime) ([]*AppCase, error) {
	fit := s.Fit
	p, ok := fit.Parameters.(*apps.LAMMPSParams)
	if !ok {
		return nil, fmt.Errorf("fit %s: not LAMMPS parameters", fit.Name)
	}
	var cases []*AppCase
	for _, g := range groups {
		m := &apps.LAMMPS{Params: p, Replicas: [3]int{64, 16, 16}, Steps: 100}
		env := rt.env(fit.Node, g.Pods, g.Ranks/g.Pods)
		run := memoRun(s, rt, m, env)
		cases = append(cases,
			g.groupCase("runtime", g.values(runtimeOf), 0, run(seconds)),
			g.groupCase("loop", g.values(stageOf("loop")), PhaseWeight, run(m.Loop)))
	}
	return cases, nil
}

// CanopieQMCPACKSections are the driver sections of the canopie22
// QMCPACK input (NiO-fcc-S8-dmc-strongscale.xml): two VMC sections and
// a DMC of 10 blocks of 5 steps, as the log prints them. The log does
// not print the VMC sections' blocks and steps; they are taken as one
// block of 5 steps each (an assumption; the fitted per-step costs
// absorb it).
var CanopieQMCPACKSections = []apps.QMCSection{
	{Name: "vmc1", Blocks: 1, Steps: 5},
	{Name: "vmc2", Blocks: 1, Steps: 5},
	{Name: "dmc", Blocks: 10, Steps: 5, DMC: true},
}

// CanopieQMCPACKCases are the canopie22 QMCPACK runs (1504 walkers, 94
// ranks a node): MPIJob runtime (weight 1) and the DMC section's time
// (PhaseWeight).
func CanopieQMCPACKCases(s *AppSetup, groups []*CanopieGroup, rt Runtime) ([]*AppCase, error) {
	fit := s.Fit
	p, ok := fit.Parameters.(*apps.QMCPACKParams)
	if !ok {
		return nil, fmt.Errorf("fit %s: not QMCPACK parameters", fit.Name)
	}
	var cases []*AppCase
	for _, g := range groups {
		m := &apps.QMCPACK{Params: p, Walkers: 1504, Sections: CanopieQMCPACKSections}
		env := rt.env(fit.Node, g.Pods, g.Ranks/g.Pods)
		run := memoRun(s, rt, m, env)
		cases = append(cases,
			g.groupCase("runtime", g.values(runtimeOf), 0, run(seconds)),
			g.groupCase("dmc", g.values(stageOf("qmc3")), PhaseWeight, run(phaseOf("dmc"))))
	}
	return cases, nil
}
