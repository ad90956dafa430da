package plot

import (
	"image/color"
	"math"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named set of points of an XY figure.
type Series struct {
	Name string
	X, Y []float64
	// Lines draws a line through the points (in the order given);
	// Points marks each point. Neither: Lines.
	Lines, Points bool
	// Step draws the line as a step function: each Y holds until the
	// next X (a time series of a quantity that changes at instants).
	Step bool
	// Dashed draws the line dashed.
	Dashed bool
	// Color is the series' colour; nil: Palette in series order.
	Color color.Color
}

// XYSpec is an XY figure.
type XYSpec struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	// YMin and YMax fix the Y range when YMax > YMin (0, 0: from data).
	YMin, YMax float64
	// LegendLeft puts the legend top left (for rising lines) rather
	// than top right.
	LegendLeft bool
	// Width and Height in inches (0: DefaultWidth, DefaultHeight).
	Width, Height float64
}

// XY draws lines and points.
func XY(s XYSpec) (*Figure, error) {
	p := newPlot(s.Title, s.XLabel, s.YLabel)
	p.Add(plotter.NewGrid())
	if s.LogX {
		p.X.Scale = gplot.LogScale{}
		p.X.Tick.Marker = plainLogTicks{}
	}
	if s.LogY {
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = plainLogTicks{}
	}
	p.Legend.Left = s.LegendLeft
	drawn := 0
	for i, se := range s.Series {
		xys := clean(se.X, se.Y, s.LogX, s.LogY)
		col := se.Color
		if col == nil {
			col = Color(i)
		}
		lines := se.Lines || !se.Points
		var thumbs []gplot.Thumbnailer
		if len(xys) == 0 {
			continue
		}
		drawn++
		if lines {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = col
			l.Width = vg.Points(1.5)
			if se.Step {
				l.StepStyle = plotter.PostStep
			}
			if se.Dashed {
				l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if se.Points {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.Color = col
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(2.5)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if se.Name != "" {
			p.Legend.Add(se.Name, thumbs...)
		}
	}
	if drawn == 0 {
		p.Title.Text += emptyNote
		emptyRange(&p.X, s.LogX)
		emptyRange(&p.Y, s.LogY)
	}
	if s.YMax > s.YMin && !(s.LogY && s.YMin <= 0) {
		p.Y.Min, p.Y.Max = s.YMin, s.YMax
	}
	return newFigure(s.Title, p, s.Width, s.Height), nil
}

func emptyRange(a *gplot.Axis, log bool) {
	if log {
		a.Min, a.Max = 1, 10
	} else {
		a.Min, a.Max = 0, 1
	}
}

// clean pairs x and y, leaving out what cannot be drawn.
func clean(x, y []float64, logX, logY bool) plotter.XYs {
	n := min(len(x), len(y))
	out := make(plotter.XYs, 0, n)
	for i := range n {
		if !finite(x[i]) || !finite(y[i]) || logX && x[i] <= 0 || logY && y[i] <= 0 {
			continue
		}
		out = append(out, plotter.XY{X: x[i], Y: y[i]})
	}
	return out
}

// Sample is a named set of values, for CDF.
type Sample struct {
	Name   string
	Values []float64
}

// CDFSpec is a figure of empirical distribution functions.
type CDFSpec struct {
	Title, XLabel string
	LogX          bool
	Samples       []Sample
	Width, Height float64
}

// MaxCDFPoints bounds the points drawn per sample: a larger sample is
// drawn at this many evenly spaced ranks (its minimum and maximum
// included), which no eye can tell from the whole at figure size.
const MaxCDFPoints = 2000

// CDF draws each sample's empirical distribution function, the fraction
// of its values at most x, as a step line; the legend gives each
// sample's count.
func CDF(s CDFSpec) (*Figure, error) {
	xy := XYSpec{Title: s.Title, XLabel: s.XLabel, YLabel: "fraction at most x", LogX: s.LogX,
		YMin: 0, YMax: 1.02, Width: s.Width, Height: s.Height}
	for _, sm := range s.Samples {
		x, y := ecdf(sm.Values, s.LogX)
		name := sm.Name
		if name != "" {
			name = name + " (n=" + strconv.Itoa(len(x0(sm.Values, s.LogX))) + ")"
		}
		xy.Series = append(xy.Series, Series{Name: name, X: x, Y: y, Lines: true, Step: true})
	}
	f, err := XY(xy)
	if err != nil {
		return nil, err
	}
	f.p.Legend.Top = false
	f.p.Legend.Left = false
	f.p.Legend.YOffs = vg.Points(8)
	return f, nil
}

// x0 returns the drawable values of v, sorted.
func x0(v []float64, log bool) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if finite(x) && !(log && x <= 0) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// ecdf returns the steps of v's empirical distribution: at the k-th
// smallest value the fraction rises to k/n; at most MaxCDFPoints steps.
func ecdf(v []float64, log bool) (x, y []float64) {
	s := x0(v, log)
	n := len(s)
	if n == 0 {
		return nil, nil
	}
	m := min(n, MaxCDFPoints)
	for k := range m {
		i := k
		if m < n {
			i = int(math.Round(float64(k) * float64(n-1) / float64(m-1)))
		}
		x = append(x, s[i])
		y = append(y, float64(i+1)/float64(n))
	}
	return x, y
}
