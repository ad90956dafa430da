package calibrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/workloads/launchers"
)

// The operator-bootstrap data (../shared/data/operator-bootstrap): one
// row per LAMMPS run launched by the Flux Operator or the MPI
// Operator on the same EKS cluster. For flux-operator rows
// fluxsubmit_time is the lead broker's `flux submit --watch` time and
// fluxstart_time its `flux start` time; for mpi-operator rows
// fluxsubmit_time is mpirun's real time and fluxstart_time the MPIJob's
// end-to-end time (first sync to MPIJobSucceeded). lammps_time is
// LAMMPS' "Total wall time", printed in whole seconds (truncated).

// BootstrapRun is one row of the operator-bootstrap table.
type BootstrapRun struct {
	Line          int
	Operator      string // flux-operator or mpi-operator
	Nodes, Ranks  int
	Submit, Start float64
	App           float64
}

// Operator names in the data.
const (
	FluxOperator = "flux-operator"
	MPIOperator  = "mpi-operator"
)

// AppClockResolution is the resolution of the application's own timer
// in the data (LAMMPS prints its total wall time in whole seconds,
// truncated): an interval measured against it looks up to that much
// longer, uniformly.
const AppClockResolution = 1.0

// ReadOperatorBootstrap reads the operator-bootstrap CSV and returns
// its runs and the file's SHA-256.
func ReadOperatorBootstrap(path string) ([]BootstrapRun, string, error) {
	data, err := limitio.ReadFile(path, limitio.DataTable, "operator-bootstrap CSV")
	if err != nil {
		return nil, "", err
	}
	runs, err := ParseOperatorBootstrap(path, data)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return runs, hex.EncodeToString(sum[:]), nil
}

// ParseOperatorBootstrap parses the table; name is used in messages
// (file:line: column: problem).
func ParseOperatorBootstrap(name string, data []byte) ([]BootstrapRun, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"minicluster_size", "fluxsubmit_time", "fluxstart_time", "lammps_time", "ranks", "operator_name"}
	for _, c := range need {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: missing column %q (need %s)", name, c, strings.Join(need, ", "))
		}
	}
	var out []BootstrapRun
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		field := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		num := func(c string) (float64, error) {
			v, err := strconv.ParseFloat(field(c), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e6 {
				return 0, fmt.Errorf("%s:%d: %s: %s is not a time in seconds", name, line, c, limitio.Quote(field(c), 40))
			}
			return v, nil
		}
		count := func(c string) (int, error) {
			v, err := strconv.Atoi(field(c))
			if err != nil || v < 1 || v > 1<<24 {
				return 0, fmt.Errorf("%s:%d: %s: %s is not a positive count", name, line, c, limitio.Quote(field(c), 40))
			}
			return v, nil
		}
		run := BootstrapRun{Line: line, Operator: field("operator_name")}
		if run.Operator != FluxOperator && run.Operator != MPIOperator {
			return nil, fmt.Errorf("%s:%d: operator_name: %s is neither %s nor %s", name, line, limitio.Quote(run.Operator, 40), FluxOperator, MPIOperator)
		}
		if run.Nodes, err = count("minicluster_size"); err != nil {
			return nil, err
		}
		if run.Ranks, err = count("ranks"); err != nil {
			return nil, err
		}
		if run.Submit, err = num("fluxsubmit_time"); err != nil {
			return nil, err
		}
		if run.Start, err = num("fluxstart_time"); err != nil {
			return nil, err
		}
		if run.App, err = num("lammps_time"); err != nil {
			return nil, err
		}
		switch {
		case run.Ranks < run.Nodes:
			return nil, fmt.Errorf("%s:%d: ranks: %d ranks on %d nodes", name, line, run.Ranks, run.Nodes)
		case run.Submit+AppClockResolution < run.App:
			return nil, fmt.Errorf("%s:%d: fluxsubmit_time %g is shorter than lammps_time %g", name, line, run.Submit, run.App)
		case run.Start < run.Submit:
			return nil, fmt.Errorf("%s:%d: fluxstart_time %g is shorter than fluxsubmit_time %g", name, line, run.Start, run.Submit)
		}
		out = append(out, run)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no runs", name)
	}
	return out, nil
}

// LauncherCase is one measured interval of one operator at one size:
// the values of its runs and how the model's distribution is compared
// with them.
type LauncherCase struct {
	Operator, Interval string
	Nodes, Ranks       int
	Values             []float64 // sorted
	// Truncation is the application clock's resolution when the
	// interval is measured against it, else 0.
	Truncation float64
}

// Name names the case in tables.
func (c *LauncherCase) Name() string {
	return fmt.Sprintf("%s %s, %d nodes", c.Operator, c.Interval, c.Nodes)
}

// intervalsOf: what each operator's two timers measure, in the
// launchers' interval names.
func intervalsOf(r BootstrapRun) [2]struct {
	name  string
	v     float64
	trunc float64
} {
	type iv = struct {
		name  string
		v     float64
		trunc float64
	}
	if r.Operator == MPIOperator {
		return [2]iv{{launchers.IntervalMpirun, r.Submit - r.App, AppClockResolution}, {launchers.IntervalOperator, r.Start - r.Submit, 0}}
	}
	return [2]iv{{launchers.IntervalJob, r.Submit - r.App, AppClockResolution}, {launchers.IntervalBroker, r.Start - r.Submit, 0}}
}

// LauncherCases groups the runs into cases, ordered by operator,
// interval and nodes.
func LauncherCases(runs []BootstrapRun) ([]*LauncherCase, error) {
	idx := map[string]*LauncherCase{}
	var out []*LauncherCase
	for _, r := range runs {
		for _, iv := range intervalsOf(r) {
			k := fmt.Sprintf("%s/%s/%d", r.Operator, iv.name, r.Nodes)
			c := idx[k]
			if c == nil {
				c = &LauncherCase{Operator: r.Operator, Interval: iv.name, Nodes: r.Nodes, Ranks: r.Ranks, Truncation: iv.trunc}
				idx[k] = c
				out = append(out, c)
			} else if c.Ranks != r.Ranks {
				return nil, fmt.Errorf("line %d: %s at %d nodes with %d ranks, earlier rows had %d", r.Line, r.Operator, r.Nodes, r.Ranks, c.Ranks)
			}
			c.Values = append(c.Values, iv.v)
		}
	}
	for _, c := range out {
		slices.Sort(c.Values)
	}
	slices.SortFunc(out, func(a, b *LauncherCase) int {
		if c := strings.Compare(b.Operator, a.Operator); c != 0 { // mpi-operator first
			return c
		}
		if c := strings.Compare(a.Interval, b.Interval); c != 0 {
			return c
		}
		return a.Nodes - b.Nodes
	})
	return out, nil
}
