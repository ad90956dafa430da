package apps

import (
	"errors"
	"fmt"
	"math"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/network"
)

// ErrInvalid is wrapped by every error about an impossible environment,
// job or parameter set.
var ErrInvalid = errors.New("apps: invalid")

// Result is a model's answer: the run time and its phases (the same
// shape the engine's RunModel returns, so a model can sit behind it).
type Result = engine.RunResult

// Phase is one named part of a run.
type Phase = engine.Phase

// Node is the shape of one node as the application sees it.
type Node struct {
	// Cores is the number of cores (hardware threads the ranks are bound
	// to) on the node.
	Cores int `yaml:"cores" json:"cores"`
	// MemoryBandwidth is the node's sustained memory bandwidth (STREAM
	// triad), GB/s, shared by every rank on the node.
	MemoryBandwidth float64 `yaml:"memoryBandwidth" json:"memoryBandwidth"`
	// Speed is a core's speed relative to the core the application's
	// parameters were fitted on (0 means 1).
	Speed float64 `yaml:"speed" json:"speed"`
}

// Env is everything a model needs besides its own parameters and job:
// where the ranks run, what the nodes are, how the runtime limits CPU
// and what it puts on the network path.
type Env struct {
	// Fabric prices communication (its Inter profile is the runtime's
	// network path: EFA, TCP, a Usernetes overlay).
	Fabric *network.Fabric
	// Placement is the ranks on each node.
	Placement network.Placement
	// Node is the shape of every node of the placement.
	Node Node
	// CPUQuota is the CFS quota of one pod in cores (limits.cpu; 0 = no
	// limit).
	CPUQuota float64
	// CFSPeriod is the CFS bandwidth period in seconds
	// (cpu.cfs_period_us; 0 means DefaultCFSPeriod, 100 ms).
	CFSPeriod float64
	// PodsPerNode is the job's pods on each node (same length as
	// Placement.RanksPerNode; nil means one pod per node).
	PodsPerNode []int
	// BackgroundLoad is the CPU the node's daemons keep busy (cores on
	// average: a kubelet, containerd, the Usernetes control plane).
	BackgroundLoad float64
	// BackgroundBurst is how long one burst of that daemon activity
	// keeps a core (seconds); 0 treats the load as smooth, so it only
	// costs its average share. See Contention.
	BackgroundBurst float64
	// Traffic, when set, adds up what one rank of the run moves (memory
	// streamed, bytes sent between nodes) over every phase priced: the
	// run's demand on the resources it shares with other jobs (see
	// Demand).
	Traffic *Traffic
}

// Validate reports the first impossible field.
func (e *Env) Validate() error {
	if e == nil {
		return fmt.Errorf("%w: env: missing", ErrInvalid)
	}
	if err := e.Placement.Validate(); err != nil {
		return fmt.Errorf("env: %w", err)
	}
	if e.Fabric == nil {
		return fmt.Errorf("%w: env: fabric: missing", ErrInvalid)
	}
	if err := e.Fabric.Validate(); err != nil {
		return fmt.Errorf("env: %w", err)
	}
	if err := e.Node.Validate(); err != nil {
		return fmt.Errorf("env: %w", err)
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"cpuQuota", e.CPUQuota}, {"backgroundLoad", e.BackgroundLoad}, {"backgroundBurst", e.BackgroundBurst}} {
		if !finiteNonNeg(c.v) {
			return fmt.Errorf("%w: env: %s: %g must be finite and not negative", ErrInvalid, c.name, c.v)
		}
	}
	if e.CFSPeriod != 0 && !(e.CFSPeriod >= 1e-3 && e.CFSPeriod <= 1) {
		return fmt.Errorf("%w: env: cfsPeriod: %g s must be 0 (100 ms) or from 1 ms to 1 s, as the kernel allows", ErrInvalid, e.CFSPeriod)
	}
	if e.BackgroundLoad >= float64(e.Node.Cores) {
		return fmt.Errorf("%w: env: backgroundLoad: %g cores leave nothing of the node's %d cores", ErrInvalid, e.BackgroundLoad, e.Node.Cores)
	}
	if e.PodsPerNode != nil {
		if len(e.PodsPerNode) != e.Placement.Nodes() {
			return fmt.Errorf("%w: env: podsPerNode: %d entries for %d nodes", ErrInvalid, len(e.PodsPerNode), e.Placement.Nodes())
		}
		for i, p := range e.PodsPerNode {
			if p <= 0 {
				return fmt.Errorf("%w: env: podsPerNode[%d]: %d must be positive", ErrInvalid, i, p)
			}
		}
	}
	return nil
}

// Validate reports an impossible node shape.
func (n Node) Validate() error {
	switch {
	case n.Cores <= 0:
		return fmt.Errorf("%w: node: cores: %d must be positive", ErrInvalid, n.Cores)
	case !(n.MemoryBandwidth > 0) || math.IsInf(n.MemoryBandwidth, 0):
		return fmt.Errorf("%w: node: memoryBandwidth: %g GB/s must be positive and finite", ErrInvalid, n.MemoryBandwidth)
	case !finiteNonNeg(n.Speed):
		return fmt.Errorf("%w: node: speed: %g must be finite and not negative (0 means 1)", ErrInvalid, n.Speed)
	}
	return nil
}

func (n Node) speed() float64 {
	if n.Speed == 0 {
		return 1
	}
	return n.Speed
}

// bandwidth is the node's memory bandwidth in bytes/s.
func (n Node) bandwidth() float64 { return n.MemoryBandwidth * 1e9 }

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

func (e *Env) pods(i int) int {
	if e.PodsPerNode == nil {
		return 1
	}
	return e.PodsPerNode[i]
}

// cpuPerByte is the node CPU the network path burns per byte a rank
// sends or receives between nodes (slirp4netns copying in user space;
// 0 for an OS-bypass fabric such as EFA).
func (e *Env) cpuPerByte() float64 {
	if e.Fabric == nil || e.Fabric.Inter == nil {
		return 0
	}
	return e.Fabric.Inter.NodeCPUPerByte()
}

// Work is one bulk-synchronous phase of a run before contention: what
// the busiest rank would take on an idle node of its own, and what
// the phase asks of the node's CPU and network stack.
type Work struct {
	// Seconds is the phase's uncontended time: the ranks computing,
	// streaming memory, or waiting on communication (busy-polling, as
	// MPI does), all the time.
	Seconds float64
	// InterBytes is what one rank sends over the network in the phase
	// (it receives as much); the network stack burns CPU for both.
	InterBytes float64
	// Syncs is how many times the ranks synchronise in the phase
	// (collectives, halo exchanges): where background noise on one node
	// holds up all of them.
	Syncs float64
	// MemoryBytes is what one rank streams through the node's memory in
	// the phase (the bytes behind its memory-bandwidth term).
	MemoryBytes float64
	// NodeInterBytes is what the busiest node sends over its link in
	// the phase (network.Cost.NodeInterBytes of its communication).
	NodeInterBytes float64
}

// Contention is the time a phase takes on the placement once the
// ranks share their nodes' cores with the CPU quota, the daemons and
// the network stack. On node i with r ranks, C cores, background load
// b, a pod quota q (cores) for each of its k pods and a network path
// burning c seconds of CPU per byte:
//
//	t_i = max(t0, (t0·r + 2·r·B·c)/(C − b))
//
// The first term is the phase on idle cores; the second is the node's
// cores doing the ranks' work and the network stack's (B bytes sent
// and as many received per rank) beside the daemons. Busy-polling
// communication counts as rank work: a rank that waits on MPI spins.
// The phase takes the slowest node's time, or, when the quota
// throttles the pods (q < r/k), the CFS bandwidth model's if longer
// (cfs.go): a pod of ρ = r/k ranks runs for q·P/ρ of every period
// P (its ranks compute or spin, so it spends its quota at ρ cores),
// the pods' periods are out of step, and each of the phase's S steps (at least one) ends
// when the slowest pod has had t0/S of running time. That is t0·r/(q·k)
// (the average effect of throttling) for steps much longer than P,
// and grows with the number of pods towards about one period a step
// for steps much shorter.
//
// Background noise: the daemons' load b does not arrive evenly but in
// bursts of BackgroundBurst d seconds, each holding up one rank. When a
// node has no idle core (r + b > C) a burst delays that rank, and at
// the next synchronisation every rank of the job waits for it (Petrini
// et al., SC'03; Hoefler et al., SC'10). With S synchronisations, so
// an interval τ = t/S, and N nodes each hit at rate e/d (e = min(1,
// r + b − C) the load that finds no idle core), the expected delay of
// an interval is that of at least one burst somewhere:
//
//	t = t_max · (1 + (d/τ)·(1 − exp(−N·e·τ/d)))
//
// which is N·e (every node's bursts add up) when bursts are rare and
// saturates at one burst per interval when they are frequent; d = 0
// leaves only the average share above.
//
// Left out: SMT, frequency scaling, cache sharing between the ranks
// and the daemons, interrupt handling of the network stack on
// specific cores, and the daemons' CPU inside a pod's quota.
func (e *Env) Contention(w Work) float64 {
	if e.Traffic != nil {
		e.Traffic.add(w)
	}
	if w.Seconds <= 0 {
		return 0
	}
	C := float64(e.Node.Cores)
	b := e.BackgroundLoad
	cpb := e.cpuPerByte()
	worst, worstE := 0.0, 0.0
	for _, r := range e.Placement.RanksPerNode {
		rf := float64(r)
		t := max(w.Seconds, (w.Seconds*rf+2*rf*w.InterBytes*cpb)/(C-b))
		worst = max(worst, t)
		worstE = max(worstE, min(1, rf+b-C))
	}
	if j, throttled := e.cfsJob(); throttled {
		worst = max(worst, j.quota(w.Seconds, w.Syncs))
	}
	d := e.BackgroundBurst
	if d > 0 && worstE > 0 && w.Syncs > 0 {
		tau := worst / w.Syncs
		n := float64(e.Placement.Nodes())
		worst *= 1 + (d/tau)*(-math.Expm1(-n*worstE*tau/d))
	}
	return worst
}

// phases accumulates a model's phases, each priced with Contention.
type phases struct {
	env   *Env
	total float64
	list  []Phase
}

func (p *phases) add(name string, w Work) {
	t := p.env.Contention(w)
	p.total += t
	p.list = append(p.list, Phase{Name: name, Seconds: t})
}

// fixed adds a phase that neither computes nor communicates on the
// ranks' cores (a launcher's start-up).
func (p *phases) fixed(name string, seconds float64) {
	p.total += seconds
	p.list = append(p.list, Phase{Name: name, Seconds: seconds})
}

func (p *phases) result() Result { return Result{Seconds: p.total, Phases: p.list} }

// comm sums the costs of collectives called times times each.
type comm struct {
	seconds, interBytes, syncs float64
	nodeBytes                  float64 // the busiest node's inter-node bytes
}

func (c *comm) add(cost network.Cost, times float64) {
	c.seconds += cost.Seconds * times
	c.interBytes += cost.InterBytes * times
	c.nodeBytes += cost.NodeInterBytes * times
	c.syncs += times
}
