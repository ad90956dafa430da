package launchers

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func mpiParams() MPIJobParams {
	return MPIJobParams{ClientQPS: 5, ClientBurst: 10, SetupCalls: 4, LauncherCreation: AtStartup, PodStart: 2,
		LauncherOverhead: 4, FinishShare: 0.5, OperatorJitter: 0.3, MpirunBase: 7, SSHPerNode: 0.02, SSHRetry: 1, SSHAttempts: 10,
		SSHLateProb: 0.01, SSHLateRepeat: 0.3, MpirunJitter: 0.2}
}

func fluxParams() MiniClusterParams {
	return MiniClusterParams{Fanout: 256, ViewCopy: 3, BrokerStartStop: 0.85, StopShare: 0.25, JoinPerLevel: 0.01,
		JoinLateProb: 0.06, JoinLateRepeat: 0.3, JoinRetry: 1, BrokerJitter: 0.02, JobLaunch: 6, ExecPerLevel: 0.01, JobJitter: 0.1}
}

func TestTokenBucket(t *testing.T) {
	cases := []struct {
		n     int
		qps   float64
		burst int
		lat   float64
		last  float64
	}{
		{10, 5, 10, 0, 0},       // within the burst: all at once
		{13, 5, 10, 0, 0.6},     // three past the burst: 0.2 s each
		{21, 5, 10, 0, 2.2},     // eleven past
		{3, 5, 10, 0.1, 0.2},    // latency alone
		{12, 5, 10, 0.1, 1.1},   // latency dominates the refill
		{40, 20, 30, 0.01, 0.5}, // (40−30)/20 = 0.5 > 39·0.01
		{1, 0.5, 1, 0, 0},
	}
	for _, c := range cases {
		got := tokenBucket(c.n, c.qps, c.burst, c.lat)
		if math.Abs(got[c.n-1]-c.last) > 1e-9 {
			t.Errorf("tokenBucket(%d, %g, %d, %g): last call at %g, want %g", c.n, c.qps, c.burst, c.lat, got[c.n-1], c.last)
		}
		for i := 1; i < len(got); i++ {
			if got[i] < got[i-1] {
				t.Fatalf("calls out of order: %v", got)
			}
		}
	}
}

func TestTBONDepth(t *testing.T) {
	cases := []struct{ n, k, d int }{{1, 2, 0}, {2, 2, 1}, {3, 2, 1}, {4, 2, 2}, {7, 2, 2}, {8, 2, 3}, {16, 256, 1}, {257, 256, 1}, {258, 256, 2}, {5, 1, 4}}
	for _, c := range cases {
		if got := tbonDepth(c.n, c.k); got != c.d {
			t.Errorf("tbonDepth(%d, %d) = %d, want %d", c.n, c.k, got, c.d)
		}
	}
}

// TestDistAgainstSampling: the closed-form CDF, mean and quantiles of
// a Dist agree with draws from the mechanism itself.
func TestDistAgainstSampling(t *testing.T) {
	dists := []Dist{
		{Base: 0.8, Late: Late{N: 15, P: 0.05, Q: 0.3, Retry: 1}, Jitter: 0.03},
		{Base: 0.8, Late: Late{N: 7, P: 0.1, Q: 0.3, Retry: 1, Spread: 0.15}, Jitter: 0.02},
		{Base: 7, Late: Late{N: 16, P: 0.02, Q: 0.5, Retry: 1, MaxRetries: 3}, Truncation: 1, Jitter: 0.2},
		{Base: 6, Truncation: 1, Jitter: 0.1},
		{Base: 2, Jitter: 0.5},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i, d := range dists {
		const n = 200000
		xs := make([]float64, n)
		sum := 0.0
		for j := range xs {
			xs[j] = d.Sample(r)
			sum += xs[j]
		}
		if m := sum / n; math.Abs(m-d.Mean()) > 0.01 {
			t.Errorf("dist %d: sample mean %.4f, Mean %.4f", i, m, d.Mean())
		}
		for _, u := range []float64{0.1, 0.5, 0.9, 0.97} {
			q := d.Quantile(u)
			below := 0
			for _, x := range xs {
				if x <= q {
					below++
				}
			}
			if f := float64(below) / n; math.Abs(f-u) > 0.005 {
				t.Errorf("dist %d: %.0f%% of draws at or below the %.2f-quantile %.3f", i, 100*f, u, q)
			}
			if c := d.CDF(q); math.Abs(c-u) > 1e-4 {
				t.Errorf("dist %d: CDF(Quantile(%g)) = %g", i, u, c)
			}
		}
	}
}

func TestLateProbabilities(t *testing.T) {
	l := Late{N: 7, P: 0.06, Q: 0.3, Retry: 1}
	ps := l.probs()
	if want := math.Pow(0.94, 7); math.Abs(ps[0]-want) > 1e-12 {
		t.Errorf("P(nobody late) = %g, want (1−p)^n = %g", ps[0], want)
	}
	s := 0.0
	for _, p := range ps {
		s += p
	}
	if math.Abs(s-1) > 1e-9 {
		t.Errorf("probabilities sum to %g", s)
	}
	capped := Late{N: 4, P: 0.9, Q: 0.9, Retry: 1, MaxRetries: 2}
	if got := len(capped.probs()); got != 3 {
		t.Errorf("capped at 2 retries: %d outcomes, want 3", got)
	}
	if (Late{}).Mean() != 0 || (Late{N: 5, P: 0.5, Retry: 1}).Mean() <= 0 {
		t.Error("zero Late waits, a late one does not")
	}
}

// TestMPIJobOperatorSlope: the operator interval grows by 1/QPS per
// worker once the burst is spent, and by nothing before.
func TestMPIJobOperatorSlope(t *testing.T) {
	p := mpiParams()
	l := p.Launcher()
	at := func(n int) float64 {
		iv, err := l.Intervals(Size{n, 94 * n})
		if err != nil {
			t.Fatal(err)
		}
		return iv[IntervalOperator].Base
	}
	if d := at(16) - at(8); math.Abs(d-1.6) > 1e-9 {
		t.Errorf("8 → 16 workers adds %g s, want 8/5 = 1.6", d)
	}
	if d := at(5) - at(2); d != 0 {
		t.Errorf("within the burst the workers cost nothing, got %g", d)
	}
	p.LauncherCreation = WaitForWorkersReady
	w := p.Launcher()
	iv, _ := w.Intervals(Size{8, 752})
	if got := iv[IntervalOperator].Base - at(8); math.Abs(got-(p.PodStart-0.2)) > 1e-9 {
		// the launcher waits for the last worker (created at 0.4 s) to
		// run, instead of being created at 0.6 s
		t.Errorf("WaitForWorkersReady adds %g s, want podStart − 0.2 = %g", got, p.PodStart-0.2)
	}
	b, _ := w.Bootstrap(Size{8, 752})
	if _, ok := b.Created["launcher"]; ok {
		t.Error("WaitForWorkersReady: the launcher has no creation offset of its own")
	}
}

func TestBootstrapPhases(t *testing.T) {
	mp, fp := mpiParams(), fluxParams()
	pp := PyTorchJobParams{ClientQPS: 20, ClientBurst: 30, APILatency: 0.02, InitPoll: 2, DNSDelay: 1, ProcessGroupInit: 2, RendezvousPerRank: 0.001, Finish: 1}
	for _, l := range []Launcher{mp.Launcher(), fp.Launcher(), pp.Launcher(), (&IndexedJobParams{}).Launcher()} {
		s := Size{16, 1504}
		b, err := l.Bootstrap(s)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := l.Plan(s)
		if err != nil {
			t.Fatal(err)
		}
		app := 0
		for _, r := range plan.Roles {
			if r.RunsApp {
				app += r.Pods
			}
		}
		if app != s.Nodes {
			t.Errorf("%s: %d pods run the application, want %d", l.Kind(), app, s.Nodes)
		}
		for _, ph := range b.Phases {
			if ph.Seconds < 0 || math.IsNaN(ph.Seconds) {
				t.Errorf("%s: phase %q: %g s", l.Kind(), ph.Name, ph.Seconds)
			}
		}
		for role, offs := range b.Created {
			n := -1
			for _, r := range plan.Roles {
				if r.Name == role {
					n = r.Pods
				}
			}
			if n != len(offs) {
				t.Errorf("%s: role %s has %d creation offsets, %d pods", l.Kind(), role, len(offs), n)
			}
		}
		if _, err := l.Bootstrap(Size{0, 0}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: a job of no nodes: %v", l.Kind(), err)
		}
	}
	if b, _ := (&IndexedJobParams{}).Launcher().Bootstrap(Size{4, 4}); b.Total("") != 0 {
		t.Error("an Indexed Job adds nothing")
	}
	// The MPIJob's launcher is its own role, on launcher nodes.
	plan, _ := mp.Launcher().Plan(Size{8, 752})
	if len(plan.Roles) != 2 || !plan.Roles[1].Dedicated || plan.Roles[1].RunsApp || plan.Pods() != 9 {
		t.Errorf("MPIJob plan %+v", plan)
	}
	// The broker bootstrap grows with the followers who can be late.
	fb8, _ := fp.Launcher().Bootstrap(Size{8, 752})
	fb16, _ := fp.Launcher().Bootstrap(Size{16, 1504})
	if !(fb16.Total(BeforeApp) > fb8.Total(BeforeApp)) {
		t.Errorf("MiniCluster: 16 brokers start in %g s, 8 in %g", fb16.Total(BeforeApp), fb8.Total(BeforeApp))
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		p     Params
		field string
	}{
		{"qps", func() Params { p := mpiParams(); p.ClientQPS = 0; return &p }(), "clientQPS"},
		{"burst", func() Params { p := mpiParams(); p.ClientBurst = 0; return &p }(), "clientBurst"},
		{"policy", func() Params { p := mpiParams(); p.LauncherCreation = "Later"; return &p }(), "launcherCreation"},
		{"late prob", func() Params { p := mpiParams(); p.SSHLateProb = 1; return &p }(), "sshLateProb"},
		{"nan", func() Params { p := mpiParams(); p.MpirunBase = math.NaN(); return &p }(), "mpirunBase"},
		{"share", func() Params { p := fluxParams(); p.StopShare = 2; return &p }(), "stopShare"},
		{"fanout", func() Params { p := fluxParams(); p.Fanout = 0; return &p }(), "fanout"},
		{"retry", func() Params { p := fluxParams(); p.JoinRetry = 0; return &p }(), "joinRetry"},
		{"poll", &PyTorchJobParams{ClientQPS: 1, ClientBurst: 1}, "initPoll"},
	}
	for _, c := range cases {
		err := c.p.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v, want a FieldError on %s", c.name, err, c.field)
		}
	}
	for _, p := range []Params{func() Params { p := mpiParams(); return &p }(), func() Params { p := fluxParams(); return &p }(), &IndexedJobParams{}} {
		if err := p.Validate(); err != nil {
			t.Errorf("valid parameters: %v", err)
		}
	}
	if _, err := NewParams("slurm"); err == nil || !strings.Contains(err.Error(), "mpijob, minicluster, pytorchjob, indexedjob") {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestSampleBootstrap: sampled launches average to the expected one,
// and the same stream gives the same launch.
func TestSampleBootstrap(t *testing.T) {
	mp, fp := mpiParams(), fluxParams()
	mp.SSHLateProb, mp.SSHLateSpread = 0.05, 0.1
	fp.JoinLateSpread = 0.1
	pp := PyTorchJobParams{ClientQPS: 20, ClientBurst: 30, APILatency: 0.02, InitPoll: 2, DNSDelay: 1, ProcessGroupInit: 2, RendezvousPerRank: 0.001, Finish: 1}
	s := Size{16, 1504}
	for _, l := range []Launcher{mp.Launcher(), fp.Launcher(), pp.Launcher(), (&IndexedJobParams{}).Launcher()} {
		want, err := l.Bootstrap(s)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		const n = 20000
		sum := make([]float64, len(want.Phases))
		for range n {
			b, err := l.SampleBootstrap(s, r)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range b.Phases {
				if p.Seconds < 0 {
					t.Fatalf("%s: phase %q sampled at %g s", l.Kind(), p.Name, p.Seconds)
				}
				sum[i] += p.Seconds / n
			}
		}
		for i, p := range want.Phases {
			if math.Abs(sum[i]-p.Seconds) > 0.02+0.02*p.Seconds {
				t.Errorf("%s: phase %q: sampled mean %.3f s, expected %.3f s", l.Kind(), p.Name, sum[i], p.Seconds)
			}
		}
		a, _ := l.SampleBootstrap(s, rand.New(rand.NewPCG(9, 9)))
		b, _ := l.SampleBootstrap(s, rand.New(rand.NewPCG(9, 9)))
		if a.Total("") != b.Total("") {
			t.Errorf("%s: the same stream gave %g and %g s", l.Kind(), a.Total(""), b.Total(""))
		}
	}
	plan, _ := mp.Launcher().Plan(s)
	if plan.GateTimeout != 10 || plan.OnGateTimeout == "" {
		t.Errorf("MPIJob gives up after ssh's 10 attempts a second apart: %g s, %q", plan.GateTimeout, plan.OnGateTimeout)
	}
}
