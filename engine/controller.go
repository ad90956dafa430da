package engine

import (
	"fmt"
	"slices"
	"strconv"
)

// The Job controller (kube-controller-manager) and the user's client that
// creates bare pods. The Job controller keeps min(parallelism, completions −
// succeeded) pods active, creating them in slow-start batches of 1, 2, 4, …
// (controller.SlowStartInitialBatchSize = 1), each batch after the previous
// one's creations completed, every create throttled by the controller's
// client rate limiter (QPS 20, burst 30 by default) and capped at 500 per
// sync (MaxPodCreateDeletePerSync).

const maxPodCreatePerSync = 500

func (e *Engine) syncJob(j *Job, now float64) {
	if j.rejected {
		return // the policy gave the job up: nothing more is created
	}
	if j.Operator != nil {
		e.operatorSync(j, now) // launch.go
		return
	}
	if j.Flux != nil {
		// flux-core holds the job; the shells of a job with a node
		// level exist at once (the others come with R: fluxShells).
		if j.nextIndex == 0 && !j.Flux.ShellsAtAlloc() {
			n := j.Flux.Nodes
			j.nextIndex, j.active = n, n
			j.Pods = slices.Grow(j.Pods, n)
			for i := range n {
				e.createPod(j, i, now)
			}
		}
		return
	}
	if j.Kind == KindPod {
		if j.nextIndex == 0 {
			j.nextIndex = 1
			j.active = 1
			wait := e.userClient.Reserve(now)
			e.push(item{t: now + wait + Sample(e.cfg.Controllers.CreateLatency, e.rControllers), kind: evPodCreate, id: int32(j.ID)})
		}
		return
	}
	if j.inBatch > 0 {
		return // the current batch is still being created
	}
	if j.syncQuota == 0 {
		// A new sync: create up to 500 of the pods wanted, in slow-start
		// batches starting again at 1.
		want := min(j.Parallelism, j.Completions-j.succeeded) - j.active
		// Never create more pods than completions still to come.
		want = min(want, j.Completions-j.nextIndex)
		if want <= 0 {
			return
		}
		j.syncQuota = min(want, maxPodCreatePerSync)
		j.batch = 1
	}
	n := min(j.batch, j.syncQuota)
	j.syncQuota -= n
	j.inBatch = n
	for range n {
		wait := e.jobClient.Reserve(now)
		idx := j.nextIndex
		j.nextIndex++
		j.active++
		e.push(item{t: now + wait + Sample(e.cfg.Controllers.CreateLatency, e.rControllers), kind: evPodCreate, id: int32(j.ID), tag: int64(idx)})
	}
	j.batch *= 2
}

// podSlab is the most pods newPod allocates at once.
const podSlab = 1024

// newPod returns a zero pod from a slab: pods live as long as the run (its
// report lists them all), so allocating them up to a thousand at a time
// costs the allocator and the collector a thousandth of the objects. Slabs
// double from 8, so that a small run allocates little more than it uses.
func (e *Engine) newPod() *Pod {
	if len(e.podSlab) == cap(e.podSlab) {
		e.podSlab = make([]Pod, 0, min(max(2*cap(e.podSlab), 8), podSlab))
	}
	e.podSlab = e.podSlab[:len(e.podSlab)+1]
	return &e.podSlab[len(e.podSlab)-1]
}

func (e *Engine) createPod(j *Job, index int, now float64) {
	if index == launcherJobIndex {
		e.launcherJobCreated(j, now) // launch.go
		return
	}
	if j.rejected {
		j.active-- // a creation in flight when the job was rejected
		return
	}
	t := j.Template
	if index == launcherIndex {
		t = j.Operator.Launcher.Template
	}
	// newPod's pod is zero: set the rest field by field (a composite
	// literal would copy the whole struct, write barriers and all).
	p := e.newPod()
	p.ID, p.Job, p.Index, p.Template = len(e.pods), j, index, t
	p.Requests, p.NonZero = t.Requests(), t.NonZeroRequests()
	p.RunTime = Sample(t.RunTime, e.streams.Get("runtime"))
	p.Created = now
	p.Assigned, p.Scheduled, p.Initialized = Unset, Unset, Unset
	p.ContainersStarted, p.Ready, p.Finished = Unset, Unset, Unset
	switch {
	case j.Operator != nil:
		p.Name = operatorPodName(j, index)
		p.Launcher = index == launcherIndex
	case j.Kind == KindPod:
		p.Name = j.Name
	case j.Flux != nil:
		p.Name = j.Name + "-" + strconv.Itoa(index)
		// A shell holds its slots' cores and GPUs, not a pod slot
		// (fluxShells sets those of a shell created with R).
		p.Requests = j.Flux.podRequests(1)
		p.NonZero = p.Requests
		switch {
		case j.Flux.RunTime > 0:
			p.RunTime = j.Flux.RunTime
		case index > 0:
			p.RunTime = j.Pods[0].RunTime // one program: one run time
		}
	default:
		p.Name = fmt.Sprintf("%s-%d", j.Name, index)
	}
	e.pods = append(e.pods, p)
	j.Pods = append(j.Pods, p)
	e.progress(now)
	e.record(now, RecPodCreated, p, nil, "")
	e.notify(Event{Kind: PodCreated, Pod: p}, now)
	if j.Kind != KindPod && j.Operator == nil && j.Flux == nil {
		j.inBatch--
		if j.inBatch == 0 {
			e.syncJob(j, now)
		}
	}
}

func (e *Engine) podSucceeded(p *Pod, now float64) {
	j := p.Job
	j.active--
	if p.Launcher {
		j.launcherDone = true // it counts toward no completion
	} else {
		j.succeeded++
	}
	if j.succeeded == j.Completions && (!j.hasLauncher() || j.launcherDone) {
		j.Finished = now
		e.jobsDone++
		if j.Flux != nil {
			e.fluxDone(j, now)
		} else {
			e.recordJob(now, RecJobComplete, j)
		}
		e.jobDone(j, now)
		return
	}
	if j.Kind != KindPod && j.Operator == nil && j.Flux == nil {
		e.push(item{t: now, kind: evJobSync, id: int32(j.ID)})
	}
}
