package kube

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := cfg.PluginWeights
	// The default profile's weights (reference §1.3).
	if w.TaintToleration != 3 || w.NodeAffinity != 2 || w.NodeResourcesFit != 1 || w.PodTopologySpread != 2 ||
		w.NodeResourcesBalancedAllocation != 1 || w.ImageLocality != 1 {
		t.Errorf("default weights = %+v", w)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // the error message; "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"unknown strategy", func(c *Config) { c.ScoringStrategy.Type = "Foo" },
			`scoringStrategy.type: unknown strategy "Foo" (valid: LeastAllocated, MostAllocated, RequestedToCapacityRatio)`},
		{"weight 0", func(c *Config) { c.ScoringStrategy.Resources[1].Weight = 0 },
			"scoringStrategy.resources[1].weight: must be between 1 and 100"},
		{"weight 101", func(c *Config) { c.ScoringStrategy.Resources[0].Weight = 101 },
			"scoringStrategy.resources[0].weight: must be between 1 and 100"},
		{"unknown resource", func(c *Config) { c.ScoringStrategy.Resources[0].Name = "disk" },
			`scoringStrategy.resources[0].name: unknown resource "disk" (valid: cpu, memory, nvidia.com/gpu)`},
		{"duplicate resource", func(c *Config) { c.ScoringStrategy.Resources[1].Name = "cpu" },
			`scoringStrategy.resources[1].name: duplicate resource "cpu"`},
		{"no resources", func(c *Config) { c.ScoringStrategy.Resources = nil },
			"scoringStrategy.resources: at least one resource is required"},
		{"gpu ok", func(c *Config) {
			c.ScoringStrategy.Resources = append(c.ScoringStrategy.Resources, ResourceSpec{"nvidia.com/gpu", 5})
		}, ""},
		{"rtcr without shape", func(c *Config) { c.ScoringStrategy.Type = RequestedToCapacityRatio },
			"scoringStrategy.requestedToCapacityRatio.shape: at least one point is required"},
		{"rtcr ok", func(c *Config) {
			c.ScoringStrategy.Type = RequestedToCapacityRatio
			c.ScoringStrategy.RequestedToCapacityRatio.Shape = []UtilizationShapePoint{{0, 0}, {100, 10}}
		}, ""},
		{"rtcr decreasing", func(c *Config) {
			c.ScoringStrategy.Type = RequestedToCapacityRatio
			c.ScoringStrategy.RequestedToCapacityRatio.Shape = []UtilizationShapePoint{{50, 0}, {50, 10}}
		}, "scoringStrategy.requestedToCapacityRatio.shape[1].utilization: must be greater than shape[0].utilization (50)"},
		{"rtcr score 11", func(c *Config) {
			c.ScoringStrategy.Type = RequestedToCapacityRatio
			c.ScoringStrategy.RequestedToCapacityRatio.Shape = []UtilizationShapePoint{{0, 11}}
		}, "scoringStrategy.requestedToCapacityRatio.shape[0].score: must be between 0 and 10"},
		{"rtcr utilization 101", func(c *Config) {
			c.ScoringStrategy.Type = RequestedToCapacityRatio
			c.ScoringStrategy.RequestedToCapacityRatio.Shape = []UtilizationShapePoint{{101, 1}}
		}, "scoringStrategy.requestedToCapacityRatio.shape[0].utilization: must be between 0 and 100"},
		{"percentage -1", func(c *Config) { c.PercentageOfNodesToScore = -1 },
			"percentageOfNodesToScore: must be between 0 and 100"},
		{"percentage 101", func(c *Config) { c.PercentageOfNodesToScore = 101 },
			"percentageOfNodesToScore: must be between 0 and 100"},
		{"backoff 0", func(c *Config) { c.PodInitialBackoffSeconds = 0 }, "podInitialBackoffSeconds: must be > 0"},
		{"max < initial", func(c *Config) { c.PodMaxBackoffSeconds = 0.5 },
			"podMaxBackoffSeconds: must be ≥ podInitialBackoffSeconds (1)"},
		{"unschedulable 0", func(c *Config) { c.PodMaxInUnschedulablePodsDuration = 0 },
			"podMaxInUnschedulablePodsDuration: must be > 0"},
		{"qps -1", func(c *Config) { c.ClientQPS = -1 }, "clientQPS: must be ≥ 0 (0 = unlimited)"},
		{"burst 0", func(c *Config) { c.ClientBurst = 0 }, "clientBurst: must be ≥ 1"},
		{"cycle -1", func(c *Config) { c.CycleSeconds = -1 }, "cycleSeconds: must be ≥ 0"},
		{"per node -1", func(c *Config) { c.PerNodeSeconds = -1 }, "perNodeSeconds: must be ≥ 0"},
		{"plugin weight", func(c *Config) { c.PluginWeights.ImageLocality = -1 },
			"pluginWeights.imageLocality: must be between 0 and 100 (0 disables the plugin's score)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("error\n got %q\nwant %q", err, tc.want)
			}
			if tc.want != "" {
				if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("New: %v, want it to wrap %q", err, tc.want)
				}
			}
		})
	}
}

// The yaml names are the KubeSchedulerConfiguration-style camelCase keys,
// and decoding onto the defaults overrides only what is given.
func TestConfigYAML(t *testing.T) {
	src := `
scoringStrategy:
  type: RequestedToCapacityRatio
  resources: [{name: cpu, weight: 2}, {name: nvidia.com/gpu, weight: 3}]
  requestedToCapacityRatio:
    shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]
percentageOfNodesToScore: 20
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
podMaxInUnschedulablePodsDuration: 60
clientQPS: 10
clientBurst: 20
cycleSeconds: 0.001
perNodeSeconds: 0.00001
pluginWeights: {imageLocality: 0, nodeResourcesFit: 5}
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := cfg.ScoringStrategy
	if s.Type != RequestedToCapacityRatio || len(s.Resources) != 2 || s.Resources[1] != (ResourceSpec{"nvidia.com/gpu", 3}) ||
		len(s.RequestedToCapacityRatio.Shape) != 2 || s.RequestedToCapacityRatio.Shape[1] != (UtilizationShapePoint{100, 10}) {
		t.Errorf("scoringStrategy = %+v", s)
	}
	if cfg.PercentageOfNodesToScore != 20 || cfg.PodInitialBackoffSeconds != 2 || cfg.PodMaxBackoffSeconds != 20 ||
		cfg.PodMaxInUnschedulablePodsDuration != 60 || cfg.ClientQPS != 10 || cfg.ClientBurst != 20 ||
		cfg.CycleSeconds != 0.001 || cfg.PerNodeSeconds != 0.00001 {
		t.Errorf("config = %+v", cfg)
	}
	w := cfg.PluginWeights
	if w.ImageLocality != 0 || w.NodeResourcesFit != 5 || w.TaintToleration != 3 {
		t.Errorf("pluginWeights = %+v (unset ones must keep their defaults)", w)
	}
	if _, err := New(cfg, nil); err == nil {
		t.Error("New with nil streams: no error")
	}
}
