package main

// The sweep's comparison figures and its index.html: each group of
// replicates (points equal but for the seed) side by side.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/report/plot"
	"github.com/convergesim/converge/scenarios"
)

// Figures of a sweep folder (NAME.png and NAME.svg).
const (
	sweepStartupCDFFigure = "startup-cdf"
	sweepStartupFigure    = "startup"
	sweepWaitFigure       = "wait"
	sweepRunTimeFigure    = "run-time"
	sweepMakespanFigure   = "makespan"
)

// maxSweepBars is the most groups drawn as bars (beyond it the labels
// cannot be read; the table has them all).
const maxSweepBars = 40

// groupLabel names a group on a figure: its settings' values (the keys
// are in the axis label).
func groupLabel(g scenarios.SweepGroup) string {
	var vs []string
	for _, s := range g.Settings {
		vs = append(vs, s.Value)
	}
	if len(vs) == 0 {
		return "all points"
	}
	return trunc(strings.Join(vs, ", "), 32)
}

// sweepFigureList draws, per group of replicates, the job start-up CDF
// (every job of its points) and bars of the makespan and the job
// start-up, wait and run time (the mean over the replicates of each
// point's value, with the 95% confidence interval over the replicates).
func sweepFigureList(m *scenarios.SweepManifest, rows []scenarios.SweepRow) ([]report.Figure, error) {
	groups := scenarios.GroupSweep(m, rows)
	if len(groups) == 0 {
		return nil, nil
	}
	var keys []string
	for _, a := range m.Axes {
		if a != "seed" {
			keys = append(keys, a)
		}
	}
	axis := strings.Join(keys, ", ")
	if axis == "" {
		axis = "all points"
	}
	var out []report.Figure
	var samples []plot.Sample
	for _, g := range groups {
		var xs []float64
		for _, r := range g.Rows {
			xs = append(xs, r.StartupJobs...)
		}
		samples = append(samples, plot.Sample{Name: groupLabel(g), Values: xs})
	}
	if len(samples) <= 12 {
		cdf, err := plot.CDF(plot.CDFSpec{Title: "Job start-up — " + m.Name, XLabel: "job start-up: first pod created → first wave running (s)", Samples: samples})
		if err != nil {
			return nil, err
		}
		out = append(out, report.Figure{FigureInfo: report.FigureInfo{Name: sweepStartupCDFFigure, Title: cdf.Title,
			Caption: "The fraction of each group's jobs (all its replicates together) that had started within x seconds (jobs that never started are left out; n counts the jobs drawn)."}, Plot: cdf})
	}
	if len(groups) > maxSweepBars {
		return out, nil
	}
	cols := scenarios.SweepMetricColumns()
	var names []string
	for _, g := range groups {
		names = append(names, groupLabel(g))
	}
	for _, b := range []struct {
		name, col, title, caption string
	}{
		{sweepMakespanFigure, "makespan", "Makespan", "First submission → last pod finished, mean over each group's replicates; error bars: the 95% confidence interval of the mean (Student's t over the replicates). No bar when no replicate finished its workload."},
		{sweepStartupFigure, "startup_mean", "Job start-up", "Each point's mean job start-up (first pod created → first wave running), mean over the group's replicates; error bars: the 95% confidence interval over the replicates."},
		{sweepWaitFigure, "wait_mean", "Job wait", "Each point's mean job wait (submission → first wave scheduled), mean over the group's replicates; error bars: the 95% confidence interval over the replicates."},
		{sweepRunTimeFigure, "run_time_mean", "Job run time", "Each point's mean job run time (first wave running → finished), mean over the group's replicates; error bars: the 95% confidence interval over the replicates."},
	} {
		k := slices.Index(cols, b.col)
		bg := plot.BarGroup{Name: "mean over replicates, 95% CI"}
		for _, g := range groups {
			e := g.Estimates[k]
			bg.Values, bg.Low, bg.High = append(bg.Values, e.Mean), append(bg.Low, e.CILow), append(bg.High, e.CIHigh)
		}
		f, err := plot.Bars(plot.BarSpec{Title: b.title + " — " + m.Name, XLabel: axis, YLabel: strings.ToLower(b.title) + " (s)",
			Categories: names, Groups: []plot.BarGroup{bg}})
		if err != nil {
			return nil, err
		}
		out = append(out, report.Figure{FigureInfo: report.FigureInfo{Name: b.name, Title: f.Title, Caption: b.caption}, Plot: f})
	}
	return out, nil
}

// writeSweepPage writes the sweep's figures and DIR/index.html, which
// links every point's report.
func writeSweepPage(dir string, m *scenarios.SweepManifest, rows []scenarios.SweepRow, summary []byte) error {
	figs, err := sweepFigureList(m, rows)
	if err != nil {
		return err
	}
	if err := writeFigures(dir, figs, true); err != nil {
		return err
	}
	page := report.Page{
		Title:      "converge sweep: " + m.Name,
		Intro:      fmt.Sprintf("%d points of %s; each point's full report is in its own folder.", len(m.Points), m.Base),
		Text:       summary,
		TextFile:   scenarios.SweepSummaryFile,
		LinksTitle: "Points",
		Files:      []string{scenarios.SweepSummaryFile, scenarios.SweepTableFile, scenarios.SweepManifestFile},
	}
	for _, r := range rows {
		var sets []string
		for _, s := range r.Point.Settings {
			sets = append(sets, s.Path+"="+s.Value)
		}
		page.Links = append(page.Links, report.Link{Href: scenarios.SweepPointsDir + "/" + r.Point.ID + "/" + report.IndexFile,
			Text: r.Point.ID + " (" + strings.Join(sets, ", ") + ")"})
	}
	for _, f := range figs {
		page.Figures = append(page.Figures, f.FigureInfo)
	}
	html, err := report.RenderIndex(page)
	if err != nil {
		return err
	}
	return writeSweepFile(filepath.Join(dir, report.IndexFile), html)
}
