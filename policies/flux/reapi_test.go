//go:build fluxion

package flux

import (
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion"
)

// The queue manager on flux-sched's own matcher (backend reapi, rebuilt
// whenever time moves) against the Go model driven through the same
// rebuilt byte interface: every queue policy, random workloads of whole
// nodes and of shared one-core tasks, on 6 nodes of 4 cores. Run with
// flux-sched's libreapi_cli (docs/fluxion-reapi.md): go test -tags
// fluxion ./policies/flux/ -run Reapi.
//
// Every policy agrees schedule for schedule: low and high since the
// model ranks ties with std::sort, first since it ranks what first's
// traversal collected (high, node-centric) as flux-sched does.
func TestReapiQueueManagerSameSchedule(t *testing.T) {
	if !fluxion.ReapiAvailable {
		t.Skip("reapi: build with -tags fluxion and flux-sched's libreapi_cli")
	}
	for _, q := range QueuePolicies {
		for _, mp := range []string{"lonode", "hinode", "firstnodex", "low", "high", "first"} {
			for _, seed := range []uint64{7, 11} {
				t.Run(q+"/"+mp+"/"+map[uint64]string{7: "whole", 11: "shared"}[seed], func(t *testing.T) {
					subs := randomJobs(seed, 60)
					for i := range subs {
						subs[i].shared = seed == 11 && i%2 == 1
					}
					cfg := cfgOf(q, mp)
					viaGo := simulateWith(t, cfg, nodes(6, 4), engine.ShellStart{}, rebasedGo(t, cfg), subs...)
					rc := cfg
					rc.Backend = fluxion.BackendReapi
					real := simulate(t, rc, nodes(6, 4), engine.ShellStart{}, subs...)
					if real.pol.Matches == 0 {
						t.Fatal("no match reached flux-sched")
					}
					sameSchedule(t, "the Go model against flux-sched", subs, viaGo, real)
				})
			}
		}
	}
}
