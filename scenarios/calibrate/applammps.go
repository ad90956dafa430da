package calibrate

import (
	"fmt"
	"slices"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/apps"
)

// Runtime is one environment of a data set as the app models see it:
// the inter-node transport and the node's background load.
type Runtime struct {
	Name  string
	Inter *network.Profile
	// Background is the fitted daemon load of the environment (nil:
	// none).
	Background *apps.Background
}

// env builds the model environment for nodes × perNode ranks.
func (rt Runtime) env(node apps.Node, nodes, perNode int) *apps.Env {
	return &apps.Env{
		Fabric:    &network.Fabric{Inter: rt.Inter},
		Placement: network.Uniform(nodes, perNode),
		Node:      node,
	}
}

// run evaluates m in env with the runtime's background load as it is
// now: the load is a fitted parameter, so it is read at every
// evaluation, not when the environment was built (the transport's
// bands are read through the Profile pointer the same way).
func (rt Runtime) run(m apps.Model, env *apps.Env) (apps.Result, error) {
	if rt.Background != nil {
		env.BackgroundLoad, env.BackgroundBurst = rt.Background.Load, rt.Background.Burst
	}
	return m.RunTime(env)
}

// FluxUsernetesCases groups the flux-usernetes-aws LAMMPS runs by
// environment and node count: one case for the loop time and one for
// the total wall time (whole seconds in the log, so the measurement is
// taken as the middle of its second, +0.5 s), and the logged Pair+Neigh
// and Modify times (PhaseWeight). The cases read s.Fit's parameters.
func FluxUsernetesCases(s *AppSetup, runs []traces.FluxUsernetesRun, runtimes map[string]Runtime) ([]*AppCase, error) {
	type key struct {
		env   string
		nodes int
	}
	groups := map[key][]traces.FluxUsernetesRun{}
	var keys []key
	for _, r := range runs {
		k := key{r.Env, r.Nodes}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.env != b.env {
			if a.env < b.env {
				return -1
			}
			return 1
		}
		return a.nodes - b.nodes
	})
	fit := s.Fit
	p, ok := fit.Parameters.(*apps.LAMMPSParams)
	if !ok {
		return nil, fmt.Errorf("fit %s: not LAMMPS parameters", fit.Name)
	}
	var cases []*AppCase
	for _, k := range keys {
		rt, ok := runtimes[k.env]
		if !ok {
			return nil, fmt.Errorf("no runtime for environment %q", k.env)
		}
		g := groups[k]
		l0 := g[0].Log
		perNode := l0.Procs / k.nodes
		var loops, walls, pairs, qeqs []float64
		for _, r := range g {
			loops = append(loops, r.Log.Loop)
			if r.Log.Wall >= 0 {
				walls = append(walls, r.Log.Wall+0.5)
			}
			pairs = append(pairs, r.Log.Sections["Pair"]+r.Log.Sections["Neigh"])
			qeqs = append(qeqs, r.Log.Sections["Modify"])
		}
		rep, err := replicasFor(p.Input, l0.Atoms)
		if err != nil {
			return nil, err
		}
		m := &apps.LAMMPS{Params: p, Replicas: rep, Steps: l0.Steps}
		env := rt.env(fit.Node, k.nodes, perNode)
		memo := s.memo()
		run := func() (apps.Result, error) { return memo.run(func() (apps.Result, error) { return rt.run(m, env) }) }
		config := fmt.Sprintf("%s %d nodes", k.env, k.nodes)
		c := func(kind string, measured []float64, weight float64, value func(apps.Result) float64) *AppCase {
			return &AppCase{Name: config + " " + kind, Config: config, Kind: kind, Series: k.env + " " + kind, Nodes: k.nodes, Scale: float64(k.nodes),
				Measured: measured, Weight: weight, Model: func() (float64, apps.Result, error) {
					r, err := run()
					return value(r), r, err
				}}
		}
		cases = append(cases,
			c("loop", loops, 0, m.Loop),
			c("wall", walls, 0, func(r apps.Result) float64 { return r.Seconds - phase(r, "launch") }),
			// The breakdown keeps the split between the force field and
			// the charge equilibration honest (LAMMPS's Pair + Neigh
			// against the model's pair, Modify against qeq); weighted
			// lower than the times themselves.
			c("pair+neigh", pairs, PhaseWeight, func(r apps.Result) float64 { return phase(r, "pair") }),
			c("modify (qeq)", qeqs, PhaseWeight, func(r apps.Result) float64 { return phase(r, "qeq") }))
	}
	return cases, nil
}

// replicasFor is the flux-usernetes-aws problem, -v x 16 -v y 16 -v z
// 8, checked against the atoms the log reports.
func replicasFor(in apps.LAMMPSInput, atoms int) ([3]int, error) {
	rep := [3]int{16, 16, 8}
	if want := in.AtomsPerReplica * 16 * 16 * 8; atoms != want {
		return rep, fmt.Errorf("log has %d atoms, -v x 16 -v y 16 -v z 8 of %d-atom replicas is %d", atoms, in.AtomsPerReplica, want)
	}
	return rep, nil
}

func phase(r apps.Result, name string) float64 {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.Seconds
		}
	}
	return 0
}

// StreamMLCases are the lammps-stream-ml test runs, one case per run:
// flux run -N 6 --ntasks 48 (8 ranks on each 8-core VM), LAMMPS's
// "Total wall time" (whole seconds, taken as +0.5 s). Runs of the same
// x, y, z are one configuration.
func StreamMLCases(s *AppSetup, runs []traces.StreamMLRun, rt Runtime) ([]*AppCase, error) {
	fit := s.Fit
	p, ok := fit.Parameters.(*apps.LAMMPSParams)
	if !ok {
		return nil, fmt.Errorf("fit %s: not LAMMPS parameters", fit.Name)
	}
	env := rt.env(fit.Node, 6, 8)
	var cases []*AppCase
	for i, r := range runs {
		m := &apps.LAMMPS{Params: p, Replicas: [3]int{r.X, r.Y, r.Z}, Steps: 100}
		memo := s.memo()
		cases = append(cases, &AppCase{
			Name:     fmt.Sprintf("run %3d x%d y%d z%d", i, r.X, r.Y, r.Z),
			Config:   fmt.Sprintf("x%d y%d z%d", r.X, r.Y, r.Z),
			Kind:     "wall",
			Series:   "wall",
			Nodes:    6,
			Scale:    float64(p.Input.AtomsPerReplica * r.X * r.Y * r.Z),
			Measured: []float64{float64(r.Wall) + 0.5},
			Model: func() (float64, apps.Result, error) {
				res, err := memo.run(func() (apps.Result, error) { return rt.run(m, env) })
				return res.Seconds - phase(res, "launch"), res, err
			},
		})
	}
	return cases, nil
}
