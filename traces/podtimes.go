package traces

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

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
func ReadPodTimes(r io.Reader, name string) ([]*PodTimes, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
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
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string { return rec[col[c]] }
		t, err := strconv.ParseFloat(get("time_seconds"), 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
			return nil, fmt.Errorf("%s: line %d: time_seconds: not a non-negative number: %q", name, line, get("time_seconds"))
		}
		size, err := strconv.Atoi(get("size"))
		if err != nil || size < 1 {
			return nil, fmt.Errorf("%s: line %d: size: not a positive integer: %q", name, line, get("size"))
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
			return nil, fmt.Errorf("%s: line %d: event: %q does not apply to pod %q", name, line, ev, pod)
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
			return nil, fmt.Errorf("%s: line %d: event: unknown event %q (known: watch_create, watch_delete, PodScheduled, Initialized, ContainersReady, Ready)", name, line, ev)
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	return runs, nil
}
