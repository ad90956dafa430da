package traces

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// Kind names the trace tables in size-limit messages; at most
// limitio.DataTable bytes of one are read.
const Kind = "data table"

// Plausibility bounds of trace values: beyond them a row is corrupt.
const (
	// MaxSeconds is the longest time or duration read (about 116 days).
	MaxSeconds = 1e7
	// MaxCount is the largest pod or node count read: more than any
	// Kubernetes cluster holds (its documented limits are 150,000 pods
	// and 5,000 nodes).
	MaxCount = 1_000_000
)

// quote quotes a value of the input for a message, cut to a bounded
// prefix.
func quote(s string) string { return limitio.Quote(s, 80) }

// readErr wraps an error reading a table: a size-limit error already
// names the file.
func readErr(name string, err error) error {
	if stop := inputStop(err); stop != nil {
		return stop
	}
	return fmt.Errorf("%s: %w", name, err)
}

// textReader limits a table's input to limit bytes and refuses a NUL
// byte (/dev/zero, a binary, UTF-16): the tables are text, and a binary
// should not be read up to the limit first.
type textReader struct {
	r    io.Reader
	name string
	off  int64
	err  error
}

func newTextReader(r io.Reader, name string, limit int64) *textReader {
	return &textReader{r: limitio.Reader(r, name, limit, Kind), name: name}
}

func (t *textReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	if i := bytes.IndexByte(p[:n], 0); i >= 0 {
		t.err = &binaryError{t.name, t.off + int64(i)}
		return i, t.err
	}
	t.off += int64(n)
	return n, err
}

// binaryError is a NUL byte in a table.
type binaryError struct {
	name string
	off  int64
}

func (e *binaryError) Error() string {
	return fmt.Sprintf("%s: binary data (a NUL byte at offset %d): not a CSV %s", e.name, e.off, Kind)
}

// inputStop returns the error that stopped the reading of a table (the
// size limit or a NUL byte, which name the file), or nil.
func inputStop(err error) error {
	var be *binaryError
	if errors.As(err, &be) {
		return be
	}
	var tl *limitio.TooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	return nil
}

// openTable opens a table for reading (limitio.Open: a folder, or a
// regular file over limitio.DataTable, is refused); the readers limit
// what they read of anything else.
func openTable(path string) (*os.File, error) {
	return limitio.Open(path, limitio.DataTable, Kind)
}

// ReadPodTimesFile reads pod-times.csv from the file at path (see
// ReadPodTimes).
func ReadPodTimesFile(path string) ([]*PodTimes, error) {
	f, err := openTable(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadPodTimes(f, path)
}

// PodTimes is one experiment run of the pod start-up timing study
// (converged-computing/operator-experiments, aws/indexed-job-timing): a
// batch of pods created either as plain Pods or by one Indexed Job, with
// each pod's condition times in whole seconds since its creation.
type PodTimes struct {
	Experiment string // "pods" or "indexed-job"
	Size       int
	Iteration  string
	// WatchCreate and WatchDelete are the watcher's totals for the batch
	// (seconds); NaN when absent.
	WatchCreate, WatchDelete float64
	Pods                     map[string]*PodConditions
}

// PodConditions are a pod's condition times (seconds since creation; NaN
// when absent).
type PodConditions struct {
	PodScheduled, Initialized, ContainersReady, Ready float64
}

// ReadPodTimes reads pod-times.csv: columns (index), time_seconds, event,
// pod, size, experiment, iteration. It returns the runs in file order.
// At most limitio.DataTable bytes are read; times are at most MaxSeconds
// and sizes MaxCount.
func ReadPodTimes(r io.Reader, name string) ([]*PodTimes, error) {
	return readPodTimes(newTextReader(r, name, limitio.DataTable), name)
}

func readPodTimes(r *textReader, name string) ([]*PodTimes, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file", name)
		}
		return nil, readErr(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, want := range []string{"time_seconds", "event", "pod", "size", "experiment", "iteration"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("%s: line 1: missing column %q", name, want)
		}
	}
	var runs []*PodTimes
	index := map[string]*PodTimes{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string { return rec[col[c]] }
		t, err := strconv.ParseFloat(get("time_seconds"), 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t < 0 || t > MaxSeconds {
			return nil, fmt.Errorf("%s: line %d: time_seconds: not a number of seconds from 0 to %g: %s", name, line, float64(MaxSeconds), quote(get("time_seconds")))
		}
		size, err := strconv.Atoi(get("size"))
		if err != nil || size < 1 || size > MaxCount {
			return nil, fmt.Errorf("%s: line %d: size: not an integer from 1 to %d: %s", name, line, MaxCount, quote(get("size")))
		}
		key := get("experiment") + "\x00" + get("size") + "\x00" + get("iteration")
		run := index[key]
		if run == nil {
			run = &PodTimes{Experiment: get("experiment"), Size: size, Iteration: get("iteration"),
				WatchCreate: math.NaN(), WatchDelete: math.NaN(), Pods: map[string]*PodConditions{}}
			index[key] = run
			runs = append(runs, run)
		}
		pod := get("pod")
		pc := run.Pods[pod]
		if pc == nil && pod != "all" {
			nan := math.NaN()
			pc = &PodConditions{nan, nan, nan, nan}
			run.Pods[pod] = pc
		}
		ev := get("event")
		if (pod == "all") != strings.HasPrefix(ev, "watch_") {
			return nil, fmt.Errorf("%s: line %d: event: %s does not apply to pod %s", name, line, quote(ev), quote(pod))
		}
		switch ev {
		case "watch_create":
			run.WatchCreate = t
		case "watch_delete":
			run.WatchDelete = t
		case "PodScheduled":
			pc.PodScheduled = t
		case "Initialized":
			pc.Initialized = t
		case "ContainersReady":
			pc.ContainersReady = t
		case "Ready":
			pc.Ready = t
		default:
			return nil, fmt.Errorf("%s: line %d: event: unknown event %s (known: watch_create, watch_delete, PodScheduled, Initialized, ContainersReady, Ready)", name, line, quote(ev))
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return runs, nil
}
