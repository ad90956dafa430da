package calibrate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
	"github.com/convergesim/converge/traces"
)

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
}

// ParseLAMMPSLog reads a LAMMPS screen or log output. A log without a
// "Loop time" line is an error naming the file.
func ParseLAMMPSLog(name string, r io.Reader) (*LAMMPSLog, error) {
	l := &LAMMPSLog{Wall: -1, Sections: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inBreakdown, haveLoop := false, false
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Loop time of "):
			// Loop time of 80.2568 on 64 procs for 100 steps with 622592 atoms
			if len(f) < 12 {
				return nil, fmt.Errorf("%s: malformed %q", name, line)
			}
			var err error
			if l.Loop, err = strconv.ParseFloat(f[3], 64); err != nil {
				return nil, fmt.Errorf("%s: loop time: %w", name, err)
			}
			if l.Procs, err = strconv.Atoi(f[5]); err != nil {
				return nil, fmt.Errorf("%s: procs: %w", name, err)
			}
			if l.Steps, err = strconv.Atoi(f[8]); err != nil {
				return nil, fmt.Errorf("%s: steps: %w", name, err)
			}
			if l.Atoms, err = strconv.Atoi(f[11]); err != nil {
				return nil, fmt.Errorf("%s: atoms: %w", name, err)
			}
			haveLoop = true
		case strings.HasSuffix(line, "MPI processor grid") && len(f) == 8 && f[1] == "by" && f[3] == "by":
			for i, s := range []string{f[0], f[2], f[4]} {
				l.Grid[i], _ = strconv.Atoi(s)
			}
		case strings.HasPrefix(line, "Section |"):
			inBreakdown = true
		case inBreakdown && len(f) >= 5 && f[1] == "|":
			// Pair    | 40.834     | 44.955     | 49.009     |  28.1 | 56.01
			// Other   |            | 0.003396   |            |       |  0.00
			cols := strings.Split(line, "|")
			if len(cols) >= 3 {
				if v, err := strconv.ParseFloat(strings.TrimSpace(cols[2]), 64); err == nil {
					l.Sections[strings.TrimSpace(cols[0])] = v
				}
			}
			if f[0] == "Other" {
				inBreakdown = false
			}
		case strings.HasPrefix(line, "Total wall time:") && len(f) == 4:
			parts := strings.Split(f[3], ":")
			if len(parts) == 3 {
				h, e1 := strconv.Atoi(parts[0])
				m, e2 := strconv.Atoi(parts[1])
				s, e3 := strconv.Atoi(parts[2])
				if e1 == nil && e2 == nil && e3 == nil {
					l.Wall = float64(h*3600 + m*60 + s)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !haveLoop {
		return nil, fmt.Errorf("%s: no \"Loop time\" line", name)
	}
	return l, nil
}

// FluxUsernetesRun is one LAMMPS run of flux-usernetes-aws.
type FluxUsernetesRun struct {
	Env   string // bare-metal, container, usernetes, …-with-usernetes
	Nodes int
	Iter  int
	Log   *LAMMPSLog
}

// ReadFluxUsernetesLAMMPS reads results-lammps/<env>/lammps-<nodes>-<ranks>-<iter>.out
// under dir, in path order.
func ReadFluxUsernetesLAMMPS(dir string) ([]FluxUsernetesRun, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "results-lammps", "*", "lammps-*.out"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no results-lammps/*/lammps-*.out: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(paths)
	var runs []FluxUsernetesRun
	for _, p := range paths {
		var nodes, ranks, iter int
		if _, err := fmt.Sscanf(filepath.Base(p), "lammps-%d-%d-%d.out", &nodes, &ranks, &iter); err != nil {
			return nil, fmt.Errorf("%s: name is not lammps-<nodes>-<ranks>-<iter>.out", p)
		}
		data, err := limitio.ReadFile(p, limitio.DataTable, "LAMMPS log")
		if err != nil {
			return nil, err
		}
		l, err := ParseLAMMPSLog(p, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if l.Procs != ranks {
			return nil, fmt.Errorf("%s: %d procs, the name says %d", p, l.Procs, ranks)
		}
		runs = append(runs, FluxUsernetesRun{Env: filepath.Base(filepath.Dir(p)), Nodes: nodes, Iter: iter, Log: l})
	}
	return runs, nil
}

// CanopieJob is one MPIJob log of canopie22-scaling (read by the traces
// package's canopie22 reader: see ReadCanopieArchive).
type CanopieJob struct {
	File        string
	Ranks, Pods int
	Runtime     float64 // MPIJob runtime (running → succeeded), s
	// Command is the launcher's command line ("+ mpirun …" in the
	// shell trace).
	Command string
	// Stages holds what the application printed: AMG "generate",
	// "setup", "solve", "iterations"; LAMMPS "loop"; QMCPACK "init",
	// "qmc1", "qmc2", …, "total" (QMCPACK's own timers).
	Stages map[string]float64
	// Scheduler is the scheduler that placed the job (default-scheduler
	// or kubeflux), Startup the MPIJob's startup time (created →
	// running, s), SlotsPerPod and MemoryGiB each worker pod's cpu and
	// memory, LauncherCPUs and LauncherGiB the launcher pod's, and
	// PodNodes the node of each worker pod, in pod order.
	Scheduler string
	Startup   float64
	// CPUsPerPod is each worker's cpu request: the archive's
	// app-experiment-config.json cpus_per_pod for the job's ranks and
	// pods, or its one value (94 for every AMG configuration: a whole
	// node, whatever the MPI slots), else SlotsPerPod.
	CPUsPerPod   int
	SlotsPerPod  int
	MemoryGiB    float64
	LauncherCPUs int
	LauncherGiB  float64
	PodNodes     []string
}

// NodesUsed is the number of distinct nodes the job's worker pods ran
// on, and the most pods one node held.
func (j *CanopieJob) NodesUsed() (distinct, most int) {
	per := map[string]int{}
	for _, n := range j.PodNodes {
		per[n]++
		most = max(most, per[n])
	}
	return len(per), most
}

// ReadCanopieArchive reads the MPIJob logs of one canopie22 .tgz, through
// the traces reader of the canopie22 format, sorted by log name.
func ReadCanopieArchive(path string) ([]CanopieJob, error) {
	t := &traces.Trace{Start: traces.NaN}
	if _, err := traces.ReadFile(t, path, "canopie22"); err != nil {
		return nil, err
	}
	t.Link("MPIJob")
	var jobs []CanopieJob
	for _, j := range t.Jobs {
		c, err := canopieJob(t, j, path)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, c)
	}
	slices.SortFunc(jobs, func(a, b CanopieJob) int { return strings.Compare(a.File, b.File) })
	return jobs, nil
}

// canopieJob is the calibration's view of a canopie22 MPIJob of a trace.
func canopieJob(t *traces.Trace, j *traces.Job, path string) (CanopieJob, error) {
	c := CanopieJob{File: path + ":" + j.Params["log"], Command: j.Params["command"], Scheduler: j.Scheduler,
		Startup: -1, Stages: map[string]float64{}}
	ints := []struct {
		key string
		to  *int
	}{{"ranks", &c.Ranks}, {"pods", &c.Pods}, {"slots_per_pod", &c.SlotsPerPod}, {"launcher_cpus", &c.LauncherCPUs}, {"cpus_per_pod", &c.CPUsPerPod}}
	for _, f := range ints {
		if s, ok := j.Params[f.key]; ok {
			v, err := strconv.Atoi(s)
			if err != nil {
				return c, fmt.Errorf("%s: %s: %s %q", c.File, j.ID, f.key, s)
			}
			*f.to = v
		}
	}
	floats := []struct {
		key string
		to  *float64
	}{{"runtime", &c.Runtime}, {"memory_gib_per_pod", &c.MemoryGiB}, {"launcher_memory_gib", &c.LauncherGiB}}
	for _, f := range floats {
		if s, ok := j.Params[f.key]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %s: %s %q", c.File, j.ID, f.key, s)
			}
			*f.to = v
		}
	}
	for k, s := range j.Params {
		if name, ok := strings.CutPrefix(k, "stage."); ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %s: %s %q", c.File, j.ID, k, s)
			}
			c.Stages[name] = v
		}
	}
	if traces.Known(j.Startup) {
		c.Startup = j.Startup
	}
	if c.CPUsPerPod == 0 {
		c.CPUsPerPod = c.SlotsPerPod
	}
	for _, i := range j.Pods {
		if p := t.Pods[i]; p.Role == "worker" {
			c.PodNodes = append(c.PodNodes, p.Node)
		}
	}
	return c, nil
}

// StreamMLRun is one LAMMPS test run of lammps-stream-ml.
type StreamMLRun struct {
	X, Y, Z int
	Wall    int // "Total wall time", whole seconds
}

// ReadStreamML reads the 250 test runs of lammps-predict.json.
func ReadStreamML(path string) ([]StreamMLRun, error) {
	data, err := limitio.ReadFile(path, limitio.DataTable, "lammps-stream-ml JSON")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Dims []struct{ X, Y, Z int } `json:"dims"`
		Y    []int                   `json:"y_true"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Dims) != len(doc.Y) || len(doc.Y) == 0 {
		return nil, fmt.Errorf("%s: %d dims for %d times", path, len(doc.Dims), len(doc.Y))
	}
	runs := make([]StreamMLRun, len(doc.Y))
	for i, d := range doc.Dims {
		if d.X <= 0 || d.Y <= 0 || d.Z <= 0 || doc.Y[i] < 0 {
			return nil, fmt.Errorf("%s: run %d: dims %+v, time %d", path, i, d, doc.Y[i])
		}
		runs[i] = StreamMLRun{X: d.X, Y: d.Y, Z: d.Z, Wall: doc.Y[i]}
	}
	return runs, nil
}

// TreeSHA256 is the SHA-256 of the lines "<sha256>  <path>\n" of the
// files matching pattern, sorted by path relative to base (what
// `sha256sum <files> | sort -k2` prints, from base), so a set of
// files has one digest.
func TreeSHA256(base, pattern string) (string, int, error) {
	paths, err := filepath.Glob(filepath.Join(base, pattern))
	if err != nil {
		return "", 0, err
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		s, err := FileSHA256(p)
		if err != nil {
			return "", 0, err
		}
		rel, _ := filepath.Rel(base, p)
		fmt.Fprintf(h, "%s  %s\n", s, filepath.ToSlash(rel))
	}
	return hex.EncodeToString(h.Sum(nil)), len(paths), nil
}

// FileSHA256 is a file's SHA-256 in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Flag3 reads the three integers after flag in a command line (AMG's
// -n 188 144 128 and -P 12 8 2).
func Flag3(cmd, flag string) ([3]int, bool) {
	f := strings.Fields(cmd)
	for i := 0; i+3 < len(f); i++ {
		if f[i] != flag {
			continue
		}
		var v [3]int
		for k := range 3 {
			n, err := strconv.Atoi(f[i+1+k])
			if err != nil || n <= 0 {
				return v, false
			}
			v[k] = n
		}
		return v, true
	}
	return [3]int{}, false
}
