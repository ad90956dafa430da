package engine

import "fmt"

// Startup is the node-agent (kubelet) start-up model and the API latencies
// around it. See docs/startup-model.md for the mechanisms and provenance.
type Startup struct {
	BindLatency Dist // bind API round trip: assume → PodScheduled
	// SyncDelay is the time from a pod worker being triggered (the watch
	// delivering the bound pod, or the sync loop picking a requeued pod) to
	// it acting on the pod; it applies to every sync.
	SyncDelay Dist
	Sandbox   Dist // RunPodSandbox + CNI set-up
	// SandboxConcurrency bounds the sandbox creations a node runs at once
	// (container runtime and CNI plugin serialisation); 0 = unlimited.
	SandboxConcurrency int
	ContainerStart     Dist // create + start of one container
	ManifestCheck      Dist // a pull of an image already present (policy Always)
	PullOverhead       Dist // fixed part of a real pull (manifest, unpack)

	// RegistryBandwidth is the registry's total egress in bytes/s shared
	// by concurrent pulls (0 = unlimited); NodeBandwidth caps each node.
	RegistryBandwidth float64
	NodeBandwidth     float64

	SerializeImagePulls bool    // kubelet serializeImagePulls (upstream default true)
	RegistryPullQPS     float64 // kubelet registryPullQPS (default 5; 0 = unlimited)
	RegistryBurst       int     // kubelet registryBurst (default 10)
	ImageBackoffInitial float64 // image pull back-off start (10 s)
	ImageBackoffMax     float64 // image pull back-off cap (300 s)
	PodWorkerBackoff    float64 // pod worker requeue after a sync error (10 s)
	PodWorkerJitter     float64 // its jitter factor (0.5 → 10–15 s)
	SyncLoopPeriod      float64 // the kubelet sync loop ticker (1 s); 0 = retry exactly when due
}

// DefaultStartup returns upstream kubelet defaults with latencies from the
// bundled calibration (scenarios/pod-startup.yaml documents the fit).
func DefaultStartup() Startup {
	return Startup{
		BindLatency:         LogNormal{Median: 0.01, Sigma: 0.5},
		SyncDelay:           LogNormal{Median: 0.31, Sigma: 0.8},
		Sandbox:             LogNormal{Median: 0.43, Sigma: 0.3},
		ContainerStart:      LogNormal{Median: 0.2, Sigma: 0.3},
		ManifestCheck:       LogNormal{Median: 0.53, Sigma: 0.3},
		PullOverhead:        Const(2),
		SerializeImagePulls: true,
		RegistryPullQPS:     5,
		RegistryBurst:       10,
		ImageBackoffInitial: 10,
		ImageBackoffMax:     300,
		PodWorkerBackoff:    10,
		PodWorkerJitter:     0.5,
		SyncLoopPeriod:      1,
	}
}

// Controllers models the API clients that create pods.
type Controllers struct {
	// JobQPS/JobBurst: kube-controller-manager's client (defaults 20/30),
	// shared by every Job.
	JobQPS   float64
	JobBurst int
	// ClientQPS/ClientBurst: the user's client creating bare pods
	// (client-go defaults 5/10).
	ClientQPS   float64
	ClientBurst int
	// CreateLatency is one create API call.
	CreateLatency Dist
}

// DefaultControllers returns the upstream defaults.
func DefaultControllers() Controllers {
	return Controllers{JobQPS: 20, JobBurst: 30, ClientQPS: 5, ClientBurst: 10, CreateLatency: Const(0.005)}
}

// Config is everything the engine needs besides the policy and the jobs.
type Config struct {
	Seed        uint64
	Nodes       []*Node
	Startup     Startup
	Controllers Controllers
	// Horizon stops the run at this simulated time (0 = none).
	Horizon float64
	// StallTimeout ends a run in which nothing but policy timers has
	// happened for this long while pods are still pending (default 900 s,
	// longer than kube-scheduler's 5-minute unschedulable flush).
	StallTimeout float64
	// AllowOvercommit lets a policy bind beyond a node's allocatable
	// (for models of systems that really do, e.g. Fluence's early release).
	AllowOvercommit bool
	// Record keeps the event trace (events.jsonl) in Result.Records.
	// Sink, if set, receives the trace as the run goes instead, and
	// nothing of it is kept in memory (Result.Records stays nil).
	Record bool
	Sink   RecordSink
	// EveryAttempt records every Permit wait and rejection of a pod
	// (Waiting, Unreserved) instead of only those that open a
	// FailedScheduling series (the rest are counted in the series):
	// for tests and debugging, as the trace then grows with retries.
	EveryAttempt bool
	// Streams, if set, are the run's random streams (they must derive from
	// Seed); a caller that builds the policy first passes the same Streams
	// to it. Nil means NewStreams(Seed).
	Streams *Streams
	// Shell is the Flux job shell's start-up cost (Flux jobs only).
	Shell ShellStart
}

func (c *Config) validate() error {
	if err := c.Shell.validate(); err != nil {
		return err
	}
	if len(c.Nodes) == 0 {
		return fmt.Errorf("engine: cluster has no nodes")
	}
	seen := map[string]bool{}
	for i, n := range c.Nodes {
		if n.Name == "" {
			return fmt.Errorf("engine: node %d has no name", i)
		}
		if seen[n.Name] {
			return fmt.Errorf("engine: duplicate node name %q", n.Name)
		}
		seen[n.Name] = true
		a := n.Allocatable
		if a.MilliCPU < 0 || a.Memory < 0 || a.GPU < 0 || a.Pods < 0 {
			return fmt.Errorf("engine: node %s: negative allocatable %v", n.Name, a)
		}
	}
	if c.Streams != nil && c.Streams.Seed() != c.Seed {
		return fmt.Errorf("engine: streams derive from seed %d, not the run's seed %d", c.Streams.Seed(), c.Seed)
	}
	if c.Horizon < 0 || c.StallTimeout < 0 {
		return fmt.Errorf("engine: negative horizon or stall timeout")
	}
	return nil
}
