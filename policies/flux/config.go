package flux

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/fluxion"
	fxmatch "github.com/convergesim/converge/policies/fluxion/match"
)

// SectionName is the scenario section of the queue manager and the
// resource module (policy.flux).
const SectionName = "flux"

// Queue policies (sched-fluxion-qmanager queue-policy).
const (
	FCFS         = "fcfs"
	EASY         = "easy"
	Hybrid       = "hybrid"
	Conservative = "conservative"
)

// QueuePolicies lists the queue policies.
var QueuePolicies = []string{FCFS, EASY, Hybrid, Conservative}

// Flux's defaults (qmanager/config/queue_system_defaults.hpp).
const (
	DefaultQueueDepth          = 32
	MaxQueueDepth              = 1000000
	DefaultHybridReservation   = 64
	MaxReservationDepth        = 100000
	DefaultUrgency             = 16
	defaultMatchPolicy         = "first"
	defaultQueuePolicy         = FCFS
	easyReservationDepth       = 1
	conservativeReservationMax = MaxReservationDepth
)

// Config is what flux-config-sched-fluxion-qmanager(5) and
// flux-config-sched-fluxion-resource(5) set, with Flux's defaults.
type Config struct {
	// QueuePolicy is fcfs (default), easy, hybrid or conservative.
	QueuePolicy string `yaml:"queuePolicy"`
	// QueueDepth is how many pending jobs one scheduling loop considers
	// (queue-depth, default 32, at most 1,000,000).
	QueueDepth int `yaml:"queueDepth"`
	// ReservationDepth is how many blocked jobs get a reservation
	// (reservation-depth): easy 1, hybrid 64 unless set, conservative
	// every job the loop considers (capped by queueDepth). Only hybrid
	// reads it.
	ReservationDepth int `yaml:"reservationDepth"`
	// MatchPolicy is Fluxion's match-policy (first by default; low,
	// high, lonode, hinode, lonodex, hinodex, firstnodex, locality,
	// variation, or a custom string such as "policy=low node_centric=true").
	MatchPolicy string `yaml:"matchPolicy"`
	// Backend is the matcher: go (the pure-Go model) or reapi
	// (flux-sched's libreapi_cli, in a build with -tags fluxion).
	Backend string `yaml:"backend"`

	// bookEveryVertex turns off the matcher's SkipHeldBelow (tests
	// compare the two).
	bookEveryVertex bool
	// recompute turns off the shortcuts that reuse earlier answers (a
	// loop going on where the last stopped, refusals standing until a
	// free): every loop asks the matcher everything (tests compare).
	recompute bool
}

// DefaultConfig is Flux's configuration out of the box.
func DefaultConfig() Config {
	return Config{QueuePolicy: defaultQueuePolicy, QueueDepth: DefaultQueueDepth, MatchPolicy: defaultMatchPolicy, Backend: fluxion.BackendGo}
}

// reservationDepth is the effective reservation depth (apply_params).
func (c *Config) reservationDepth() int {
	switch c.QueuePolicy {
	case EASY:
		return easyReservationDepth
	case Hybrid:
		d := c.ReservationDepth
		if d == 0 {
			d = DefaultHybridReservation
		}
		return min(d, c.QueueDepth)
	case Conservative:
		return min(conservativeReservationMax, c.QueueDepth)
	}
	return 0
}

// Validate reports the first bad field.
func (c *Config) Validate() error {
	if !slices.Contains(QueuePolicies, c.QueuePolicy) {
		return &policies.FieldError{Field: "queuePolicy", Msg: fmt.Sprintf("unknown queue policy %q (valid: %s)", c.QueuePolicy, strings.Join(QueuePolicies, ", "))}
	}
	if c.QueueDepth < 1 || c.QueueDepth > MaxQueueDepth {
		return &policies.FieldError{Field: "queueDepth", Msg: fmt.Sprintf("must be between 1 and %d, got %d", MaxQueueDepth, c.QueueDepth)}
	}
	if c.ReservationDepth < 0 || c.ReservationDepth > MaxReservationDepth {
		return &policies.FieldError{Field: "reservationDepth", Msg: fmt.Sprintf("must be between 0 and %d, got %d", MaxReservationDepth, c.ReservationDepth)}
	}
	if c.ReservationDepth != 0 && c.QueuePolicy != Hybrid {
		return &policies.FieldError{Field: "reservationDepth", Msg: fmt.Sprintf("only the hybrid queue policy reads it (easy reserves for 1 job, conservative for every job it considers), not %s", c.QueuePolicy)}
	}
	if _, err := fxmatch.ParseMatchPolicy(c.MatchPolicy); err != nil {
		return &policies.FieldError{Field: "matchPolicy", Msg: err.Error()}
	}
	if !slices.Contains(fluxion.BackendNames(), c.Backend) {
		return &policies.FieldError{Field: "backend", Msg: fmt.Sprintf("unknown backend %q (valid: %s)", c.Backend, strings.Join(fluxion.BackendNames(), ", "))}
	}
	return nil
}

// Registration describes Flux to the policy registry: name flux, the
// section policy.flux.
func Registration() policies.Registration {
	return policies.Registration{
		Name:     "flux",
		Doc:      "Flux on bare metal: Fluxion's queue manager (fcfs, easy, hybrid, conservative) over its graph matcher",
		Sections: []policies.Section{Section()},
		New: func(cfg policies.Config, streams *engine.Streams) (engine.Policy, error) {
			return New(*SectionOf(cfg))
		},
	}
}

// Section is the policy.flux section.
func Section() policies.Section {
	return policies.Section{
		Name:     SectionName,
		Default:  func() any { c := DefaultConfig(); return &c },
		Validate: func(v any, _ policies.Checker) error { return v.(*Config).Validate() },
	}
}

// SectionOf returns the flux section of a policy configuration (the
// defaults if it holds none).
func SectionOf(cfg policies.Config) *Config {
	return policies.SectionAs(cfg, SectionName, DefaultConfig)
}
