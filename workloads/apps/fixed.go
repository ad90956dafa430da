package apps

import "fmt"

// FixedParams is a run time that does not depend on placement (a
// service's lifetime, a recorded duration).
type FixedParams struct {
	Seconds float64 `yaml:"seconds"`
}

// Validate reports a negative or infinite duration.
func (p *FixedParams) Validate() error { return checkAll(nonNeg("seconds", p.Seconds)) }

// Fixed runs for Params.Seconds wherever it is placed.
type Fixed struct {
	Params *FixedParams
}

// RunTime returns the fixed duration (the environment is still
// checked, so a fixed job cannot hide an impossible placement).
func (m *Fixed) RunTime(env *Env) (Result, error) {
	if err := env.Validate(); err != nil {
		return Result{}, err
	}
	if m.Params == nil {
		return Result{}, fmt.Errorf("%w: fixed: no parameters", ErrInvalid)
	}
	if err := m.Params.Validate(); err != nil {
		return Result{}, fmt.Errorf("fixed: %w", err)
	}
	return Result{Seconds: m.Params.Seconds, Phases: []Phase{{Name: "run", Seconds: m.Params.Seconds}}}, nil
}
