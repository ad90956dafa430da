// Package workflow drives workflows through a run: stages of jobs with
// dependencies, each stage a loop of runs one after another whose sizes
// are drawn at random, and a learning service the runs post to — the
// talk's workflow, in which LAMMPS runs on bare metal under Flux feed an
// online model server in Usernetes that learns each run's wall time from
// its size and then predicts the wall times of test runs.
//
// The driver submits each run when the one before it has finished (plus
// the service's response time when the run posts to it), and a stage when
// the stages it comes after have all finished. The service learns with
// the models of workloads/learn, test-then-train on every posted run as
// the django-river-ml server does; a predicting stage asks it for each
// run's wall time before the run and scores the answers against what the
// run took.
package workflow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/workloads/learn"
)

// Stage is one loop of runs.
type Stage struct {
	Name string
	// After are the stages (indexes) that must finish first.
	After []int
	// Runs is how many runs, one after another.
	Runs int
	// Size is the range [lo, hi] of each dimension of a run's size,
	// drawn uniformly (integers) for each run; nil: no size.
	Size [][2]int
	// Learn posts each finished run (size, wall time) to the service;
	// Predict asks the service for each run's wall time instead.
	Learn, Predict bool
	// NewJob builds run k's job with the drawn size.
	NewJob func(size []int, k int) (*engine.Job, error)
}

// Service is a learning service: the models it trains and the time it
// takes to answer one request.
type Service struct {
	Name        string
	Models      []learn.Spec
	ServiceTime float64
}

// Workflow is stages and the service they post to (nil: none).
type Workflow struct {
	Name string
	// At is when the stages that wait for none start.
	At      float64
	Stages  []Stage
	Service *Service
}

// Result is what a workflow did.
type Result struct {
	Name       string
	Start, End float64 // first submission, last finish (NaN if none)
	Done       bool    // every run of every stage finished
	Stages     []StageResult
	Models     []ModelResult
}

// StageResult is one stage's runs.
type StageResult struct {
	Name     string
	Runs     int     // finished
	Failed   int     // rejected, or killed (time limit, cancel)
	WallMean float64 // mean wall time of the finished runs
}

// ModelResult is one model of the service: its test-then-train metrics
// over the posted runs, and its predictions of the predicting stages'
// runs scored against what they took.
type ModelResult struct {
	Name  string
	Spec  learn.Spec
	Train learn.Result
	Test  learn.Result
	// Pairs are the (actual, predicted) wall times Test scores, in the
	// order the runs finished.
	Pairs [][2]float64
}

// Driver runs workflows on an engine.
type Driver struct {
	e   *engine.Engine
	r   *rand.Rand
	wfs []*state
	by  map[*engine.Job]*ref
	err error
}

type state struct {
	wf      *Workflow
	models  []learn.Regressor
	train   []learn.Metrics
	test    []learn.Metrics
	pairs   [][][2]float64 // per model: what test scored
	started []bool
	left    []int // runs left per stage
	next    []int // next run per stage
	stages  []StageResult
	walls   []float64 // Σ wall per stage
	samples []learn.Sample
	start   float64
	end     float64
}

type ref struct {
	s     *state
	stage int
	size  []float64
	preds []float64 // Predict: the service's answers before the run
}

// Start builds the service models and submits the first run of every
// stage that waits for none, at time 0; later runs are submitted as runs
// finish (engine.OnJobDone). r draws the sizes.
func Start(e *engine.Engine, wfs []Workflow, r *rand.Rand) (*Driver, error) {
	d := &Driver{e: e, r: r, by: map[*engine.Job]*ref{}}
	for i := range wfs {
		wf := &wfs[i]
		s := &state{wf: wf, started: make([]bool, len(wf.Stages)), left: make([]int, len(wf.Stages)),
			next: make([]int, len(wf.Stages)), stages: make([]StageResult, len(wf.Stages)), walls: make([]float64, len(wf.Stages)),
			start: math.NaN(), end: math.NaN()}
		for k := range wf.Stages {
			st := &wf.Stages[k]
			if st.Runs < 1 || st.NewJob == nil {
				return nil, fmt.Errorf("workflow %s: stage %s: needs runs and a job", wf.Name, st.Name)
			}
			s.left[k] = st.Runs
			s.stages[k].Name = st.Name
			if (st.Learn || st.Predict) && wf.Service == nil {
				return nil, fmt.Errorf("workflow %s: stage %s posts to a service, and the workflow has none", wf.Name, st.Name)
			}
		}
		if sv := wf.Service; sv != nil {
			dim := 0
			for _, st := range wf.Stages {
				dim = max(dim, len(st.Size))
			}
			if dim == 0 {
				return nil, fmt.Errorf("workflow %s: the service learns from run sizes, and no stage has one", wf.Name)
			}
			for _, sp := range sv.Models {
				m, err := learn.New(sp, dim)
				if err != nil {
					return nil, fmt.Errorf("workflow %s: service %s: %w", wf.Name, sv.Name, err)
				}
				s.models = append(s.models, m)
			}
			s.train = make([]learn.Metrics, len(s.models))
			s.test = make([]learn.Metrics, len(s.models))
			s.pairs = make([][][2]float64, len(s.models))
		}
		d.wfs = append(d.wfs, s)
	}
	e.OnJobDone(d.done)
	for _, s := range d.wfs {
		d.startReady(s, s.wf.At)
	}
	return d, d.err
}

// startReady starts the stages whose predecessors have all finished.
func (d *Driver) startReady(s *state, now float64) {
	for k := range s.wf.Stages {
		if s.started[k] {
			continue
		}
		ready := true
		for _, a := range s.wf.Stages[k].After {
			if s.left[a] > 0 {
				ready = false
			}
		}
		if ready {
			s.started[k] = true
			d.submit(s, k, now)
		}
	}
}

// submit submits the stage's next run at time at.
func (d *Driver) submit(s *state, k int, at float64) {
	if d.err != nil {
		return
	}
	st := &s.wf.Stages[k]
	size := make([]int, len(st.Size))
	x := make([]float64, len(st.Size))
	for i, rg := range st.Size {
		size[i] = rg[0] + d.r.IntN(rg[1]-rg[0]+1)
		x[i] = float64(size[i])
	}
	j, err := st.NewJob(size, s.next[k])
	if err != nil {
		d.fail(fmt.Errorf("workflow %s: stage %s run %d: %w", s.wf.Name, st.Name, s.next[k], err))
		return
	}
	s.next[k]++
	rf := &ref{s: s, stage: k, size: x}
	if st.Predict {
		// The client asks the service before the run.
		for _, m := range s.models {
			p, err := m.Predict(x)
			if err != nil {
				d.fail(fmt.Errorf("workflow %s: %s: predict: %w", s.wf.Name, m.Name(), err))
				return
			}
			rf.preds = append(rf.preds, p)
		}
		at += s.wf.Service.ServiceTime
	}
	d.by[j] = rf
	if math.IsNaN(s.start) {
		s.start = at
	}
	if err := d.e.Submit(at, j); err != nil {
		d.fail(fmt.Errorf("workflow %s: %w", s.wf.Name, err))
	}
}

func (d *Driver) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Err is the first failure of the driver (a job that could not be
// built or submitted, a model that refused its input).
func (d *Driver) Err() error { return d.err }

// done is the engine's job-done hook.
func (d *Driver) done(j *engine.Job, now float64) {
	rf := d.by[j]
	if rf == nil {
		return
	}
	delete(d.by, j)
	s, k := rf.s, rf.stage
	st := &s.wf.Stages[k]
	sr := &s.stages[k]
	next := now
	failed := j.IsRejected() || (j.Flux != nil && j.Flux.Killed())
	if failed {
		sr.Failed++
	} else {
		// The wall time the run reports: LAMMPS prints whole seconds.
		wall := math.Floor(j.Finished - j.Started)
		if !engine.IsSet(j.Started) {
			wall = math.Floor(j.Finished - j.Submitted)
		}
		sr.Runs++
		s.walls[k] += wall
		if st.Learn {
			s.samples = append(s.samples, learn.Sample{X: rf.size, Y: wall})
			for i, m := range s.models {
				// test-then-train, as the server does on learn.
				p, err := m.Predict(rf.size)
				if err == nil && p != 0 {
					s.train[i].Update(wall, p)
				}
				if err == nil {
					err = m.Learn(rf.size, wall)
				}
				if err != nil {
					d.fail(fmt.Errorf("workflow %s: %s: %w", s.wf.Name, m.Name(), err))
				}
			}
			next += s.wf.Service.ServiceTime
		}
		for i, p := range rf.preds {
			s.test[i].Update(wall, p)
			s.pairs[i] = append(s.pairs[i], [2]float64{wall, p})
		}
	}
	s.end = now
	s.left[k]--
	if s.left[k] > 0 {
		d.submit(s, k, next)
		return
	}
	d.startReady(s, next)
}

// Samples returns the (size, wall time) pairs workflow i posted to its
// service, in order.
func (d *Driver) Samples(i int) []learn.Sample { return d.wfs[i].samples }

// Results reports every workflow.
func (d *Driver) Results() []Result {
	out := make([]Result, 0, len(d.wfs))
	for _, s := range d.wfs {
		r := Result{Name: s.wf.Name, Start: s.start, End: s.end, Done: true}
		for k := range s.stages {
			sr := s.stages[k]
			sr.WallMean = math.NaN()
			if sr.Runs > 0 {
				sr.WallMean = s.walls[k] / float64(sr.Runs)
			}
			if s.left[k] > 0 {
				r.Done = false
			}
			r.Stages = append(r.Stages, sr)
		}
		for i, m := range s.models {
			r.Models = append(r.Models, ModelResult{Name: m.Name(), Spec: s.wf.Service.Models[i], Train: s.train[i].Result(), Test: s.test[i].Result(), Pairs: s.pairs[i]})
		}
		out = append(out, r)
	}
	return out
}
