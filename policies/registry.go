package policies

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
)

// Registration is what a scheduler model says about itself: its name
// and aliases, the configuration sections it owns (each decoded from
// the scenario's policy.<section> block into the section's own type),
// the sections of other models it reads (Coscheduling and Fluence run
// inside kube-scheduler and read its section), and its factory. This
// follows kube-scheduler's framework, where every plugin brings its
// args type, defaults and validation, and the framework decodes
// pluginConfig[].args by plugin name.
type Registration struct {
	Name    string
	Aliases []string
	// Doc is one line for listings.
	Doc string
	// Sections are the configuration sections this model owns.
	Sections []Section
	// Reads lists sections owned by other models that this one uses.
	Reads []string
	// New builds the policy from the decoded sections and the run's
	// random streams (the policy draws only from streams it names).
	New func(cfg Config, streams *engine.Streams) (engine.Policy, error)
}

// Section is one configuration section of the scenario's policy block.
type Section struct {
	// Name is the key under policy: (policy.<name>).
	Name string
	// Default returns a pointer to a new configuration value holding
	// the defaults. The scenario loader decodes the section into it
	// strictly (yaml tags name the keys), so every key the type does
	// not have is an error naming the file, line and field.
	Default func() any
	// Validate checks a decoded value (the pointer Default returned).
	// Its errors name the field inside the section: a *FieldError, or
	// the errors of Checker, or "field.path: message".
	Validate func(cfg any, chk Checker) error
}

// Checker applies the scenario's common bounds to a section's values.
type Checker interface {
	// Seconds checks a duration: not negative and at most the longest
	// duration a scenario may give.
	Seconds(field string, x float64) error
	// Rate checks a rate per second: 0 (unlimited) or at least one per
	// the longest duration.
	Rate(field string, x float64) error
}

// WorkloadRefs is implemented by a section that names scenario
// workloads (Fluence's kubeWorkloads): the scenario checks that each
// name is one of its workloads. Field is the list's field in the
// section.
type WorkloadRefs interface {
	WorkloadRefs() (field string, names []string)
}

// FieldError is a problem with one field of a section; Field is the
// path inside the section (e.g. scoringStrategy.type).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Config holds the decoded sections a policy may read, by section name.
type Config struct {
	sections map[string]any
}

// NewConfig returns a configuration with the given sections (for tests
// and callers that build policies without a scenario).
func NewConfig(sections map[string]any) Config { return Config{sections: sections} }

// Section returns the decoded value of a section (the pointer its
// Default returned), or nil if the configuration does not hold it.
func (c Config) Section(name string) any { return c.sections[name] }

// SectionAs returns the named section as the type its model registered,
// or new defaults if the configuration does not hold it.
func SectionAs[T any](c Config, name string, defaults func() T) *T {
	if v, ok := c.Section(name).(*T); ok && v != nil {
		return v
	}
	d := defaults()
	return &d
}

// Registry is the set of scheduler models a build offers. The
// composition root builds it from each model's Registration.
type Registry struct {
	byName   map[string]*Registration // names and aliases
	sections map[string]*Section
	order    []*Registration
}

// NewRegistry registers the models; a name, alias or section given
// twice, or a section read but owned by no model, is an error.
func NewRegistry(regs ...Registration) (*Registry, error) {
	r := &Registry{byName: map[string]*Registration{}, sections: map[string]*Section{}}
	for i := range regs {
		reg := &regs[i]
		if reg.Name == "" || reg.New == nil {
			return nil, fmt.Errorf("policies: registration %d has no name or no factory", i)
		}
		for _, n := range append([]string{reg.Name}, reg.Aliases...) {
			if r.byName[n] != nil {
				return nil, fmt.Errorf("policies: policy name %q registered twice", n)
			}
			r.byName[n] = reg
		}
		for k := range reg.Sections {
			s := &reg.Sections[k]
			if s.Default == nil {
				return nil, fmt.Errorf("policies: %s: section %q has no defaults", reg.Name, s.Name)
			}
			if r.sections[s.Name] != nil || s.Name == "name" {
				return nil, fmt.Errorf("policies: section %q registered twice", s.Name)
			}
			r.sections[s.Name] = s
		}
		r.order = append(r.order, reg)
	}
	for _, reg := range r.order {
		for _, s := range reg.Reads {
			if r.sections[s] == nil {
				return nil, fmt.Errorf("policies: %s reads section %q, which no policy registers", reg.Name, s)
			}
		}
	}
	return r, nil
}

// MustRegistry is NewRegistry for registrations known to be valid.
func MustRegistry(regs ...Registration) *Registry {
	r, err := NewRegistry(regs...)
	if err != nil {
		panic(err)
	}
	return r
}

// Names returns every accepted policy name, aliases included, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Canonical returns the canonical name of a policy name or alias (the
// name itself if it is not registered).
func (r *Registry) Canonical(name string) string {
	if reg := r.byName[name]; reg != nil {
		return reg.Name
	}
	return name
}

// Lookup returns the registration of a policy name or alias; an unknown
// name is an error that lists the valid ones.
func (r *Registry) Lookup(name string) (*Registration, error) {
	reg := r.byName[name]
	if reg == nil {
		return nil, fmt.Errorf("unknown policy %q (valid: %s)", name, strings.Join(r.Names(), ", "))
	}
	return reg, nil
}

// Section returns a registered section, or nil.
func (r *Registry) Section(name string) *Section { return r.sections[name] }

// SectionNames returns the registered section names, sorted.
func (r *Registry) SectionNames() []string {
	names := make([]string, 0, len(r.sections))
	for n := range r.sections {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SectionsOf returns the sections the named policy reads, its own first
// (in registration order), then the ones it reads from other models.
func (r *Registry) SectionsOf(name string) []string {
	reg := r.byName[name]
	if reg == nil {
		return nil
	}
	var out []string
	for _, s := range reg.Sections {
		out = append(out, s.Name)
	}
	return append(out, reg.Reads...)
}

// New builds the named policy from cfg; sections cfg lacks get their
// defaults, and every section is validated first.
func (r *Registry) New(name string, cfg Config, streams *engine.Streams) (engine.Policy, error) {
	reg, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	full := Config{sections: map[string]any{}}
	for _, s := range r.SectionsOf(name) {
		v := cfg.sections[s]
		if v == nil {
			v = r.sections[s].Default()
		}
		if val := r.sections[s].Validate; val != nil {
			if err := val(v, plainChecker{}); err != nil {
				return nil, fmt.Errorf("%s: %w", s, err)
			}
		}
		full.sections[s] = v
	}
	return reg.New(full, streams)
}

// MaxSeconds is the longest duration a scenario may give (about 31.7
// years); plainChecker uses it outside a scenario.
const MaxSeconds = 1e9

// plainChecker applies the common bounds without a scenario's locations.
type plainChecker struct{}

func (plainChecker) Seconds(field string, x float64) error {
	if !(x >= 0) || x > MaxSeconds {
		return &FieldError{Field: field, Msg: fmt.Sprintf("must be between 0 and %g s, got %v", float64(MaxSeconds), x)}
	}
	return nil
}

func (plainChecker) Rate(field string, x float64) error {
	if x != 0 && !(x >= 1/MaxSeconds) {
		return &FieldError{Field: field, Msg: fmt.Sprintf("must be 0 (unlimited) or at least 1e-9 per second, got %v", x)}
	}
	return nil
}
