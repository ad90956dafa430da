package engine

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Flux jobs: batch jobs that Flux schedules on bare metal. A Flux job is
// not a set of API objects: flux-core ingests its jobspec (submit,
// validate), resolves dependencies (depend), gives it a priority
// (priority), and hands it to the scheduler; once Fluxion allocates R
// (alloc), job-exec starts one job shell on every node of R (start);
// when the tasks have exited (finish) the shells release the nodes
// (release), the scheduler gets them back (free) and the job becomes
// inactive (clean). RFC 21 names these events, and the engine records
// them under those names.
//
// In the engine a Flux job's pods are its job shells, one per node of R,
// as job-exec starts them. With a node level (flux run -N) the nodes are
// known at submission and so are the shells, created then; without one
// (flux run -n: task slots anywhere) R decides how many nodes the slots
// take, and the shells are created with the allocation, each holding the
// task slots R gives its node (Pod.Tasks). Shells need no image, no
// sandbox and no bind call: the job shell agent (slot 1) starts them
// ShellStart seconds after the allocation. An allocation is bound,
// started and ended with one calendar event each, not one per shell.

// FluxSpec is what a Flux job asks for (its jobspec) and what became of
// it.
type FluxSpec struct {
	// Nodes is the node count (-N); 0: slots are placed anywhere.
	Nodes int
	// Slots is the number of task slots (-n), CoresPerSlot and
	// GPUsPerSlot what each holds (-c, -g). With Nodes, Slots must be a
	// multiple of Nodes.
	Slots        int
	CoresPerSlot int
	GPUsPerSlot  int
	// Exclusive asks for whole nodes (--exclusive; the default for -N
	// without -n).
	Exclusive bool
	// Walltime is the requested duration (-t), seconds; 0 is unlimited.
	// The scheduler plans with it; the job is killed when it expires.
	Walltime float64
	// Urgency is flux-core's urgency, 0..31 (default 16); the priority
	// plugin's default makes priority = urgency.
	Urgency int
	// RunTime is how long the tasks run if nothing stops them (0: the
	// template's run time, sampled once for the job). An app model, when
	// set, decides instead.
	RunTime float64

	// What happened (NaN until it did): the RFC 21 event times.
	Alloc      float64 // alloc: the scheduler granted R
	Expiration float64 // R's expiration: Alloc + Walltime (+Inf if unlimited)
	started    int     // shells started
	// exception is the type of the fatal exception that ended the run
	// ("timeout", "cancel"; "" none).
	exception string
}

// TimedOut reports whether the job was killed at its time limit.
func (f *FluxSpec) TimedOut() bool { return f.exception == "timeout" }

// Killed reports whether a fatal exception ended the job's run (its
// time limit, or a cancel).
func (f *FluxSpec) Killed() bool { return f.exception != "" }

// Holders is the most job shells (pods) the job can have on a cluster
// of nodes nodes: its node count with a node level (flux run -N), else
// one per node its task slots can spread over, at most one a slot
// (nodes ≤ 0: no bound from the cluster).
func (f *FluxSpec) Holders(nodes int) int {
	if f.Nodes > 0 {
		return f.Nodes
	}
	if nodes > 0 {
		return min(f.Slots, nodes)
	}
	return f.Slots
}

// ShellsAtAlloc reports whether the job's shells are created with its
// allocation (slots without a node level) rather than at submission.
func (f *FluxSpec) ShellsAtAlloc() bool { return f.Nodes == 0 }

// Validate reports an impossible request.
func (f *FluxSpec) Validate() error {
	switch {
	case f.Nodes < 0:
		return fmt.Errorf("nodes: %d must not be negative", f.Nodes)
	case f.Slots < 1:
		return fmt.Errorf("tasks: %d must be at least 1", f.Slots)
	case f.Nodes > 0 && f.Slots%f.Nodes != 0:
		return fmt.Errorf("tasks: %d tasks do not divide evenly over %d nodes", f.Slots, f.Nodes)
	case f.CoresPerSlot < 1:
		return fmt.Errorf("coresPerTask: %d must be at least 1", f.CoresPerSlot)
	case f.GPUsPerSlot < 0:
		return fmt.Errorf("gpusPerTask: %d must not be negative", f.GPUsPerSlot)
	case f.Exclusive && f.Nodes == 0:
		return fmt.Errorf("exclusive: needs nodes (flux run --exclusive needs -N)")
	case !(f.Walltime >= 0) || math.IsInf(f.Walltime, 0):
		return fmt.Errorf("walltime: %v must be finite and not negative", f.Walltime)
	case f.Urgency < 0 || f.Urgency > 31:
		return fmt.Errorf("urgency: %d must be in 0..31", f.Urgency)
	case !(f.RunTime >= 0) || math.IsInf(f.RunTime, 0):
		return fmt.Errorf("runTime: %v must be finite and not negative", f.RunTime)
	}
	return nil
}

// podRequests is what one of the job's shells holds on its node: the
// cores and GPUs of its task slots (Slots ÷ Nodes with a node level;
// without one, the tasks R gives its node), a node-exclusive job's shells
// the whole node (set when it is allocated).
func (f *FluxSpec) podRequests(tasks int) Resources {
	if f.Nodes > 0 {
		tasks = f.Slots / f.Nodes
	}
	return Resources{MilliCPU: int64(tasks*f.CoresPerSlot) * 1000, GPU: int64(tasks * f.GPUsPerSlot)}
}

// IsFlux reports whether j is a Flux job.
func (j *Job) IsFlux() bool { return j.Flux != nil }

// fluxShell is the bare-metal node agent (slot 1): the job shell that
// job-exec starts on each node of an allocation. No image, no sandbox:
// the shells run ShellStart after the allocation.
type fluxShell struct{ *Engine }

const shellSlot = 1

// The shell agent's own events.
const (
	sStarted    uint8 = iota // id = pod: its shell runs the tasks
	sExpire                  // id = job: R expired (the time limit)
	sStartedJob              // id = job: every shell of its allocation runs
)

// fluxShells creates the shells of a Flux job of task slots without a
// node level from its allocation d: one per slot of d (a node of R),
// holding the cores and GPUs of the tasks R gives that node.
func (e *Engine) fluxShells(d *Decision, now float64) error {
	j, f := d.Job, d.Job.Flux
	name := e.policy.Name()
	if len(j.Pods) > 0 || IsSet(f.Alloc) {
		return fmt.Errorf("engine: invariant violated: policy %s allocated Flux job %s twice", name, j.Name)
	}
	tasks := 0
	for i, s := range d.Slots {
		if s.Pod != nil || s.Node == nil || s.Tasks < 1 {
			return fmt.Errorf("engine: invariant violated: policy %s gave slot %d of Flux job %s's R a pod, no node or %d tasks (want a node and at least one task)", name, i, j.Name, s.Tasks)
		}
		tasks += s.Tasks
	}
	if tasks != f.Slots {
		return fmt.Errorf("engine: invariant violated: policy %s gave Flux job %s's R %d task slots, the job has %d", name, j.Name, tasks, f.Slots)
	}
	n := len(d.Slots)
	j.Parallelism, j.Completions, j.nextIndex, j.active = n, n, n, n
	j.Pods = slices.Grow(j.Pods, n)
	for i := range d.Slots {
		e.createPod(j, i, now)
		p := j.Pods[i]
		// Its pod times count from the submission, as those of a shell
		// made then do: flux-core has held the job since.
		p.Created = j.Submitted
		p.Tasks = d.Slots[i].Tasks
		p.Requests = f.podRequests(p.Tasks)
		p.NonZero = p.Requests
		d.Slots[i].Pod = p
	}
	return nil
}

// bindFluxJob tags the one evBindDone of a whole Flux allocation.
const bindFluxJob = 1

// bindFlux binds a Flux job's allocation: its holders take their nodes
// at once, with no bind call each, and one calendar event completes them
// all. A job of n shells costs a few calendar events, not 4n; the run is
// the same as with an event per shell (they would all run at the same
// instant, one after the other, in the same order: the job's pods).
func (e *Engine) bindFlux(d *Decision, now float64) {
	for _, s := range d.Slots {
		s.Pod.Assigned = now
		e.endSeries(now, s.Pod)
	}
	e.progress(now)
	e.push(item{t: now + d.Delay, kind: evBindDone, id: int32(d.Job.ID), tag: bindFluxJob})
}

// fluxBound: every holder of job j is bound; job-exec starts the shells,
// which come up together after the shell start-up (Bound, for the job).
func (e *Engine) fluxBound(j *Job, now float64) {
	e.progress(now)
	for _, p := range j.Pods {
		p.Scheduled = now
		e.notify(Event{Kind: PodBound, Pod: p, Node: p.Node}, now)
	}
	// One shell a node of R: the start-up grows with the nodes.
	e.agentAfter(shellSlot, now+e.cfg.Shell.Start(len(j.Pods)), sStartedJob, int32(j.ID), 0)
}

func (e fluxShell) Name() string { return "flux job shell" }
func (e fluxShell) Busy() bool   { return false }

// Bound starts one shell whose bind completed on its own. The engine
// binds a Flux allocation as a whole (bindFlux, fluxBound) and starts its
// shells together (sStartedJob); this is the same start for one shell:
// every shell of a job comes up after the same delay.
func (e fluxShell) Bound(p *Pod, now float64) {
	d := e.cfg.Shell.Start(len(p.Job.Pods))
	e.agentAfter(shellSlot, now+d, sStarted, int32(p.ID), 0)
}

func (e fluxShell) Wake(kind uint8, id int32, tag int64, now float64) {
	switch kind {
	case sStarted:
		p := e.pods[id]
		if p.Phase != PodPending {
			return
		}
		e.containersStarted(p, now)
	case sExpire:
		e.expire(e.jobs[id], now)
	case sStartedJob:
		// Every shell starts, then one event ends them all: they share
		// the job's run time (one program), so their finishes would
		// all come at one instant, one after the other, in this order.
		j := e.jobs[id]
		at := -1.0
		for _, p := range j.Pods {
			if p.Phase == PodPending && e.containersUp(p, now) {
				at = now + p.RunTime
			}
		}
		if at >= 0 {
			e.push(item{t: at, kind: evFluxFinish, id: int32(j.ID)})
		}
	}
}

// ShellStart is the job shell's start-up cost: seconds from the
// allocation to the shells running, Base + PerNode × nodes (job-exec
// launches one shell per node through the broker overlay, so the last
// shell's start grows with the job's size).
type ShellStart struct {
	Base    float64
	PerNode float64
}

// Start is the start-up cost of a job on n nodes.
func (s ShellStart) Start(n int) float64 { return s.Base + s.PerNode*float64(n) }

func (s ShellStart) validate() error {
	if !(s.Base >= 0) || !(s.PerNode >= 0) || math.IsInf(s.Base, 0) || math.IsInf(s.PerNode, 0) {
		return fmt.Errorf("engine: Config.Shell: base %v and perNode %v must be finite and not negative", s.Base, s.PerNode)
	}
	return nil
}

// fluxAllocated: the scheduler granted job j's R at now; the job is
// killed when R expires.
func (e *Engine) fluxAllocated(j *Job, expiration, now float64) error {
	f := j.Flux
	if IsSet(f.Alloc) {
		return fmt.Errorf("engine: invariant violated: policy %s allocated Flux job %s twice", e.policy.Name(), j.Name)
	}
	if !(expiration > now) {
		expiration = math.Inf(1)
	}
	f.Alloc, f.Expiration = now, expiration
	e.recordJob(now, RecAlloc, j)
	if !math.IsInf(expiration, 1) {
		e.agentAfter(shellSlot, expiration, sExpire, int32(j.ID), 0)
	}
	return nil
}

// fluxStarted: one of j's shells runs; the job's start event is the
// last one's.
func (e *Engine) fluxStarted(j *Job, now float64) {
	f := j.Flux
	f.started++
	if f.started == len(j.Pods) {
		if j.RunModel == nil {
			j.Started = now
		}
		e.recordJob(now, RecStart, j)
	}
}

// expire kills job j when its R expires (job-exec raises a fatal
// timeout exception and signals the tasks).
func (e *Engine) expire(j *Job, now float64) {
	if IsSet(j.Finished) || j.Flux.Killed() {
		return
	}
	e.kill(j, "timeout", "resource allocation expired", now)
}

// kill ends job j's run now: a Flux job records a fatal exception of
// type typ (a shell still starting finishes as soon as it is up); the
// running pods finish.
func (e *Engine) kill(j *Job, typ, note string, now float64) {
	if f := j.Flux; f != nil {
		f.exception = typ
		if e.recording() {
			e.emit(Record{T: now, Kind: RecException, Job: j.ID, Pod: -1, Node: -1, Msg: "type=" + typ + " severity=0 " + note}, nil, j, nil)
		}
	}
	if j.RunModel != nil && !IsSet(j.Started) {
		// Pods up and waiting for the rest: they stop waiting.
		e.gangWaiting -= j.up
	}
	for _, p := range j.Pods {
		if p.Phase == PodRunning && e.err == nil {
			p.RunTime = now - p.ContainersStarted
			e.finishPod(p, now)
		}
	}
}

// fluxDone records the end of job j: finish, release, free and clean
// (flux-core's exec and job-manager take milliseconds between them; the
// model takes them at once, in order).
func (e *Engine) fluxDone(j *Job, now float64) {
	for _, k := range [...]RecKind{RecFinish, RecRelease, RecFree, RecClean} {
		e.recordJob(now, k, j)
	}
}

// fluxSubmitted records the ingest of job j: submit, validate (the
// ingest validator accepts it), depend (no dependencies) and priority
// (the default priority plugin: priority = urgency), at once.
// The submit record's message is the job's request (RequestText), so
// that the event trace alone says what each job asked for.
func (e *Engine) fluxSubmitted(j *Job, now float64) {
	if !e.recording() {
		return
	}
	e.emit(Record{T: now, Kind: RecSubmit, Job: j.ID, Pod: -1, Node: -1, Msg: j.Flux.RequestText()}, nil, j, nil)
	for _, k := range [...]RecKind{RecValidate, RecDepend} {
		e.recordJob(now, k, j)
	}
	e.emit(Record{T: now, Kind: RecPriority, Job: j.ID, Pod: -1, Node: -1, Msg: fmt.Sprintf("priority=%d", j.Flux.Urgency)}, nil, j, nil)
}

// RequestText is the request as the submit record of events.jsonl gives
// it: "nodes=N tasks=T cores-per-task=C gpus-per-task=G walltime=W", and
// " exclusive" for whole nodes (traces reads it back).
func (f *FluxSpec) RequestText() string {
	s := fmt.Sprintf("nodes=%d tasks=%d cores-per-task=%d gpus-per-task=%d walltime=%s", f.Nodes, f.Slots, f.CoresPerSlot, f.GPUsPerSlot, strconv.FormatFloat(f.Walltime, 'g', -1, 64))
	if f.Exclusive {
		s += " exclusive"
	}
	return s
}

// stale reports an event that something before it made moot: the
// finish of a pod killed at its job's time limit, or the expiration of
// a job that has ended.
func (e *Engine) stale(it item) bool {
	switch it.kind {
	case evFinish:
		return it.tag == 0 && e.pods[it.id].Phase != PodRunning
	case evFluxFinish:
		for _, p := range e.jobs[it.id].Pods {
			if p.Phase == PodRunning {
				return false
			}
		}
		return true
	case evAgent:
		return it.agent == shellSlot && it.sub == sExpire && IsSet(e.jobs[it.id].Finished)
	}
	return false
}

// DefaultShellStart is the job shell's start-up fitted to the exec
// eventlogs of flux-jobspec-and-events.json (init → shell.start of AMG
// runs on 4–256 nodes on three clouds, a line through each size's
// median; scenarios/calibrate FitShellStart, docs/validation.md "Flux
// job shell start-up"). The eventlogs start at exec's init, so the
// job-manager's alloc → exec hand-off is not in it.
func DefaultShellStart() ShellStart { return ShellStart{Base: 0.0501, PerNode: 0.000843} }

// nodeUpDown applies NodeUp and NodeDown.
func (e *Engine) nodeUpDown(d *Decision, now float64) error {
	n := d.Node
	if n == nil || n.Index < 0 || n.Index >= len(e.cluster.Nodes) || e.cluster.Nodes[n.Index] != n {
		return fmt.Errorf("engine: invariant violated: policy %s changed a node that is not in the cluster", e.policy.Name())
	}
	if d.Kind == NodeUp {
		if h := d.Host; h != nil && (h == n || h.Host != nil || e.cluster.Nodes[h.Index] != h) {
			return fmt.Errorf("engine: invariant violated: policy %s put node %s on host %s, which is not a machine of the cluster", e.policy.Name(), n.Name, h.Name)
		}
		n.Host, n.Unschedulable = d.Host, false
	} else {
		n.Unschedulable = true
	}
	e.progress(now)
	e.notify(Event{Kind: NodeChanged, Node: n}, now)
	return nil
}

// stop ends running job j now (flux cancel; a nested cluster's bring-up
// job released): its running pods finish.
func (e *Engine) stop(j *Job, reason string, now float64) error {
	if j == nil || IsSet(j.Finished) || j.rejected {
		return fmt.Errorf("engine: invariant violated: policy %s stopped job %s, which is not running", e.policy.Name(), jobName(j))
	}
	for _, p := range j.Pods {
		if p.Phase == PodPending && p.Node != nil && j.Flux == nil {
			return fmt.Errorf("engine: invariant violated: policy %s stopped job %s while its pod %s is starting on %s", e.policy.Name(), j.Name, p.Name, p.Node.Name)
		}
	}
	e.kill(j, "cancel", reason, now)
	return e.err
}
