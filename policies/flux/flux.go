// Package flux models Flux scheduling batch jobs on bare metal:
// Fluxion's queue manager (sched-fluxion-qmanager: fcfs, easy, hybrid,
// conservative) over Fluxion's resource graph matcher
// (policies/fluxion). Behaviour follows flux-sched's qmanager
// (qmanager/policies/queue_policy_fcfs_impl.hpp,
// queue_policy_bf_base_impl.hpp, qmanager_callbacks.cpp) as
// ../shared/reference/kube-and-fluxion-semantics.md §4.8 describes it:
//
//   - Pending jobs are ordered by priority (higher first), then submit
//     time, then submission order. flux-core's default priority is the
//     urgency (16).
//   - The scheduling loop runs when the queue is marked schedulable: a
//     job was submitted, resources were freed, a job was cancelled or
//     rejected, or the resources changed; and again after a loop that
//     reached queue-depth and made progress.
//   - fcfs walks the queue and stops at the first job that cannot be
//     allocated now (head-of-line blocking); an unsatisfiable job is
//     rejected.
//   - easy, hybrid and conservative cancel every reservation of the
//     previous loop, then walk up to queue-depth jobs in order: while
//     fewer than reservation-depth jobs hold a reservation, a job is
//     matched with allocate_orelse_reserve (allocated now, or reserved
//     at the earliest time its request fits among the running jobs'
//     and the earlier reservations' spans), else allocate now or skip.
//     Spans last the requested walltime, not the actual run time, so a
//     backfilled job cannot delay a reservation made before it in the
//     same loop. A job that can be neither allocated nor reserved is
//     blocked until the resources change.
//   - Jobs run until their tasks end or R expires (alloc + walltime),
//     when job-exec kills them with a timeout exception (the engine).
package flux

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies/fluxion/jobspec"
	fxmatch "github.com/convergesim/converge/policies/fluxion/match"
)

// Policy is Flux's scheduler: the queue manager and the resource
// module over one Fluxion matcher.
type Policy struct {
	cfg    Config
	rdepth int
	res    resources
	err    error

	jobs     []*job // by engine job id (nil: not a Flux job seen)
	pending  []*job // in queue order
	blocked  []*job // EBUSY while reserving: until the resources change
	reserved []*job // holding a reservation made in the last loop
	seq      uint64

	schedulable bool
	// still: nothing the last loop's answers depend on has changed since
	// it ended (no allocation in it, no free, no cancel, no resource
	// change, no job put ahead of those it walked), so its reservations
	// and refusals stand and a new loop goes on where it stopped:
	// walkI, walkProcessed and walkRes are where and with what counts.
	still bool
	// first: the match policy stops at the first match and walks
	// children by edge weights, which every allocation and reservation
	// sets from the availability at the time of the loop. A loop that
	// changed no weight leaves the next one the weights it started
	// with, so remaking its reservations would repeat it exactly
	// (wStable); after a loop that changed weights, the next remakes
	// everything, as qmanager does, since its searches may now pick
	// other nodes.
	first                       bool
	wStable                     bool
	walkI, walkProcessed, walkR int
	nodes                       []*engine.Node
	shapes                      map[shape]*shapeInfo

	// refused are the whole-node requests refused since resources were
	// last freed (only more is held until then).
	refused []refusal

	// Loops counts scheduling loops, Matches the matcher's match calls
	// and Skipped the requests an earlier refusal answered (benchmarks,
	// tests).
	Loops, Matches, Skipped int
}

// job is the queue manager's view of a Flux job.
type job struct {
	j      *engine.Job
	prio   int64
	submit float64
	seq    uint64
	shape  *shapeInfo
	js     jobspec.Jobspec
	id     uint64 // the matcher's job id
	// reservedAt is the start time of the job's reservation in the last
	// loop (−1: none), so that a Reserved record is written only when
	// the reservation moves (Fluxion's t_estimate annotation).
	reservedAt int64
	left       int  // pods not yet finished (running jobs)
	running    bool // allocated in the matcher
}

// shape is a jobspec without its duration: jobs of one shape share
// their parsed jobspec and their satisfiability.
type shape struct {
	nodes, slots, cores, gpus int
	exclusive                 bool
}

type shapeInfo struct {
	key         shape
	js          *jobspec.Jobspec
	satisfiable int8 // 0 unknown, 1 yes, −1 no
	why         error
}

// New returns Flux with configuration cfg.
func New(cfg Config) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("flux: %w", err)
	}
	mp, _ := fxmatch.ParseMatchPolicy(cfg.MatchPolicy) // checked by Validate
	return &Policy{cfg: cfg, rdepth: cfg.reservationDepth(), shapes: map[shape]*shapeInfo{}, first: mp.First}, nil
}

// Name implements engine.Policy.
func (p *Policy) Name() string { return "flux" }

// Decide implements engine.Policy.
func (p *Policy) Decide(now float64, events []engine.Event, c *engine.Cluster, out []engine.Decision) []engine.Decision {
	if p.res == nil && p.err == nil {
		p.nodes = c.Nodes
		p.res, p.err = openResources(p.cfg, c.Nodes)
	}
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case engine.JobArrived:
			out = p.arrived(ev.Job, now, out)
		case engine.PodDeleted:
			p.deleted(ev.Pod, now)
		case engine.NodeChanged:
			p.resourcesChanged()
		}
	}
	if p.schedulable {
		out = p.loop(now, out)
	}
	return out
}

func (p *Policy) arrived(j *engine.Job, now float64, out []engine.Decision) []engine.Decision {
	if j.Flux == nil {
		return append(out, engine.Decision{Kind: engine.Reject, Job: j, Reason: fmt.Sprintf("flux: %s %s is not a Flux job (kind FluxJob); Flux on bare metal runs no Kubernetes workloads", j.Kind, j.Name)})
	}
	if p.err != nil {
		return append(out, engine.Decision{Kind: engine.Reject, Job: j, Reason: p.err.Error()})
	}
	f := j.Flux
	k := shape{nodes: f.Nodes, slots: f.Slots, cores: f.CoresPerSlot, gpus: f.GPUsPerSlot, exclusive: f.Exclusive}
	si := p.shapes[k]
	if si == nil {
		js, err := jobspec.ParseJobspec(jobspecText(k, 0), "jobspec")
		if err != nil {
			return append(out, engine.Decision{Kind: engine.Reject, Job: j, Reason: fmt.Sprintf("flux: jobspec: %v", err)})
		}
		si = &shapeInfo{key: k, js: js}
		p.shapes[k] = si
	}
	if si.satisfiable == 0 {
		// flux-core's feasibility validator asks the scheduler at
		// submission whether the request could ever be met.
		if err := p.res.satisfiable(si); err != nil {
			si.satisfiable = -1
			si.why = err
		} else {
			si.satisfiable = 1
		}
	}
	if si.satisfiable < 0 {
		return append(out, engine.Decision{Kind: engine.Reject, Job: j, Reason: fmt.Sprintf("unsatisfiable request: %v", si.why)})
	}
	jb := &job{j: j, prio: int64(f.Urgency), submit: now, seq: p.seq, shape: si, js: *si.js, id: uint64(j.ID) + 1, reservedAt: -1}
	p.seq++
	// The duration is the walltime, rounded up as Fluxion does.
	jb.js.Duration = f.Walltime
	jb.js.DurationSeconds = int64(math.Ceil(f.Walltime))
	for len(p.jobs) <= j.ID {
		p.jobs = append(p.jobs, nil)
	}
	p.jobs[j.ID] = jb
	p.insert(jb)
	p.schedulable = true
	return out
}

// before is the pending order: higher priority, earlier submit, earlier
// submission.
func before(a, b *job) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if a.submit != b.submit {
		return a.submit < b.submit
	}
	return a.seq < b.seq
}

// insert puts jb into the pending queue in order (at the end in the
// common case of equal priorities).
func (p *Policy) insert(jb *job) {
	i := len(p.pending)
	for i > 0 && before(jb, p.pending[i-1]) {
		i--
	}
	if i < p.walkI {
		p.still = false // ahead of jobs the last loop walked
	}
	p.pending = slices.Insert(p.pending, i, jb)
}

// deleted: a pod of a running job finished; when the last has, its
// resources go back to the scheduler (free) and the queue is
// schedulable.
func (p *Policy) deleted(pod *engine.Pod, now float64) {
	if pod == nil || pod.Job.ID >= len(p.jobs) {
		return
	}
	jb := p.jobs[pod.Job.ID]
	if jb == nil || !jb.running {
		return
	}
	jb.left--
	if jb.left > 0 {
		return
	}
	jb.running = false
	if err := p.res.cancel(jb.id); err != nil && p.err == nil {
		p.err = fmt.Errorf("flux: freeing job %s: %w", jb.j.Name, err)
	}
	p.jobs[pod.Job.ID] = nil
	p.freed()
}

// freed: resources came back (or changed), so the queue is schedulable
// and no earlier answer stands.
func (p *Policy) freed() {
	p.schedulable = true
	p.still = false
	p.refused = p.refused[:0]
}

// resourcesChanged unblocks the blocked jobs.
func (p *Policy) resourcesChanged() {
	for _, jb := range p.blocked {
		p.insert(jb)
	}
	p.blocked = p.blocked[:0]
	p.freed()
}

// loop is one scheduling pass (and the re-runs it asks for).
func (p *Policy) loop(now float64, out []engine.Decision) []engine.Decision {
	p.schedulable = false
	t := int64(math.Floor(now))
	if p.cfg.QueuePolicy == FCFS {
		return p.fcfs(t, now, out)
	}
	for {
		p.Loops++
		i, processed, reservations := 0, 0, 0
		if p.still && p.res.keeps() && !p.cfg.recompute && (!p.first || p.wStable) {
			// Nothing the last loop saw has changed: walking its jobs
			// again would give the same answers (a job refused now
			// stays refused while nothing frees; the reservations,
			// made against the same spans and, under first, from the
			// same edge weights, come out the same). Go on with the
			// jobs submitted since.
			i, processed, reservations = p.walkI, p.walkProcessed, p.walkR
		} else {
			p.cancelReservations()
		}
		w0, wOK := p.res.weightEpoch()
		scheduled := false
		for i < len(p.pending) && processed < p.cfg.QueueDepth {
			processed++
			jb := p.pending[i]
			reserve := reservations < p.rdepth
			a, err := p.match(jb, t, reserve)
			switch {
			case err == nil && !a.reserved:
				out = p.allocate(jb, a, now, out)
				p.pending = slices.Delete(p.pending, i, i+1)
				scheduled = true
			case err == nil:
				reservations++
				p.reserved = append(p.reserved, jb)
				if a.at != jb.reservedAt {
					jb.reservedAt = a.at
					out = append(out, engine.Decision{Kind: engine.Reserve, Job: jb.j, Nodes: p.nodesOf(a), At: max(float64(a.at), now)})
				}
				i++
			case errors.Is(err, fxmatch.ErrBusy) && reserve:
				p.blocked = append(p.blocked, jb)
				p.pending = slices.Delete(p.pending, i, i+1)
			case errors.Is(err, fxmatch.ErrBusy):
				i++
			default:
				out = p.reject(jb, err, out)
				p.pending = slices.Delete(p.pending, i, i+1)
			}
		}
		p.still = !scheduled
		w1, _ := p.res.weightEpoch()
		p.wStable = wOK && w1 == w0
		p.walkI, p.walkProcessed, p.walkR = i, processed, reservations
		if processed == p.cfg.QueueDepth && i < len(p.pending) && scheduled {
			p.still = false
			continue
		}
		return out
	}
}

// fcfs allocates jobs in queue order until one cannot be allocated now.
// Packing queue-depth jobs per match_multi and looping again while all
// were allocated is the same as walking on until the first EBUSY.
func (p *Policy) fcfs(t int64, now float64, out []engine.Decision) []engine.Decision {
	p.Loops++
	if p.still && p.walkI == 1 && !p.cfg.recompute {
		// The head was refused and nothing has changed since: it still
		// blocks the queue.
		return out
	}
	for len(p.pending) > 0 {
		jb := p.pending[0]
		a, err := p.match(jb, t, false)
		switch {
		case err == nil:
			out = p.allocate(jb, a, now, out)
		case errors.Is(err, fxmatch.ErrBusy):
			p.still, p.walkI = true, 1
			return out // head-of-line blocking
		default:
			out = p.reject(jb, err, out)
		}
		p.pending = p.pending[1:]
	}
	p.pending = nil
	p.still, p.walkI = false, 0
	return out
}

// match asks the resource module for jb at time t: allocate now (with
// satisfiability), or, if reserve, allocate now or else reserve.
func (p *Policy) match(jb *job, t int64, reserve bool) (*match, error) {
	if p.err != nil {
		return nil, fmt.Errorf("%w: %v", fxmatch.ErrUnsatisfiable, p.err)
	}
	si := jb.shape
	f := jb.j.Flux
	whole := f.Exclusive && f.Nodes > 0 && jb.js.DurationSeconds > 0
	if whole && !reserve && si.satisfiable > 0 && !p.cfg.recompute && p.refusedBefore(f.Nodes, jb.js.DurationSeconds) {
		// Whole nodes: a job of at least as many nodes for at least
		// as long was refused since anything was freed, so this one
		// is too (nodes free throughout a longer window are free
		// throughout a shorter one).
		p.Skipped++
		return nil, errRefusedBefore
	}
	p.Matches++
	op := fxmatch.MatchAllocateWithSatisfiability
	switch {
	case reserve:
		op = fxmatch.MatchAllocateOrElseReserve
	case si.satisfiable > 0:
		// Known satisfiable: a failure is EBUSY without searching the
		// empty graph again (satisfiability does not depend on what
		// runs, nor on the nodes' status).
		op = fxmatch.MatchAllocate
	}
	a, err := p.res.match(op, jb, t)
	if whole && !reserve && errors.Is(err, fxmatch.ErrBusy) {
		p.refused = append(p.refused, refusal{f.Nodes, jb.js.DurationSeconds})
	}
	switch {
	case err == nil || errors.Is(err, fxmatch.ErrBusy):
		si.satisfiable = 1
	case errors.Is(err, fxmatch.ErrUnsatisfiable):
		si.satisfiable = -1
	}
	return a, err
}

// errRefusedBefore is the EBUSY of a request a refusal stands for.
var errRefusedBefore = fmt.Errorf("%w: not now (a no smaller request was refused)", fxmatch.ErrBusy)

// refusal is an allocate-now of whole nodes that was refused.
type refusal struct {
	nodes int
	dur   int64
}

// refusedBefore reports whether a request of nodes whole nodes for dur
// seconds is covered by a refusal since resources were last freed.
func (p *Policy) refusedBefore(nodes int, dur int64) bool {
	for _, r := range p.refused {
		if nodes >= r.nodes && dur >= r.dur {
			return true
		}
	}
	return false
}

// cancelReservations drops every reservation of the previous loop.
func (p *Policy) cancelReservations() {
	p.refused = p.refused[:0]
	for _, jb := range p.reserved {
		if err := p.res.cancel(jb.id); err != nil && p.err == nil {
			p.err = fmt.Errorf("flux: cancelling the reservation of job %s: %w", jb.j.Name, err)
		}
	}
	p.reserved = p.reserved[:0]
}

// allocate turns a match into the engine's allocation of jb's shells:
// with a node level, its shells (one a node, created at submission) go to
// R's nodes in order; without one, R's nodes each get a shell of the
// task slots their cores hold, which the engine creates.
func (p *Policy) allocate(jb *job, a *match, now float64, out []engine.Decision) []engine.Decision {
	f := jb.j.Flux
	jb.running = true
	jb.reservedAt = -1
	slots := make([]engine.Slot, 0, len(a.nodes))
	k := 0 // shells placed, or task slots without a node level
	for _, nc := range a.nodes {
		n := p.nodes[nc.node]
		if f.ShellsAtAlloc() {
			if tasks := min(nc.cores/f.CoresPerSlot, f.Slots-k); tasks > 0 {
				slots = append(slots, engine.Slot{Node: n, Tasks: tasks})
				k += tasks
			}
			continue
		}
		if k < len(jb.j.Pods) {
			slots = append(slots, engine.Slot{Pod: jb.j.Pods[k], Node: n})
			k++
		}
	}
	want, what := len(jb.j.Pods), "nodes"
	if f.ShellsAtAlloc() {
		want, what = f.Slots, "task slots"
	}
	if k < want && p.err == nil {
		p.err = fmt.Errorf("flux: job %s: its R holds %d of its %d %s", jb.j.Name, k, want, what)
	}
	jb.left = len(slots)
	exp := 0.0 // unlimited
	if jb.js.DurationSeconds > 0 {
		exp = float64(a.at + a.duration)
	}
	return append(out, engine.Decision{Kind: engine.Allocate, Job: jb.j, Slots: slots, At: exp})
}

func (p *Policy) reject(jb *job, err error, out []engine.Decision) []engine.Decision {
	p.jobs[jb.j.ID] = nil
	p.schedulable = true
	return append(out, engine.Decision{Kind: engine.Reject, Job: jb.j, Reason: fmt.Sprintf("alloc: unsatisfiable request: %v", err)})
}

// nodesOf is the engine nodes of a match.
func (p *Policy) nodesOf(a *match) []*engine.Node {
	out := make([]*engine.Node, len(a.nodes))
	for i, nc := range a.nodes {
		out[i] = p.nodes[nc.node]
	}
	return out
}

// PendingPods implements engine.Pending: the resource holders of the
// jobs that wait.
func (p *Policy) PendingPods() int {
	n := 0
	for _, q := range [2][]*job{p.pending, p.blocked} {
		for _, jb := range q {
			n += len(jb.j.Pods)
		}
	}
	return n
}

// jobspecYAML is the jobspec flux-core builds for a request: flux run
// -N nodes -n slots -c cores -g gpus [--exclusive], or without -N one
// whose slots go anywhere.
func jobspecText(k shape, duration float64) []byte {
	with := fmt.Sprintf("{type: core, count: %d}", k.cores)
	if k.gpus > 0 {
		with += fmt.Sprintf(", {type: gpu, count: %d}", k.gpus)
	}
	res := fmt.Sprintf("{type: slot, count: %d, label: task, with: [%s]}", k.slots, with)
	if k.nodes > 0 {
		excl := ""
		if k.exclusive {
			excl = " exclusive: true,"
		}
		res = fmt.Sprintf("{type: node, count: %d,%s with: [{type: slot, count: %d, label: task, with: [%s]}]}", k.nodes, excl, k.slots/k.nodes, with)
	}
	return fmt.Appendf(nil, "version: 1\nresources: [%s]\ntasks: [{command: [app], slot: task, count: {per_slot: 1}}]\nattributes: {system: {duration: %s}}\n",
		res, strconv.FormatFloat(duration, 'g', -1, 64))
}
