package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/traces"
)

// ShellRun is one Flux job's shell start-up from its exec eventlog:
// init → shell.start, on Nodes nodes.
type ShellRun struct {
	Experiment string
	Nodes      int
	Seconds    float64
}

// ReadShellRuns reads flux-jobspec-and-events.json (experiment → runs of
// {jobspec, events}) with the traces reader of its format
// (flux-jobspec-events): the node count of each run's jobspec and the
// init and shell.start times of its exec eventlog, experiments in name
// order and each one's runs in file order. Runs that ask for no nodes
// or lack either event are left out.
func ReadShellRuns(path string) ([]ShellRun, error) {
	t := &traces.Trace{Start: traces.NaN}
	if _, err := traces.ReadFile(t, path, "flux-jobspec-events"); err != nil {
		return nil, err
	}
	jobs := slices.Clone(t.Jobs)
	slices.SortStableFunc(jobs, func(a, b *traces.Job) int {
		return strings.Compare(a.Params["experiment"], b.Params["experiment"])
	})
	var out []ShellRun
	for _, j := range jobs {
		init, start := math.NaN(), math.NaN()
		for _, e := range j.Events {
			switch e.Name {
			case "init":
				init = e.T
			case "shell.start":
				start = e.T
			}
		}
		if d := start - init; d >= 0 && j.Nodes > 0 {
			out = append(out, ShellRun{Experiment: j.Params["experiment"], Nodes: j.Nodes, Seconds: d})
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%s: %d runs with init and shell.start, need at least 2", path, len(out))
	}
	return out, nil
}

// FitShellStart fits the job shell's start-up Base + PerNode × nodes by
// least squares through the median of each node count (each size one
// point: a few slow runs, such as one cloud's GPU nodes at 0.4 s, do
// not pull the line).
func FitShellStart(runs []ShellRun) engine.ShellStart {
	sizes := map[int][]float64{}
	for _, r := range runs {
		sizes[r.Nodes] = append(sizes[r.Nodes], r.Seconds)
	}
	var n, sx, sy, sxx, sxy float64
	for size, ys := range sizes {
		x, y := float64(size), median(ys)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return engine.ShellStart{Base: sy / n}
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	return engine.ShellStart{Base: max(a, 0), PerNode: max(b, 0)}
}

// ShellHoldOut is the leave-one-size-out error of the fit: for each node
// count, fit on the other sizes and predict the median start-up of this
// one; Baseline predicts the median of the other sizes' runs.
type ShellHoldOut struct {
	Nodes              int
	Runs               int
	Measured           float64 // median of this size's runs
	Predicted          float64
	Baseline           float64
	RelErr, BaselineRE float64
}

// HoldOutShellStart runs the leave-one-size-out check.
func HoldOutShellStart(runs []ShellRun) []ShellHoldOut {
	sizes := map[int][]float64{}
	for _, r := range runs {
		sizes[r.Nodes] = append(sizes[r.Nodes], r.Seconds)
	}
	var out []ShellHoldOut
	for _, n := range slices.Sorted(func(yield func(int) bool) {
		for k := range sizes {
			if !yield(k) {
				return
			}
		}
	}) {
		var rest []ShellRun
		var restY []float64
		for _, r := range runs {
			if r.Nodes != n {
				rest = append(rest, r)
				restY = append(restY, r.Seconds)
			}
		}
		if len(rest) < 2 {
			continue
		}
		f := FitShellStart(rest)
		h := ShellHoldOut{Nodes: n, Runs: len(sizes[n]), Measured: median(sizes[n]), Predicted: f.Start(n), Baseline: median(restY)}
		h.RelErr = math.Abs(h.Predicted-h.Measured) / h.Measured
		h.BaselineRE = math.Abs(h.Baseline-h.Measured) / h.Measured
		out = append(out, h)
	}
	return out
}
