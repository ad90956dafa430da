package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/workloads/apps"
)

// Network is the scenario's network: the transport between nodes (a
// NetworkProfile file), shared memory within a node, and the topology.
type Network struct {
	// Profile is the inter-node transport every runtime starts from
	// (a kind: NetworkProfile file, relative to the scenario file).
	Profile string `yaml:"profile"`
	// Intra is the shared-memory transport (a profile file; default
	// network.DefaultIntra).
	Intra    string          `yaml:"intra"`
	Topology NetworkTopology `yaml:"topology"`
}

// NetworkTopology is one-switch (default) or two-level (leaf switches
// of nodesPerLeaf nodes with oversubscribed uplinks).
type NetworkTopology struct {
	Kind             string  `yaml:"kind"`
	NodesPerLeaf     int     `yaml:"nodesPerLeaf"`
	Oversubscription float64 `yaml:"oversubscription"`
}

// Runtime is where a job's ranks run: bare metal, a container, pods in
// Usernetes. It differs from another runtime only by mechanisms: its
// network path (a profile whose stages add latency, cap the stream
// rate and burn node CPU) and the daemons that share its nodes.
type Runtime struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Profile is the runtime's inter-node transport (a NetworkProfile
	// file, with its stages); default network.profile.
	Profile string `yaml:"profile"`
	// Intra is the runtime's intra-node (shared-memory) transport, a
	// NetworkProfile file: a container or user namespace can change the
	// MPI shared-memory path (single-copy by cross-memory attach needs
	// ptrace access to the peer rank; without it every message is
	// copied in and out of a shared segment). Default: network.intra,
	// then network.DefaultIntra.
	Intra string `yaml:"intra"`
	// Background is the CPU the node's daemons keep busy (apps.Env).
	Background apps.Background `yaml:"background"`
	// BackgroundFrom takes Background from an environment fitted in an
	// app parameter file instead (where the load was measured).
	BackgroundFrom *EnvironmentRef `yaml:"backgroundFrom"`
	// Provenance says where the figures come from.
	Provenance string `yaml:"provenance"`
}

// EnvironmentRef names one environment of a fit in an app parameter
// file (kind: AppModel).
type EnvironmentRef struct {
	File        string `yaml:"file"`
	Fit         string `yaml:"fit"`
	Environment string `yaml:"environment"`
}

// AppSpec makes a workload's jobs run as one MPI program priced by an
// application model (workloads/apps) on the placement they get. Its
// common keys are fields here; the keys of the run's shape (replicas
// and steps for lammps, problemPerRank for amg, walkers and sections
// for qmcpack, ...) are decoded into the job shape the model registers
// (apps.App.Job), so a new model needs no change here.
type AppSpec struct {
	// Model is the app (apps.Names).
	Model string `yaml:"model"`
	// File is its parameter file (kind: AppModel, relative to the
	// scenario file) and Fit the parameter set in it.
	File string `yaml:"file"`
	Fit  string `yaml:"fit"`
	// RanksPerPod is the MPI ranks each pod runs (default: the pod's
	// CPU request in whole cores, at least 1).
	RanksPerPod int `yaml:"ranksPerPod"`
	// CPUQuota is each pod's CPU limit in cores (the CFS quota); 0 means
	// no limit.
	CPUQuota float64 `yaml:"cpuQuota"`
	// CFSPeriod is the CFS bandwidth period in seconds
	// (cpu.cfs_period_us; 0: the kernel's 100 ms).
	CFSPeriod float64 `yaml:"cfsPeriod"`
	// Job is the run's shape, of the model's registered type (nil if
	// the model is unknown).
	Job apps.JobShape `yaml:"-"`
}

// resolved holds what a scenario's file references load to.
type resolved struct {
	intra    *network.Profile // network.intra (or network.DefaultIntra)
	topology *network.Topology
	runtimes map[string]*network.Profile
	// intras are the runtimes' intra-node profiles, by runtime name;
	// a runtime without its own has none here (intraOf: intra).
	intras map[string]*network.Profile
	apps   []*apps.Fit // by workload index (nil: no app)
	// launchers are the workloads' launchers, by workload index (nil:
	// none).
	launchers []*launcherUse
	pools     map[string]Pool
}

// readProfile loads a NetworkProfile file named in the scenario (at
// most limitio.Profile bytes). The profile reader's own message is cut
// short: a file that is not a profile (network.profile: /etc/passwd)
// must not be echoed.
func (v *validator) readProfile(dir, file, field string) (*network.Profile, error) {
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, file)
	}
	data, err := limitio.ReadFile(path, limitio.Profile, "network profile")
	if err != nil {
		return nil, v.errf(field, "cannot read profile: %s", short(err))
	}
	if !hasKind(path, data, network.ProfileKind) {
		return nil, v.errf(field, "%s is not a network profile (a YAML mapping with kind: %s)", quote(file), network.ProfileKind)
	}
	p, _, err := network.ReadProfile(path, bytes.NewReader(data))
	if err != nil {
		return nil, v.errf(field, "%s", short(err))
	}
	return p, nil
}

// hasKind tells whether data is one YAML mapping with kind: want. A
// file named in a scenario is checked before its reader's messages,
// which quote what they find, can echo a file that was never one of
// ours (network.profile: /etc/passwd).
func hasKind(name string, data []byte, want string) bool {
	doc, err := parseDocument(name, data)
	if err != nil || doc == nil {
		return false
	}
	k := kindNode(doc)
	return k != nil && k.Value == want
}

// kindNode is the scalar value of a mapping's kind key, or nil.
func kindNode(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k, v := doc.Content[i], doc.Content[i+1]; k.Value == "kind" && v.Kind == yaml.ScalarNode {
			return v
		}
	}
	return nil
}

// shortMax bounds the message of another reader's error quoted in a
// scenario error.
const shortMax = 300

// short is err's message cut to shortMax bytes.
func short(err error) string {
	msg := err.Error()
	if len(msg) <= shortMax {
		return msg
	}
	cut := shortMax
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// resolveRuntimes validates network, runtimes and the app workloads and
// loads the files they name.
func (v *validator) resolveRuntimes(sc *Scenario, dir string) (*resolved, error) {
	r := &resolved{runtimes: map[string]*network.Profile{}, intras: map[string]*network.Profile{}, apps: make([]*apps.Fit, len(sc.Workloads)), pools: map[string]Pool{},
		launchers: make([]*launcherUse, len(sc.Workloads))}
	for _, p := range sc.Cluster.Pools {
		r.pools[p.Name] = p
	}
	uses := false
	for i := range sc.Workloads {
		if sc.Workloads[i].App != nil || len(sc.Workloads[i].Runtimes) > 0 {
			uses = true
		}
	}
	if !uses && len(sc.Runtimes) == 0 && sc.Network.Profile == "" {
		return r, nil
	}
	n := &sc.Network
	var base *network.Profile
	if n.Profile != "" {
		p, err := v.readProfile(dir, n.Profile, "network.profile")
		if err != nil {
			return nil, err
		}
		base = p
	}
	r.intra = network.DefaultIntra()
	if n.Intra != "" {
		p, err := v.readProfile(dir, n.Intra, "network.intra")
		if err != nil {
			return nil, err
		}
		r.intra = p
	}
	switch n.Topology.Kind {
	case "", "one-switch":
		r.topology = network.OneSwitch()
	case "two-level":
		r.topology = network.TwoLevel(n.Topology.NodesPerLeaf, n.Topology.Oversubscription)
		if err := r.topology.Validate(); err != nil {
			return nil, v.errf("network.topology", "%s", short(err))
		}
	default:
		return nil, v.errf("network.topology.kind", "unknown topology %s (valid: one-switch, two-level)", quote(n.Topology.Kind))
	}
	for i := range sc.Runtimes {
		rt := &sc.Runtimes[i]
		path := fmt.Sprintf("runtimes[%d]", i)
		switch {
		case rt.Name == "":
			return nil, v.errf(path+".name", "required")
		case !dnsName.MatchString(rt.Name):
			return nil, v.errf(path+".name", "%s is not a valid name (lower-case letters, digits, '-' and '.')", quote(rt.Name))
		case r.runtimes[rt.Name] != nil:
			return nil, v.errf(path+".name", "duplicate runtime %s", quote(rt.Name))
		case !(rt.Background.Load >= 0) || !(rt.Background.Burst >= 0):
			return nil, v.errf(path+".background", "load and burst must not be negative")
		}
		if ref := rt.BackgroundFrom; ref != nil {
			if v.given(path + ".background") {
				return nil, v.errf(path+".backgroundFrom", "give background or backgroundFrom, not both")
			}
			bg, err := v.environmentBackground(ref, path+".backgroundFrom", dir)
			if err != nil {
				return nil, err
			}
			rt.Background = bg
		}
		p := base
		if rt.Profile != "" {
			q, err := v.readProfile(dir, rt.Profile, path+".profile")
			if err != nil {
				return nil, err
			}
			p = q
		}
		if p == nil {
			return nil, v.errf(path+".profile", "required when network.profile is not set")
		}
		r.runtimes[rt.Name] = p
		if rt.Intra != "" {
			q, err := v.readProfile(dir, rt.Intra, path+".intra")
			if err != nil {
				return nil, err
			}
			r.intras[rt.Name] = q
		}
	}
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		path := fmt.Sprintf("workloads[%d]", i)
		for k, name := range w.Runtimes {
			if r.runtimes[name] == nil {
				return nil, v.errf(fmt.Sprintf("%s.runtimes[%d]", path, k), "unknown runtime %s (valid: %s)", quote(name), strings.Join(runtimeNames(sc), ", "))
			}
			if slices.Index(w.Runtimes, name) != k {
				return nil, v.errf(fmt.Sprintf("%s.runtimes[%d]", path, k), "runtime %s listed twice", quote(name))
			}
		}
		if w.App == nil {
			if len(w.Runtimes) > 0 {
				return nil, v.errf(path+".runtimes", "runtimes apply to workloads with an app model")
			}
			if w.Launcher != nil && w.Trace != nil {
				// A replay's recorded runs, launched by the
				// operator's model.
				u, err := v.resolveLauncher(w, path, dir)
				if err != nil {
					return nil, err
				}
				r.launchers[i] = u
			}
			continue
		}
		fit, err := v.app(w, path, dir)
		if err != nil {
			return nil, err
		}
		if w.Launcher != nil {
			u, err := v.resolveLauncher(w, path, dir) // launcher.go
			if err != nil {
				return nil, err
			}
			r.launchers[i] = u
			// The launcher's model owns mpirun's start-up, which the
			// app's fit prices as its launch terms.
			fit = withoutLaunch(fit)
		}
		r.apps[i] = fit
		if len(w.Runtimes) == 0 {
			switch {
			case len(sc.Runtimes) == 1:
				w.Runtimes = []string{sc.Runtimes[0].Name}
			case len(sc.Runtimes) > 1:
				return nil, v.errf(path+".runtimes", "required: name the runtimes the app runs in (valid: %s)", strings.Join(runtimeNames(sc), ", "))
			case base == nil:
				return nil, v.errf(path+".app", "an app model needs a network: set network.profile (a NetworkProfile file) or define runtimes")
			default:
				r.runtimes[""] = base // no runtimes section: the network as it is
			}
		}
	}
	return r, nil
}

// intraOf is runtime rt's intra-node profile: its own (runtimes[].intra),
// else the scenario's (network.intra, or network.DefaultIntra).
func (r *resolved) intraOf(rt string) *network.Profile {
	if p := r.intras[rt]; p != nil {
		return p
	}
	return r.intra
}

// environmentBackground reads the background load of a fitted
// environment.
func (v *validator) environmentBackground(ref *EnvironmentRef, path, dir string) (apps.Background, error) {
	if ref.File == "" {
		return apps.Background{}, v.errf(path+".file", "required: an app parameter file (kind: AppModel)")
	}
	file := ref.File
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	f, err := v.appModel(file)
	if err != nil {
		return apps.Background{}, v.errf(path+".file", "%s", short(err))
	}
	fit, err := f.Lookup(ref.Fit)
	if err != nil {
		return apps.Background{}, v.errf(path+".fit", "%s", short(err))
	}
	var names []string
	for _, e := range fit.Environments {
		if e.Name == ref.Environment {
			return e.Background, nil
		}
		names = append(names, e.Name)
	}
	return apps.Background{}, v.errf(path+".environment", "fit %s of %s has no environment %s (valid: %s)", ref.Fit, ref.File, quote(ref.Environment), strings.Join(names, ", "))
}

func runtimeNames(sc *Scenario) []string {
	var out []string
	for _, rt := range sc.Runtimes {
		out = append(out, rt.Name)
	}
	if len(out) == 0 {
		return []string{"(none: add a runtimes section)"}
	}
	return out
}

// app validates a workload's app block and loads its parameter file.
func (v *validator) app(w *Workload, path, dir string) (*apps.Fit, error) {
	a := w.App
	ap := path + ".app"
	switch {
	case !slices.Contains(apps.Names, a.Model):
		return nil, v.errf(ap+".model", "unknown app model %s (valid: %s)", quote(a.Model), strings.Join(apps.Names, ", "))
	case a.File == "":
		return nil, v.errf(ap+".file", "required: the model's parameter file (kind: AppModel), e.g. apps/%s.yaml", a.Model)
	case a.RanksPerPod < 0:
		return nil, v.errf(ap+".ranksPerPod", "must not be negative, got %d", a.RanksPerPod)
	case !(a.CPUQuota >= 0):
		return nil, v.errf(ap+".cpuQuota", "must not be negative, got %v", a.CPUQuota)
	case !(a.CFSPeriod >= 0) || a.CFSPeriod > 1:
		return nil, v.errf(ap+".cfsPeriod", "must be between 0 (the kernel's 100 ms) and 1 s (cpu.cfs_period_us allows 1 ms to 1 s), got %v", a.CFSPeriod)
	case a.CFSPeriod > 0 && a.CFSPeriod < 0.001:
		return nil, v.errf(ap+".cfsPeriod", "must be at least 0.001 s (cpu.cfs_period_us allows 1 ms to 1 s), got %v", a.CFSPeriod)
	case w.Kind != "Pod":
		if w.Parallelism != 0 && w.Completions != 0 && w.Parallelism != w.Completions {
			return nil, v.errf(path+".completions", "an app job starts all its pods together: completions (%d) must equal parallelism (%d)", w.Completions, w.Parallelism)
		}
	}
	if w.RunTime != nil {
		return nil, v.errf(path+".runTime", "an app workload's run time comes from its model; remove runTime")
	}
	file := a.File
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	f, err := v.appModel(file)
	if err != nil {
		return nil, v.errf(ap+".file", "%s", short(err))
	}
	if f.App != a.Model {
		return nil, v.errf(ap+".file", "%s holds the %s model, not %s", a.File, f.App, a.Model)
	}
	fit, err := f.Lookup(a.Fit)
	if err != nil {
		return nil, v.errf(ap+".fit", "%s", short(err))
	}
	if a.Job != nil {
		if err := a.Job.Validate(); err != nil {
			var fe *apps.FieldError
			if errors.As(err, &fe) {
				return nil, v.errf(ap+"."+fe.Field, "%s", fe.Msg)
			}
			return nil, v.errf(ap, "%s", short(err))
		}
	}
	if a.RanksPerPod > maxAppSize {
		return nil, v.errf(ap+".ranksPerPod", "must be between 0 and %d, got %d", maxAppSize, a.RanksPerPod)
	}
	return fit, nil
}

// Bounds of an app workload's integers: counts of steps, iterations,
// walkers, samples (maxAppCount) and sizes per dimension or per pod
// (maxAppSize).
const (
	maxAppCount = 1_000_000_000
	maxAppSize  = 1_000_000
)

// maxPricedNodes bounds the placement priceApps prices.
const maxPricedNodes = 1024

// priceApps prices one job of every app workload in each of its
// runtimes on a plausible placement (its pods packed by cpu onto nodes
// of the first pool) and refuses a model whose run time is not finite
// or longer than MaxDuration: absurd inputs (steps: 1e9 with a big
// problem) are found here rather than mid-run. Jobs that need more than
// maxPricedNodes nodes are not priced.
func (v *validator) priceApps(sc *Scenario) error {
	if len(sc.Cluster.Pools) == 0 {
		return nil
	}
	pool := sc.Cluster.Pools[0]
	node := &engine.Node{Name: pool.Name + "-0", Pool: pool.Name, Allocatable: engine.Resources{MilliCPU: int64(pool.CPU), Memory: int64(pool.Memory)}}
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		if w.App == nil || sc.res.apps[i] == nil {
			continue
		}
		tmpl := w.template()
		pods := max(w.Parallelism, w.Completions, 1)
		perNode := 1
		if c := tmpl.Requests().MilliCPU; c > 0 {
			perNode = int(max(min(int64(pool.CPU)/c, int64(pods)), 1))
		}
		nodes := (pods + perNode - 1) / perNode
		if nodes > maxPricedNodes {
			continue
		}
		pl := make([]engine.NodeShare, nodes)
		left := pods
		for k := range pl {
			pl[k] = engine.NodeShare{Node: node, Pods: min(perNode, left)}
			left -= pl[k].Pods
		}
		runtimes := w.Runtimes
		if len(runtimes) == 0 {
			runtimes = []string{""}
		}
		for _, rt := range runtimes {
			res, err := sc.runModel(i, rt, tmpl).RunTime(pl)
			ap := fmt.Sprintf("workloads[%d].app", i)
			in := ""
			if rt != "" {
				in = " in runtime " + rt
			}
			switch {
			case err != nil:
				return v.errf(ap, "the %s model cannot price a job of %d pods on %d nodes of pool %s%s: %s", w.App.Model, pods, nodes, pool.Name, in, short(err))
			case !(res.Seconds >= 0) || res.Seconds > MaxDuration:
				return v.errf(ap, "the %s model prices a job of %d pods on %d nodes of pool %s%s at %s s, longer than the longest duration a scenario may give (%s); check its sizes and steps", w.App.Model, pods, nodes, pool.Name, in, secs(res.Seconds), maxDurationText)
			}
		}
	}
	return nil
}

// appRun is the engine.RunModel of one app job in one runtime.
type appRun struct {
	spec   *AppSpec
	fit    *apps.Fit
	fabric *network.Fabric
	bg     apps.Background
	pools  map[string]Pool
	perPod int
	// cpuShared: two schedulers may put jobs on one machine's cores
	// (Usernetes sharing all cores with Flux), so a run also asks for
	// its machine's CPU (Demand).
	cpuShared bool
}

// RunTime builds the model's environment from the placement (env) and
// prices the run.
func (a *appRun) RunTime(pl []engine.NodeShare) (engine.RunResult, error) {
	env, ranks := a.env(pl)
	m, err := a.model(ranks)
	if err != nil {
		return engine.RunResult{}, err
	}
	return m.RunTime(env)
}

func (a *appRun) model(ranks int) (apps.Model, error) {
	return a.spec.Job.Model(a.fit.Parameters, ranks)
}

// appModel loads an app model file once per scenario: workloads (and
// runtimes' backgroundFrom) that name the same file share it. Callers
// copy what they change (withoutLaunch).
func (v *validator) appModel(file string) (*apps.File, error) {
	if f, ok := v.apps[file]; ok {
		return f, nil
	}
	f, err := LoadAppModel(file)
	if err != nil {
		return nil, err
	}
	if v.apps == nil {
		v.apps = map[string]*apps.File{}
	}
	v.apps[file] = f
	return f, nil
}
