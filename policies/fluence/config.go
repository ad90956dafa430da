package fluence

import (
	"fmt"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/fluxion/match"
	"github.com/convergesim/converge/policies/kube"
)

// SectionName is the scenario section of the Fluence model
// (policy.fluence). Fluence runs inside kube-scheduler and also reads
// policy.kube.
const SectionName = "fluence"

// Release modes (Config.Release).
const (
	// ReleaseFirstPod cancels the group's Fluxion allocation when the
	// first of its pods finishes (the plugin's UpdatePod handler on
	// Succeeded/Failed, and DeletePod): faithful.
	ReleaseFirstPod = "first-pod"
	// ReleaseLastPod cancels it when the last pod holding a node
	// finishes: corrected.
	ReleaseLastPod = "last-pod"
)

// Assignment modes (Config.Assign).
const (
	// AssignDistinctNodes gives pod i the i-th distinct node of the
	// allocation's R, in lister order, and cancels the allocation when
	// the node count differs from the pod count (AskFlux and PreFilter):
	// faithful.
	AssignDistinctNodes = "distinct-nodes"
	// AssignBySlot gives each node of R as many pods as it holds slots
	// (cores / cpu per pod, the Tasks the sidecar computes and the plugin
	// ignores): corrected.
	AssignBySlot = "by-slot"
)

// Graph modes (Config.Graph).
const (
	// GraphStatic builds the resource graph once, from the nodes' free
	// resources when the scheduler starts, and never changes it: faithful.
	GraphStatic = "static"
	// GraphLive keeps the graph in step with the cluster: resources that
	// pods Fluence does not hold through a live allocation use (pods of
	// another scheduler, pods of a group whose allocation was released)
	// are marked down, and cordoned nodes too: corrected.
	GraphLive = "live"
)

// Config is the policy.fluence section.
type Config struct {
	// Release: first-pod (faithful) or last-pod.
	Release string `yaml:"release"`
	// Assign: distinct-nodes (faithful) or by-slot.
	Assign string `yaml:"assign"`
	// Graph: static (faithful) or live.
	Graph string `yaml:"graph"`
	// Policy is Fluxion's match policy (matcher_policy): a preset (first,
	// low, high, lonode, hinode, lonodex, hinodex, firstnodex, locality,
	// variation) or an attribute string. The Helm chart sets lonode.
	Policy string `yaml:"policy"`
	// Backend is the Fluxion implementation: go (the pure-Go model) or
	// reapi (flux-sched's libreapi_cli, in a build with -tags fluxion).
	Backend string `yaml:"backend"`
	// SkipLabel: nodes carrying this label key are left out of the graph
	// (the sidecar's --label flag); "" skips none.
	SkipLabel string `yaml:"skipLabel"`
	// KubeWorkloads names the workloads whose pods the default
	// kube-scheduler places, beside Fluence in the same cluster
	// (schedulerName: default-scheduler); every other pod is Fluence's.
	KubeWorkloads []string `yaml:"kubeWorkloads"`
	// Launchers says which scheduler places an operator's launcher pod
	// (an MPIJob's): fluence (its template names Fluence, as the
	// workers'; it is then a group of its own) or kube (its template
	// names no scheduler, so the default kube-scheduler places it, beside
	// Fluence).
	Launchers string `yaml:"launchers"`
}

// Launcher schedulers.
const (
	LaunchersFluence = "fluence"
	LaunchersKube    = "kube"
)

// PermitWaitingTimeSeconds is the Permit timeout Fluence hard-codes
// (fluence.go permitWaitingTimeSeconds), used when the PodGroup gives no
// scheduleTimeoutSeconds; it is also how long a group stays permitted
// after its match (the permittedpodGroup cache entry's TTL).
const PermitWaitingTimeSeconds = 300.0

// DefaultConfig is the faithful configuration with the Helm chart's
// match policy (values.yaml: policy: lonode).
func DefaultConfig() Config {
	return Config{
		Release:   ReleaseFirstPod,
		Assign:    AssignDistinctNodes,
		Graph:     GraphStatic,
		Policy:    "lonode",
		Backend:   fluxion.BackendGo,
		Launchers: LaunchersFluence,
	}
}

// Validate checks the configuration; the error names the field
// (a *policies.FieldError).
func (c *Config) Validate() error {
	oneOf := func(field, v string, valid ...string) error {
		for _, ok := range valid {
			if v == ok {
				return nil
			}
		}
		return &policies.FieldError{Field: field, Msg: fmt.Sprintf("unknown value %q (valid: %s)", v, strings.Join(valid, ", "))}
	}
	if err := oneOf("release", c.Release, ReleaseFirstPod, ReleaseLastPod); err != nil {
		return err
	}
	if err := oneOf("assign", c.Assign, AssignDistinctNodes, AssignBySlot); err != nil {
		return err
	}
	if err := oneOf("graph", c.Graph, GraphStatic, GraphLive); err != nil {
		return err
	}
	if err := oneOf("launchers", c.Launchers, LaunchersFluence, LaunchersKube); err != nil {
		return err
	}
	if _, err := match.ParseMatchPolicy(c.Policy); err != nil || c.Policy == "" {
		msg := "a match policy is required (the Helm chart's is lonode)"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), match.ErrInvalid.Error()+": ")
		}
		return &policies.FieldError{Field: "policy", Msg: msg}
	}
	if err := oneOf("backend", c.Backend, fluxion.BackendNames()...); err != nil {
		return err
	}
	if c.Backend == fluxion.BackendReapi && !fluxion.ReapiAvailable {
		return &policies.FieldError{Field: "backend", Msg: "reapi needs a build with -tags fluxion and flux-sched's libreapi_cli (see docs/fluxion-reapi.md); this build has only the go backend"}
	}
	seen := map[string]bool{}
	for i, w := range c.KubeWorkloads {
		if w == "" {
			return &policies.FieldError{Field: fmt.Sprintf("kubeWorkloads[%d]", i), Msg: "empty workload name"}
		}
		if seen[w] {
			return &policies.FieldError{Field: fmt.Sprintf("kubeWorkloads[%d]", i), Msg: fmt.Sprintf("workload %q listed twice", w)}
		}
		seen[w] = true
	}
	return nil
}

// Registration describes Fluence to the policy registry: name fluence,
// the section policy.fluence, and it reads policy.kube (the
// kube-scheduler it runs in).
func Registration() policies.Registration {
	return policies.Registration{
		Name:     "fluence",
		Doc:      "Fluence: Fluxion places each pod group at once inside kube-scheduler (flux-k8s)",
		Sections: []policies.Section{Section()},
		Reads:    []string{kube.SectionName},
		New: func(cfg policies.Config, streams *engine.Streams) (engine.Policy, error) {
			return New(*SectionOf(cfg), *kube.SectionOf(cfg), streams)
		},
	}
}

// Section is the policy.fluence section.
func Section() policies.Section {
	return policies.Section{
		Name:     SectionName,
		Default:  func() any { c := DefaultConfig(); return &c },
		Validate: func(v any, _ policies.Checker) error { return v.(*Config).Validate() },
	}
}

// SectionOf returns the fluence section of a policy configuration (the
// defaults if it holds none).
func SectionOf(cfg policies.Config) *Config {
	return policies.SectionAs(cfg, SectionName, DefaultConfig)
}

// WorkloadRefs implements policies.WorkloadRefs: kubeWorkloads names
// scenario workloads.
func (c *Config) WorkloadRefs() (string, []string) { return "kubeWorkloads", c.KubeWorkloads }
