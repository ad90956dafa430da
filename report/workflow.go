package report

import (
	"bytes"
	"fmt"
	"strings"
)

// Workflow is what one workflow of the run did (scenarios fills it in
// from workloads/workflow).
type Workflow struct {
	Name       string
	Start, End float64 // first submission, last finish
	Done       bool
	Stages     []WorkflowStage
	Models     []WorkflowModel
}

// WorkflowStage is one stage's runs.
type WorkflowStage struct {
	Name     string
	Runs     int
	Failed   int
	WallMean float64
}

// WorkflowModel is one model of the workflow's learning service: its
// test-then-train metrics over the runs it learnt from (Train) and its
// predictions of the predicting stages' runs (Test).
type WorkflowModel struct {
	Name   string
	Params string
	Train  Regression
	Test   Regression
	// Predictions are the pairs Test scores, in the order the runs
	// finished (for the predictions figure; nil: none kept).
	Predictions []Prediction
}

// Prediction is a model's prediction of a run's wall time, made when
// the run was submitted, and the wall time it took (seconds).
type Prediction struct {
	Actual, Predicted float64
}

// Regression is R², MAE and RMSE over N pairs.
type Regression struct {
	N             int
	R2, MAE, RMSE float64
}

func renderWorkflows(b *bytes.Buffer, wfs []Workflow, width int) {
	for _, w := range wfs {
		fmt.Fprintf(b, "\nWorkflow %s\n", w.Name)
		state := "done"
		if !w.Done {
			state = "not finished"
		}
		fmt.Fprintf(b, "  %-*s %s (%s → %s, %s)\n", width, "makespan", seconds(w.End-w.Start), seconds(w.Start), seconds(w.End), state)
		for _, s := range w.Stages {
			fmt.Fprintf(b, "  %-*s %d runs, %d failed, mean wall time %s\n", width, "stage "+s.Name, s.Runs, s.Failed, seconds(s.WallMean))
		}
		if len(w.Models) == 0 {
			continue
		}
		fmt.Fprintf(b, "  %-*s %6s %9s %9s %9s   %6s %9s %9s %9s\n", width, "service models", "train", "R²", "MAE", "RMSE", "test", "R²", "MAE", "RMSE")
		for _, m := range w.Models {
			fmt.Fprintf(b, "  %-*s %6d %9.4f %9.3f %9.3f   %6d %9.4f %9.3f %9.3f\n", width, m.Name, m.Train.N, m.Train.R2, m.Train.MAE, m.Train.RMSE, m.Test.N, m.Test.R2, m.Test.MAE, m.Test.RMSE)
		}
	}
}

type workflowJSON struct {
	Name     string              `json:"name"`
	Start    num                 `json:"start"`
	End      num                 `json:"end"`
	Makespan num                 `json:"makespan"`
	Done     bool                `json:"done"`
	Stages   []workflowStageJSON `json:"stages"`
	Models   []workflowModelJSON `json:"models"`
}

type workflowStageJSON struct {
	Name     string `json:"name"`
	Runs     int    `json:"runs"`
	Failed   int    `json:"failed"`
	WallMean num    `json:"wallMean"`
}

type workflowModelJSON struct {
	Name   string         `json:"name"`
	Params string         `json:"params"`
	Train  regressionJSON `json:"train"`
	Test   regressionJSON `json:"test"`
}

type regressionJSON struct {
	N    int `json:"n"`
	R2   num `json:"r2"`
	MAE  num `json:"mae"`
	RMSE num `json:"rmse"`
}

func workflowsJSON(wfs []Workflow) []workflowJSON {
	out := []workflowJSON{}
	for _, w := range wfs {
		wj := workflowJSON{Name: w.Name, Start: num(w.Start), End: num(w.End), Makespan: num(w.End - w.Start), Done: w.Done,
			Stages: []workflowStageJSON{}, Models: []workflowModelJSON{}}
		for _, s := range w.Stages {
			wj.Stages = append(wj.Stages, workflowStageJSON{Name: s.Name, Runs: s.Runs, Failed: s.Failed, WallMean: num(s.WallMean)})
		}
		for _, m := range w.Models {
			wj.Models = append(wj.Models, workflowModelJSON{Name: m.Name, Params: strings.TrimSpace(m.Params),
				Train: regressionJSON{N: m.Train.N, R2: num(m.Train.R2), MAE: num(m.Train.MAE), RMSE: num(m.Train.RMSE)},
				Test:  regressionJSON{N: m.Test.N, R2: num(m.Test.R2), MAE: num(m.Test.MAE), RMSE: num(m.Test.RMSE)}})
		}
		out = append(out, wj)
	}
	return out
}
