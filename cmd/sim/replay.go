package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/convergesim/converge/traces"
)

type replayFlags struct {
	runFlags
	policies   []string
	cluster    string
	format     string
	runTime    string
	scheduler  string
	recordedBy string
}

func newReplayCmd() *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay TRACE... --policy P [--policy Q]... [--cluster FILE]",
		Short: "Replay a recorded trace under policies, side by side, and against what happened",
		Long: `Replay the jobs of recorded traces (read as one; see sim trace formats):
each job arrives when it was submitted, relative to the first, asks for
what it asked for, and runs as long as it ran (--run-time recorded) or as
the scenario's app model prices it (model, with --cluster naming a
scenario whose first workload has the app). Each --policy runs into
DIR/<policy>/ with its full report; DIR/comparison.txt puts them side by
side, and DIR/scenario.yaml is the scenario replayed (sim run it, or edit
it: its workload is a trace workload).

The cluster is --cluster's (a scenario file: its cluster, start-up,
network and runtimes are kept, its workloads replaced by the trace), else
the trace's own nodes (a node dump, the CANOPIE-22 cluster logs, R), else
the machine an SWF header describes (MaxNodes nodes sharing MaxProcs
processors; MaxMemory KB a processor, 4 GiB when not given).

For the policy that produced the trace (the trace's scheduler names:
default-scheduler → kube, kubeflux or fluence → fluence,
scheduler-plugins-scheduler → coscheduling, flux → flux; or
--recorded-by), the simulated run is compared with the recorded one:
per-job start-up and run-time error, the Kolmogorov–Smirnov distance
between the start-up delay distributions, the makespan error and the
placement agreement (pods per node), in DIR/<policy>/replay.txt and
replay.csv.`,
		Example: `  sim replay ../shared/data/canopie22-scaling/lammps_scaling/lammps_scaling.tgz \
    --policy kube --policy fluence,policy.fluence.matchPolicy=lonode -o out/replay-lammps`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReplay(cmd, args, &f) },
	}
	cmd.Flags().StringArrayVar(&f.policies, "policy", nil, "a policy to replay under, optionally with settings: NAME[,key=value...] (repeatable)")
	cmd.Flags().StringVar(&f.cluster, "cluster", "", "a scenario file whose cluster (and start-up, network, runtimes) the trace replays on")
	cmd.Flags().StringVar(&f.format, "format", "", "the traces' format (default: detected per file)")
	cmd.Flags().StringVar(&f.runTime, "run-time", "recorded", "recorded (each job runs as long as it ran) or model (the scenario's app model)")
	cmd.Flags().StringVar(&f.scheduler, "scheduler", "", "replay only the jobs this scheduler placed (the trace's name for it)")
	cmd.Flags().StringVar(&f.recordedBy, "recorded-by", "", "the policy that produced the trace (default: from the trace's scheduler names)")
	addPolicyRunFlags(cmd, &f.runFlags, "out/replay-<first trace's name>")
	return cmd
}

func runReplay(cmd *cobra.Command, paths []string, f *replayFlags) error {
	if len(f.policies) == 0 {
		return usageErr(errors.New("replay needs at least one --policy"))
	}
	if f.runTime != "recorded" && f.runTime != "model" {
		return usageErr(fmt.Errorf("--run-time: unknown %q (valid: recorded, model)", f.runTime))
	}
	vs, err := parseVariants(f.policies, 1)
	if err != nil {
		return usageErr(err)
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		if abs[i], err = filepath.Abs(p); err != nil {
			return usageErr(err)
		}
	}
	t, err := openTraces(paths, f.format)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(paths[0]), filepath.Ext(paths[0]))
	base = strings.Trim(unsafeLabel.ReplaceAllString(strings.TrimSuffix(base, ".tar"), "-"), "-.")
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", "replay-"+base)
	}
	text, err := replayScenario(t, abs, f, "replay-"+base)
	if err != nil {
		return usageErr(err)
	}
	scPath := filepath.Join(dir, "scenario.yaml")
	if err := writeFileAtomic(scPath, text, f.force); err != nil {
		return usageErr(fmt.Errorf("writing the replayed scenario: %w", err))
	}
	if err := loadVariants(cmd, scPath, vs, &f.runFlags); err != nil {
		return err
	}
	if err := runVariants(cmd, scPath, dir, vs, &f.runFlags); err != nil {
		return err
	}
	var out bytes.Buffer
	if len(vs) > 1 {
		text, err := writeComparison(dir, vs)
		if err != nil {
			return err
		}
		out.Write(text)
	}
	recorded := t
	if tr := vs[0].sc.Trace(0); tr != nil {
		recorded = tr
	}
	for _, v := range vs {
		policy := v.sc.Policy.Name
		inner := ""
		if u := v.sc.Usernetes; u != nil {
			inner = u.SchedulerName() // Kubernetes' scheduler inside Flux's
		}
		rec := recordedBy(recorded, policy, inner, f.recordedBy)
		if rec == nil {
			continue
		}
		c := traces.Compare(rec, traces.FromResult(v.res))
		head := fmt.Sprintf("replay of %d recorded %s jobs under %s, against what was recorded\n", len(rec.Jobs), policy, v.label)
		for _, w := range []struct {
			name string
			data string
		}{{"replay.txt", head + c.Text()}, {"replay.csv", c.CSV()}} {
			if err := writeFileAtomic(filepath.Join(dir, v.label, w.name), []byte(w.data), true); err != nil {
				return failedErr(fmt.Errorf("writing the replay error: %w", err))
			}
		}
		fmt.Fprintf(&out, "\n%s%s", head, c.Text())
	}
	if !f.quiet {
		cmd.Print(out.String())
		cmd.Printf("\nreports written to %s/{%s}; the scenario replayed: %s\n", dir, labels(vs), scPath)
	}
	return nil
}

// recordedBy is the part of the recorded trace the policy produced
// (nil when it produced none): the jobs whose scheduler maps to it (or
// to inner, the Kubernetes scheduler a Flux run nests), or all of them
// when by names it.
func recordedBy(t *traces.Trace, policy, inner, by string) *traces.Trace {
	if by != "" {
		if by == policy {
			return t
		}
		return nil
	}
	sub := &traces.Trace{Relative: t.Relative, Start: t.Start, Pods: t.Pods, Nodes: t.Nodes}
	for _, j := range t.Jobs {
		if p := traces.PolicyOf(j.Scheduler); p == policy || (inner != "" && p == inner) {
			sub.Jobs = append(sub.Jobs, j)
		}
	}
	if len(sub.Jobs) == 0 {
		return nil
	}
	return sub
}

// replayScenario is the scenario a replay runs: --cluster's with its
// workloads replaced by the trace, or one on the trace's own nodes. When
// --cluster brings Usernetes up beside Flux and the trace holds both
// Flux's jobs and Kubernetes' pods (a session recorded on the same
// nodes), Flux's jobs replay on bare metal and the pods in Usernetes.
func replayScenario(t *traces.Trace, files []string, f *replayFlags, name string) ([]byte, error) {
	spec := func(jobs string) map[string]any {
		m := map[string]any{"files": files, "format": f.format, "runTime": f.runTime}
		if f.scheduler != "" {
			m["scheduler"] = f.scheduler
		}
		if jobs != "" {
			m["jobs"] = jobs
		}
		return m
	}
	// carry copies what the recording lacks (images, an app model, a
	// launcher) from the scenario's workload to a trace workload.
	carry := func(from map[string]any, to map[string]any) {
		for _, k := range []string{"app", "pod", "launcher", "kind", "runtimes", "runTime", "podGroup"} {
			if v, ok := from[k]; ok {
				to[k] = v
			}
		}
	}
	var doc map[string]any
	var workloads []any
	if f.cluster != "" {
		data, err := readScenario(f.cluster)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(data, &doc); err != nil || doc == nil {
			return nil, fmt.Errorf("--cluster %s: not a scenario file: %v", f.cluster, err)
		}
		if dir := filepath.Dir(f.cluster); dir != "." {
			// Files the scenario names are relative to it.
			rebase(doc, dir)
		}
		var given []map[string]any
		if ws, ok := doc["workloads"].([]any); ok {
			for _, w := range ws {
				if m, ok := w.(map[string]any); ok {
					given = append(given, m)
				}
			}
		}
		delete(doc, "workflows")
		un, nested := doc["usernetes"].(map[string]any)
		var flux, kube int
		for _, j := range t.Jobs {
			if j.Kind == "FluxJob" || j.Kind == "SWF" {
				flux++
			} else {
				kube++
			}
		}
		if nested && flux > 0 && kube > 0 {
			// Flux's jobs on bare metal, the pods in Usernetes; each
			// takes what it lacks from the scenario's first workload
			// of its side.
			fw := map[string]any{"name": "flux", "trace": spec("flux")}
			kw := map[string]any{"name": "kubernetes", "trace": spec("kubernetes"), "cluster": un["name"]}
			fluxDone, kubeDone := false, false
			for _, g := range given {
				if g["kind"] == "FluxJob" && !fluxDone {
					carry(g, fw)
					fluxDone = true
				} else if g["kind"] != "FluxJob" && !kubeDone {
					carry(g, kw)
					kubeDone = true
				}
			}
			delete(fw, "kind")
			workloads = []any{fw, kw}
		} else {
			delete(doc, "usernetes")
			w := map[string]any{"name": "trace", "trace": spec("")}
			if len(given) > 0 {
				carry(given[0], w)
			}
			workloads = []any{w}
		}
	} else {
		pools, err := poolsOf(t)
		if err != nil {
			return nil, err
		}
		doc = map[string]any{"version": 1, "cluster": map[string]any{"pools": pools}}
		workloads = []any{map[string]any{"name": "trace", "trace": spec("")}}
	}
	doc["name"] = name
	doc["workloads"] = workloads
	delete(doc, "outputs")
	if _, ok := doc["policy"]; !ok {
		doc["policy"] = map[string]any{"name": "kube"}
	}
	var b bytes.Buffer
	b.WriteString("# The scenario `sim replay` ran: its workloads replay the recorded trace.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// rebase makes the relative file names a scenario gives (network
// profiles inter- and intra-node, app parameter and launcher files: the
// keys file, profile and intra) relative to the folder dir it came from.
// An app's model is a name, not a file.
func rebase(v any, dir string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && (k == "file" || k == "profile" || k == "intra") && s != "" && !filepath.IsAbs(s) {
				if abs, err := filepath.Abs(filepath.Join(dir, s)); err == nil {
					x[k] = abs
				}
				continue
			}
			rebase(e, dir)
		}
	case []any:
		for _, e := range x {
			rebase(e, dir)
		}
	}
}

// swfMachine is the machine an SWF header describes (nil when it does
// not): MaxNodes nodes (MaxProcs when it gives no node count) sharing
// MaxProcs processors, each with MaxMemory (KB per processor, as the SWF
// header gives it) per processor, else 4 GiB.
func swfMachine(t *traces.Trace) map[string]any {
	num := func(key string) (int64, error) {
		v, _, _ := strings.Cut(strings.TrimSpace(t.Header[key]), "\n")
		return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	}
	procs, err := num("MaxProcs")
	if err != nil || procs < 1 {
		return nil
	}
	nodes := procs
	if n, err := num("MaxNodes"); err == nil && n >= 1 && procs%n == 0 {
		nodes = n
	}
	per := procs / nodes
	// Without MaxMemory, 4 GiB a processor: a node needs some, and
	// no SWF job is placed by memory under Flux's model (cores only).
	p := map[string]any{"name": "node", "count": nodes, "cpu": per, "memory": int64(4<<30) * per}
	if kb, err := num("MaxMemory"); err == nil && kb > 0 {
		p["memory"] = kb * 1024 * per
	}
	return p
}

// poolsOf groups the trace's nodes into pools of identical nodes.
func poolsOf(t *traces.Trace) ([]any, error) {
	if len(t.Nodes) == 0 {
		if p := swfMachine(t); p != nil {
			return []any{p}, nil
		}
		return nil, errors.New("the trace describes no nodes (no node dump, cluster log, R or SWF MaxProcs header): give the cluster with --cluster SCENARIO")
	}
	type key struct {
		cpu, mem, gpu, pods int64
		taints              string
		unsched             bool
	}
	var order []key
	groups := map[key][]*traces.Node{}
	for _, n := range t.Nodes {
		if n.CPU <= 0 {
			return nil, fmt.Errorf("node %s: no allocatable cpu recorded: give the cluster with --cluster SCENARIO", n.Name)
		}
		k := key{n.CPU, n.Memory, n.GPU, n.Pods, strings.Join(n.Taints, ","), n.Unschedulable}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], n)
	}
	var pools []any
	for i, k := range order {
		ns := groups[k]
		p := map[string]any{"name": fmt.Sprintf("node%d", i), "count": len(ns), "cpu": fmt.Sprintf("%dm", k.cpu)}
		if len(order) == 1 {
			p["name"] = "node"
		}
		if k.mem > 0 {
			p["memory"] = k.mem
		}
		if k.gpu > 0 {
			p["gpus"] = k.gpu
		}
		if k.pods > 0 {
			p["pods"] = k.pods
		}
		if k.unsched {
			p["unschedulable"] = true
		}
		// Labels every node of the pool has (but the per-node ones).
		labels := map[string]any{}
		for l, v := range ns[0].Labels {
			if strings.Contains(l, "hostname") || strings.Contains(l, "instance-id") {
				continue
			}
			same := true
			for _, n := range ns[1:] {
				if n.Labels[l] != v {
					same = false
					break
				}
			}
			if same {
				labels[l] = v
			}
		}
		if len(labels) > 0 {
			p["labels"] = labels
		}
		var taints []any
		for _, s := range ns[0].Taints {
			tk, tv, effect, _ := traces.SplitTaint(s)
			taints = append(taints, map[string]any{"key": tk, "value": tv, "effect": effect})
		}
		if len(taints) > 0 {
			p["taints"] = taints
		}
		pools = append(pools, p)
	}
	return pools, nil
}
