package traces

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Summary is what a trace holds, for a person deciding whether it can
// be replayed: counts, time span, groups, nodes, gaps, and what is
// missing.
type Summary struct {
	Files, Formats []string
	Relative       bool

	Jobs, Pods, Nodes int
	// JobKinds counts jobs by kind; Schedulers jobs (or pods of no job)
	// by scheduler; Statuses jobs by status.
	JobKinds, Schedulers, Statuses map[string]int

	// First and Last are the earliest and latest time recorded.
	First, Last float64
	// PodsPerJob: the smallest, median and largest group.
	PodsPerJob [3]int
	// NodesUsed is the number of distinct nodes jobs or pods ran on.
	NodesUsed int
	// Gap is the longest time between consecutive submissions, and
	// GapAt when it began.
	Gap, GapAt float64

	// Missing counts records without a field replay needs, by what is
	// missing ("job submit", "pod node", ...).
	Missing map[string]int
	Notes   []*Note
}

// Summarize describes t.
func Summarize(t *Trace) *Summary {
	s := &Summary{Files: t.Files, Formats: t.Formats, Relative: t.Relative,
		Jobs: len(t.Jobs), Pods: len(t.Pods), Nodes: len(t.Nodes),
		JobKinds: map[string]int{}, Schedulers: map[string]int{}, Statuses: map[string]int{},
		Missing: map[string]int{}, Notes: t.Notes, Gap: NaN, GapAt: NaN}
	s.First, s.Last = t.Span()
	used := map[string]bool{}
	var submits []float64
	var group []int
	for _, j := range t.Jobs {
		s.JobKinds[orNone(j.Kind)]++
		s.Schedulers[orNone(j.Scheduler)]++
		s.Statuses[orNone(j.Status)]++
		if Known(j.Submit) {
			submits = append(submits, j.Submit)
		} else {
			s.Missing["job submit time"]++
		}
		if !Known(j.Start) && j.Status != "pending" {
			s.Missing["job start time"]++
		}
		if !Known(j.End) && j.Status != "pending" && j.Status != "running" {
			s.Missing["job end time"]++
		}
		if j.Nodes == 0 && j.Tasks == 0 && len(j.Pods) == 0 {
			s.Missing["job size (nodes, tasks or pods)"]++
		}
		for _, n := range j.NodeList {
			used[n] = true
		}
		if len(j.Pods) > 0 {
			group = append(group, len(j.Pods))
		}
	}
	for _, p := range t.Pods {
		if p.Job == "" {
			s.Schedulers[orNone(p.Scheduler)]++
		}
		if p.Node != "" {
			used[p.Node] = true
		} else {
			s.Missing["pod node"]++
		}
		if !Known(p.Created) {
			s.Missing["pod creation time"]++
		}
		if !Known(p.Started) && p.Phase != "Pending" {
			s.Missing["pod container start"]++
		}
		if !Known(p.Finished) && p.Phase != "Pending" && p.Phase != "Running" {
			s.Missing["pod finish time"]++
		}
		if p.CPU == 0 && p.Memory == 0 && p.GPU == 0 && p.Phase != "" {
			s.Missing["pod requests"]++
		}
	}
	s.NodesUsed = len(used)
	if len(group) > 0 {
		slices.Sort(group)
		s.PodsPerJob = [3]int{group[0], group[len(group)/2], group[len(group)-1]}
	}
	slices.Sort(submits)
	for i := 1; i < len(submits); i++ {
		if g := submits[i] - submits[i-1]; !Known(s.Gap) || g > s.Gap {
			s.Gap, s.GapAt = g, submits[i-1]
		}
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

// Text renders the summary for a person.
func (s *Summary) Text() string {
	var b strings.Builder
	for i, f := range s.Files {
		fmt.Fprintf(&b, "file       %s (%s)\n", f, s.Formats[i])
	}
	fmt.Fprintf(&b, "records    %d jobs, %d pods, %d nodes\n", s.Jobs, s.Pods, s.Nodes)
	if Known(s.First) {
		fmt.Fprintf(&b, "span       %s to %s (%s)\n", s.when(s.First), s.when(s.Last), dur(s.Last-s.First))
	} else {
		b.WriteString("span       no times recorded\n")
	}
	counts := func(label string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		fmt.Fprintf(&b, "%-10s %s\n", label, strings.Join(parts, ", "))
	}
	counts("kinds", s.JobKinds)
	counts("schedulers", s.Schedulers)
	counts("status", s.Statuses)
	if s.PodsPerJob[2] > 0 {
		fmt.Fprintf(&b, "groups     pods per job: %d smallest, %d median, %d largest\n", s.PodsPerJob[0], s.PodsPerJob[1], s.PodsPerJob[2])
	}
	fmt.Fprintf(&b, "nodes      %d used", s.NodesUsed)
	if s.Nodes > 0 {
		fmt.Fprintf(&b, ", %d described", s.Nodes)
	} else {
		b.WriteString(", none described (replay needs --cluster)")
	}
	b.WriteString("\n")
	if Known(s.Gap) {
		fmt.Fprintf(&b, "gaps       longest between submissions: %s, from %s\n", dur(s.Gap), s.when(s.GapAt))
	}
	if len(s.Missing) == 0 {
		b.WriteString("missing    nothing replay needs\n")
	} else {
		counts("missing", s.Missing)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "note       %s (%d; e.g. %s)\n", n.Text, n.Count, n.Example)
	}
	return b.String()
}

// when renders a time: an RFC 3339 date for an absolute trace, seconds
// for a relative one.
func (s *Summary) when(t float64) string {
	if s.Relative || t < 1e8 {
		return fmt.Sprintf("%gs", t)
	}
	sec, frac := math.Modf(t)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// dur renders a duration in the largest fitting unit.
func dur(d float64) string {
	switch {
	case d >= 86400:
		return fmt.Sprintf("%.1f d", d/86400)
	case d >= 3600:
		return fmt.Sprintf("%.1f h", d/3600)
	case d >= 60:
		return fmt.Sprintf("%.1f min", d/60)
	}
	return fmt.Sprintf("%.3g s", d)
}
