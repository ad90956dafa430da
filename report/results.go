package report

import (
	"encoding/json"
	"io"

	"github.com/convergesim/converge/engine"
)

// The results.json schema. Struct field order is the key order of the
// output; maps (settings, labels) are written with sorted keys by
// encoding/json. docs/outputs.md documents every field.

type resultsJSON struct {
	SchemaVersion int         `json:"schemaVersion"`
	Meta          metaJSON    `json:"meta"`
	Run           runJSON     `json:"run"`
	Cluster       clusterJSON `json:"cluster"`
	Summary       summaryJSON `json:"summary"`
}

type metaJSON struct {
	Scenario       string            `json:"scenario"`
	ScenarioPath   string            `json:"scenarioPath"`
	ScenarioSHA256 string            `json:"scenarioSha256"`
	Seed           uint64            `json:"seed"`
	Policy         string            `json:"policy"`
	Version        string            `json:"version"`
	Settings       map[string]string `json:"settings"`
}

type runJSON struct {
	Stopped     string `json:"stopped"`
	StallReason string `json:"stallReason"`
	Complete    bool   `json:"complete"`
	End         num    `json:"end"`
	Events      int    `json:"events"`
	Records     int    `json:"records"`
	// Stall explains a stalled run; Starved lists starved jobs.
	Stall   *stallJSON    `json:"stall,omitempty"`
	Starved []starvedJSON `json:"starved"`
}

type stallJSON struct {
	At      num              `json:"at"`
	Verdict string           `json:"verdict"`
	Jobs    []stalledJobJSON `json:"jobs"`
}

type stalledJobJSON struct {
	Name         string         `json:"name"`
	Running      int            `json:"running"`
	Waiting      int            `json:"waiting"`
	Bound        int            `json:"bound"`
	Pending      int            `json:"pending"`
	Uncreated    int            `json:"notCreated"`
	HeldMilliCPU int64          `json:"heldCpuMillicores"`
	Nodes        []nodeHoldJSON `json:"nodes"`
	Why          string         `json:"why"`
}

type nodeHoldJSON struct {
	Node string `json:"node"`
	Pods int    `json:"pods"`
}

type starvedJSON struct {
	Name      string `json:"name"`
	Wait      num    `json:"wait"`
	Started   bool   `json:"started"`
	Overtaken int    `json:"overtaken"`
}

func stallOf(st *Stall) *stallJSON {
	if st == nil {
		return nil
	}
	out := &stallJSON{At: num(st.At), Verdict: st.Verdict, Jobs: []stalledJobJSON{}}
	for _, j := range st.Jobs {
		nodes := make([]nodeHoldJSON, len(j.Nodes))
		for i, h := range j.Nodes {
			nodes[i] = nodeHoldJSON{h.Node, h.Pods}
		}
		out.Jobs = append(out.Jobs, stalledJobJSON{j.Name, j.Running, j.Waiting, j.Bound, j.Pending, j.Uncreated, j.HeldMilliCPU, nodes, j.Why})
	}
	return out
}

func starvedOf(ss []Starved) []starvedJSON {
	out := make([]starvedJSON, len(ss))
	for i, s := range ss {
		out[i] = starvedJSON{s.Name, num(s.Wait), s.Started, s.Overtaken}
	}
	return out
}

type resourcesJSON struct {
	MilliCPU int64 `json:"cpuMillicores"`
	Memory   int64 `json:"memoryBytes"`
	GPU      int64 `json:"gpu"`
	Pods     int64 `json:"pods"`
}

func resources(r engine.Resources) resourcesJSON {
	return resourcesJSON{r.MilliCPU, r.Memory, r.GPU, r.Pods}
}

type clusterJSON struct {
	Capacity resourcesJSON `json:"capacity"`
	Nodes    []nodeJSON    `json:"nodes"`
}

type nodeJSON struct {
	Index         int               `json:"index"`
	Name          string            `json:"name"`
	Pool          string            `json:"pool"`
	Zone          string            `json:"zone"`
	Rack          string            `json:"rack"`
	Allocatable   resourcesJSON     `json:"allocatable"`
	Unschedulable bool              `json:"unschedulable"`
	Labels        map[string]string `json:"labels"`
	Taints        []engine.Taint    `json:"taints"`
}

type statsJSON struct {
	Count int `json:"count"`
	Mean  num `json:"mean"`
	Min   num `json:"min"`
	P50   num `json:"p50"`
	P90   num `json:"p90"`
	P99   num `json:"p99"`
	Max   num `json:"max"`
}

func statsOf(s Stats) statsJSON {
	return statsJSON{s.Count, num(s.Mean), num(s.Min), num(s.P50), num(s.P90), num(s.P99), num(s.Max)}
}

type utilisationJSON struct {
	Window num  `json:"window"`
	CPU    num  `json:"cpu"`
	Memory num  `json:"memory"`
	GPU    *num `json:"gpu,omitempty"` // absent when the cluster has no GPU
}

type summaryJSON struct {
	Nodes              int `json:"nodes"`
	Jobs               int `json:"jobs"`
	JobsFinished       int `json:"jobsFinished"`
	Pods               int `json:"pods"`
	PodsScheduled      int `json:"podsScheduled"`
	PodsStarted        int `json:"podsStarted"`
	PodsFinished       int `json:"podsFinished"`
	PodsNeverScheduled int `json:"podsNeverScheduled"`
	PodsNeverStarted   int `json:"podsNeverStarted"`
	PodsUnfinished     int `json:"podsUnfinished"`
	PodsNeverCreated   int `json:"podsNeverCreated"`

	FirstSubmitted num `json:"firstSubmitted"`
	LastFinished   num `json:"lastFinished"`
	Makespan       num `json:"makespan"`
	WindowEnd      num `json:"windowEnd"`

	PodStartupDelay    statsJSON `json:"podStartupDelay"`
	PodWait            statsJSON `json:"podWait"`
	PodSchedulingDelay statsJSON `json:"podSchedulingDelay"`
	PodRunTime         statsJSON `json:"podRunTime"`
	JobStartup         statsJSON `json:"jobStartup"`
	JobWait            statsJSON `json:"jobWait"`
	JobRunTime         statsJSON `json:"jobRunTime"`
	JobTurnaround      statsJSON `json:"jobTurnaround"`
	// Only when a launcher started some jobs.
	JobLaunch     *statsJSON `json:"jobLaunch,omitempty"`
	JobAppRunTime *statsJSON `json:"jobAppRunTime,omitempty"`

	Utilisation utilisationJSON `json:"utilisation"`

	SchedulingAttempts   int `json:"schedulingAttempts"`
	SchedulingFailures   int `json:"schedulingFailures"`
	PullFailures         int `json:"pullFailures"`
	PodsWithPullFailures int `json:"podsWithPullFailures"`
	PullSeconds          num `json:"pullSeconds"`

	Workloads []workloadJSON `json:"workloads"`
	Runtimes  []runtimeJSON  `json:"runtimes"`
	// HPC is the batch view of the Flux jobs (absent without any).
	HPC *hpcJSON `json:"hpc,omitempty"`
	// Workflows are the run's workflows (absent without any).
	Workflows []workflowJSON `json:"workflows,omitempty"`
}

type runtimeJSON struct {
	Workload string      `json:"workload"`
	Runtime  string      `json:"runtime"`
	Jobs     int         `json:"jobs"`
	RunTime  statsJSON   `json:"runTime"`
	Ratio    num         `json:"ratioToFirst"`
	Phases   []phaseJSON `json:"phases"`
}

type phaseJSON struct {
	Name    string `json:"name"`
	Seconds num    `json:"seconds"`
}

func runtimesJSON(rs []RuntimeSummary) []runtimeJSON {
	out := make([]runtimeJSON, len(rs))
	for i, r := range rs {
		ph := make([]phaseJSON, len(r.Phases))
		for k, p := range r.Phases {
			ph[k] = phaseJSON{p.Name, num(p.Seconds)}
		}
		out[i] = runtimeJSON{r.Workload, r.Runtime, r.Jobs, statsOf(r.RunTime), num(r.Ratio), ph}
	}
	return out
}

type workloadJSON struct {
	Name          string    `json:"name"`
	Jobs          int       `json:"jobs"`
	JobsFinished  int       `json:"jobsFinished"`
	JobStartup    statsJSON `json:"jobStartup"`
	JobWait       statsJSON `json:"jobWait"`
	JobTurnaround statsJSON `json:"jobTurnaround"`
}

func workloadsJSON(ws []WorkloadSummary) []workloadJSON {
	out := make([]workloadJSON, len(ws))
	for i, w := range ws {
		out[i] = workloadJSON{w.Name, w.Jobs, w.JobsFinished, statsOf(w.JobStartup), statsOf(w.JobWait), statsOf(w.JobTurnaround)}
	}
	return out
}

// writeResults writes results.json: the run's identity, cluster and
// summary. Per-job and per-pod rows are in jobs.csv and pods.csv only.
func writeResults(w io.Writer, res *engine.Result, meta Meta, s Summary) error {
	settings := meta.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	out := resultsJSON{
		SchemaVersion: SchemaVersion,
		Meta: metaJSON{
			Scenario: meta.Scenario, ScenarioPath: meta.ScenarioPath, ScenarioSHA256: meta.ScenarioSHA256,
			Seed: meta.Seed, Policy: meta.Policy, Version: meta.Version, Settings: settings,
		},
		Run: runJSON{
			Stopped: s.Stopped, StallReason: s.StallReason, Complete: s.Complete,
			End: num(s.End), Events: s.Events, Records: s.Records,
			Stall: stallOf(s.Stall), Starved: starvedOf(s.Starved),
		},
		Cluster: clusterJSON{Capacity: resources(s.Capacity), Nodes: []nodeJSON{}},
		Summary: summaryJSON{
			Nodes: s.Nodes, Jobs: s.Jobs, JobsFinished: s.JobsFinished,
			Pods: s.Pods, PodsScheduled: s.PodsScheduled, PodsStarted: s.PodsStarted, PodsFinished: s.PodsFinished,
			PodsNeverScheduled: s.PodsNeverScheduled, PodsNeverStarted: s.PodsNeverStarted,
			PodsUnfinished: s.PodsUnfinished, PodsNeverCreated: s.PodsNeverCreated,
			FirstSubmitted: num(s.FirstSubmitted), LastFinished: num(s.LastFinished),
			Makespan: num(s.Makespan), WindowEnd: num(s.WindowEnd),
			PodStartupDelay:    statsOf(s.PodStartupDelay),
			PodWait:            statsOf(s.PodWait),
			PodSchedulingDelay: statsOf(s.PodSchedulingDelay),
			PodRunTime:         statsOf(s.PodRunTime),
			JobStartup:         statsOf(s.JobStartup),
			JobWait:            statsOf(s.JobWait),
			JobRunTime:         statsOf(s.JobRunTime),
			JobTurnaround:      statsOf(s.JobTurnaround),
			Utilisation: utilisationJSON{
				Window: num(s.Utilisation.Window), CPU: num(s.Utilisation.CPU), Memory: num(s.Utilisation.Memory),
			},
			SchedulingAttempts: s.SchedulingAttempts, SchedulingFailures: s.SchedulingFailures,
			PullFailures: s.PullFailures, PodsWithPullFailures: s.PodsWithPullFailures,
			PullSeconds: num(s.PullSeconds),
			Workloads:   workloadsJSON(s.Workloads),
			Runtimes:    runtimesJSON(s.Runtimes),
		},
	}
	if s.Utilisation.HasGPU {
		g := num(s.Utilisation.GPU)
		out.Summary.Utilisation.GPU = &g
	}
	if h := s.HPC; h != nil {
		out.Summary.HPC = hpcOf(h)
	}
	if len(meta.Workflows) > 0 {
		out.Summary.Workflows = workflowsJSON(meta.Workflows)
	}
	if s.JobLaunch.Count > 0 {
		l, a := statsOf(s.JobLaunch), statsOf(s.JobAppRunTime)
		out.Summary.JobLaunch, out.Summary.JobAppRunTime = &l, &a
	}
	if res.Cluster != nil {
		for _, n := range res.Cluster.Nodes {
			labels := n.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			taints := n.Taints
			if taints == nil {
				taints = []engine.Taint{}
			}
			out.Cluster.Nodes = append(out.Cluster.Nodes, nodeJSON{
				Index: n.Index, Name: n.Name, Pool: n.Pool, Zone: n.Zone, Rack: n.Rack,
				Allocatable: resources(n.Allocatable), Unschedulable: n.Unschedulable,
				Labels: labels, Taints: taints,
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type hpcJSON struct {
	Jobs            int             `json:"jobs"`
	Finished        int             `json:"finished"`
	Killed          int             `json:"killed"`
	Rejected        int             `json:"rejected"`
	Threshold       num             `json:"boundedSlowdownThreshold"`
	Wait            statsJSON       `json:"wait"`
	Run             statsJSON       `json:"run"`
	Turnaround      statsJSON       `json:"turnaround"`
	BoundedSlowdown statsJSON       `json:"boundedSlowdown"`
	Accuracy        statsJSON       `json:"walltimeAccuracy"`
	BySize          []sizeClassJSON `json:"bySize"`
	Fairness        num             `json:"fairness"`
	Utilisation     []num           `json:"utilisationByTenth"`
}

type sizeClassJSON struct {
	Min             int       `json:"minExclusive"`
	Max             int       `json:"max"`
	Jobs            int       `json:"jobs"`
	Wait            statsJSON `json:"wait"`
	BoundedSlowdown statsJSON `json:"boundedSlowdown"`
}

func hpcOf(h *HPC) *hpcJSON {
	out := &hpcJSON{Jobs: h.Jobs, Finished: h.Finished, Killed: h.Killed, Rejected: h.Rejected, Threshold: num(h.Threshold),
		Wait: statsOf(h.Wait), Run: statsOf(h.Run), Turnaround: statsOf(h.Turnaround), BoundedSlowdown: statsOf(h.BoundedSlowdown),
		Accuracy: statsOf(h.Accuracy), BySize: []sizeClassJSON{}, Utilisation: []num{}, Fairness: num(h.Fairness)}
	for _, c := range h.BySize {
		out.BySize = append(out.BySize, sizeClassJSON{Min: c.Min, Max: c.Max, Jobs: c.Jobs, Wait: statsOf(c.Wait), BoundedSlowdown: statsOf(c.BoundedSlowdown)})
	}
	for _, u := range h.Utilisation {
		out.Utilisation = append(out.Utilisation, num(u))
	}
	return out
}
