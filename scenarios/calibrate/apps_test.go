package calibrate

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/workloads/apps"
)

// appDataRoot is ../shared/data beside the repository.
const appDataRoot = "../../../shared/data"

const appsDir = "../apps"

func skipWithoutData(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("calibration data not available (%v); it lives in ../shared/data beside the repository", err)
	}
}

func appInputs(t *testing.T) Inputs {
	t.Helper()
	skipWithoutData(t, appDataRoot)
	return Inputs{Data: appDataRoot, Profiles: "../profiles", Apps: appsDir}
}

// appGuards are the regression guards of each fit (%): the bundled
// parameters' in-sample run-time MAPE, and the held-out MAPE of the CI
// procedure (AppProblem.CI). Each sits just above today's figure
// (docs/validation.md), so a change that makes a model fit or predict
// worse fails here; after a deliberate improvement, lower them.
// modelWins says whether the model predicts better than every naive
// baseline (docs/validation.md says so where it does, and says that
// QMCPACK's does not).
var appGuards = map[string]struct {
	inSample, heldOut float64
	modelWins         bool
}{
	"lammps/hpc7g-efa":  {1.6, 2.3, true},
	"lammps/vm8-tcp":    {5.9, 6.1, true},
	"lammps/hpc6a-efa":  {1.4, 2.3, true},
	"amg/hpc6a-efa":     {2.3, 2.1, true},
	"qmcpack/hpc6a-efa": {1.9, 4.4, false},
}

// TestAppFitsInSample evaluates each bundled parameter set of
// scenarios/apps on the runs it was fitted to (in-sample: how well it
// fits, not how well it predicts), guards the error, and checks that
// the file's provenance is what the parameters give today: its recorded
// in-sample MAPE, its residuals, a held-out figure with baselines, and a
// spread for every fitted parameter.
func TestAppFitsInSample(t *testing.T) {
	in := appInputs(t)
	for _, p := range AppProblems() {
		t.Run(strings.ReplaceAll(p.Name, "/", "_"), func(t *testing.T) {
			g, ok := appGuards[p.Name]
			if !ok {
				t.Fatalf("no guard for %s", p.Name)
			}
			d, err := p.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			fit, err := loadAppFit(filepath.Join(appsDir, p.App+".yaml"), p.FitName)
			if err != nil {
				t.Fatal(err)
			}
			r, err := d.InSample(fit)
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + r.Table(p.Title))
			if r.MAPE > g.inSample {
				t.Errorf("in-sample run-time MAPE %.2f%%, above its guard %.1f%%", r.MAPE, g.inSample)
			}
			prov := fit.Provenance
			if prov.InSampleMAPE == nil || math.Abs(*prov.InSampleMAPE-r.MAPE) > 0.01 {
				t.Errorf("provenance records in-sample MAPE %v, the parameters give %.2f%%: its inputs changed; refit with %s", prov.InSampleMAPE, r.MAPE, prov.Command)
			}
			if want := Residuals(r.Errors); !slices.Equal(prov.InSampleResiduals, want) {
				t.Errorf("provenance residuals differ from what the parameters give; refit with %s", prov.Command)
			}
			if prov.HeldOut == nil || prov.HeldOut.Scheme != p.Scheme || len(prov.HeldOut.Baselines) != len(p.Baselines) {
				t.Errorf("provenance has no held-out figure for scheme %q with %d baselines: %+v", p.Scheme, len(p.Baselines), prov.HeldOut)
			}
			s, err := d.Setup(fit)
			if err != nil {
				t.Fatal(err)
			}
			var knobs, spread []string
			for _, k := range s.Knobs {
				knobs = append(knobs, k.Name)
			}
			for _, ps := range prov.Parameters {
				spread = append(spread, ps.Name)
				if i := slices.Index(knobs, ps.Name); i >= 0 && relErr(*s.Knobs[i].Ptr, ps.Value) > 1e-3 {
					t.Errorf("parameter %s is %g, its spread entry says %g", ps.Name, *s.Knobs[i].Ptr, ps.Value)
				}
			}
			if !slices.Equal(knobs, spread) {
				t.Errorf("provenance spreads %v, fitted parameters %v", spread, knobs)
			}
		})
	}
}

// TestAppsHeldOut is the prediction check: each model's CI procedure
// (the untouched start values, AppProblem.CI) is run once per fold of
// its data set without that fold, and predicts it; the held-out MAPE is
// guarded, and compared with the naive baselines fitted on the same
// folds. make calibrate runs the full procedure (sim fit app).
func TestAppsHeldOut(t *testing.T) {
	in := appInputs(t)
	for _, p := range AppProblems() {
		t.Run(strings.ReplaceAll(p.Name, "/", "_"), func(t *testing.T) {
			g := appGuards[p.Name]
			d, err := p.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			cv, err := d.CrossValidate(p.CI)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("CI procedure: %s\n%s", p.CI, cv.Table())
			if cv.MAPE > g.heldOut {
				t.Errorf("held-out MAPE %.2f%%, above its guard %.1f%%", cv.MAPE, g.heldOut)
			}
			wins := true
			for i, b := range cv.BaselineMAPE {
				if cv.MAPE >= b {
					wins = false
					t.Logf("the %s baseline predicts as well: %.2f%% against the model's %.2f%%", cv.Baselines[i], b, cv.MAPE)
				}
			}
			if wins != g.modelWins {
				t.Errorf("model beats every baseline: %v, docs/validation.md says %v", wins, g.modelWins)
			}
		})
	}
}

// TestRuntimeBackgroundIsLive: a fitted daemon load reaches the model
// at every evaluation (it was once copied when the cases were built, so
// a fit never saw its own background knobs move).
func TestRuntimeBackgroundIsLive(t *testing.T) {
	bg := &apps.Background{}
	rt := Runtime{Inter: &network.Profile{Name: "t", Bands: []network.Band{{Latency: 10e-6, Bandwidth: 1e9}}}, Background: bg}
	p := lammpsStart()
	m := &apps.LAMMPS{Params: p, Replicas: [3]int{4, 4, 4}, Steps: 10}
	env := rt.env(apps.Node{Cores: 8, MemoryBandwidth: 20, Speed: 1}, 4, 8)
	quiet, err := rt.run(m, env)
	if err != nil {
		t.Fatal(err)
	}
	*bg = apps.Background{Load: 0.5, Burst: 1e-3}
	busy, err := rt.run(m, env)
	if err != nil {
		t.Fatal(err)
	}
	if !(busy.Seconds > quiet.Seconds) {
		t.Errorf("background 0.5 cores: %.3f s, none: %.3f s; want slower", busy.Seconds, quiet.Seconds)
	}
}

// TestFoldsAndBaselines checks the splits and the naive predictors on
// hand-made cases.
func TestFoldsAndBaselines(t *testing.T) {
	mk := func(series string, nodes int, v ...float64) *AppCase {
		return &AppCase{Name: series, Config: series + " " + string(rune('0'+nodes)), Kind: "runtime", Series: series, Nodes: nodes, Scale: float64(nodes), Measured: v}
	}
	cases := []*AppCase{mk("a", 1, 100, 102), mk("a", 2, 50), mk("a", 4, 25), mk("b", 2, 60)}
	if f := FoldsByNodes(cases); len(f) != 3 || !f[1].Held(cases[1]) || !f[1].Held(cases[3]) || f[1].Held(cases[0]) {
		t.Errorf("FoldsByNodes: %d folds", len(f))
	}
	if f := FoldsByConfig(cases); len(f) != 4 {
		t.Errorf("FoldsByConfig: %d folds", len(f))
	}
	if f := KFoldsByConfig(2)(cases); len(f) != 2 {
		t.Errorf("KFoldsByConfig(2): %d folds", len(f))
	}
	train := cases[:2]
	if v, ok := ConstantBaseline.Predict(train, cases[2]); !ok || v != 100 {
		t.Errorf("constant: %v %v, want the median of 100, 102, 50 = 100", v, ok)
	}
	if v, ok := PowerLawBaseline("nodes").Predict([]*AppCase{mk("a", 1, 100), mk("a", 2, 50)}, cases[2]); !ok || math.Abs(v-25) > 1e-9 {
		t.Errorf("power law: %v %v, want 25 (t ∝ 1/N)", v, ok)
	}
	if _, ok := PowerLawBaseline("nodes").Predict([]*AppCase{mk("a", 1, 100)}, cases[2]); ok {
		t.Error("power law from one size: want no prediction")
	}
	if v, ok := NodesMedianBaseline.Predict(cases[:3], cases[3]); !ok || v != 50 {
		t.Errorf("median per node count: %v %v, want 50", v, ok)
	}
}

// TestFitStartsRecoversParameters: the multi-start fit recovers the
// parameters of synthetic data made by the model itself, and the spread
// marks a parameter the data cannot see as not identified.
func TestFitStartsRecoversParameters(t *testing.T) {
	a, b, c := 2.0, 3.0, 1.0
	s := &AppSetup{Knobs: []Knob{{"a", &a, 0.01, 100}, {"b", &b, 0.01, 100}, {"c", &c, 0.01, 100}}}
	var cases []*AppCase
	for _, x := range []float64{1, 2, 4, 8} {
		cases = append(cases, &AppCase{Name: "x", Config: "x", Measured: []float64{5 + 0.5*x}, Model: func() (float64, apps.Result, error) {
			return a + b*x, apps.Result{}, nil // c does not enter the model
		}})
	}
	o := FitOptions{Starts: 4, Evals: 2000, Restarts: 2, Perturb: 1, Seed: 1, Profile: true, ProfileEvals: 1000}
	fits, best, err := s.FitStarts(Objective(cases), o)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a-5) > 0.01 || math.Abs(b-0.5) > 0.01 {
		t.Errorf("fitted a=%g b=%g, want 5 and 0.5", a, b)
	}
	spread, err := s.Spread(Objective(cases), fits, best, o)
	if err != nil {
		t.Fatal(err)
	}
	if !spread[0].Identified || !spread[1].Identified || spread[2].Identified {
		t.Errorf("identified a, b, c: %v %v %v (%q), want yes, yes, no", spread[0].Identified, spread[1].Identified, spread[2].Identified, spread[2].Note)
	}
}

// TestAppsMechanisms needs no data: with the bundled fits and profiles,
// placement and runtime change run time through mechanisms only.
func TestAppsMechanisms(t *testing.T) {
	prof := func(name string) *network.Profile {
		file := "../profiles/" + name + ".yaml"
		fh, err := os.Open(file)
		if err != nil {
			t.Skipf("profile %s not bundled: %v", file, err)
		}
		defer fh.Close()
		p, _, err := network.ReadProfile(file, fh)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	bare, user := prof("aws-hpc7g-efa-bare-metal"), prof("aws-hpc7g-efa-usernetes")
	fit, err := loadAppFit(filepath.Join(appsDir, "lammps.yaml"), "hpc7g-efa")
	if err != nil {
		t.Fatal(err)
	}
	idle, err := fit.Environment("usernetes")
	if err != nil {
		t.Fatal(err)
	}
	m := &apps.LAMMPS{Params: fit.Parameters.(*apps.LAMMPSParams), Replicas: [3]int{16, 16, 8}, Steps: 100}
	run := func(inter *network.Profile, bg apps.Background, nodes, perNode int, quota float64) float64 {
		env := &apps.Env{Fabric: &network.Fabric{Inter: inter}, Placement: network.Uniform(nodes, perNode), Node: fit.Node,
			BackgroundLoad: bg.Load, BackgroundBurst: bg.Burst, CPUQuota: quota}
		r, err := m.RunTime(env)
		if err != nil {
			t.Fatal(err)
		}
		return r.Seconds
	}
	metal := run(bare, apps.Background{}, 32, 16, 0)
	withUsernetes := run(bare, idle.Background, 32, 16, 0)
	inUsernetes := run(user, idle.Background, 32, 16, 0)
	if !(metal < withUsernetes && withUsernetes < inUsernetes) {
		t.Errorf("32 nodes: bare metal %.2f s, with Usernetes idle %.2f s, in Usernetes %.2f s: want increasing", metal, withUsernetes, inUsernetes)
	}
	// The daemons cost more as the job spans more nodes (noise
	// amplification), in relative terms.
	small := run(bare, idle.Background, 4, 16, 0) / run(bare, apps.Background{}, 4, 16, 0)
	if big := withUsernetes / metal; !(big > small) {
		t.Errorf("Usernetes idle: %.4f× at 4 nodes, %.4f× at 32: want growth with nodes", small, big)
	}
	// A pod CPU limit of 8 cores for 16 ranks: at least the average
	// (twice the run: no launcher time in this fit, no daemons on bare
	// metal), and more on 32 nodes than on 4: the pods are throttled out
	// of step and every synchronisation waits for the last (cfs.go).
	q32 := run(bare, apps.Background{}, 32, 16, 8) / metal
	q4 := run(bare, apps.Background{}, 4, 16, 8) / run(bare, apps.Background{}, 4, 16, 0)
	if !(q4 > 2 && q32 > q4) {
		t.Errorf("quota 8 for 16 ranks: %.3f× the unthrottled run on 4 nodes, %.3f× on 32: want above 2× and growing", q4, q32)
	}
	// Two ranks a core: the same 512 ranks on 16 nodes run about twice as
	// long (the compute; communication changes too).
	if packed := run(bare, apps.Background{}, 16, 32, 0); !(packed > 1.8*metal) {
		t.Errorf("512 ranks on 16 nodes %.2f s vs 32 nodes %.2f s: want about 2×", packed, metal)
	}

	af, err := scenarios.LoadAppModel(filepath.Join(appsDir, "amg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	afit, err := af.Lookup("hpc6a-efa")
	if err != nil {
		t.Fatal(err)
	}
	noEFA, err := afit.Environment("no-efa")
	if err != nil {
		t.Fatal(err)
	}
	amg := &apps.AMG{Params: afit.Parameters.(*apps.AMGParams), N: [3]int{188, 144, 128}}
	arun := func(inter *network.Profile, nodes, perNode int) float64 {
		r, err := amg.RunTime(&apps.Env{Fabric: &network.Fabric{Inter: inter}, Placement: network.Uniform(nodes, perNode), Node: afit.Node})
		if err != nil {
			t.Fatal(err)
		}
		return r.Seconds
	}
	if t2, t3, t6 := arun(bare, 2, 72), arun(bare, 3, 48), arun(bare, 6, 24); !(t2 > t3 && t3 > t6) {
		t.Errorf("AMG 144 ranks on 2/3/6 nodes: %.1f/%.1f/%.1f s, want decreasing", t2, t3, t6)
	}
	if e, n := arun(bare, 32, 24), arun(noEFA.Profile, 32, 24); !(n > e) {
		t.Errorf("AMG 768 ranks: EFA %.1f s, TCP %.1f s", e, n)
	}
}

// TestRenderAppFile: a rendered file loads back with the same fits, a
// fit replaces the one of the same name and keeps the others, and a
// file of another app is refused.
func TestRenderAppFile(t *testing.T) {
	f, err := scenarios.LoadAppModel(filepath.Join(appsDir, "qmcpack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fit := cloneFit(&f.Fits[0])
	fit.Parameters.(*apps.QMCPACKParams).InitSeconds = 12.5
	g, err := WithFit(f, "qmcpack", fit)
	if err != nil {
		t.Fatal(err)
	}
	other := cloneFit(fit)
	other.Name = "other"
	if g, err = WithFit(g, "qmcpack", other); err != nil {
		t.Fatal(err)
	}
	data, err := RenderAppFile("q.yaml", g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scenarios.ParseAppModel("q.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Fits) != 2 || back.Fits[0].Parameters.(*apps.QMCPACKParams).InitSeconds != 12.5 || back.Fits[1].Name != "other" {
		t.Errorf("round trip: %d fits", len(back.Fits))
	}
	if f.Fits[0].Parameters.(*apps.QMCPACKParams).InitSeconds == 12.5 {
		t.Error("WithFit changed its base")
	}
	if _, err := WithFit(f, "amg", fit); err == nil {
		t.Error("a qmcpack file taken as amg")
	}
}
