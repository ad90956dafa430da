package engine

import (
	"fmt"
	"math"
	"slices"
)

// RunModel prices a job whose pods run as one program: an MPI launcher
// (mpirun under the MPI Operator, the Flux broker of a MiniCluster)
// starts its ranks only once every worker pod is up, and all of them
// end together. The engine asks it for the run time once the last of
// the job's pods has started its containers, with the placement the
// scheduler actually made. Pods that start earlier hold their node and
// wait, as real workers do.
//
// The engine does not know what runs; the composition root wires a
// model of the application (workloads/apps) priced on the job's
// runtime (network) behind this interface.
type RunModel interface {
	RunTime(pl []NodeShare) (RunResult, error)
}

// NodeShare is one node of a job's placement and how many of the job's
// pods it holds. A Flux shell created with R (Pod.Tasks) counts as its
// task slots: a model prices ranks per pod, and each slot is a pod's
// worth of ranks, as if each had its own holder.
type NodeShare struct {
	Node *Node
	Pods int
}

// RunResult is a RunModel's answer: the run time and its phases (for
// the report; they need not add up to Seconds when phases overlap).
// Launch and Shutdown are the parts of Seconds before the application
// starts and after it ends (a launcher's bootstrap; 0 without one): the
// engine copies them to the job (Job.AppStarted, Job.AppFinished).
type RunResult struct {
	Seconds          float64
	Phases           []Phase
	Launch, Shutdown float64
}

// Phase is one named part of a run.
type Phase struct {
	Name    string
	Seconds float64
}

// Placement returns the nodes the job's pods are assigned to, in node
// order, with the number of pods on each; an operator's launcher pod,
// which runs no ranks, is not in it.
func (j *Job) Placement() []NodeShare {
	var out []NodeShare
	for _, p := range j.Pods {
		if p.Node == nil || p.Phase == PodSucceeded || p.Launcher {
			continue
		}
		w := max(p.Tasks, 1)
		i, found := slices.BinarySearchFunc(out, p.Node.Index, func(s NodeShare, i int) int { return s.Node.Index - i })
		if found {
			out[i].Pods += w
			continue
		}
		out = slices.Insert(out, i, NodeShare{Node: p.Node, Pods: w})
	}
	return out
}

// gangUp is called when one of a RunModel job's pods has started its
// containers; once all have (an operator's launcher pod too), the job
// starts and every pod's finish is
// scheduled at the modelled run time, or, for a ContendedRunModel, at
// the time its progress rate among its neighbours gives (see
// ContendedRunModel).
func (e *Engine) gangUp(p *Pod, now float64) {
	j := p.Job
	j.up++
	if j.up < j.WavePods() {
		e.gangWaiting++
		if j.hasLauncher() && !p.Launcher {
			e.workerUp(j, now)
		}
		return
	}
	e.gangWaiting -= j.up - 1
	pl := j.Placement()
	res, err := j.RunModel.RunTime(pl)
	switch {
	case err != nil:
		e.err = fmt.Errorf("engine: job %s: run model: %w", j.Name, err)
		return
	case !(res.Seconds >= 0) || math.IsInf(res.Seconds, 0):
		e.err = fmt.Errorf("engine: invariant violated: job %s: run model returned run time %v", j.Name, res.Seconds)
		return
	}
	if err := checkLaunch(j, res); err != nil {
		e.err = err
		return
	}
	j.Started = now
	j.Phases = res.Phases
	j.Launch, j.Shutdown = res.Launch, res.Shutdown
	if ok, err := e.contend(j, pl, res, now); err != nil || ok {
		e.err = err
		return
	}
	for _, q := range j.Pods {
		if q.Phase != PodRunning {
			continue
		}
		q.RunTime = res.Seconds
		e.push(item{t: now + res.Seconds, kind: evFinish, id: int32(q.ID)})
	}
}
