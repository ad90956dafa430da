//go:build fluxion

package fluxion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/internal/fluxiontest"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// TestReapiRandomSessions runs random sessions — allocations, reservations
// and cancels of slot>core[,gpu] and slot>socket>core requests on graphs
// of nodes with or without sockets, alike or of different sizes, or of
// the shape Fluence builds — through the Go backend and flux-sched's
// libreapi_cli under every policy, and compares each step: the outcome,
// the job id, reserved/at, and the containment paths of every allocated
// vertex (both backends emit Fluxion's jgf match format). Random sessions
// found what the hand-written corpus had not: the aggregates (and so
// first's edge weights) counting the unlisted cores of a socket a slot
// holds, and sockets weighed by free cores instead of their last pruning
// type (corpus cases 57 and 58).
func TestReapiRandomSessions(t *testing.T) {
	policies := []string{"first", "firstnodex", "low", "high", "lonode", "hinode", "lonodex", "hinodex", "locality", "variation"}
	for pi, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			for trial := range 60 {
				rng := rand.New(rand.NewPCG(uint64(pi), uint64(trial)))
				if d := rrSession(t, rng, pol); d != "" {
					t.Errorf("trial %d: %s", trial, d)
					return
				}
			}
		})
	}
}

// rrSession runs one random session; it returns the session up to the
// first step where the backends differ, or "".
func rrSession(t *testing.T, rng *rand.Rand, pol string) string {
	sockets := rng.IntN(3)
	perSocket := 2 + rng.IntN(4)
	ns := make([]fluxiontest.Node, 2+rng.IntN(5))
	hetero := rng.IntN(2) == 0 // nodes of different sizes, some with gpus
	for i := range ns {
		ns[i] = fluxiontest.Node{Cores: int64(max(1, sockets) * perSocket)}
		if hetero {
			ns[i] = fluxiontest.Node{Cores: int64(max(1, sockets) * (1 + rng.IntN(perSocket))), GPUs: int64(max(1, sockets) * rng.IntN(2))}
		}
	}
	g := fluxiontest.Graph(t, sockets, ns...)
	fluence := sockets == 0 && rng.IntN(2) == 0
	if fluence {
		// The graph Fluence's sidecar builds: subnet level, memory in
		// 1 GiB pools, names of its own.
		ens := make([]*engine.Node, len(ns))
		for i, n := range ns {
			ens[i] = &engine.Node{Index: i, Name: fmt.Sprintf("kind-worker%d", i),
				Allocatable: engine.Resources{MilliCPU: n.Cores * 1000, GPU: n.GPUs, Memory: 4 << 30, Pods: 110}}
		}
		var err error
		if g, err = graph.Fluence(ens, ""); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := g.WriteJGF(&buf); err != nil {
		t.Fatal(err)
	}
	names := []string{BackendGo, BackendReapi}
	bes := make([]Backend, 2)
	for i, name := range names {
		be, err := OpenBackend(name, buf.Bytes(), match.MatcherOptions{Policy: pol, MatchFormat: match.FormatJGF})
		if err != nil {
			t.Fatalf("OpenBackend(%s): %v", name, err)
		}
		defer be.Close()
		bes[i] = be
	}
	log := []string{fmt.Sprintf("%s, %d sockets, nodes %v, fluence-shaped %v", pol, sockets, ns, fluence)}
	var live []uint64
	for range 14 {
		if len(live) > 0 && rng.IntN(4) == 0 {
			i := rng.IntN(len(live))
			id := live[i]
			live = slices.Delete(live, i, i+1)
			e0, e1 := bes[0].Cancel(id), bes[1].Cancel(id)
			log = append(log, fmt.Sprintf("cancel %d: %v | %v", id, e0, e1))
			if (e0 == nil) != (e1 == nil) {
				return strings.Join(log, "\n")
			}
			continue
		}
		spec, what := rrSpec(rng, sockets > 0, perSocket, hetero && rng.IntN(2) == 0)
		op := match.MatchAllocate
		if rng.IntN(3) == 0 {
			op = match.MatchAllocateOrElseReserve
		}
		var outs [2]string
		var id uint64
		for i, be := range bes {
			res, err := be.Match(op, []byte(spec), 0)
			if err != nil {
				outs[i] = "error " + match.MatchErrno(err)
				continue
			}
			id = res.JobID
			paths, err := rrPaths(res.R)
			if err != nil {
				t.Fatalf("%s: %v", names[i], err)
			}
			outs[i] = fmt.Sprintf("job %d reserved=%v at=%d %s", res.JobID, res.Reserved, res.At, paths)
		}
		log = append(log, fmt.Sprintf("%s %s:\n  go:    %s\n  reapi: %s", op, what, outs[0], outs[1]))
		if outs[0] != outs[1] {
			return strings.Join(log, "\n")
		}
		if !strings.HasPrefix(outs[0], "error") {
			live = append(live, id)
		}
	}
	return ""
}

// rrSpec is a random slot>core[,gpu] or (with sockets) slot>socket>core
// request.
func rrSpec(rng *rand.Rand, sockets bool, perSocket int, gpu bool) (spec, what string) {
	slots, cores := 1+rng.IntN(3), 1+rng.IntN(perSocket)
	body := fmt.Sprintf("  - type: core\n    count: %d\n", cores)
	what = fmt.Sprintf("slot:%d>core:%d", slots, cores)
	if gpu {
		body += "  - type: gpu\n    count: 1\n"
		what += ",gpu:1"
	}
	if sockets && rng.IntN(2) == 0 {
		body = fmt.Sprintf("  - type: socket\n    count: 1\n    with:\n    - type: core\n      count: %d\n", cores)
		what = fmt.Sprintf("slot:%d>socket:1>core:%d", slots, cores)
	}
	spec = fmt.Sprintf("version: 9999\nresources:\n- type: slot\n  count: %d\n  label: default\n  with:\n%stasks:\n- command: [app]\n  slot: default\n  count: {per_slot: 1}\nattributes:\n  system:\n    duration: %d\n",
		slots, body, 10+rng.IntN(100))
	return spec, what
}

// rrPaths lists the containment paths of the vertices of a jgf-format R,
// sorted.
func rrPaths(r []byte) (string, error) {
	var doc struct {
		Graph struct {
			Nodes []struct {
				Metadata struct {
					Paths map[string]string `json:"paths"`
				} `json:"metadata"`
			} `json:"nodes"`
		} `json:"graph"`
	}
	if err := json.Unmarshal(r, &doc); err != nil {
		return "", err
	}
	var ps []string
	for _, n := range doc.Graph.Nodes {
		ps = append(ps, n.Metadata.Paths["containment"])
	}
	slices.Sort(ps)
	return strings.Join(ps, ","), nil
}
