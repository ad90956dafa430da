package coscheduling

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
	"github.com/convergesim/converge/policies/kube"
)

// TestAllOrNothing: the pods of a group wait at Permit holding their
// nodes until the last one is placed; then all are bound at once.
func TestAllOrNothing(t *testing.T) {
	j := gang("g", 4, tmpl(1000, 10))
	res := run(t, cosched(t, DefaultArgs(), 1), ecfg(nodes(2, 4000)), at(0, j))
	if res.Stopped != "" && res.Stopped != "done" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	last := j.Pods[3]
	for _, p := range j.Pods[:3] {
		w := firstRecord(res, p, engine.RecWaiting)
		if w == nil {
			t.Fatalf("%s never waited at Permit", p.Name)
		}
		if w.T >= last.Assigned {
			t.Errorf("%s waited from %g, not before the last pod's Permit at %g", p.Name, w.T, last.Assigned)
		}
	}
	if firstRecord(res, last, engine.RecWaiting) != nil {
		t.Errorf("the last pod waited; it completes the group")
	}
	for _, p := range j.Pods {
		if p.Assigned != last.Assigned || !(p.Scheduled >= p.Assigned) {
			t.Errorf("%s assigned %g scheduled %g, want assigned with the group at %g", p.Name, p.Assigned, p.Scheduled, last.Assigned)
		}
		if !engine.IsSet(p.Finished) {
			t.Errorf("%s did not finish", p.Name)
		}
	}
}

// TestTimeout: a group of 11 pods of 1 core on a node with 10 free cores.
// The 11th pod fails Filter, but 1 of 11 unassigned is within the 10 %
// reject threshold, so PostFilter leaves the 10 others waiting, holding
// the node. At the group's timeout (30 s) the first waiting pod is
// rejected, Unreserve rejects its siblings, their cores are freed and
// they retry; once the blocking pod ends (45 s) the whole group binds.
func TestTimeout(t *testing.T) {
	blocker := enginetest.Pod("a-blocker", tmpl(1000, 45))
	g := gang("g", 11, tmpl(1000, 10))
	g.Group.ScheduleTimeoutSeconds = 30
	s := cosched(t, DefaultArgs(), 1)
	tp := &tap{Policy: s}
	res := run(t, tp, ecfg(nodes(1, 11000)), at(0, blocker), at(0, g))
	if res.Stopped != "" && res.Stopped != "done" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	var firstWait float64 = math.Inf(1)
	for _, p := range g.Pods {
		if w := firstRecord(res, p, engine.RecWaiting); w != nil {
			firstWait = min(firstWait, w.T)
		}
	}
	unres := enginetest.Records(res, -1, engine.RecUnreserved)
	if len(unres) < 10 {
		t.Fatalf("%d pods unreserved, want the 10 waiting ones\n%s", len(unres), strings.Join(records(res, engine.RecWaiting, engine.RecUnreserved, engine.RecFailedScheduling), "\n"))
	}
	first := unres[0]
	// The wait starts at Permit, at the end of the pod's cycle (well
	// under a millisecond after the Waiting record).
	if first.T < firstWait+30 || first.T > firstWait+30.001 {
		t.Errorf("first rejection at %g, want the first wait %g + 30 s", first.T, firstWait)
	}
	if want := "0/1 nodes are available: 1 rejected due to timeout after waiting 30s at plugin Coscheduling."; first.Msg != want {
		t.Errorf("timeout message %q, want %q", first.Msg, want)
	}
	for _, r := range unres[1:10] {
		if r.T != first.T || r.Msg != "0/1 nodes are available: 1 rejection in Unreserve." {
			t.Errorf("sibling rejected at %g with %q, want at %g by Unreserve", r.T, r.Msg, first.T)
		}
	}
	// While they waited, the 10 held their cores: the 11th pod failed
	// Filter on cpu, never on the group's rules.
	for _, f := range tp.failures() {
		if f.reason != "0/1 nodes are available: 1 Insufficient cpu." {
			t.Errorf("failure %v, want Insufficient cpu", f)
		}
	}
	// The rejected pods retried: they waited again after the timeout.
	again := 0
	for _, r := range enginetest.Records(res, -1, engine.RecWaiting) {
		if r.T > first.T {
			again++
		}
	}
	if again == 0 {
		t.Errorf("no pod waited again after the timeout")
	}
	// The group bound together once the blocker's core was free.
	bound := g.Pods[0].Assigned
	for _, p := range g.Pods {
		if p.Assigned != bound || p.Assigned < 45 || !engine.IsSet(p.Finished) {
			t.Errorf("%s assigned %g finished %g, want all at the same time ≥ 45 and finished", p.Name, p.Assigned, p.Finished)
		}
	}
	if st, _ := s.Plugin.Group("g"); st.Assigned != 0 || st.Pods != 0 {
		t.Errorf("group state after the run %+v, want no pods, none assigned", st)
	}
}

// TestTimeoutFreesNode: a group that can never complete (minMember 11,
// only 10 cores ever free) keeps timing out; after every timeout its
// cores are free (a pod without a group that needs them gets placed at
// the first timeout), and the run ends stalled with no bind.
func TestTimeoutFreesNode(t *testing.T) {
	g := gang("g", 11, tmpl(1000, 10))
	g.Group.ScheduleTimeoutSeconds = 30
	late := enginetest.Pod("late", tmpl(4000, 10))
	res := run(t, cosched(t, DefaultArgs(), 1), ecfg(nodes(1, 10000)), at(0, g), at(1, late))
	if res.Stopped != "stalled" {
		t.Fatalf("stopped %q, want stalled", res.Stopped)
	}
	lp := late.Pods[0]
	firstTimeout := enginetest.Records(res, -1, engine.RecUnreserved)[0].T
	if !(lp.Assigned >= firstTimeout && lp.Assigned < firstTimeout+1) || !engine.IsSet(lp.Finished) {
		t.Errorf("late pod assigned at %g (first timeout %g), finished %g: want placed at the timeout", lp.Assigned, firstTimeout, lp.Finished)
	}
	for _, p := range g.Pods {
		if engine.IsSet(p.Assigned) {
			t.Errorf("%s was bound at %g; the group never completes", p.Name, p.Assigned)
		}
	}
}

// TestBlockedUntilAllPodsExist: PreFilter rejects the group's pods while
// fewer than minMember exist; no pod is placed before the last is
// created.
func TestBlockedUntilAllPodsExist(t *testing.T) {
	cfg := ecfg(nodes(2, 8000))
	cfg.Controllers.CreateLatency = engine.Const(1) // pods appear over time
	g := gang("g", 6, tmpl(1000, 10))
	res := run(t, cosched(t, DefaultArgs(), 1), cfg, at(0, g))
	lastCreated := 0.0
	for _, p := range g.Pods {
		lastCreated = max(lastCreated, p.Created)
	}
	if lastCreated == 0 {
		t.Fatal("every pod was created at once; the test needs them spread")
	}
	fails := records(res, engine.RecFailedScheduling)
	if len(fails) == 0 || !strings.Contains(fails[0], "0/2 nodes are available: pre-filter pod g-0 cannot find enough sibling pods, current pods number: 1, minMember of group: 6.") {
		t.Errorf("first failures %q", fails)
	}
	for _, p := range g.Pods {
		if w := firstRecord(res, p, engine.RecWaiting); w != nil && w.T < lastCreated {
			t.Errorf("%s waited at %g, before the last pod was created at %g", p.Name, w.T, lastCreated)
		}
		if !engine.IsSet(p.Finished) {
			t.Errorf("%s did not finish", p.Name)
		}
	}

	// A group whose job never has minMember pods is never placed.
	short := gang("short", 3, tmpl(1000, 10))
	short.Group.MinMember = 4
	res = run(t, cosched(t, DefaultArgs(), 1), ecfg(nodes(2, 8000)), at(0, short))
	if res.Stopped != "stalled" || res.FinishedPods() != 0 {
		t.Errorf("stopped %q with %d finished, want stalled with none", res.Stopped, res.FinishedPods())
	}
	for _, r := range records(res, engine.RecWaiting, engine.RecAssigned) {
		t.Errorf("unexpected %s", r)
	}
}

// TestMinResources: a group whose minResources exceed the cluster's free
// resources is rejected at PreFilter with the gap; the group's own
// assigned pods do not count against it.
func TestMinResources(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		// 8 cores, 5 held by a pod for 20 s: 3 free < minResources 4.
		blocker := enginetest.Pod("a-blocker", tmpl(5000, 20))
		g := gang("g", 2, tmpl(1000, 10))
		g.Group.MinResources = engine.Resources{MilliCPU: 4000, Memory: 4 * gi}
		s := cosched(t, DefaultArgs(), 1)
		res := run(t, s, ecfg(nodes(1, 8000)), at(0, blocker), at(0, g))
		fails := records(res, engine.RecFailedScheduling)
		if len(fails) == 0 || !strings.HasSuffix(fails[0], "0/1 nodes are available: resource gap: map[cpu:1].") {
			t.Fatalf("failures %q", fails)
		}
		for _, p := range g.Pods {
			if !(p.Assigned >= 20) || !engine.IsSet(p.Finished) {
				t.Errorf("%s assigned %g, want after the blocker ended at 20, and finished", p.Name, p.Assigned)
			}
		}
		st, _ := s.Plugin.Group("g")
		if want := g.Pods[0].Assigned + 60; !(st.Permitted >= 20 && st.Permitted <= want) {
			t.Errorf("permitted until %g, want the passing check + 60 s", st.Permitted)
		}
	})
	t.Run("own pods not counted", func(t *testing.T) {
		// 8 cores: a 3-core pod until 5 s; the group (3 × 2 cores, at
		// least 4 cores free) passes with 5 free, two of its pods wait
		// holding 4, the third fails Filter (1 free). The permitted entry
		// lives 1 s. A 1-core pod placed at 2 s ends at 3 s; its deletion
		// sends the third pod back: PreFilter checks again, finds 5 cores
		// free without the group's own pods (1 with them), passes, and
		// the pod fails on cpu until the 3-core pod ends.
		blocker := enginetest.Pod("a-blocker", tmpl(3000, 5))
		filler := enginetest.Pod("filler", tmpl(1000, 1))
		g := gang("g", 3, tmpl(2000, 10))
		g.Group.MinResources = engine.Resources{MilliCPU: 4000}
		g.Group.ScheduleTimeoutSeconds = 100
		args := DefaultArgs()
		args.PermitWaitingTimeSeconds = 1
		args.PodGroupRejectPercentage = 100 // PostFilter never rejects
		tp := &tap{Policy: cosched(t, args, 1)}
		res := run(t, tp, ecfg(nodes(1, 8000)), at(0, blocker), at(0, g), at(2, filler))
		var late []tapped
		for _, f := range tp.failures() {
			if f.reason != "0/1 nodes are available: 1 Insufficient cpu." {
				t.Errorf("failure %v: want Insufficient cpu (the group's own waiting pods were counted?)", f)
			}
			if f.t > 1 {
				late = append(late, f)
			}
		}
		if len(late) == 0 {
			t.Errorf("no attempt after the permitted entry expired: %v", tp.failures())
		}
		for _, p := range g.Pods {
			if !(p.Assigned >= 5) || !engine.IsSet(p.Finished) {
				t.Errorf("%s assigned %g, want after 5, and finished", p.Name, p.Assigned)
			}
		}
		if !engine.IsSet(res.Jobs[2].Finished) {
			t.Errorf("the 1-core pod did not run")
		}
	})
}

// TestBackoff: with podGroupBackoffSeconds, a group PostFilter rejects
// is refused at PreFilter for that long.
func TestBackoff(t *testing.T) {
	// 4 cores, 2 held until 60 s: two of the group's pods wait, the third
	// fails Filter, and 2 of 3 assigned is a gap of 33 % > 10 %:
	// PostFilter rejects the group (and backs it off). Small pods placed
	// at 5, 15 and 25 s end a second later; each deletion sends the
	// group's pods back to the queue.
	jobs := func() []arrival {
		g := gang("g", 3, tmpl(1000, 10))
		return []arrival{at(0, enginetest.Pod("a-blocker", tmpl(2000, 60))), at(0, g),
			at(5, enginetest.Pod("f1", tmpl(100, 1))), at(15, enginetest.Pod("f2", tmpl(100, 1))),
			at(25, enginetest.Pod("f3", tmpl(100, 1)))}
	}
	args := DefaultArgs()
	args.PodGroupBackoffSeconds = 20
	tp := &tap{Policy: cosched(t, args, 1)}
	res := run(t, tp, ecfg(nodes(1, 4000)), jobs()...)
	rej := enginetest.Records(res, -1, engine.RecUnreserved)
	if len(rej) < 2 || rej[0].Msg != "0/1 nodes are available: 1 optimistic rejection in PostFilter." {
		t.Fatalf("rejections %q", records(res, engine.RecUnreserved))
	}
	// Each failure of the group's pods outside a backoff runs PostFilter
	// (2 of 3 assigned at most: a gap above 10 %), which backs the group
	// off for (t, t+20]; a failure inside one does not make it longer
	// (go-cache's Add keeps the entry).
	var from []float64
	in := func(t float64) bool {
		for _, f := range from {
			if t > f && t <= f+20 {
				return true
			}
		}
		return false
	}
	n := 0
	for _, f := range tp.failures() {
		if f.pod.Job.Group == nil {
			continue
		}
		if strings.Contains(f.reason, "failed recently") {
			n++
			if f.reason != "0/1 nodes are available: podGroup default/g failed recently." {
				t.Errorf("backoff message %q", f.reason)
			}
			if !in(f.t) {
				t.Errorf("backoff rejection at %g, outside the backoffs from %v", f.t, from)
			}
			continue
		}
		if in(f.t) {
			t.Errorf("failure %v during a backoff, not rejected for it (backoffs from %v)", f, from)
		}
		from = append(from, f.t)
	}
	if n == 0 || len(from) < 2 {
		t.Errorf("%d PreFilter rejections for the backoff, backoffs from %v, want some and two backoffs: %v", n, from, tp.failures())
	}
	for _, r := range enginetest.Records(res, -1, engine.RecWaiting) {
		if in(r.T) {
			t.Errorf("%s waited at %g during the group's backoff (from %v)", res.Pods[r.Pod].Name, r.T, from)
		}
	}
	for _, p := range res.Jobs[1].Pods {
		if !(p.Assigned >= 60) || !engine.IsSet(p.Finished) {
			t.Errorf("%s assigned %g, want after the blocker ended at 60, and finished", p.Name, p.Assigned)
		}
	}

	// Without the backoff the group tries again at the first deletion.
	tp = &tap{Policy: cosched(t, DefaultArgs(), 1)}
	res = run(t, tp, ecfg(nodes(1, 4000)), jobs()...)
	tf := enginetest.Records(res, -1, engine.RecUnreserved)[0].T
	retried := false
	for _, r := range enginetest.Records(res, -1, engine.RecWaiting) {
		retried = retried || (r.T > tf && r.T <= tf+20)
	}
	if !retried {
		t.Errorf("without a group backoff, no pod waited again within 20 s of %g", tf)
	}
	for _, f := range tp.failures() {
		if strings.Contains(f.reason, "failed recently") {
			t.Errorf("backoff rejection %v without a group backoff", f)
		}
	}
}

// TestIndividualPods: jobs without a PodGroup are scheduled pod by pod
// as the default scheduler does: the same placements, seed for seed.
func TestIndividualPods(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		place := func(p engine.Policy) string {
			// Pods created at one time in name order (Coscheduling
			// breaks equal timestamps by name, PrioritySort by arrival).
			a := enginetest.IndexedJob("a", 9, 9, tmpl(1000, 50))
			b := enginetest.IndexedJob("b", 9, 9, tmpl(2000, 50))
			c := enginetest.Pod("c", tmpl(3000, 20))
			cfg := ecfg(nodes(8, 8000))
			cfg.Seed = seed
			res := run(t, p, cfg, at(0, a), at(1, b), at(5, c))
			var out []string
			for _, p := range res.Pods {
				if p.Node == nil || !engine.IsSet(p.Finished) {
					t.Fatalf("%s not placed and finished", p.Name)
				}
				out = append(out, p.Name+"@"+p.Node.Name)
			}
			return strings.Join(out, " ")
		}
		k, c := place(plainKube(t, seed)), place(cosched(t, DefaultArgs(), seed))
		if k != c {
			t.Errorf("seed %d:\nkube         %s\ncoscheduling %s", seed, k, c)
		}
	}
}

// TestQueueOrder: pods sort by priority, then their group's creation
// (whole seconds), then namespace/name as strings; so of groups created
// in the same second, job-10 goes before job-2 and job-3, whatever the
// order they were submitted in. Cycles of 0.5 s keep the scheduler busy
// while the three jobs arrive, so their pods are all in activeQ when it
// is free again; the node holds all three groups (none fails).
func TestQueueOrder(t *testing.T) {
	kcfg := kube.DefaultConfig()
	kcfg.CycleSeconds = 0.5
	order := func(p engine.Policy) []string {
		mk := func(name string) *engine.Job { return gang(name, 2, tmpl(2000, 10)) }
		res := run(t, p, ecfg(nodes(1, 16000)), at(0, enginetest.Pod("a-first", tmpl(1000, 10))),
			at(0.1, mk("job-3")), at(0.2, mk("job-2")), at(0.3, mk("job-10")))
		js := slices.Clone(res.Jobs[1:])
		slices.SortStableFunc(js, func(a, b *engine.Job) int { return cmp.Compare(a.Pods[0].Assigned, b.Pods[0].Assigned) })
		var names []string
		for _, j := range js {
			names = append(names, j.Name)
			for _, p := range j.Pods {
				if !engine.IsSet(p.Finished) {
					t.Errorf("%s did not finish", p.Name)
				}
			}
		}
		return names
	}
	cs, err := New(kcfg, DefaultArgs(), engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := order(cs), []string{"job-10", "job-2", "job-3"}; !slices.Equal(got, want) {
		t.Errorf("coscheduling: order %v, want %v", got, want)
	}
	// PrioritySort: the queue timestamps, i.e. the submit order.
	ks, err := kube.New(kcfg, engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := order(ks), []string{"job-3", "job-2", "job-10"}; !slices.Equal(got, want) {
		t.Errorf("kube: order %v, want %v", got, want)
	}
}

// TestLess: the QueueSort comparison itself.
func TestLess(t *testing.T) {
	pl := NewPlugin(DefaultArgs())
	id := 0
	pod := func(job string, submitted float64, prio int64, group bool) *engine.Pod {
		tm := tmpl(1000, 1)
		tm.Priority = prio
		j := &engine.Job{ID: id, Name: job, Submitted: submitted, Template: tm}
		if group {
			j.Group = &engine.PodGroup{Name: job, MinMember: 1}
		}
		id++
		p := &engine.Pod{ID: id, Name: job + "-0", Job: j, Template: tm}
		pl.groupOf(j)
		return p
	}
	info := func(p *engine.Pod, initial float64) *kube.QueuedPodInfo {
		return &kube.QueuedPodInfo{Pod: p, Timestamp: initial + 100, InitialAttemptTimestamp: initial}
	}
	a := pod("job-2", 0.9, 0, true)
	b := pod("job-10", 0.1, 0, true)
	c := pod("job-1", 1.0, 0, true)
	d := pod("job-0", 5, 1, true) // higher priority
	e := pod("bare", 0, 0, false) // no group: its initial attempt
	for _, tc := range []struct {
		x, y *kube.QueuedPodInfo
		want bool
	}{
		{info(b, 0), info(a, 0), true},    // same second: "job-10" < "job-2"
		{info(a, 0), info(b, 0), false},   //
		{info(a, 0), info(c, 0), true},    // second 0 before second 1
		{info(d, 9), info(a, 0), true},    // priority first
		{info(e, 0.5), info(a, 0), false}, // 0.5 after the group's 0
		{info(e, 0), info(a, 0), true},    // equal times: "bare-0" < "job-2-0"
	} {
		if got := pl.Less(tc.x, tc.y); got != tc.want {
			t.Errorf("Less(%s, %s) = %v, want %v", tc.x.Pod.Name, tc.y.Pod.Name, got, tc.want)
		}
	}
	// A failed group sorts at its failure time.
	pl.groupOf(a.Job).failed = 2
	if !pl.Less(info(c, 0), info(a, 0)) {
		t.Errorf("a group that failed at 2 s still sorts before one created at 1 s")
	}
}

func ExampleArgs() {
	fmt.Printf("%+v\n", DefaultArgs())
	// Output: {PermitWaitingTimeSeconds:60 PodGroupBackoffSeconds:0 PodGroupRejectPercentage:10}
}

// TestMinMemberBelowSize: a job of 6 pods whose PodGroup needs 4. The
// first 4 bind together (the 4th's Permit allows the 3 waiting); the 5th
// then passes Permit at once (5 assigned ≥ 4); the 6th finds no node,
// and PostFilter, with minMember pods assigned, rejects nothing: it
// waits in the queue until a node frees (a pod of another job ends at
// 20 s).
func TestMinMemberBelowSize(t *testing.T) {
	blocker := enginetest.Pod("a-blocker", tmpl(1000, 20))
	g := gang("g", 6, tmpl(1000, 100))
	g.Group.MinMember = 4
	tp := &tap{Policy: cosched(t, DefaultArgs(), 1)}
	res := run(t, tp, ecfg(nodes(1, 6000)), at(0, blocker), at(0, g))
	if res.Stopped != "" && res.Stopped != "done" {
		t.Fatalf("stopped %q", res.Stopped)
	}
	pods := g.Pods
	for _, p := range pods[:4] {
		if p.Assigned != pods[3].Assigned {
			t.Errorf("%s assigned %g, want with the group's 4th at %g", p.Name, p.Assigned, pods[3].Assigned)
		}
	}
	if firstRecord(res, pods[4], engine.RecWaiting) != nil || !(pods[4].Assigned > pods[3].Assigned) || pods[4].Assigned > 1 {
		t.Errorf("%s assigned %g (waited: %v), want at once after the group", pods[4].Name, pods[4].Assigned, firstRecord(res, pods[4], engine.RecWaiting) != nil)
	}
	if n := len(enginetest.Records(res, -1, engine.RecUnreserved)); n != 0 {
		t.Errorf("%d pods unreserved, want none", n)
	}
	if f := tp.failures(); len(f) == 0 || f[0].pod != pods[5] {
		t.Errorf("failures %v, want the 6th pod's", f)
	}
	if p := pods[5]; !(p.Assigned >= 20) || firstRecord(res, p, engine.RecWaiting) != nil {
		t.Errorf("%s assigned %g, want after 20 s without waiting at Permit", p.Name, p.Assigned)
	}
}
