package flux

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/policies/fluxion/graph"
	fxmatch "github.com/convergesim/converge/policies/fluxion/match"
)

// randomJobs is a small random batch workload: sizes 1–4 nodes or 1–12
// slots, walltimes above the run times, arrivals every few seconds.
func randomJobs(seed uint64, n int) []sub {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]sub, n)
	at := 0.0
	for i := range out {
		at += r.Float64() * 20
		run := 5 + r.Float64()*200
		s := sub{at: at, name: fmt.Sprintf("j%d", i), walltime: run * (1 + 2*r.Float64()), run: run}
		if r.IntN(3) == 0 {
			s.slots = 1 + r.IntN(12)
		} else {
			s.nodes = 1 + r.IntN(4)
		}
		if r.IntN(10) == 0 {
			s.run = s.walltime * 2 // killed at its limit
		}
		if r.IntN(5) == 0 {
			s.urgency = 20 // ahead of the jobs already waiting
		}
		out[i] = s
	}
	return out
}

// rebasedGo opens the Go matcher behind the clock-less backend path
// (rebuilt at every time, as libreapi_cli is driven), for simulateWith.
func rebasedGo(t *testing.T, cfg Config) func([]*engine.Node) resources {
	return func(ns []*engine.Node) resources {
		g, err := graph.FromNodes(ns, graphOptions(cfg))
		if err != nil {
			t.Fatal(err)
		}
		r, err := newRebased(fluxion.BackendGo, g, fxmatch.MatcherOptions{Policy: cfg.MatchPolicy})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// The clock-less backend path (rebuilt at every time, running jobs
// re-installed with their remaining walltime, as libreapi_cli must be
// driven) schedules as the matcher with a clock does, under the
// policies whose choices do not depend on the first policy's edge
// weights. It is checked here with the Go backend behind the same byte
// interface as flux-sched's library.
func TestRebasedBackendSameSchedule(t *testing.T) {
	for _, q := range QueuePolicies {
		for _, mp := range []string{"lonode", "hinode", "low"} {
			subs := randomJobs(7, 60)
			cfg := cfgOf(q, mp)
			direct := simulate(t, cfg, nodes(6, 4), engine.ShellStart{}, subs...)
			viaBytes := simulateWith(t, cfg, nodes(6, 4), engine.ShellStart{}, rebasedGo(t, cfg), subs...)
			sameSchedule(t, q+"/"+mp+", with a clock against rebuilt", subs, direct, viaBytes)
			if viaBytes.pol.Matches == 0 {
				t.Fatal("no match went through the byte interface")
			}
		}
	}
}

// Booking a node-exclusive job's node once (SkipHeldBelow) rather than
// every core under it changes no decision: the same random workloads,
// node-exclusive and slot jobs mixed, under every queue and several
// match policies, give the same allocations either way.
func TestSkipHeldBelowSameSchedule(t *testing.T) {
	for _, q := range QueuePolicies {
		for _, mp := range []string{"first", "lonode", "high", "firstnodex"} {
			subs := randomJobs(11, 80)
			for i := range subs {
				subs[i].shared = i%2 == 1
			}
			cfg := cfgOf(q, mp)
			fast := simulate(t, cfg, nodes(6, 4), engine.ShellStart{}, subs...)
			cfg.bookEveryVertex = true
			full := simulate(t, cfg, nodes(6, 4), engine.ShellStart{}, subs...)
			sameSchedule(t, q+"/"+mp+", booking nodes once against every vertex", subs, fast, full)
		}
	}
}

// The shortcuts that reuse answers (a loop that allocated nothing goes
// on where it stopped; a refused whole-node request stands for larger
// and longer ones until something frees) change no decision: the same
// workloads with every loop asking the matcher everything.
func TestShortcutsSameSchedule(t *testing.T) {
	for _, q := range QueuePolicies {
		for _, mp := range []string{"first", "lonode", "low"} {
			saved := 0
			for seed := uint64(5); seed < 10; seed++ {
				subs := randomJobs(seed, 120)
				for i := range subs {
					subs[i].shared = i%3 == 1
				}
				cfg := cfgOf(q, mp)
				fast := simulate(t, cfg, nodes(8, 4), engine.ShellStart{}, subs...)
				cfg.recompute = true
				full := simulate(t, cfg, nodes(8, 4), engine.ShellStart{}, subs...)
				sameSchedule(t, fmt.Sprintf("%s/%s seed %d, with the shortcuts against without", q, mp, seed), subs, fast, full)
				saved += full.pol.Matches - fast.pol.Matches
			}
			// Under first a loop goes on where the last stopped only
			// when that loop changed no edge weight; it still saves.
			// fcfs saves only the head's retries, which both paths
			// skip.
			if q != FCFS && saved <= 0 {
				t.Errorf("%s/%s: the shortcuts saved %d matches over 5 workloads", q, mp, saved)
			}
		}
	}
}
