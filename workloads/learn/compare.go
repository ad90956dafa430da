package learn

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Comparison puts one model trained here next to the real server's.
type Comparison struct {
	ServerName string // the real model, e.g. "sticky-frito"
	Spec       Spec   // its parameters, read from the file
	// Train: prequential metrics over the training stream given, counted
	// as the server counts them (zero predictions left out); compare
	// with RealTrain.
	Train Result
	// Test: this model, trained on the stream, predicting the real test
	// sizes, scored against the measured wall times; compare with Real.
	Test      Result
	Real      Result // the real server's stored hold-out metrics
	RealTrain ServerTrainMetrics
	Preds     []float64 // this model's test predictions
}

// CompareWithReal trains, for each model of the real run, a fresh model
// with the parameters the server stored, on the given training stream
// (problem sizes and wall times from anywhere: the simulator's LAMMPS
// model, a synthetic formula, ...), then predicts the real test sizes
// without learning (the server's learn count did not move while it
// predicted them) and scores the predictions against the measured wall
// times, next to the real server's own metrics for the same model.
func CompareWithReal(real *RealRun, train []Sample) ([]Comparison, error) {
	if len(train) == 0 {
		return nil, fmt.Errorf("compare: empty training stream")
	}
	out := make([]Comparison, 0, len(real.Models))
	for _, rm := range real.Models {
		model, err := New(rm.Spec, len(real.Dims[0]))
		if err != nil {
			return nil, fmt.Errorf("compare: %s: %w", rm.ServerName, err)
		}
		tr, _, err := Prequential(model, train, PrequentialOptions{SkipZeroPredictions: true})
		if err != nil {
			return nil, fmt.Errorf("compare: %s: training stream: %w", rm.ServerName, err)
		}
		te, preds, err := Evaluate(model, real.Dims, real.YTrue)
		if err != nil {
			return nil, fmt.Errorf("compare: %s: %w", rm.ServerName, err)
		}
		out = append(out, Comparison{ServerName: rm.ServerName, Spec: rm.Spec, Train: tr, Test: te,
			Real: rm.Test, RealTrain: rm.Train, Preds: preds})
	}
	return out, nil
}

// Replay is one model's prequential run over the real test runs.
type Replay struct {
	ServerName string
	Spec       Spec
	Result     Result // over the runs it counted (zero predictions left out)
	RealTrain  ServerTrainMetrics
	Real       Result
}

// ReplayPrequential feeds the real test runs, in their recorded order,
// to a fresh model of each kind the server ran, as a test-then-train
// stream: every run is predicted before it is learnt, the server's way
// of counting its training metrics. The runs the server never learnt are
// used here as a stand-in for its unrecorded training runs (same draw of
// sizes, same cluster), so Result is comparable to RealTrain, not to
// Real (which was scored by models that had learnt 1000 other runs).
func ReplayPrequential(real *RealRun) ([]Replay, error) {
	stream := make([]Sample, len(real.Dims))
	for i := range real.Dims {
		stream[i] = Sample{X: real.Dims[i], Y: real.YTrue[i]}
	}
	out := make([]Replay, 0, len(real.Models))
	for _, rm := range real.Models {
		model, err := New(rm.Spec, len(real.Dims[0]))
		if err != nil {
			return nil, fmt.Errorf("replay: %s: %w", rm.ServerName, err)
		}
		res, _, err := Prequential(model, stream, PrequentialOptions{SkipZeroPredictions: true})
		if err != nil {
			return nil, fmt.Errorf("replay: %s: %w", rm.ServerName, err)
		}
		out = append(out, Replay{ServerName: rm.ServerName, Spec: rm.Spec, Result: res, RealTrain: rm.Train, Real: rm.Test})
	}
	return out, nil
}

// WriteReplay prints the replay next to the server's training metrics.
func WriteReplay(w io.Writer, rs []Replay) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tserver name\tn\tR²\tMAE\tRMSE\tSMAPE %\tserver training MAE\tRMSE\tSMAPE %")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.2f\t%.2f\t%.1f\t%.2f\t%.2f\t%.1f\n", r.Spec.Model, r.ServerName, r.Result.N,
			r.Result.R2, r.Result.MAE, r.Result.RMSE, r.Result.SMAPE, r.RealTrain.MAE, r.RealTrain.RMSE, r.RealTrain.SMAPE)
	}
	return tw.Flush()
}

// WriteComparisons prints a comparison table.
func WriteComparisons(w io.Writer, cs []Comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tserver name\ttest R²\tMAE\tRMSE\treal R²\tMAE\tRMSE\ttraining MAE\tRMSE\treal training MAE\tRMSE")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.2f\t%.2f\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", c.Spec.Model, c.ServerName,
			c.Test.R2, c.Test.MAE, c.Test.RMSE, c.Real.R2, c.Real.MAE, c.Real.RMSE,
			c.Train.MAE, c.Train.RMSE, c.RealTrain.MAE, c.RealTrain.RMSE)
	}
	return tw.Flush()
}
