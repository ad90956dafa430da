package fluence

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/kube"
)

// A group of 4 pods of 4 cores on 4 nodes of 4 cores: one match, one pod
// per node in lonode order, all bound, the run completes, and the
// allocation is released once.
func TestGroupPlacedAtOnce(t *testing.T) {
	p := newFluence(t, DefaultConfig())
	j := gang("g", 4, tmpl(4000, gi, 100))
	res := run(t, p, nodes(4, 4, 16), j)
	if res.Stopped != "" || res.FinishedPods() != 4 {
		t.Fatalf("stopped %q, finished %d: %s", res.Stopped, res.FinishedPods(), placement(res))
	}
	if got := jobPlacement(j); got != "node-0 node-1 node-2 node-3" {
		t.Errorf("placement %s", got)
	}
	st := p.Plugin().Stats()
	if st.Asks != 1 || st.Allocated != 1 || st.Released != 1 || st.Mismatches != 0 {
		t.Errorf("stats %+v", st)
	}
	if p.PendingPods() != 0 {
		t.Errorf("PendingPods = %d", p.PendingPods())
	}
}

// records returns the records of the job's pods of one kind.
func records(res *engine.Result, j *engine.Job, kind engine.RecKind) []engine.Record {
	var out []engine.Record
	for _, r := range res.Records {
		if r.Kind == kind && r.Job == j.ID {
			out = append(out, r)
		}
	}
	return out
}

func firstTime(rs []engine.Record) float64 {
	if len(rs) == 0 {
		return engine.Unset
	}
	return rs[0].T
}

func lastStart(j *engine.Job) float64 {
	t := 0.0
	for _, p := range j.Pods {
		t = max(t, p.ContainersStarted)
	}
	return t
}

// Four 2-core pods on 8-core nodes: lonode packs the four slots on
// node-0, so R names one node for four pods. Fluence cancels the
// allocation, gives node-0 to the first pod and no node to the others,
// which never start: every attempt of a stuck pod rejects the waiting
// first pod, and the run stalls. assign: by-slot gives node-0 to all
// four, and the job runs.
func TestSlotsSharingANodeLeavePodsStuck(t *testing.T) {
	for _, tc := range []struct {
		assign   string
		finished int
	}{
		{AssignDistinctNodes, 0},
		{AssignBySlot, 4},
	} {
		t.Run(tc.assign, func(t *testing.T) {
			p := newFluence(t, with(func(c *Config) { c.Assign = tc.assign }))
			j := mpi("g", 4, tmpl(2000, gi, 100), 100)
			res := run(t, p, nodes(2, 8, 32), j)
			st := p.Plugin().Stats()
			if res.FinishedPods() != tc.finished {
				t.Fatalf("finished %d pods, want %d (stopped %q, placement %s, stats %+v)", res.FinishedPods(), tc.finished, res.Stopped, placement(res), st)
			}
			if tc.assign == AssignBySlot {
				if got := jobPlacement(j); got != "node-0 node-0 node-0 node-0" || st.Mismatches != 0 || res.Stopped != "" {
					t.Errorf("placement %s, stopped %q, stats %+v", got, res.Stopped, st)
				}
				return
			}
			if res.Stopped != "stalled" || st.Mismatches == 0 || st.Stuck == 0 {
				t.Errorf("stopped %q, stats %+v", res.Stopped, st)
			}
			// The first pod keeps node-0; the others never get a node.
			if got := placement(res); got != "- - - -" {
				t.Errorf("placement at the end %s", got)
			}
			if w := records(res, j, engine.RecWaiting); len(w) == 0 || w[0].Pod != j.Pods[0].ID {
				t.Errorf("waiting records %v, want pod 0 waiting on its node", w)
			}
			for _, r := range records(res, j, engine.RecFailedScheduling) {
				// Pod 0 fails only when its siblings' failures reject
				// it at Permit; the others find no node in their
				// PreFilter result.
				if r.Pod == j.Pods[0].ID {
					if !strings.Contains(r.Msg, "rejection in PostFilter") {
						t.Errorf("pod 0's failure %v", r)
					}
					continue
				}
				if !strings.Contains(r.Msg, "PreFilter result names no node") {
					t.Errorf("failure %v", r)
				}
			}
		})
	}
}

// Group a's pods run 100 s and 1000 s; group b arrives at 10 and needs
// both nodes. first-pod: a-0's end at 100 cancels a's allocation while
// a-1 still runs, Fluxion gives b both nodes, and b's pod pinned to
// a-1's node cannot fit (NodeResourcesFit) while its sibling waits at
// Permit holding the other node: Fluxion over-commits, the kubelet side
// refuses. last-pod, or a live graph that counts a-1 once a's allocation
// is gone: b is not matched before a-1 ends, and nothing waits.
func TestFirstPodRelease(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        Config
		overcommit bool
	}{
		{"first-pod", DefaultConfig(), true},
		{"last-pod", with(func(c *Config) { c.Release = ReleaseLastPod }), false},
		{"first-pod-live", with(func(c *Config) { c.Graph = GraphLive }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newFluence(t, tc.cfg)
			ta := tmpl(4000, gi, 0)
			ta.RunTime = newSeq(100, 1000)
			a := gang("a", 2, ta)
			b := gang("b", 2, tmpl(4000, gi, 100))
			res := runAt(t, p, nodes(2, 4, 16), sub{0, a}, sub{10, b})
			if res.Stopped != "" || res.FinishedPods() != 4 {
				t.Fatalf("stopped %q, finished %d", res.Stopped, res.FinishedPods())
			}
			aEnd := max(a.Pods[0].Finished, a.Pods[1].Finished)
			if aEnd < 1000 || aEnd > 1001 {
				t.Fatalf("a ends at %g, want 1000 and a few cycles", aEnd)
			}
			// b's pod on the free node waits at Permit (holding it) while
			// its sibling, pinned to a-1's node, cannot fit there.
			waitedEarly := firstTime(records(res, b, engine.RecWaiting)) < aEnd
			if waitedEarly != tc.overcommit {
				t.Errorf("b waited at Permit before a ended: %v, want %v", waitedEarly, tc.overcommit)
			}
			if s := lastStart(b); s < aEnd {
				t.Errorf("b started at %g, before a's last pod ended (%g)", s, aEnd)
			}
			st := p.Plugin().Stats()
			wantReleased := 2 // a and b, once each
			if st.Released != wantReleased {
				t.Errorf("released %d allocations, want %d (stats %+v)", st.Released, wantReleased, st)
			}
		})
	}
}

// A pod of the default kube-scheduler (workload "other", pinned to
// node-0 by its nodeSelector) runs for 1000 s. The static graph, built
// before it ran, does not see it: lonode gives group g node-0 and
// node-1, g-0 cannot fit on node-0 (NodeResourcesFit) and each of its
// attempts rejects g-1 waiting at Permit on node-1, until the foreign
// pod ends. The live
// graph marks node-0's cores down, and g gets node-1 and node-2 at once.
func TestStaticGraphBlindToForeignPods(t *testing.T) {
	for _, tc := range []struct {
		graph     string
		blind     bool
		placement string
	}{
		{GraphStatic, true, "node-0 node-1"},
		{GraphLive, false, "node-1 node-2"},
	} {
		t.Run(tc.graph, func(t *testing.T) {
			p := newFluence(t, with(func(c *Config) { c.Graph = tc.graph; c.KubeWorkloads = []string{"other"} }))
			ft := tmpl(4000, gi, 1000)
			ft.NodeSelector = map[string]string{engine.LabelHostname: "node-0"}
			foreign := &engine.Job{Name: "other", Workload: "other", Kind: engine.KindPod, Template: ft}
			g := gang("g", 2, tmpl(4000, gi, 100))
			res := runAt(t, p, nodes(3, 4, 16), sub{0, foreign}, sub{5, g})
			if res.Stopped != "" || res.FinishedPods() != 3 {
				t.Fatalf("stopped %q, finished %d", res.Stopped, res.FinishedPods())
			}
			if got := jobPlacement(foreign); got != "node-0" {
				t.Fatalf("foreign pod on %s", got)
			}
			if got := jobPlacement(g); got != tc.placement {
				t.Errorf("g placed on %s, want %s", got, tc.placement)
			}
			start := lastStart(g)
			rejected := 0
			for _, r := range records(res, g, engine.RecUnreserved) {
				if strings.Contains(r.Msg, "optimistic rejection in PostFilter") {
					rejected++
				}
			}
			if tc.blind {
				if start < foreign.Pods[0].Finished || rejected == 0 {
					t.Errorf("g started at %g (foreign pod ended %g), its waiting pod rejected %d times", start, foreign.Pods[0].Finished, rejected)
				}
			} else if start > 10 || rejected != 0 {
				t.Errorf("g started at %g, its waiting pod rejected %d times", start, rejected)
			}
		})
	}
}

// Fluence's queue sorts by the group's scheduleStartTime, a MicroTime:
// groups created within one microsecond tie and go by pod name. Both
// "z" and "a" (0.1 µs later) wait for "hog"; when it ends, "a" runs
// first. With 10 µs between them, "z" does.
func TestQueueOrderByGroupMicroTime(t *testing.T) {
	for _, tc := range []struct {
		gap    float64
		aFirst bool
	}{{1e-7, true}, {1e-5, false}} {
		hog := &engine.Job{Name: "hog", Kind: engine.KindPod, Template: tmpl(4000, gi, 100)}
		z := &engine.Job{Name: "z", Kind: engine.KindPod, Template: tmpl(4000, gi, 100)}
		a := &engine.Job{Name: "a", Kind: engine.KindPod, Template: tmpl(4000, gi, 100)}
		res := runAt(t, newFluence(t, DefaultConfig()), nodes(1, 4, 16), sub{0, hog}, sub{1, z}, sub{1 + tc.gap, a})
		if res.Stopped != "" {
			t.Fatalf("stopped %q", res.Stopped)
		}
		if got := a.Pods[0].ContainersStarted < z.Pods[0].ContainersStarted; got != tc.aFirst {
			t.Errorf("gap %g: a started %g, z %g", tc.gap, a.Pods[0].ContainersStarted, z.Pods[0].ContainersStarted)
		}
	}
}

// Many small gangs of 2 MPI pods on 2 nodes that hold one pod each:
// kube-scheduler places the first pod of each job and deadlocks (each
// job holds a node, its sibling waits); Fluence matches whole groups and
// every job completes.
func TestDeadlockUnderKubeCompletesUnderFluence(t *testing.T) {
	mk := func() []*engine.Job {
		var jobs []*engine.Job
		for _, n := range []string{"a", "b", "c", "d"} {
			jobs = append(jobs, mpi(n, 2, tmpl(3000, gi, 0), 100))
		}
		return jobs
	}
	ks, err := kube.New(kube.DefaultConfig(), engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, ks, nodes(2, 4, 16), mk()...)
	if res.Stopped != "stalled" || res.FinishedPods() != 0 {
		t.Fatalf("kube: stopped %q, finished %d, placement %s; want a deadlock", res.Stopped, res.FinishedPods(), placement(res))
	}
	p := newFluence(t, DefaultConfig())
	jobs := mk()
	res = run(t, p, nodes(2, 4, 16), jobs...)
	if res.Stopped != "" || res.FinishedPods() != 8 {
		t.Fatalf("fluence: stopped %q, finished %d", res.Stopped, res.FinishedPods())
	}
	for _, j := range jobs {
		if got := jobPlacement(j); got != "node-0 node-1" {
			t.Errorf("%s placed on %s", j.Name, got)
		}
	}
}

// The match policy is Fluxion's: lonode packs onto the lowest node ids,
// hinode the highest.
func TestMatchPolicy(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"lonode", "node-0 node-1"},
		// R lists nodes in graph order whatever the policy ranks first.
		{"hinode", "node-2 node-3"},
		{"policy=low node_centric=true", "node-0 node-1"},
	} {
		j := gang("g", 2, tmpl(4000, gi, 10))
		res := run(t, newFluence(t, with(func(c *Config) { c.Policy = tc.policy })), nodes(4, 4, 16), j)
		if res.Stopped != "" {
			t.Fatalf("%s: stopped %q", tc.policy, res.Stopped)
		}
		if got := jobPlacement(j); got != tc.want {
			t.Errorf("%s: placement %s, want %s", tc.policy, got, tc.want)
		}
	}
}

// A group that cannot fit Fluxion's graph at all is refused at
// PreFilter with Fluxion's answer, and never holds a node.
func TestGroupTooBig(t *testing.T) {
	p := newFluence(t, DefaultConfig())
	j := gang("big", 3, tmpl(4000, gi, 10))
	res := run(t, p, nodes(2, 4, 16), j)
	if res.Stopped != "stalled" || res.FinishedPods() != 0 {
		t.Fatalf("stopped %q", res.Stopped)
	}
	f := records(res, j, engine.RecFailedScheduling)
	if len(f) == 0 || !strings.Contains(f[0].Msg, "fluxion could not allocate 3 slots for pod group big") {
		t.Errorf("failures %v", f)
	}
	if len(records(res, j, engine.RecWaiting)) != 0 {
		t.Errorf("a pod of the group held a node")
	}
}

// Graph from free resources: memory in whole GiB pools and whole cores.
// A node of 4.5 cores and 7.5 GiB holds 4 cores and 7 pools: a group of
// pods of 1 core and 2 GiB (2048 MB: two pools each) fits 3 per node in
// Fluxion's view, so 4 slots need 2 nodes.
func TestGraphRoundsDown(t *testing.T) {
	ns := nodes(2, 4, 8)
	for _, n := range ns {
		n.Allocatable.MilliCPU = 4500
		n.Allocatable.Memory = 7*gi + gi/2
	}
	p := newFluence(t, with(func(c *Config) { c.Assign = AssignBySlot }))
	j := gang("g", 4, tmpl(1000, 2*gi, 10))
	res := run(t, p, ns, j)
	if res.Stopped != "" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	if got := jobPlacement(j); got != "node-0 node-0 node-0 node-1" {
		t.Errorf("placement %s", got)
	}
}

// Control-plane and cordoned nodes are left out of the static graph.
func TestGraphSkipsNodes(t *testing.T) {
	ns := nodes(4, 4, 16)
	ns[0].Labels["node-role.kubernetes.io/control-plane"] = ""
	ns[1].Unschedulable = true
	j := gang("g", 2, tmpl(4000, gi, 10))
	res := run(t, newFluence(t, DefaultConfig()), ns, j)
	if res.Stopped != "" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	if got := jobPlacement(j); got != "node-2 node-3" {
		t.Errorf("placement %s", got)
	}
}

// Same configuration and jobs, same run.
func TestDeterministic(t *testing.T) {
	once := func() string {
		var jobs []*engine.Job
		for i, n := range []int{3, 5, 2, 8, 1} {
			jobs = append(jobs, mpi(string(rune('a'+i)), n, tmpl(5000, 4*gi, 0), float64(50+10*i)))
		}
		res := run(t, newFluence(t, with(func(c *Config) { c.Release = ReleaseLastPod })), nodes(8, 8, 32), jobs...)
		var b strings.Builder
		for _, p := range res.Pods {
			b.WriteString(p.Name + "@" + p.Node.Name + " ")
		}
		return b.String()
	}
	if a, b := once(), once(); a != b {
		t.Errorf("two runs differ:\n%s\n%s", a, b)
	}
}

// Fluence's graph knows no taints, and its profile disables
// TaintToleration: a group lands on a node tainted NoSchedule (the
// launcher nodes of a scenario) as on any other. A NoExecute taint is
// refused by the kubelet, so the pod pinned there never starts.
func TestTaintsIgnored(t *testing.T) {
	for _, tc := range []struct {
		effect   engine.TaintEffect
		finished int
	}{{engine.NoSchedule, 2}, {engine.NoExecute, 0}} {
		ns := nodes(3, 4, 16)
		ns[0].Taints = []engine.Taint{{Key: "launcher", Value: "true", Effect: tc.effect}}
		j := gang("g", 2, tmpl(4000, gi, 10))
		res := run(t, newFluence(t, DefaultConfig()), ns, j)
		if res.FinishedPods() != tc.finished {
			t.Errorf("%s: %d pods finished, want %d (placement %s)", tc.effect, res.FinishedPods(), tc.finished, placement(res))
		}
		if tc.finished > 0 && jobPlacement(j) != "node-0 node-1" {
			t.Errorf("%s: placement %s", tc.effect, jobPlacement(j))
		}
	}
}

// The lister counts a group's finished pods too: a Job of parallelism 2
// and 4 completions has 3 pods when its third is created, Fluxion gives
// 2 nodes for the group's 2 slots, the counts differ, the allocation is
// cancelled and the finished pod takes a node in the new pod's place.
// The second wave never starts, whatever the release mode.
func TestLaterWavesStuck(t *testing.T) {
	for _, rel := range []string{ReleaseFirstPod, ReleaseLastPod} {
		p := newFluence(t, with(func(c *Config) { c.Release = rel }))
		tp := tmpl(4000, gi, 0)
		tp.RunTime = newSeq(100, 200)
		j := &engine.Job{Name: "j", Kind: engine.KindIndexedJob, Parallelism: 2, Completions: 4, Template: tp}
		res := run(t, p, nodes(3, 4, 16), j)
		st := p.Plugin().Stats()
		if res.Stopped != "stalled" || res.FinishedPods() != 2 || len(j.Pods) != 4 || st.Mismatches == 0 {
			t.Errorf("%s: stopped %q, %d of %d pods finished, stats %+v", rel, res.Stopped, res.FinishedPods(), len(j.Pods), st)
		}
	}
}

// A PodGroup smaller than its Job (minMember 1, parallelism 2, the Job
// controller creating a pod a second): the group is matched when its
// first pod exists and that pod runs; the second finds the group
// permitted and no node for it. Once the permit has expired (300 s), its
// ask cancels the group's live allocation first (PostFilter and
// Unreserve never do) and matches again, for 2 pods and 1 node: that
// allocation is cancelled too, the running pod keeps a node and the
// second never runs, while Fluxion holds nothing for the first.
func TestStaleAllocationCancelledByTheNextAsk(t *testing.T) {
	p := newFluence(t, DefaultConfig())
	j := &engine.Job{Name: "j", Kind: engine.KindIndexedJob, Parallelism: 2, Completions: 2,
		Template: tmpl(4000, gi, 1000), Group: &engine.PodGroup{Name: "j", MinMember: 1}}
	ecfg := engineConfig(nodes(4, 4, 16))
	ecfg.Controllers.CreateLatency = engine.Const(1)
	e, err := engine.New(ecfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Submit(0, j); err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	st := p.Plugin().Stats()
	if res.Stopped != "stalled" || res.FinishedPods() != 1 || st.StaleCancel != 1 || st.Mismatches == 0 {
		t.Errorf("stopped %q, %d pods finished, stats %+v", res.Stopped, res.FinishedPods(), st)
	}
	if f := j.Pods[1].Finished; engine.IsSet(f) {
		t.Errorf("the second pod finished at %g", f)
	}
}
