package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarGroup is one series of a bar figure: a value per category, and
// optionally an interval around it (a 95% confidence interval, a range
// over replicates) drawn as an error bar. NaN leaves a bar or an
// interval out.
type BarGroup struct {
	Name      string
	Values    []float64
	Low, High []float64 // nil: no error bars
	Color     color.Color
}

// BarSpec is a bar figure: categories along X, one bar per group in
// each.
type BarSpec struct {
	Title, XLabel, YLabel string
	Categories            []string
	Groups                []BarGroup
	Width, Height         float64
}

// Bars draws grouped bars with error bars. The Y axis starts at 0.
func Bars(s BarSpec) (*Figure, error) {
	p := newPlot(s.Title, s.XLabel, s.YLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	nc, ng := len(s.Categories), len(s.Groups)
	slot := 0.8 / float64(max(ng, 1))
	var rs Rects
	var errs errBars
	ymax := 0.0
	for g, gr := range s.Groups {
		col := gr.Color
		if col == nil {
			col = Color(g)
		}
		rgba := toRGBA(col)
		for c := 0; c < nc && c < len(gr.Values); c++ {
			v := gr.Values[c]
			x0 := float64(c) - 0.4 + float64(g)*slot
			if finite(v) {
				rs = append(rs, Rect{X0: x0 + 0.05*slot, X1: x0 + 0.95*slot, Y0: math.Min(0, v), Y1: math.Max(0, v), Color: rgba})
				ymax = math.Max(ymax, v)
			}
			if c < len(gr.Low) && c < len(gr.High) && finite(gr.Low[c]) && finite(gr.High[c]) {
				errs = append(errs, errBar{x: x0 + 0.5*slot, lo: gr.Low[c], hi: gr.High[c]})
				ymax = math.Max(ymax, gr.High[c])
			}
		}
		if gr.Name != "" {
			p.Legend.Add(gr.Name, swatch(rgba))
		}
	}
	p.Add(rs) // the bars under their error bars
	if len(errs) > 0 {
		p.Add(errs)
	}
	ticks := make(gplot.ConstantTicks, nc)
	for c, name := range s.Categories {
		ticks[c] = gplot.Tick{Value: float64(c), Label: name}
	}
	p.X.Tick.Marker = ticks
	p.X.Tick.Length = 0
	p.X.Min, p.X.Max = -0.5, float64(nc)-0.5
	if nc == 0 {
		p.X.Min, p.X.Max = -0.5, 0.5
	}
	p.Y.Min = 0
	if ymax <= 0 {
		p.Y.Max = 1
		if len(rs) == 0 {
			p.Title.Text += emptyNote
		}
	} else {
		p.Y.Max = ymax * 1.08
	}
	return newFigure(s.Title, p, s.Width, s.Height), nil
}

// errBar is one interval.
type errBar struct{ x, lo, hi float64 }

type errBars []errBar

// Plot draws each interval as a vertical line with caps.
func (e errBars) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	ls := draw.LineStyle{Color: color.Black, Width: vg.Points(1.2)}
	cw := vg.Points(4)
	for _, b := range e {
		x, lo, hi := tx(b.x), ty(b.lo), ty(b.hi)
		c.StrokeLines(ls, []vg.Point{{X: x, Y: lo}, {X: x, Y: hi}})
		c.StrokeLines(ls, []vg.Point{{X: x - cw, Y: lo}, {X: x + cw, Y: lo}})
		c.StrokeLines(ls, []vg.Point{{X: x - cw, Y: hi}, {X: x + cw, Y: hi}})
	}
}

// DataRange makes the intervals part of the plot's range.
func (e errBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, b := range e {
		xmin, xmax = math.Min(xmin, b.x), math.Max(xmax, b.x)
		ymin, ymax = math.Min(ymin, b.lo), math.Max(ymax, b.hi)
	}
	return
}

// swatch is a legend thumbnail: a filled box.
type swatch color.RGBA

func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(color.RGBA(s), c.ClipPolygonXY(pts))
}

func toRGBA(c color.Color) color.RGBA {
	if rgba, ok := c.(color.RGBA); ok {
		return rgba
	}
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
