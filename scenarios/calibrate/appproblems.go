package calibrate

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/apps"
)

// Inputs are where a fit reads from: the measurements (../shared/data)
// and the transport profiles (scenarios/profiles).
type Inputs struct {
	Data     string
	Profiles string
	// Apps is scenarios/apps, for predictions that combine fits.
	Apps string

	// efa holds the EFA profiles read (or fitted) for a loaded problem,
	// so that its every Setup (a fold, a profile point) does not read
	// and parse them again; AppProblem.Load sets it.
	efa *efaCache
}

type efaCache struct {
	mu sync.Mutex
	m  map[string]efaEntry
}

type efaEntry struct {
	p   *network.Profile
	src string
}

// efaProfile is the hpc7g EFA transport of one flux-usernetes-aws
// environment (bare-metal, usernetes): the profile file make fit-network
// wrote (aws-hpc7g-efa-<experiment>.yaml under in.Profiles), or, without
// it, network.FitProfile of the OSU latency and bandwidth CSVs. It
// returns the profile and where it came from.
func efaProfile(in Inputs, experiment string) (*network.Profile, string, error) {
	if c := in.efa; c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if e, ok := c.m[experiment]; ok {
			return e.p, e.src, nil
		}
		p, src, err := readEFAProfile(in, experiment)
		if err == nil {
			c.m[experiment] = efaEntry{p, src}
		}
		return p, src, err
	}
	return readEFAProfile(in, experiment)
}

// readEFAProfile reads the profile file of the experiment, or fits it to
// the OSU tables when the file is absent.
func readEFAProfile(in Inputs, experiment string) (*network.Profile, string, error) {
	file := filepath.Join(in.Profiles, "aws-hpc7g-efa-"+experiment+".yaml")
	p, _, err := network.ReadProfileFile(file)
	if err == nil {
		return p, "scenarios/profiles/aws-hpc7g-efa-" + experiment + ".yaml", nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	var fin network.FitInput
	for _, f := range []string{"osu-results-latency.csv", "osu-results-bandwidth.csv"} {
		p := filepath.Join(in.Data, "flux-usernetes-aws", "osu", f)
		data, err := limitio.ReadFile(p, limitio.Measurement, "OSU table")
		if err != nil {
			return nil, "", err
		}
		if err := AddNetworkMeasurement(&fin, p, data, experiment); err != nil {
			return nil, "", err
		}
	}
	fit, err := network.FitProfile("aws-hpc7g-efa-"+experiment, fin, network.FitOptions{})
	if err != nil {
		return nil, "", err
	}
	return &fit.Profile, "network.FitProfile of flux-usernetes-aws/osu/osu-results-{latency,bandwidth}.csv, experiment " + experiment, nil
}

// AppProblem is one fit of an application model to one data set: the
// untouched start values, the data, the knobs, how the data are split
// to measure prediction, the naive baselines, and the procedures.
type AppProblem struct {
	// Name is app/fit, as scenarios/apps/<app>.yaml names the fit.
	Name, App, FitName string
	// Title names the data set.
	Title string
	// Scheme describes the held-out split; Folds makes it.
	Scheme string
	Folds  func([]*AppCase) []Fold
	// Baselines are the naive predictors the model is compared with.
	Baselines []Baseline
	// Full is the procedure of `sim fit app` (and make calibrate); CI
	// the cheaper one the tests run (go test ./...).
	Full, CI FitOptions
	// Start returns the untouched start values: a priori, never fitted.
	Start func() *apps.Fit
	// ProfileKnobs are profiled over ProfileGrid × their fitted value
	// (make calibrate), with the Consequences that rest on them.
	ProfileKnobs []string
	Consequences func(in Inputs, fit *apps.Fit) ([]Consequence, error)

	load  func(in Inputs) (any, error)
	build func(data any, in Inputs, s *AppSetup) error
	files func(in Inputs) ([]apps.DataFile, error)
	notes func(in Inputs) (string, error)
}

// AppData is a problem with its data read.
type AppData struct {
	*AppProblem
	In   Inputs
	data any
}

// Load reads the problem's data under in.Data.
func (p *AppProblem) Load(in Inputs) (*AppData, error) {
	in.efa = &efaCache{m: map[string]efaEntry{}}
	d, err := p.load(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	return &AppData{AppProblem: p, In: in, data: d}, nil
}

// Setup builds the cases and knobs on fit (its parameters are what the
// cases read and the knobs move).
func (d *AppData) Setup(fit *apps.Fit) (*AppSetup, error) {
	if fit.Parameters == nil {
		return nil, fmt.Errorf("%s: fit %s has no parameters", d.Name, fit.Name)
	}
	s := &AppSetup{Fit: fit}
	if err := d.build(d.data, d.In, s); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	s.changed()
	return s, nil
}

// CrossValidate measures prediction: the procedure o run once per fold
// from the untouched start values.
func (d *AppData) CrossValidate(o FitOptions) (*CVResult, error) {
	return CrossValidate(d.Title, d.Scheme, func() (*AppSetup, error) { return d.Setup(d.Start()) }, d.Folds, d.Baselines, o)
}

// InSample evaluates a parameter set on every run of the data set: the
// run times' per-case errors and MAPE, and the phases'.
func (d *AppData) InSample(fit *apps.Fit) (InSample, error) {
	s, err := d.Setup(fit)
	if err != nil {
		return InSample{}, err
	}
	var r InSample
	var phases []*AppCase
	for _, c := range s.Cases {
		if !c.Primary() {
			phases = append(phases, c)
		}
	}
	if r.Errors, r.MAPE, err = Evaluate(primaryCases(s.Cases)); err != nil {
		return r, err
	}
	r.Runs = runs(primaryCases(s.Cases))
	r.Configs = configs(s.Cases)
	if len(phases) > 0 {
		if r.PhaseErrors, r.PhaseMAPE, err = Evaluate(phases); err != nil {
			return r, err
		}
	}
	return r, nil
}

func configs(cases []*AppCase) int {
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Config] = true
	}
	return len(seen)
}

// InSample is a parameter set's error on the runs it was fitted to.
type InSample struct {
	Errors, PhaseErrors []CaseError
	MAPE, PhaseMAPE     float64
	Runs, Configs       int
}

// Table formats the in-sample errors.
func (r InSample) Table(title string) string {
	s := fmt.Sprintf("%s (IN-SAMPLE: the runs the parameters were fitted to)\n%srun-time MAPE %.2f%% over %d runs of %d configurations",
		title, ErrorTable(r.Errors), r.MAPE, r.Runs, r.Configs)
	if len(r.PhaseErrors) > 0 {
		s += fmt.Sprintf("\nphases:\n%sphase MAPE %.2f%%", ErrorTable(r.PhaseErrors), r.PhaseMAPE)
	}
	return s + "\n"
}

// AppFitResult is a full fit: the parameters with provenance, its
// in-sample error, every start's outcome and the parameter spreads.
type AppFitResult struct {
	Fit      *apps.Fit
	InSample InSample
	Starts   []StartFit
	Best     int
	Spread   []apps.ParamSpread
	Knobs    []string
	// Profiles are the grid profiles of the problem's ProfileKnobs.
	Profiles map[string][]ProfileRow
}

// FitAll fits the untouched start values to every run with o and
// reports the spread of each parameter; the returned fit carries its
// provenance (cv, when given, is recorded as its held-out error).
func (d *AppData) FitAll(o FitOptions, command string, cv *CVResult) (*AppFitResult, error) {
	fit := d.Start()
	s, err := d.Setup(fit)
	if err != nil {
		return nil, err
	}
	starts, best, err := s.FitStarts(Objective(s.Cases), o)
	if err != nil {
		return nil, err
	}
	spread, err := s.Spread(Objective(s.Cases), starts, best, o)
	if err != nil {
		return nil, err
	}
	res := &AppFitResult{Fit: fit, Starts: starts, Best: best, Spread: spread, Profiles: map[string][]ProfileRow{}}
	for _, k := range s.Knobs {
		res.Knobs = append(res.Knobs, k.Name)
	}
	if o.Profile {
		// The profiled knobs: a point beyond a factor 2 that fits as well
		// widens the knob's range and means it is not identified.
		bestF := starts[best].Objective
		for _, name := range d.ProfileKnobs {
			j := slices.Index(res.Knobs, name)
			if j < 0 {
				return nil, fmt.Errorf("%s: no knob %q to profile", d.Name, name)
			}
			v := spread[j].Value
			var grid []float64
			for _, g := range ProfileGrid {
				grid = append(grid, g*v)
			}
			rows, err := d.ProfileKnob(fit, name, grid, o)
			if err != nil {
				return nil, err
			}
			res.Profiles[name] = rows
			lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
			for _, r := range rows {
				if r.Objective <= bestF*(1+o.FitTolerance()) && (r.Value < v/2 || r.Value > 2*v) {
					lo, hi, worst = min(lo, r.Value), max(hi, r.Value), max(worst, r.Objective/bestF-1)
				}
			}
			if lo <= hi {
				p := &spread[j]
				p.Min, p.Max, p.Identified = min(p.Min, lo), max(p.Max, hi), false
				p.Note = strings.TrimPrefix(p.Note+fmt.Sprintf("; profile: fixed anywhere in %.3g–%.3g it fits as well (objective within %+.1f%%)",
					min(lo, v), max(hi, v), 100*worst), "; ")
			}
		}
	}
	if res.InSample, err = d.InSample(fit); err != nil {
		return nil, err
	}
	files, err := d.files(d.In)
	if err != nil {
		return nil, err
	}
	notes, err := d.notes(d.In)
	if err != nil {
		return nil, err
	}
	var unid []string
	for _, p := range spread {
		if !p.Identified {
			unid = append(unid, p.Name)
		}
	}
	if len(unid) > 0 {
		notes += " Not identified by these data (see parameters): " + strings.Join(unid, ", ") + "; a prediction that depends on them is only as good as their range."
	}
	mape := round2(res.InSample.MAPE)
	fit.Provenance = apps.Provenance{
		Data:              files,
		Command:           command,
		Method:            o.String() + "; objective: the mean absolute relative error over the runs (run times weight 1, the logged phase breakdowns weight 0.3)",
		InSampleMAPE:      &mape,
		Parameters:        roundSpread(spread),
		InSampleResiduals: Residuals(res.InSample.Errors),
		Notes:             notes,
	}
	if cv != nil {
		fit.Provenance.HeldOut = cv.HeldOut()
	}
	return res, nil
}

func roundSpread(ps []apps.ParamSpread) []apps.ParamSpread {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Value, out[i].Min, out[i].Max = round4(out[i].Value), round4(out[i].Min), round4(out[i].Max)
		out[i].Min, out[i].Max = min(out[i].Min, out[i].Value), max(out[i].Max, out[i].Value)
	}
	return out
}

// StartsTable lists every start's outcome (objective in percent).
func (r *AppFitResult) StartsTable() string {
	return startsTable(r.Knobs, r.Starts, r.Best, 11, func(o float64) string { return fmt.Sprintf("%9.3f%%", 100*o) })
}

// dataFile is one input of a fit with its SHA-256.
func dataFile(in Inputs, rel string) (apps.DataFile, error) {
	s, err := FileSHA256(filepath.Join(in.Data, rel))
	if err != nil {
		return apps.DataFile{}, err
	}
	return apps.DataFile{Path: rel, SHA256: s}, nil
}

func dataTree(in Inputs, rel, pattern string) (apps.DataFile, error) {
	s, n, err := TreeSHA256(filepath.Join(in.Data, rel), pattern)
	if err != nil {
		return apps.DataFile{}, err
	}
	return apps.DataFile{Path: fmt.Sprintf("%s/%s (%d files; SHA-256 of their sorted sha256sum lines)", rel, pattern, n), SHA256: s}, nil
}

func dataFiles(in Inputs, rels ...string) ([]apps.DataFile, error) {
	var out []apps.DataFile
	for _, r := range rels {
		f, err := dataFile(in, r)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// AppProblems are the fits of scenarios/apps, in file order.
func AppProblems() []*AppProblem {
	return []*AppProblem{lammpsHpc7g(), lammpsVM(), lammpsHpc6a(), amgHpc6a(), qmcpackHpc6a()}
}

// LookupAppProblem finds a problem by app/fit name.
func LookupAppProblem(name string) (*AppProblem, error) {
	var names []string
	for _, p := range AppProblems() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("unknown fit %q (valid: %s)", name, strings.Join(names, ", "))
}

// PhaseWeight is the weight of a phase-breakdown case in a fit,
// relative to a run time.
const PhaseWeight = 0.3

// The procedures. Full: eight starting points within a factor 10 of the
// untouched start values; the parameter spread comes from them and from
// a two-point profile of every parameter. CI: the untouched start
// values only, fewer evaluations (the held-out check of go test ./...).
func fullOptions(evals int) FitOptions {
	return FitOptions{Starts: 8, Evals: evals, Restarts: 2, Perturb: 1, Seed: 1, Profile: true, ProfileEvals: evals / 2}
}

func ciOptions(evals int) FitOptions {
	return FitOptions{Starts: 1, Evals: evals, Restarts: 1, Perturb: 1, Seed: 1}
}

// --- LAMMPS start values ---

// lammpsStart are a priori LAMMPS ReaxFF costs for any machine, round
// figures of the right order, not fitted: the force field a few tens of
// µs per owned atom and step on one core and a tenth of that per ghost
// atom, the charge equilibration of the same order, 20 CG iterations a
// step (two solves of about 10 at fix qeq/reaxff's 1e-6 tolerance), one
// second of fixed start-up and two steps of setup.
func lammpsStart() *apps.LAMMPSParams {
	return &apps.LAMMPSParams{Input: apps.HNS, PairPerAtom: 3e-5, PairPerGhost: 3e-6, QEqPerAtom: 3e-5, QEqPerGhost: 3e-6,
		QEqIterations: 20, QEqBytesPerGhost: 8, CommBytesPerGhost: 48, ThermoEvery: 10, ThermoBytes: 64, SetupSeconds: 1, SetupSteps: 2}
}

// startBackground is an a priori idle-daemon load: a hundredth of a
// core in bursts of a millisecond.
var startBackground = apps.Background{Load: 0.01, Burst: 1e-3}

// --- flux-usernetes-aws: LAMMPS on hpc7g, five environments ---

type fluxUsernetesData struct{ runs []traces.FluxUsernetesRun }

func lammpsHpc7g() *AppProblem {
	return &AppProblem{
		Name: "lammps/hpc7g-efa", App: "lammps", FitName: "hpc7g-efa",
		Title:     "flux-usernetes-aws LAMMPS (hpc7g, EFA, 5 environments)",
		Scheme:    "leave one node count out (4 folds: every environment at 4, 8, 16 or 32 nodes predicted from the other three counts)",
		Folds:     FoldsByNodes,
		Baselines: []Baseline{ConstantBaseline, PowerLawBaseline("nodes")},
		Full:      fullOptions(3000), CI: ciOptions(1500),
		ProfileKnobs: []string{"background.load", "background.burst", "qeqIterations"},
		Consequences: idleUsernetesConsequences,
		Start: func() *apps.Fit {
			bg := startBackground
			return &apps.Fit{
				Name:       "hpc7g-efa",
				Hardware:   "AWS hpc7g.4xlarge (Graviton3E, 16 cores, 128 GiB), EFA; LAMMPS 7 Feb 2024 (pair reaxff, fix qeq/reaxff), 16 ranks a node",
				Node:       apps.Node{Cores: 16, MemoryBandwidth: 250, Speed: 1},
				Parameters: lammpsStart(),
				Environments: []apps.Environment{
					{Name: "bare-metal", Network: "EFA, bare metal: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml"},
					{Name: "container", Network: "EFA, Singularity under Flux: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml"},
					{Name: "bare-metal-with-usernetes", Network: "EFA, bare metal: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml", Background: bg},
					{Name: "container-with-usernetes", Network: "EFA, Singularity under Flux: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml", Background: bg},
					{Name: "usernetes", Network: "EFA in Usernetes pods: scenarios/profiles/aws-hpc7g-efa-usernetes.yaml", Background: bg},
				},
			}
		},
		load: func(in Inputs) (any, error) {
			runs, err := traces.ReadFluxUsernetesLAMMPS(filepath.Join(in.Data, "flux-usernetes-aws"))
			if err != nil {
				return nil, err
			}
			if len(runs) != 400 {
				return nil, fmt.Errorf("flux-usernetes-aws: %d LAMMPS runs, want 400", len(runs))
			}
			return &fluxUsernetesData{runs}, nil
		},
		build: func(data any, in Inputs, s *AppSetup) error {
			bare, _, err := efaProfile(in, "bare-metal")
			if err != nil {
				return err
			}
			user, _, err := efaProfile(in, "usernetes")
			if err != nil {
				return err
			}
			// The three environments with Usernetes share one daemon
			// load: one pair of knobs on the usernetes environment,
			// copied into the other two (Sync).
			shared, err := s.Fit.Environment("usernetes")
			if err != nil {
				return err
			}
			rts := map[string]Runtime{}
			for i := range s.Fit.Environments {
				e := &s.Fit.Environments[i]
				inter := bare
				if e.Name == "usernetes" {
					inter = user
				}
				rt := Runtime{Name: e.Name, Inter: inter, Background: &e.Background}
				if strings.HasSuffix(e.Name, "usernetes") {
					rt.Background = &shared.Background
				}
				rts[e.Name] = rt
			}
			s.Sync = func() {
				for i := range s.Fit.Environments {
					if e := &s.Fit.Environments[i]; strings.HasSuffix(e.Name, "usernetes") {
						e.Background = shared.Background
					}
				}
			}
			p := s.Fit.Parameters.(*apps.LAMMPSParams)
			s.Knobs = []Knob{
				{"pairPerAtom", &p.PairPerAtom, 1e-7, 1e-3}, {"pairPerGhost", &p.PairPerGhost, 1e-9, 1e-3},
				{"qeqPerAtom", &p.QEqPerAtom, 1e-7, 1e-3}, {"qeqPerGhost", &p.QEqPerGhost, 1e-9, 1e-3},
				{"qeqIterations", &p.QEqIterations, 1, 400},
				{"setupSeconds", &p.SetupSeconds, 0.01, 30}, {"setupSteps", &p.SetupSteps, 0.01, 20},
				{"background.load", &shared.Background.Load, 1e-5, 1}, {"background.burst", &shared.Background.Burst, 1e-6, 1},
			}
			s.Cases, err = FluxUsernetesCases(s, data.(*fluxUsernetesData).runs, rts)
			return err
		},
		files: func(in Inputs) ([]apps.DataFile, error) {
			t, err := dataTree(in, "flux-usernetes-aws", "results-lammps/*/lammps-*.out")
			if err != nil {
				return nil, err
			}
			rest, err := dataFiles(in, "flux-usernetes-aws/osu/osu-results-latency.csv", "flux-usernetes-aws/osu/osu-results-bandwidth.csv")
			return append([]apps.DataFile{t}, rest...), err
		},
		notes: func(in Inputs) (string, error) {
			_, efaSrc, err := efaProfile(in, "bare-metal")
			if err != nil {
				return "", err
			}
			_, userSrc, err := efaProfile(in, "usernetes")
			if err != nil {
				return "", err
			}
			return "Run times: LAMMPS loop time and total wall time (whole seconds, +0.5 s) of every run (20 runs of each of 20 configurations: 5 environments × 4 node counts); " +
				"phases: Pair+Neigh and Modify of the MPI task timing breakdown. Transports: " + efaSrc + "; " + userSrc + ". The daemon load of " +
				"the three environments with Usernetes is one fitted background (load, burst). Launch is not in these times (LAMMPS timed " +
				"itself), so launch is 0. The node's memory bandwidth (250 GB/s: 8 channels of DDR5-4800, ~80% sustained) does not enter " +
				"the LAMMPS model.", nil
		},
	}
}

// --- lammps-stream-ml: LAMMPS on 6 × 8-core VMs over TCP ---

func lammpsVM() *AppProblem {
	return &AppProblem{
		Name: "lammps/vm8-tcp", App: "lammps", FitName: "vm8-tcp",
		Title:        "lammps-stream-ml LAMMPS (6 × 8-core VMs, TCP)",
		Scheme:       "10-fold by configuration (the x, y, z problem sizes sorted and dealt to 10 folds; every run of a size in one fold)",
		Folds:        KFoldsByConfig(10),
		Baselines:    []Baseline{ConstantBaseline, PowerLawBaseline("atoms")},
		Full:         fullOptions(2000),
		CI:           ciOptions(800),
		ProfileKnobs: []string{"pairPerAtom"},
		Consequences: vmUsernetesConsequences,
		Start: func() *apps.Fit {
			return &apps.Fit{
				Name:       "vm8-tcp",
				Hardware:   "7 on-premises VMs of 8 cores (6 used), Flux, LAMMPS 29 Sep 2021 (reaxff, qeq/reaxff) in Singularity, MPICH over TCP, 8 ranks a VM",
				Node:       apps.Node{Cores: 8, MemoryBandwidth: 20, Speed: 1},
				Parameters: func() *apps.LAMMPSParams { p := lammpsStart(); p.QEqIterations = 33; return p }(),
				// A priori TCP between VMs: 50 µs, 1 GB/s (10 GbE).
				Environments: []apps.Environment{{Name: "flux-vm-tcp", Network: "TCP between VMs, fitted with the app (no point-to-point data)",
					Profile: &network.Profile{Name: "vm-tcp", Bands: []network.Band{{Latency: 50e-6, Bandwidth: 1e9}}}}},
			}
		},
		load: func(in Inputs) (any, error) {
			return traces.ReadStreamMLFile(filepath.Join(in.Data, "lammps-stream-ml", "lammps-predict.json"))
		},
		build: func(data any, in Inputs, s *AppSetup) error {
			env, err := s.Fit.Environment("flux-vm-tcp")
			if err != nil {
				return err
			}
			if env.Profile == nil || len(env.Profile.Bands) == 0 {
				return fmt.Errorf("environment flux-vm-tcp has no profile")
			}
			p := s.Fit.Parameters.(*apps.LAMMPSParams)
			b := &env.Profile.Bands[len(env.Profile.Bands)-1]
			s.Knobs = []Knob{
				{"pairPerAtom", &p.PairPerAtom, 1e-7, 1e-3}, {"pairPerGhost", &p.PairPerGhost, 1e-9, 1e-3},
				{"qeqPerAtom", &p.QEqPerAtom, 1e-7, 1e-3}, {"qeqPerGhost", &p.QEqPerGhost, 1e-9, 1e-3},
				{"setupSeconds", &p.SetupSeconds, 0.01, 30},
				{"tcp.latency", &b.Latency, 5e-6, 1e-3}, {"tcp.bandwidth", &b.Bandwidth, 1e8, 1.25e10},
			}
			s.Cases, err = StreamMLCases(s, data.([]traces.StreamMLRun), Runtime{Name: env.Name, Inter: env.Profile, Background: &env.Background})
			return err
		},
		files: func(in Inputs) ([]apps.DataFile, error) {
			return dataFiles(in, "lammps-stream-ml/lammps-predict.json")
		},
		notes: func(Inputs) (string, error) {
			return "Run times: LAMMPS total wall time (whole seconds, +0.5 s) of the 250 test runs, 100 steps each (in.reaxc.hns), " +
				"flux run -N 6 --ntasks 48. The CG iterations are fixed at 33 (an assumption: the data cannot separate them from the " +
				"per-atom cost), the setup in steps and the bytes per ghost atom are the a priori start values; the VMs' TCP latency and " +
				"bandwidth are fitted here (no point-to-point data), as is the per-atom cost. Memory bandwidth (20 GB/s) is an assumption " +
				"and does not enter the LAMMPS model.", nil
		},
	}
}

// --- canopie22-scaling: AMG, LAMMPS, QMCPACK on hpc6a ---

const hpc6aHardware = "AWS hpc6a.48xlarge (2 × AMD EPYC 7R13, 96 cores, 384 GiB), EKS 1.21, MPI Operator, Open MPI with EFA; one pod a node"

var hpc6aNode = apps.Node{Cores: 96, MemoryBandwidth: 320, Speed: 1}

const hpc6aNotes = "hpc6a memory bandwidth 320 GB/s is an assumption (16 channels of DDR4-3200 = 409.6 GB/s peak, ~78% sustained); " +
	"it scales the fitted bytes per row, not the predictions. EFA on hpc6a has no point-to-point data: the hpc7g bare-metal " +
	"EFA profile (OSU, flux-usernetes-aws) stands in for it."

func readCanopie(in Inputs, studies ...string) (any, error) {
	return ReadCanopie(filepath.Join(in.Data, "canopie22-scaling"), studies...)
}

func canopieFiles(studies ...string) func(Inputs) ([]apps.DataFile, error) {
	return func(in Inputs) ([]apps.DataFile, error) {
		var rels []string
		for _, s := range studies {
			rels = append(rels, "canopie22-scaling/"+CanopieArchives[s])
		}
		return dataFiles(in, rels...)
	}
}

func lammpsHpc6a() *AppProblem {
	return &AppProblem{
		Name: "lammps/hpc6a-efa", App: "lammps", FitName: "hpc6a-efa",
		Title:     "canopie22 LAMMPS (hpc6a, EFA, 8/16/32 nodes)",
		Scheme:    "leave one node count out (3 folds: 8, 16 or 32 nodes predicted from the other two)",
		Folds:     FoldsByNodes,
		Baselines: []Baseline{ConstantBaseline, PowerLawBaseline("nodes")},
		Full:      fullOptions(2000), CI: ciOptions(1000),
		Start: func() *apps.Fit {
			p := lammpsStart()
			p.QEqIterations, p.Launch = 33, 1
			return &apps.Fit{
				Name:         "hpc6a-efa",
				Hardware:     hpc6aHardware + "; LAMMPS 29 Sep 2021 (pair reax/c, fix qeq/reax), 94 ranks a node",
				Node:         hpc6aNode,
				Parameters:   p,
				Environments: []apps.Environment{{Name: "efa", Network: "EFA: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml as a stand-in (no hpc6a point-to-point data)"}},
			}
		},
		load: func(in Inputs) (any, error) { return readCanopie(in, "lammps") },
		build: func(data any, in Inputs, s *AppSetup) error {
			efa, _, err := efaProfile(in, "bare-metal")
			if err != nil {
				return err
			}
			p := s.Fit.Parameters.(*apps.LAMMPSParams)
			s.Knobs = []Knob{
				{"pairPerAtom", &p.PairPerAtom, 1e-7, 1e-3}, {"pairPerGhost", &p.PairPerGhost, 1e-9, 1e-3},
				{"qeqPerAtom", &p.QEqPerAtom, 1e-7, 1e-3},
				{"launch", &p.Launch, 0.01, 60},
			}
			s.Cases, err = CanopieLAMMPSCases(s, data.([]*CanopieGroup), Runtime{Inter: efa})
			return err
		},
		files: canopieFiles("lammps"),
		notes: func(in Inputs) (string, error) {
			_, efaSrc, err := efaProfile(in, "bare-metal")
			return "Run times: MPIJob runtime of every job; phases: LAMMPS loop time. Three node counts only, so four costs are fitted and " +
				"the rest is fixed at the a priori start values: CG iterations 33 (an assumption, as for the VM fit), the charge " +
				"equilibration's ghost cost, the setup and the bytes per ghost atom. Transport: " + efaSrc + ". " + hpc6aNotes, err
		},
	}
}

func amgHpc6a() *AppProblem {
	studies := []string{"amg_ranks_per_node", "amg_efa", "amg_no_efa"}
	return &AppProblem{
		Name: "amg/hpc6a-efa", App: "amg", FitName: "hpc6a-efa",
		Title:     "canopie22 AMG (hpc6a, EFA and TCP, 16 configurations)",
		Scheme:    "leave one configuration out (16 folds: each ranks × nodes × transport predicted from the other 15)",
		Folds:     FoldsByConfig,
		Baselines: []Baseline{ConstantBaseline, NodesMedianBaseline},
		Full:      fullOptions(4000), CI: ciOptions(1500),
		Start: func() *apps.Fit {
			// A priori: generating and setting up a row of a 27-point
			// operator costs about a microsecond and moves a kilobyte
			// or more; a PCG iteration a tenth of that compute;
			// BoomerAMG's setup makes thousands of small collectives and
			// hundreds of halo exchanges, an iteration one allreduce and
			// tens of halos; 20 iterations, one more per doubling of the
			// problem; a second of launch; TCP 50 µs and 1 GB/s.
			return &apps.Fit{
				Name:     "hpc6a-efa",
				Hardware: hpc6aHardware + "; AMG 2013-style proxy, -problem 1 (27-point Laplacian), -n 188 144 128 per rank",
				Node:     hpc6aNode,
				Parameters: &apps.AMGParams{
					Generate:    apps.AMGStage{Compute: 1e-6, Bytes: 1000},
					Setup:       apps.AMGStage{Compute: 1e-6, Bytes: 1000, Allreduces: 1000, Allgathers: 1, Halos: 100},
					Iteration:   apps.AMGStage{Compute: 1e-7, Bytes: 1000, Allreduces: 1, Halos: 10},
					Startup:     apps.AMGStage{Bytes: 1000},
					Iterations0: 20, IterationsPerDoubling: 1, ReferenceRows: 144 * 188 * 144 * 128,
					Launch: 1,
				},
				Environments: []apps.Environment{
					{Name: "efa", Network: "EFA: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml as a stand-in (no hpc6a point-to-point data)"},
					{Name: "no-efa", Network: "TCP over ENA, fitted with the app (no point-to-point data)",
						Profile: &network.Profile{Name: "hpc6a-tcp", Bands: []network.Band{{Latency: 50e-6, Bandwidth: 1e9}}, LinkBandwidth: 12.5e9}},
				},
			}
		},
		load: func(in Inputs) (any, error) { return readCanopie(in, studies...) },
		build: func(data any, in Inputs, s *AppSetup) error {
			efa, _, err := efaProfile(in, "bare-metal")
			if err != nil {
				return err
			}
			noEFA, err := s.Fit.Environment("no-efa")
			if err != nil {
				return err
			}
			if noEFA.Profile == nil || len(noEFA.Profile.Bands) == 0 {
				return fmt.Errorf("environment no-efa has no profile")
			}
			p := s.Fit.Parameters.(*apps.AMGParams)
			b := &noEFA.Profile.Bands[0]
			s.Knobs = []Knob{
				{"generate.compute", &p.Generate.Compute, 1e-10, 1e-4}, {"generate.bytes", &p.Generate.Bytes, 1, 1e5},
				{"setup.compute", &p.Setup.Compute, 1e-10, 1e-4}, {"setup.bytes", &p.Setup.Bytes, 1, 1e5},
				{"setup.allreduces", &p.Setup.Allreduces, 1, 1e5}, {"setup.allgathers", &p.Setup.Allgathers, 0.01, 1e4}, {"setup.halos", &p.Setup.Halos, 0.1, 1e4},
				{"iteration.compute", &p.Iteration.Compute, 1e-10, 1e-4}, {"iteration.bytes", &p.Iteration.Bytes, 1, 1e5},
				{"iteration.allreduces", &p.Iteration.Allreduces, 0.1, 1e4}, {"iteration.halos", &p.Iteration.Halos, 0.1, 1e3},
				{"startup.bytes", &p.Startup.Bytes, 1, 1e5},
				{"iterations0", &p.Iterations0, 5, 100}, {"iterationsPerDoubling", &p.IterationsPerDoubling, 0.01, 10},
				{"launch", &p.Launch, 0.01, 30},
				// TCP between EC2 instances in one placement group: tens
				// to a couple of hundred µs one way, at most the ENA
				// link's 12.5 GB/s (a priori bounds).
				{"no-efa.latency", &b.Latency, 10e-6, 200e-6}, {"no-efa.bandwidth", &b.Bandwidth, 5e8, 1.25e10},
			}
			rts := map[string]Runtime{"amg_ranks_per_node": {Inter: efa}, "amg_efa": {Inter: efa}, "amg_no_efa": {Inter: noEFA.Profile}}
			s.Cases, err = AMGCases(s, data.([]*CanopieGroup), rts)
			return err
		},
		files: canopieFiles(studies...),
		notes: func(in Inputs) (string, error) {
			_, efaSrc, err := efaProfile(in, "bare-metal")
			return "Run times: MPIJob runtime (running → succeeded) of every job; phases: AMG's generate, PCG setup and PCG solve wall " +
				"clock times and its iteration count. The per-rank problem (-n) and process grid (-P) are read from each job's mpirun line. " +
				"Transports: " + efaSrc + " for EFA; the no-EFA TCP latency and bandwidth are fitted here. The collective counts are " +
				"effective numbers (BoomerAMG's many small messages on the coarse levels priced as 8-byte allreduces and fine-grid halo " +
				"exchanges), not a trace of hypre's calls. 17 parameters against 16 configurations (each with four logged phases): " +
				"the phases are what constrains them. " + hpc6aNotes, err
		},
	}
}

func qmcpackHpc6a() *AppProblem {
	return &AppProblem{
		Name: "qmcpack/hpc6a-efa", App: "qmcpack", FitName: "hpc6a-efa",
		Title:     "canopie22 QMCPACK (hpc6a, EFA, 4/8/16 nodes)",
		Scheme:    "leave one node count out (3 folds: 4, 8 or 16 nodes predicted from the other two)",
		Folds:     FoldsByNodes,
		Baselines: []Baseline{ConstantBaseline, PowerLawBaseline("nodes")},
		Full:      fullOptions(2000), CI: ciOptions(1000),
		Start: func() *apps.Fit {
			// A priori: tens of seconds to read the wave function and
			// build the splines, a second a step for the driver, 10 ms
			// per walker and step, ten seconds of launch.
			return &apps.Fit{
				Name:     "hpc6a-efa",
				Hardware: hpc6aHardware + "; QMCPACK 3.13.0, NiO-fcc-S8 DMC (batched drivers), 1504 walkers, 94 ranks a node",
				Node:     hpc6aNode,
				Parameters: &apps.QMCPACKParams{InitSeconds: 30, TableBytes: 601e6, TableBroadcasts: 2, StepSeconds: 1,
					WalkerStepSeconds: 0.01, EstimatorBytes: 4096, Launch: 10},
				Environments: []apps.Environment{{Name: "efa", Network: "EFA: scenarios/profiles/aws-hpc7g-efa-bare-metal.yaml as a stand-in (no hpc6a point-to-point data)"}},
			}
		},
		load: func(in Inputs) (any, error) { return readCanopie(in, "qmcpack") },
		build: func(data any, in Inputs, s *AppSetup) error {
			efa, _, err := efaProfile(in, "bare-metal")
			if err != nil {
				return err
			}
			p := s.Fit.Parameters.(*apps.QMCPACKParams)
			s.Knobs = []Knob{
				{"initSeconds", &p.InitSeconds, 0.1, 300}, {"stepSeconds", &p.StepSeconds, 1e-4, 100},
				{"walkerStepSeconds", &p.WalkerStepSeconds, 1e-6, 100}, {"launch", &p.Launch, 0.01, 200},
			}
			s.Cases, err = CanopieQMCPACKCases(s, data.([]*CanopieGroup), Runtime{Inter: efa})
			return err
		},
		files: canopieFiles("qmcpack"),
		notes: func(in Inputs) (string, error) {
			_, efaSrc, err := efaProfile(in, "bare-metal")
			return "Run times: MPIJob runtime of every job; phases: the DMC section's QMC Execution time. The table size (601 MB, " +
				"printed by QMCPACK) and its two broadcasts come from the logs; the VMC sections' blocks and steps are not printed and are " +
				"taken as 1 × 5 each. The data show no strong scaling (4, 2 and 1 walkers a rank run equally long: the ranks leave " +
				"OMP_NUM_THREADS unset and are not bound), so the walker cost is not identified and the model adds nothing over a " +
				"constant run time on these data. Transport: " + efaSrc + ". " + hpc6aNotes, err
		},
	}
}

// ProfileGrid are the factors a profiled knob is fixed at, around its
// fitted value: ÷100 to ×100 in half decades.
var ProfileGrid = []float64{0.01, 0.0316, 0.1, 0.316, 1, 3.16, 10, 31.6, 100}

// Consequence is a prediction that depends on a fitted parameter: its
// name and value under a parameter set.
type Consequence struct {
	Name  string
	Value float64
}

// ProfileRow is one point of a profile: the knob fixed at Value, the
// other knobs refitted, the objective reached and the consequences.
type ProfileRow struct {
	Value        float64
	Objective    float64
	Consequences []Consequence
}

// ProfileKnob fixes the named knob at each value, refits the other
// knobs with o's evaluations, and reports the objective and the
// problem's consequences at each point: a profile likelihood of the
// parameter, and how far a prediction resting on it moves among fits
// that match the data about as well. The profile walks outwards from
// the fitted value in both directions, each point starting from its
// neighbour's refit (continuation); each objective is a local refit, so
// an upper bound on the profile.
func (d *AppData) ProfileKnob(fit *apps.Fit, knob string, values []float64, o FitOptions) ([]ProfileRow, error) {
	s0, err := d.Setup(cloneFit(fit))
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(s0.Knobs, func(k Knob) bool { return k.Name == knob })
	if i < 0 {
		return nil, fmt.Errorf("%s has no knob %q", d.Name, knob)
	}
	at, k := *s0.Knobs[i].Ptr, s0.Knobs[i]
	var up, down []float64
	for _, v := range values {
		switch {
		case v < k.Lo || v > k.Hi:
		case v >= at:
			up = append(up, v)
		default:
			down = append(down, v)
		}
	}
	slices.Sort(up)
	slices.Sort(down)
	slices.Reverse(down)
	var out []ProfileRow
	for _, dir := range [][]float64{down, up} {
		f := cloneFit(fit)
		s, err := d.Setup(f)
		if err != nil {
			return nil, err
		}
		others := slices.Delete(slices.Clone(s.Knobs), i, i+1)
		for _, v := range dir {
			*s.Knobs[i].Ptr = v
			s.changed()
			obj, err := s.minimise(others, Objective(s.Cases), o.Evals, o.Restarts, o.simplex())
			if err != nil {
				return nil, err
			}
			row := ProfileRow{Value: v, Objective: obj}
			if d.Consequences != nil {
				if row.Consequences, err = d.Consequences(d.In, f); err != nil {
					return nil, err
				}
			}
			out = append(out, row)
		}
	}
	slices.SortFunc(out, func(a, b ProfileRow) int { return cmp.Compare(a.Value, b.Value) })
	return out, nil
}

// ProfileTable formats a profile.
func ProfileTable(knob string, rows []ProfileRow, best float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %10s %8s", knob+" fixed at", "objective", "vs best")
	if len(rows) > 0 {
		for _, c := range rows[0].Consequences {
			fmt.Fprintf(&b, "  %s", c.Name)
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-18.4g %9.3f%% %+7.1f%%", r.Value, 100*r.Objective, 100*(r.Objective/best-1))
		for _, c := range r.Consequences {
			fmt.Fprintf(&b, "  %*.3f", len(c.Name), c.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cloneFit deep-copies a fit's parameters and environments (profiles
// included), so a refit of the copy leaves the original alone.
func cloneFit(f *apps.Fit) *apps.Fit {
	c := *f
	switch p := f.Parameters.(type) {
	case *apps.LAMMPSParams:
		q := *p
		c.Parameters = &q
	case *apps.AMGParams:
		q := *p
		c.Parameters = &q
	case *apps.QMCPACKParams:
		q := *p
		c.Parameters = &q
	}
	c.Environments = slices.Clone(f.Environments)
	for i, e := range c.Environments {
		if e.Profile != nil {
			p := *e.Profile
			p.Bands = slices.Clone(e.Profile.Bands)
			p.Stages = slices.Clone(e.Profile.Stages)
			c.Environments[i].Profile = &p
		}
	}
	return &c
}

// idleUsernetesConsequences are the usernetes-collectives predictions
// that rest on the idle Usernetes daemons' load: bare metal beside an
// idle Usernetes over bare metal, on the lammps-stream-ml VMs (6 nodes ×
// 8 ranks, the vm8-tcp LAMMPS fit and the vm-tcp transport of
// scenarios/apps and scenarios/profiles under in.Apps and in.Profiles),
// for LAMMPS 16×8×8 × 100 steps and osu_barrier × 100,000 — the app
// models alone, without the scheduler around them.
func idleUsernetesConsequences(in Inputs, fit *apps.Fit) ([]Consequence, error) {
	env, err := fit.Environment("bare-metal-with-usernetes")
	if err != nil {
		return nil, err
	}
	vm, err := loadAppFit(filepath.Join(in.Apps, "lammps.yaml"), "vm8-tcp")
	if err != nil {
		return nil, err
	}
	pat, err := loadAppFit(filepath.Join(in.Apps, "mpi-pattern.yaml"), "osu-barrier")
	if err != nil {
		return nil, err
	}
	tcp, _, err := network.ReadProfileFile(filepath.Join(in.Profiles, "vm-tcp.yaml"))
	if err != nil {
		return nil, err
	}
	ratio := func(m apps.Model, node apps.Node) (float64, error) {
		e := &apps.Env{Fabric: &network.Fabric{Inter: tcp}, Placement: network.Uniform(6, 8), Node: node}
		bare, err := m.RunTime(e)
		if err != nil {
			return 0, err
		}
		e.BackgroundLoad, e.BackgroundBurst = env.Background.Load, env.Background.Burst
		idle, err := m.RunTime(e)
		if err != nil {
			return 0, err
		}
		return idle.Seconds / bare.Seconds, nil
	}
	l, err := ratio(&apps.LAMMPS{Params: vm.Parameters.(*apps.LAMMPSParams), Replicas: [3]int{16, 8, 8}, Steps: 100}, vm.Node)
	if err != nil {
		return nil, err
	}
	b, err := ratio(&apps.Pattern{Params: pat.Parameters.(*apps.PatternParams)}, vm.Node)
	if err != nil {
		return nil, err
	}
	return []Consequence{{"LAMMPS 6 VMs idle-Usernetes ×", l}, {"barrier 6 VMs idle-Usernetes ×", b}}, nil
}

// vmUsernetesConsequences are the usernetes-collectives predictions for
// LAMMPS 16×8×8 × 100 steps on the 6 VMs × 8 ranks that rest on the VM
// fit: in Usernetes (the fit's TCP with the Usernetes stages of
// vm-tcp-usernetes.yaml under in.Profiles and the idle daemons of the
// hpc7g fit under in.Apps) and beside an idle Usernetes, over bare metal.
// How the fit splits the per-atom cost between the force field and the
// charge equilibration (many synchronisations a step) decides how much
// latency, the slirp4netns path and the daemons' noise cost.
func vmUsernetesConsequences(in Inputs, fit *apps.Fit) ([]Consequence, error) {
	env, err := fit.Environment("flux-vm-tcp")
	if err != nil {
		return nil, err
	}
	if env.Profile == nil {
		return nil, fmt.Errorf("environment flux-vm-tcp has no profile")
	}
	hpc7g, err := loadAppFit(filepath.Join(in.Apps, "lammps.yaml"), "hpc7g-efa")
	if err != nil {
		return nil, err
	}
	idle, err := hpc7g.Environment("usernetes")
	if err != nil {
		return nil, err
	}
	unet, _, err := network.ReadProfileFile(filepath.Join(in.Profiles, "vm-tcp-usernetes.yaml"))
	if err != nil {
		return nil, err
	}
	tcp := *env.Profile
	tcp.Stages = nil
	user := tcp.With(tcp.Name+"-usernetes", unet.Stages...)
	m := &apps.LAMMPS{Params: fit.Parameters.(*apps.LAMMPSParams), Replicas: [3]int{16, 8, 8}, Steps: 100}
	run := func(p *network.Profile, bg apps.Background) (float64, error) {
		r, err := m.RunTime(&apps.Env{Fabric: &network.Fabric{Inter: p}, Placement: network.Uniform(6, 8), Node: fit.Node,
			BackgroundLoad: bg.Load, BackgroundBurst: bg.Burst})
		return r.Seconds, err
	}
	bare, err := run(&tcp, apps.Background{})
	if err != nil {
		return nil, err
	}
	u, err := run(user, idle.Background)
	if err != nil {
		return nil, err
	}
	b, err := run(&tcp, idle.Background)
	if err != nil {
		return nil, err
	}
	return []Consequence{{"LAMMPS 6 VMs Usernetes ×", u / bare}, {"LAMMPS 6 VMs idle-Usernetes ×", b / bare}}, nil
}

// loadAppFit reads one fit of a scenarios/apps file.
func loadAppFit(path, name string) (*apps.Fit, error) {
	f, err := scenarios.LoadAppModel(path)
	if err != nil {
		return nil, err
	}
	return f.Lookup(name)
}
