package policies

import (
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

// Settings carries the per-policy configuration sections of a scenario. A
// nil section means the policy's defaults.
type Settings struct {
	Kube *kube.Config
}

// Factory builds a policy from the scenario's settings and the run's random
// streams (the policy draws only from streams it names itself).
type Factory func(s Settings, streams *engine.Streams) (engine.Policy, error)

// registry maps every accepted policy name, aliases included, to its
// factory.
var registry = map[string]Factory{
	"kube":              newKube,
	"default-scheduler": newKube,
}

// canonical maps aliases to the canonical name.
var canonical = map[string]string{
	"default-scheduler": "kube",
}

func newKube(s Settings, streams *engine.Streams) (engine.Policy, error) {
	cfg := kube.DefaultConfig()
	if s.Kube != nil {
		cfg = *s.Kube
	}
	return kube.New(cfg, streams)
}

// Names returns every accepted policy name, aliases included, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Canonical returns the canonical name of a policy name or alias (the name
// itself if it is not an alias).
func Canonical(name string) string {
	if c, ok := canonical[name]; ok {
		return c
	}
	return name
}

// Lookup returns the factory of a policy; an unknown name is an error that
// lists the valid ones.
func Lookup(name string) (Factory, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown policy %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

// New builds the named policy.
func New(name string, s Settings, streams *engine.Streams) (engine.Policy, error) {
	f, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return f(s, streams)
}
