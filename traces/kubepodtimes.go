package traces

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

func init() {
	register(&Format{
		Name:   "pod-times",
		Doc:    "the pod start-up study's pod-times.csv (operator-experiments aws/indexed-job-timing): condition times of each pod, seconds since its creation",
		Detect: detectPodTimes,
		Read:   readPodTimesTrace,
		Ext:    ".csv",
	})
}

// detectPodTimes: the header of pod-times.csv (pandas' unnamed index
// column first).
func detectPodTimes(head []byte, keys []string) bool {
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	first = bytes.TrimSpace(first)
	cols := map[string]bool{}
	for _, c := range bytes.Split(first, []byte{','}) {
		cols[string(bytes.TrimSpace(c))] = true
	}
	for _, want := range []string{"time_seconds", "event", "pod", "size", "experiment", "iteration"} {
		if !cols[want] {
			return false
		}
	}
	return true
}

// readPodTimesTrace reads pod-times.csv (ReadPodTimes) into a relative
// trace: one job per run (experiment, size, iteration), of kind Job for
// the Indexed Job runs and Pods for the batches of plain pods, holding
// its pods. The study recorded each pod's condition times in whole
// seconds since that pod's creation, not since the run's start: in the
// published file no PodScheduled is later than 1 s although creating a
// batch took the watcher up to 128 s (watch_create), which times from the
// run's start could not show. The rows carry no creation times: every
// pod's Created is 0,
// its Scheduled, Initialized, ContainersReady and Ready the recorded
// seconds. How the pods' creations were spread over the run is not
// recorded (only the watcher's total creation and deletion time, kept in
// the job's Params as watch_create and watch_delete), so pods of a run
// are not placed in time relative to one another. A pod's namespace is
// its run's id ("<experiment>-<size>-<iteration>"), since pod names
// repeat from run to run.
func readPodTimesTrace(in *Input, t *Trace) error {
	runs, err := ReadPodTimes(in.Reader(), in.Name)
	if err != nil {
		return err
	}
	if len(t.Pods) > 0 && !t.Relative {
		return in.Errorf(0, "", "a relative trace (seconds since each pod's creation) cannot join a trace of wall-clock times")
	}
	t.Relative = true
	for _, run := range runs {
		id := fmt.Sprintf("%s-%d-%s", run.Experiment, run.Size, run.Iteration)
		j, added := t.Job(id)
		if !added {
			return in.Errorf(0, "", "run %s read twice", quote(id))
		}
		j.Name = id
		j.Kind = "Pods"
		if run.Experiment == "indexed-job" {
			j.Kind = "Job"
		}
		j.Submit = 0
		j.Tasks = run.Size
		j.Params = map[string]string{"experiment": run.Experiment, "size": strconv.Itoa(run.Size), "iteration": run.Iteration}
		if Known(run.WatchCreate) {
			j.Params["watch_create"] = strconv.FormatFloat(run.WatchCreate, 'g', -1, 64)
		}
		if Known(run.WatchDelete) {
			j.Params["watch_delete"] = strconv.FormatFloat(run.WatchDelete, 'g', -1, 64)
		}
		names := make([]string, 0, len(run.Pods))
		for n := range run.Pods {
			names = append(names, n)
		}
		idx := func(n string) int { return kubeTrailingIndex(kubePodTimesPrefix(n), n) }
		sort.Slice(names, func(a, b int) bool {
			ia, ib := idx(names[a]), idx(names[b])
			if ia != ib {
				return ia < ib
			}
			return names[a] < names[b]
		})
		for _, n := range names {
			c := run.Pods[n]
			p, _ := t.Pod(id, n)
			p.Job = id
			p.Index = idx(n)
			p.Created = 0
			p.Scheduled, p.Initialized, p.ContainersReady, p.Ready = c.PodScheduled, c.Initialized, c.ContainersReady, c.Ready
			t.Note("pod-times-relative", id+"/"+n, "pod times are whole seconds since each pod's own creation (Created = 0): start-up delays shorter than 1 s are not resolved, and pods are not placed in time relative to one another")
		}
		if len(run.Pods) != run.Size {
			t.Note("pod-times-size", id, "runs with another number of pods recorded than their size")
		}
	}
	return nil
}

// kubePodTimesPrefix is the part of a pod-times pod name before its
// index ("pod" of pod-12, "indexed-job" of indexed-job-26-ntknd).
func kubePodTimesPrefix(name string) string {
	m := kubeIndexedName.FindStringIndex(name)
	if m == nil {
		return name
	}
	return name[:m[0]]
}
