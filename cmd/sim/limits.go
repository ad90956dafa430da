package main

// Size limits of sim run and sim check: a scenario is estimated
// (scenarios.Estimate) before anything is built and refused, exit 2 at
// the field that makes it large, when it would need more memory (or
// more nodes or pods) than allowed. The memory limit defaults to 3/4 of
// the machine's memory (the smaller of /proc/meminfo's MemTotal and the
// cgroup's memory limit); --max-memory raises or lowers it.

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/internal/strictyaml"
	"github.com/convergesim/converge/scenarios"
)

// limitFlags are the size limits a command was given.
type limitFlags struct {
	maxMemory string // --max-memory ("" = default)
	maxNodes  int64  // --max-nodes (0 = none besides the engine's)
	maxPods   int64  // --max-pods (0 = none besides the engine's)
}

// defaultMemoryShare is the part of the machine's memory a run may be
// estimated to need by default.
const defaultMemoryShare = 0.75

// fallbackMemory is the machine memory assumed where neither
// /proc/meminfo nor a cgroup limit can be read.
const fallbackMemory = 8 << 30

// addLimitFlags adds --max-memory, --max-nodes and --max-pods to cmd.
func addLimitFlags(cmd *cobra.Command, f *limitFlags) {
	cmd.Flags().StringVar(&f.maxMemory, "max-memory", "", "refuse a scenario estimated to need more memory than this (e.g. 8GiB, 512MiB; 0 = no limit; default: 3/4 of this machine's memory)")
	cmd.Flags().Int64Var(&f.maxNodes, "max-nodes", 0, "refuse a scenario with more nodes than this (0 = no limit)")
	cmd.Flags().Int64Var(&f.maxPods, "max-pods", 0, "refuse a scenario that creates more pods than this (0 = no limit)")
}

// limits turns the flags into scenarios.Limits.
func (f *limitFlags) limits() (scenarios.Limits, error) {
	lim := scenarios.Limits{MaxNodes: f.maxNodes, MaxPods: f.maxPods, NodesHow: "--max-nodes", PodsHow: "--max-pods"}
	if f.maxNodes < 0 || f.maxPods < 0 {
		return lim, fmt.Errorf("--max-nodes and --max-pods must not be negative")
	}
	if f.maxMemory != "" {
		n, err := parseSize(f.maxMemory)
		if err != nil {
			return lim, fmt.Errorf("--max-memory: %w", err)
		}
		lim.MaxBytes, lim.BytesHow = n, "--max-memory"
		return lim, nil
	}
	mem, from := machineMemory()
	lim.MaxBytes = int64(float64(mem) * defaultMemoryShare)
	lim.BytesHow = fmt.Sprintf("3/4 of %s, %s; raise it with --max-memory", scenarios.FormatBytes(mem), from)
	return lim, nil
}

// checkSize refuses (exit 2) a scenario over the limits.
func (f *limitFlags) checkSize(sc *scenarios.Scenario) error {
	lim, err := f.limits()
	if err != nil {
		return usageErr(err)
	}
	if err := scenarios.CheckSize(sc, lim); err != nil {
		return usageErr(err)
	}
	return nil
}

// readScenario reads a scenario file with the scenario size limit
// (exit 2 for a missing file, a folder, /dev/zero, a file over limitio.Scenario, 4 MiB).
func readScenario(path string) ([]byte, error) {
	data, err := scenarios.ReadScenario(path)
	if err != nil {
		return nil, usageErr(err)
	}
	return data, nil
}

// loadScenario reads a scenario (with the size limit), parses it with
// the overrides (--set, --seed as seed=N, SIM_ variables), prints the
// parse warnings on stderr and refuses it, exit 2, when it is larger
// than the limits allow: everything before scenarios.Build.
func loadScenario(cmd *cobra.Command, path string, sets []string, seed uint64, f *limitFlags) (*scenarios.Scenario, []byte, error) {
	if cmd.Flags().Changed("seed") {
		sets = append(sets, fmt.Sprintf("seed=%d", seed))
	}
	data, err := readScenario(path)
	if err != nil {
		return nil, nil, err
	}
	sc, err := scenarios.Parse(path, data, scenarios.Overrides{Set: sets})
	if err != nil {
		return nil, nil, usageErr(err)
	}
	printWarnings(cmd, sc)
	if err := f.checkSize(sc); err != nil {
		return nil, nil, err
	}
	return sc, data, nil
}

// printWarnings prints the scenario's parse warnings (SIM_ variables
// that name no scenario field) on stderr.
func printWarnings(cmd *cobra.Command, sc *scenarios.Scenario) {
	for _, w := range sc.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "sim: warning:", w)
	}
}

// overrideSettings records the overrides a scenario was loaded with,
// in the order applied, for report.Meta.Settings (sorted by key there,
// hence the zero-padded index): "override[00]" = "SIM_SEED=7",
// "override[01]" = "--set cluster.pools[0].count=32".
func overrideSettings(sc *scenarios.Scenario) map[string]string {
	m := map[string]string{}
	width := len(strconv.Itoa(max(len(sc.Applied)-1, 0)))
	for i, o := range sc.Applied {
		m[fmt.Sprintf("override[%0*d]", width, i)] = o.String()
	}
	return m
}

// machineMemory is the memory this process may use: the smaller of
// MemTotal and the cgroup limit (v2 memory.max, v1
// memory.limit_in_bytes), with where the figure came from.
func machineMemory() (int64, string) {
	mem, from := int64(0), ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if n, ok := memTotal(string(data)); ok {
			mem, from = n, "this machine's memory (MemTotal)"
		}
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if data, err := os.ReadFile(p); err == nil {
			if n, ok := cgroupLimit(string(data)); ok && (mem == 0 || n < mem) {
				mem, from = n, "the cgroup's memory limit ("+p+")"
			}
		}
	}
	if mem == 0 {
		return fallbackMemory, "assumed (this machine's memory could not be read)"
	}
	return mem, from
}

// memTotal reads MemTotal from /proc/meminfo's text.
func memTotal(meminfo string) (int64, bool) {
	for _, line := range strings.Split(meminfo, "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 || kb > math.MaxInt64>>10 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// cgroupLimit reads a cgroup memory limit file: bytes, or "max" (none;
// v1 writes a huge number for none).
func cgroupLimit(text string) (int64, bool) {
	s := strings.TrimSpace(text)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false
	}
	return n, true
}

// parseSize reads a memory size: a number with an optional unit, binary
// (KiB, MiB, GiB, TiB; Ki, Mi, Gi, Ti) or decimal (kB, MB, GB, TB; k, M,
// G, T), B for bytes; 0 means no limit.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
	}
	num, mult := s, 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("cannot read %s as a size (examples: 8GiB, 512MiB, 16G, 0 for no limit)", strictyaml.Quote(s))
	}
	b := v * mult
	if b >= math.MaxInt64 {
		return math.MaxInt64, nil
	}
	return int64(b), nil
}
