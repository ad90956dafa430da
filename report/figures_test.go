package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/report/plot"
)

func isImage(name string) bool {
	return strings.HasSuffix(name, ".png") || strings.HasSuffix(name, ".svg")
}

// workflowMeta is fixtureMeta with a workflow whose model kept its
// predictions.
func workflowMeta() Meta {
	m := fixtureMeta()
	m.Workflows = []Workflow{{Name: "lammps", Start: 0, End: 16, Done: true,
		Stages: []WorkflowStage{{Name: "run", Runs: 3, WallMean: 12}},
		Models: []WorkflowModel{{Name: "linear", Test: Regression{N: 3, R2: 0.9},
			Predictions: []Prediction{{Actual: 10, Predicted: 11}, {Actual: 12, Predicted: 12.5}, {Actual: 14, Predicted: 13}}}},
	}}
	return m
}

func TestRunFigureNames(t *testing.T) {
	if got := RunFigureNames(fixtureMeta()); !slices.Equal(got, []string{GanttFigure, UtilisationFigure}) {
		t.Errorf("a run without workflows gets %v", got)
	}
	if got := RunFigureNames(workflowMeta()); !slices.Equal(got, []string{GanttFigure, UtilisationFigure, PredictionsFigure}) {
		t.Errorf("a run with a workflow model gets %v", got)
	}
	// A workflow without models has nothing to predict.
	m := fixtureMeta()
	m.Workflows = []Workflow{{Name: "w"}}
	if got := RunFigureNames(m); len(got) != 2 {
		t.Errorf("a workflow without models gets %v", got)
	}
}

// svgTitle parses an SVG file as XML and returns its text content.
func svgText(t *testing.T, name string, data []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var b strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			b.Write(tok)
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q", name, root)
	}
	return b.String()
}

func TestWriteFigures(t *testing.T) {
	for _, c := range []struct {
		name    string
		stalled bool
		meta    Meta
		figures []string
		titles  []string
	}{
		{"complete", false, fixtureMeta(), []string{"gantt", "utilisation"}, []string{"Pods on nodes — golden, first-fit", "Requested share of the cluster over time — golden, first-fit"}},
		{"stalled", true, fixtureMeta(), []string{"gantt", "utilisation"}, []string{"Pods on nodes", "Requested share"}},
		{"workflow", false, workflowMeta(), []string{"gantt", "utilisation", "predictions"}, []string{"Pods on nodes", "Requested share", "Predicted against actual run time per model"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := Write(dir, fixture(c.stalled), c.meta, Options{}); err != nil {
				t.Fatal(err)
			}
			files := readAll(t, dir)
			want := slices.Clone(Files())
			if c.name == "workflow" {
				want = append(want, FigureFiles(PredictionsFigure)...)
			}
			slices.Sort(want)
			if got := names(t, dir); !slices.Equal(got, want) {
				t.Errorf("folder holds %v, want %v", got, want)
			}
			index := string(files[IndexFile])
			for i, fig := range c.figures {
				img, err := png.Decode(bytes.NewReader(files[fig+".png"]))
				if err != nil {
					t.Fatalf("%s.png: %v", fig, err)
				}
				w, h := 12*plot.DPI, 8*plot.DPI // the Gantt chart
				switch fig {
				case UtilisationFigure:
					w, h = 12*plot.DPI, 5*plot.DPI
				case PredictionsFigure:
					w, h = 8*plot.DPI, 7*plot.DPI
				}
				if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
					t.Errorf("%s.png is %dx%d, want %dx%d", fig, b.Dx(), b.Dy(), w, h)
				}
				if text := svgText(t, fig+".svg", files[fig+".svg"]); !strings.Contains(text, c.titles[i]) {
					t.Errorf("%s.svg lacks its title %q", fig, c.titles[i])
				}
				for _, ref := range []string{`<img src="` + fig + `.png"`, `href="` + fig + `.svg"`} {
					if !strings.Contains(index, ref) {
						t.Errorf("index.html lacks %s", ref)
					}
				}
			}
			// The summary, escaped, and a link to every data file.
			if !strings.Contains(index, "<pre") || !strings.Contains(index, "pod startup delay") {
				t.Errorf("index.html does not show the summary")
			}
			if c.stalled != strings.Contains(index, `<pre class="warn">`) {
				t.Errorf("stall warning shown: %v, want %v", !c.stalled, c.stalled)
			}
			for _, f := range []string{SummaryFile, ResultsFile, JobsFile, PodsFile, EventsFile} {
				if !strings.Contains(index, `href="`+f+`"`) {
					t.Errorf("index.html does not link %s", f)
				}
			}
			if strings.Contains(index, "<script") || strings.Contains(index, "http://") || strings.Contains(index, "https://") {
				t.Errorf("index.html has a script or an external address")
			}
		})
	}
}

// A forced write of a run without workflows over one with them removes
// the predictions figure: it belongs to the report, not the user.
func TestWriteForceDropsOldFigures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, fixture(false), workflowMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, fixture(false), fixtureMeta(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range FigureFiles(PredictionsFigure) {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s of the earlier run outlived it", f)
		}
	}
}

// bigRun builds a run of nodes × perNode pods, each job one pod per
// node in a wave, for the banded Gantt chart.
func bigRun(nodes, jobs int) *engine.Result {
	var ns []*engine.Node
	for i := range nodes {
		ns = append(ns, &engine.Node{Index: i, Name: fmt.Sprintf("node-%04d", i), Allocatable: engine.Resources{MilliCPU: 2000, Memory: 4 * engine.GiB, Pods: 110}})
	}
	res := &engine.Result{Seed: 1, Policy: "kube", Cluster: &engine.Cluster{Nodes: ns}}
	id := 0
	for j := range jobs {
		job := &engine.Job{ID: j, Name: fmt.Sprintf("job-%d", j), Kind: engine.KindIndexedJob, Parallelism: nodes, Completions: nodes, Submitted: float64(j * 100), Finished: float64(j*100 + 100)}
		res.Jobs = append(res.Jobs, job)
		for i, n := range ns {
			t0 := float64(j * 100)
			p := pod(id, fmt.Sprintf("%s-%d", job.Name, i), job, i, n, engine.Resources{MilliCPU: 1000, Memory: engine.GiB, Pods: 1},
				t0, t0+1, t0+1, t0+2, t0+10, t0+10, t0+100)
			res.Pods = append(res.Pods, p)
			id++
		}
	}
	res.End = float64(jobs * 100)
	return res
}

func TestGanttBands(t *testing.T) {
	res := bigRun(1000, 3) // 300 s: bins of 1 s
	sum := Summarize(res)
	spec, caption := ganttBands(res, 0, sum.WindowEnd)
	if GanttBins != 300 {
		t.Fatalf("the arithmetic below assumes 300 bins, not %d", GanttBins)
	}
	// 1000 nodes in bands of 4: 250 rows.
	if spec.Rows != 250 || len(spec.RowLabels) != 250 || spec.RowLabels[1] != "node-0004" {
		t.Errorf("%d rows, labels %v…", spec.Rows, spec.RowLabels[:2])
	}
	if !strings.Contains(spec.Title, "1000 nodes in 250 bands of 4") || !strings.Contains(caption, "bands of 4 node(s)") {
		t.Errorf("title %q does not say the rows are bands", spec.Title)
	}
	// Every job holds half of each band's CPU (4 of 8 cores), the
	// fullest any cell gets, so its cells take the darkest shade. Per
	// job and band one red run (start-up, assigned 1 s after submission
	// → started at 10 s) and one coloured run (10 → 100 s), merged
	// along time: 2 per job, 6 per row.
	if !strings.Contains(caption, "up to 50% of their band's CPU") {
		t.Errorf("caption does not give the darkest shade's share: %s", caption)
	}
	if len(spec.Rects) != 250*6 {
		t.Errorf("%d rectangles, want %d", len(spec.Rects), 250*6)
	}
	reds := 0
	for _, r := range spec.Rects {
		if r.Color == plot.Red {
			reds++
			if math.Abs((r.X1-r.X0)-9) > 1e-9 {
				t.Errorf("start-up run %v–%v, want 9 s", r.X0, r.X1)
			}
		} else if r.Color != plot.Color(int(math.Round(r.X0))/100) || math.Abs((r.X1-r.X0)-90) > 1e-9 {
			t.Errorf("run %v–%v coloured %v, want job %d's colour for 90 s", r.X0, r.X1, r.Color, int(r.X0)/100)
		}
	}
	if reds != 250*3 {
		t.Errorf("%d red runs, want %d", reds, 250*3)
	}
	// The figure through RunFigures: a big run is banded, a small one not.
	figs, err := RunFigures(res, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(figs[0].Title, "bands") {
		t.Errorf("1000-node Gantt title %q", figs[0].Title)
	}
	figs, err = RunFigures(bigRun(10, 2), Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(figs[0].Title, "bands") || !strings.Contains(figs[0].Caption, "One row per node (10 nodes)") {
		t.Errorf("10-node Gantt: %q, %q", figs[0].Title, figs[0].Caption)
	}
}

func TestGanttPodsLanes(t *testing.T) {
	// Two jobs' pods on node-a overlap in time: two lanes, half a row each.
	res := fixture(false)
	spec, _ := ganttPods(res, 0, 16)
	var onA []plot.Rect
	for _, r := range spec.Rects {
		if r.Y0 < 1 {
			onA = append(onA, r)
		}
	}
	// mpi-0 (1 → 3.5 red, 3.5 → 13.5) and web (2.5 → 4 red, 4 → 8).
	if len(onA) != 4 {
		t.Fatalf("%d rectangles on node-a, want 4: %v", len(onA), onA)
	}
	if onA[0].Color != plot.Red || onA[0].X0 != 1 || onA[0].X1 != 3.5 || onA[1].X0 != 3.5 || onA[1].X1 != 13.5 {
		t.Errorf("mpi-0 drawn as %v %v", onA[0], onA[1])
	}
	if onA[2].Y0 <= onA[0].Y1 || onA[2].X0 != 2.5 || onA[3].X1 != 8 {
		t.Errorf("web not in a lane of its own: %v %v", onA[2], onA[3])
	}
}

func TestBinAcc(t *testing.T) {
	a := newBinAcc(0, 10, 10)
	a.add(5, 35, 2)   // 5 s in bin 0, bins 1 and 2 whole, 5 s in bin 3
	a.add(91, 200, 1) // clipped to the end: 9 s in bin 9
	a.add(-5, 2, 4)   // clipped to the start: 2 s in bin 0
	a.add(40, 40, 9)  // empty
	got := a.integrals()
	want := []float64{10 + 8, 20, 20, 10, 0, 0, 0, 0, 0, 9}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("bin %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// The mean of the utilisation figure's CPU-held line is the summary's
// cpu utilisation (first submission at 0).
func TestUtilisationMatchesSummary(t *testing.T) {
	res := fixture(false)
	sum := Summarize(res)
	capa := res.Cluster.Capacity()
	acc := newBinAcc(0, sum.WindowEnd/UtilisationBins, UtilisationBins)
	for _, p := range res.Pods {
		acc.add(p.Assigned, p.Finished, float64(p.Requests.MilliCPU))
	}
	total := 0.0
	for _, v := range acc.integrals() {
		total += v
	}
	if got := total / (float64(capa.MilliCPU) * sum.WindowEnd); math.Abs(got-sum.Utilisation.CPU) > 1e-9 {
		t.Errorf("binned cpu %v, summary %v", got, sum.Utilisation.CPU)
	}
}

func TestMeanCI95(t *testing.T) {
	m, lo, hi := MeanCI95([]float64{1, 2, 3, 4, 5, math.NaN()})
	// sd = √2.5, t(0.975, 4) = 2.776445: half-width 2.776445·√2.5/√5.
	h := 2.7764451051977987 * math.Sqrt(2.5) / math.Sqrt(5)
	if m != 3 || math.Abs(lo-(3-h)) > 1e-6 || math.Abs(hi-(3+h)) > 1e-6 {
		t.Errorf("MeanCI95 = %v [%v, %v], want 3 ± %v", m, lo, hi, h)
	}
	if m, lo, _ := MeanCI95([]float64{7}); m != 7 || !math.IsNaN(lo) {
		t.Errorf("one value: %v %v", m, lo)
	}
	if m, _, _ := MeanCI95(nil); !math.IsNaN(m) {
		t.Errorf("no value: %v", m)
	}
}

// An empty run (no cluster, no pods) still gets its figures, saying
// they have no data.
func TestRunFiguresEmptyRun(t *testing.T) {
	figs, err := RunFigures(&engine.Result{}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 {
		t.Fatalf("%d figures", len(figs))
	}
	for _, f := range figs {
		for _, format := range plot.Formats {
			if _, err := f.Plot.Encode(format); err != nil {
				t.Errorf("%s.%s: %v", f.Name, format, err)
			}
		}
	}
}

// BenchmarkRunFigures1M draws and encodes the figures of a run of
// 1,000,000 pods on 10,000 nodes (100 jobs of one pod per node): the
// banded Gantt chart and the utilisation over time, PNG and SVG, from
// the summary Commit has already computed.
//
//	go test ./report/ -run '^$' -bench RunFigures1M -benchmem
func BenchmarkRunFigures1M(b *testing.B) {
	res := bigRun(10000, 100)
	sum := Summarize(res)
	b.ResetTimer()
	for b.Loop() {
		figs, err := runFigures(res, Meta{}, sum)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range figs {
			for _, format := range plot.Formats {
				if err := f.Plot.Write(io.Discard, format); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
