package calibrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/traces"
)

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
