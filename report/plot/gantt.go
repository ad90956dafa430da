package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Rect is a filled rectangle in data coordinates.
type Rect struct {
	X0, X1, Y0, Y1 float64
	Color          color.RGBA
}

// Rects is a gonum/plot plotter of filled rectangles, drawn in order.
type Rects []Rect

// Plot fills each rectangle, clipped to the data area. A rectangle
// narrower than a hairline is widened to one, so that short bars stay
// visible.
func (rs Rects) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	minW := vg.Points(0.5)
	for _, r := range rs {
		if !finite(r.X0) || !finite(r.X1) || !finite(r.Y0) || !finite(r.Y1) {
			continue
		}
		x0, x1, y0, y1 := tx(r.X0), tx(r.X1), ty(r.Y0), ty(r.Y1)
		if x1-x0 < minW {
			x1 = x0 + minW
		}
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(r.Color, c.ClipPolygonXY(pts))
	}
}

// DataRange is the rectangles' extent.
func (rs Rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, r := range rs {
		if !finite(r.X0) || !finite(r.X1) || !finite(r.Y0) || !finite(r.Y1) {
			continue
		}
		xmin, xmax = math.Min(xmin, math.Min(r.X0, r.X1)), math.Max(xmax, math.Max(r.X0, r.X1))
		ymin, ymax = math.Min(ymin, math.Min(r.Y0, r.Y1)), math.Max(ymax, math.Max(r.Y0, r.Y1))
	}
	if xmin > xmax {
		return 0, 1, 0, 1
	}
	return
}

// LegendItem is a colour and what it means.
type LegendItem struct {
	Label string
	Color color.RGBA
}

// GanttSpec is a Gantt chart: rows from top to bottom, rectangles in
// them.
type GanttSpec struct {
	Title, XLabel, YLabel string
	// Rows is the number of rows; RowLabels (nil, or one per row)
	// name them on the Y axis: every row when there are at most
	// MaxRowLabels, else about MaxRowLabels of them evenly spaced.
	Rows      int
	RowLabels []string
	// Rects are in row units counted from the top: row r spans Y from
	// r (its top) to r+1 (its bottom).
	Rects      []Rect
	Legend     []LegendItem
	XMin, XMax float64 // the time axis; XMax ≤ XMin: from the rectangles
	Width      float64
	Height     float64
}

// MaxRowLabels is the most row labels a Gantt chart writes.
const MaxRowLabels = 40

// Gantt draws a Gantt chart. The time axis is extended to the right to
// make room for the legend beside the bars rather than over them.
func Gantt(s GanttSpec) (*Figure, error) {
	p := newPlot(s.Title, s.XLabel, s.YLabel)
	grid := plotter.NewGrid()
	grid.Horizontal.Color = nil
	p.Add(grid)
	rows := float64(max(s.Rows, 1))
	rs := make(Rects, len(s.Rects))
	for i, r := range s.Rects {
		rs[i] = Rect{X0: r.X0, X1: r.X1, Y0: rows - r.Y1, Y1: rows - r.Y0, Color: r.Color}
	}
	p.Add(rs)
	xmin, xmax := s.XMin, s.XMax
	if !(xmax > xmin) {
		xmin, xmax, _, _ = rs.DataRange()
		xmin = math.Min(xmin, 0)
	}
	if !(xmax > xmin) {
		xmax = xmin + 1
	}
	if len(rs) == 0 {
		p.Title.Text += emptyNote
	}
	if len(s.Legend) > 0 {
		room := 0.2
		if len(s.Legend) == 1 {
			room = 0.12
		}
		xmax += room * (xmax - xmin)
		for _, l := range s.Legend {
			p.Legend.Add(l.Label, swatch(l.Color))
		}
	}
	p.X.Min, p.X.Max = xmin, xmax
	p.Y.Min, p.Y.Max = 0, rows
	var ticks []gplot.Tick
	if len(s.RowLabels) == s.Rows && s.Rows > 0 {
		step := 1
		if s.Rows > MaxRowLabels {
			step = int(math.Ceil(float64(s.Rows) / MaxRowLabels))
		}
		for r := 0; r < s.Rows; r += step {
			ticks = append(ticks, gplot.Tick{Value: rows - float64(r) - 0.5, Label: s.RowLabels[r]})
		}
	}
	p.Y.Tick.Marker = gplot.ConstantTicks(ticks)
	if s.Rows > MaxRowLabels/2 {
		p.Y.Tick.Label.Font.Size = vg.Points(8)
	}
	return newFigure(s.Title, p, s.Width, s.Height), nil
}
