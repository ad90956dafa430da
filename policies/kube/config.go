package kube

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// ScoringStrategyType is NodeResourcesFit's scoring strategy
// (KubeSchedulerConfiguration NodeResourcesFitArgs.scoringStrategy.type).
type ScoringStrategyType string

// Scoring strategies.
const (
	LeastAllocated           ScoringStrategyType = "LeastAllocated"
	MostAllocated            ScoringStrategyType = "MostAllocated"
	RequestedToCapacityRatio ScoringStrategyType = "RequestedToCapacityRatio"
)

// Resource names usable in scoringStrategy.resources.
const (
	ResourceCPU    = "cpu"
	ResourceMemory = "memory"
	ResourceGPU    = "nvidia.com/gpu"
)

// ResourceSpec is one resource NodeResourcesFit scores, with its weight.
type ResourceSpec struct {
	Name   string `yaml:"name"`
	Weight int64  `yaml:"weight"`
}

// UtilizationShapePoint is one point of RequestedToCapacityRatio's
// broken-linear function: utilization in percent (0–100) → score (0–10).
type UtilizationShapePoint struct {
	Utilization int32 `yaml:"utilization"`
	Score       int32 `yaml:"score"`
}

// RequestedToCapacityRatioParam holds the shape of the
// RequestedToCapacityRatio strategy.
type RequestedToCapacityRatioParam struct {
	Shape []UtilizationShapePoint `yaml:"shape"`
}

// ScoringStrategy is NodeResourcesFitArgs.scoringStrategy.
type ScoringStrategy struct {
	Type                     ScoringStrategyType           `yaml:"type"`
	Resources                []ResourceSpec                `yaml:"resources"`
	RequestedToCapacityRatio RequestedToCapacityRatioParam `yaml:"requestedToCapacityRatio"`
}

// PluginWeights are the weights of the score plugins (the default profile's
// multiPoint weights). A weight of 0 disables the plugin's scoring.
type PluginWeights struct {
	TaintToleration                 int64 `yaml:"taintToleration"`
	NodeAffinity                    int64 `yaml:"nodeAffinity"`
	NodeResourcesFit                int64 `yaml:"nodeResourcesFit"`
	PodTopologySpread               int64 `yaml:"podTopologySpread"`
	NodeResourcesBalancedAllocation int64 `yaml:"nodeResourcesBalancedAllocation"`
	ImageLocality                   int64 `yaml:"imageLocality"`
}

// Config is the model's configuration. Field names follow
// KubeSchedulerConfiguration where one exists; durations are seconds.
type Config struct {
	// ScoringStrategy of NodeResourcesFit (default LeastAllocated on cpu
	// and memory, weight 1 each).
	ScoringStrategy ScoringStrategy `yaml:"scoringStrategy"`
	// PercentageOfNodesToScore: 0 = adaptive (50 − nodes/125, at least
	// 5 %); otherwise 1–100. Below 100 nodes every node is evaluated.
	PercentageOfNodesToScore int32 `yaml:"percentageOfNodesToScore"`
	// PodInitialBackoffSeconds and PodMaxBackoffSeconds: per-pod backoff
	// initial·2^(attempts−1), capped (upstream 1 s and 10 s).
	PodInitialBackoffSeconds float64 `yaml:"podInitialBackoffSeconds"`
	PodMaxBackoffSeconds     float64 `yaml:"podMaxBackoffSeconds"`
	// PodMaxInUnschedulablePodsDuration (seconds) after which an
	// unschedulable pod is flushed back for another attempt (upstream 5 min).
	PodMaxInUnschedulablePodsDuration float64 `yaml:"podMaxInUnschedulablePodsDuration"`
	// ClientQPS and ClientBurst: the scheduler's API client rate limiter
	// (clientConnection.qps/burst, 50/100), which throttles bind calls.
	// ClientQPS 0 means unlimited.
	ClientQPS   float64 `yaml:"clientQPS"`
	ClientBurst int     `yaml:"clientBurst"`
	// CycleSeconds + PerNodeSeconds × (nodes evaluated) is the simulated
	// duration of one scheduling cycle. The defaults (0.5 ms + 2 µs per
	// node) are order-of-magnitude figures from the reference §1.7 ("a cycle
	// takes sub-ms to a few ms per pod"), not a calibration.
	CycleSeconds   float64 `yaml:"cycleSeconds"`
	PerNodeSeconds float64 `yaml:"perNodeSeconds"`
	// PluginWeights of the score plugins.
	PluginWeights PluginWeights `yaml:"pluginWeights"`
}

// Upstream defaults.
const (
	DefaultPodInitialBackoffSeconds          = 1.0
	DefaultPodMaxBackoffSeconds              = 10.0
	DefaultPodMaxInUnschedulablePodsDuration = 300.0
	DefaultClientQPS                         = 50.0
	DefaultClientBurst                       = 100
	DefaultCycleSeconds                      = 0.0005
	DefaultPerNodeSeconds                    = 2e-6
)

// DefaultConfig returns the default profile of kube-scheduler.
func DefaultConfig() Config {
	return Config{
		ScoringStrategy: ScoringStrategy{
			Type:      LeastAllocated,
			Resources: []ResourceSpec{{Name: ResourceCPU, Weight: 1}, {Name: ResourceMemory, Weight: 1}},
		},
		PodInitialBackoffSeconds:          DefaultPodInitialBackoffSeconds,
		PodMaxBackoffSeconds:              DefaultPodMaxBackoffSeconds,
		PodMaxInUnschedulablePodsDuration: DefaultPodMaxInUnschedulablePodsDuration,
		ClientQPS:                         DefaultClientQPS,
		ClientBurst:                       DefaultClientBurst,
		CycleSeconds:                      DefaultCycleSeconds,
		PerNodeSeconds:                    DefaultPerNodeSeconds,
		PluginWeights: PluginWeights{
			TaintToleration:                 3,
			NodeAffinity:                    2,
			NodeResourcesFit:                1,
			PodTopologySpread:               2,
			NodeResourcesBalancedAllocation: 1,
			ImageLocality:                   1,
		},
	}
}

// Limits from upstream validation.
const (
	maxResourceWeight     = 100 // NodeResourcesFitArgs resources[].weight ∈ [1, 100]
	maxCustomPriority     = 10  // RequestedToCapacityRatio shape score ∈ [0, 10]
	maxUtilization        = 100 // shape utilization ∈ [0, 100]
	maxPluginWeight       = 100
	minFeasibleNodes      = 100 // minFeasibleNodesToFind
	minFeasiblePercentage = 5   // minFeasibleNodesPercentageToFind
)

// knownResources maps a scoring resource name to the model's resource.
var knownResources = map[string]resourceKind{
	ResourceCPU:    resCPU,
	ResourceMemory: resMemory,
	ResourceGPU:    resGPU,
}

func validNames[V any](m map[string]V) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Validate checks the configuration. The message of the returned error
// starts with the path of the offending field relative to the config
// ("scoringStrategy.resources[1].weight: must be between 1 and 100"); only
// the first problem is reported.
func (c *Config) Validate() error {
	s := &c.ScoringStrategy
	if _, ok := scoringStrategies[s.Type]; !ok {
		return fmt.Errorf("scoringStrategy.type: unknown strategy %q (valid: %s)", s.Type, validStrategyNames())
	}
	if len(s.Resources) == 0 {
		return fmt.Errorf("scoringStrategy.resources: at least one resource is required")
	}
	seen := map[string]bool{}
	for i, r := range s.Resources {
		if _, ok := knownResources[r.Name]; !ok {
			return fmt.Errorf("scoringStrategy.resources[%d].name: unknown resource %q (valid: %s)", i, r.Name, validNames(knownResources))
		}
		if seen[r.Name] {
			return fmt.Errorf("scoringStrategy.resources[%d].name: duplicate resource %q", i, r.Name)
		}
		seen[r.Name] = true
		if r.Weight < 1 || r.Weight > maxResourceWeight {
			return fmt.Errorf("scoringStrategy.resources[%d].weight: must be between 1 and %d", i, maxResourceWeight)
		}
	}
	if s.Type == RequestedToCapacityRatio {
		shape := s.RequestedToCapacityRatio.Shape
		if len(shape) == 0 {
			return fmt.Errorf("scoringStrategy.requestedToCapacityRatio.shape: at least one point is required")
		}
		for i, p := range shape {
			path := fmt.Sprintf("scoringStrategy.requestedToCapacityRatio.shape[%d]", i)
			if p.Utilization < 0 || p.Utilization > maxUtilization {
				return fmt.Errorf("%s.utilization: must be between 0 and %d", path, maxUtilization)
			}
			if i > 0 && p.Utilization <= shape[i-1].Utilization {
				return fmt.Errorf("%s.utilization: must be greater than shape[%d].utilization (%d)", path, i-1, shape[i-1].Utilization)
			}
			if p.Score < 0 || p.Score > maxCustomPriority {
				return fmt.Errorf("%s.score: must be between 0 and %d", path, maxCustomPriority)
			}
		}
	}
	if c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100 {
		return fmt.Errorf("percentageOfNodesToScore: must be between 0 and 100")
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(c.PodInitialBackoffSeconds) || c.PodInitialBackoffSeconds <= 0:
		return fmt.Errorf("podInitialBackoffSeconds: must be > 0")
	case !finite(c.PodMaxBackoffSeconds) || c.PodMaxBackoffSeconds < c.PodInitialBackoffSeconds:
		return fmt.Errorf("podMaxBackoffSeconds: must be ≥ podInitialBackoffSeconds (%g)", c.PodInitialBackoffSeconds)
	case !finite(c.PodMaxInUnschedulablePodsDuration) || c.PodMaxInUnschedulablePodsDuration <= 0:
		return fmt.Errorf("podMaxInUnschedulablePodsDuration: must be > 0")
	case !finite(c.ClientQPS) || c.ClientQPS < 0:
		return fmt.Errorf("clientQPS: must be ≥ 0 (0 = unlimited)")
	case c.ClientBurst < 1:
		return fmt.Errorf("clientBurst: must be ≥ 1")
	case !finite(c.CycleSeconds) || c.CycleSeconds < 0:
		return fmt.Errorf("cycleSeconds: must be ≥ 0")
	case !finite(c.PerNodeSeconds) || c.PerNodeSeconds < 0:
		return fmt.Errorf("perNodeSeconds: must be ≥ 0")
	}
	w := &c.PluginWeights
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"taintToleration", w.TaintToleration},
		{"nodeAffinity", w.NodeAffinity},
		{"nodeResourcesFit", w.NodeResourcesFit},
		{"podTopologySpread", w.PodTopologySpread},
		{"nodeResourcesBalancedAllocation", w.NodeResourcesBalancedAllocation},
		{"imageLocality", w.ImageLocality},
	} {
		if f.v < 0 || f.v > maxPluginWeight {
			return fmt.Errorf("pluginWeights.%s: must be between 0 and %d (0 disables the plugin's score)", f.name, maxPluginWeight)
		}
	}
	return nil
}
