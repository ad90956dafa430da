package network

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/convergesim/converge/internal/limitio"
)

// ErrFit is wrapped by every error about a fit that cannot be done
// (no samples, one message size only, a time that falls with size).
var ErrFit = errors.New("network: cannot fit")

// printable returns a name for a table or a message: as it is when it
// is valid UTF-8 of printable characters and not long, else quoted with
// escapes and cut, so that no name can break a line, a YAML comment or
// a terminal.
func printable(s string) string {
	if len(s) <= 200 && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return limitio.Quote(s, 200)
}

// InputFile names a measurement file in a fit's provenance.
type InputFile struct {
	Path       string `yaml:"path" json:"path"`
	SHA256     string `yaml:"sha256" json:"sha256"`
	Format     string `yaml:"format" json:"format"`
	Kind       string `yaml:"kind" json:"kind"` // latency, bandwidth, bulk
	Experiment string `yaml:"experiment,omitempty" json:"experiment,omitempty"`
	Tool       string `yaml:"tool,omitempty" json:"tool,omitempty"` // "iperf 3.12", "OSU MPI Latency Test v7.3"
	Samples    int    `yaml:"samples" json:"samples"`
}

// FitSample is one measurement of one message size.
type FitSample struct {
	Size  int64
	Value float64 // seconds (latency) or bytes per second (bandwidth)
	Input int     // index in FitInput.Files
	Line  int
}

// BulkRun is one iperf3 run as the fit uses it.
type BulkRun struct {
	Input   int
	Streams int
	// Rates and Seconds are the run's non-omitted intervals: the rate
	// summed over the streams (bytes/s) and the interval's length.
	Rates, Seconds []float64
	MinRTT         float64 // seconds, 0 if unknown
	PMTU           int     // path MTU the streams reported, 0 if unknown
	// CPUPerByte is the CPU time both ends burnt per byte received,
	// averaged over the two nodes (0 if iperf3 did not report it).
	CPUPerByte float64
}

// FitInput is what a fit is made from.
type FitInput struct {
	Files     []InputFile
	Latency   []FitSample // one-way ping-pong time per message (osu_latency)
	Bandwidth []FitSample // windowed streaming rate (osu_bw)
	Bulk      []BulkRun   // iperf3 runs
}

// The kinds of input file (InputFile.Kind) and of their samples.
const (
	// KindLatency is a one-way ping-pong time per message size
	// (osu_latency), seconds.
	KindLatency = "latency"
	// KindBandwidth is a windowed streaming rate per message size
	// (osu_bw), bytes per second.
	KindBandwidth = "bandwidth"
	// KindBulk is a bulk TCP transfer (iperf3).
	KindBulk = "bulk"
)

// Point is one measurement of one message size in a file: the size in
// bytes, the value in SI units (seconds for KindLatency, bytes per
// second for KindBandwidth) and the line it was read from (0 if none).
type Point struct {
	Size  int64
	Value float64
	Line  int
}

// AddSeries adds the points of one input file, whose Kind says what they
// are (KindLatency or KindBandwidth); the file's Samples is set to their
// number. A bandwidth point needs a positive message size.
func (in *FitInput) AddSeries(file InputFile, points []Point) error {
	if file.Kind != KindLatency && file.Kind != KindBandwidth {
		return &InputError{File: file.Path, Msg: fmt.Sprintf("unknown series kind %s (want %s or %s)", quote(file.Kind), KindLatency, KindBandwidth)}
	}
	file.Samples = len(points)
	idx := len(in.Files)
	in.Files = append(in.Files, file)
	for _, s := range points {
		switch file.Kind {
		case KindLatency:
			in.Latency = append(in.Latency, FitSample{Size: s.Size, Value: s.Value, Input: idx, Line: s.Line})
		default:
			if s.Size == 0 {
				return &InputError{File: file.Path, Line: s.Line, Field: "size", Msg: "0: a bandwidth sample needs a positive message size"}
			}
			in.Bandwidth = append(in.Bandwidth, FitSample{Size: s.Size, Value: s.Value, Input: idx, Line: s.Line})
		}
	}
	return nil
}

// AddBulk adds one bulk-transfer run of an input file (run.Input is set
// here; its Rates and Seconds must be as long as each other and not
// empty). Consecutive runs of one file (the same path and SHA-256:
// iperf3 --logfile appends one per run) count as one input, whose
// Samples add up.
func (in *FitInput) AddBulk(file InputFile, run BulkRun) error {
	if len(run.Rates) == 0 || len(run.Rates) != len(run.Seconds) {
		return &InputError{File: file.Path, Msg: fmt.Sprintf("a bulk run needs as many rates as interval lengths, at least one (%d rates, %d lengths)", len(run.Rates), len(run.Seconds))}
	}
	if run.Streams < 1 {
		return &InputError{File: file.Path, Field: "streams", Msg: fmt.Sprintf("%d: a bulk run has at least one stream", run.Streams)}
	}
	for i, r := range run.Rates {
		if !(r >= 0) || math.IsInf(r, 0) || !(run.Seconds[i] > 0) || math.IsInf(run.Seconds[i], 0) {
			return &InputError{File: file.Path, Field: fmt.Sprintf("rates[%d]", i), Msg: fmt.Sprintf("%g B/s over %g s: want a finite rate, not negative, over a positive time", r, run.Seconds[i])}
		}
	}
	for _, v := range []struct {
		field string
		v     float64
	}{{"minRTT", run.MinRTT}, {"cpuPerByte", run.CPUPerByte}} {
		if !(v.v >= 0) || math.IsInf(v.v, 0) {
			return &InputError{File: file.Path, Field: v.field, Msg: fmt.Sprintf("%g must be finite and not negative", v.v)}
		}
	}
	if n := len(in.Files); n > 0 && in.Files[n-1].Path == file.Path && in.Files[n-1].SHA256 == file.SHA256 && in.Files[n-1].Kind == KindBulk {
		// Another run of the same file.
		run.Input = n - 1
		in.Files[n-1].Samples += len(run.Rates)
		in.Bulk = append(in.Bulk, run)
		return nil
	}
	run.Input = len(in.Files)
	file.Kind = KindBulk
	file.Samples = len(run.Rates)
	in.Files = append(in.Files, file)
	in.Bulk = append(in.Bulk, run)
	return nil
}

// FitOptions control FitProfile.
type FitOptions struct {
	// Bands are the largest message sizes of every band but the last,
	// ascending (8192, 65536 gives three bands). Nil chooses them.
	Bands []int64
	// MaxBands bounds the automatic choice (default 4).
	MaxBands int
	// MinSizes is the fewest distinct message sizes an automatic band
	// may hold (default 3), so that a band's error is a test of its line.
	MinSizes int
	// MinGain: an automatic split is kept only if it removes at least
	// this fraction of the remaining squared error (default 0.15), and
	// only while the fit's RMS relative error of the per-size means is
	// above MinRMS (default 0.01).
	MinGain, MinRMS float64
	// Tool and Command go into the provenance.
	Tool, Command string
}

// Residuals sum up how far a fitted model is from the samples it was
// fitted on: relative errors (model − measured)/measured.
type Residuals struct {
	Points    int     `yaml:"points" json:"points"`
	Sizes     int     `yaml:"sizes" json:"sizes"` // distinct message sizes
	MinSize   int64   `yaml:"minSize" json:"minSize"`
	MaxSize   int64   `yaml:"maxSize" json:"maxSize"`
	RMSRelErr float64 `yaml:"rmsRelErr" json:"rmsRelErr"`
	MaxRelErr float64 `yaml:"maxRelErr" json:"maxRelErr"` // largest |relative error|
	WorstSize int64   `yaml:"worstSize" json:"worstSize"` // the size where it occurs
	// MeanRMSRelErr and MeanMaxRelErr compare the model with the mean
	// of the samples at each size: the lack of fit, without the
	// run-to-run spread.
	MeanRMSRelErr float64 `yaml:"meanRmsRelErr" json:"meanRmsRelErr"`
	MeanMaxRelErr float64 `yaml:"meanMaxRelErr" json:"meanMaxRelErr"`
	// Spread is the RMS relative deviation of the samples from their
	// size's mean: the run-to-run noise no model removes.
	Spread float64 `yaml:"spread" json:"spread"`
}

// BandFit is the fit of one band: the samples it covers and their
// errors against the fitted profile.
type BandFit struct {
	Band    int   `yaml:"band" json:"band"`
	MinSize int64 `yaml:"minSize" json:"minSize"` // smallest sampled size in the band
	MaxSize int64 `yaml:"maxSize" json:"maxSize"` // largest sampled size in the band
	// StreamGap is the per-message cost of back-to-back sends in the
	// band (the intercept of osu_bw's time per message), seconds.
	StreamGap float64    `yaml:"streamGap,omitempty" json:"streamGap,omitempty"`
	Latency   *Residuals `yaml:"latency,omitempty" json:"latency,omitempty"`
	Bandwidth *Residuals `yaml:"bandwidth,omitempty" json:"bandwidth,omitempty"`
	Bulk      *Residuals `yaml:"bulk,omitempty" json:"bulk,omitempty"`
}

// InputFit is the error of the fitted profile on one input file.
type InputFit struct {
	Path       string    `yaml:"path" json:"path"`
	Kind       string    `yaml:"kind" json:"kind"`
	Experiment string    `yaml:"experiment,omitempty" json:"experiment,omitempty"`
	Residuals  Residuals `yaml:"residuals" json:"residuals"`
}

// FitReport is what a fit reports besides the profile.
type FitReport struct {
	Method string     `yaml:"method" json:"method"`
	Bands  []BandFit  `yaml:"bands" json:"bands"`
	Inputs []InputFit `yaml:"inputs" json:"inputs"`
}

// ParamSource says which samples a parameter came from.
type ParamSource struct {
	Param string `yaml:"param" json:"param"`
	From  string `yaml:"from" json:"from"`
}

// Provenance is where a profile's parameters came from.
type Provenance struct {
	Tool       string        `yaml:"tool" json:"tool"`
	Command    string        `yaml:"command" json:"command"`
	Inputs     []InputFile   `yaml:"inputs" json:"inputs"`
	Parameters []ParamSource `yaml:"parameters" json:"parameters"`
	Notes      []string      `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Fit is the fit: section of a profile file, if it has one.
	Fit *FitReport `yaml:"-" json:"-"`
}

// Fit is a fitted profile with its errors and provenance.
type Fit struct {
	Profile    Profile
	Report     FitReport
	Provenance Provenance
}

// fitMethod describes the procedure in the profile file.
const fitMethod = "per band, weighted linear least squares (gonum QR) of relative errors: " +
	"osu_latency time t = latency + size/bandwidth and osu_bw time per message " +
	"size/rate = streamGap + size/bandwidth, sharing the band's bandwidth; " +
	"automatic bands split greedily where the error drops most; " +
	"iperf3: one-stream bulk rate is the last band's bandwidth, parallel streams the link bandwidth"

// group is the mean of the samples of one kind at one size.
type group struct {
	size  int64
	mean  float64 // seconds: latency, or time per message for bandwidth
	count int
}

func groupSamples(s []FitSample, perMessage bool) []group {
	byKey := map[int64]*group{}
	var sizes []int64
	for _, x := range s {
		v := x.Value
		if perMessage {
			v = float64(x.Size) / x.Value
		}
		g := byKey[x.Size]
		if g == nil {
			g = &group{size: x.Size}
			byKey[x.Size] = g
			sizes = append(sizes, x.Size)
		}
		g.mean += v
		g.count++
	}
	slices.Sort(sizes)
	out := make([]group, len(sizes))
	for i, sz := range sizes {
		g := byKey[sz]
		g.mean /= float64(g.count)
		out[i] = *g
	}
	return out
}

// lineFit is one band's least-squares solution.
type lineFit struct {
	latency, gap, slope float64 // slope: seconds per byte = 1/bandwidth
	cost                float64 // weighted sum of squared relative errors of the means
	weight              float64 // sum of weights
	notes               []string
}

// solveBand fits latency (intercept of the ping-pong times), gap
// (intercept of the streaming time per message) and the shared slope to
// the means of one band, minimising squared relative errors weighted by
// the number of samples. Intercepts that come out negative are fixed at
// zero and the rest refitted.
func solveBand(lat, bw []group) (lineFit, error) {
	sizes := map[int64]bool{}
	nl, nb := map[int64]bool{}, map[int64]bool{}
	for _, g := range lat {
		sizes[g.size], nl[g.size] = true, true
	}
	for _, g := range bw {
		sizes[g.size], nb[g.size] = true, true
	}
	if len(sizes) == 0 {
		return lineFit{}, fmt.Errorf("%w: no samples", ErrFit)
	}
	if len(nl) < 2 && len(nb) < 2 {
		return lineFit{}, fmt.Errorf("%w: samples at one message size only: a bandwidth needs at least two sizes", ErrFit)
	}
	useL, useG := len(lat) > 0, len(bw) > 0
	var notes []string
	for range 3 {
		f, err := solveBandWith(lat, bw, useL, useG)
		if err != nil {
			return lineFit{}, err
		}
		if f.slope <= 0 {
			return lineFit{}, fmt.Errorf("%w: time falls or stays flat as messages grow (slope %.3g s/B): no positive bandwidth", ErrFit, f.slope)
		}
		switch {
		case useL && f.latency < 0:
			useL = false
			notes = append(notes, fmt.Sprintf("latency intercept came out %.3g s; fixed at 0", f.latency))
			continue
		case useG && f.gap < 0:
			useG = false
			notes = append(notes, fmt.Sprintf("stream gap came out %.3g s; fixed at 0", f.gap))
			continue
		}
		f.notes = notes
		return f, nil
	}
	return lineFit{}, fmt.Errorf("%w: no non-negative solution", ErrFit)
}

func solveBandWith(lat, bw []group, useL, useG bool) (lineFit, error) {
	cols := 1
	li, gi := -1, -1
	if useL {
		li = cols
		cols++
	}
	if useG {
		gi = cols
		cols++
	}
	rows := len(lat) + len(bw)
	if rows < cols {
		return lineFit{}, fmt.Errorf("%w: %d size means for %d parameters", ErrFit, rows, cols)
	}
	a := mat.NewDense(rows, cols, nil)
	b := mat.NewVecDense(rows, nil)
	wsum := 0.0
	// Scale sizes so the columns are of similar magnitude.
	scale := 1.0
	for _, g := range append(append([]group(nil), lat...), bw...) {
		scale = math.Max(scale, float64(g.size))
	}
	r := 0
	add := func(g group, ic int) {
		w := math.Sqrt(float64(g.count)) / g.mean // relative error, weighted by count
		a.Set(r, 0, float64(g.size)/scale*w)
		if ic >= 0 {
			a.Set(r, ic, w)
		}
		b.SetVec(r, g.mean*w)
		wsum += float64(g.count)
		r++
	}
	for _, g := range lat {
		add(g, li)
	}
	for _, g := range bw {
		add(g, gi)
	}
	var x mat.VecDense
	if err := x.SolveVec(a, b); err != nil {
		var c mat.Condition
		if !errors.As(err, &c) || math.IsInf(float64(c), 0) {
			return lineFit{}, fmt.Errorf("%w: the samples do not determine a line (%v)", ErrFit, err)
		}
	}
	f := lineFit{slope: x.AtVec(0) / scale, weight: wsum}
	if li >= 0 {
		f.latency = x.AtVec(li)
	}
	if gi >= 0 {
		f.gap = x.AtVec(gi)
	}
	var res mat.VecDense
	res.MulVec(a, &x)
	res.SubVec(&res, b)
	f.cost = mat.Dot(&res, &res)
	return f, nil
}

// span is a band candidate: the size means with sizes in [lo, hi].
type span struct{ lo, hi int64 }

func within(gs []group, s span) []group {
	var out []group
	for _, g := range gs {
		if g.size >= s.lo && g.size <= s.hi {
			out = append(out, g)
		}
	}
	return out
}

// FitProfile fits a profile named name to the input.
func FitProfile(name string, in FitInput, opt FitOptions) (*Fit, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: the profile needs a name", ErrFit)
	}
	if opt.MaxBands == 0 {
		opt.MaxBands = 4
	}
	if opt.MinSizes == 0 {
		opt.MinSizes = 3
	}
	if opt.MinGain == 0 {
		opt.MinGain = 0.15
	}
	if opt.MinRMS == 0 {
		opt.MinRMS = 0.01
	}
	switch {
	case opt.MaxBands < 1:
		return nil, fmt.Errorf("%w: MaxBands %d must be at least 1", ErrInvalid, opt.MaxBands)
	case opt.MinSizes < 2:
		return nil, fmt.Errorf("%w: MinSizes %d must be at least 2", ErrInvalid, opt.MinSizes)
	case !(opt.MinGain > 0 && opt.MinGain < 1):
		return nil, fmt.Errorf("%w: MinGain %g must be between 0 and 1", ErrInvalid, opt.MinGain)
	case !(opt.MinRMS > 0):
		return nil, fmt.Errorf("%w: MinRMS %g must be positive", ErrInvalid, opt.MinRMS)
	}
	for i, b := range opt.Bands {
		if b <= 0 {
			return nil, fmt.Errorf("%w: bands[%d]: %d must be a positive message size", ErrInvalid, i, b)
		}
		if i > 0 && b <= opt.Bands[i-1] {
			return nil, fmt.Errorf("%w: bands[%d]: %d must be above the previous %d (ascending)", ErrInvalid, i, b, opt.Bands[i-1])
		}
	}
	if len(in.Latency) == 0 && len(in.Bandwidth) == 0 && len(in.Bulk) == 0 {
		return nil, fmt.Errorf("%w: no samples", ErrFit)
	}
	f := &Fit{
		Profile:    Profile{Name: name},
		Report:     FitReport{Method: fitMethod},
		Provenance: Provenance{Tool: opt.Tool, Command: opt.Command, Inputs: in.Files},
	}
	lat := groupSamples(in.Latency, false)
	bw := groupSamples(in.Bandwidth, true)
	files := func(s []FitSample) string { return describeFiles(in.Files, s) }

	var spans []span
	var fits []lineFit
	if len(lat)+len(bw) > 0 {
		var err error
		spans, fits, err = chooseBands(lat, bw, opt)
		if err != nil {
			return nil, err
		}
		if len(in.Latency) == 0 {
			return nil, fmt.Errorf("%w: no latency samples (osu_latency): a bandwidth run alone does not give the zero-size time", ErrFit)
		}
		for i, s := range spans {
			b := Band{Latency: fits[i].latency, Bandwidth: 1 / fits[i].slope}
			if i < len(spans)-1 {
				b.MaxBytes = s.hi
			}
			f.Profile.Bands = append(f.Profile.Bands, b)
			src := fmt.Sprintf("sizes %d..%d B", s.lo, s.hi)
			if s.hi == math.MaxInt64 {
				src = fmt.Sprintf("sizes from %d B", s.lo)
			}
			f.Provenance.Parameters = append(f.Provenance.Parameters,
				ParamSource{fmt.Sprintf("bands[%d].latency", i), "intercept of " + sourceIn(in.Latency, s, files) + ", " + src},
				ParamSource{fmt.Sprintf("bands[%d].bandwidth", i), "1/slope shared by " + joinNonEmpty(sourceIn(in.Latency, s, files), sourceIn(in.Bandwidth, s, files)) + ", " + src})
			for _, n := range fits[i].notes {
				f.Provenance.Notes = append(f.Provenance.Notes, fmt.Sprintf("band %d: %s", i, n))
			}
		}
		if len(spans) > 1 {
			f.Provenance.Parameters = append(f.Provenance.Parameters, ParamSource{"bands[*].maxBytes", bandsSource(opt.Bands)})
		}
	}

	// iperf3: the one-stream bulk rate, the link rate of parallel
	// streams, a latency from the smallest RTT, CPU per byte.
	var single, parallel []BulkRun
	for _, r := range in.Bulk {
		if r.Streams == 1 {
			single = append(single, r)
		} else {
			parallel = append(parallel, r)
		}
	}
	runFiles := func(rs []BulkRun) string {
		var names []string
		for _, r := range rs {
			names = append(names, in.Files[r.Input].Path)
		}
		return strings.Join(slices.Compact(names), ", ")
	}
	if len(in.Bulk) > 0 {
		if len(single) == 0 && len(f.Profile.Bands) == 0 {
			return nil, fmt.Errorf("%w: no one-stream iperf3 run (only -P runs) and no OSU samples: nothing gives a one-stream bandwidth", ErrFit)
		}
		if len(single) > 0 {
			rate := meanRate(single)
			if len(f.Profile.Bands) == 0 {
				rtt := math.Inf(1)
				for _, r := range in.Bulk {
					if r.MinRTT > 0 {
						rtt = math.Min(rtt, r.MinRTT)
					}
				}
				if math.IsInf(rtt, 1) {
					return nil, fmt.Errorf("%w: no latency: the iperf3 runs report no min_rtt (reverse mode?) and there are no osu_latency samples", ErrFit)
				}
				f.Profile.Bands = []Band{{Latency: rtt / 2, Bandwidth: rate}}
				f.Provenance.Parameters = append(f.Provenance.Parameters,
					ParamSource{"bands[0].latency", "half the smallest TCP round-trip time (end.streams[].sender.min_rtt) of " + runFiles(in.Bulk)})
			} else {
				last := len(f.Profile.Bands) - 1
				f.Profile.Bands[last].Bandwidth = rate
				s := spans[last]
				if l := refitLatency(within(lat, s), 1/rate); l >= 0 {
					f.Profile.Bands[last].Latency = l
				} else {
					f.Profile.Bands[last].Latency = 0
					f.Provenance.Notes = append(f.Provenance.Notes, fmt.Sprintf("band %d: latency refitted with the iperf3 bandwidth came out %.3g s; fixed at 0", last, l))
				}
				f.Provenance.Parameters = append(f.Provenance.Parameters,
					ParamSource{fmt.Sprintf("bands[%d].latency", last), "refitted intercept of " + sourceIn(in.Latency, s, files) + " with the iperf3 bandwidth fixed"})
			}
			f.Provenance.Parameters = append(f.Provenance.Parameters,
				ParamSource{fmt.Sprintf("bands[%d].bandwidth", len(f.Profile.Bands)-1), "one-stream bulk rate, least-squares mean of the non-omitted intervals of " + runFiles(single)})
		}
		if len(parallel) > 0 {
			best, from := 0.0, ""
			for _, r := range parallel {
				if m := meanRate([]BulkRun{r}); m > best {
					best, from = m, in.Files[r.Input].Path
				}
			}
			f.Profile.LinkBandwidth = best
			src := fmt.Sprintf("the largest summed rate of the parallel-stream iperf3 runs (%s)", from)
			if lb := f.Profile.Bands[len(f.Profile.Bands)-1].Bandwidth; lb > best {
				f.Profile.LinkBandwidth = lb
				src = fmt.Sprintf("the one-stream bandwidth: the parallel runs (%s) were slower, %.4g B/s", runFiles(parallel), best)
			}
			f.Provenance.Parameters = append(f.Provenance.Parameters, ParamSource{"linkBandwidth", src})
		}
		mtus := map[int]bool{}
		for _, r := range in.Bulk {
			if r.PMTU > 0 {
				mtus[r.PMTU] = true
			}
		}
		switch {
		case len(mtus) == 1:
			for m := range mtus {
				f.Profile.MTU = m
			}
			f.Provenance.Parameters = append(f.Provenance.Parameters, ParamSource{"mtu", "the path MTU the iperf3 streams reported (intervals[].streams[].pmtu)"})
		case len(mtus) > 1:
			f.Provenance.Notes = append(f.Provenance.Notes, fmt.Sprintf("mtu left 0: the iperf3 runs reported %d different path MTUs", len(mtus)))
		}
		var cpu []float64
		var cpuRuns []BulkRun
		for _, r := range in.Bulk {
			if r.CPUPerByte > 0 {
				cpu = append(cpu, r.CPUPerByte)
				cpuRuns = append(cpuRuns, r)
			}
		}
		if len(cpu) > 0 {
			sum := 0.0
			for _, c := range cpu {
				sum += c
			}
			f.Profile.CPUPerByte = sum / float64(len(cpu))
			f.Provenance.Parameters = append(f.Provenance.Parameters, ParamSource{"cpuPerByte",
				"iperf3 end.cpu_utilization_percent (host_total and remote_total, averaged over the two ends) × seconds / bytes received, mean over " + runFiles(cpuRuns)})
		}
	}

	// The eager/rendezvous switch: the boundary where the time jumps up
	// most (by a quarter or more). The bands' latencies include the
	// handshake, so RendezvousLatency stays 0.
	bestJump := 0.25
	for i := 0; i+1 < len(f.Profile.Bands); i++ {
		b := f.Profile.Bands[i].MaxBytes
		before := f.Profile.Bands[i].Latency + float64(b)/f.Profile.Bands[i].Bandwidth
		after := f.Profile.Bands[i+1].Latency + float64(b+1)/f.Profile.Bands[i+1].Bandwidth
		if jump := after/before - 1; jump > bestJump {
			bestJump, f.Profile.EagerLimit = jump, b
		}
	}
	if f.Profile.EagerLimit > 0 {
		f.Provenance.Parameters = append(f.Provenance.Parameters, ParamSource{"eagerLimit",
			fmt.Sprintf("the band boundary where the fitted time jumps most (+%.0f%%); rendezvousLatency 0: the bands' latencies include the handshake", 100*bestJump)})
	}

	// Six significant digits are far inside the fit's error and keep
	// the file readable; the residuals are those of the rounded values.
	for i := range f.Profile.Bands {
		b := &f.Profile.Bands[i]
		b.Latency, b.Bandwidth = roundSig(b.Latency, 6), roundSig(b.Bandwidth, 6)
	}
	for i := range fits {
		fits[i].gap = roundSig(fits[i].gap, 6)
	}
	f.Profile.LinkBandwidth = roundSig(f.Profile.LinkBandwidth, 6)
	f.Profile.CPUPerByte = roundSig(f.Profile.CPUPerByte, 6)
	if err := f.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("%w: the fitted profile is impossible: %w", ErrFit, err)
	}
	f.report(in, spans, fits)
	return f, nil
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	if err != nil {
		return v
	}
	return r
}

func joinNonEmpty(s ...string) string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return strings.Join(out, " and ")
}

func bandsSource(given []int64) string {
	if len(given) > 0 {
		return "given (--bands)"
	}
	return "chosen automatically: greedy splits where the squared relative error drops most"
}

// sourceIn describes the samples within span s ("" if none).
func sourceIn(s []FitSample, sp span, files func([]FitSample) string) string {
	var in []FitSample
	for _, x := range s {
		if x.Size >= sp.lo && x.Size <= sp.hi {
			in = append(in, x)
		}
	}
	if len(in) == 0 {
		return ""
	}
	return fmt.Sprintf("%d samples of %s", len(in), files(in))
}

func describeFiles(files []InputFile, s []FitSample) string {
	var idx []int
	for _, x := range s {
		idx = append(idx, x.Input)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	var names []string
	for _, i := range idx {
		n := files[i].Path
		if files[i].Experiment != "" {
			n += " [" + files[i].Experiment + "]"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// meanRate is the least-squares constant through the interval rates,
// weighted by interval length (total bytes over total time).
func meanRate(runs []BulkRun) float64 {
	num, den := 0.0, 0.0
	for _, r := range runs {
		for i, v := range r.Rates {
			num += v * r.Seconds[i]
			den += r.Seconds[i]
		}
	}
	return num / den
}

// refitLatency is the least-squares intercept of the ping-pong means
// with the slope fixed (relative errors, weighted by count); -1 if
// there are no means.
func refitLatency(lat []group, slope float64) float64 {
	num, den := 0.0, 0.0
	for _, g := range lat {
		w := float64(g.count) / (g.mean * g.mean)
		num += w * (g.mean - float64(g.size)*slope)
		den += w
	}
	if den == 0 {
		return -1
	}
	return num / den
}

// chooseBands returns the bands (spans of sampled sizes) and their fits:
// the given boundaries, or greedy splits.
func chooseBands(lat, bw []group, opt FitOptions) ([]span, []lineFit, error) {
	var all []int64
	for _, g := range lat {
		all = append(all, g.size)
	}
	for _, g := range bw {
		all = append(all, g.size)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	fit := func(s span) (lineFit, error) { return solveBand(within(lat, s), within(bw, s)) }

	if len(opt.Bands) > 0 {
		var spans []span
		lo := int64(0)
		for _, b := range opt.Bands {
			spans = append(spans, span{lo, b})
			lo = b + 1
		}
		spans = append(spans, span{lo, math.MaxInt64})
		fits := make([]lineFit, len(spans))
		for i, s := range spans {
			var err error
			if fits[i], err = fit(s); err != nil {
				hi := "no bound"
				if i < len(opt.Bands) {
					hi = fmt.Sprint(s.hi)
				}
				return nil, nil, fmt.Errorf("band %d (sizes %d .. %s): %w", i, s.lo, hi, err)
			}
		}
		return spans, fits, nil
	}

	first, err := fit(span{0, math.MaxInt64})
	if err != nil {
		return nil, nil, err
	}
	spans := []span{{0, math.MaxInt64}}
	fits := []lineFit{first}
	nsizes := func(s span) int {
		n := 0
		for _, x := range all {
			if x >= s.lo && x <= s.hi {
				n++
			}
		}
		return n
	}
	total := func() (c, w float64) {
		for _, f := range fits {
			c += f.cost
			w += f.weight
		}
		return
	}
	for len(spans) < opt.MaxBands {
		cost, weight := total()
		if math.Sqrt(cost/weight) <= opt.MinRMS {
			break
		}
		bestGain, bestBand := 0.0, -1
		var bestL, bestR lineFit
		var bestCut int64
		for bi, s := range spans {
			for _, cut := range all {
				if cut < s.lo || cut >= s.hi {
					continue
				}
				l, r := span{s.lo, cut}, span{cut + 1, s.hi}
				if nsizes(l) < opt.MinSizes || nsizes(r) < opt.MinSizes {
					continue
				}
				fl, err1 := fit(l)
				fr, err2 := fit(r)
				if err1 != nil || err2 != nil {
					continue
				}
				if gain := fits[bi].cost - fl.cost - fr.cost; gain > bestGain {
					bestGain, bestBand, bestCut, bestL, bestR = gain, bi, cut, fl, fr
				}
			}
		}
		if bestBand < 0 || bestGain < opt.MinGain*cost {
			break
		}
		s := spans[bestBand]
		spans = slices.Replace(spans, bestBand, bestBand+1, span{s.lo, bestCut}, span{bestCut + 1, s.hi})
		fits = slices.Replace(fits, bestBand, bestBand+1, bestL, bestR)
	}
	// The first band starts at 0 and the last has no bound, whatever
	// the sampled sizes.
	return spans, fits, nil
}

// report fills the per-band and per-input residuals against the
// fitted profile.
func (f *Fit) report(in FitInput, spans []span, fits []lineFit) {
	p := &f.Profile
	bandOf := func(n int64) int {
		for i, b := range p.Bands {
			if b.MaxBytes == 0 || n <= b.MaxBytes {
				return i
			}
		}
		return len(p.Bands) - 1
	}
	gap := func(i int) float64 {
		if i < len(fits) {
			return fits[i].gap
		}
		return 0
	}
	type rel struct {
		size          int64
		err           float64 // (model − measured)/measured
		model, actual float64
	}
	byBand := make([][3][]rel, len(p.Bands))
	byInput := make([][]rel, len(in.Files))
	for _, s := range in.Latency {
		m := p.Time(s.Size)
		r := rel{s.Size, m/s.Value - 1, m, s.Value}
		b := bandOf(s.Size)
		byBand[b][0] = append(byBand[b][0], r)
		byInput[s.Input] = append(byInput[s.Input], r)
	}
	for _, s := range in.Bandwidth {
		b := bandOf(s.Size)
		perMsg := gap(b) + float64(s.Size)/p.Bands[b].Bandwidth
		m := float64(s.Size) / perMsg
		r := rel{s.Size, m/s.Value - 1, m, s.Value}
		byBand[b][1] = append(byBand[b][1], r)
		byInput[s.Input] = append(byInput[s.Input], r)
	}
	last := len(p.Bands) - 1
	for _, r := range in.Bulk {
		want := p.Bands[last].Bandwidth
		if r.Streams > 1 {
			want = p.LinkBandwidth
		}
		for _, v := range r.Rates {
			x := rel{0, want/v - 1, want, v}
			if r.Streams == 1 {
				byBand[last][2] = append(byBand[last][2], x)
			}
			byInput[r.Input] = append(byInput[r.Input], x)
		}
	}
	sum := func(rs []rel) *Residuals {
		if len(rs) == 0 {
			return nil
		}
		out := &Residuals{Points: len(rs), MinSize: math.MaxInt64}
		sizes := map[int64]bool{}
		ss := 0.0
		for _, r := range rs {
			sizes[r.size] = true
			out.MinSize = min(out.MinSize, r.size)
			out.MaxSize = max(out.MaxSize, r.size)
			ss += r.err * r.err
			if a := math.Abs(r.err); a > out.MaxRelErr {
				out.MaxRelErr, out.WorstSize = a, r.size
			}
		}
		out.Sizes = len(sizes)
		out.RMSRelErr = math.Sqrt(ss / float64(len(rs)))
		// Per size: the model against the mean, and the spread.
		type acc struct {
			model, sum float64
			n          int
			vals       []float64
		}
		by := map[int64]*acc{}
		for _, r := range rs {
			a := by[r.size]
			if a == nil {
				a = &acc{model: r.model}
				by[r.size] = a
			}
			a.sum += r.actual
			a.n++
			a.vals = append(a.vals, r.actual)
		}
		ms, spread := 0.0, 0.0
		for _, a := range by {
			mean := a.sum / float64(a.n)
			e := a.model/mean - 1
			ms += e * e * float64(a.n)
			out.MeanMaxRelErr = math.Max(out.MeanMaxRelErr, math.Abs(e))
			for _, v := range a.vals {
				d := v/mean - 1
				spread += d * d
			}
		}
		out.MeanRMSRelErr = math.Sqrt(ms / float64(len(rs)))
		out.Spread = math.Sqrt(spread / float64(len(rs)))
		for _, x := range []*float64{&out.RMSRelErr, &out.MaxRelErr, &out.MeanRMSRelErr, &out.MeanMaxRelErr, &out.Spread} {
			*x = roundSig(*x, 4)
		}
		return out
	}
	for i := range p.Bands {
		bf := BandFit{Band: i, Latency: sum(byBand[i][0]), Bandwidth: sum(byBand[i][1]), Bulk: sum(byBand[i][2]), StreamGap: gap(i)}
		bf.MinSize, bf.MaxSize = -1, -1
		for _, r := range []*Residuals{bf.Latency, bf.Bandwidth} {
			if r == nil {
				continue
			}
			if bf.MinSize < 0 || r.MinSize < bf.MinSize {
				bf.MinSize = r.MinSize
			}
			bf.MaxSize = max(bf.MaxSize, r.MaxSize)
		}
		if bf.MinSize < 0 {
			bf.MinSize, bf.MaxSize = 0, 0
		}
		f.Report.Bands = append(f.Report.Bands, bf)
	}
	for i, file := range in.Files {
		r := sum(byInput[i])
		if r == nil {
			r = &Residuals{}
		}
		f.Report.Inputs = append(f.Report.Inputs, InputFit{Path: file.Path, Kind: file.Kind, Experiment: file.Experiment, Residuals: *r})
	}
	f.Provenance.Fit = &f.Report
}

// WriteTable prints the fitted bands with the error per message-size
// band, then the error per input file.
func (f *Fit) WriteTable(w io.Writer) error {
	var b strings.Builder
	p := &f.Profile
	fmt.Fprintf(&b, "profile %s: %d band(s)", printable(p.Name), len(p.Bands))
	if p.EagerLimit > 0 {
		fmt.Fprintf(&b, ", eager limit %d B", p.EagerLimit)
	}
	if p.LinkBandwidth > 0 {
		fmt.Fprintf(&b, ", link %.4g GB/s", p.LinkBandwidth/1e9)
	}
	if p.CPUPerByte > 0 {
		fmt.Fprintf(&b, ", cpu %.3g ns/B", p.CPUPerByte*1e9)
	}
	b.WriteString("\n\n")
	b.WriteString("Fit error per message-size band, relative to the measured value: rms and max over\n" +
		"the samples, then over the per-size means (the lack of fit), then the samples' own\n" +
		"run-to-run spread; n = samples.\n\n")
	fmt.Fprintf(&b, "%-4s %-18s %11s %9s  %-38s %-38s %s\n", "band", "message sizes (B)", "latency(us)", "bw(GB/s)",
		"osu_latency: n rms max | means | spread", "osu_bw: n rms max | means | spread", "iperf3: n rms max")
	prev := int64(-1)
	for i, bd := range p.Bands {
		rng := fmt.Sprintf("%d..%d", prev+1, bd.MaxBytes)
		if bd.MaxBytes == 0 {
			rng = fmt.Sprintf("%d..", prev+1)
		}
		prev = bd.MaxBytes
		var bf BandFit
		if i < len(f.Report.Bands) {
			bf = f.Report.Bands[i]
		}
		fmt.Fprintf(&b, "%-4d %-18s %11.3f %9.4g  %-38s %-38s %s\n", i, rng, bd.Latency*1e6, bd.Bandwidth/1e9,
			resCell(bf.Latency), resCell(bf.Bandwidth), resCell(bf.Bulk))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%-10s %-38s %s\n", "kind", "error: n rms max | means | spread", "input")
	for _, in := range f.Report.Inputs {
		name := printable(in.Path)
		if in.Experiment != "" {
			name += " [" + printable(in.Experiment) + "]"
		}
		fmt.Fprintf(&b, "%-10s %-38s %s\n", in.Kind, resCell(&in.Residuals), name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func resCell(r *Residuals) string {
	if r == nil || r.Points == 0 {
		return "-"
	}
	if r.Sizes <= 1 {
		return fmt.Sprintf("%d %.1f%% %.1f%%", r.Points, 100*r.RMSRelErr, 100*r.MaxRelErr)
	}
	return fmt.Sprintf("%d %.1f%% %.1f%% | %.1f%% %.1f%% | %.1f%%", r.Points, 100*r.RMSRelErr, 100*r.MaxRelErr,
		100*r.MeanRMSRelErr, 100*r.MeanMaxRelErr, 100*r.Spread)
}
