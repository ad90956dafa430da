package apps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/network"
)

// App is what an application model says about itself: its name, its
// fitted parameters (the parameters block of an AppModel file), and
// the shape of one run — the keys a scenario gives under
// workloads[].app besides the common ones (model, file, fit,
// ranksPerPod, cpuQuota) — which builds the Model for a number of
// ranks. The scenario loader decodes the shape into the type the app
// registers, so a new model is added here and nowhere in the loader.
type App struct {
	Name string
	// Params returns new zero parameters to decode a fit into.
	Params func() Params
	// Job returns a pointer to a new zero job shape to decode into.
	Job func() JobShape
}

// JobShape is one run of an app as a scenario describes it.
type JobShape interface {
	// Validate reports the first impossible field as a FieldError (its
	// Field relative to workloads[].app).
	Validate() error
	// Model builds the model of a run of ranks ranks with the fit's
	// parameters (of the app's own Params type).
	Model(p Params, ranks int) (Model, error)
}

// Sized is a job shape whose size a workflow draws afresh for each run
// (lammps: the -v x, y, z replicas of the input).
type Sized interface {
	JobShape
	// SizeNames names the size's dimensions, in order.
	SizeNames() []string
	// WithSize returns a copy of the shape with that size.
	WithSize(size []int) (JobShape, error)
}

// apps are the registered models, by name.
var apps = map[string]*App{}

// register adds an app model; each model registers itself (init).
func register(a App) {
	if apps[a.Name] != nil {
		panic("apps: " + a.Name + " registered twice")
	}
	apps[a.Name] = &a
	Names = append(Names, a.Name)
	slices.Sort(Names)
}

// Lookup returns the named app model, or an error listing the valid
// names.
func Lookup(name string) (*App, error) {
	if a := apps[name]; a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("%w: unknown app %q; valid apps: %s", ErrInvalid, name, strings.Join(Names, ", "))
}

// Bounds of a job shape's integers: counts of steps, iterations,
// walkers, samples (MaxCount) and sizes per dimension (MaxSize).
const (
	MaxCount = 1_000_000_000
	MaxSize  = 1_000_000
)

func between(field string, x, lo, hi int, what string) error {
	switch {
	case x == 0 && lo > 0 && what != "":
		return &FieldError{field, "required " + what}
	case x < lo || x > hi:
		return &FieldError{field, fmt.Sprintf("must be between %d and %d, got %d", lo, hi, x)}
	}
	return nil
}

// between3 checks three sizes: all given (what says what they are),
// each between 1 and MaxSize.
func between3(field string, x [3]int, what string) error {
	for i, v := range x {
		if v < 0 || v > MaxSize {
			return &FieldError{fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("must be between 0 and %d, got %d", MaxSize, v)}
		}
	}
	if x[0] == 0 || x[1] == 0 || x[2] == 0 {
		return &FieldError{field, "required " + what}
	}
	return nil
}

func params[T Params](p Params, app string) (T, error) {
	q, ok := p.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: %s: parameters of type %T", ErrInvalid, app, p)
	}
	return q, nil
}

// LAMMPSJob is a LAMMPS run: the -v x/y/z replicas of the input and
// the steps.
type LAMMPSJob struct {
	Replicas [3]int `yaml:"replicas"`
	Steps    int    `yaml:"steps"`
}

func (j *LAMMPSJob) Validate() error {
	return firstErr(between3("replicas", j.Replicas, "for lammps: the -v x, y, z replicas, three positive integers"),
		between("steps", j.Steps, 1, MaxCount, "for lammps: the time steps run, a positive integer"))
}

// SizeNames implements Sized: x, y, z.
func (j *LAMMPSJob) SizeNames() []string { return []string{"x", "y", "z"} }

// WithSize implements Sized.
func (j *LAMMPSJob) WithSize(size []int) (JobShape, error) {
	if len(size) != 3 {
		return nil, &FieldError{"replicas", fmt.Sprintf("lammps takes 3 sizes (x, y, z), got %d", len(size))}
	}
	c := *j
	copy(c.Replicas[:], size)
	return &c, c.Validate()
}

func (j *LAMMPSJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*LAMMPSParams](p, "lammps")
	return &LAMMPS{Params: q, Replicas: j.Replicas, Steps: j.Steps}, err
}

// AMGJob is an AMG run: the block each rank owns (-n) and the solver
// iterations (0: the fitted convergence); the process grid (-P) is
// network.ProcessGrid(ranks).
type AMGJob struct {
	ProblemPerRank [3]int `yaml:"problemPerRank"`
	Iterations     int    `yaml:"iterations"`
}

func (j *AMGJob) Validate() error {
	return firstErr(between3("problemPerRank", j.ProblemPerRank, "for amg: the -n problem per rank, three positive integers"),
		between("iterations", j.Iterations, 0, MaxCount, ""))
}

func (j *AMGJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*AMGParams](p, "amg")
	return &AMG{Params: q, N: j.ProblemPerRank, P: network.ProcessGrid(ranks), Iterations: j.Iterations}, err
}

// TrainingJob is a data-parallel training run: steps and samples per
// step over all ranks.
type TrainingJob struct {
	Steps       int `yaml:"steps"`
	GlobalBatch int `yaml:"globalBatch"`
}

func (j *TrainingJob) Validate() error {
	return firstErr(between("steps", j.Steps, 1, MaxCount, "for training: the training steps, a positive integer"),
		between("globalBatch", j.GlobalBatch, 1, MaxCount, "for training: samples per step over all ranks, a positive integer"))
}

func (j *TrainingJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*TrainingParams](p, "training")
	return &Training{Params: q, GlobalBatch: j.GlobalBatch, Steps: j.Steps}, err
}

// QMCPACKJob is a QMCPACK run: the walkers over all ranks and the
// driver sections of the input, in order.
type QMCPACKJob struct {
	Walkers  int              `yaml:"walkers"`
	Sections []QMCSectionSpec `yaml:"sections"`
}

// QMCSectionSpec is one driver section of a QMCPACK input (a <qmc>
// block) as a scenario gives it.
type QMCSectionSpec struct {
	Name   string `yaml:"name"`
	Blocks int    `yaml:"blocks"`
	Steps  int    `yaml:"steps"`
	DMC    bool   `yaml:"dmc"`
}

func (j *QMCPACKJob) Validate() error {
	if err := between("walkers", j.Walkers, 1, MaxCount, "for qmcpack: the walkers over all ranks, a positive integer"); err != nil {
		return err
	}
	if len(j.Sections) == 0 {
		return &FieldError{"sections", "required for qmcpack: the driver sections, e.g. [{name: vmc, blocks: 1, steps: 5}, {name: dmc, blocks: 10, steps: 5, dmc: true}]"}
	}
	names := map[string]bool{}
	for k, q := range j.Sections {
		sp := fmt.Sprintf("sections[%d]", k)
		switch {
		case q.Name == "":
			return &FieldError{sp + ".name", "required (it names the section's phase in the report)"}
		case names[q.Name]:
			return &FieldError{sp + ".name", fmt.Sprintf("duplicate section %q", q.Name)}
		}
		if err := firstErr(between(sp+".blocks", q.Blocks, 1, MaxCount, ""), between(sp+".steps", q.Steps, 1, MaxCount, "")); err != nil {
			return err
		}
		names[q.Name] = true
	}
	return nil
}

func (j *QMCPACKJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*QMCPACKParams](p, "qmcpack")
	secs := make([]QMCSection, len(j.Sections))
	for i, s := range j.Sections {
		secs[i] = QMCSection{Name: s.Name, Blocks: s.Blocks, Steps: s.Steps, DMC: s.DMC}
	}
	return &QMCPACK{Params: q, Walkers: j.Walkers, Sections: secs}, err
}

// PatternJob is a run of the generic MPI pattern (all in its fit).
type PatternJob struct{}

func (j *PatternJob) Validate() error { return nil }

func (j *PatternJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*PatternParams](p, "mpi-pattern")
	return &Pattern{Params: q}, err
}

// FixedJob is a run of fixed duration (all in its fit).
type FixedJob struct{}

func (j *FixedJob) Validate() error { return nil }

func (j *FixedJob) Model(p Params, ranks int) (Model, error) {
	q, err := params[*FixedParams](p, "fixed")
	return &Fixed{Params: q}, err
}

func init() {
	register(App{Name: "lammps", Params: func() Params { return &LAMMPSParams{} }, Job: func() JobShape { return &LAMMPSJob{} }})
	register(App{Name: "amg", Params: func() Params { return &AMGParams{} }, Job: func() JobShape { return &AMGJob{} }})
	register(App{Name: "qmcpack", Params: func() Params { return &QMCPACKParams{} }, Job: func() JobShape { return &QMCPACKJob{} }})
	register(App{Name: "training", Params: func() Params { return &TrainingParams{} }, Job: func() JobShape { return &TrainingJob{} }})
	register(App{Name: "mpi-pattern", Params: func() Params { return &PatternParams{} }, Job: func() JobShape { return &PatternJob{} }})
	register(App{Name: "fixed", Params: func() Params { return &FixedParams{} }, Job: func() JobShape { return &FixedJob{} }})
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
