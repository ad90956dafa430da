package scenarios

import (
	"fmt"
	"maps"
	"slices"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/workloads/apps"
	"github.com/convergesim/converge/workloads/learn"
	"github.com/convergesim/converge/workloads/workflow"
)

// WorkflowSpec is a workflow: stages of runs of a workload, and the
// learning service they post to.
type WorkflowSpec struct {
	Name string `yaml:"name"`
	// At is when its first stages start (seconds).
	At      float64      `yaml:"at"`
	Service *ServiceSpec `yaml:"service"`
	Stages  []StageSpec  `yaml:"stages"`
}

// ServiceSpec is a learning service (the workflow's model server).
type ServiceSpec struct {
	Name string `yaml:"name"`
	// Models are the online regressors it trains (workloads/learn);
	// default: the lammps-stream-ml server's three, with the
	// parameters it stored.
	Models []ModelSpec `yaml:"models"`
	// ServiceTime is the seconds one request takes (learn or predict).
	ServiceTime float64 `yaml:"serviceTime"`
}

// ModelSpec is one model of the service and its parameters.
type ModelSpec struct {
	Model  string             `yaml:"model"`
	Params map[string]float64 `yaml:"params"`
}

// StageSpec is a loop of runs of a workload, one after another.
type StageSpec struct {
	Name string `yaml:"name"`
	// After names the stages that must finish first (earlier stages of
	// the same workflow).
	After []string `yaml:"after"`
	// Workload is the workload each run copies (its count and arrival
	// are not used: the workflow submits its runs).
	Workload string `yaml:"workload"`
	Runs     int    `yaml:"runs"`
	// Size is, per dimension of the app's size (lammps: x, y, z), the
	// range [lo, hi] each run draws uniformly.
	Size [][2]int `yaml:"size"`
	// Learn posts each finished run to the service; Predict asks it for
	// each run's wall time and scores the answers.
	Learn   bool `yaml:"learn"`
	Predict bool `yaml:"predict"`
}

// inWorkflow reports whether workload name is run by a workflow (and
// so not submitted on its own).
func (sc *Scenario) inWorkflow(name string) bool {
	for _, wf := range sc.Workflows {
		for _, st := range wf.Stages {
			if st.Workload == name {
				return true
			}
		}
	}
	return false
}

func (ss *ServiceSpec) specs() []learn.Spec {
	if len(ss.Models) == 0 {
		return learn.WorkflowSpecs()
	}
	out := make([]learn.Spec, len(ss.Models))
	for i, m := range ss.Models {
		out[i] = learn.Spec{Model: m.Model, Params: m.Params}
	}
	return out
}

// workflows checks the workflows block.
func (v *validator) workflows(sc *Scenario) error {
	names := map[string]bool{}
	for i := range sc.Workflows {
		wf := &sc.Workflows[i]
		p := fmt.Sprintf("workflows[%d]", i)
		switch {
		case wf.Name == "":
			return v.errf(p+".name", "required")
		case names[wf.Name]:
			return v.errf(p+".name", "duplicate workflow name %s", quote(wf.Name))
		case len(wf.Stages) == 0:
			return v.errf(p+".stages", "at least one stage is required")
		}
		names[wf.Name] = true
		if err := v.duration(p+".at", wf.At); err != nil {
			return err
		}
		stages := map[string]int{}
		dim := 0
		for k := range wf.Stages {
			st := &wf.Stages[k]
			sp := fmt.Sprintf("%s.stages[%d]", p, k)
			if st.Name == "" {
				return v.errf(sp+".name", "required")
			}
			if _, dup := stages[st.Name]; dup {
				return v.errf(sp+".name", "duplicate stage name %s", quote(st.Name))
			}
			for j, a := range st.After {
				if _, ok := stages[a]; !ok {
					return v.errf(fmt.Sprintf("%s.after[%d]", sp, j), "%s is not an earlier stage of this workflow", quote(a))
				}
			}
			stages[st.Name] = k
			w := sc.workload(st.Workload)
			if w == nil {
				return v.errf(sp+".workload", "%s is not a workload of the scenario", quote(st.Workload))
			}
			if len(w.Runtimes) > 1 {
				return v.errf(sp+".workload", "%s runs in %d runtimes; a workflow's runs run in one", quote(st.Workload), len(w.Runtimes))
			}
			if st.Runs < 1 || st.Runs > 1_000_000 {
				return v.errf(sp+".runs", "must be between 1 and 1000000, got %d", st.Runs)
			}
			if st.Learn && st.Predict {
				return v.errf(sp+".predict", "a stage either learns or predicts, not both")
			}
			if (st.Learn || st.Predict) && wf.Service == nil {
				return v.errf(p+".service", "required: stage %s posts to the workflow's service", quote(st.Name))
			}
			if len(st.Size) > 0 {
				var sized apps.Sized
				if w.App != nil {
					sized, _ = w.App.Job.(apps.Sized)
				}
				if sized == nil {
					return v.errf(sp+".size", "workload %s's app has no size to vary (lammps has x, y, z)", quote(st.Workload))
				}
				if want := len(sized.SizeNames()); len(st.Size) != want {
					return v.errf(sp+".size", "%d ranges for the %d dimensions of %s's size (%v)", len(st.Size), want, w.App.Model, sized.SizeNames())
				}
				for d, r := range st.Size {
					if r[0] < 1 || r[1] < r[0] || r[1] > apps.MaxSize {
						return v.errf(fmt.Sprintf("%s.size[%d]", sp, d), "[%d, %d] must be a range of sizes between 1 and %d", r[0], r[1], apps.MaxSize)
					}
				}
			}
			if (st.Learn || st.Predict) && len(st.Size) == 0 {
				return v.errf(sp+".size", "required: the service learns wall times from run sizes")
			}
			dim = max(dim, len(st.Size))
		}
		if s := wf.Service; s != nil {
			if err := v.duration(p+".service.serviceTime", s.ServiceTime); err != nil {
				return err
			}
			for j, m := range s.specs() {
				if _, err := learn.New(m, max(dim, 1)); err != nil {
					return v.errf(fmt.Sprintf("%s.service.models[%d]", p, j), "%s (valid models: %v)", short(err), learn.Names())
				}
			}
		}
	}
	return nil
}

// workload is the named workload (nil if none).
func (sc *Scenario) workload(name string) *Workload {
	if i := sc.workloadIndex(name); i >= 0 {
		return &sc.Workloads[i]
	}
	return nil
}

// workloadIndex is the named workload's index (−1 if none).
func (sc *Scenario) workloadIndex(name string) int {
	return slices.IndexFunc(sc.Workloads, func(w Workload) bool { return w.Name == name })
}

// startWorkflows builds the workflows' runs and starts the driver.
func (sc *Scenario) startWorkflows(e *engine.Engine) error {
	if len(sc.Workflows) == 0 {
		return nil
	}
	batch := e.Streams().Get("workflow.jobs")
	wfs := make([]workflow.Workflow, len(sc.Workflows))
	for i := range sc.Workflows {
		ws := &sc.Workflows[i]
		wf := workflow.Workflow{Name: ws.Name, At: ws.At}
		if s := ws.Service; s != nil {
			wf.Service = &workflow.Service{Name: s.Name, Models: s.specs(), ServiceTime: s.ServiceTime}
		}
		idx := map[string]int{}
		for k := range ws.Stages {
			st := &ws.Stages[k]
			idx[st.Name] = k
			var after []int
			for _, a := range st.After {
				after = append(after, idx[a])
			}
			wi := sc.workloadIndex(st.Workload)
			w := &sc.Workloads[wi]
			rt := ""
			if len(w.Runtimes) == 1 {
				rt = w.Runtimes[0]
			}
			prefix := ws.Name + "-" + st.Name
			wf.Stages = append(wf.Stages, workflow.Stage{
				Name: st.Name, After: after, Runs: st.Runs, Size: st.Size, Learn: st.Learn, Predict: st.Predict,
				NewJob: func(size []int, k int) (*engine.Job, error) {
					tmpl := w.template()
					j := &engine.Job{Name: fmt.Sprintf("%s-%d", prefix, k), Workload: w.Name, Runtime: rt, Template: tmpl}
					setSize(w, j)
					if w.Kind == "FluxJob" {
						j.Flux = w.fluxSpec(batch)
					}
					if w.App != nil {
						m := sc.runModel(wi, rt, tmpl)
						if len(size) > 0 {
							ar := m.(*appRun)
							spec := *ar.spec
							shape, err := spec.Job.(apps.Sized).WithSize(size)
							if err != nil {
								return nil, err
							}
							spec.Job = shape
							ar.spec = &spec
						}
						j.RunModel = m
					}
					return j, nil
				},
			})
		}
		wfs[i] = wf
	}
	d, err := workflow.Start(e, wfs, e.Streams().Get("workflow"))
	if err != nil {
		return err
	}
	sc.driver = d
	return nil
}

// WorkflowErr is the workflows' failure during the run, if any.
func (sc *Scenario) WorkflowErr() error {
	if sc.driver == nil {
		return nil
	}
	return sc.driver.Err()
}

// WorkflowSamples returns what workflow i posted to its service (size,
// wall time), in order; nil before a run.
func (sc *Scenario) WorkflowSamples(i int) []learn.Sample {
	if sc.driver == nil {
		return nil
	}
	return sc.driver.Samples(i)
}

// WorkflowReport is what the workflows did, for the report.
func (sc *Scenario) WorkflowReport() []report.Workflow {
	if sc.driver == nil {
		return nil
	}
	var out []report.Workflow
	for _, r := range sc.driver.Results() {
		w := report.Workflow{Name: r.Name, Start: r.Start, End: r.End, Done: r.Done}
		for _, s := range r.Stages {
			w.Stages = append(w.Stages, report.WorkflowStage{Name: s.Name, Runs: s.Runs, Failed: s.Failed, WallMean: s.WallMean})
		}
		for _, m := range r.Models {
			params := ""
			for _, k := range slices.Sorted(maps.Keys(m.Spec.Params)) {
				params += fmt.Sprintf(" %s=%g", k, m.Spec.Params[k])
			}
			var preds []report.Prediction
			for _, p := range m.Pairs {
				preds = append(preds, report.Prediction{Actual: p[0], Predicted: p[1]})
			}
			w.Models = append(w.Models, report.WorkflowModel{Name: m.Name, Params: params,
				Train:       report.Regression{N: m.Train.N, R2: m.Train.R2, MAE: m.Train.MAE, RMSE: m.Train.RMSE},
				Test:        report.Regression{N: m.Test.N, R2: m.Test.R2, MAE: m.Test.MAE, RMSE: m.Test.RMSE},
				Predictions: preds})
		}
		out = append(out, w)
	}
	return out
}
