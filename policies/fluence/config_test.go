package fluence

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/kube"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string // "" = valid
		msg   string
	}{
		{"defaults", func(*Config) {}, "", ""},
		{"corrected", func(c *Config) {
			c.Release, c.Assign, c.Graph, c.Policy = ReleaseLastPod, AssignBySlot, GraphLive, "first"
		}, "", ""},
		{"attribute policy", func(c *Config) { c.Policy = "policy=high node_centric=true" }, "", ""},
		{"release", func(c *Config) { c.Release = "never" }, "release", `unknown value "never" (valid: first-pod, last-pod)`},
		{"assign", func(c *Config) { c.Assign = "round-robin" }, "assign", `unknown value "round-robin" (valid: distinct-nodes, by-slot)`},
		{"graph", func(c *Config) { c.Graph = "dynamic" }, "graph", `unknown value "dynamic" (valid: static, live)`},
		{"policy unknown", func(c *Config) { c.Policy = "lod" }, "policy", `unknown match policy "lod"`},
		{"policy empty", func(c *Config) { c.Policy = "" }, "policy", "a match policy is required"},
		{"backend unknown", func(c *Config) { c.Backend = "python" }, "backend", `unknown value "python" (valid: go, reapi)`},
		{"kubeWorkloads empty", func(c *Config) { c.KubeWorkloads = []string{"a", ""} }, "kubeWorkloads[1]", "empty workload name"},
		{"kubeWorkloads twice", func(c *Config) { c.KubeWorkloads = []string{"a", "a"} }, "kubeWorkloads[1]", `workload "a" listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *policies.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("error %v, want field %s with %q", err, tc.field, tc.msg)
			}
		})
	}
}

// reapi is accepted only in a build that has it.
func TestConfigReapi(t *testing.T) {
	c := DefaultConfig()
	c.Backend = fluxion.BackendReapi
	err := c.Validate()
	if fluxion.ReapiAvailable {
		if err != nil {
			t.Fatalf("reapi in a fluxion build: %v", err)
		}
		return
	}
	var fe *policies.FieldError
	if !errors.As(err, &fe) || fe.Field != "backend" || !strings.Contains(fe.Msg, "-tags fluxion") {
		t.Fatalf("error %v", err)
	}
	if _, err := New(c, kube.DefaultConfig(), engine.NewStreams(1)); err == nil || !strings.Contains(err.Error(), "backend: reapi needs") {
		t.Errorf("New: %v", err)
	}
}
