package launchers

import (
	"fmt"
	"math/rand/v2"
)

// MiniClusterParams are the Flux Operator's launch costs (see the
// package documentation).
type MiniClusterParams struct {
	// Fanout is the brokers' tree fanout (the operator starts every
	// broker with -Stbon.fanout=256).
	Fanout int `yaml:"fanout"`
	// ViewCopy is the flux-view init container's time (copying the
	// Flux install into the pod's shared volume), seconds: part of
	// every pod's start, before the broker.
	ViewCopy float64 `yaml:"viewCopy"`
	// BrokerStartStop is the lead broker's own time outside the job:
	// rc1 (modules, the scheduler) before it waits for the others, and
	// after the job its cleanup, rc3 and shutdown.
	BrokerStartStop float64 `yaml:"brokerStartStop"`
	// StopShare is the share of BrokerStartStop after the job.
	StopShare float64 `yaml:"stopShare"`
	// JoinPerLevel is the time a broker's join (hello) adds per level of
	// the tree between it and the lead broker.
	JoinPerLevel float64 `yaml:"joinPerLevel"`
	// JoinLateProb is the probability that a follower broker has not
	// joined when the lead broker is ready, JoinLateRepeat that it
	// misses the next chance too; chances come JoinRetry seconds apart.
	JoinLateProb   float64 `yaml:"joinLateProb"`
	JoinLateRepeat float64 `yaml:"joinLateRepeat"`
	JoinRetry      float64 `yaml:"joinRetry"`
	// JoinLateSpread is how much a late broker's join varies around its
	// chance (standard deviation, seconds).
	JoinLateSpread float64 `yaml:"joinLateSpread"`
	// BrokerJitter is the run-to-run standard deviation of the lead
	// broker's time outside the job, seconds.
	BrokerJitter float64 `yaml:"brokerJitter"`
	// JobLaunch is the job's time outside the application's own clock
	// that does not grow with the tree: submit to allocation, the job
	// shells, PMI wire-up, MPI_Init/Finalize, the application's set-up
	// before its clock, the job's end.
	JobLaunch float64 `yaml:"jobLaunch"`
	// ExecPerLevel is what starting the shells adds per tree level.
	ExecPerLevel float64 `yaml:"execPerLevel"`
	// JobJitter is the run-to-run standard deviation of the job's time
	// outside the application, seconds.
	JobJitter float64 `yaml:"jobJitter"`
}

// Validate implements Params.
func (p *MiniClusterParams) Validate() error {
	if p.Fanout < 1 {
		return &FieldError{"fanout", fmt.Sprintf("%d must be at least 1", p.Fanout)}
	}
	if err := checkAll(nonNeg("viewCopy", p.ViewCopy), nonNeg("brokerStartStop", p.BrokerStartStop), nonNeg("joinPerLevel", p.JoinPerLevel),
		positive("joinRetry", p.JoinRetry), nonNeg("joinLateSpread", p.JoinLateSpread), nonNeg("brokerJitter", p.BrokerJitter), nonNeg("jobLaunch", p.JobLaunch),
		nonNeg("execPerLevel", p.ExecPerLevel), nonNeg("jobJitter", p.JobJitter)); err != nil {
		return err
	}
	if !(p.StopShare >= 0 && p.StopShare <= 1) {
		return &FieldError{"stopShare", fmt.Sprintf("%g must be a share in [0, 1]", p.StopShare)}
	}
	if err := probability("joinLateProb", p.JoinLateProb); err != nil {
		return err
	}
	return probability("joinLateRepeat", p.JoinLateRepeat)
}

// Launcher implements Params.
func (p *MiniClusterParams) Launcher() Launcher { return &miniCluster{*p} }

type miniCluster struct{ p MiniClusterParams }

func (m *miniCluster) Kind() Kind { return MiniCluster }

func (m *miniCluster) Plan(s Size) (Plan, error) {
	if err := s.check(); err != nil {
		return Plan{}, err
	}
	return Plan{
		Kind: MiniCluster,
		Roles: []Role{{
			Name: "broker", Pods: s.Nodes, RunsApp: true,
			CreatedBy:      "the Job controller: the operator creates one Indexed Job (completions = parallelism = size) and a headless Service",
			When:           "with the job; index 0 is the lead broker",
			InitContainers: []string{"flux-view (copies the Flux install into a volume the application container shares)"},
		}},
		Gate: fmt.Sprintf("every broker joined the lead broker's tree (fanout %d, %d levels below the lead): the lead waits for the full quorum, then submits the job, which starts one shell a node and the ranks under them",
			m.p.Fanout, tbonDepth(s.Nodes, m.p.Fanout)),
		OnGateTimeout: "none: the lead broker waits for the full quorum, and a follower whose broker exits starts again after 15 s",
	}, nil
}

func (m *miniCluster) late(n int) Late {
	return Late{N: n - 1, P: m.p.JoinLateProb, Q: m.p.JoinLateRepeat, Retry: m.p.JoinRetry, Spread: m.p.JoinLateSpread}
}

func (m *miniCluster) Bootstrap(s Size) (Bootstrap, error) { return m.bootstrap(s, expectedLate) }

func (m *miniCluster) SampleBootstrap(s Size, r *rand.Rand) (Bootstrap, error) {
	return m.bootstrap(s, sampledLate(r))
}

func (m *miniCluster) bootstrap(s Size, late func(Late) float64) (Bootstrap, error) {
	if err := s.check(); err != nil {
		return Bootstrap{}, err
	}
	d := float64(tbonDepth(s.Nodes, m.p.Fanout))
	return Bootstrap{
		Phases: []Phase{
			{"lead broker rc1 and the quorum when nobody is late", BeforeApp, m.p.BrokerStartStop * (1 - m.p.StopShare)},
			{"brokers join the tree", BeforeApp, m.p.JoinPerLevel * d},
			{"late brokers", BeforeApp, late(m.late(s.Nodes))},
			{"job launch: shells over the tree, PMI, MPI_Init/Finalize, outside the application's clock", BeforeApp, m.p.JobLaunch + m.p.ExecPerLevel*d},
			{"cleanup, rc3, shutdown", AfterApp, m.p.BrokerStartStop * m.p.StopShare},
		},
	}, nil
}

// Interval names of a MiniCluster (the lead broker's two timers, as
// the operator's logging.timed mode prints them).
const (
	// IntervalJob is the submit command's time (flux submit --watch)
	// less the application's.
	IntervalJob = "job"
	// IntervalBroker is flux start's time less the submit command's.
	IntervalBroker = "broker"
)

func (m *miniCluster) Intervals(s Size) (map[string]Dist, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	d := float64(tbonDepth(s.Nodes, m.p.Fanout))
	return map[string]Dist{
		IntervalJob:    {Base: m.p.JobLaunch + m.p.ExecPerLevel*d, Jitter: m.p.JobJitter},
		IntervalBroker: {Base: m.p.BrokerStartStop + m.p.JoinPerLevel*d, Late: m.late(s.Nodes), Jitter: m.p.BrokerJitter},
	}, nil
}
