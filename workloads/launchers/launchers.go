package launchers

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/convergesim/converge/workloads/apps"
)

// Kind names a launcher, as files and scenarios name it.
type Kind string

// The launchers modelled.
const (
	MPIJob      Kind = "mpijob"      // MPI Operator v2 (kubeflow.org/v2beta1 MPIJob)
	MiniCluster Kind = "minicluster" // Flux Operator (flux-framework.org MiniCluster)
	PyTorchJob  Kind = "pytorchjob"  // Kubeflow training-operator (kubeflow.org/v1 PyTorchJob)
	IndexedJob  Kind = "indexedjob"  // a batch/v1 Job with completionMode Indexed, no launcher
)

// Kinds lists the launchers in the order files and messages use.
var Kinds = []Kind{MPIJob, MiniCluster, PyTorchJob, IndexedJob}

// ErrInvalid marks impossible launcher parameters and unknown kinds.
var ErrInvalid = errors.New("invalid launcher model")

// FieldError is an impossible parameter, by its YAML field path
// relative to the parameter block.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Size is a job's shape as a launcher sees it: Nodes pods of the
// application, one a node (the workers of an MPIJob, the brokers of a
// MiniCluster, master and workers of a PyTorchJob, the indexes of an
// Indexed Job), and Ranks processes over them.
type Size struct {
	Nodes int
	Ranks int
}

func (s Size) check() error {
	if s.Nodes < 1 || s.Ranks < s.Nodes {
		return fmt.Errorf("%w: a job of %d nodes and %d ranks (need at least one node and a rank a node)", ErrInvalid, s.Nodes, s.Ranks)
	}
	return nil
}

// Role is one kind of pod a launcher creates.
type Role struct {
	// Name is the role as the operator labels it (worker, launcher, …).
	Name string
	// Pods is how many the job has.
	Pods int
	// CreatedBy says which controller creates them and through which
	// client limits.
	CreatedBy string
	// When says when they are created: with the job, or once other
	// roles are up.
	When string
	// Dedicated is set for a pod that runs no ranks (an MPIJob's
	// launcher): it goes to the launcher nodes when a scenario taints
	// some, and holds a node's slot apart from the application's.
	Dedicated bool
	// InitContainers run before the role's main container.
	InitContainers []string
	// RunsApp says whether the role's main container runs ranks.
	RunsApp bool
}

// Plan is what a launcher makes of a job: its roles and what must be
// up before the application starts.
type Plan struct {
	Kind  Kind
	Roles []Role
	// Gate is the condition for the application to start.
	Gate string
	// GateTimeout is how long the launcher waits for the gate once it
	// tries (seconds; 0: for ever), and OnGateTimeout what happens then.
	GateTimeout   float64
	OnGateTimeout string
}

// Pods is the job's pod count over its roles.
func (p Plan) Pods() int {
	n := 0
	for _, r := range p.Roles {
		n += r.Pods
	}
	return n
}

// Where a phase of a launch lies on the job's timeline.
const (
	// BeforePods: between the job's creation and its pods' creation
	// (an operator's API calls).
	BeforePods = "before pods"
	// BeforeApp: between the gate (the pods the application needs are
	// running) and the application's start.
	BeforeApp = "before app"
	// AfterApp: between the application's end and the job's completion.
	AfterApp = "after app"
	// Outside: part of the operator's end-to-end time that a simulation
	// produces itself or that falls outside the job's measured run: an
	// MPIJob's launcher Job becoming a running pod (the engine creates
	// and starts that pod) and the status updates after mpirun exits
	// (the canopie22 logs: the MPIJob's runtime, Running → Succeeded,
	// equals mpirun's real time within 0.2 s). Standalone predictions
	// count it; a simulated run does not add it.
	Outside = "outside the run"
)

// Phase is one part of the start-up cost a launcher adds, with its
// expected seconds.
type Phase struct {
	Name    string
	Where   string // BeforePods, BeforeApp or AfterApp
	Seconds float64
}

// Bootstrap is the cost a launcher adds to a job of a given size, over
// what its pods' own start-up costs (scheduling, kubelet, images: the
// engine's): the phases in order, and the offsets (seconds after the
// job's creation) at which the operator creates each pod of each role.
type Bootstrap struct {
	Phases []Phase
	// Created maps a role to its pods' creation offsets (index order);
	// a role absent here is created when its When condition holds.
	Created map[string][]float64
}

// Total is the sum of the phases at where (all of them when "").
func (b Bootstrap) Total(where string) float64 {
	s := 0.0
	for _, p := range b.Phases {
		if where == "" || p.Where == where {
			s += p.Seconds
		}
	}
	return s
}

// Launcher is one launcher with its parameters.
type Launcher interface {
	Kind() Kind
	// Plan lists the pods a job of size s gets and its gate.
	Plan(s Size) (Plan, error)
	// Bootstrap is the expected start-up and wind-down cost of a job of
	// size s, phase by phase.
	Bootstrap(s Size) (Bootstrap, error)
	// SampleBootstrap is one launch of a job of size s: the phases
	// with their random parts (late parties, poll phases) drawn from r.
	SampleBootstrap(s Size, r *rand.Rand) (Bootstrap, error)
	// Intervals are the stretches of a launch the launcher predicts as
	// distributions, by name (as the calibration data measure them);
	// nil when it has none.
	Intervals(s Size) (map[string]Dist, error)
}

// Params is one launcher's parameters: the parameters block of an
// entry of a LauncherModel file.
type Params interface {
	// Validate reports the first impossible parameter as a FieldError.
	Validate() error
	// Launcher builds the launcher (valid parameters).
	Launcher() Launcher
}

// NewParams returns zero parameters for kind, ready to be decoded into,
// or an error listing the kinds.
func NewParams(kind Kind) (Params, error) {
	switch kind {
	case MPIJob:
		return &MPIJobParams{}, nil
	case MiniCluster:
		return &MiniClusterParams{}, nil
	case PyTorchJob:
		return &PyTorchJobParams{}, nil
	case IndexedJob:
		return &IndexedJobParams{}, nil
	}
	return nil, fmt.Errorf("%w: unknown launcher %q; valid launchers: %s", ErrInvalid, kind, kindList())
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// File is a LauncherModel parameter file (scenarios/launchers/*.yaml):
// kind LauncherModel, version 1, one entry per launcher.
type File struct {
	Kind        string  `yaml:"kind"`
	Version     int     `yaml:"version"`
	Description string  `yaml:"description"`
	Launchers   []Entry `yaml:"launchers"`
}

// Entry is one launcher's parameters with where they came from.
type Entry struct {
	Name       string          `yaml:"name"`
	Type       Kind            `yaml:"type"`
	Hardware   string          `yaml:"hardware"`
	Parameters Params          `yaml:"parameters"`
	Provenance apps.Provenance `yaml:"provenance"`
}

// Lookup returns the entry named name, or an error listing the entries.
func (f *File) Lookup(name string) (*Entry, error) {
	var names []string
	for i := range f.Launchers {
		if f.Launchers[i].Name == name {
			return &f.Launchers[i], nil
		}
		names = append(names, f.Launchers[i].Name)
	}
	return nil, fmt.Errorf("%w: no launcher %q; launchers: %s", ErrInvalid, name, strings.Join(names, ", "))
}

// FileKind is the kind of a launcher parameter file.
const FileKind = "LauncherModel"

// Validate checks the header, every entry's parameters and the figures
// of its provenance; the error is a FieldError with the path from the
// file's root.
func (f *File) Validate() error {
	switch {
	case f.Kind != FileKind:
		return &FieldError{"kind", fmt.Sprintf("must be %s, got %q", FileKind, f.Kind)}
	case f.Version != 1:
		return &FieldError{"version", fmt.Sprintf("must be 1, got %d", f.Version)}
	case len(f.Launchers) == 0:
		return &FieldError{"launchers", "at least one launcher is needed"}
	}
	seen := map[string]bool{}
	for i, e := range f.Launchers {
		path := fmt.Sprintf("launchers[%d]", i)
		if e.Name == "" {
			return &FieldError{path + ".name", "must not be empty"}
		}
		if seen[e.Name] {
			return &FieldError{path + ".name", fmt.Sprintf("duplicate launcher %q", e.Name)}
		}
		seen[e.Name] = true
		if !slices.Contains(Kinds, e.Type) {
			return &FieldError{path + ".type", fmt.Sprintf("unknown launcher %q; valid launchers: %s", e.Type, kindList())}
		}
		if e.Parameters == nil {
			return &FieldError{path + ".parameters", "missing"}
		}
		if err := e.Parameters.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return &FieldError{path + ".parameters." + fe.Field, fe.Msg}
			}
			return &FieldError{path + ".parameters", err.Error()}
		}
		if err := checkProvenance(path+".provenance", &e.Provenance); err != nil {
			return err
		}
	}
	return nil
}

// checkProvenance: a command that regenerates the entry, and figures
// that are percentages and ranges that hold their values.
func checkProvenance(path string, p *apps.Provenance) error {
	if strings.TrimSpace(p.Command) == "" {
		return &FieldError{path + ".command", "must say how the parameters were obtained (the command that refits them, or \"none: assumed\")"}
	}
	if m := p.InSampleMAPE; m != nil && !(*m >= 0 && !math.IsInf(*m, 0)) {
		return &FieldError{path + ".inSampleMAPE", fmt.Sprintf("%g is not a percentage", *m)}
	}
	if h := p.HeldOut; h != nil {
		if !(h.MAPE >= 0 && !math.IsInf(h.MAPE, 0)) {
			return &FieldError{path + ".heldOut.mape", fmt.Sprintf("%g is not a percentage", h.MAPE)}
		}
		for j, b := range h.Baselines {
			if !(b.MAPE >= 0 && !math.IsInf(b.MAPE, 0)) {
				return &FieldError{fmt.Sprintf("%s.heldOut.baselines[%d].mape", path, j), fmt.Sprintf("%g is not a percentage", b.MAPE)}
			}
		}
	}
	for j, s := range p.Parameters {
		if !(s.Min <= s.Value && s.Value <= s.Max) {
			return &FieldError{fmt.Sprintf("%s.parameters[%d]", path, j), fmt.Sprintf("%s: range %g–%g does not hold the value %g", s.Name, s.Min, s.Max, s.Value)}
		}
	}
	return nil
}

// check is one parameter bound for Validate.
type check struct {
	field    string
	v        float64
	positive bool
}

func nonNeg(field string, v float64) check   { return check{field, v, false} }
func positive(field string, v float64) check { return check{field, v, true} }

func checkAll(cs ...check) error {
	for _, c := range cs {
		switch {
		case math.IsNaN(c.v) || math.IsInf(c.v, 0):
			return &FieldError{c.field, fmt.Sprintf("%g is not a number of the right kind", c.v)}
		case c.positive && c.v <= 0:
			return &FieldError{c.field, fmt.Sprintf("%g must be positive", c.v)}
		case c.v < 0:
			return &FieldError{c.field, fmt.Sprintf("%g must not be negative", c.v)}
		}
	}
	return nil
}

func probability(field string, v float64) error {
	if !(v >= 0 && v < 1) {
		return &FieldError{field, fmt.Sprintf("%g must be a probability in [0, 1)", v)}
	}
	return nil
}

// tbonDepth is the number of levels below the root of a k-ary tree of
// n brokers (rank 0 at the root, ranks filled level by level): 0 for
// one broker.
func tbonDepth(n, k int) int {
	if n <= 1 {
		return 0
	}
	if k < 1 {
		k = 1
	}
	d, inTree, level := 0, 1, 1
	for inTree < n {
		level *= k
		inTree += level
		d++
		if k == 1 && d > n {
			break
		}
	}
	return d
}

// expected and sampled waits for late parties.
func expectedLate(l Late) float64 { return l.Mean() }

func sampledLate(r *rand.Rand) func(Late) float64 {
	return func(l Late) float64 { return max(0, Dist{Late: l}.Sample(r)) }
}

// tokenBucket returns the times (seconds after the first call) at
// which n sequential API calls are issued by a client-go client with a
// token bucket of qps and burst, full at the start, each call taking
// latency seconds before the next is made.
func tokenBucket(n int, qps float64, burst int, latency float64) []float64 {
	out := make([]float64, n)
	t := 0.0
	for i := range n {
		if i > 0 {
			t += latency
		}
		if i >= burst && qps > 0 {
			t = max(t, float64(i-burst+1)/qps)
		}
		out[i] = t
	}
	return out
}
