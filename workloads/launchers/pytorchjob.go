package launchers

import (
	"fmt"
	"math/rand/v2"
)

// PyTorchJobParams are the Kubeflow training-operator's launch costs
// for a PyTorchJob with a master. No measurements back them: every
// value in the bundled file is an assumption (its provenance says
// which).
type PyTorchJobParams struct {
	// ClientQPS and ClientBurst are the operator's API client limits.
	ClientQPS   float64 `yaml:"clientQPS"`
	ClientBurst int     `yaml:"clientBurst"`
	// APILatency is one API call's round trip, seconds.
	APILatency float64 `yaml:"apiLatency"`
	// InitPoll is the period of the workers' init-pytorch container,
	// which polls the master's DNS name until it resolves (2 s upstream).
	InitPoll float64 `yaml:"initPoll"`
	// DNSDelay is the master pod's Ready to its name resolving (the
	// headless Service's endpoints reaching DNS).
	DNSDelay float64 `yaml:"dnsDelay"`
	// ProcessGroupInit is init_process_group's fixed cost (the TCPStore
	// at the master, the backend's communicators).
	ProcessGroupInit float64 `yaml:"processGroupInit"`
	// RendezvousPerRank is what each rank adds to the rendezvous at the
	// master's store (WORLD_SIZE ranks join before any goes on).
	RendezvousPerRank float64 `yaml:"rendezvousPerRank"`
	// Finish is the last pod's exit to the job's Succeeded condition.
	Finish float64 `yaml:"finish"`
}

// Validate implements Params.
func (p *PyTorchJobParams) Validate() error {
	if p.ClientBurst < 1 {
		return &FieldError{"clientBurst", fmt.Sprintf("%d must be at least 1", p.ClientBurst)}
	}
	return checkAll(positive("clientQPS", p.ClientQPS), nonNeg("apiLatency", p.APILatency), positive("initPoll", p.InitPoll),
		nonNeg("dnsDelay", p.DNSDelay), nonNeg("processGroupInit", p.ProcessGroupInit), nonNeg("rendezvousPerRank", p.RendezvousPerRank),
		nonNeg("finish", p.Finish))
}

// Launcher implements Params.
func (p *PyTorchJobParams) Launcher() Launcher { return &pyTorchJob{*p} }

type pyTorchJob struct{ p PyTorchJobParams }

func (m *pyTorchJob) Kind() Kind { return PyTorchJob }

func (m *pyTorchJob) Plan(s Size) (Plan, error) {
	if err := s.check(); err != nil {
		return Plan{}, err
	}
	client := fmt.Sprintf("training-operator, through its client limiter (%g QPS, burst %d), with a headless Service for each pod", m.p.ClientQPS, m.p.ClientBurst)
	roles := []Role{{Name: "master", Pods: 1, CreatedBy: client, When: "with the job", RunsApp: true}}
	if s.Nodes > 1 {
		roles = append(roles, Role{Name: "worker", Pods: s.Nodes - 1, CreatedBy: client, When: "with the job, after the master", RunsApp: true,
			InitContainers: []string{fmt.Sprintf("init-pytorch (polls the master's DNS name every %g s until it resolves)", m.p.InitPoll)}})
	}
	return Plan{
		Kind:  PyTorchJob,
		Roles: roles,
		Gate:  "the master Ready and resolvable, every worker past init-pytorch, and all WORLD_SIZE ranks joined the rendezvous at MASTER_ADDR:MASTER_PORT",
		// init-pytorch polls for ever; torch.distributed's default
		// timeout (30 min) bounds the rendezvous.
		GateTimeout:   1800,
		OnGateTimeout: "init_process_group raises in the ranks that joined; their pods fail and the restart policy decides",
	}, nil
}

// created: the master's pod and Service, then each worker's, one call
// at a time.
func (m *pyTorchJob) created(n int) (master float64, workers []float64) {
	t := tokenBucket(2*n, m.p.ClientQPS, m.p.ClientBurst, m.p.APILatency)
	for i := 1; i < n; i++ {
		workers = append(workers, t[2*i])
	}
	return t[0], workers
}

func (m *pyTorchJob) Bootstrap(s Size) (Bootstrap, error) {
	return m.bootstrap(s, func() float64 { return 0.5 })
}

func (m *pyTorchJob) SampleBootstrap(s Size, r *rand.Rand) (Bootstrap, error) {
	return m.bootstrap(s, r.Float64)
}

// bootstrap: phase is where in its period the init container's poll
// sees the master's name resolve (0.5 expected).
func (m *pyTorchJob) bootstrap(s Size, phase func() float64) (Bootstrap, error) {
	if err := s.check(); err != nil {
		return Bootstrap{}, err
	}
	master, workers := m.created(s.Nodes)
	last := master
	created := map[string][]float64{"master": {master}}
	if len(workers) > 0 {
		created["worker"] = workers
		last = workers[len(workers)-1]
	}
	wait := 0.0
	if s.Nodes > 1 {
		wait = m.p.DNSDelay + m.p.InitPoll*phase()
	}
	return Bootstrap{
		Phases: []Phase{
			{"operator creates the pods and Services (client limiter)", BeforePods, last},
			{"workers' init-pytorch waits for the master's DNS", BeforeApp, wait},
			{"rendezvous and process group", BeforeApp, m.p.ProcessGroupInit + m.p.RendezvousPerRank*float64(s.Ranks)},
			{"last pod's exit to Succeeded", AfterApp, m.p.Finish},
		},
		Created: created,
	}, nil
}

func (m *pyTorchJob) Intervals(Size) (map[string]Dist, error) { return nil, nil }

// IndexedJobParams: an Indexed Job has no launcher and nothing to fit;
// its pods are the Job controller's (the engine's model) and each runs
// its index as soon as its container starts.
type IndexedJobParams struct{}

// Validate implements Params.
func (*IndexedJobParams) Validate() error { return nil }

// Launcher implements Params.
func (*IndexedJobParams) Launcher() Launcher { return indexedJob{} }

type indexedJob struct{}

func (indexedJob) Kind() Kind { return IndexedJob }

func (indexedJob) Plan(s Size) (Plan, error) {
	if err := s.check(); err != nil {
		return Plan{}, err
	}
	return Plan{
		Kind: IndexedJob,
		Roles: []Role{{Name: "index", Pods: s.Nodes, RunsApp: true,
			CreatedBy: "the Job controller (slow-start batches through its client limiter)", When: "with the job"}},
		Gate: "none: each pod starts its index when its container starts, independently of the others",
	}, nil
}

func (indexedJob) Bootstrap(s Size) (Bootstrap, error) {
	if err := s.check(); err != nil {
		return Bootstrap{}, err
	}
	return Bootstrap{}, nil
}

func (indexedJob) Intervals(Size) (map[string]Dist, error) { return nil, nil }

func (j indexedJob) SampleBootstrap(s Size, _ *rand.Rand) (Bootstrap, error) { return j.Bootstrap(s) }
