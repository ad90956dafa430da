package coscheduling

import (
	"fmt"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/kube"
)

// SectionName is the scenario section of the plugin's args
// (policy.coscheduling).
const SectionName = "coscheduling"

// Args are the plugin's CoschedulingArgs (apis/config/types.go), with
// the defaults of apis/config/v1/defaults.go.
type Args struct {
	// PermitWaitingTimeSeconds is how long a pod waits at Permit when
	// its group gives no scheduleTimeoutSeconds, and the lifetime of a
	// group's passed resource check. Default 60.
	PermitWaitingTimeSeconds int64 `yaml:"permitWaitingTimeSeconds"`
	// PodGroupBackoffSeconds: after PostFilter rejects a group, its pods
	// are rejected at PreFilter for this long (0: no group backoff).
	// Default 0.
	PodGroupBackoffSeconds int64 `yaml:"podGroupBackoffSeconds"`
	// PodGroupRejectPercentage: PostFilter leaves a group alone while
	// the share of its minMember not yet assigned is at most this
	// percentage (0–100). Default 10.
	PodGroupRejectPercentage int32 `yaml:"podGroupRejectPercentage"`
}

// DefaultArgs are upstream's defaults.
func DefaultArgs() Args {
	return Args{PermitWaitingTimeSeconds: 60, PodGroupBackoffSeconds: 0, PodGroupRejectPercentage: 10}
}

// Validate checks the args as ValidateCoschedulingArgs does, and that
// the durations are within what a scenario may give.
func (a *Args) Validate() error {
	return a.check(nil)
}

func (a *Args) check(chk policies.Checker) error {
	for _, f := range []struct {
		name string
		x    int64
	}{
		{"permitWaitingTimeSeconds", a.PermitWaitingTimeSeconds},
		{"podGroupBackoffSeconds", a.PodGroupBackoffSeconds},
	} {
		if chk != nil {
			if err := chk.Seconds(f.name, float64(f.x)); err != nil {
				return err
			}
		}
		if f.x < 0 || f.x > policies.MaxSeconds {
			return &policies.FieldError{Field: f.name, Msg: fmt.Sprintf("must be between 0 and %g s, got %d", float64(policies.MaxSeconds), f.x)}
		}
	}
	if a.PodGroupRejectPercentage < 0 || a.PodGroupRejectPercentage > 100 {
		return &policies.FieldError{Field: "podGroupRejectPercentage", Msg: fmt.Sprintf("must be between 0 and 100, got %d", a.PodGroupRejectPercentage)}
	}
	return nil
}

// Registration describes Coscheduling to the policy registry: name
// coscheduling, the section policy.coscheduling, and it reads
// policy.kube (the kube-scheduler it runs in).
func Registration() policies.Registration {
	return policies.Registration{
		Name:     "coscheduling",
		Doc:      "scheduler-plugins Coscheduling in kube-scheduler: PodGroups bind all or nothing at Permit",
		Sections: []policies.Section{Section()},
		Reads:    []string{kube.SectionName},
		New: func(cfg policies.Config, streams *engine.Streams) (engine.Policy, error) {
			return New(*kube.SectionOf(cfg), *SectionOf(cfg), streams)
		},
	}
}

// Section is the policy.coscheduling section.
func Section() policies.Section {
	return policies.Section{
		Name:     SectionName,
		Default:  func() any { a := DefaultArgs(); return &a },
		Validate: func(v any, chk policies.Checker) error { return v.(*Args).check(chk) },
	}
}

// SectionOf returns the coscheduling section of a policy configuration
// (the defaults if it holds none).
func SectionOf(cfg policies.Config) *Args {
	return policies.SectionAs(cfg, SectionName, DefaultArgs)
}

// Scheduler is kube-scheduler running the Coscheduling plugin.
type Scheduler struct {
	*kube.Scheduler
	Plugin *Plugin
}

// Name implements engine.Policy.
func (s *Scheduler) Name() string { return "coscheduling" }

// New returns kube-scheduler with the configuration kcfg running
// Coscheduling with args.
func New(kcfg kube.Config, args Args, streams *engine.Streams) (*Scheduler, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("coscheduling: %w", err)
	}
	ks, err := kube.New(kcfg, streams)
	if err != nil {
		return nil, err
	}
	pl := NewPlugin(args)
	return &Scheduler{Scheduler: ks.WithPlugins(pl), Plugin: pl}, nil
}
