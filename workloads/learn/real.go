package learn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// ServerTrainMetrics are the metrics the workflow's server kept while it
// learnt (django-river-ml's regression defaults: MAE, RMSE, SMAPE, each
// over the prequential predictions of the training runs), with its call
// counts.
type ServerTrainMetrics struct {
	MAE, RMSE, SMAPE float64
	Learns, Predicts int
}

// RealModel is one model of the real server as a predictions file
// records it.
type RealModel struct {
	ServerName string // the server's generated name, e.g. "sticky-frito"
	// StoredType is the model_type label the file carries; some are
	// swapped in the source repository, Spec.Model (from the stored
	// parameters) is authoritative.
	StoredType string
	Spec       Spec
	YPred      []float64
	Test       Result // the stored hold-out metrics (R², MSE, MAE, RMSE; SMAPE not stored)
	Train      ServerTrainMetrics
}

// RealRun is a predictions file of the workflow (lammps-predict.json,
// test-predict.json): the test sizes, the measured wall times and each
// model's predictions and metrics.
type RealRun struct {
	Path   string
	Dims   [][]float64 // (x, y, z) per test run
	YTrue  []float64   // LAMMPS wall time per test run, s
	Models []RealModel // sorted by ServerName
}

// ReadRealRun reads a predictions file of the lammps-stream-ml workflow.
func ReadRealRun(path string) (*RealRun, error) {
	b, err := limitio.ReadFile(path, limitio.Measurement, "stream-ML predictions JSON")
	if err != nil {
		return nil, err
	}
	rr, err := parseRealRun(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rr.Path = path
	return rr, nil
}

func jsonLine(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

func parseRealRun(b []byte) (*RealRun, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("line %d: %v", jsonLine(b, se.Offset), err)
		}
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("line %d: data after the top-level object", jsonLine(b, dec.InputOffset()))
	}
	rr := &RealRun{}
	rawDims, ok := top["dims"]
	if !ok {
		return nil, errors.New("dims: missing (not a predictions file?)")
	}
	var dims []map[string]float64
	if err := json.Unmarshal(rawDims, &dims); err != nil {
		return nil, fmt.Errorf("dims: %v", err)
	}
	for i, d := range dims {
		v := make([]float64, 3)
		for j, k := range []string{"x", "y", "z"} {
			f, ok := d[k]
			if !ok {
				return nil, fmt.Errorf("dims[%d].%s: missing", i, k)
			}
			if math.IsNaN(f) || math.IsInf(f, 0) || f < 1 {
				return nil, fmt.Errorf("dims[%d].%s: %g is not a replication factor (≥ 1)", i, k, f)
			}
			v[j] = f
		}
		if len(d) != 3 {
			return nil, fmt.Errorf("dims[%d]: %d fields, want x, y, z", i, len(d))
		}
		rr.Dims = append(rr.Dims, v)
	}
	if len(rr.Dims) == 0 {
		return nil, errors.New("dims: empty")
	}
	if err := json.Unmarshal(top["y_true"], &rr.YTrue); err != nil {
		return nil, fmt.Errorf("y_true: %v", err)
	}
	if len(rr.YTrue) != len(rr.Dims) {
		return nil, fmt.Errorf("y_true: %d values for %d dims", len(rr.YTrue), len(rr.Dims))
	}
	for i, y := range rr.YTrue {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("y_true[%d]: %g", i, y)
		}
	}
	var preds map[string][]float64
	if err := json.Unmarshal(top["y_pred"], &preds); err != nil {
		return nil, fmt.Errorf("y_pred: %v", err)
	}
	names := make([]string, 0, len(top))
	for k := range top {
		if k != "dims" && k != "y_true" && k != "y_pred" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		m, err := parseRealModel(name, top[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		p, ok := preds[name]
		if !ok {
			return nil, fmt.Errorf("y_pred.%s: missing", name)
		}
		if len(p) != len(rr.Dims) {
			return nil, fmt.Errorf("y_pred.%s: %d values for %d dims", name, len(p), len(rr.Dims))
		}
		m.YPred = p
		rr.Models = append(rr.Models, m)
	}
	for name := range preds {
		if _, ok := top[name]; !ok {
			return nil, fmt.Errorf("y_pred.%s: no such model in the file", name)
		}
	}
	if len(rr.Models) == 0 {
		return nil, errors.New("no models")
	}
	return rr, nil
}

type storedModel struct {
	RSquared *float64       `json:"r_squared"`
	MSE      *float64       `json:"mean_squared_error"`
	MAE      *float64       `json:"mean_absolute_error"`
	RMSE     *float64       `json:"root_mean_squared_error"`
	Model    map[string]any `json:"model"`
	Type     string         `json:"model_type"`
	Metrics  struct {
		MAE, RMSE, SMAPE float64
	} `json:"metrics"`
	Stats struct {
		Predict struct {
			N int `json:"n_calls"`
		} `json:"predict"`
		Learn struct {
			N int `json:"n_calls"`
		} `json:"learn"`
	} `json:"stats"`
}

func parseRealModel(name string, raw json.RawMessage) (RealModel, error) {
	var s storedModel
	if err := json.Unmarshal(raw, &s); err != nil {
		return RealModel{}, err
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"r_squared", s.RSquared}, {"mean_squared_error", s.MSE}, {"mean_absolute_error", s.MAE}, {"root_mean_squared_error", s.RMSE}} {
		if f.v == nil {
			return RealModel{}, fmt.Errorf("%s: missing", f.name)
		}
	}
	spec, err := SpecFromServer(s.Model)
	if err != nil {
		return RealModel{}, fmt.Errorf("model: %w", err)
	}
	return RealModel{
		ServerName: name,
		StoredType: s.Type,
		Spec:       spec,
		Test:       Result{R2: *s.RSquared, MSE: *s.MSE, MAE: *s.MAE, RMSE: *s.RMSE},
		Train: ServerTrainMetrics{MAE: s.Metrics.MAE, RMSE: s.Metrics.RMSE, SMAPE: s.Metrics.SMAPE,
			Learns: s.Stats.Learn.N, Predicts: s.Stats.Predict.N},
	}, nil
}

// SpecFromServer turns the parameters a django-river-ml server stored for
// a model (River's _get_params as JSON, e.g. post-train-models.json's
// "model") into a Spec. It recognises the three models of the workflow
// and refuses settings the models here do not implement (another
// optimizer or schedule, an L1 penalty, ...), naming the field.
func SpecFromServer(p map[string]any) (Spec, error) {
	num := func(m map[string]any, key, where string) (float64, error) {
		v, ok := m[key]
		if !ok {
			return 0, fmt.Errorf("%s%s: missing", where, key)
		}
		switch t := v.(type) {
		case float64:
			return t, nil
		case json.Number:
			return t.Float64()
		case bool:
			if t {
				return 1, nil
			}
			return 0, nil
		}
		return 0, fmt.Errorf("%s%s: %v is not a number", where, key, v)
	}
	switch {
	case p["LinearRegression"] != nil:
		lr, ok := p["LinearRegression"].(map[string]any)
		if !ok {
			return Spec{}, errors.New("LinearRegression: not an object")
		}
		sp := Spec{Model: Linear, Params: map[string]float64{"scale": 0}}
		if sc, ok := p["StandardScaler"]; ok {
			scm, _ := sc.(map[string]any)
			if ws, ok := scm["with_std"]; ok && ws != true {
				return Spec{}, fmt.Errorf("StandardScaler.with_std: %v, only true is modelled", ws)
			}
			sp.Params["scale"] = 1
		}
		for k := range p {
			if k != "LinearRegression" && k != "StandardScaler" {
				return Spec{}, fmt.Errorf("%s: pipeline step not modelled", k)
			}
		}
		opt, err := namedStep(lr["optimizer"], "SGD", "LinearRegression.optimizer")
		if err != nil {
			return Spec{}, err
		}
		rate, err := constantRate(opt["lr"], "LinearRegression.optimizer.lr")
		if err != nil {
			return Spec{}, err
		}
		sp.Params["lr"] = rate
		if _, err := namedStep(lr["loss"], "Squared", "LinearRegression.loss"); err != nil {
			return Spec{}, err
		}
		if lr["initializer"] != nil {
			if _, err := namedStep(lr["initializer"], "Zeros", "LinearRegression.initializer"); err != nil {
				return Spec{}, err
			}
		}
		if v, ok := lr["l1"]; ok {
			if f, err := num(lr, "l1", "LinearRegression."); err != nil || f != 0 {
				return Spec{}, fmt.Errorf("LinearRegression.l1: %v, only 0 is modelled", v)
			}
		}
		for _, k := range []string{"l2", "intercept_init", "clip_gradient"} {
			if _, ok := lr[k]; !ok {
				continue
			}
			f, err := num(lr, k, "LinearRegression.")
			if err != nil {
				return Spec{}, err
			}
			sp.Params[k] = f
		}
		switch il := lr["intercept_lr"].(type) {
		case nil:
		case float64:
			sp.Params["intercept_lr"] = il
		default:
			rate, err := constantRate(il, "LinearRegression.intercept_lr")
			if err != nil {
				return Spec{}, err
			}
			sp.Params["intercept_lr"] = rate
		}
		return sp, nil
	case p["alpha"] != nil && p["beta"] != nil:
		sp := Spec{Model: BayesianLinear, Params: map[string]float64{}}
		for _, k := range []string{"alpha", "beta"} {
			f, err := num(p, k, "")
			if err != nil {
				return Spec{}, err
			}
			sp.Params[k] = f
		}
		if p["smoothing"] != nil {
			f, err := num(p, "smoothing", "")
			if err != nil {
				return Spec{}, err
			}
			sp.Params["smoothing"] = f
		}
		return sp, nil
	case p["C"] != nil && p["mode"] != nil:
		sp := Spec{Model: PassiveAggressive, Params: map[string]float64{}}
		for _, k := range []string{"C", "mode", "eps", "learn_intercept"} {
			if _, ok := p[k]; !ok && (k == "eps" || k == "learn_intercept") {
				continue
			}
			f, err := num(p, k, "")
			if err != nil {
				return Spec{}, err
			}
			sp.Params[k] = f
		}
		return sp, nil
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return Spec{}, fmt.Errorf("parameters {%s} match none of %s", strings.Join(keys, ", "), strings.Join(Names(), ", "))
}

// namedStep reads River's [name, {params}] or [name] form.
func namedStep(v any, want, where string) (map[string]any, error) {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil, fmt.Errorf("%s: %v is not [name, params]", where, v)
	}
	if name, _ := l[0].(string); name != want {
		return nil, fmt.Errorf("%s: %v, only %s is modelled", where, l[0], want)
	}
	if len(l) == 1 {
		return map[string]any{}, nil
	}
	m, ok := l[1].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: parameters %v are not an object", where, l[1])
	}
	return m, nil
}

func constantRate(v any, where string) (float64, error) {
	m, err := namedStep(v, "Constant", where)
	if err != nil {
		return 0, err
	}
	switch r := m["learning_rate"].(type) {
	case float64:
		return r, nil
	case json.Number:
		return r.Float64()
	}
	return 0, fmt.Errorf("%s.learning_rate: %v is not a number", where, m["learning_rate"])
}
