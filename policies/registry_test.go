package policies_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/kube"
)

func registry(t *testing.T) *policies.Registry {
	t.Helper()
	r, err := policies.NewRegistry(kube.Registration())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegistry(t *testing.T) {
	r := registry(t)
	if got := strings.Join(r.Names(), ", "); got != "default-scheduler, kube" {
		t.Errorf("Names() = %s", got)
	}
	for _, name := range []string{"kube", "default-scheduler"} {
		p, err := r.New(name, policies.Config{}, engine.NewStreams(1))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Name() != "kube" || r.Canonical(name) != "kube" {
			t.Errorf("%s: policy %q, canonical %q", name, p.Name(), r.Canonical(name))
		}
		if _, ok := p.(engine.Pending); !ok {
			t.Errorf("%s: does not implement engine.Pending", name)
		}
	}
	if r.Canonical("fluxion") != "fluxion" {
		t.Error("Canonical of an unknown name must be the name itself")
	}
	if got := r.SectionsOf("default-scheduler"); len(got) != 1 || got[0] != "kube" {
		t.Errorf("SectionsOf = %v", got)
	}
}

func TestUnknownPolicy(t *testing.T) {
	r := registry(t)
	_, err := r.New("volcano", policies.Config{}, engine.NewStreams(1))
	want := `unknown policy "volcano" (valid: default-scheduler, kube)`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if _, err := r.Lookup("volcano"); err == nil || err.Error() != want {
		t.Fatalf("Lookup: %v", err)
	}
}

func TestKubeSettings(t *testing.T) {
	r := registry(t)
	cfg := kube.DefaultConfig()
	cfg.ScoringStrategy.Type = kube.MostAllocated
	p, err := r.New("kube", policies.NewConfig(map[string]any{"kube": &cfg}), engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*kube.Scheduler).Config().ScoringStrategy.Type; got != kube.MostAllocated {
		t.Errorf("strategy %s", got)
	}
	cfg.PercentageOfNodesToScore = 200
	_, err = r.New("kube", policies.NewConfig(map[string]any{"kube": &cfg}), engine.NewStreams(1))
	var fe *policies.FieldError
	if !errors.As(err, &fe) || fe.Field != "percentageOfNodesToScore" || !strings.Contains(err.Error(), "must be between 0 and 100") {
		t.Errorf("invalid settings: %v", err)
	}
	cfg = kube.DefaultConfig()
	cfg.CycleSeconds = 2e9
	if _, err := r.New("kube", policies.NewConfig(map[string]any{"kube": &cfg}), engine.NewStreams(1)); !errors.As(err, &fe) || fe.Field != "cycleSeconds" {
		t.Errorf("cycleSeconds 2e9: %v", err)
	}
}

func TestRegistryRefusesClashes(t *testing.T) {
	reg := kube.Registration()
	if _, err := policies.NewRegistry(reg, reg); err == nil || !strings.Contains(err.Error(), "registered twice") {
		t.Errorf("same registration twice: %v", err)
	}
	other := policies.Registration{Name: "gang", Reads: []string{"nope"}, New: reg.New}
	if _, err := policies.NewRegistry(reg, other); err == nil || !strings.Contains(err.Error(), `reads section "nope"`) {
		t.Errorf("section read but not registered: %v", err)
	}
}
