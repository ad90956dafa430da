package scenarios

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/report"
)

// The files of a sweep's output folder (docs/outputs.md).
const (
	SweepManifestFile = "sweep.json"  // the sweep's points, to resume and to merge shards
	SweepTableFile    = "sweep.csv"   // one row per point
	SweepSummaryFile  = "summary.txt" // replicates grouped: mean, sd, 95% CI
	SweepPointsDir    = "points"      // points/<id>/: each point's run report
)

// SweepManifest describes a sweep's points; it is the same in every
// shard of a sweep and in a merged folder.
type SweepManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	Name          string          `json:"name"`
	SweepSHA256   string          `json:"sweepSha256"`
	Base          string          `json:"base"` // as the sweep file writes it
	BaseSHA256    string          `json:"baseSha256"`
	Mode          string          `json:"mode"`
	Axes          []string        `json:"axes"`
	Points        []ManifestPoint `json:"points"`
}

// ManifestPoint is one point of a manifest.
type ManifestPoint struct {
	Index    int       `json:"index"`
	ID       string    `json:"id"`
	Settings []Setting `json:"settings"`
	// Sets are the --set values the point runs with (an axis of
	// variants sets several keys under one setting).
	Sets []string `json:"sets"`
}

// Manifest returns the sweep's manifest.
func (s *Sweep) Manifest() *SweepManifest {
	m := &SweepManifest{SchemaVersion: 1, Name: s.Name, SweepSHA256: s.SHA256, Base: s.Base,
		BaseSHA256: report.HashScenario(s.BaseData), Mode: s.Mode, Axes: []string{}}
	for _, ax := range s.Axes {
		m.Axes = append(m.Axes, ax.Path)
	}
	for _, p := range s.Points {
		m.Points = append(m.Points, ManifestPoint{Index: p.Index, ID: p.ID, Settings: p.Settings, Sets: s.Sets(&p)})
	}
	return m
}

// Encode is the manifest's JSON (indented, newline-terminated).
func (m *SweepManifest) Encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // strings and ints only
	}
	return append(b, '\n')
}

// ReadSweepManifest reads DIR/sweep.json.
func ReadSweepManifest(dir string) (*SweepManifest, error) {
	path := filepath.Join(dir, SweepManifestFile)
	data, err := limitio.ReadFile(path, limitio.DataTable, "sweep manifest")
	if err != nil {
		return nil, err
	}
	var m SweepManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.SchemaVersion != 1 {
		return nil, fmt.Errorf("%s: schemaVersion %d: this build reads 1", path, m.SchemaVersion)
	}
	for i, p := range m.Points {
		if p.Index != i || !validPointID(p.ID) || len(p.Settings) != len(m.Axes) || len(p.Sets) < len(p.Settings) {
			return nil, fmt.Errorf("%s: points[%d] is not a point of this sweep (index %d, id %q)", path, i, p.Index, p.ID)
		}
	}
	return &m, nil
}

// validPointID accepts pNNNN-hhhhhhhh (a folder name, nothing else).
func validPointID(id string) bool {
	num, hash, ok := strings.Cut(id, "-")
	if !ok || len(num) < 5 || num[0] != 'p' || len(hash) != 8 {
		return false
	}
	for _, c := range num[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range hash {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// SameSweep reports why two manifests are not of the same sweep ("" if
// they are).
func (m *SweepManifest) SameSweep(o *SweepManifest) string {
	switch {
	case m.Name != o.Name:
		return fmt.Sprintf("sweep %q, not %q", o.Name, m.Name)
	case m.SweepSHA256 != o.SweepSHA256:
		return "another version of the sweep file (its sha256 differs)"
	case m.BaseSHA256 != o.BaseSHA256:
		return "another version of the base scenario (its sha256 differs)"
	case !bytes.Equal(m.Encode(), o.Encode()):
		return "other points"
	}
	return ""
}

// SweepRow is one point's headline metrics, read from its report.
type SweepRow struct {
	Point        ManifestPoint
	Policy       string
	Seed         uint64
	Stopped      string // done, stalled or horizon
	Jobs         int
	JobsFinished int
	Pods         int
	PodsFinished int
	Makespan     float64
	// Job start-up, wait and run time: mean, p50, p95 (seconds).
	Startup, Wait, RunTime [3]float64
	CPU                    float64 // CPU utilisation (requested / allocatable), 0–1
	// StartupJobs is every started job's start-up (seconds), ascending:
	// the startup column of jobs.csv without its empty cells.
	StartupJobs []float64
}

// resultsHead is the part of results.json a sweep reads.
type resultsHead struct {
	Meta struct {
		ScenarioSHA256 string            `json:"scenarioSha256"`
		Seed           uint64            `json:"seed"`
		Policy         string            `json:"policy"`
		Settings       map[string]string `json:"settings"`
	} `json:"meta"`
	Run struct {
		Stopped string `json:"stopped"`
	} `json:"run"`
	Summary struct {
		Jobs         int      `json:"jobs"`
		JobsFinished int      `json:"jobsFinished"`
		Pods         int      `json:"pods"`
		PodsFinished int      `json:"podsFinished"`
		Makespan     *float64 `json:"makespan"`
		JobStartup   statsHead
		JobWait      statsHead
		JobRunTime   statsHead
		Utilisation  struct {
			CPU *float64 `json:"cpu"`
		} `json:"utilisation"`
	} `json:"summary"`
}

type statsHead struct {
	Mean *float64 `json:"mean"`
	P50  *float64 `json:"p50"`
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// ErrPointStale is returned by ReadSweepRow for a point folder written
// by another sweep or another version of the base scenario.
var ErrPointStale = errors.New("the point's report is of another sweep")

// ReadSweepRow reads a point's row from its report folder (results.json
// and jobs.csv, for the 95th percentiles and every job's start-up). baseSHA256 is the base
// scenario's hash: a report of another base is ErrPointStale.
func ReadSweepRow(dir string, p ManifestPoint, baseSHA256 string) (SweepRow, error) {
	row := SweepRow{Point: p}
	path := filepath.Join(dir, report.ResultsFile)
	data, err := limitio.ReadFile(path, limitio.DataTable, "results")
	if err != nil {
		return row, err
	}
	var r resultsHead
	if err := json.Unmarshal(data, &r); err != nil {
		return row, fmt.Errorf("%s: %w", path, err)
	}
	if r.Meta.ScenarioSHA256 != baseSHA256 {
		return row, fmt.Errorf("%s: %w: it ran a base scenario of sha256 %.12s…, this sweep's is %.12s…", path, ErrPointStale, r.Meta.ScenarioSHA256, baseSHA256)
	}
	// Every setting of the point is one of the run's overrides.
	have := map[string]bool{}
	for _, v := range r.Meta.Settings {
		have[v] = true
	}
	for _, s := range p.Sets {
		if !have["--set "+s] {
			return row, fmt.Errorf("%s: %w: it was not run with --set %s", path, ErrPointStale, s)
		}
	}
	row.Policy, row.Seed = r.Meta.Policy, r.Meta.Seed
	row.Stopped = r.Run.Stopped
	if row.Stopped == "" {
		row.Stopped = "done"
	}
	s := r.Summary
	row.Jobs, row.JobsFinished, row.Pods, row.PodsFinished = s.Jobs, s.JobsFinished, s.Pods, s.PodsFinished
	row.Makespan = val(s.Makespan)
	row.CPU = val(s.Utilisation.CPU)
	row.Startup = [3]float64{val(s.JobStartup.Mean), val(s.JobStartup.P50), math.NaN()}
	row.Wait = [3]float64{val(s.JobWait.Mean), val(s.JobWait.P50), math.NaN()}
	row.RunTime = [3]float64{val(s.JobRunTime.Mean), val(s.JobRunTime.P50), math.NaN()}
	// The 95th percentiles, as report.Describe computes them.
	cols, err := jobColumns(filepath.Join(dir, report.JobsFile), "startup", "wait", "run_time")
	if err != nil {
		return row, err
	}
	for i, v := range cols {
		v = slices.DeleteFunc(v, math.IsNaN)
		slices.Sort(v)
		cols[i] = v
	}
	row.Startup[2], row.Wait[2], row.RunTime[2] = report.Quantile(0.95, cols[0]), report.Quantile(0.95, cols[1]), report.Quantile(0.95, cols[2])
	row.StartupJobs = cols[0]
	return row, nil
}

// jobColumns reads the named columns of jobs.csv, empty cells as NaN.
func jobColumns(path string, cols ...string) ([][]float64, error) {
	f, err := limitio.Open(path, limitio.DataTable, "jobs table")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(head, c)
		if idx[i] < 0 {
			return nil, fmt.Errorf("%s: no column %q", path, c)
		}
	}
	vals := make([][]float64, len(cols))
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for i, k := range idx {
			if rec[k] == "" {
				vals[i] = append(vals[i], math.NaN())
				continue
			}
			v, err := strconv.ParseFloat(rec[k], 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", path, line, cols[i], err)
			}
			vals[i] = append(vals[i], v)
		}
	}
	return vals, nil
}

// sweepMetric is one column of the table that summary.txt summarises.
type sweepMetric struct {
	col, label string
	get        func(*SweepRow) float64
}

var sweepMetrics = []sweepMetric{
	{"makespan", "makespan (s)", func(r *SweepRow) float64 { return r.Makespan }},
	{"startup_mean", "job start-up, mean (s)", func(r *SweepRow) float64 { return r.Startup[0] }},
	{"startup_p50", "job start-up, p50 (s)", func(r *SweepRow) float64 { return r.Startup[1] }},
	{"startup_p95", "job start-up, p95 (s)", func(r *SweepRow) float64 { return r.Startup[2] }},
	{"wait_mean", "job wait, mean (s)", func(r *SweepRow) float64 { return r.Wait[0] }},
	{"wait_p50", "job wait, p50 (s)", func(r *SweepRow) float64 { return r.Wait[1] }},
	{"wait_p95", "job wait, p95 (s)", func(r *SweepRow) float64 { return r.Wait[2] }},
	{"run_time_mean", "job run time, mean (s)", func(r *SweepRow) float64 { return r.RunTime[0] }},
	{"run_time_p50", "job run time, p50 (s)", func(r *SweepRow) float64 { return r.RunTime[1] }},
	{"run_time_p95", "job run time, p95 (s)", func(r *SweepRow) float64 { return r.RunTime[2] }},
	{"jobs_finished", "jobs finished", func(r *SweepRow) float64 { return float64(r.JobsFinished) }},
	{"cpu_utilisation", "cpu utilisation (%)", func(r *SweepRow) float64 { return 100 * r.CPU }},
}

// axisColumn is an axis's column name: its path, unless a fixed
// column has that name.
func axisColumn(path string) string {
	switch path {
	case "point", "id", "policy", "stopped", "jobs", "pods", "pods_finished":
		return "set." + path
	}
	for _, m := range sweepMetrics {
		if m.col == path {
			return "set." + path
		}
	}
	return path
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	r := math.Round(f*1e6) / 1e6
	if r == 0 {
		r = 0 // no -0
	}
	return strconv.AppendFloat(b, r, 'f', 6, 64)
}

func appendCSV(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[len(s)-1] != ' ' {
		return append(b, s...)
	}
	return append(append(b, '"'), append([]byte(strings.ReplaceAll(s, `"`, `""`)), '"')...)
}

// SweepCSV is sweep.csv: one row per point with results (in point
// order): point, id, each axis's value, the run's policy and seed (seed
// left out when an axis sets it), stop reason, jobs, pods and the
// metrics.
func SweepCSV(m *SweepManifest, rows []SweepRow) []byte {
	seedAxis := slices.Contains(m.Axes, "seed")
	var b []byte
	b = append(b, "point,id"...)
	for _, a := range m.Axes {
		b = appendCSV(append(b, ','), axisColumn(a))
	}
	b = append(b, ",policy"...)
	if !seedAxis {
		b = append(b, ",seed"...)
	}
	b = append(b, ",stopped,jobs,pods,pods_finished"...)
	for _, mt := range sweepMetrics {
		b = append(append(b, ','), mt.col...)
	}
	b = append(b, '\n')
	for i := range rows {
		r := &rows[i]
		b = strconv.AppendInt(b, int64(r.Point.Index), 10)
		b = append(append(b, ','), r.Point.ID...)
		for _, s := range r.Point.Settings {
			b = appendCSV(append(b, ','), s.Value)
		}
		b = appendCSV(append(b, ','), r.Policy)
		if !seedAxis {
			b = strconv.AppendUint(append(b, ','), r.Seed, 10)
		}
		b = appendCSV(append(b, ','), r.Stopped)
		for _, v := range []int{r.Jobs, r.Pods, r.PodsFinished} {
			b = strconv.AppendInt(append(b, ','), int64(v), 10)
		}
		for _, mt := range sweepMetrics {
			if mt.col == "jobs_finished" {
				b = strconv.AppendInt(append(b, ','), int64(r.JobsFinished), 10)
				continue
			}
			b = appendFloat(append(b, ','), mt.get(r))
		}
		b = append(b, '\n')
	}
	return b
}

// SweepEstimate is a metric's mean over a group of replicates, with its
// sample standard deviation and the 95% confidence interval of the mean
// (Student's t with N-1 degrees of freedom). SD and the interval are
// NaN for fewer than two values; NaN values are not counted.
type SweepEstimate struct {
	N             int
	Mean, SD      float64
	CILow, CIHigh float64
	HalfWidth     float64
}

// SweepEstimateOf computes the SweepEstimate of xs.
func SweepEstimateOf(xs []float64) SweepEstimate {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	nan := math.NaN()
	e := SweepEstimate{N: len(v), Mean: nan, SD: nan, CILow: nan, CIHigh: nan, HalfWidth: nan}
	switch len(v) {
	case 0:
		return e
	case 1:
		e.Mean = v[0]
		return e
	}
	slices.Sort(v) // the sums do not depend on the points' order
	e.Mean, e.SD = stat.MeanStdDev(v, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(v) - 1)}.Quantile(0.975)
	e.HalfWidth = t * e.SD / math.Sqrt(float64(len(v)))
	e.CILow, e.CIHigh = e.Mean-e.HalfWidth, e.Mean+e.HalfWidth
	return e
}

// SweepGroup is the points of a sweep equal but for the seed.
type SweepGroup struct {
	Settings  []Setting // the settings other than the seed
	Rows      []*SweepRow
	Estimates []SweepEstimate // by metric, in SweepMetricColumns order
}

// SweepMetricColumns are the names of the metrics a group estimates (the
// columns of sweep.csv).
func SweepMetricColumns() []string {
	out := make([]string, len(sweepMetrics))
	for i, m := range sweepMetrics {
		out[i] = m.col
	}
	return out
}

// GroupSweep groups the rows into replicates: rows whose settings are
// equal but for the seed, in the order of their first point.
func GroupSweep(m *SweepManifest, rows []SweepRow) []SweepGroup {
	seedAxis := slices.Index(m.Axes, "seed")
	var groups []SweepGroup
	index := map[string]int{}
	for i := range rows {
		r := &rows[i]
		var key strings.Builder
		var set []Setting
		for a, s := range r.Point.Settings {
			if a == seedAxis {
				continue
			}
			set = append(set, s)
			fmt.Fprintf(&key, "%s=%s\n", s.Path, s.Value)
		}
		k, ok := index[key.String()]
		if !ok {
			k = len(groups)
			index[key.String()] = k
			groups = append(groups, SweepGroup{Settings: set})
		}
		groups[k].Rows = append(groups[k].Rows, r)
	}
	for g := range groups {
		for _, mt := range sweepMetrics {
			xs := make([]float64, len(groups[g].Rows))
			for i, r := range groups[g].Rows {
				xs[i] = mt.get(r)
			}
			groups[g].Estimates = append(groups[g].Estimates, SweepEstimateOf(xs))
		}
	}
	return groups
}

func fmtStat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	s := strconv.FormatFloat(math.Round(f*1000)/1000, 'f', 3, 64)
	if s == "-0.000" {
		s = "0.000"
	}
	return s
}

// SweepSummary is summary.txt: the sweep, then each group of replicates
// with every metric's mean, standard deviation and 95% confidence
// interval.
func SweepSummary(m *SweepManifest, rows []SweepRow) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "converge sweep summary\n\nSweep\n")
	row := func(k, v string) { fmt.Fprintf(&b, "  %-22s %s\n", k, v) }
	row("name", m.Name)
	row("base scenario", m.Base)
	row("base sha256", m.BaseSHA256)
	row("sweep file sha256", m.SweepSHA256)
	row("mode", m.Mode)
	for i, a := range m.Axes {
		vals := []string{}
		seen := map[string]bool{}
		for _, p := range m.Points {
			if v := p.Settings[i].Value; !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
		desc := strings.Join(vals, ", ")
		if len(desc) > 100 {
			desc = fmt.Sprintf("%d values: %s … %s", len(vals), vals[0], vals[len(vals)-1])
		}
		row(fmt.Sprintf("axis %s", a), desc)
	}
	row("points", fmt.Sprintf("%d, %d with results", len(m.Points), len(rows)))
	if len(rows) < len(m.Points) {
		have := map[int]bool{}
		for _, r := range rows {
			have[r.Point.Index] = true
		}
		var missing []string
		for _, p := range m.Points {
			if !have[p.Index] {
				missing = append(missing, p.ID)
			}
		}
		if len(missing) > 8 {
			missing = append(missing[:8], fmt.Sprintf("… (%d in all)", len(missing)))
		}
		row("missing", strings.Join(missing, ", "))
	}
	b.WriteString("\nEach group is the points equal but for the seed (its replicates): the mean\n" +
		"over them, the sample standard deviation and the 95% confidence interval of\n" +
		"the mean (Student's t with n-1 degrees of freedom; \"-\" with fewer than 2).\n")
	for _, g := range GroupSweep(m, rows) {
		var name []string
		for _, s := range g.Settings {
			name = append(name, s.Path+"="+s.Value)
		}
		title := strings.Join(name, ", ")
		if title == "" {
			title = "all points"
		}
		seeds := make([]string, len(g.Rows))
		stops := map[string]int{}
		for i, r := range g.Rows {
			seeds[i] = strconv.FormatUint(r.Seed, 10)
			stops[r.Stopped]++
		}
		var stop []string
		for _, k := range slices.Sorted(maps.Keys(stops)) {
			stop = append(stop, fmt.Sprintf("%s %d", k, stops[k]))
		}
		fmt.Fprintf(&b, "\n%s\n  %d %s (seeds %s); stopped: %s\n", title, len(g.Rows), plural(len(g.Rows), "point", "points"), strings.Join(seeds, " "), strings.Join(stop, ", "))
		fmt.Fprintf(&b, "  %-26s %3s %12s %12s %12s %12s\n", "metric", "n", "mean", "sd", "95% CI low", "95% CI high")
		for i, mt := range sweepMetrics {
			e := g.Estimates[i]
			fmt.Fprintf(&b, "  %-26s %3d %12s %12s %12s %12s\n", mt.label, e.N, fmtStat(e.Mean), fmtStat(e.SD), fmtStat(e.CILow), fmtStat(e.CIHigh))
		}
	}
	return b.Bytes()
}

// ReadSweepRows reads the rows of the manifest's points that have a
// report under dir/points (in point order) and lists the points without
// one. A point folder of another sweep is an error.
func ReadSweepRows(dir string, m *SweepManifest) (rows []SweepRow, missing []ManifestPoint, err error) {
	for _, p := range m.Points {
		pd := filepath.Join(dir, SweepPointsDir, p.ID)
		if _, err := os.Stat(filepath.Join(pd, report.ResultsFile)); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
			continue
		}
		r, err := ReadSweepRow(pd, p, m.BaseSHA256)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, r)
	}
	return rows, missing, nil
}
