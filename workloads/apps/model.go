package apps

import (
	"fmt"

	"github.com/convergesim/converge/network"
	"math"
	"slices"
	"strings"
)

// Model turns a placement into run time: RunTime prices one run of the
// model's job in env.
type Model interface {
	RunTime(env *Env) (Result, error)
}

// Params is one app's fitted parameters (the parameters block of a
// scenarios/apps file).
type Params interface {
	// Validate reports the first impossible parameter as a FieldError.
	Validate() error
}

// FieldError is an impossible parameter, by its YAML field path
// relative to the parameter block (input.cell[1], pairPerAtom).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Names are the registered app models, as files and scenarios name
// them, sorted.
var Names []string

// NewParams returns zero parameters for the named app, ready to be
// decoded into, or an error listing the valid names.
func NewParams(app string) (Params, error) {
	a, err := Lookup(app)
	if err != nil {
		return nil, err
	}
	return a.Params(), nil
}

// File is a scenarios/apps parameter file: kind AppModel, version 1,
// one app and its fits, one per machine and data set.
type File struct {
	Kind        string `yaml:"kind"`
	Version     int    `yaml:"version"`
	App         string `yaml:"app"`
	Description string `yaml:"description"`
	Fits        []Fit  `yaml:"fits"`
}

// Fit is one fitted parameter set with where it came from.
type Fit struct {
	Name string
	// Hardware says what the parameters were fitted on.
	Hardware string
	// Node is that hardware's node shape.
	Node Node
	// Parameters are the app's (a *LAMMPSParams for lammps, …).
	Parameters Params
	// Environments are the runtimes of the data set, as fitted with the
	// parameters (a daemon load the data imply, say).
	Environments []Environment
	Provenance   Provenance
}

// Environment is one runtime of a data set: its transport and the
// background load its nodes carried.
type Environment struct {
	Name string `yaml:"name"`
	// Network names the inter-node transport (a profile file, or how
	// the profile was built).
	Network string `yaml:"network"`
	// Profile is the transport when it was fitted with the app (no
	// point-to-point measurements of it exist); nil otherwise.
	Profile    *network.Profile `yaml:"profile"`
	Background Background       `yaml:"background"`
}

// Background is the daemon load of a node (Env.BackgroundLoad and
// Env.BackgroundBurst).
type Background struct {
	// Load is cores kept busy on average.
	Load float64 `yaml:"load"`
	// Burst is the length of one burst, seconds.
	Burst float64 `yaml:"burst"`
}

// Lookup returns the fit named name, or an error listing the fits.
func (f *File) Lookup(name string) (*Fit, error) {
	var names []string
	for i := range f.Fits {
		if f.Fits[i].Name == name {
			return &f.Fits[i], nil
		}
		names = append(names, f.Fits[i].Name)
	}
	return nil, fmt.Errorf("%w: app %s has no fit %q; fits: %s", ErrInvalid, f.App, name, strings.Join(names, ", "))
}

// Provenance records how a parameter set was obtained.
type Provenance struct {
	// Data are the measurement files, each with its SHA-256 (for a
	// folder or archive member set: the SHA-256 of the sorted lines
	// "<sha256>  <path>" of its files, as sha256sum prints them).
	Data []DataFile `yaml:"data"`
	// Command refits the parameters.
	Command string `yaml:"command"`
	// Method is the fitting method and objective.
	Method string `yaml:"method"`
	// InSampleMAPE is the mean absolute percentage error of the run
	// times on the very runs the parameters were fitted to, %: how well
	// the model fits, not how well it predicts. Absent for a parameter
	// set that was not fitted.
	InSampleMAPE *float64 `yaml:"inSampleMAPE,omitempty"`
	// HeldOut is the error on runs left out of the fit (cross-validated),
	// with naive baselines fitted on the same training folds: how well
	// the model predicts. Absent when not fitted.
	HeldOut *HeldOut `yaml:"heldOut,omitempty"`
	// Parameters are the fitted parameters with their spread over refits
	// from several starting points and whether the data pin them down.
	Parameters []ParamSpread `yaml:"parameters,omitempty"`
	// InSampleResiduals are per-case relative errors (model/measured −
	// 1, %) of the fit on its own data.
	InSampleResiduals []Residual `yaml:"inSampleResiduals,omitempty"`
	// Notes say what the data cannot pin down and what was assumed.
	Notes string `yaml:"notes"`
}

// HeldOut is a cross-validated prediction error.
type HeldOut struct {
	// Scheme says how the runs were split (leave one node count out, …).
	Scheme string `yaml:"scheme"`
	// MAPE is the mean absolute percentage error over the held-out runs,
	// each predicted by the fit made without its fold, %.
	MAPE float64 `yaml:"mape"`
	// Baselines are naive predictors fitted on the same training folds.
	Baselines []BaselineError `yaml:"baselines"`
}

// BaselineError is a naive predictor's held-out MAPE, %.
type BaselineError struct {
	Name string  `yaml:"name"`
	MAPE float64 `yaml:"mape"`
}

// ParamSpread is one fitted parameter: its value, the range it took over
// refits from several starting points that fit as well, and whether the
// data pin it down (Identified) with the reason (Note).
type ParamSpread struct {
	Name       string  `yaml:"name"`
	Value      float64 `yaml:"value"`
	Min        float64 `yaml:"min"`
	Max        float64 `yaml:"max"`
	Identified bool    `yaml:"identified"`
	Note       string  `yaml:"note,omitempty"`
}

// DataFile is one input of a fit.
type DataFile struct {
	Path   string `yaml:"path"`
	SHA256 string `yaml:"sha256"`
}

// Residual is the error of the fitted model on one case of the data.
type Residual struct {
	Case     string  `yaml:"case"`
	Measured float64 `yaml:"measured"`
	Model    float64 `yaml:"model"`
	ErrorPct float64 `yaml:"errorPct"`
}

// Validate checks the header and every fit's parameters; the error is
// a FieldError with the path from the file's root.
func (f *File) Validate() error {
	switch {
	case f.Kind != "AppModel":
		return &FieldError{"kind", fmt.Sprintf("must be AppModel, got %q", f.Kind)}
	case f.Version != 1:
		return &FieldError{"version", fmt.Sprintf("must be 1, got %d", f.Version)}
	case !slices.Contains(Names, f.App):
		return &FieldError{"app", fmt.Sprintf("unknown app %q; valid apps: %s", f.App, strings.Join(Names, ", "))}
	case len(f.Fits) == 0:
		return &FieldError{"fits", "at least one fit is needed"}
	}
	seen := map[string]bool{}
	for i, fit := range f.Fits {
		path := fmt.Sprintf("fits[%d]", i)
		if fit.Name == "" {
			return &FieldError{path + ".name", "must not be empty"}
		}
		if seen[fit.Name] {
			return &FieldError{path + ".name", fmt.Sprintf("duplicate fit %q", fit.Name)}
		}
		seen[fit.Name] = true
		if err := fit.Node.Validate(); err != nil {
			return &FieldError{path + ".node", err.Error()}
		}
		if fit.Parameters == nil {
			return &FieldError{path + ".parameters", "missing"}
		}
		if err := fit.Parameters.Validate(); err != nil {
			if fe, ok := err.(*FieldError); ok {
				return &FieldError{path + ".parameters." + fe.Field, fe.Msg}
			}
			return &FieldError{path + ".parameters", err.Error()}
		}
		for j, e := range fit.Environments {
			ep := fmt.Sprintf("%s.environments[%d]", path, j)
			if e.Name == "" {
				return &FieldError{ep + ".name", "must not be empty"}
			}
			if e.Profile != nil {
				if err := e.Profile.Validate(); err != nil {
					return &FieldError{ep + ".profile", err.Error()}
				}
			}
			if err := checkAll(nonNeg(ep+".background.load", e.Background.Load), nonNeg(ep+".background.burst", e.Background.Burst)); err != nil {
				return err
			}
		}
		if err := fit.Provenance.validate(path + ".provenance"); err != nil {
			return err
		}
	}
	return nil
}

// validate checks that every error figure is a percentage and every
// parameter range holds its value.
func (p *Provenance) validate(path string) error {
	if m := p.InSampleMAPE; m != nil && !finiteNonNeg(*m) {
		return &FieldError{path + ".inSampleMAPE", fmt.Sprintf("%g must be finite and not negative", *m)}
	}
	if h := p.HeldOut; h != nil {
		if !finiteNonNeg(h.MAPE) {
			return &FieldError{path + ".heldOut.mape", fmt.Sprintf("%g must be finite and not negative", h.MAPE)}
		}
		for i, b := range h.Baselines {
			if !finiteNonNeg(b.MAPE) {
				return &FieldError{fmt.Sprintf("%s.heldOut.baselines[%d].mape", path, i), fmt.Sprintf("%g must be finite and not negative", b.MAPE)}
			}
		}
	}
	for i, s := range p.Parameters {
		if !(s.Min <= s.Value && s.Value <= s.Max) {
			return &FieldError{fmt.Sprintf("%s.parameters[%d]", path, i), fmt.Sprintf("value %g outside its range [%g, %g]", s.Value, s.Min, s.Max)}
		}
	}
	return nil
}

// check is a parameter's constraint.
type check struct {
	field string
	v     float64
	pos   bool // positive, not just non-negative
}

func checkAll(cs ...check) error {
	for _, c := range cs {
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return &FieldError{c.field, fmt.Sprintf("%g must be finite", c.v)}
		}
		if c.pos && c.v <= 0 {
			return &FieldError{c.field, fmt.Sprintf("%g must be positive", c.v)}
		}
		if c.v < 0 {
			return &FieldError{c.field, fmt.Sprintf("%g must not be negative", c.v)}
		}
	}
	return nil
}

func nonNeg(field string, v float64) check   { return check{field, v, false} }
func positive(field string, v float64) check { return check{field, v, true} }

// Environment returns the fit's environment named name.
func (f *Fit) Environment(name string) (*Environment, error) {
	var names []string
	for i := range f.Environments {
		if f.Environments[i].Name == name {
			return &f.Environments[i], nil
		}
		names = append(names, f.Environments[i].Name)
	}
	return nil, fmt.Errorf("%w: fit %s has no environment %q; environments: %s", ErrInvalid, f.Name, name, strings.Join(names, ", "))
}
