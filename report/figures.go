package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report/plot"
)

// Figure names: each figure is written as NAME.png and NAME.svg.
const (
	GanttFigure       = "gantt"
	UtilisationFigure = "utilisation"
	PredictionsFigure = "predictions"
)

// IndexFile is the page that shows a report folder's summary and
// figures.
const IndexFile = "index.html"

// FigureInfo names one figure of a report folder.
type FigureInfo struct {
	Name    string // file name without extension: Name.png, Name.svg
	Title   string
	Caption string // what it shows, for index.html
}

// Figure is a figure ready to write.
type Figure struct {
	FigureInfo
	Plot *plot.Figure
}

// FigureFiles returns the file names of a figure: one per plot format.
func FigureFiles(name string) []string {
	var out []string
	for _, f := range plot.Formats {
		out = append(out, name+"."+f)
	}
	return out
}

// writeFiguresNew writes figures into a fresh folder (the temporary
// folder of an Output).
func writeFiguresNew(dir string, figs []Figure) error {
	for _, f := range figs {
		for _, format := range plot.Formats {
			if err := writeFile(filepath.Join(dir, f.Name+"."+format), func(w io.Writer) error { return f.Plot.Write(w, format) }); err != nil {
				return fmt.Errorf("%s.%s: %w", f.Name, format, err)
			}
		}
	}
	return nil
}

// RunFigureNames lists the names of the figures the report of a run holds, in order:
// the Gantt chart and the utilisation over time always, the workflow
// models' predictions against the actual run times when the run had
// workflows with models.
func RunFigureNames(meta Meta) []string {
	names := []string{GanttFigure, UtilisationFigure}
	if hasModels(meta.Workflows) {
		names = append(names, PredictionsFigure)
	}
	return names
}

func hasModels(wfs []Workflow) bool {
	for _, w := range wfs {
		if len(w.Models) > 0 {
			return true
		}
	}
	return false
}

// RunFigures draws the figures of a run's report (RunFigureNames).
func RunFigures(res *engine.Result, meta Meta) ([]Figure, error) {
	return runFigures(res, meta, SummarizeWith(res, meta.BoundedSlowdownThreshold))
}

func runFigures(res *engine.Result, meta Meta, sum Summary) ([]Figure, error) {
	if meta.Policy == "" {
		meta.Policy = res.Policy
	}
	if res.Cluster == nil {
		r := *res
		r.Cluster = &engine.Cluster{}
		res = &r
	}
	var out []Figure
	for _, name := range RunFigureNames(meta) {
		var f Figure
		var err error
		switch name {
		case GanttFigure:
			f, err = ganttFigure(res, meta, sum)
		case UtilisationFigure:
			f, err = utilisationFigure(res, meta, sum)
		case PredictionsFigure:
			f, err = predictionsFigure(meta)
		}
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// runLabel names the run in figure titles: scenario and policy.
func runLabel(meta Meta) string {
	var parts []string
	for _, s := range []string{meta.Scenario, meta.Policy} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func titled(what string, meta Meta) string {
	if l := runLabel(meta); l != "" {
		return what + " — " + l
	}
	return what
}

// timeRange is the span a run's time figures show: from the earliest of
// time 0 and the first submission to the end of the utilisation window.
func timeRange(res *engine.Result, sum Summary) (float64, float64) {
	t0 := 0.0
	if engine.IsSet(sum.FirstSubmitted) {
		t0 = math.Min(t0, sum.FirstSubmitted)
	}
	t1 := sum.WindowEnd
	if !engine.IsSet(t1) || t1 <= t0 {
		t1 = res.End
	}
	if !engine.IsSet(t1) || t1 <= t0 {
		t1 = t0 + 1
	}
	return t0, t1
}

// Gantt chart sizes: the most rows (nodes or bands of nodes) and
// rectangles drawn one per pod; beyond either, rows are bands of nodes
// and time is cut into GanttBins columns.
const (
	GanttMaxRows  = 300
	GanttMaxRects = 40000
	GanttBins     = 300
)

// podSpan is where a pod shows in the Gantt chart: it holds its node
// from assigned; its containers run from started (NaN if they never
// did) until end (finished, or the end of the run).
func podSpan(p *engine.Pod, end float64) (assigned, started, until float64, ok bool) {
	if p.Node == nil || !engine.IsSet(p.Assigned) {
		return 0, 0, 0, false
	}
	until = p.Finished
	if !engine.IsSet(until) {
		until = end
	}
	started = p.ContainersStarted
	if engine.IsSet(started) && started > until {
		started = until
	}
	return p.Assigned, started, math.Max(until, p.Assigned), true
}

func ganttFigure(res *engine.Result, meta Meta, sum Summary) (Figure, error) {
	t0, t1 := timeRange(res, sum)
	nodes := res.Cluster.Nodes
	placed, jobs := 0, map[*engine.Job]bool{}
	for _, p := range res.Pods {
		if _, _, _, ok := podSpan(p, res.End); ok {
			placed++
			jobs[p.Job] = true
		}
	}
	var spec plot.GanttSpec
	var caption string
	if len(nodes) <= GanttMaxRows && 2*placed <= GanttMaxRects {
		spec, caption = ganttPods(res, t0, t1)
	} else {
		spec, caption = ganttBands(res, t0, t1)
	}
	spec.Title = titled(spec.Title, meta)
	spec.XLabel = "time (s)"
	spec.XMin, spec.XMax = t0, t1
	spec.Width, spec.Height = 12, 8
	spec.Legend = []plot.LegendItem{{Label: "start-up on the node", Color: plot.Red}}
	if len(jobs) <= 12 {
		for _, j := range res.Jobs {
			if jobs[j] {
				spec.Legend = append(spec.Legend, plot.LegendItem{Label: trimLabel(j.Name, 24), Color: plot.Color(j.ID)})
			}
		}
	}
	caption += fmt.Sprintf(" Red: a pod holds its node but its containers have not started yet (assigned → containers started: the part of the pod's start-up delay spent on the node). Colours are by job (%d jobs; colours repeat after %d).", len(jobs), len(plot.Palette))
	f, err := plot.Gantt(spec)
	if err != nil {
		return Figure{}, err
	}
	return Figure{FigureInfo{GanttFigure, spec.Title, caption}, f}, nil
}

func trimLabel(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ganttPods draws one row per node and a bar per pod; pods that hold a
// node at the same time share its row in lanes.
func ganttPods(res *engine.Result, t0, t1 float64) (plot.GanttSpec, string) {
	nodes := res.Cluster.Nodes
	byNode := make([][]*engine.Pod, len(nodes))
	for _, p := range res.Pods {
		if _, _, _, ok := podSpan(p, res.End); ok && p.Node.Index >= 0 && p.Node.Index < len(nodes) {
			byNode[p.Node.Index] = append(byNode[p.Node.Index], p)
		}
	}
	spec := plot.GanttSpec{Title: "Pods on nodes", YLabel: "node", Rows: len(nodes)}
	for i, n := range nodes {
		spec.RowLabels = append(spec.RowLabels, n.Name)
		pods := byNode[i]
		slices.SortStableFunc(pods, func(a, b *engine.Pod) int { return cmp.Compare(a.Assigned, b.Assigned) })
		// Greedy lanes: each pod takes the first lane free at its start.
		var laneEnd []float64
		lane := make([]int, len(pods))
		for k, p := range pods {
			a, _, u, _ := podSpan(p, res.End)
			l := slices.IndexFunc(laneEnd, func(e float64) bool { return e <= a })
			if l < 0 {
				l = len(laneEnd)
				laneEnd = append(laneEnd, u)
			}
			laneEnd[l] = u
			lane[k] = l
		}
		h := 0.9 / float64(max(len(laneEnd), 1))
		for k, p := range pods {
			a, s, u, _ := podSpan(p, res.End)
			y0 := float64(i) + 0.05 + float64(lane[k])*h
			y1 := y0 + h*0.92
			runFrom := s
			if !engine.IsSet(s) {
				runFrom = u // never started: start-up until the end
			}
			if runFrom > a {
				spec.Rects = append(spec.Rects, plot.Rect{X0: a, X1: runFrom, Y0: y0, Y1: y1, Color: plot.Red})
			}
			if u > runFrom {
				spec.Rects = append(spec.Rects, plot.Rect{X0: runFrom, X1: u, Y0: y0, Y1: y1, Color: plot.Color(p.Job.ID)})
			}
		}
	}
	return spec, fmt.Sprintf("One row per node (%d nodes), a bar per pod (or Flux job shell) from the moment the scheduler assumed it on the node until it finished; pods on a node at the same time share its row.", len(nodes))
}

// ganttCell accumulates one band × time bin: CPU·seconds running and
// in start-up, and the job holding most of it (a weighted majority
// vote: Boyer–Moore's, which finds the majority job whenever one holds
// more than half).
type ganttCell struct {
	run, start float64
	job        int32
	w          float64
}

// ganttBands draws rows of several nodes and columns of GanttBins time
// bins: each cell is coloured by the job holding most of its CPU (red
// when pods in start-up hold more than running ones), paler the less of
// the band's CPU is held. Its cost is one pass over the pods, bounded
// memory (rows × bins cells) and at most rows × bins rectangles.
func ganttBands(res *engine.Result, t0, t1 float64) (plot.GanttSpec, string) {
	nodes := res.Cluster.Nodes
	per := max(1, (len(nodes)+GanttMaxRows-1)/GanttMaxRows)
	rows := max(1, (len(nodes)+per-1)/per)
	bins := GanttBins
	width := (t1 - t0) / float64(bins)
	cells := make([]ganttCell, rows*bins)
	capacity := make([]float64, rows) // millicores of the band
	for i, n := range nodes {
		capacity[i/per] += float64(max(n.Allocatable.MilliCPU, 1))
	}
	add := func(row int, from, to float64, job int32, cpu float64, startup bool) {
		if !(to > from) {
			return
		}
		b0 := int((from - t0) / width)
		b1 := int((to - t0) / width)
		b0, b1 = min(max(b0, 0), bins-1), min(max(b1, 0), bins-1)
		for b := b0; b <= b1; b++ {
			lo, hi := t0+float64(b)*width, t0+float64(b+1)*width
			ov := (math.Min(hi, to) - math.Max(lo, from)) * cpu
			if ov <= 0 {
				continue
			}
			c := &cells[row*bins+b]
			if startup {
				c.start += ov
				continue
			}
			c.run += ov
			switch {
			case c.job == job:
				c.w += ov
			case c.w >= ov:
				c.w -= ov
			default:
				c.job, c.w = job, ov-c.w
			}
		}
	}
	for _, p := range res.Pods {
		a, s, u, ok := podSpan(p, res.End)
		if !ok || p.Node.Index < 0 || p.Node.Index >= len(nodes) {
			continue
		}
		row := p.Node.Index / per
		cpu := float64(max(p.Requests.MilliCPU, 1))
		runFrom := s
		if !engine.IsSet(s) {
			runFrom = u
		}
		add(row, a, runFrom, 0, cpu, true)
		add(row, runFrom, u, int32(p.Job.ID), cpu, false)
	}
	spec := plot.GanttSpec{Rows: rows}
	if per > 1 {
		spec.Title = fmt.Sprintf("Pods on nodes (%d nodes in %d bands of %d, %d time bins of %.3g s)", len(nodes), rows, per, bins, width)
		spec.YLabel = "nodes (first of each band)"
	} else {
		spec.Title = fmt.Sprintf("Pods on nodes (%d time bins of %.3g s)", bins, width)
		spec.YLabel = "node"
	}
	for r := range rows {
		spec.RowLabels = append(spec.RowLabels, nodes[r*per].Name)
	}
	// Colour each cell, quantised to four shades so that equal
	// neighbours merge into one rectangle. The darkest shade is the
	// fullest cell's share of its band's CPU, so that a lightly loaded
	// cluster shows its pattern too.
	fullest := 0.0
	for i, c := range cells {
		fullest = math.Max(fullest, (c.run+c.start)/(capacity[i/bins]*width))
	}
	fullest = math.Min(fullest, 1)
	colour := func(c ganttCell, capa float64) (plot.Rect, bool) {
		held := c.run + c.start
		if held <= 0 {
			return plot.Rect{}, false
		}
		level := math.Ceil(math.Min(1, held/(capa*width)/fullest)*4) / 4
		col := plot.Color(int(c.job))
		if c.start > c.run {
			col = plot.Red
		}
		return plot.Rect{Color: plot.Fade(col, math.Max(level, 0.25))}, true
	}
	for r := range rows {
		open := false
		var cur plot.Rect
		for b := range bins {
			rc, ok := colour(cells[r*bins+b], capacity[r])
			x0 := t0 + float64(b)*width
			if open && ok && rc.Color == cur.Color {
				cur.X1 = x0 + width
				continue
			}
			if open {
				spec.Rects = append(spec.Rects, cur)
				open = false
			}
			if ok {
				cur = plot.Rect{X0: x0, X1: x0 + width, Y0: float64(r) + 0.02, Y1: float64(r) + 0.98, Color: rc.Color}
				open = true
			}
		}
		if open {
			spec.Rects = append(spec.Rects, cur)
		}
	}
	return spec, fmt.Sprintf("Too many nodes or pods to draw one bar per pod: rows are bands of %d node(s) and time is cut into %d bins of %.3g s. "+
		"Each cell takes the colour of the job holding most of the band's CPU in that bin (red when pods in start-up hold more than running ones), paler when less of the band's CPU is held: four shades, the darkest for cells holding up to %.0f%% of their band's CPU (the fullest cell), the palest up to a quarter of that.", per, bins, width, 100*fullest)
}

// UtilisationBins is the number of time bins of the utilisation figure.
const UtilisationBins = 1000

// utilisationFigure draws the requested share of the cluster over time:
// CPU held (assigned → finished, as the summary's utilisation), CPU of
// running containers, memory held and, with GPUs, GPUs held; each the
// time average over a bin. The mean of the CPU-held line over the
// utilisation window is the summary's cpu utilisation.
func utilisationFigure(res *engine.Result, meta Meta, sum Summary) (Figure, error) {
	t0, t1 := timeRange(res, sum)
	capa := res.Cluster.Capacity()
	bins := UtilisationBins
	width := (t1 - t0) / float64(bins)
	type series struct {
		name string
		cap  float64
		acc  *binAcc
		res  func(*engine.Pod) int64
		run  bool // from containers started, not assigned
	}
	ss := []*series{
		{name: "CPU held", cap: float64(capa.MilliCPU), res: func(p *engine.Pod) int64 { return p.Requests.MilliCPU }},
		{name: "CPU running", cap: float64(capa.MilliCPU), res: func(p *engine.Pod) int64 { return p.Requests.MilliCPU }, run: true},
		{name: "memory held", cap: float64(capa.Memory), res: func(p *engine.Pod) int64 { return p.Requests.Memory }},
	}
	if capa.GPU > 0 {
		ss = append(ss, &series{name: "GPU held", cap: float64(capa.GPU), res: func(p *engine.Pod) int64 { return p.Requests.GPU }})
	}
	for _, s := range ss {
		s.acc = newBinAcc(t0, width, bins)
	}
	for _, p := range res.Pods {
		if !engine.IsSet(p.Assigned) {
			continue
		}
		until := p.Finished
		if !engine.IsSet(until) {
			until = res.End
		}
		for _, s := range ss {
			from := p.Assigned
			if s.run {
				from = p.ContainersStarted
				if !engine.IsSet(from) {
					continue
				}
			}
			s.acc.add(from, until, float64(s.res(p)))
		}
	}
	spec := plot.XYSpec{Title: titled("Requested share of the cluster over time", meta), XLabel: "time (s)",
		YLabel: "requested ÷ allocatable (%)", YMin: 0, Width: 12, Height: 5}
	ymax := 1.0 // percent: the axis follows the data, so that a lightly loaded run shows its shape
	for i, s := range ss {
		if !(s.cap > 0) {
			continue
		}
		x, y := make([]float64, bins+1), make([]float64, bins+1)
		for b, v := range s.acc.integrals() {
			x[b] = t0 + float64(b)*width
			y[b] = 100 * v / (s.cap * width)
			ymax = math.Max(ymax, y[b])
		}
		x[bins], y[bins] = t1, y[bins-1] // the last step's end
		spec.Series = append(spec.Series, plot.Series{Name: s.name, X: x, Y: y, Lines: true, Step: true, Dashed: s.run, Color: plot.Color(i)})
	}
	spec.YMax = ymax * 1.15 // room for the legend above the lines
	f, err := plot.XY(spec)
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("Resources requested by the pods as a share of the cluster's allocatable resources, averaged over %d bins of %.3g s. "+
		"Held: from the moment the scheduler assumed the pod on its node until it finished, as the summary's utilisation (%s cpu over the whole window); running: from its containers' start. The gap between the two is start-up.",
		bins, width, pct(sum.Utilisation.CPU))
	return Figure{FigureInfo{UtilisationFigure, spec.Title, caption}, f}, nil
}

func pct(x float64) string {
	if !engine.IsSet(x) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

// binAcc integrates a sum of constant loads over intervals into bins
// of equal width in O(1) per interval: partial first and last bins
// directly, the full bins between through a difference array.
type binAcc struct {
	t0, width float64
	part      []float64 // value·seconds added directly
	diff      []float64 // difference array of loads covering whole bins
}

func newBinAcc(t0, width float64, bins int) *binAcc {
	return &binAcc{t0: t0, width: width, part: make([]float64, bins), diff: make([]float64, bins+1)}
}

func (a *binAcc) add(from, to, v float64) {
	n := len(a.part)
	lo, hi := a.t0, a.t0+float64(n)*a.width
	from, to = math.Max(from, lo), math.Min(to, hi)
	if !(to > from) || v == 0 {
		return
	}
	b0 := min(int((from-lo)/a.width), n-1)
	b1 := min(int((to-lo)/a.width), n-1)
	if b0 == b1 {
		a.part[b0] += (to - from) * v
		return
	}
	a.part[b0] += (lo + float64(b0+1)*a.width - from) * v
	a.part[b1] += (to - (lo + float64(b1)*a.width)) * v
	a.diff[b0+1] += v
	a.diff[b1] -= v
}

// integrals returns value·seconds per bin.
func (a *binAcc) integrals() []float64 {
	out := make([]float64, len(a.part))
	load := 0.0
	for b := range out {
		load += a.diff[b]
		out[b] = a.part[b] + load*a.width
	}
	return out
}

// predictionsFigure plots each workflow model's predictions of the
// predicting stages' runs against what they took.
func predictionsFigure(meta Meta) (Figure, error) {
	spec := plot.XYSpec{Title: titled("Predicted against actual run time per model", meta),
		XLabel: "actual wall time (s)", YLabel: "predicted wall time (s)", Width: 8, Height: 7}
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, w := range meta.Workflows {
		for _, m := range w.Models {
			var x, y []float64
			for _, p := range m.Predictions {
				if !engine.IsSet(p.Actual) || !engine.IsSet(p.Predicted) {
					continue
				}
				x, y = append(x, p.Actual), append(y, p.Predicted)
				lo, hi = math.Min(lo, math.Min(p.Actual, p.Predicted)), math.Max(hi, math.Max(p.Actual, p.Predicted))
			}
			name := m.Name
			if len(meta.Workflows) > 1 {
				name = w.Name + ": " + m.Name
			}
			spec.Series = append(spec.Series, plot.Series{Name: fmt.Sprintf("%s (n=%d, R²=%.3f)", name, len(x), m.Test.R2), X: x, Y: y, Points: true, Color: plot.Color(n)})
			n++
		}
	}
	if lo < hi {
		spec.Series = append(spec.Series, plot.Series{Name: "predicted = actual", X: []float64{lo, hi}, Y: []float64{lo, hi}, Lines: true, Dashed: true, Color: plot.Color(6)})
	}
	f, err := plot.XY(spec)
	if err != nil {
		return Figure{}, err
	}
	caption := "Each point is a run of a predicting stage: the model's prediction of its wall time (when it was submitted) against the wall time it took. Points on the dashed line are exact; R² is the model's test score in the summary."
	return Figure{FigureInfo{PredictionsFigure, spec.Title, caption}, f}, nil
}

// MeanCI95 returns the mean of the set values of v and the bounds of its
// 95% confidence interval (Student's t with n−1 degrees of freedom); the
// bounds are NaN with fewer than two values, and everything is NaN with
// none.
func MeanCI95(v []float64) (mean, lo, hi float64) {
	var xs []float64
	for _, x := range v {
		if engine.IsSet(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
	}
	n := float64(len(xs))
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, math.NaN(), math.NaN()
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	h := t * sd / math.Sqrt(n)
	return mean, mean - h, mean + h
}
