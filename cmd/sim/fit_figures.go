package main

import (
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/convergesim/converge/network"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/report/plot"
)

// fitFigureBase is where the figures of a fitted profile go: beside the
// profile file, named after it (efa.yaml → efa-latency.png, ...).
func fitFigureBase(profile string) string {
	return strings.TrimSuffix(strings.TrimSuffix(profile, ".yaml"), ".yml")
}

// fitFigurePaths lists the files fitFigures writes for a profile path.
func fitFigurePaths(profile string) []string {
	base := fitFigureBase(profile)
	var out []string
	for _, kind := range []string{"latency", "bandwidth"} {
		for _, f := range report.FigureFiles(filepath.Base(base) + "-" + kind) {
			out = append(out, filepath.Join(filepath.Dir(base), f))
		}
	}
	return out
}

// fitFigures draws a fitted profile against the measurements it was
// fitted to, message size on log axes: the one-way time of osu_latency
// (measured; fitted: latency + size/bandwidth of the size's band, the
// rendezvous above the eager limit) and the streaming rate of osu_bw
// (measured; fitted: size/(stream gap + size/bandwidth)). A kind with no
// samples gets no figure.
func fitFigures(profile string, in network.FitInput, fit *network.Fit) ([]report.Figure, error) {
	p := &fit.Profile
	gaps := map[int]float64{}
	for _, b := range fit.Report.Bands {
		gaps[b.Band] = b.StreamGap
	}
	bandIndex := func(n int64) int {
		for i, b := range p.Bands {
			if b.MaxBytes == 0 || n <= b.MaxBytes {
				return i
			}
		}
		return len(p.Bands) - 1
	}
	base := filepath.Base(fitFigureBase(profile))
	var out []report.Figure
	for _, k := range []struct {
		kind, tool, title, ylabel string
		samples                   []network.FitSample
		scale                     float64 // to the Y unit
		model                     func(n int64) float64
	}{
		{"latency", "osu_latency", "One-way time per message", "one-way time (µs)", in.Latency, 1e6, p.Time},
		{"bandwidth", "osu_bw", "Streaming bandwidth", "bandwidth (MB/s, 10⁶ bytes)", in.Bandwidth, 1e-6, func(n int64) float64 {
			bw := p.BandOf(n).Bandwidth
			if !(bw > 0) || n <= 0 {
				return math.NaN()
			}
			return float64(n) / (gaps[bandIndex(n)] + float64(n)/bw)
		}},
	} {
		if len(k.samples) == 0 {
			continue
		}
		var mx, my []float64
		var sizes []int64
		for _, s := range k.samples {
			mx, my = append(mx, float64(s.Size)), append(my, s.Value*k.scale)
			if s.Size > 0 {
				sizes = append(sizes, s.Size)
			}
		}
		// The model at every measured size and on both sides of each
		// band edge, where it jumps.
		for _, b := range p.Bands {
			if b.MaxBytes > 0 {
				sizes = append(sizes, b.MaxBytes, b.MaxBytes+1)
			}
		}
		slices.Sort(sizes)
		sizes = slices.Compact(sizes)
		var fx, fy []float64
		if len(sizes) > 0 {
			lo, hi := sizes[0], sizes[len(sizes)-1]
			for _, n := range sizes {
				if n >= lo && n <= hi {
					fx, fy = append(fx, float64(n)), append(fy, k.model(n)*k.scale)
				}
			}
		}
		title := k.title + ": profile " + printableArg(p.Name) + " against its measurements"
		f, err := plot.XY(plot.XYSpec{Title: title, XLabel: "message size (bytes)", YLabel: k.ylabel, LogX: true, LogY: true, LegendLeft: true,
			Series: []plot.Series{
				{Name: "measured (" + k.tool + ")", X: mx, Y: my, Points: true, Color: plot.Color(0)},
				{Name: "fitted profile", X: fx, Y: fy, Lines: true, Color: plot.Color(1)},
			}})
		if err != nil {
			return nil, err
		}
		out = append(out, report.Figure{FigureInfo: report.FigureInfo{Name: base + "-" + k.kind, Title: title}, Plot: f})
	}
	return out, nil
}
