package engine_test

import (
	"slices"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// holdAll assumes every pod of a job on the first node where it fits as
// it is created, and allows them all once the whole job waits: a gang
// plugin's Permit in its simplest form.
func holdAll(arrived *[]float64) enginetest.Func {
	waiting := map[*engine.Job][]*engine.Pod{}
	return enginetest.Func{N: "hold-all", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range evs {
			if ev.Kind == engine.JobArrived {
				*arrived = append(*arrived, now)
			}
			if ev.Kind != engine.PodCreated {
				continue
			}
			p := ev.Pod
			for _, n := range c.Nodes {
				if n.Requested.Add(p.Requests).LessEqual(n.Allocatable) {
					out = append(out, engine.Decision{Kind: engine.Assume, Pod: p, Node: n})
					break
				}
			}
			w := append(waiting[p.Job], p)
			waiting[p.Job] = w
			if len(w) == p.Job.Completions {
				for _, q := range w {
					out = append(out, engine.Decision{Kind: engine.Allow, Pod: q})
				}
			}
		}
		return out
	}}
}

// TestAssumeAllow: waiting pods hold their node's resources from the
// Assume, are recorded Waiting, and are Assigned (and bound) only when
// allowed: every pod of the job at the time its last pod was created.
func TestAssumeAllow(t *testing.T) {
	var arrived []float64
	nodes := enginetest.Nodes(1, engine.Resources{MilliCPU: 4000, Memory: 64 * engine.GiB, Pods: 110})
	job := enginetest.IndexedJob("gang", 4, 4, enginetest.Template("a", 10))
	res := runToEnd(t, enginetest.ExactConfig(nodes), holdAll(&arrived), at(5, job))
	if !slices.Equal(arrived, []float64{5}) {
		t.Errorf("JobArrived delivered at %v, want [5]", arrived)
	}
	last := res.Pods[len(res.Pods)-1].Created
	for _, p := range res.Pods {
		eq(t, p.Name+" Assigned", p.Assigned, last)
		waits := enginetest.Records(res, p.ID, engine.RecWaiting)
		if len(waits) != 1 || waits[0].T != p.Created {
			t.Errorf("%s: Waiting records %v, want one at its creation %v", p.Name, waits, p.Created)
		}
		if p.Waiting() {
			t.Errorf("%s still waiting after the run", p.Name)
		}
	}
}

// TestUnreserveFreesTheNode: a pod assumed and then unreserved leaves
// its node as it was, is pending again with the reason as its last
// failure, and can be placed again.
func TestUnreserveFreesTheNode(t *testing.T) {
	nodes := enginetest.Nodes(1, enginetest.BigNode)
	var during, after engine.Resources
	var pod *engine.Pod
	pol := enginetest.Func{N: "flip", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range evs {
			switch {
			case ev.Kind == engine.PodCreated:
				pod = ev.Pod
				out = append(out, engine.Decision{Kind: engine.Assume, Pod: ev.Pod, Node: c.Nodes[0]},
					engine.Decision{Kind: engine.SetTimer, At: now + 7, Tag: 1})
			case ev.Kind == engine.TimerFired && ev.Tag == 1:
				during = c.Nodes[0].Requested
				out = append(out, engine.Decision{Kind: engine.Unreserve, Pod: pod, Reason: "timed out"},
					engine.Decision{Kind: engine.SetTimer, At: now + 1, Tag: 2})
			case ev.Kind == engine.TimerFired && ev.Tag == 2:
				after = c.Nodes[0].Requested
				out = append(out, engine.Decision{Kind: engine.Bind, Pod: pod, Node: c.Nodes[0]})
			}
		}
		return out
	}}
	res := runToEnd(t, enginetest.ExactConfig(nodes), pol, at(0, enginetest.Pod("p", enginetest.Template("a", 10))))
	p := res.Pods[0]
	if during != p.Requests {
		t.Errorf("node requested while waiting = %v, want the pod's %v", during, p.Requests)
	}
	if !after.IsZero() {
		t.Errorf("node requested after Unreserve = %v, want zero", after)
	}
	if p.LastFailure != "timed out" || p.Attempts != 2 {
		t.Errorf("last failure %q, attempts %d; want \"timed out\", 2", p.LastFailure, p.Attempts)
	}
	un := enginetest.Records(res, p.ID, engine.RecUnreserved)
	if len(un) != 1 || un[0].Msg != "timed out" || un[0].Node != 0 {
		t.Errorf("Unreserved records %v", un)
	}
	eq(t, "Assigned", p.Assigned, p.Created+8)
}

// TestAllocateAllOrNothing: an Allocate places every slot of a job at
// once; one slot that does not fit fails the run and none is applied.
func TestAllocateAllOrNothing(t *testing.T) {
	gangOf := func(k int) enginetest.Func {
		var pods []*engine.Pod
		return enginetest.Func{N: "allocate", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
			for _, ev := range evs {
				if ev.Kind != engine.PodCreated {
					continue
				}
				pods = append(pods, ev.Pod)
				if len(pods) == ev.Pod.Job.Completions {
					d := engine.Decision{Kind: engine.Allocate, Job: ev.Pod.Job}
					for i, p := range pods {
						d.Slots = append(d.Slots, engine.Slot{Pod: p, Node: c.Nodes[i%k]})
					}
					out = append(out, d)
				}
			}
			return out
		}}
	}
	two := engine.Resources{MilliCPU: 2000, Memory: 64 * engine.GiB, Pods: 110}
	res := runToEnd(t, enginetest.ExactConfig(enginetest.Nodes(2, two)), gangOf(2), at(0, enginetest.IndexedJob("g", 4, 4, enginetest.Template("a", 10))))
	for _, p := range res.Pods {
		eq(t, p.Name+" Assigned", p.Assigned, res.Pods[3].Created)
		if want := res.Cluster.Nodes[p.Index%2]; p.Node != want {
			t.Errorf("%s on %s, want %s", p.Name, p.Node.Name, want.Name)
		}
	}
	// All four on one 2-core node: the third slot over-commits it.
	_, err := tryRun(t, enginetest.ExactConfig(enginetest.Nodes(2, two)), gangOf(1), at(0, enginetest.IndexedJob("g", 4, 4, enginetest.Template("a", 10))))
	wantErr(t, err, "over-committed by pod g-2")
	wantErr(t, err, "slot 2 of job g's allocation")
}

// TestRejectEndsTheJob: a rejected job's pending pods are removed, pods
// still to be created never are, and the run ends normally.
func TestRejectEndsTheJob(t *testing.T) {
	pol := enginetest.Func{N: "reject", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
		for _, ev := range evs {
			if ev.Kind == engine.PodCreated && ev.Pod.Index == 0 {
				out = append(out, engine.Decision{Kind: engine.Reject, Job: ev.Pod.Job, Reason: "unsatisfiable"},
					engine.Decision{Kind: engine.Reserve, Job: ev.Pod.Job, Nodes: c.Nodes, At: now + 100})
			}
		}
		return out
	}}
	res := run(t, enginetest.ExactConfig(enginetest.Nodes(2, enginetest.BigNode)), pol, at(0, enginetest.IndexedJob("big", 8, 8, enginetest.Template("a", 10))))
	if res.Stopped != "" {
		t.Errorf("run stopped %q, want a normal end", res.Stopped)
	}
	j := res.Jobs[0]
	if !j.IsRejected() || j.Rejected != j.Pods[0].Created || engine.IsSet(j.Finished) {
		t.Fatalf("job rejected at %v, finished at %v", j.Rejected, j.Finished)
	}
	if len(j.Pods) != 1 || j.Pods[0].Phase != engine.PodFailed || j.Pods[0].LastFailure != "unsatisfiable" {
		t.Errorf("pods after the reject: %d, first %v %q; want 1, Failed", len(j.Pods), j.Pods[0].Phase, j.Pods[0].LastFailure)
	}
	var kinds []engine.RecKind
	for _, r := range res.Records {
		if r.Kind == engine.RecRejected || r.Kind == engine.RecReserved {
			kinds = append(kinds, r.Kind)
			if r.Job != j.ID {
				t.Errorf("%v record names job %d", r.Kind, r.Job)
			}
		}
	}
	if !slices.Equal(kinds, []engine.RecKind{engine.RecRejected, engine.RecReserved}) {
		t.Errorf("records %v", kinds)
	}
}

// TestGangDecisionInvariants: allowing or unreserving a pod that does
// not wait, or rejecting a job with a placed pod, fails the run.
func TestGangDecisionInvariants(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    func(p *engine.Pod, n *engine.Node) []engine.Decision
		want string
	}{
		{"allow unassumed", func(p *engine.Pod, n *engine.Node) []engine.Decision {
			return []engine.Decision{{Kind: engine.Allow, Pod: p}}
		}, "which is not waiting"},
		{"unreserve bound", func(p *engine.Pod, n *engine.Node) []engine.Decision {
			return []engine.Decision{{Kind: engine.Bind, Pod: p, Node: n}, {Kind: engine.Unreserve, Pod: p}}
		}, "which is not waiting"},
		{"reject placed", func(p *engine.Pod, n *engine.Node) []engine.Decision {
			return []engine.Decision{{Kind: engine.Assume, Pod: p, Node: n}, {Kind: engine.Reject, Job: p.Job}}
		}, "holds node node-0"},
		{"assume twice", func(p *engine.Pod, n *engine.Node) []engine.Decision {
			return []engine.Decision{{Kind: engine.Assume, Pod: p, Node: n}, {Kind: engine.Assume, Pod: p, Node: n}}
		}, "twice (already on node-0)"},
		{"reserve in the past", func(p *engine.Pod, n *engine.Node) []engine.Decision {
			return []engine.Decision{{Kind: engine.Reserve, Job: p.Job, Nodes: []*engine.Node{n}, At: -1}}
		}, "reserved job p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol := enginetest.Func{N: "bad", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
				for _, ev := range evs {
					if ev.Kind == engine.PodCreated {
						out = append(out, tc.d(ev.Pod, c.Nodes[0])...)
					}
				}
				return out
			}}
			_, err := tryRun(t, enginetest.ExactConfig(oneNode()), pol, at(0, enginetest.Pod("p", enginetest.Template("a", 10))))
			wantErr(t, err, tc.want)
		})
	}
}

// TestPermitRetriesAreOneSeries: a pod assumed and unreserved over and
// over is one FailedScheduling series: one Waiting and one Unreserved
// record, the later rejections counted in the series its bind ends;
// with EveryAttempt every wait and rejection is recorded.
func TestPermitRetriesAreOneSeries(t *testing.T) {
	const tries = 10
	flip := func() enginetest.Func {
		var pod *engine.Pod
		n := 0
		return enginetest.Func{N: "flip", F: func(now float64, evs []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
			for _, ev := range evs {
				switch {
				case ev.Kind == engine.PodCreated:
					pod = ev.Pod
					out = append(out, engine.Decision{Kind: engine.Assume, Pod: pod, Node: c.Nodes[0]}, engine.Decision{Kind: engine.SetTimer, At: now + 1, Tag: 1})
				case ev.Kind == engine.TimerFired && n < tries:
					n++
					out = append(out, engine.Decision{Kind: engine.Unreserve, Pod: pod, Reason: "timed out"},
						engine.Decision{Kind: engine.Assume, Pod: pod, Node: c.Nodes[0]}, engine.Decision{Kind: engine.SetTimer, At: now + 1, Tag: 1})
				case ev.Kind == engine.TimerFired:
					out = append(out, engine.Decision{Kind: engine.Allow, Pod: pod})
				}
			}
			return out
		}}
	}
	for _, every := range []bool{false, true} {
		cfg := enginetest.ExactConfig(oneNode())
		cfg.EveryAttempt = every
		res := runToEnd(t, cfg, flip(), at(0, enginetest.Pod("p", enginetest.Template("a", 10))))
		waits := len(enginetest.Records(res, 0, engine.RecWaiting))
		unres := len(enginetest.Records(res, 0, engine.RecUnreserved))
		var series []engine.Record
		for _, r := range enginetest.Records(res, 0, engine.RecFailedScheduling) {
			if r.Count > 0 {
				series = append(series, r)
			}
		}
		want := 1
		if every {
			want = tries
		}
		if unres != want || waits != want+boolInt(every) {
			t.Errorf("every=%v: %d Waiting and %d Unreserved records, want %d and %d", every, waits, unres, want+boolInt(every), want)
		}
		if len(series) != 1 || series[0].Count != tries {
			t.Errorf("every=%v: series ends %v, want one of %d attempts", every, series, tries)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
