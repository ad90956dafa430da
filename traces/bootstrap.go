package traces

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// The operator-bootstrap table (results-combined-df.csv of
// converged-computing/operator-experiments, aws/lammps/kubecon): one row
// per LAMMPS run launched by the Flux Operator or the MPI Operator on
// the same EKS cluster, with the columns minicluster_size,
// fluxsubmit_time, fluxstart_time, lammps_time, ranks and operator_name
// (others are ignored). For flux-operator rows fluxsubmit_time is the
// lead broker's `flux submit --watch` time and fluxstart_time its
// `flux start` time; for mpi-operator rows fluxsubmit_time is mpirun's
// real time and fluxstart_time the MPIJob's end-to-end time (first sync
// to MPIJobSucceeded). lammps_time is LAMMPS' "Total wall time",
// printed in whole seconds (truncated).

// BootstrapKind names the operator-bootstrap table in size-limit
// messages; at most limitio.DataTable bytes (decompressed) are read.
const BootstrapKind = "operator-bootstrap CSV"

// Operator names in the operator-bootstrap table.
const (
	FluxOperator = "flux-operator"
	MPIOperator  = "mpi-operator"
)

// LAMMPSWallResolution is the resolution of LAMMPS's "Total wall time"
// (h:mm:ss, truncated to whole seconds): an interval measured against it
// looks up to that much longer, uniformly.
const LAMMPSWallResolution = 1.0

// bootstrapMaxSeconds is the largest time read from the table (its
// runs take seconds to minutes).
const bootstrapMaxSeconds = 1e6

// bootstrapMaxCount is the largest node or rank count read.
const bootstrapMaxCount = 1 << 24

// BootstrapRun is one row of the operator-bootstrap table.
type BootstrapRun struct {
	Line          int
	Operator      string // FluxOperator or MPIOperator
	Nodes, Ranks  int
	Submit, Start float64
	App           float64
}

// ReadOperatorBootstrap reads the operator-bootstrap table, its runs in
// file order. A missing column, a row of another number of fields than
// the header, a time that is not a finite number of seconds from 0 to
// 1e6, a count that is not an integer from 1 to 1<<24, fewer ranks than
// nodes, another operator, a fluxsubmit_time shorter than lammps_time
// (beyond LAMMPSWallResolution) or a fluxstart_time shorter than
// fluxsubmit_time is an error naming the file, the line and the column;
// so is a table of no rows, or input over limitio.DataTable bytes. A
// gzip file is decompressed.
func ReadOperatorBootstrap(name string, r io.Reader) ([]BootstrapRun, error) {
	src, err := appReader(name, r, BootstrapKind)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	bad := func(line int, field, format string, a ...any) error {
		return &InputError{File: name, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	csvErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return bad(pe.Line, "", "%v", pe.Err)
		}
		return appStreamErr(name, 0, err, 0)
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, bad(0, "", "empty file")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"minicluster_size", "fluxsubmit_time", "fluxstart_time", "lammps_time", "ranks", "operator_name"}
	for _, c := range need {
		if _, ok := col[c]; !ok {
			return nil, bad(1, "header", "missing column %q (need %s)", c, strings.Join(need, ", "))
		}
	}
	var out []BootstrapRun
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, bad(line, "", "%d fields, the header has %d", len(rec), len(header))
		}
		field := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		num := func(c string) (float64, error) {
			v, err := strconv.ParseFloat(field(c), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > bootstrapMaxSeconds {
				return 0, bad(line, c, "%s is not a time in seconds", limitio.Quote(field(c), 40))
			}
			return v, nil
		}
		count := func(c string) (int, error) {
			v, err := strconv.Atoi(field(c))
			if err != nil || v < 1 || v > bootstrapMaxCount {
				return 0, bad(line, c, "%s is not a positive count", limitio.Quote(field(c), 40))
			}
			return v, nil
		}
		run := BootstrapRun{Line: line, Operator: field("operator_name")}
		if run.Operator != FluxOperator && run.Operator != MPIOperator {
			return nil, bad(line, "operator_name", "%s is neither %s nor %s", limitio.Quote(run.Operator, 40), FluxOperator, MPIOperator)
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
			return nil, bad(line, "ranks", "%d ranks on %d nodes", run.Ranks, run.Nodes)
		case run.Submit+LAMMPSWallResolution < run.App:
			return nil, bad(line, "fluxsubmit_time", "%g is shorter than lammps_time %g", run.Submit, run.App)
		case run.Start < run.Submit:
			return nil, bad(line, "fluxstart_time", "%g is shorter than fluxsubmit_time %g", run.Start, run.Submit)
		}
		out = append(out, run)
	}
	if len(out) == 0 {
		return nil, bad(0, "", "no runs")
	}
	return out, nil
}
