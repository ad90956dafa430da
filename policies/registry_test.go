package policies

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

func TestRegistry(t *testing.T) {
	if got := strings.Join(Names(), ", "); got != "default-scheduler, kube" {
		t.Errorf("Names() = %s", got)
	}
	for _, name := range []string{"kube", "default-scheduler"} {
		p, err := New(name, Settings{}, engine.NewStreams(1))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Name() != "kube" || Canonical(name) != "kube" {
			t.Errorf("%s: policy %q, canonical %q", name, p.Name(), Canonical(name))
		}
		if _, ok := p.(engine.Pending); !ok {
			t.Errorf("%s: does not implement engine.Pending", name)
		}
	}
	if Canonical("fluxion") != "fluxion" {
		t.Error("Canonical of a non-alias must be the name itself")
	}
}

func TestUnknownPolicy(t *testing.T) {
	_, err := New("volcano", Settings{}, engine.NewStreams(1))
	want := `unknown policy "volcano" (valid: default-scheduler, kube)`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if _, err := Lookup("volcano"); err == nil || err.Error() != want {
		t.Fatalf("Lookup: %v", err)
	}
}

func TestKubeSettings(t *testing.T) {
	cfg := kube.DefaultConfig()
	cfg.ScoringStrategy.Type = kube.MostAllocated
	p, err := New("kube", Settings{Kube: &cfg}, engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*kube.Scheduler).Config().ScoringStrategy.Type; got != kube.MostAllocated {
		t.Errorf("strategy %s", got)
	}
	cfg.PercentageOfNodesToScore = 200
	if _, err := New("kube", Settings{Kube: &cfg}, engine.NewStreams(1)); err == nil ||
		!strings.Contains(err.Error(), "percentageOfNodesToScore: must be between 0 and 100") {
		t.Errorf("invalid settings: %v", err)
	}
}
