//go:build fluxion

package fluence

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/policies/fluxion"
)

// parityJobs is a small workload that exercises allocation, release,
// failed matches and re-asks: MPI groups of whole-node and half-node
// pods arriving over time on 6 nodes.
func parityJobs() []sub {
	var subs []sub
	for i, n := range []int{3, 2, 4, 1, 6, 2, 3} {
		cpu := int64(8000)
		if i%2 == 1 {
			cpu = 4000
		}
		subs = append(subs, sub{float64(5 * i), mpi(string(rune('a'+i)), n, tmpl(cpu, 4*gi, 0), float64(40+15*i))})
	}
	return subs
}

// The same runs, pod for pod, from the pure-Go matcher and from
// flux-sched's libreapi_cli.
func TestBackendsSamePlacements(t *testing.T) {
	if !fluxion.ReapiAvailable {
		t.Fatal("built with -tags fluxion but ReapiAvailable is false")
	}
	for _, cfg := range []Config{
		DefaultConfig(),
		with(func(c *Config) { c.Assign = AssignBySlot; c.Release = ReleaseLastPod }),
		with(func(c *Config) { c.Graph = GraphLive; c.Policy = "first" }),
		with(func(c *Config) { c.Policy = "hinode" }),
	} {
		var got [2]string
		var stats [2]Stats
		for k, be := range []string{fluxion.BackendGo, fluxion.BackendReapi} {
			cfg.Backend = be
			p := newFluence(t, cfg)
			res := runAt(t, p, nodes(6, 8, 32), parityJobs()...)
			if err := p.Plugin().Err(); err != nil {
				t.Fatalf("%s: %v", be, err)
			}
			for _, pod := range res.Pods {
				n := "-"
				if pod.Node != nil {
					n = pod.Node.Name
				}
				got[k] += fmt.Sprintf("%s@%s@%g ", pod.Name, n, pod.ContainersStarted)
			}
			stats[k] = p.Plugin().Stats()
		}
		if got[0] != got[1] || stats[0] != stats[1] {
			t.Errorf("%+v:\ngo:    %s %+v\nreapi: %s %+v", cfg, got[0], stats[0], got[1], stats[1])
		}
	}
}
