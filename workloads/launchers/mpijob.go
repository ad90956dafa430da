package launchers

import (
	"fmt"
	"math/rand/v2"
)

// Launcher creation policies of the MPI Operator (MPIJob
// spec.launcherCreationPolicy).
const (
	AtStartup           = "AtStartup"
	WaitForWorkersReady = "WaitForWorkersReady"
)

// MPIJobParams are the MPI Operator v2's launch costs (see the package
// documentation for the mechanism and its sources).
type MPIJobParams struct {
	// ClientQPS and ClientBurst are the operator's API client limits
	// (--kube-api-qps, --kube-api-burst; 5 and 10 upstream).
	ClientQPS   float64 `yaml:"clientQPS"`
	ClientBurst int     `yaml:"clientBurst"`
	// SetupCalls are the API writes of a new MPIJob's first sync before
	// its first worker: the MPIJobCreated event, the Service, the
	// ConfigMap (hostfile) and the SSH Secret.
	SetupCalls int `yaml:"setupCalls"`
	// APILatency is one API call's round trip, seconds (the operator
	// makes its calls one after the other).
	APILatency float64 `yaml:"apiLatency"`
	// LauncherCreation is AtStartup (the launcher Job is created in the
	// same sync as the workers; upstream default, and the only
	// behaviour before mpi-operator v0.5) or WaitForWorkersReady.
	LauncherCreation string `yaml:"launcherCreation"`
	// PodStart is a pod's creation to its main container running
	// (scheduling, kubelet, image check, the worker's sshd postStart),
	// seconds. Only the standalone predictions use it (Intervals); a
	// simulation takes each pod's own start from the engine.
	PodStart float64 `yaml:"podStart"`
	// LauncherOverhead is the rest of the MPIJob's end-to-end time
	// outside mpirun: the Job controller creating the launcher pod, the
	// launcher's shell before mpirun, and after mpirun exits the pod's
	// completion, the launcher Job's and the MPIJob's status.
	LauncherOverhead float64 `yaml:"launcherOverhead"`
	// FinishShare is the share of LauncherOverhead after the
	// application (the rest is before it).
	FinishShare float64 `yaml:"finishShare"`
	// OperatorJitter is the run-to-run standard deviation of the
	// end-to-end time outside mpirun, seconds.
	OperatorJitter float64 `yaml:"operatorJitter"`
	// MpirunBase is mpirun's time outside the application's own clock
	// that does not grow with the nodes: the daemons' wire-up,
	// MPI_Init and MPI_Finalize, the application's set-up before its
	// clock starts.
	MpirunBase float64 `yaml:"mpirunBase"`
	// SSHPerNode is the launcher's serial cost per worker of starting
	// the remote daemons (fork/exec of ssh, the key exchange on the
	// launcher's CPU).
	SSHPerNode float64 `yaml:"sshPerNode"`
	// SSHRetry and SSHAttempts: ssh tries to connect SSHAttempts times,
	// SSHRetry seconds apart (the operator sets -o ConnectionAttempts=10;
	// ssh makes one attempt a second).
	SSHRetry    float64 `yaml:"sshRetry"`
	SSHAttempts int     `yaml:"sshAttempts"`
	// SSHLateProb is the probability that a worker cannot be reached at
	// mpirun's first attempt, SSHLateRepeat that a late worker misses
	// the next attempt too.
	SSHLateProb   float64 `yaml:"sshLateProb"`
	SSHLateRepeat float64 `yaml:"sshLateRepeat"`
	// SSHLateSpread is how much a late worker's connection time varies
	// around the attempt it makes (standard deviation, seconds).
	SSHLateSpread float64 `yaml:"sshLateSpread"`
	// MpirunJitter is the run-to-run standard deviation of mpirun's
	// time outside the application, seconds.
	MpirunJitter float64 `yaml:"mpirunJitter"`
}

// Validate implements Params.
func (p *MPIJobParams) Validate() error {
	if err := checkAll(positive("clientQPS", p.ClientQPS), nonNeg("apiLatency", p.APILatency), nonNeg("podStart", p.PodStart),
		nonNeg("launcherOverhead", p.LauncherOverhead), nonNeg("operatorJitter", p.OperatorJitter), nonNeg("mpirunBase", p.MpirunBase),
		nonNeg("sshPerNode", p.SSHPerNode), positive("sshRetry", p.SSHRetry), nonNeg("sshLateSpread", p.SSHLateSpread), nonNeg("mpirunJitter", p.MpirunJitter)); err != nil {
		return err
	}
	switch {
	case p.ClientBurst < 1:
		return &FieldError{"clientBurst", fmt.Sprintf("%d must be at least 1", p.ClientBurst)}
	case p.SetupCalls < 0:
		return &FieldError{"setupCalls", fmt.Sprintf("%d must not be negative", p.SetupCalls)}
	case p.SSHAttempts < 1:
		return &FieldError{"sshAttempts", fmt.Sprintf("%d must be at least 1", p.SSHAttempts)}
	case p.LauncherCreation != AtStartup && p.LauncherCreation != WaitForWorkersReady:
		return &FieldError{"launcherCreation", fmt.Sprintf("%q must be %s or %s", p.LauncherCreation, AtStartup, WaitForWorkersReady)}
	case !(p.FinishShare >= 0 && p.FinishShare <= 1):
		return &FieldError{"finishShare", fmt.Sprintf("%g must be a share in [0, 1]", p.FinishShare)}
	}
	if err := probability("sshLateProb", p.SSHLateProb); err != nil {
		return err
	}
	return probability("sshLateRepeat", p.SSHLateRepeat)
}

// Launcher implements Params.
func (p *MPIJobParams) Launcher() Launcher { return &mpiJob{*p} }

type mpiJob struct{ p MPIJobParams }

func (m *mpiJob) Kind() Kind { return MPIJob }

func (m *mpiJob) Plan(s Size) (Plan, error) {
	if err := s.check(); err != nil {
		return Plan{}, err
	}
	when := "created in the same sync as the workers (AtStartup)"
	if m.p.LauncherCreation == WaitForWorkersReady {
		when = "created once every worker is Ready (WaitForWorkersReady)"
	}
	client := fmt.Sprintf("mpi-operator, one API call at a time through its client limiter (%g QPS, burst %d)", m.p.ClientQPS, m.p.ClientBurst)
	return Plan{
		Kind: MPIJob,
		Roles: []Role{
			{Name: "worker", Pods: s.Nodes, CreatedBy: client, When: "with the job, after its Service, hostfile ConfigMap and SSH Secret", RunsApp: true},
			{Name: "launcher", Pods: 1, CreatedBy: "the Job controller, from the launcher Job the mpi-operator creates after the workers", When: when, Dedicated: true},
		},
		Gate: "the launcher pod running mpirun and every worker's sshd reachable: mpirun starts one daemon a worker over ssh, and the ranks start once every daemon has called back",
		// ssh gives up after its attempts; a worker whose name does not
		// resolve yet (not Ready) fails it at once.
		GateTimeout:   float64(m.p.SSHAttempts) * m.p.SSHRetry,
		OnGateTimeout: "mpirun fails, so the launcher pod fails; the Job controller recreates it after its back-off (10 s doubling) up to the launcher Job's backoffLimit, then the MPIJob fails",
	}, nil
}

// created are the offsets of the operator's calls that create the
// workers and (AtStartup) the launcher Job.
func (m *mpiJob) created(n int) (workers []float64, launcher float64) {
	t := tokenBucket(m.p.SetupCalls+n+1, m.p.ClientQPS, m.p.ClientBurst, m.p.APILatency)
	return t[m.p.SetupCalls : m.p.SetupCalls+n], t[m.p.SetupCalls+n]
}

// launcherCreated is when the launcher Job is created: with the workers,
// or when the last worker is up (then through the limiter too).
func (m *mpiJob) launcherCreated(n int) float64 {
	w, l := m.created(n)
	if m.p.LauncherCreation == WaitForWorkersReady {
		return max(l, w[n-1]+m.p.PodStart+m.p.APILatency)
	}
	return l
}

func (m *mpiJob) late(n int) Late {
	return Late{N: n, P: m.p.SSHLateProb, Q: m.p.SSHLateRepeat, Retry: m.p.SSHRetry, MaxRetries: m.p.SSHAttempts - 1, Spread: m.p.SSHLateSpread}
}

func (m *mpiJob) Bootstrap(s Size) (Bootstrap, error) { return m.bootstrap(s, expectedLate) }

func (m *mpiJob) SampleBootstrap(s Size, r *rand.Rand) (Bootstrap, error) {
	return m.bootstrap(s, sampledLate(r))
}

func (m *mpiJob) bootstrap(s Size, late func(Late) float64) (Bootstrap, error) {
	if err := s.check(); err != nil {
		return Bootstrap{}, err
	}
	w, l := m.created(s.Nodes)
	created := map[string][]float64{"worker": w}
	if m.p.LauncherCreation == AtStartup {
		created["launcher"] = []float64{l}
	}
	over := m.p.LauncherOverhead
	return Bootstrap{
		Phases: []Phase{
			{"operator creates the workers (client limiter)", BeforePods, w[len(w)-1]},
			{"launcher Job to pod, the launcher's shell before mpirun", Outside, over * (1 - m.p.FinishShare)},
			{"mpirun starts a daemon a worker over ssh", BeforeApp, m.p.SSHPerNode * float64(s.Nodes)},
			{"workers not yet reachable (ssh retries)", BeforeApp, late(m.late(s.Nodes))},
			{"daemon wire-up, MPI_Init/Finalize, outside the application's clock", BeforeApp, m.p.MpirunBase},
			{"launcher exit to MPIJob Succeeded", Outside, over * m.p.FinishShare},
		},
		Created: created,
	}, nil
}

// Interval names of an MPIJob (what the operator-bootstrap data measure).
const (
	// IntervalMpirun is mpirun's real time less the application's.
	IntervalMpirun = "mpirun"
	// IntervalOperator is the MPIJob's end-to-end time (first sync to
	// MPIJobSucceeded) less mpirun's real time.
	IntervalOperator = "operator"
)

func (m *mpiJob) Intervals(s Size) (map[string]Dist, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return map[string]Dist{
		IntervalMpirun: {Base: m.p.MpirunBase + m.p.SSHPerNode*float64(s.Nodes), Late: m.late(s.Nodes), Jitter: m.p.MpirunJitter},
		IntervalOperator: {Base: m.launcherCreated(s.Nodes) + m.p.PodStart + m.p.LauncherOverhead,
			Jitter: m.p.OperatorJitter},
	}, nil
}
