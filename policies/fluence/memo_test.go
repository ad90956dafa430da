package fluence

import (
	"slices"
	"testing"

	"github.com/convergesim/converge/engine"
)

// TestMemoSameRun: a group whose slots share a node is asked for again
// and again while nothing changes; answering those asks from its last
// answer gives the same run, record for record, with far fewer matches.
func TestMemoSameRun(t *testing.T) {
	runOnce := func(noMemo bool) (*engine.Result, Stats) {
		p := newFluence(t, DefaultConfig())
		p.Plugin().noMemo = noMemo
		stuck := mpi("stuck", 4, tmpl(2000, gi, 100), 100)
		// A job that comes and goes changes Fluxion's state: the memo
		// must be dropped then.
		other := mpi("other", 1, tmpl(8000, gi, 30), 30)
		res := runAt(t, p, nodes(3, 8, 32), sub{0, stuck}, sub{50, other})
		return res, p.Plugin().Stats()
	}
	memo, ms := runOnce(false)
	plain, ps := runOnce(true)
	if !slices.Equal(memo.Records, plain.Records) || memo.End != plain.End || memo.Stopped != plain.Stopped {
		t.Fatalf("runs differ: %d records, end %v %q with the memo; %d, %v %q without", len(memo.Records), memo.End, memo.Stopped, len(plain.Records), plain.End, plain.Stopped)
	}
	if ms.Asks != ps.Asks || ms.Mismatches != ps.Mismatches || ps.Memo != 0 {
		t.Errorf("stats with the memo %+v, without %+v", ms, ps)
	}
	if matches := ms.Asks - ms.Memo; !(ms.Memo > 0 && matches < ps.Asks/4) {
		t.Errorf("%d of %d asks matched with the memo (%d without): the memo did not spare the matches", matches, ms.Asks, ps.Asks)
	}
	if !engine.IsSet(memo.Jobs[1].Finished) {
		t.Errorf("the other job did not finish")
	}
}

// TestLauncherOwnGroup: an MPIJob's launcher pod is not in its workers'
// group (the webhook groups pods by owner): the workers' group is their
// count, the launcher is placed alone, and the job runs.
func TestLauncherOwnGroup(t *testing.T) {
	p := newFluence(t, DefaultConfig())
	j := mpi("job", 2, tmpl(8000, gi, 100), 100)
	j.Kind = engine.KindMPIJob
	j.Operator = &engine.Operator{Created: []float64{0, 0}, Launcher: &engine.LauncherPod{Template: tmpl(1000, gi, 0)}}
	res := run(t, p, nodes(3, 8, 32), j)
	if res.Stopped != "" || !engine.IsSet(j.Finished) {
		t.Fatalf("stopped %q, placement %s, stats %+v", res.Stopped, placement(res), p.Plugin().Stats())
	}
	g := p.Plugin().groups[j]
	if g == nil || g.minMember != 2 || len(g.pods()) != 2 {
		t.Fatalf("workers' group %+v", g)
	}
	var launcher *engine.Pod
	for _, q := range j.Pods {
		if q.Launcher {
			launcher = q
		}
	}
	if launcher == nil || p.Plugin().solos[launcher] == nil {
		t.Fatalf("the launcher has no group of its own")
	}
	// Two whole-node workers and a launcher of one core on three 8-core
	// nodes: the launcher takes the node no worker has.
	if st := p.Plugin().Stats(); st.Allocated != 2 || st.Mismatches != 0 {
		t.Errorf("stats %+v, want two allocations (workers, launcher)", st)
	}
}

// TestMemoOnlyForIDOrderedPolicies: under first an allocation and its
// cancel change the next answer, so its asks always match.
func TestMemoOnlyForIDOrderedPolicies(t *testing.T) {
	for _, pol := range []string{"lonode", "first", "firstnodex", "locality"} {
		p := newFluence(t, with(func(c *Config) { c.Policy = pol }))
		if got, want := p.Plugin().noMemo, !memoPolicies[pol]; got != want || (pol == "lonode") == got {
			t.Errorf("%s: noMemo %v", pol, got)
		}
	}
}

// TestLaunchersByKube: with launchers: kube the default scheduler
// places the launcher pod (Fluence allocates only the workers' group),
// and the job runs.
func TestLaunchersByKube(t *testing.T) {
	p := newFluence(t, with(func(c *Config) { c.Launchers = LaunchersKube }))
	j := mpi("job", 2, tmpl(8000, gi, 100), 100)
	j.Kind = engine.KindMPIJob
	j.Operator = &engine.Operator{Created: []float64{0, 0}, Launcher: &engine.LauncherPod{Template: tmpl(1000, gi, 0)}}
	res := run(t, p, nodes(3, 8, 32), j)
	if res.Stopped != "" || !engine.IsSet(j.Finished) {
		t.Fatalf("stopped %q, placement %s", res.Stopped, placement(res))
	}
	st := p.Plugin().Stats()
	if st.Allocated != 1 || len(p.Plugin().solos) != 0 {
		t.Errorf("stats %+v, %d launcher groups: want Fluence to allocate the workers only", st, len(p.Plugin().solos))
	}
}
