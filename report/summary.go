package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/convergesim/converge/engine"
)

// summary.txt layout.
const (
	labelWidth = 26 // width of the label column
	statWidth  = 10 // width of a number column in the delay table
)

// WriteSummaryText writes the human-readable summary (the contents of
// summary.txt) of a run to w.
func WriteSummaryText(w io.Writer, res *engine.Result, meta Meta) error {
	if meta.Policy == "" {
		meta.Policy = res.Policy
	}
	if meta.Seed == 0 {
		meta.Seed = res.Seed
	}
	_, err := w.Write(renderSummary(res, meta, Summarize(res)))
	return err
}

func renderSummary(res *engine.Result, meta Meta, s Summary) []byte {
	var b bytes.Buffer
	width := labelWidth
	for k := range meta.Settings { // only the maximum is used: order does not matter
		width = max(width, len(k))
	}
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-*s %s\n", width, label, fmt.Sprintf(format, args...))
	}
	b.WriteString("converge run summary\n")

	// A run that did not finish says so before anything else.
	if banner := incomplete(s); banner != "" {
		b.WriteString("\n")
		fmt.Fprintf(&b, "!!! %s\n", banner)
		if s.StallReason != "" {
			fmt.Fprintf(&b, "!!! %s\n", s.StallReason)
		}
		fmt.Fprintf(&b, "!!! %d of %d created pods never finished, %d never started, %d never scheduled; %s never created.\n",
			s.PodsUnfinished, s.Pods, s.PodsNeverStarted, s.PodsNeverScheduled, plural(s.PodsNeverCreated, "pod"))
		b.WriteString("!!! Delay statistics cover only the pods and jobs that reached each point.\n")
	}
	b.WriteString(stallText(s.Stall, s.Starved, DefaultStarveAfter))

	b.WriteString("\nRun\n")
	line("scenario", "%s", orDash(meta.Scenario))
	line("scenario file", "%s", orDash(meta.ScenarioPath))
	line("scenario sha256", "%s", orDash(meta.ScenarioSHA256))
	line("policy", "%s", orDash(meta.Policy))
	line("seed", "%d", meta.Seed)
	line("converge version", "%s", orDash(meta.Version))
	line("stop reason", "%s", stopReason(s))
	line("simulated end", "%s", seconds(s.End))
	line("calendar events", "%d", s.Events)
	line("recorded events", "%d", s.Records)

	b.WriteString("\nCluster\n")
	line("nodes", "%d", s.Nodes)
	c := s.Capacity
	line("allocatable", "cpu %dm, memory %.2f GiB, gpu %d, pods %d",
		c.MilliCPU, float64(c.Memory)/float64(engine.GiB), c.GPU, c.Pods)

	b.WriteString("\nWorkload\n")
	line("jobs", "%d submitted, %d finished", s.Jobs, s.JobsFinished)
	line("pods", "%d created, %d scheduled, %d started, %d finished",
		s.Pods, s.PodsScheduled, s.PodsStarted, s.PodsFinished)
	line("pods never scheduled", "%d", s.PodsNeverScheduled)
	line("pods never started", "%d", s.PodsNeverStarted)
	line("pods never created", "%d", s.PodsNeverCreated)
	if s.Complete {
		line("makespan", "%s (first submission %s → last pod finished %s)",
			seconds(s.Makespan), seconds(s.FirstSubmitted), seconds(s.LastFinished))
	} else {
		line("makespan", "- (the workload did not finish; last pod finished at %s)", seconds(s.LastFinished))
	}

	fmt.Fprintf(&b, "\nDelays (seconds)%*s", width+3-len("Delays (seconds)"), "")
	for _, h := range []string{"count", "mean", "p50", "p90", "p99", "max"} {
		fmt.Fprintf(&b, "%*s", statWidth, h)
	}
	b.WriteString("\n")
	row := func(label string, st Stats) {
		fmt.Fprintf(&b, "  %-*s %*d", width, label, statWidth, st.Count)
		for _, v := range []float64{st.Mean, st.P50, st.P90, st.P99, st.Max} {
			fmt.Fprintf(&b, "%*s", statWidth, cell(v))
		}
		b.WriteString("\n")
	}
	row("pod startup delay", s.PodStartupDelay)
	row("pod wait (to scheduled)", s.PodWait)
	row("pod scheduling delay", s.PodSchedulingDelay)
	row("pod run time", s.PodRunTime)
	row("job startup", s.JobStartup)
	row("job wait", s.JobWait)
	row("job run time", s.JobRunTime)
	row("job turnaround", s.JobTurnaround)
	if s.JobLaunch.Count > 0 {
		row("job launch (to app start)", s.JobLaunch)
		row("job application run time", s.JobAppRunTime)
	}

	if len(s.Workloads) > 1 || (len(s.Workloads) == 1 && s.Workloads[0].Name != "") {
		fmt.Fprintf(&b, "\nJobs by workload (seconds)%*s", width+3-len("Jobs by workload (seconds)"), "")
		for _, h := range []string{"jobs", "done", "start p50", "start p90", "start max", "wait p50", "turn p50"} {
			fmt.Fprintf(&b, "%*s", statWidth, h)
		}
		b.WriteString("\n")
		for _, w := range s.Workloads {
			fmt.Fprintf(&b, "  %-*s %*d%*d", width, orDash(w.Name), statWidth, w.Jobs, statWidth, w.JobsFinished)
			for _, v := range []float64{w.JobStartup.P50, w.JobStartup.P90, w.JobStartup.Max, w.JobWait.P50, w.JobTurnaround.P50} {
				fmt.Fprintf(&b, "%*s", statWidth, cell(v))
			}
			b.WriteString("\n")
		}
	}

	if len(s.Runtimes) > 0 {
		rw := width - 2 // runtime names are indented under their workload
		for _, r := range s.Runtimes {
			rw = max(rw, len(r.Runtime))
		}
		fmt.Fprintf(&b, "\nRun time by runtime (seconds)%*s", rw+5-len("Run time by runtime (seconds)"), "")
		for _, h := range []string{"jobs", "mean", "min", "max", "× first"} {
			fmt.Fprintf(&b, "%*s", statWidth, h)
		}
		b.WriteString("  phases (mean seconds)\n")
		last := ""
		for _, r := range s.Runtimes {
			if r.Workload != last {
				fmt.Fprintf(&b, "  %s\n", orDash(r.Workload))
				last = r.Workload
			}
			fmt.Fprintf(&b, "    %-*s %*d", rw, r.Runtime, statWidth, r.Jobs)
			for _, v := range []float64{r.RunTime.Mean, r.RunTime.Min, r.RunTime.Max} {
				fmt.Fprintf(&b, "%*s", statWidth, cell(v))
			}
			ratio := "-"
			if !math.IsNaN(r.Ratio) {
				ratio = fmt.Sprintf("%.3f", r.Ratio)
			}
			fmt.Fprintf(&b, "%*s", statWidth, ratio)
			for i, ph := range r.Phases {
				sep := ", "
				if i == 0 {
					sep = "  "
				}
				fmt.Fprintf(&b, "%s%s %s", sep, ph.Name, decimal(ph.Seconds))
			}
			b.WriteString("\n")
		}
		b.WriteString("  (jobs sharing a node's memory bandwidth or link, or a leaf's uplink, slow each other:\n")
		b.WriteString("   the phase contention is the time their neighbours added; see Contention events)\n")
	}

	u := s.Utilisation
	fmt.Fprintf(&b, "\nUtilisation (requested / allocatable over %s)\n", seconds(u.Window))
	line("cpu", "%s", percent(u.CPU))
	line("memory", "%s", percent(u.Memory))
	if u.HasGPU {
		line("gpu", "%s", percent(u.GPU))
	}

	if s.HPC != nil {
		renderHPC(&b, s.HPC, width)
	}
	renderWorkflows(&b, meta.Workflows, width)
	b.WriteString("\nScheduling and image pulls\n")
	line("scheduling attempts", "%d (%d failed)", s.SchedulingAttempts, s.SchedulingFailures)
	line("image pull failures", "%d (on %s)", s.PullFailures, plural(s.PodsWithPullFailures, "pod"))
	line("time in image pulls", "%s (summed over pods)", seconds(s.PullSeconds))

	if len(meta.Settings) > 0 {
		b.WriteString("\nSettings\n")
		keys := make([]string, 0, len(meta.Settings))
		for k := range meta.Settings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			line(k, "%s", meta.Settings[k])
		}
	}
	return b.Bytes()
}

// incomplete returns the banner for a run whose workload did not finish,
// or "" if it did.
func incomplete(s Summary) string {
	switch {
	case s.Stopped == "stalled":
		return "RUN STALLED: no progress was possible and the workload did not finish."
	case s.Complete:
		return ""
	case s.Stopped == "horizon":
		return "RUN STOPPED AT THE HORIZON before the workload finished."
	default:
		return "RUN INCOMPLETE: the workload did not finish."
	}
}

func stopReason(s Summary) string {
	switch s.Stopped {
	case "":
		return "all work done"
	case "stalled":
		return "STALLED (no progress)"
	case "horizon":
		return "horizon reached"
	}
	return s.Stopped
}

// plural returns "1 pod", "2 pods".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// decimal formats a number of seconds with 3 decimals, "-" when unset.
func decimal(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return fmt.Sprintf("%.3f", round6(f))
}

// cell is decimal(f) for a table column of statWidth: fewer decimals
// when the number would fill the column (long batch runs), so that
// columns never run into each other.
func cell(f float64) string {
	s := decimal(f)
	for d := 2; len(s) >= statWidth && d >= 0; d-- {
		s = fmt.Sprintf("%.*f", d, round6(f))
	}
	return s
}

func seconds(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return decimal(f) + " s"
}

func percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return fmt.Sprintf("%6.2f %%", 100*round6(f))
}
