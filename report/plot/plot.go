// Package plot draws the figures of converge's reports with gonum/plot,
// each as PNG and SVG, from plain series: it knows nothing of runs,
// pods or network profiles, so that any package can feed it (report for
// a run's figures, cmd/sim for fitted network profiles and comparisons).
//
// Figures: XY (lines and/or points, linear or log axes, step lines for
// time series), CDF (empirical distribution functions, one per sample),
// Bars (one bar per category and group, with error bars or confidence
// intervals) and Gantt (rows of coloured rectangles).
//
// Output is deterministic: the same figure gives byte-identical PNG and
// SVG (gonum/plot writes no timestamp; fonts are the Liberation fonts
// built into gonum/plot, referred to by name in SVG, not embedded).
// Values that cannot be drawn (NaN, ±Inf, and non-positive values on a
// log axis) are left out, and a figure with nothing to draw says so in
// its title instead of failing.
package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// DPI is the resolution of the PNG files: a figure of Width × Height
// inches is Width·DPI × Height·DPI pixels.
const DPI = 96

// Default figure size, inches.
const (
	DefaultWidth  = 10.0
	DefaultHeight = 6.0
)

// Formats are the file formats every figure is written in, in order.
var Formats = []string{"png", "svg"}

// Figure is a finished plot, ready to encode.
type Figure struct {
	Title         string
	Width, Height float64 // inches
	p             *gplot.Plot
}

// Encode renders the figure as "png" or "svg".
func (f *Figure) Encode(format string) ([]byte, error) {
	var b bytes.Buffer
	if err := f.Write(&b, format); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write renders the figure as "png" or "svg" into w, without holding a
// second copy of the encoded file.
func (f *Figure) Write(w io.Writer, format string) (err error) {
	if format != "png" && format != "svg" {
		return fmt.Errorf("plot: unknown format %q (png or svg)", format)
	}
	defer func() {
		// gonum/plot panics on some inputs (a log axis over
		// non-positive values, say) that the constructors should have
		// cleaned out: report it as an error, never crash the run.
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing %q as %s: %v", f.Title, format, r)
		}
	}()
	wt, err := f.p.WriterTo(vg.Length(f.Width)*vg.Inch, vg.Length(f.Height)*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("plot: %q: %w", f.Title, err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("plot: %q: %w", f.Title, err)
	}
	return nil
}

// PixelSize is the size of the figure's PNG, pixels.
func (f *Figure) PixelSize() (w, h int) {
	return int(math.Round(f.Width * DPI)), int(math.Round(f.Height * DPI))
}

// newPlot makes a plot with the house style: title, axis labels, a
// light grid.
func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(10)
		a.Tick.Marker = plainTicks{}
	}
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	return p
}

func newFigure(title string, p *gplot.Plot, w, h float64) *Figure {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return &Figure{Title: title, Width: w, Height: h, p: p}
}

// Palette is the colours of series and of Gantt jobs, in order: the
// Tableau 10 palette without its red (red marks start-up delays in a
// Gantt chart) and with a darker olive, then nine more of the Tableau 20.
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0x9c, 0x9c, 0x1c, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
	{0xae, 0xc7, 0xe8, 0xff}, // light blue
	{0xff, 0xbb, 0x78, 0xff}, // light orange
	{0x98, 0xdf, 0x8a, 0xff}, // light green
	{0xc5, 0xb0, 0xd5, 0xff}, // light purple
	{0xc4, 0x9c, 0x94, 0xff}, // light brown
	{0xf7, 0xb6, 0xd2, 0xff}, // light pink
	{0xc7, 0xc7, 0xc7, 0xff}, // light grey
	{0xdb, 0xdb, 0x8d, 0xff}, // light olive
	{0x9e, 0xda, 0xe5, 0xff}, // light cyan
}

// Red marks start-up delays in Gantt charts.
var Red = color.RGBA{0xd6, 0x27, 0x28, 0xff}

// Color returns the i-th colour of Palette (cycling).
func Color(i int) color.RGBA {
	if i < 0 {
		i = -i
	}
	return Palette[i%len(Palette)]
}

// Fade mixes c with white: f = 1 gives c, f = 0 white.
func Fade(c color.RGBA, f float64) color.RGBA {
	f = math.Max(0, math.Min(1, f))
	mix := func(v uint8) uint8 { return uint8(math.Round(255 - (255-float64(v))*f)) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 0xff}
}

// plainTicks are gonum/plot's default ticks labelled without trailing
// zeros (250, not 250.00).
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []gplot.Tick {
	ts := gplot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			v := ts[i].Value
			if math.Abs(v) < 1e-12*math.Max(math.Abs(min), math.Abs(max)) {
				v = 0
			}
			ts[i].Label = strconv.FormatFloat(v, 'g', 10, 64)
		}
	}
	return ts
}

// plainLogTicks are gonum/plot's log ticks labelled as plain numbers
// (1000000, not 1e+06).
type plainLogTicks struct{}

func (plainLogTicks) Ticks(min, max float64) []gplot.Tick {
	ts := gplot.LogTicks{Prec: -1}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 10, 64)
		}
	}
	return ts
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// emptyNote is what a figure with no data adds to its title.
const emptyNote = " (no data)"
