package engine

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fschuetz04/simgo"
)

// evKind is an internal calendar event kind.
type evKind uint8

const (
	evArrival    evKind = iota // id = job
	evJobSync                  // id = job
	evPodCreate                // id = job, tag = completion index
	evTimer                    // tag = policy tag
	evBindDone                 // id = pod; or id = job, tag = bindFluxJob
	evAgent                    // a node agent's own event (agent, sub, id, tag)
	evFinish                   // id = pod
	evReady                    // id = pod
	evFluxFinish               // id = job: its running shells end (their tasks exited)
)

// Engine runs one simulation. Build it with New, add jobs with Submit, then
// call Run once.
type Engine struct {
	cfg     Config
	policy  Policy
	cluster *Cluster
	sim     *simgo.Simulation
	cal     calendar
	streams *Streams

	jobs    []*Job
	pods    []*Pod
	podSlab []Pod // newPod's current slab
	podSink PodSink
	podEnd  int // pods[:podEnd] have all ended and went to podSink

	pending        []Event
	deliverQueued  bool
	decisions      []Decision
	jobClient      *TokenBucket
	userClient     *TokenBucket
	images         []string
	imageSizes     []int64
	imageID        map[string]int32
	transfers      transferPool
	contention     *contention // jobs run by progress (nil until the first)
	rStartup       *rand.Rand
	rControllers   *rand.Rand
	records        []Record
	nrecords       int                 // records emitted (kept or streamed)
	series         map[int]*failSeries // open FailedScheduling series by pod id
	stallReason    string
	lastProgress   float64
	arrivalsToCome int         // arrivals and pod creations in the calendar
	running        int         // pods with containers running
	gangWaiting    int         // of those, pods of RunModel jobs waiting for the rest of their job
	initRunning    int         // kubelet: init containers running
	agents         []NodeAgent // by slot; 0 is the kubelet
	jobsDone       int         // jobs that reached their completions
	processes      bool        // Sim was called: interleave simgo processes
	sentinelAt     float64     // time of the pending sentinel (NaN if none)
	sentinelGen    int
	sentinelHit    bool
	finished       int
	processed      int
	stopped        string
	err            error
	onJobDone      func(j *Job, now float64)
	onProgress     func(Progress)
}

// OnJobDone calls fn when a job finishes or is rejected (for workflow
// drivers, which may Submit further jobs from it, at now or later).
func (e *Engine) OnJobDone(fn func(j *Job, now float64)) { e.onJobDone = fn }

// jobDone tells the workflow driver, if any, that j is done.
func (e *Engine) jobDone(j *Job, now float64) {
	if e.onJobDone != nil {
		e.onJobDone(j, now)
	}
}

// New returns an engine for the configuration and policy.
func New(cfg Config, policy Policy) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = 900
	}
	if cfg.Streams == nil {
		cfg.Streams = NewStreams(cfg.Seed)
	}
	e := &Engine{
		cfg:        cfg,
		policy:     policy,
		cluster:    &Cluster{Nodes: cfg.Nodes, imageNodes: map[string]int{}},
		sim:        simgo.NewSimulation(),
		streams:    cfg.Streams,
		sentinelAt: math.NaN(),
		imageID:    map[string]int32{},
		jobClient:  NewTokenBucket(cfg.Controllers.JobQPS, cfg.Controllers.JobBurst),
		userClient: NewTokenBucket(cfg.Controllers.ClientQPS, cfg.Controllers.ClientBurst),
	}
	e.rStartup = e.streams.Get("startup")
	e.rControllers = e.streams.Get("controllers")
	e.transfers.init(len(cfg.Nodes), cfg.Startup.RegistryBandwidth, cfg.Startup.NodeBandwidth)
	e.agents = []NodeAgent{kubelet{e}, fluxShell{e}}
	ticks := e.streams.Get("startup.ticks")
	for i, n := range cfg.Nodes {
		n.Index = i
		n.Requested, n.NonZeroRequested = Resources{}, Resources{}
		n.images = map[string]imageState{}
		n.imageSizes = map[string]int64{}
		for name, size := range n.Preloaded {
			n.images[name] = imagePresent
			n.imageSizes[name] = size
			e.cluster.imageNodes[name]++
		}
		n.kubelet = kubeletState{
			pullBucket: NewTokenBucket(cfg.Startup.RegistryPullQPS, cfg.Startup.RegistryBurst),
			backoff:    map[backoffKey]backoffEntry{},
			waiters:    map[int32][]int32{},
			tickPhase:  ticks.Float64() * cfg.Startup.SyncLoopPeriod,
		}
	}
	return e, nil
}

// Streams returns the run's named random streams (for workload generators
// and policies, which must draw from their own named stream).
func (e *Engine) Streams() *Streams { return e.streams }

// SetSink streams the event trace to sink instead of keeping it (see
// Config.Sink); call before Run.
func (e *Engine) SetSink(sink RecordSink) { e.cfg.Sink = sink }

// PodSink receives a run's pods as they end, in id order: a pod is
// handed over once it and every pod created before it have finished or
// failed (the rest are in Result.Pods when the run ends). The engine
// changes no pod it has handed over, so the sink may read them on
// another goroutine while the run goes on (report writes pods.csv so).
// ps is valid after Pods returns; the slice itself is the engine's.
type PodSink interface {
	Pods(ps []*Pod) error
}

// SetPodSink hands the pods to sink as they end; call before Run. An
// error of the sink ends the run with a *SinkError.
func (e *Engine) SetPodSink(sink PodSink) { e.podSink = sink }

// podEnded notes that p has finished or failed: once every pod before it
// has too, the run of ended pods from p on goes to the PodSink.
func (e *Engine) podEnded(p *Pod) {
	if e.podSink == nil || p.ID != e.podEnd || e.err != nil {
		return
	}
	from := e.podEnd
	for e.podEnd < len(e.pods) && e.pods[e.podEnd].ended() {
		e.podEnd++
	}
	if err := e.podSink.Pods(e.pods[from:e.podEnd:e.podEnd]); err != nil {
		e.err = &SinkError{Err: err, Pods: true}
	}
}

// ProgressEvery is how many calendar events pass between two calls of
// the function given to OnProgress.
const ProgressEvery = 1 << 14

// Progress is how far a run has come, for a progress display.
type Progress struct {
	Now      float64 // simulated time
	Events   int     // calendar events processed
	JobsDone int     // jobs finished or rejected
	Jobs     int     // jobs submitted so far
}

// OnProgress calls fn every ProgressEvery calendar events (fn must not
// touch the engine). Call before Run.
func (e *Engine) OnProgress(fn func(Progress)) { e.onProgress = fn }

// Sim returns the simgo simulation that owns the clock, for control logic
// written as simgo processes (workflow drivers). Once Sim has been called,
// Run interleaves simgo events with the calendar one at a time (slower
// than the plain calendar loop, which needs no interleaving).
func (e *Engine) Sim() *simgo.Simulation {
	e.processes = true
	return e.sim
}

// Now returns the simulated time.
func (e *Engine) Now() float64 { return e.sim.Now() }

// Submit adds a job that arrives at time at. The job's Kind, Name,
// Parallelism, Completions and Template must be set; call before Run.
func (e *Engine) Submit(at float64, j *Job) error {
	if at < 0 || math.IsNaN(at) || math.IsInf(at, 0) {
		return fmt.Errorf("engine: job %s: invalid arrival time %v", j.Name, at)
	}
	if e.sim == nil {
		return fmt.Errorf("engine: job %s: submitted after the run ended", j.Name)
	}
	if now := e.sim.Now(); at < now {
		return fmt.Errorf("engine: job %s: arrival time %v is before now (%v)", j.Name, at, now)
	}
	if j.Template == nil {
		return fmt.Errorf("engine: job %s: no pod template", j.Name)
	}
	if j.Flux != nil {
		if err := j.Flux.Validate(); err != nil {
			return fmt.Errorf("engine: Flux job %s: %w", j.Name, err)
		}
		if j.Operator != nil || j.Group != nil {
			return fmt.Errorf("engine: Flux job %s: a Flux job has no operator and no pod group", j.Name)
		}
		j.Kind = KindFluxJob
		// Shells known at submission; without a node level, set with
		// the allocation (fluxShells).
		j.Parallelism, j.Completions = j.Flux.Nodes, j.Flux.Nodes
		j.Flux.Alloc, j.Flux.Expiration = Unset, Unset
		j.Flux.started, j.Flux.exception = 0, ""
	}
	if j.Kind == KindPod {
		j.Parallelism, j.Completions = 1, 1
	}
	if (j.Parallelism < 1 || j.Completions < 1) && !(j.Flux != nil && j.Flux.ShellsAtAlloc()) {
		return fmt.Errorf("engine: job %s: parallelism and completions must be ≥ 1", j.Name)
	}
	if j.RunModel != nil && j.Parallelism != j.Completions {
		return fmt.Errorf("engine: job %s: a job with a run model starts all its pods together, so parallelism (%d) must equal completions (%d)", j.Name, j.Parallelism, j.Completions)
	}
	if j.Operator != nil {
		if err := checkOperator(j); err != nil { // launch.go
			return err
		}
	}
	j.ID = len(e.jobs)
	j.Submitted, j.Finished, j.Started, j.Rejected = Unset, Unset, Unset, Unset
	e.jobs = append(e.jobs, j)
	e.push(item{t: at, kind: evArrival, id: int32(j.ID)})
	return nil
}

func (e *Engine) push(it item) {
	switch it.kind {
	case evArrival, evPodCreate:
		e.arrivalsToCome++
	}
	e.cal.push(it)
}

// Result is what a run produced. Metrics are computed from the lifecycle
// timestamps of Jobs and Pods (package report).
type Result struct {
	Seed    uint64
	Policy  string
	Cluster *Cluster
	Jobs    []*Job
	Pods    []*Pod
	Records []Record // the event trace (if Config.Record and no Config.Sink)
	// RecordCount is the number of records in the event trace, kept or
	// streamed to Config.Sink.
	RecordCount int
	End         float64 // time of the last processed event
	Events      int     // calendar events processed
	Stopped     string  // "" (all work done), "stalled" or "horizon"
	StallReason string  // the Stalled record's message ("" unless stalled)
}

// FinishedPods counts the pods that finished.
func (r *Result) FinishedPods() int {
	n := 0
	for _, p := range r.Pods {
		if IsSet(p.Finished) {
			n++
		}
	}
	return n
}

// Run runs the simulation to completion, to a stall, or to the horizon.
// An error means the run is broken (an invariant was violated).
func (e *Engine) Run() (*Result, error) {
	if e.sim == nil {
		return nil, fmt.Errorf("engine: Run called twice")
	}
	for e.err == nil && e.stopped == "" {
		now := e.sim.Now()
		// Policy events of one instant are delivered together, once
		// everything else scheduled for that instant has happened.
		if e.deliverQueued && (e.cal.len() == 0 || e.cal.items[0].t > now) {
			e.deliver(now)
			continue
		}
		if e.processes && !e.stepProcesses(now) {
			continue // a process ran, or the horizon was reached
		}
		if e.cal.len() == 0 {
			if e.gangWaiting > 0 && e.stopped == "" {
				// Pods hold their nodes waiting for the rest of
				// their job, and nothing will ever place it.
				e.stall(now, fmt.Sprintf("nothing left to happen with %d pods waiting for the rest of their job and %d pods unfinished", e.gangWaiting, len(e.pods)-e.finished))
			} else if pp, ok := e.policy.(Pending); ok && e.stopped == "" && pp.PendingPods() > 0 {
				// The policy holds pods it will never place (a
				// queue that waits for resources that never come).
				e.stall(now, fmt.Sprintf("nothing left to happen with %d pods the scheduler holds pending and %d pods unfinished", pp.PendingPods(), len(e.pods)-e.finished))
			} else if w := e.waitingShells(); w > 0 && e.stopped == "" {
				// Flux jobs whose shells come with R, never
				// allocated: they have no pods to wait.
				e.stall(now, fmt.Sprintf("nothing left to happen with %d Flux jobs waiting for an allocation and %d pods unfinished", w, len(e.pods)-e.finished))
			}
			break
		}
		it := e.cal.pop()
		if it.t < now {
			e.err = fmt.Errorf("engine: invariant violated: time ran backwards (%v < %v)", it.t, now)
			break
		}
		if e.stale(it) {
			continue // overtaken: the clock does not move for it
		}
		if e.cfg.Horizon > 0 && it.t > e.cfg.Horizon {
			e.sim.RunUntil(e.cfg.Horizon)
			e.stopped = "horizon"
			break
		}
		if it.t > now {
			e.sim.RunUntil(it.t) // no processes: this only moves the clock
		}
		e.processed++
		if e.onProgress != nil && e.processed%ProgressEvery == 0 {
			e.onProgress(Progress{Now: it.t, Events: e.processed, JobsDone: e.jobsDone, Jobs: len(e.jobs)})
		}
		if it.kind == evArrival || it.kind == evPodCreate {
			e.arrivalsToCome--
		}
		if e.stalled(it) {
			break
		}
		e.dispatch(it)
	}
	if e.err == nil {
		e.endAllSeries(e.sim.Now())
	}
	if e.err != nil {
		return nil, e.err
	}
	if err := e.checkEnd(); err != nil {
		return nil, err
	}
	res := &Result{
		Seed: e.cfg.Seed, Policy: e.policy.Name(), Cluster: e.cluster,
		Jobs: e.jobs, Pods: e.pods, Records: e.records, RecordCount: e.nrecords,
		End: e.sim.Now(), Events: e.processed, Stopped: e.stopped, StallReason: e.stallReason,
	}
	e.sim = nil
	return res, nil
}

// stepProcesses interleaves simgo processes with the calendar. A sentinel
// simgo event waits at the calendar's next time (or the horizon); simgo is
// stepped one event at a time, so a process that wakes earlier runs first
// and may add calendar events before the sentinel's time. It returns true
// when the clock has reached the calendar's head and the head may run.
func (e *Engine) stepProcesses(now float64) bool {
	target := math.Inf(1)
	if e.cal.len() > 0 {
		target = e.cal.items[0].t
	}
	if h := e.cfg.Horizon; h > 0 && h < target {
		target = h
	}
	if math.IsInf(target, 1) {
		// Nothing in the calendar and no horizon: only processes.
		if !e.sim.Step() {
			e.stopped = "done"
		}
		return false
	}
	if target != e.sentinelAt {
		e.sentinelGen++
		gen := e.sentinelGen
		e.sim.Timeout(target - now).AddHandler(func(*simgo.Event) {
			if gen == e.sentinelGen {
				e.sentinelHit = true
			}
		})
		e.sentinelAt = target
	}
	e.sentinelHit = false
	e.sim.Step()
	if !e.sentinelHit {
		return false
	}
	e.sentinelAt = math.NaN()
	if e.cal.len() == 0 || e.cal.items[0].t > e.sim.Now() {
		e.stopped = "horizon"
		return false
	}
	return true
}

// stalled ends the run when nothing but retries and timers has happened
// for StallTimeout while pods wait and nothing else can change the cluster,
// or when only policy timers are left after every pod finished.
func (e *Engine) stalled(it item) bool {
	if it.kind == evArrival || it.kind == evPodCreate {
		return false
	}
	now := it.t
	if it.kind == evTimer && e.jobsDone == len(e.jobs) && e.arrivalsToCome == 0 {
		e.stopped = "done"
		return true
	}
	if now-e.lastProgress <= e.cfg.StallTimeout || e.moving() {
		return false
	}
	e.stall(now, fmt.Sprintf("no progress for %.0f s with %d pods unfinished", now-e.lastProgress, len(e.pods)-e.finished))
	return true
}

func (e *Engine) progress(now float64) { e.lastProgress = now }

// waitingShells counts the Flux jobs submitted, neither allocated nor
// rejected, whose shells come with R (so no pod of theirs waits).
func (e *Engine) waitingShells() int {
	n := 0
	for _, j := range e.jobs {
		if f := j.Flux; f != nil && f.ShellsAtAlloc() && IsSet(j.Submitted) && !IsSet(f.Alloc) && !j.rejected {
			n++
		}
	}
	return n
}

// moving reports whether something other than retries and timers will
// happen: pods running that are not waiting for their job, arrivals to
// come, or an agent's work in flight. A run that is not moving stalls
// StallTimeout after its last progress (stalled, quietUntil).
func (e *Engine) moving() bool {
	return e.running > e.gangWaiting || e.arrivalsToCome > 0 || e.agentsBusy()
}

// stall ends the run as stalled, with why (Result.StallReason and a
// Stalled record).
func (e *Engine) stall(now float64, why string) {
	e.stopped = "stalled"
	e.stallReason = why
	e.record(now, RecStalled, nil, nil, why)
}

func (e *Engine) dispatch(it item) {
	now := it.t
	switch it.kind {
	case evArrival:
		j := e.jobs[it.id]
		j.Submitted = now
		e.progress(now)
		if j.Flux != nil {
			e.fluxSubmitted(j, now)
		} else {
			e.recordJob(now, RecJobSubmitted, j)
		}
		e.notify(Event{Kind: JobArrived, Job: j}, now)
		e.syncJob(j, now)
	case evJobSync:
		e.syncJob(e.jobs[it.id], now)
	case evPodCreate:
		e.createPod(e.jobs[it.id], int(it.tag), now)
	case evTimer:
		e.notify(Event{Kind: TimerFired, Tag: it.tag}, now)
	case evBindDone:
		if it.tag == bindFluxJob {
			e.fluxBound(e.jobs[it.id], now)
			return
		}
		p := e.pods[it.id]
		p.Scheduled = now
		e.progress(now)
		e.record(now, RecScheduled, p, p.Node, "")
		e.notify(Event{Kind: PodBound, Pod: p, Node: p.Node}, now)
		e.agentOf(p).Bound(p, now)
	case evAgent:
		e.agents[it.agent].Wake(it.sub, it.id, it.tag, now)
	case evFinish:
		if it.tag != 0 { // a job run by progress (contention.go)
			e.contendedFinish(e.pods[it.id], it.tag, now)
			return
		}
		e.finishPod(e.pods[it.id], now)
	case evFluxFinish:
		for _, p := range e.jobs[it.id].Pods {
			if p.Phase == PodRunning && e.err == nil {
				e.finishPod(p, now)
			}
		}
	case evReady:
		p := e.pods[it.id]
		if p.Phase != PodRunning {
			return
		}
		p.Ready = now
		e.record(now, RecReady, p, p.Node, "")
	}
}

// notify queues an event for the policy; all events of one instant are
// delivered together.
func (e *Engine) notify(ev Event, now float64) {
	e.pending = append(e.pending, ev)
	e.deliverQueued = true
}

func (e *Engine) deliver(now float64) {
	e.deliverQueued = false
	events := e.pending
	e.pending = nil
	e.cluster.quietUntil = e.quietUntil(now)
	e.decisions = e.policy.Decide(now, events, e.cluster, e.decisions[:0])
	for i := range e.decisions {
		if err := e.apply(&e.decisions[i], now); err != nil {
			e.err = err
			return
		}
	}
	clear(events)
	if e.pending == nil {
		e.pending = events[:0]
	}
}

// quietUntil is Cluster.QuietUntil for a delivery at now: the time of
// the next calendar event, the horizon, and, when the run could be
// declared stalled, just past the stall deadline; now itself while simgo
// processes run (they may act at any time).
func (e *Engine) quietUntil(now float64) float64 {
	if e.processes {
		return now
	}
	q := math.Inf(1)
	if e.cal.len() > 0 {
		q = e.cal.items[0].t
	}
	if h := e.cfg.Horizon; h > 0 {
		q = min(q, math.Nextafter(h, math.Inf(1)))
	}
	if !e.moving() {
		// An event after lastProgress + StallTimeout would end the run.
		q = min(q, math.Nextafter(e.lastProgress+e.cfg.StallTimeout, math.Inf(1)))
	}
	return max(q, now)
}

func (e *Engine) apply(d *Decision, now float64) error {
	switch d.Kind {
	case Bind:
		if err := e.checkBind(d.Pod, d.Node, d.Delay); err != nil {
			return err
		}
		e.hold(d.Pod, d.Node)
		e.bind(d.Pod, d.Delay, now)
	case SetTimer:
		if d.At < now || math.IsNaN(d.At) {
			return fmt.Errorf("engine: invariant violated: policy %s set a timer in the past (%v < %v)", e.policy.Name(), d.At, now)
		}
		e.push(item{t: d.At, kind: evTimer, tag: d.Tag})
	case Unschedulable:
		p := d.Pod
		if p == nil {
			return fmt.Errorf("engine: invariant violated: policy %s reported a nil pod unschedulable", e.policy.Name())
		}
		at := now
		if d.At != 0 {
			at = d.At
			if !(at >= now && at < e.cluster.quietUntil) {
				return fmt.Errorf("engine: invariant violated: policy %s reported an attempt of pod %s at %v, outside [%v, %v)", e.policy.Name(), p.Name, at, now, e.cluster.quietUntil)
			}
		}
		if p.Node != nil || p.Phase != PodPending {
			return fmt.Errorf("engine: invariant violated: policy %s reported pod %s unschedulable, but it is on %s", e.policy.Name(), p.Name, nodeName(p.Node))
		}
		p.Attempts++
		p.LastFailure = d.Reason
		e.recordFailure(at, p, d.Reason)
	case Assume, Allow, Unreserve, Allocate, Reserve, Reject:
		return e.applyGang(d, now)
	case NodeUp, NodeDown:
		return e.nodeUpDown(d, now)
	case Stop:
		return e.stop(d.Job, d.Reason, now)
	default:
		return fmt.Errorf("engine: invariant violated: policy %s returned unknown decision %d", e.policy.Name(), d.Kind)
	}
	return nil
}

func (e *Engine) finishPod(p *Pod, now float64) {
	n := p.Node
	p.Phase = PodSucceeded
	p.Finished = now
	p.started = false
	e.running--
	e.finished++
	if err := e.release(p); err != nil {
		e.err = err
		return
	}
	e.progress(now)
	e.record(now, RecSucceeded, p, n, "")
	e.notify(Event{Kind: PodDeleted, Pod: p, Node: n}, now)
	e.podSucceeded(p, now)
	if e.contention != nil {
		e.contendedEnd(p.Job, now)
	}
	e.podEnded(p)
}

// checkEnd verifies that every pod is accounted for.
func (e *Engine) checkEnd() error {
	var pending, assigned, running, done int
	for _, p := range e.pods {
		switch {
		case p.Phase == PodSucceeded || p.Phase == PodFailed:
			done++
		case p.started:
			running++
		case p.Node != nil:
			assigned++
		default:
			pending++
		}
	}
	if done != e.finished || running != e.running {
		return fmt.Errorf("engine: invariant violated: pod accounting: %d finished (counted %d), %d running (counted %d)", done, e.finished, running, e.running)
	}
	if e.stopped == "" || e.stopped == "done" {
		e.stopped = ""
		if done != len(e.pods) {
			return fmt.Errorf("engine: invariant violated: run ended with %d of %d pods unfinished but nothing left to happen", len(e.pods)-done, len(e.pods))
		}
		for _, n := range e.cluster.Nodes {
			if !n.Requested.IsZero() {
				return fmt.Errorf("engine: invariant violated: node %s still holds %v after every pod finished", n.Name, n.Requested)
			}
		}
	}
	if pp, ok := e.policy.(Pending); ok && pp.PendingPods() != pending {
		return fmt.Errorf("engine: invariant violated: policy %s holds %d pending pods, engine counts %d", e.policy.Name(), pp.PendingPods(), pending)
	}
	return nil
}
