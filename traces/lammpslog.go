package traces

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// LAMMPSLogKind names LAMMPS logs in size-limit messages; at most
// limitio.DataTable bytes (decompressed) of one are read.
const LAMMPSLogKind = "LAMMPS log"

// lammpsMaxLine is the longest line of a LAMMPS log read (its lines are
// at most a few hundred bytes).
const lammpsMaxLine = 1 << 20

// LAMMPSLog is what a LAMMPS log says about one run.
type LAMMPSLog struct {
	Procs int     // MPI tasks ("Loop time of … on N procs")
	Steps int     // steps of the run
	Atoms int     // atoms
	Grid  [3]int  // the last "a by b by c MPI processor grid"
	Loop  float64 // Loop time, s
	// Wall is "Total wall time" (h:mm:ss, whole seconds), -1 if absent.
	Wall float64
	// Sections is the MPI task timing breakdown (average over tasks).
	Sections map[string]float64
	// Line is the line of the "Loop time" line read (the last one).
	Line int
}

// ReadLAMMPSLog reads a LAMMPS screen or log output: the last
// "Loop time of T on N procs for S steps with A atoms" line, the last
// "a by b by c MPI processor grid", the "Section |" timing breakdown
// (the avg time column; a later breakdown replaces the values of an
// earlier one) and "Total wall time: h:mm:ss". A log without a
// "Loop time" line is an error, as is a time that is not a finite
// number of seconds from 0 to MaxSeconds, a count that is not a
// non-negative integer (procs at least 1, at most 1<<24), a grid that
// is not three positive integers, a line over 1 MiB or input over
// limitio.DataTable bytes; each names the file, the line and the field.
// A gzip file is decompressed.
func ReadLAMMPSLog(name string, r io.Reader) (*LAMMPSLog, error) {
	src, err := appReader(name, r, LAMMPSLogKind)
	if err != nil {
		return nil, err
	}
	l := &LAMMPSLog{Wall: -1, Sections: map[string]float64{}}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), lammpsMaxLine)
	inBreakdown := false
	n := 0
	bad := func(field, format string, a ...any) error {
		return &InputError{File: name, Line: n, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	seconds := func(field, s string) (float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0 && v <= MaxSeconds) {
			return 0, bad(field, "%s is not a time in seconds (from 0 to %g)", quote(s), float64(MaxSeconds))
		}
		return v, nil
	}
	count := func(field, s string, least int) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil || v < least || v > lammpsMaxCount {
			return 0, bad(field, "%s is not a count (from %d to %d)", quote(s), least, lammpsMaxCount)
		}
		return v, nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Loop time of "):
			// Loop time of 80.2568 on 64 procs for 100 steps with 622592 atoms
			if len(f) < 12 {
				return nil, bad("Loop time", "%s is not \"Loop time of T on N procs for S steps with A atoms\"", quote(line))
			}
			if l.Loop, err = seconds("loop time", f[3]); err != nil {
				return nil, err
			}
			if l.Procs, err = count("procs", f[5], 1); err != nil {
				return nil, err
			}
			if l.Steps, err = count("steps", f[8], 0); err != nil {
				return nil, err
			}
			if l.Atoms, err = count("atoms", f[11], 0); err != nil {
				return nil, err
			}
			l.Line = n
		case strings.HasSuffix(line, "MPI processor grid") && len(f) == 8 && f[1] == "by" && f[3] == "by":
			for i, s := range []string{f[0], f[2], f[4]} {
				if l.Grid[i], err = count("MPI processor grid", s, 1); err != nil {
					return nil, err
				}
			}
		case strings.HasPrefix(line, "Section |"):
			inBreakdown = true
		case inBreakdown && len(f) >= 5 && f[1] == "|":
			// Pair    | 40.834     | 44.955     | 49.009     |  28.1 | 56.01
			// Other   |            | 0.003396   |            |       |  0.00
			cols := strings.Split(line, "|")
			if len(cols) >= 3 {
				section, avg := strings.TrimSpace(cols[0]), strings.TrimSpace(cols[2])
				if v, err := strconv.ParseFloat(avg, 64); err == nil {
					if !(v >= 0 && v <= MaxSeconds) {
						return nil, bad("Section "+quote(section), "avg time %s is not a time in seconds (from 0 to %g)", quote(avg), float64(MaxSeconds))
					}
					l.Sections[section] = v
				}
			}
			if f[0] == "Other" {
				inBreakdown = false
			}
		case strings.HasPrefix(line, "Total wall time:") && len(f) == 4:
			if w, ok := lammpsWall(f[3]); ok {
				l.Wall = w
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, appStreamErr(name, n+1, err, lammpsMaxLine)
	}
	if l.Line == 0 {
		return nil, &InputError{File: name, Msg: `no "Loop time" line (is it a LAMMPS log of a finished run?)`}
	}
	return l, nil
}

// lammpsMaxCount bounds the procs, steps, atoms and grid sizes read.
const lammpsMaxCount = math.MaxInt32

// lammpsWall reads LAMMPS's h:mm:ss; false when it is not one (the
// reader then leaves the wall time unknown, as when the line is
// absent).
func lammpsWall(s string) (float64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > MaxSeconds {
			return 0, false
		}
		v[i] = n
	}
	w := float64(v[0]*3600 + v[1]*60 + v[2])
	return w, w <= MaxSeconds
}

// FluxUsernetesRun is one LAMMPS run of flux-usernetes-aws.
type FluxUsernetesRun struct {
	Env   string // bare-metal, container, usernetes, …-with-usernetes
	Nodes int
	Iter  int
	Log   *LAMMPSLog
}

// ReadFluxUsernetesLAMMPS reads the LAMMPS logs of the flux-usernetes-aws
// experiments, results-lammps/<env>/lammps-<nodes>-<ranks>-<iter>.out
// (or .out.gz) under dir, in path order. A log whose procs are not the
// ranks of its name is an error naming the file and line.
func ReadFluxUsernetesLAMMPS(dir string) ([]FluxUsernetesRun, error) {
	var paths []string
	for _, pattern := range []string{"lammps-*.out", "lammps-*.out.gz"} {
		p, err := filepath.Glob(filepath.Join(dir, "results-lammps", "*", pattern))
		if err != nil {
			return nil, err
		}
		paths = append(paths, p...)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no results-lammps/*/lammps-*.out: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(paths)
	var runs []FluxUsernetesRun
	for _, p := range paths {
		nodes, ranks, iter, ok := fluxUsernetesName(filepath.Base(p))
		if !ok {
			return nil, &InputError{File: p, Field: "file name", Msg: "not lammps-<nodes>-<ranks>-<iter>.out (nodes and ranks from 1, ranks at least nodes)"}
		}
		l, err := readLAMMPSLogFile(p)
		if err != nil {
			return nil, err
		}
		if l.Procs != ranks {
			return nil, &InputError{File: p, Line: l.Line, Field: "procs", Msg: fmt.Sprintf("%d procs, the name says %d", l.Procs, ranks)}
		}
		runs = append(runs, FluxUsernetesRun{Env: filepath.Base(filepath.Dir(p)), Nodes: nodes, Iter: iter, Log: l})
	}
	return runs, nil
}

// readLAMMPSLogFile reads the LAMMPS log at path (a folder, or a file
// over limitio.DataTable as stored, is refused).
func readLAMMPSLogFile(path string) (*LAMMPSLog, error) {
	f, err := limitio.Open(path, limitio.DataTable, LAMMPSLogKind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLAMMPSLog(path, f)
}

// fluxUsernetesName reads lammps-<nodes>-<ranks>-<iter>.out[.gz].
func fluxUsernetesName(base string) (nodes, ranks, iter int, ok bool) {
	s, ok := strings.CutPrefix(strings.TrimSuffix(base, ".gz"), "lammps-")
	if !ok {
		return 0, 0, 0, false
	}
	if s, ok = strings.CutSuffix(s, ".out"); !ok {
		return 0, 0, 0, false
	}
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > lammpsMaxCount {
			return 0, 0, 0, false
		}
		v[i] = n
	}
	if v[0] < 1 || v[1] < v[0] {
		return 0, 0, 0, false
	}
	return v[0], v[1], v[2], true
}
