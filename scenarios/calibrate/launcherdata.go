package calibrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/traces"
	"github.com/convergesim/converge/workloads/launchers"
)

// The operator-bootstrap data (../shared/data/operator-bootstrap) is
// read by traces.ReadOperatorBootstrap (what its columns mean is
// documented there): one row per LAMMPS run launched by the Flux
// Operator or the MPI Operator on the same EKS cluster.

// Operator names in the data.
const (
	FluxOperator = traces.FluxOperator
	MPIOperator  = traces.MPIOperator
)

// AppClockResolution is the resolution of the application's own timer
// in the data (LAMMPS prints its total wall time in whole seconds,
// truncated): an interval measured against it looks up to that much
// longer, uniformly.
const AppClockResolution = traces.LAMMPSWallResolution

// ReadOperatorBootstrap reads the operator-bootstrap CSV (with
// traces.ReadOperatorBootstrap) and returns its runs and the file's
// SHA-256 (as stored).
func ReadOperatorBootstrap(path string) ([]traces.BootstrapRun, string, error) {
	data, err := limitio.ReadFile(path, limitio.DataTable, traces.BootstrapKind)
	if err != nil {
		return nil, "", err
	}
	runs, err := traces.ReadOperatorBootstrap(path, bytes.NewReader(data))
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return runs, hex.EncodeToString(sum[:]), nil
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
func intervalsOf(r traces.BootstrapRun) [2]struct {
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
func LauncherCases(runs []traces.BootstrapRun) ([]*LauncherCase, error) {
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
