package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/convergesim/converge/engine"
)

// Why a run stalled, and who waited too long.
//
// A stalled run ends with pods that can never move. The report says, at
// the stall: every unfinished job with its pods running, waiting at a
// gang plugin's Permit, bound but not started, and pending; the nodes
// each job holds; what its pending pods were last told; and a verdict:
//   - deadlock: two or more jobs each hold part of the cluster while
//     their other pods wait for room that only the others could free
//     (kube-scheduler placing MPI workers one by one);
//   - too big: a pending pod does not fit any node even when empty;
//   - not placed: a pending pod fits some node's free resources, yet the
//     policy's own rules keep it pending (a gang plugin's group that
//     cannot be matched, a node restriction, affinity, taints);
//   - blocked: pods wait for resources held by jobs that cannot start.
//
// Starvation: a job that waited longer than a bound (default 600 s)
// from submission to its start while at least one job submitted after it
// started first.

// StalledJob is one unfinished job at the end of a stalled run.
type StalledJob struct {
	Name                             string
	Pods                             int // pods created
	Running, Waiting, Bound, Pending int
	Uncreated                        int // completions never created
	Nodes                            []NodeHold
	HeldMilliCPU                     int64
	Why                              string // a pending pod's last FailedScheduling message
}

// NodeHold is a node and how many of a job's pods hold it.
type NodeHold struct {
	Node string
	Pods int
}

// Stall explains a stalled run.
type Stall struct {
	At      float64
	Verdict string
	Jobs    []StalledJob
}

// Partial reports whether the job holds nodes while some of its pods
// wait for room: the shape of a gang deadlock.
func (j *StalledJob) Partial() bool {
	return j.Running+j.Waiting+j.Bound > 0 && j.Pending+j.Uncreated > 0
}

// ExplainStall returns the stall analysis of a stalled run (nil for a
// run that did not stall).
func ExplainStall(res *engine.Result) *Stall {
	if res.Stopped != "stalled" {
		return nil
	}
	st := &Stall{At: res.End}
	var maxAlloc engine.Resources
	var free engine.Resources
	if res.Cluster != nil {
		for _, n := range res.Cluster.Nodes {
			a := n.Allocatable
			maxAlloc = engine.Resources{MilliCPU: max(maxAlloc.MilliCPU, a.MilliCPU), Memory: max(maxAlloc.Memory, a.Memory), GPU: max(maxAlloc.GPU, a.GPU), Pods: max(maxAlloc.Pods, a.Pods)}
			free = free.Add(a.Sub(n.Requested))
		}
	}
	tooBig, fits := "", ""
	tried := map[engine.Resources]bool{} // requests looked for a node for
	for _, j := range res.Jobs {
		if engine.IsSet(j.Finished) || j.IsRejected() || !engine.IsSet(j.Submitted) {
			continue
		}
		sj := StalledJob{Name: j.Name, Pods: len(j.Pods), Uncreated: max(0, j.PodsWanted()-len(j.Pods))}
		if f := j.Flux; f != nil && f.ShellsAtAlloc() && len(j.Pods) == 0 {
			// Its shells, one a node of R, come with the allocation.
			sj.Why = fmt.Sprintf("Flux has not allocated its %d task slots (its shells come with R)", f.Slots)
		}
		held := map[*engine.Node]int{}
		for _, p := range j.Pods {
			switch {
			case p.Phase == engine.PodSucceeded || p.Phase == engine.PodFailed:
				continue
			case engine.IsSet(p.ContainersStarted):
				sj.Running++
			case p.Waiting():
				sj.Waiting++
			case p.Node != nil:
				sj.Bound++
			default:
				sj.Pending++
				if sj.Why == "" {
					sj.Why = p.LastFailure
				}
				if tooBig == "" && !p.Requests.LessEqual(maxAlloc) {
					tooBig = fmt.Sprintf("pod %s requests %s, more than any node has allocatable (%s)", p.Name, resText(p.Requests), resText(maxAlloc))
				}
				if fits == "" && res.Cluster != nil && !tried[p.Requests] {
					// Pods of a job share their requests: each request
					// is looked for once, not once a pod (a stalled
					// backlog can hold a million of them).
					tried[p.Requests] = true
					for _, n := range res.Cluster.Nodes {
						if p.Requests.LessEqual(n.Allocatable.Sub(n.Requested)) {
							fits = fmt.Sprintf("pod %s fits the free resources of node %s, yet the policy does not place it (its last failure: %s)", p.Name, n.Name, orNone(p.LastFailure))
							break
						}
					}
				}
			}
			if p.Node != nil {
				held[p.Node]++
				sj.HeldMilliCPU += p.Requests.MilliCPU
			}
		}
		for n, k := range held {
			sj.Nodes = append(sj.Nodes, NodeHold{Node: n.Name, Pods: k})
		}
		slices.SortFunc(sj.Nodes, func(a, b NodeHold) int { return strings.Compare(a.Node, b.Node) })
		st.Jobs = append(st.Jobs, sj)
	}
	partial := 0
	var heldCPU int64
	for i := range st.Jobs {
		if st.Jobs[i].Partial() {
			partial++
			heldCPU += st.Jobs[i].HeldMilliCPU
		}
	}
	switch {
	case tooBig != "":
		st.Verdict = "too big: " + tooBig
	case fits != "":
		// Not a resource deadlock: the policy's own rules hold the pods
		// (a gang plugin's group that cannot be matched, a PreFilter
		// result without a node, affinity or taints).
		st.Verdict = "not placed: " + fits
	case partial >= 2:
		st.Verdict = fmt.Sprintf("deadlock: %d jobs each hold part of the cluster (%s cpu of their pods) while the rest of their pods wait for room only the others could free; free now: %s",
			partial, milli(heldCPU), resText(free))
	case partial == 1:
		st.Verdict = fmt.Sprintf("blocked: one job holds part of the cluster (%s cpu) waiting for pods that do not fit the free resources (%s)", milli(heldCPU), resText(free))
	default:
		st.Verdict = fmt.Sprintf("blocked: pending pods do not fit the free resources (%s)", resText(free))
	}
	return st
}

func orNone(s string) string {
	if s == "" {
		return "none recorded"
	}
	return s
}

func milli(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprintf("%d", m/1000)
	}
	return fmt.Sprintf("%dm", m)
}

func resText(r engine.Resources) string {
	s := fmt.Sprintf("cpu %s, memory %.1f GiB", milli(r.MilliCPU), float64(r.Memory)/float64(engine.GiB))
	if r.GPU > 0 {
		s += fmt.Sprintf(", gpu %d", r.GPU)
	}
	return s
}

// DefaultStarveAfter is the wait beyond which an overtaken job counts
// as starved.
const DefaultStarveAfter = 600.0

// Starved is a job that waited past the bound while later jobs started.
type Starved struct {
	Name string
	// Wait is submission → start (or → the end of the run, if it never
	// started); Overtaken the jobs submitted after it that started
	// before it.
	Wait      float64
	Started   bool
	Overtaken int
}

// FindStarved lists the jobs that waited more than bound seconds from
// submission to start (AllStarted; the run's end if they never started)
// while at least one later-submitted job started before them, in
// submission order.
func FindStarved(res *engine.Result, bound float64) []Starved {
	type js struct {
		j          *engine.Job
		start, end float64 // start NaN if never; end: start, or the run's end
	}
	var all []js
	var starts []float64
	for _, j := range res.Jobs {
		if engine.IsSet(j.Submitted) && !j.IsRejected() {
			st := j.AllStarted()
			end := st
			if !engine.IsSet(st) {
				end = res.End
			} else {
				starts = append(starts, st)
			}
			all = append(all, js{j, st, end})
		}
	}
	// Overtaken counts, in O(n log n): jobs by submission, latest first;
	// a Fenwick tree over the start times holds the jobs submitted
	// strictly later than the one asked about.
	slices.Sort(starts)
	starts = slices.Compact(starts)
	tree := make([]int, len(starts)+1)
	add := func(v float64) {
		k, _ := slices.BinarySearch(starts, v)
		for k++; k < len(tree); k += k & -k {
			tree[k]++
		}
	}
	before := func(v float64) int { // inserted starts < v
		k, _ := slices.BinarySearch(starts, v)
		n := 0
		for ; k > 0; k -= k & -k {
			n += tree[k]
		}
		return n
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(all[b].j.Submitted, all[a].j.Submitted) })
	over := make([]int, len(all))
	for k := 0; k < len(order); {
		e := k // the jobs submitted at the same time are asked about before any is added
		for e < len(order) && all[order[e]].j.Submitted == all[order[k]].j.Submitted {
			e++
		}
		for _, i := range order[k:e] {
			if all[i].end-all[i].j.Submitted > bound {
				over[i] = before(all[i].end)
			}
		}
		for _, i := range order[k:e] {
			if engine.IsSet(all[i].start) {
				add(all[i].start)
			}
		}
		k = e
	}
	var out []Starved
	for i, a := range all {
		if wait := a.end - a.j.Submitted; wait > bound && over[i] > 0 {
			out = append(out, Starved{Name: a.j.Name, Wait: wait, Started: engine.IsSet(a.start), Overtaken: over[i]})
		}
	}
	return out
}

// stallListMax bounds the jobs summary.txt lists in the stall analysis
// and among the starved (results.json has them all).
const stallListMax = 20

// stallText renders the stall analysis and the starved jobs for
// summary.txt.
func stallText(st *Stall, starved []Starved, bound float64) string {
	var b strings.Builder
	if st != nil {
		fmt.Fprintf(&b, "\nStall at %s\n  %s\n", seconds(st.At), st.Verdict)
		for k, j := range st.Jobs {
			if k == stallListMax {
				fmt.Fprintf(&b, "  … and %d more unfinished jobs (results.json run.stall lists them all)\n", len(st.Jobs)-k)
				break
			}
			fmt.Fprintf(&b, "  job %s: %d running, %d waiting at Permit, %d bound not started, %d pending", j.Name, j.Running, j.Waiting, j.Bound, j.Pending)
			if j.Uncreated > 0 {
				fmt.Fprintf(&b, ", %d not created", j.Uncreated)
			}
			b.WriteString("\n")
			if len(j.Nodes) > 0 {
				parts := make([]string, len(j.Nodes))
				for i, h := range j.Nodes {
					parts[i] = fmt.Sprintf("%s×%d", h.Node, h.Pods)
				}
				fmt.Fprintf(&b, "    holds %s cpu on %s\n", milli(j.HeldMilliCPU), strings.Join(parts, " "))
			}
			if j.Why != "" {
				fmt.Fprintf(&b, "    pending because: %s\n", j.Why)
			}
		}
	}
	if len(starved) > 0 {
		fmt.Fprintf(&b, "\nStarvation (waited over %s while later jobs started first)\n", seconds(bound))
		for k, s := range starved {
			if k == stallListMax {
				fmt.Fprintf(&b, "  … and %d more (results.json run.starved lists them all)\n", len(starved)-k)
				break
			}
			state := "started after"
			if !s.Started {
				state = "never started, waited"
			}
			fmt.Fprintf(&b, "  job %s: %s %s, overtaken by %d\n", s.Name, state, seconds(s.Wait), s.Overtaken)
		}
	}
	return b.String()
}
