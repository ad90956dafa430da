package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/report/plot"
	"github.com/convergesim/converge/scenarios"
)

type compareFlags struct {
	runFlags
	policies []string
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare SCENARIO --policy P [--policy Q]...",
		Short: "Run a scenario under several policies and put them side by side",
		Long: `Run the same scenario (same seed, same jobs) once per --policy, each into
DIR/<policy>/ with its full report, and write DIR/comparison.txt and
DIR/comparison.csv: per policy the stop reason, the jobs finished, the
makespan, the jobs' start-up (creation → all pods running), application
start (after a launcher's bootstrap), run time and turnaround, and per
workload the mean start-up, run time and nodes a job used; and figures
(PNG and SVG: the pods' start-up delay CDFs of all policies, bars of the
jobs' wait and run time and of the makespan per policy) with
DIR/index.html, which shows them and links each policy's report.

A --policy is a policy name, optionally with settings for that run only,
comma-separated: --policy fluence,policy.fluence.assign=by-slot. --set
applies to every run.`,
		Example: `  sim compare scenarios/fluence-vs-kube.yaml -o out/cmp \
    --policy kube --policy coscheduling --policy fluence \
    --policy fluence,policy.fluence.assign=by-slot`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, args[0], &f) },
	}
	cmd.Flags().StringArrayVar(&f.policies, "policy", nil, "a policy to run, optionally with settings: NAME[,key=value...] (repeatable; at least two)")
	addPolicyRunFlags(cmd, &f.runFlags, "out/<scenario name>-compare")
	return cmd
}

// addPolicyRunFlags adds the flags of a command that runs one scenario
// under several policies (compare, replay): the output folder (default
// outDefault), seed, --set, --force, -q, the size limits and --export.
func addPolicyRunFlags(cmd *cobra.Command, f *runFlags, outDefault string) {
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "output folder (default: "+outDefault+")")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "random seed (overrides the scenario's seed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario value in every run: --set key=value (repeatable)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace the files of existing output folders")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print the comparison")
	addLimitFlags(cmd, &f.limits)
	addExportFlag(cmd, f)
}

// variant is one policy run of a comparison.
type variant struct {
	label string // folder name
	spec  string // as given
	sets  []string
	sc    *scenarios.Scenario // loaded with sets
	data  []byte              // the scenario file's bytes
	res   *engine.Result
	sum   *report.Summary // of res, made once (summary)
}

// summary is the run's summary, computed on first use: the table and the
// figures both read it, and over a million pods it takes a second.
func (v *variant) summary() *report.Summary {
	if v.sum == nil {
		s := report.Summarize(v.res)
		v.sum = &s
	}
	return v.sum
}

var unsafeLabel = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// parseVariants parses --policy values, at least least (1 or 2) of them.
func parseVariants(specs []string, least int) ([]*variant, error) {
	if len(specs) < least {
		words := map[int]string{1: "one --policy value", 2: "two --policy values"}
		return nil, fmt.Errorf("needs at least %s, got %d", words[least], len(specs))
	}
	seen := map[string]bool{}
	var out []*variant
	for _, spec := range specs {
		parts := strings.Split(spec, ",")
		name := strings.TrimSpace(parts[0])
		if name == "" {
			return nil, fmt.Errorf("--policy %q: no policy name", spec)
		}
		v := &variant{spec: spec, sets: []string{"policy.name=" + name}}
		for _, kv := range parts[1:] {
			if !strings.Contains(kv, "=") {
				return nil, fmt.Errorf("--policy %q: %q is not key=value", spec, kv)
			}
			v.sets = append(v.sets, strings.TrimSpace(kv))
		}
		v.label = strings.Trim(unsafeLabel.ReplaceAllString(strings.ReplaceAll(spec, "policy.", ""), "-"), "-.")
		if seen[v.label] {
			return nil, fmt.Errorf("--policy %q given twice", spec)
		}
		seen[v.label] = true
		out = append(out, v)
	}
	return out, nil
}

func runCompare(cmd *cobra.Command, path string, f *compareFlags) error {
	vs, err := parseVariants(f.policies, 2)
	if err != nil {
		return usageErr(err)
	}
	// Every variant is loaded and checked before any runs: a bad one is
	// found before the others have written anything.
	if err := loadVariants(cmd, path, vs, &f.runFlags); err != nil {
		return err
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", vs[0].sc.Name+"-compare")
	}
	if err := runVariants(cmd, path, dir, vs, &f.runFlags); err != nil {
		return err
	}
	text, err := writeComparison(dir, vs)
	if err != nil {
		return err
	}
	if err := writeComparisonPage(dir, vs, text); err != nil {
		return failedErr(fmt.Errorf("writing the comparison: %w", err))
	}
	if !f.quiet {
		cmd.Print(string(text))
		cmd.Printf("\nreports written to %s/{%s}\n", dir, labels(vs))
	}
	return nil
}

// loadVariants loads the scenario at path once per variant, with the
// variant's settings after f's.
func loadVariants(cmd *cobra.Command, path string, vs []*variant, f *runFlags) error {
	for _, v := range vs {
		var err error
		if v.sc, v.data, err = loadScenario(cmd, path, append(append([]string(nil), f.sets...), v.sets...), f.seed, &f.limits); err != nil {
			return err
		}
	}
	return nil
}

// runVariants runs each loaded variant quietly into dir/<label>.
func runVariants(cmd *cobra.Command, path, dir string, vs []*variant, f *runFlags) error {
	for _, v := range vs {
		rf := *f
		rf.out = filepath.Join(dir, v.label)
		rf.quiet = true
		var err error
		if v.res, _, _, err = runLoaded(cmd, path, v.sc, v.data, &rf); err != nil {
			return err
		}
	}
	return nil
}

// writeComparison writes the variants side by side into
// dir/comparison.txt and comparison.csv; it returns the text.
func writeComparison(dir string, vs []*variant) ([]byte, error) {
	text, csv := comparison(vs)
	for _, w := range []struct {
		name string
		data []byte
	}{{"comparison.txt", text}, {"comparison.csv", csv}} {
		if err := writeFileAtomic(filepath.Join(dir, w.name), w.data, true); err != nil {
			return nil, failedErr(fmt.Errorf("writing the comparison: %w", err))
		}
	}
	return text, nil
}

func labels(vs []*variant) string {
	var l []string
	for _, v := range vs {
		l = append(l, v.label)
	}
	return strings.Join(l, ",")
}

// workloadRow is one workload's means under one policy.
type workloadRow struct {
	jobs, done                  int
	startup, app, runTime, node float64
}

func workloadRows(res *engine.Result) ([]string, map[string]*workloadRow) {
	var order []string
	rows := map[string]*workloadRow{}
	sums := map[string]*[4][2]float64{}
	for _, j := range res.Jobs {
		r := rows[j.Workload]
		if r == nil {
			r = &workloadRow{}
			rows[j.Workload] = r
			sums[j.Workload] = &[4][2]float64{}
			order = append(order, j.Workload)
		}
		r.jobs++
		if engine.IsSet(j.Finished) {
			r.done++
		}
		m := report.MeasureJob(j)
		nodes := map[*engine.Node]bool{}
		for _, p := range j.Pods {
			if p.Node != nil && !p.Launcher {
				nodes[p.Node] = true
			}
		}
		s := sums[j.Workload]
		for k, x := range []float64{m.Startup, j.AppFinished() - j.AppStarted(), m.RunTime, float64(len(nodes))} {
			if engine.IsSet(x) {
				s[k][0] += x
				s[k][1]++
			}
		}
	}
	for w, r := range rows {
		s := sums[w]
		mean := func(k int) float64 {
			if s[k][1] == 0 {
				return engine.Unset
			}
			return s[k][0] / s[k][1]
		}
		r.startup, r.app, r.runTime, r.node = mean(0), mean(1), mean(2), mean(3)
	}
	return order, rows
}

func num(x float64) string {
	if !engine.IsSet(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f", x)
}

func csvNum(x float64) string {
	if !engine.IsSet(x) {
		return ""
	}
	return fmt.Sprintf("%.6f", x)
}

// comparison renders the side-by-side table (text) and its CSV.
func comparison(vs []*variant) ([]byte, []byte) {
	var t, c bytes.Buffer
	fmt.Fprintf(&t, "converge comparison (seconds; means over jobs unless said)\n\n")
	w, jw := 36, 3 // the policy column (its longest name), each half of the jobs column
	for _, v := range vs {
		w = max(w, utf8.RuneCountInString(v.spec))
		jw = max(jw, len(strconv.Itoa(v.summary().Jobs)))
	}
	fmt.Fprintf(&t, "%-*s %-9s %*s %9s %9s %9s %9s %9s %9s %9s\n", w, "policy", "stop", 2*jw+1, "jobs", "makespan",
		"start-up", "start p50", "start max", "launch", "run time", "turnaround")
	c.WriteString("policy,workload,stop,jobs,jobs_finished,makespan,startup_mean,startup_p50,startup_max,app_start_mean,run_time_mean,app_run_time_mean,turnaround_mean,nodes_per_job\n")
	for _, v := range vs {
		s := v.summary()
		stop := s.Stopped
		if stop == "" {
			stop = "done"
		}
		fmt.Fprintf(&t, "%-*s %-9s %*d/%-*d %9s %9s %9s %9s %9s %9s %9s\n", w, v.spec, stop, jw, s.JobsFinished, jw, s.Jobs, num(s.Makespan),
			num(s.JobStartup.Mean), num(s.JobStartup.P50), num(s.JobStartup.Max), num(s.JobLaunch.Mean),
			num(s.JobRunTime.Mean), num(s.JobTurnaround.Mean))
		fmt.Fprintf(&c, "%s,,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,\n", report.CSVField(v.spec), stop, s.Jobs, s.JobsFinished, csvNum(s.Makespan),
			csvNum(s.JobStartup.Mean), csvNum(s.JobStartup.P50), csvNum(s.JobStartup.Max), csvNum(s.JobLaunch.Mean),
			csvNum(s.JobRunTime.Mean), csvNum(s.JobAppRunTime.Mean), csvNum(s.JobTurnaround.Mean))
	}
	fmt.Fprintf(&t, "\nper workload: start-up / application run time / nodes a job used\n%-20s", "workload")
	for _, v := range vs {
		fmt.Fprintf(&t, " %-26s", trunc(v.spec, 26))
	}
	t.WriteString("\n")
	var order []string
	perPolicy := make([]map[string]*workloadRow, len(vs))
	for i, v := range vs {
		o, rows := workloadRows(v.res)
		if i == 0 {
			order = o
		}
		perPolicy[i] = rows
	}
	for _, w := range order {
		fmt.Fprintf(&t, "%-20s", trunc(w, 20))
		for i, v := range vs {
			r := perPolicy[i][w]
			if r == nil {
				fmt.Fprintf(&t, " %-26s", "-")
				continue
			}
			app := r.app
			if !engine.IsSet(app) {
				app = r.runTime
			}
			fmt.Fprintf(&t, " %-26s", fmt.Sprintf("%s / %s / %s", num(r.startup), num(app), num(r.node)))
			fmt.Fprintf(&c, "%s,%s,,%d,%d,,%s,,,,%s,%s,,%s\n", report.CSVField(v.spec), report.CSVField(w), r.jobs, r.done,
				csvNum(r.startup), csvNum(r.runTime), csvNum(r.app), csvNum(r.node))
		}
		t.WriteString("\n")
	}
	return t.Bytes(), c.Bytes()
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Figures of a comparison folder (NAME.png and NAME.svg).
const (
	startupCDFFigure = "startup-cdf"
	waitFigure       = "wait"
	runTimeFigure    = "run-time"
	makespanFigure   = "makespan"
)

// comparisonFigures draws the policies side by side: the CDFs of the
// pods' start-up delay, and bars of the jobs' wait and run time (mean,
// with the 95% confidence interval of the mean over jobs) and of the
// makespan.
func comparisonFigures(vs []*variant) ([]report.Figure, error) {
	var samples []plot.Sample
	var names []string
	waits, runs := plot.BarGroup{Name: "mean over jobs, 95% CI"}, plot.BarGroup{Name: "mean over jobs, 95% CI"}
	makespan := plot.BarGroup{Name: "makespan"}
	for _, v := range vs {
		names = append(names, trunc(v.spec, 28))
		delays := make([]float64, 0, len(v.res.Pods))
		for _, p := range v.res.Pods {
			delays = append(delays, report.MeasurePod(p).StartupDelay)
		}
		samples = append(samples, plot.Sample{Name: v.spec, Values: delays})
		var w, r []float64
		for _, j := range v.res.Jobs {
			m := report.MeasureJob(j)
			w, r = append(w, m.Wait), append(r, m.RunTime)
		}
		for _, g := range []struct {
			b *plot.BarGroup
			x []float64
		}{{&waits, w}, {&runs, r}} {
			m, lo, hi := report.MeanCI95(g.x)
			g.b.Values, g.b.Low, g.b.High = append(g.b.Values, m), append(g.b.Low, lo), append(g.b.High, hi)
		}
		makespan.Values = append(makespan.Values, v.summary().Makespan)
	}
	scenario := vs[0].sc.Name
	var out []report.Figure
	cdf, err := plot.CDF(plot.CDFSpec{Title: "Pod start-up delay — " + scenario, XLabel: "start-up delay: created → containers started (s)", Samples: samples})
	if err != nil {
		return nil, err
	}
	out = append(out, report.Figure{FigureInfo: report.FigureInfo{Name: startupCDFFigure, Title: cdf.Title,
		Caption: "The fraction of each policy's pods whose containers had started within x seconds of the pod's creation (pods that never started are left out; n counts the pods drawn)."}, Plot: cdf})
	for _, b := range []struct {
		name, title, caption string
		group                plot.BarGroup
	}{
		{waitFigure, "Job wait", "Submission → the job's first wave scheduled, mean over each policy's jobs; error bars: the 95% confidence interval of the mean (Student's t over the jobs).", waits},
		{runTimeFigure, "Job run time", "The first wave running → the job finished, mean over each policy's jobs; error bars: the 95% confidence interval of the mean (Student's t over the jobs).", runs},
		{makespanFigure, "Makespan", "First submission → last pod finished; no bar when the workload did not finish.", makespan},
	} {
		f, err := plot.Bars(plot.BarSpec{Title: b.title + " per policy — " + scenario, XLabel: "policy", YLabel: strings.ToLower(b.title) + " (s)",
			Categories: names, Groups: []plot.BarGroup{b.group}})
		if err != nil {
			return nil, err
		}
		out = append(out, report.Figure{FigureInfo: report.FigureInfo{Name: b.name, Title: f.Title, Caption: b.caption}, Plot: f})
	}
	return out, nil
}

// writeComparisonPage writes the comparison's figures and DIR/index.html
// linking each policy's report.
func writeComparisonPage(dir string, vs []*variant, text []byte) error {
	figs, err := comparisonFigures(vs)
	if err != nil {
		return err
	}
	if err := writeFigures(dir, figs, true); err != nil {
		return err
	}
	page := report.Page{
		Title:      "converge comparison: " + vs[0].sc.Name,
		Intro:      "The same scenario, seed and jobs under each policy. Each policy's full report is in its own folder.",
		Text:       text,
		TextFile:   "comparison.txt",
		LinksTitle: "Policies",
		Files:      []string{"comparison.txt", "comparison.csv"},
	}
	for _, v := range vs {
		page.Links = append(page.Links, report.Link{Href: v.label + "/" + report.IndexFile, Text: v.spec})
	}
	for _, f := range figs {
		page.Figures = append(page.Figures, f.FigureInfo)
	}
	html, err := report.RenderIndex(page)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, report.IndexFile), html, true)
}

// writeFigures writes each figure into dir as PNG and SVG, each file
// atomically (see writeFileAtomic).
func writeFigures(dir string, figs []report.Figure, force bool) error {
	for _, f := range figs {
		for _, format := range plot.Formats {
			data, err := f.Plot.Encode(format)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(filepath.Join(dir, f.Name+"."+format), data, force); err != nil {
				return err
			}
		}
	}
	return nil
}
