package engine

import (
	"fmt"
	"math"
)

// Operator is the controller that creates a job's pods when it is not
// the Job controller: the MPI Operator's MPIJob controller or the
// Kubeflow training-operator. It creates every worker of the job once,
// each at its own offset after the job's submission (the operator's API
// calls through its client limiter), and, for an MPIJob, one extra pod
// that runs no ranks (the launcher, running mpirun).
//
// The extra pod is part of the job's gate: the program starts when every
// worker and the launcher run. It holds its node until the job ends and
// finishes with it; it is not in the job's Placement (the run model
// prices the workers' placement) and does not count toward completions;
// the job is complete when all its pods have finished.
//
// Pods are named as mpi-operator names them: <job>-worker-<i> and
// <job>-launcher (with Master, <job>-master-0 then <job>-worker-<i−1>,
// as the training-operator names a PyTorchJob's replicas).
type Operator struct {
	// Created is each worker's creation offset after the job's
	// submission, seconds, in index order: Completions of them.
	Created []float64
	// Master names the first pod <job>-master-0 (a PyTorchJob's master)
	// and the others <job>-worker-<i−1>.
	Master bool
	// Launcher is the extra pod (nil: none).
	Launcher *LauncherPod
}

// LauncherCreation is when an operator creates its extra pod (the MPI
// Operator's spec.launcherCreationPolicy).
type LauncherCreation uint8

// Launcher creation policies.
const (
	// LaunchAtStartup: at LauncherPod.After seconds after the job's
	// submission, whatever its workers do (upstream's default).
	LaunchAtStartup LauncherCreation = iota
	// LaunchWaitForWorkersReady: LauncherPod.After seconds after the
	// last worker runs.
	LaunchWaitForWorkersReady
)

func (c LauncherCreation) String() string {
	switch c {
	case LaunchAtStartup:
		return "AtStartup"
	case LaunchWaitForWorkersReady:
		return "WaitForWorkersReady"
	}
	return fmt.Sprintf("LauncherCreation(%d)", uint8(c))
}

// LauncherPod is an operator's extra pod: its own template (an MPIJob's
// launcher tolerates the launcher nodes' taint and selects them when a
// cluster has some) and when it is created. The operator creates a
// batch Job (mpi-operator's launcher Job), whose pod the Job controller
// then creates through its client limiter, after the create latency.
type LauncherPod struct {
	Template *PodTemplate
	Creation LauncherCreation
	// After is the launcher Job's creation: seconds after the job's
	// submission (LaunchAtStartup) or after its last worker runs
	// (LaunchWaitForWorkersReady).
	After float64
}

// The evPodCreate tags of an operator's extra pod: the operator created
// its launcher Job (launcherJobIndex), the Job controller created the
// pod (launcherIndex).
const (
	launcherIndex    = -1
	launcherJobIndex = -2
)

// hasLauncher reports whether the job has an operator's extra pod.
func (j *Job) hasLauncher() bool { return j.Operator != nil && j.Operator.Launcher != nil }

// WavePods is the number of pods the job's first wave needs:
// min(parallelism, completions), plus the operator's extra pod.
func (j *Job) WavePods() int {
	k := min(j.Parallelism, j.Completions)
	if j.hasLauncher() {
		k++
	}
	return k
}

// PodsWanted is the number of pods the job creates when nothing fails:
// its completions, plus an operator's launcher pod.
func (j *Job) PodsWanted() int {
	if j.hasLauncher() {
		return j.Completions + 1
	}
	return j.Completions
}

// AppStarted is when a RunModel job's application started: the gate
// (Started) plus the launcher's time before it (Launch). NaN if the job
// never started its program or has no RunModel.
func (j *Job) AppStarted() float64 {
	if j.RunModel == nil {
		return Unset
	}
	return j.Started + j.Launch
}

// AppFinished is when a RunModel job's application ended: the job's
// completion less the launcher's time after it (Shutdown). NaN if the
// job never finished or never started its program, or has no RunModel.
func (j *Job) AppFinished() float64 {
	if j.RunModel == nil || !IsSet(j.Started) {
		return Unset
	}
	return j.Finished - j.Shutdown
}

// checkOperator validates an operator job at Submit.
func checkOperator(j *Job) error {
	op := j.Operator
	if j.Kind == KindPod {
		return fmt.Errorf("engine: job %s: a bare pod has no operator", j.Name)
	}
	if j.Parallelism != j.Completions {
		return fmt.Errorf("engine: job %s: an operator creates every replica, so parallelism (%d) must equal completions (%d)", j.Name, j.Parallelism, j.Completions)
	}
	if len(op.Created) != j.Completions {
		return fmt.Errorf("engine: job %s: the operator gives %d creation offsets for %d completions", j.Name, len(op.Created), j.Completions)
	}
	for i, t := range op.Created {
		if !(t >= 0) || math.IsInf(t, 0) {
			return fmt.Errorf("engine: job %s: worker %d's creation offset %v is not a finite time ≥ 0", j.Name, i, t)
		}
	}
	l := op.Launcher
	if l == nil {
		return nil
	}
	switch {
	case j.RunModel == nil:
		return fmt.Errorf("engine: job %s: an operator's launcher pod gates a program: the job needs a run model", j.Name)
	case l.Template == nil:
		return fmt.Errorf("engine: job %s: the launcher pod has no template", j.Name)
	case !(l.After >= 0) || math.IsInf(l.After, 0):
		return fmt.Errorf("engine: job %s: the launcher pod's creation offset %v is not a finite time ≥ 0", j.Name, l.After)
	case l.Creation != LaunchAtStartup && l.Creation != LaunchWaitForWorkersReady:
		return fmt.Errorf("engine: job %s: unknown launcher creation policy %v", j.Name, l.Creation)
	}
	return nil
}

// operatorSync is the operator's sync of a new job: every worker is
// created at its offset after the submission, and the launcher Job too
// with LaunchAtStartup.
func (e *Engine) operatorSync(j *Job, now float64) {
	if j.opSynced {
		return
	}
	j.opSynced = true
	op := j.Operator
	for i, t := range op.Created {
		j.active++
		j.nextIndex++
		e.push(item{t: now + t, kind: evPodCreate, id: int32(j.ID), tag: int64(i)})
	}
	if l := op.Launcher; l != nil && l.Creation == LaunchAtStartup {
		e.createLauncherAt(j, now+l.After)
	}
}

// createLauncherAt schedules the operator's creation of the launcher
// Job at time at.
func (e *Engine) createLauncherAt(j *Job, at float64) {
	j.active++
	j.launcherCreating = true
	e.push(item{t: at, kind: evPodCreate, id: int32(j.ID), tag: launcherJobIndex})
}

// launcherJobCreated: the Job controller sees the launcher Job and
// creates its one pod through its client limiter.
func (e *Engine) launcherJobCreated(j *Job, now float64) {
	if j.rejected {
		j.active--
		return
	}
	wait := e.jobClient.Reserve(now)
	e.push(item{t: now + wait + Sample(e.cfg.Controllers.CreateLatency, e.rControllers), kind: evPodCreate, id: int32(j.ID), tag: launcherIndex})
}

// workerUp is called when a worker of a job with a
// LaunchWaitForWorkersReady launcher has started its containers: once
// every worker runs, the operator creates the launcher Job After
// seconds later (and the Job controller its pod).
func (e *Engine) workerUp(j *Job, now float64) {
	l := j.Operator.Launcher
	if l.Creation != LaunchWaitForWorkersReady || j.launcherCreating || j.up != j.Completions {
		return
	}
	e.createLauncherAt(j, now+l.After)
}

// operatorPodName is the name of pod index of an operator job.
func operatorPodName(j *Job, index int) string {
	switch {
	case index == launcherIndex:
		return j.Name + "-launcher"
	case j.Operator.Master && index == 0:
		return j.Name + "-master-0"
	case j.Operator.Master:
		return fmt.Sprintf("%s-worker-%d", j.Name, index-1)
	}
	return fmt.Sprintf("%s-worker-%d", j.Name, index)
}

// checkLaunch checks the launcher's share of a run result.
func checkLaunch(j *Job, res RunResult) error {
	if !(res.Launch >= 0) || !(res.Shutdown >= 0) || math.IsInf(res.Launch, 0) || math.IsInf(res.Shutdown, 0) || res.Launch+res.Shutdown > res.Seconds*(1+1e-12) {
		return fmt.Errorf("engine: invariant violated: job %s: run model returned launch %v s and shutdown %v s in a run of %v s", j.Name, res.Launch, res.Shutdown, res.Seconds)
	}
	return nil
}
