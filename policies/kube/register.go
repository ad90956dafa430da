package kube

import (
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
)

// SectionName is the scenario section of the kube-scheduler model
// (policy.kube); Coscheduling and Fluence, which run inside
// kube-scheduler, read it too.
const SectionName = "kube"

// Registration describes the default kube-scheduler to the policy
// registry: names kube and default-scheduler, the section policy.kube.
func Registration() policies.Registration {
	return policies.Registration{
		Name:     "kube",
		Aliases:  []string{"default-scheduler"},
		Doc:      "the default kube-scheduler (one pod per cycle, default plugins)",
		Sections: []policies.Section{Section()},
		New: func(cfg policies.Config, streams *engine.Streams) (engine.Policy, error) {
			return New(*SectionOf(cfg), streams)
		},
	}
}

// Section is the policy.kube section: the scheduler configuration with
// upstream defaults.
func Section() policies.Section {
	return policies.Section{
		Name:     SectionName,
		Default:  func() any { c := DefaultConfig(); return &c },
		Validate: func(v any, chk policies.Checker) error { return v.(*Config).check(chk) },
	}
}

// SectionOf returns the kube section of a policy configuration (the
// defaults if it holds none).
func SectionOf(cfg policies.Config) *Config {
	return policies.SectionAs(cfg, SectionName, DefaultConfig)
}

// check is Validate with the scenario's bounds on durations and rates.
func (c *Config) check(chk policies.Checker) error {
	if err := c.Validate(); err != nil {
		field, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			return err
		}
		return &policies.FieldError{Field: field, Msg: msg}
	}
	for _, f := range []struct {
		name string
		x    float64
	}{
		{"podInitialBackoffSeconds", c.PodInitialBackoffSeconds}, {"podMaxBackoffSeconds", c.PodMaxBackoffSeconds},
		{"podMaxInUnschedulablePodsDuration", c.PodMaxInUnschedulablePodsDuration},
		{"cycleSeconds", c.CycleSeconds}, {"perNodeSeconds", c.PerNodeSeconds},
	} {
		if err := chk.Seconds(f.name, f.x); err != nil {
			return err
		}
	}
	if err := chk.Rate("clientQPS", c.ClientQPS); err != nil {
		return err
	}
	return nil
}
