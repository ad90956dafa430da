package plot

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"
)

// checkFigure encodes f in both formats and checks that the PNG decodes
// to the figure's size, the SVG is well-formed XML holding the title,
// and a second encoding gives the same bytes.
func checkFigure(t *testing.T, f *Figure, title string) {
	t.Helper()
	pngData, err := f.Encode("png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w, h := f.PixelSize()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	svg, err := f.Encode("svg")
	if err != nil {
		t.Fatal(err)
	}
	if texts := svgText(t, svg); !strings.Contains(texts, title) {
		t.Errorf("SVG text %q does not hold the title %q", texts, title)
	}
	for _, format := range Formats {
		a, _ := f.Encode(format)
		b, err := f.Encode(format)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two encodings (%v)", format, err)
		}
	}
}

// svgText parses svg as XML and returns its text content.
func svgText(t *testing.T, svg []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			text.Write(tok)
		}
	}
	if root != "svg" {
		t.Fatalf("SVG root element is %q", root)
	}
	return text.String()
}

func TestXY(t *testing.T) {
	f, err := XY(XYSpec{Title: "latency", XLabel: "message size (bytes)", YLabel: "latency (s)", LogX: true, LogY: true,
		Series: []Series{
			{Name: "measured", X: []float64{0, 1, 8, 64, 1024}, Y: []float64{1e-6, 1.1e-6, 1.2e-6, 1.5e-6, 4e-6}, Points: true},
			{Name: "fitted", X: []float64{1, 1024}, Y: []float64{1e-6, 4e-6}, Lines: true, Dashed: true},
			{Name: "broken", X: []float64{math.NaN(), -1}, Y: []float64{1, 2}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, "latency")
	if strings.Contains(f.p.Title.Text, emptyNote) {
		t.Errorf("figure with data says it has none")
	}
}

func TestEmptyFigures(t *testing.T) {
	// Nothing drawable, on log axes: no panic, a title that says so.
	f, err := XY(XYSpec{Title: "nothing", LogX: true, LogY: true, Series: []Series{{X: []float64{0, -1}, Y: []float64{1, 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, "nothing (no data)")
	g, err := Gantt(GanttSpec{Title: "empty gantt"})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, g, "empty gantt (no data)")
	b, err := Bars(BarSpec{Title: "no bars"})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, b, "no bars (no data)")
	c, err := CDF(CDFSpec{Title: "no cdf", LogX: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, c, "no cdf (no data)")
}

func TestCDF(t *testing.T) {
	var big []float64
	for i := range 10000 {
		big = append(big, float64(i%997)+0.5)
	}
	f, err := CDF(CDFSpec{Title: "start-up", XLabel: "s", Samples: []Sample{{Name: "kube", Values: []float64{3, 1, 2, math.NaN()}}, {Name: "fluence", Values: big}}})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, "start-up")
	text := svgText(t, must(f.Encode("svg")))
	for _, want := range []string{"kube (n=3)", "fluence (n=10000)"} {
		if !strings.Contains(text, want) {
			t.Errorf("legend lacks %q", want)
		}
	}
}

func TestECDF(t *testing.T) {
	x, y := ecdf([]float64{3, 1, 2, math.Inf(1)}, false)
	if want := []float64{1, 2, 3}; !equal(x, want) || !equal(y, []float64{1.0 / 3, 2.0 / 3, 1}) {
		t.Errorf("ecdf = %v %v", x, y)
	}
	var v []float64
	for i := range 5 * MaxCDFPoints {
		v = append(v, float64(5*MaxCDFPoints-i))
	}
	x, y = ecdf(v, false)
	if len(x) != MaxCDFPoints || x[0] != 1 || x[len(x)-1] != float64(len(v)) || y[len(y)-1] != 1 || y[0] != 1/float64(len(v)) {
		t.Errorf("downsampled ecdf: %d points, from (%v,%v) to (%v,%v)", len(x), x[0], y[0], x[len(x)-1], y[len(y)-1])
	}
	// Only positive values on a log axis.
	if x, _ := ecdf([]float64{0, -2, 5}, true); !equal(x, []float64{5}) {
		t.Errorf("log ecdf kept %v", x)
	}
}

func TestBars(t *testing.T) {
	nan := math.NaN()
	f, err := Bars(BarSpec{Title: "wait", YLabel: "s", Categories: []string{"kube", "fluence", "coscheduling"},
		Groups: []BarGroup{
			{Name: "mean", Values: []float64{10, 20, nan}, Low: []float64{8, 15, nan}, High: []float64{12, 25, nan}},
			{Name: "p90", Values: []float64{30, 40, 50}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, "wait")
	if f.p.Y.Max < 50 {
		t.Errorf("Y axis ends at %v below the largest bar", f.p.Y.Max)
	}
}

func TestGantt(t *testing.T) {
	var rs []Rect
	for r := range 100 {
		rs = append(rs, Rect{X0: float64(r), X1: float64(r) + 5, Y0: float64(r), Y1: float64(r) + 1, Color: Red})
		rs = append(rs, Rect{X0: float64(r) + 5, X1: float64(r) + 50, Y0: float64(r), Y1: float64(r) + 1, Color: Color(r)})
	}
	labels := make([]string, 100)
	for i := range labels {
		labels[i] = "node-" + strings.Repeat("x", i%3)
	}
	f, err := Gantt(GanttSpec{Title: "gantt", XLabel: "time (s)", Rows: 100, RowLabels: labels, Rects: rs,
		Legend: []LegendItem{{"start-up", Red}, {"job 0", Color(0)}}, Width: 12, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, "gantt")
	if w, h := f.PixelSize(); w != 1152 || h != 768 {
		t.Errorf("pixel size %dx%d", w, h)
	}
	// The first row is at the top.
	if f.p.Y.Max != 100 {
		t.Errorf("Y range ends at %v", f.p.Y.Max)
	}
	ticks := f.p.Y.Tick.Marker.Ticks(0, 100)
	if len(ticks) > MaxRowLabels || len(ticks) < MaxRowLabels/2 || ticks[0].Value != 99.5 {
		t.Errorf("%d row labels, first at %v", len(ticks), ticks[0].Value)
	}
}

func TestEncodeUnknownFormat(t *testing.T) {
	f, _ := XY(XYSpec{Title: "x"})
	if _, err := f.Encode("gif"); err == nil {
		t.Error("gif encoded")
	}
}

func TestFade(t *testing.T) {
	if c := Fade(Red, 1); c != Red {
		t.Errorf("Fade(1) = %v", c)
	}
	if c := Fade(Red, 0); c.R != 255 || c.G != 255 || c.B != 255 {
		t.Errorf("Fade(0) = %v", c)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}
