package calibrate

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/scenarios"
	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/apps"
)

// The canopie22 single-application runs reproduced end to end: each
// configuration (an application, its ranks, pods and pod size) is
// submitted as one MPI job to a simulated copy of the canopie22 cluster
// (32 hpc6a.48xlarge workers and 2 tainted launcher nodes, the images
// already on the nodes as after the first of the 20 runs) as an MPIJob
// (the MPI Operator's launch: workers created through its client
// limiter, the launcher pod on a launcher node, mpirun over ssh;
// scenarios/launchers, fitted to operator-bootstrap, not to these
// data) under the
// scheduler that ran it — kube-scheduler for default-scheduler, Fluence
// (lonode) for kubeflux — and the simulated start-up (job created → all
// its pods running, the launcher's too: the MPIJob's Running), run time
// (→ finished: mpirun's start-up, the application, the wind-down) and
// placement (distinct nodes, most pods on one node) are compared with
// that scheduler's logs. The application model that prices the run is
// the one fitted without the configuration (the fold of its own
// held-out scheme: `sim fit app`'s cross-validation), so the run time is
// a prediction; start-up and placement involve no fit to these data at
// all. Baselines: for the run time, the app problem's own naive
// baselines fitted on the same training folds; for the start-up, the
// mean start-up of the scheduler's other configurations.

// ReproStudies are the canopie22 studies reproduced (EFA only: the
// no-EFA AMG study runs on a TCP profile fitted inside the AMG fit).
var ReproStudies = []string{"amg_ranks_per_node", "amg_efa", "lammps", "qmcpack"}

// ReproSchedulers maps the canopie22 scheduler names to policies (see
// policyExtra for the Fluence set-up).
var ReproSchedulers = []struct{ Name, Policy string }{
	{"default-scheduler", "kube"},
	{"kubeflux", "fluence"},
}

// ReproCase is one configuration under one scheduler.
type ReproCase struct {
	Study, App, Fold, Config string
	Scheduler, Policy        string
	Ranks, Pods, Slots       int
	MemoryGiB                float64
	Runs                     int
	// Measured medians over the scheduler's runs.
	Startup, Runtime      float64
	Distinct, MostPerNode int
	// Simulated medians over the seeds; Stalled counts seeds whose run
	// never finished.
	SimStartup, SimRuntime      float64
	SimDistinct, SimMostPerNode int
	Stalled                     int
	// Baselines: the run time's naive prediction (the app problem's
	// first baseline) and the start-up's (mean of the other
	// configurations under the same scheduler).
	BaseRuntime, BaseStartup float64
}

// ReproReport is the whole reproduction.
type ReproReport struct {
	CI    bool
	Seeds int
	Cases []ReproCase
}

// ReproOptions says how to reproduce: the fit procedure of the held-out
// folds, the seeds per case, and the studies.
type ReproOptions struct {
	// CI runs each problem's cheaper fit procedure (the tests'), else
	// its full one (sim fit app's).
	CI      bool
	Seeds   int
	Studies []string
	// Work is a folder for the scenario and parameter files written.
	Work string
}

// ReproduceCanopie runs the reproduction.
func ReproduceCanopie(in Inputs, o ReproOptions) (*ReproReport, error) {
	if o.Seeds < 1 {
		o.Seeds = 1
	}
	if len(o.Studies) == 0 {
		o.Studies = ReproStudies
	}
	rep := &ReproReport{Seeds: o.Seeds, CI: o.CI}
	problems := map[string]*AppProblem{}
	for _, p := range AppProblems() {
		problems[p.Name] = p
	}
	byApp := map[string][]string{}
	for _, s := range o.Studies {
		app := strings.SplitN(s, "_", 2)[0]
		byApp[app] = append(byApp[app], s)
	}
	for _, app := range []string{"amg", "lammps", "qmcpack"} {
		studies := byApp[app]
		if len(studies) == 0 {
			continue
		}
		p := problems[app+"/hpc6a-efa"]
		if p == nil {
			return nil, fmt.Errorf("no app problem %s/hpc6a-efa", app)
		}
		d, err := p.Load(in)
		if err != nil {
			return nil, err
		}
		groups, err := ReadCanopie(filepath.Join(in.Data, "canopie22-scaling"), studies...)
		if err != nil {
			return nil, err
		}
		cases, err := reproApp(in, d, groups, o)
		if err != nil {
			return nil, err
		}
		rep.Cases = append(rep.Cases, cases...)
	}
	startupBaselines(rep.Cases)
	return rep, nil
}

// reproApp fits the app problem once per fold and simulates the held
// configurations of the given groups with that fold's fit.
func reproApp(in Inputs, d *AppData, groups []*CanopieGroup, o ReproOptions) ([]ReproCase, error) {
	s0, err := d.Setup(d.Start())
	if err != nil {
		return nil, err
	}
	var out []ReproCase
	for _, f := range d.Folds(primaryCases(s0.Cases)) {
		var held []*CanopieGroup
		for _, g := range groups {
			c := &AppCase{Config: g.name(), Nodes: g.Pods}
			if f.Held(c) {
				held = append(held, g)
			}
		}
		if len(held) == 0 {
			continue
		}
		s, err := d.Setup(d.Start())
		if err != nil {
			return nil, err
		}
		var train []*AppCase
		for _, c := range s.Cases {
			if !f.Held(c) {
				train = append(train, c)
			}
		}
		fo := d.Full
		if o.CI {
			fo = d.CI
		}
		if _, _, err := s.FitStarts(Objective(train), fo); err != nil {
			return nil, fmt.Errorf("%s fold %s: %w", d.Name, f.Name, err)
		}
		for _, g := range held {
			base := math.NaN()
			for _, c := range s.Cases {
				if c.Config == g.name() && c.Primary() && len(d.Baselines) > 0 {
					if v, ok := d.Baselines[0].Predict(primaryCases(train), c); ok {
						base = v
					}
				}
			}
			for _, sch := range ReproSchedulers {
				rc, err := reproCase(in, d, s.Fit, g, sch.Name, sch.Policy, o)
				if err != nil {
					return nil, err
				}
				if rc == nil {
					continue
				}
				rc.Fold = f.Name
				rc.BaseRuntime = base
				out = append(out, *rc)
			}
		}
	}
	return out, nil
}

// reproCase simulates one configuration under one scheduler.
func reproCase(in Inputs, d *AppData, fit *apps.Fit, g *CanopieGroup, scheduler, policy string, o ReproOptions) (*ReproCase, error) {
	var jobs []CanopieJob
	for _, j := range g.Jobs {
		if j.Scheduler == scheduler && j.Startup >= 0 && j.Runtime >= 0 {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	j0 := jobs[0]
	rc := &ReproCase{Study: g.Study, App: d.App, Config: g.name(), Scheduler: scheduler, Policy: policy,
		Ranks: g.Ranks, Pods: g.Pods, Slots: j0.SlotsPerPod, MemoryGiB: j0.MemoryGiB, Runs: len(jobs)}
	var st, rt, dist, most []float64
	for _, j := range jobs {
		st, rt = append(st, j.Startup), append(rt, j.Runtime)
		dn, mn := j.NodesUsed()
		dist, most = append(dist, float64(dn)), append(most, float64(mn))
	}
	rc.Startup, rc.Runtime = median(st), median(rt)
	rc.Distinct, rc.MostPerNode = int(median(dist)), int(median(most))

	dir := filepath.Join(o.Work, fmt.Sprintf("%s-%d-%d-%s", g.Study, g.Ranks, g.Pods, policy))
	path, err := writeReproScenario(in, dir, d.App, fit, g, j0, policy)
	if err != nil {
		return nil, err
	}
	var sst, srt, sdist, smost []float64
	for seed := 1; seed <= o.Seeds; seed++ {
		sc, err := scenarios.Load(path, scenarios.Overrides{IgnoreEnv: true, Set: []string{fmt.Sprintf("seed=%d", seed)}})
		if err != nil {
			return nil, err
		}
		e, err := scenarios.Build(sc)
		if err != nil {
			return nil, err
		}
		res, err := e.Run()
		if err != nil {
			return nil, fmt.Errorf("%s under %s, seed %d: %w", g.name(), policy, seed, err)
		}
		job := res.Jobs[0]
		if !engine.IsSet(job.Finished) {
			rc.Stalled++
			continue
		}
		up := job.AllStarted()
		sst, srt = append(sst, up-job.Submitted), append(srt, job.Finished-up)
		per := map[*engine.Node]int{}
		m := 0
		for _, p := range job.Pods {
			if p.Launcher {
				continue // the placement compared is the workers'
			}
			per[p.Node]++
			m = max(m, per[p.Node])
		}
		sdist, smost = append(sdist, float64(len(per))), append(smost, float64(m))
	}
	rc.SimStartup, rc.SimRuntime = median(sst), median(srt)
	rc.SimDistinct, rc.SimMostPerNode = int(median(sdist)), int(median(smost))
	return rc, nil
}

// writeReproScenario writes the fold's fit as an AppModel file and a
// scenario of the configuration beside it.
func writeReproScenario(in Inputs, dir, app string, fit *apps.Fit, g *CanopieGroup, j CanopieJob, policy string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := WithFit(nil, app, fit)
	if err != nil {
		return "", err
	}
	appFile := filepath.Join(dir, app+".yaml")
	data, err := RenderAppFile(appFile, f)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(appFile, data, 0o644); err != nil {
		return "", err
	}
	profile, err := filepath.Abs(filepath.Join(in.Profiles, "aws-hpc7g-efa-bare-metal.yaml"))
	if err != nil {
		return "", err
	}
	// The launcher models beside the app models (scenarios/launchers).
	launchers, err := filepath.Abs(filepath.Join(filepath.Dir(in.Apps), "launchers", "launchers.yaml"))
	if err != nil {
		return "", err
	}
	var shape string
	switch app {
	case "amg":
		n, ok := traces.Flag3(j.Command, "-n")
		if !ok {
			return "", fmt.Errorf("%s: no -n in %q", j.File, j.Command)
		}
		shape = fmt.Sprintf("problemPerRank: [%d, %d, %d]", n[0], n[1], n[2])
	case "lammps":
		shape = "replicas: [64, 16, 16], steps: 100"
	case "qmcpack":
		var secs []string
		for _, s := range CanopieQMCPACKSections {
			secs = append(secs, fmt.Sprintf("{name: %s, blocks: %d, steps: %d, dmc: %t}", s.Name, s.Blocks, s.Steps, s.DMC))
		}
		shape = "walkers: 1504, sections: [" + strings.Join(secs, ", ") + "]"
	}
	image := "ghcr.io/converged-computing/metric-" + app + ":canopie22"
	text := fmt.Sprintf(`version: 1
name: canopie22-%s-%d-%d
seed: 1
cluster:
  pools:
    - name: launcher
      count: 2
      cpu: 96
      memory: 370Gi
      labels: {role: launcher}
      taints: [{key: role, value: launcher, effect: NoSchedule}]
      images: [{image: %q, size: 2Gi}]
    - name: hpc6a
      count: 32
      cpu: 96
      memory: 370Gi
      memoryBandwidth: 320
      images: [{image: %q, size: 2Gi}]
network:
  profile: %q
policy:
  name: %s%s
workloads:
  - name: %s
    kind: MPIJob
    parallelism: %d
    podGroup: {}
    launcher:
      file: %q
      entry: mpijob-hpc6a-efa
      pod:
        nodeSelector: {role: launcher}
        tolerations: [{key: role, operator: Equal, value: launcher, effect: NoSchedule}]
        containers:
          - {name: launcher, image: %q, imageSize: 2Gi, cpu: %d, memory: %d}
    app: {model: %s, file: %s.yaml, fit: %s, ranksPerPod: %d, %s}
    pod:
      containers:
        - {name: %s, image: %q, imageSize: 2Gi, cpu: %d, memory: %d}
`, g.Study, g.Ranks, g.Pods, image, image, profile, policy, policyExtra(policy), app, g.Pods, launchers, image, max(j.LauncherCPUs, 1), int64(math.Round(max(j.LauncherGiB, 1)*(1<<30))),
		app, app, fit.Name, g.Ranks/g.Pods, shape,
		app, image, j.CPUsPerPod, int64(math.Round(j.MemoryGiB*(1<<30))))
	path := filepath.Join(dir, "scenario.yaml")
	return path, os.WriteFile(path, []byte(text), 0o644)
}

// startupBaselines sets each case's start-up baseline: the mean measured
// start-up of the other configurations under the same scheduler.
func startupBaselines(cs []ReproCase) {
	for i := range cs {
		sum, n := 0.0, 0
		for k := range cs {
			if k != i && cs[k].Scheduler == cs[i].Scheduler && cs[k].Config != cs[i].Config {
				sum += cs[k].Startup
				n++
			}
		}
		cs[i].BaseStartup = math.NaN()
		if n > 0 {
			cs[i].BaseStartup = sum / float64(n)
		}
	}
}

// pctErr is the signed error of x against the measured m, in percent.
func pctErr(x, m float64) float64 { return 100 * (x - m) / m }

// Summary is the mean absolute percentage errors of the model and of
// the baselines, per scheduler and quantity, and how many cases placed
// their pods as measured.
type ReproSummary struct {
	Scheduler                            string
	Cases                                int
	StartupMAPE, BaseStartupMAPE         float64
	RuntimeMAPE, BaseRuntimeMAPE         float64
	PlacementAgree, Stalled, StalledRuns int
}

// Summaries are the report's per-scheduler error summaries.
func (r *ReproReport) Summaries() []ReproSummary {
	var out []ReproSummary
	for _, sch := range ReproSchedulers {
		s := ReproSummary{Scheduler: sch.Name}
		var st, bst, rt, brt []float64
		for _, c := range r.Cases {
			if c.Scheduler != sch.Name {
				continue
			}
			s.Cases++
			if c.Stalled > 0 {
				s.Stalled++
				s.StalledRuns += c.Stalled
			}
			if math.IsNaN(c.SimRuntime) {
				continue
			}
			st = append(st, math.Abs(pctErr(c.SimStartup, c.Startup)))
			rt = append(rt, math.Abs(pctErr(c.SimRuntime, c.Runtime)))
			if !math.IsNaN(c.BaseStartup) {
				bst = append(bst, math.Abs(pctErr(c.BaseStartup, c.Startup)))
			}
			if !math.IsNaN(c.BaseRuntime) {
				brt = append(brt, math.Abs(pctErr(c.BaseRuntime, c.Runtime)))
			}
			if c.SimDistinct == c.Distinct && c.SimMostPerNode == c.MostPerNode {
				s.PlacementAgree++
			}
		}
		s.StartupMAPE, s.BaseStartupMAPE = mean(st), mean(bst)
		s.RuntimeMAPE, s.BaseRuntimeMAPE = mean(rt), mean(brt)
		out = append(out, s)
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Table renders the cases and the summaries.
func (r *ReproReport) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "canopie22 single-application runs reproduced (run time held out by configuration; %d seed(s) a case)\n\n", r.Seeds)
	fmt.Fprintf(&b, "%-34s %-17s %5s | %8s %8s %7s | %8s %8s %7s | %-9s %-9s\n", "configuration", "scheduler", "runs",
		"startup", "sim", "err%", "runtime", "sim", "err%", "nodes/max", "sim")
	cs := slices.Clone(r.Cases)
	slices.SortStableFunc(cs, func(a, b ReproCase) int {
		if c := strings.Compare(a.Study, b.Study); c != 0 {
			return c
		}
		if a.Ranks != b.Ranks {
			return a.Ranks - b.Ranks
		}
		if a.Pods != b.Pods {
			return a.Pods - b.Pods
		}
		return strings.Compare(a.Scheduler, b.Scheduler)
	})
	for _, c := range cs {
		sim := fmt.Sprintf("%d/%d", c.SimDistinct, c.SimMostPerNode)
		if c.Stalled == r.Seeds {
			sim = "-"
		}
		if c.Stalled > 0 {
			sim += fmt.Sprintf(" (%d stalled)", c.Stalled)
		}
		fmt.Fprintf(&b, "%-34s %-17s %5d | %8.2f %8.2f %+7.1f | %8.2f %8.2f %+7.1f | %-9s %-9s\n", trunc(c.Config, 34), c.Scheduler, c.Runs,
			c.Startup, c.SimStartup, pctErr(c.SimStartup, c.Startup), c.Runtime, c.SimRuntime, pctErr(c.SimRuntime, c.Runtime),
			fmt.Sprintf("%d/%d", c.Distinct, c.MostPerNode), sim)
	}
	b.WriteString("\nper scheduler: MAPE of the medians, model (baseline)\n")
	for _, s := range r.Summaries() {
		fmt.Fprintf(&b, "  %-17s %2d cases: start-up %.1f %% (%.1f %%), run time %.1f %% (%.1f %%), placement as measured in %d, stalled in %d (%d runs)\n",
			s.Scheduler, s.Cases, s.StartupMAPE, s.BaseStartupMAPE, s.RuntimeMAPE, s.BaseRuntimeMAPE, s.PlacementAgree, s.Stalled, s.StalledRuns)
	}
	return b.String()
}

// policyExtra is the policy section a canopie22 run under policy needs:
// under Fluence the launcher pods go to the default kube-scheduler (in
// the canopie22 MPIJob templates only the workers name Fluence:
// flux-k8s branch canopie22-artifacts, amg/amg_mpijob_efa.yaml) and the
// launcher nodes (label role) are left out of Fluxion's graph, so the
// workers go to the 32 hpc6a nodes (the artifacts taint and label the
// worker nodes).
func policyExtra(policy string) string {
	if policy != "fluence" {
		return ""
	}
	return "\n  fluence: {launchers: kube, skipLabel: role}"
}
