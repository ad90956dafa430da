package report

import (
	"math"

	"github.com/convergesim/converge/engine"
)

// Hand-built runs for the tests. Times are chosen so every expected value
// can be worked out on paper; the tests state the arithmetic.

var nan = math.NaN()

// fixtureNodes: node-a (4 cpu, 8 GiB, no GPU) and node-b (4 cpu, 8 GiB,
// 2 GPUs, tainted). Capacity: 8000m, 16 GiB, 2 GPUs, 220 pods.
func fixtureNodes() []*engine.Node {
	return []*engine.Node{
		{
			Index: 0, Name: "node-a", Pool: "cpu", Zone: "z1",
			Labels:      map[string]string{engine.LabelHostname: "node-a", engine.LabelZone: "z1"},
			Allocatable: engine.Resources{MilliCPU: 4000, Memory: 8 * engine.GiB, Pods: 110},
		},
		{
			Index: 1, Name: "node-b", Pool: "gpu", Zone: "z1", Rack: "r2",
			Labels:      map[string]string{engine.LabelZone: "z1", engine.LabelHostname: "node-b", "accelerator": "a100"},
			Taints:      []engine.Taint{{Key: "gpu", Value: "true", Effect: engine.NoSchedule}},
			Allocatable: engine.Resources{MilliCPU: 4000, Memory: 8 * engine.GiB, GPU: 2, Pods: 110},
		},
	}
}

// pod builds a pod with every timestamp given (NaN = never happened).
func pod(id int, name string, j *engine.Job, index int, n *engine.Node, req engine.Resources,
	created, assigned, scheduled, initialized, started, ready, finished float64) *engine.Pod {
	p := &engine.Pod{
		ID: id, Name: name, Job: j, Index: index, Node: n, Requests: req,
		Created: created, Assigned: assigned, Scheduled: scheduled, Initialized: initialized,
		ContainersStarted: started, Ready: ready, Finished: finished,
	}
	switch {
	case engine.IsSet(finished):
		p.Phase = engine.PodSucceeded
	case engine.IsSet(started):
		p.Phase = engine.PodRunning
	}
	if engine.IsSet(assigned) {
		p.Attempts = 1
	}
	j.Pods = append(j.Pods, p)
	return p
}

// fixture returns a hand-built run. With stalled false it is two jobs that
// finish (mpi, web); with stalled true a third job (batch) never finishes
// and the run stalls at 910 s.
//
//	pod        created assigned sched  init  started ready finished  node    cpu    mem    gpu
//	mpi-0      0.5     1.0      1.25   1.5   3.5     3.5   13.5      node-a  2000m  2 GiB  0
//	mpi-1      1.0     2.0      2.5    2.75  6.0     6.0   16.0      node-b  2000m  2 GiB  1
//	web        2.25    2.5      2.75   3.0   4.0     5.0   8.0       node-a   500m  1 GiB  0
//	batch-0    5.5     6.0      6.5    7.0   -       -     -         node-b  1000m  1 GiB  0
//	batch-1    5.75    -        -      -     -       -     -         -       6000m  1 GiB  0
//
// Jobs: mpi (IndexedJob, parallelism = completions = 2) submitted at 0,
// finished at 16; web (bare Pod) submitted at 2, finished at 8; batch (Job,
// parallelism 2, completions 3) submitted at 5, never finished.
const b1LastFailure = "0/2 nodes are available: 2 Insufficient cpu."

func fixture(stalled bool) *engine.Result {
	nodes := fixtureNodes()
	a, b := nodes[0], nodes[1]
	mpi := &engine.Job{ID: 0, Name: "mpi", Workload: "mpi", Kind: engine.KindIndexedJob, Parallelism: 2, Completions: 2, Submitted: 0, Finished: 16}
	web := &engine.Job{ID: 1, Name: "web", Workload: "web", Kind: engine.KindPod, Parallelism: 1, Completions: 1, Submitted: 2, Finished: 8}
	r := func(cpu int64, memGiB int64, gpu int64) engine.Resources {
		return engine.Resources{MilliCPU: cpu, Memory: memGiB * engine.GiB, GPU: gpu, Pods: 1}
	}
	pods := []*engine.Pod{
		pod(0, "mpi-0", mpi, 0, a, r(2000, 2, 0), 0.5, 1.0, 1.25, 1.5, 3.5, 3.5, 13.5),
		pod(1, "mpi-1", mpi, 1, b, r(2000, 2, 1), 1.0, 2.0, 2.5, 2.75, 6.0, 6.0, 16.0),
		pod(2, "web", web, 0, a, r(500, 1, 0), 2.25, 2.5, 2.75, 3.0, 4.0, 5.0, 8.0),
	}
	// mpi-1 failed one attempt, and one pull (QPS) before a 1.5 s pull.
	pods[1].Attempts = 2
	pods[1].LastFailure = `0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: "true"}.`
	pods[1].PullFailures = 1
	pods[1].PullSeconds = 1.5
	jobs := []*engine.Job{mpi, web}
	recs := []engine.Record{
		{T: 0, Kind: engine.RecJobSubmitted, Job: 0, Pod: -1, Node: -1},
		{T: 0.5, Kind: engine.RecPodCreated, Pod: 0, Node: -1},
		{T: 1.0, Kind: engine.RecPodCreated, Pod: 1, Node: -1},
		{T: 1.0, Kind: engine.RecAssigned, Pod: 0, Node: 0},
		{T: 1.0, Kind: engine.RecFailedScheduling, Pod: 1, Node: -1, Msg: pods[1].LastFailure},
		{T: 1.25, Kind: engine.RecScheduled, Pod: 0, Node: 0},
		{T: 1.5, Kind: engine.RecInitialized, Pod: 0, Node: 0},
		{T: 2.0, Kind: engine.RecJobSubmitted, Job: 1, Pod: -1, Node: -1},
		{T: 2.0, Kind: engine.RecAssigned, Pod: 1, Node: 1},
		{T: 2.25, Kind: engine.RecPodCreated, Pod: 2, Node: -1},
		{T: 2.5, Kind: engine.RecAssigned, Pod: 2, Node: 0},
		{T: 2.5, Kind: engine.RecScheduled, Pod: 1, Node: 1},
		{T: 2.75, Kind: engine.RecInitialized, Pod: 1, Node: 1},
		{T: 2.75, Kind: engine.RecScheduled, Pod: 2, Node: 0},
		{T: 2.75, Kind: engine.RecPullFailed, Pod: 1, Node: 1, Msg: "pull QPS exceeded"},
		{T: 3.0, Kind: engine.RecInitialized, Pod: 2, Node: 0},
		{T: 3.0, Kind: engine.RecPulling, Pod: 1, Node: 1, Msg: "registry.example/mpi:1"},
		{T: 3.5, Kind: engine.RecStarted, Pod: 0, Node: 0},
		{T: 3.5, Kind: engine.RecReady, Pod: 0, Node: 0},
		{T: 4.0, Kind: engine.RecStarted, Pod: 2, Node: 0},
		{T: 5.0, Kind: engine.RecReady, Pod: 2, Node: 0}, // recorded at start, 1 s in the future
		{T: 4.5, Kind: engine.RecPulled, Pod: 1, Node: 1, Msg: "registry.example/mpi:1"},
	}
	end := 16.0
	if stalled {
		batch := &engine.Job{ID: 2, Name: "batch", Workload: "batch", Kind: engine.KindJob, Parallelism: 2, Completions: 3, Submitted: 5, Finished: nan}
		jobs = append(jobs, batch)
		b0 := pod(3, "batch-0", batch, 0, b, r(1000, 1, 0), 5.5, 6.0, 6.5, 7.0, nan, nan, nan)
		b1 := pod(4, "batch-1", batch, 1, nil, r(6000, 1, 0), 5.75, nan, nan, nan, nan, nan, nan)
		// batch-0: three failed pulls, then a pull queued at 7.0 that never
		// completed (PullSeconds counts completed pulls only: 0).
		b0.PullFailures = 3
		// batch-1: four failed attempts, never assigned.
		b1.Attempts = 4
		b1.LastFailure = b1LastFailure
		pods = append(pods, b0, b1)
		recs = append(recs,
			engine.Record{T: 5.0, Kind: engine.RecJobSubmitted, Job: 2, Pod: -1, Node: -1},
			engine.Record{T: 5.5, Kind: engine.RecPodCreated, Pod: 3, Node: -1},
			engine.Record{T: 5.75, Kind: engine.RecPodCreated, Pod: 4, Node: -1},
			engine.Record{T: 5.75, Kind: engine.RecFailedScheduling, Pod: 4, Node: -1, Msg: b1.LastFailure},
		)
	}
	recs = append(recs,
		engine.Record{T: 6.0, Kind: engine.RecStarted, Pod: 1, Node: 1},
		engine.Record{T: 6.0, Kind: engine.RecReady, Pod: 1, Node: 1},
	)
	if stalled {
		recs = append(recs,
			engine.Record{T: 6.0, Kind: engine.RecAssigned, Pod: 3, Node: 1},
			engine.Record{T: 6.5, Kind: engine.RecScheduled, Pod: 3, Node: 1},
			engine.Record{T: 7.0, Kind: engine.RecInitialized, Pod: 3, Node: 1},
			engine.Record{T: 7.0, Kind: engine.RecPulling, Pod: 3, Node: 1, Msg: "registry.example/batch:2"},
		)
	}
	recs = append(recs,
		engine.Record{T: 8.0, Kind: engine.RecSucceeded, Pod: 2, Node: 0},
		engine.Record{T: 8.0, Kind: engine.RecJobComplete, Job: 1, Pod: -1, Node: -1},
		engine.Record{T: 13.5, Kind: engine.RecSucceeded, Pod: 0, Node: 0},
		engine.Record{T: 16.0, Kind: engine.RecSucceeded, Pod: 1, Node: 1},
		engine.Record{T: 16.0, Kind: engine.RecJobComplete, Job: 0, Pod: -1, Node: -1},
	)
	res := &engine.Result{
		Seed: 42, Policy: "first-fit", Cluster: &engine.Cluster{Nodes: nodes},
		Jobs: jobs, Pods: pods, End: end, Events: 57,
	}
	if stalled {
		res.End = 910
		res.Stopped = "stalled"
		res.Events = 263
		res.StallReason = "no progress for 903 s with 2 pods unfinished"
		recs = append(recs,
			engine.Record{T: 910, Kind: engine.RecStalled, Job: -1, Pod: -1, Node: -1, Msg: res.StallReason},
			// batch-1's four failed attempts were one series, closed at the end.
			engine.Record{T: 910, Kind: engine.RecFailedScheduling, Job: 2, Pod: 4, Node: -1, Msg: b1LastFailure, Count: 4, LastObserved: 305.75})
	}
	res.Records = recs
	res.RecordCount = len(recs)
	return res
}

// fixtureMeta is the Meta of the golden outputs.
func fixtureMeta() Meta {
	return Meta{
		Scenario:       "golden",
		ScenarioPath:   "scenarios/golden.yaml",
		ScenarioSHA256: HashScenario([]byte("name: golden\n")),
		Seed:           42,
		Version:        "v0.0.0-test",
		Settings: map[string]string{
			"startup.bindLatency":           "lognormal(median=0.01,sigma=0.5)",
			"kube.percentageOfNodesToScore": "0",
			"horizon":                       "0",
		},
	}
}
