package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/scenarios"
)

func TestMemTotalAndCgroup(t *testing.T) {
	n, ok := memTotal("MemTotal:       24522528 kB\nMemFree:        21000000 kB\n")
	if !ok || n != 24522528<<10 {
		t.Errorf("memTotal = %d, %v", n, ok)
	}
	for _, bad := range []string{"", "MemTotal: lots kB\n", "MemTotal: 5 MB\n", "MemFree: 3 kB\n"} {
		if _, ok := memTotal(bad); ok {
			t.Errorf("memTotal(%q) accepted", bad)
		}
	}
	for text, want := range map[string]int64{"4294967296\n": 4 << 30, "max\n": 0, "9223372036854771712\n": 0, "0\n": 0} {
		n, ok := cgroupLimit(text)
		if want == 0 && ok || want != 0 && (!ok || n != want) {
			t.Errorf("cgroupLimit(%q) = %d, %v; want %d", text, n, ok, want)
		}
	}
	if mem, from := machineMemory(); mem <= 0 || from == "" {
		t.Errorf("machineMemory = %d (%s)", mem, from)
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"8GiB": 8 << 30, "512MiB": 512 << 20, "16G": 16e9, "1.5Gi": 3 << 29, "100": 100, "0": 0, "2 TiB": 2 << 40, "1e30": math.MaxInt64, "64kB": 64000} {
		if n, err := parseSize(s); err != nil || n != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", s, n, err, want)
		}
	}
	for _, s := range []string{"", "lots", "-1GiB", "8XB", "NaN", "Inf"} {
		if _, err := parseSize(s); err == nil {
			t.Errorf("parseSize(%q) accepted", s)
		}
	}
}

// TestLimitsDefault: without --max-memory the limit is 3/4 of the
// machine's memory and the refusal says so and how to raise it.
func TestLimitsDefault(t *testing.T) {
	lim, err := (&limitFlags{}).limits()
	mem, _ := machineMemory()
	if err != nil || lim.MaxBytes != int64(float64(mem)*0.75) || !strings.Contains(lim.BytesHow, "--max-memory") {
		t.Errorf("default limits %+v, %v (machine %d)", lim, err, mem)
	}
	lim, err = (&limitFlags{maxMemory: "0", maxNodes: 5}).limits()
	if err != nil || lim.MaxBytes != 0 || lim.MaxNodes != 5 {
		t.Errorf("--max-memory 0 --max-nodes 5: %+v, %v", lim, err)
	}
}

func TestOverrideSettings(t *testing.T) {
	var sets []string
	for i := range 12 {
		sets = append(sets, fmt.Sprintf("seed=%d", i))
	}
	sc, err := scenarios.Parse("t.yaml", mustRead(t, scenario), scenarios.Overrides{Set: sets, Env: []string{"SIM_UNTIL=100"}})
	if err != nil {
		t.Fatal(err)
	}
	m := overrideSettings(sc)
	if len(m) != 13 || m["override[00]"] != "SIM_UNTIL=100" || m["override[01]"] != "--set seed=0" || m["override[12]"] != "--set seed=11" {
		t.Errorf("settings %v", m)
	}
}

// limitsWired tells whether sim check has the size limits (the lead's
// wiring of this file into run.go): without them a case that needs
// them would build a billion nodes.
func limitsWired() bool {
	root := newRootCmd(os.Stdout, os.Stderr)
	c, _, err := root.Find([]string{"check"})
	return err == nil && c.Flags().Lookup("max-memory") != nil
}

// cliCase is one command line with a hostile input, its exit code and
// what its message must say.
type cliCase struct {
	class string
	args  []string
	env   []string // KEY=VALUE
	code  int
	want  string // in the output (stdout and stderr)
	sized bool   // needs the size limits wired
}

// hostileCLICases are the command-line cases; dir holds their files.
func hostileCLICases(t *testing.T, dir string) []cliCase {
	base := string(mustRead(t, scenario))
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ed := func(name, old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("%q not in %s", old, scenario)
		}
		return write(name, strings.Replace(base, old, new, 1))
	}
	secret := write("secret.txt", "root:x:0:0:SECRET-TOKEN:/root:/bin/bash\n")
	out := filepath.Join(dir, "out")
	run := func(file string, more ...string) []string {
		return append([]string{"run", file, "-o", out, "-q"}, more...)
	}
	chk := func(file string, more ...string) []string { return append([]string{"check", file}, more...) }
	big := strings.Repeat("x", 3<<20) // under the 4 MiB file limit
	flood := "version: 1\ncluster:\n  pools:\n    - &p {name: w, count: 1, cpu: 1, memory: 1Gi}\n" + strings.Repeat("    - *p\n", 210_000)
	return []cliCase{
		{"pool count 1e9", chk(ed("nodes.yaml", "count: 16", "count: 1000000000")), nil, 2, "nodes.yaml:19: cluster.pools[0].count: the scenario (1,000,000,001 nodes, 46 jobs, 88 pods) " + about(1_000_000_000, 46, 88) + " of memory to run, more than the limit of", true},
		{"pool count 1e9 (run)", run(ed("nodes.yaml", "count: 16", "count: 1000000000")), nil, 2, "nodes.yaml:19: cluster.pools[0].count: the scenario (1,000,000,001 nodes", true},
		{"--set count 1e9", chk(scenario, "--set", "cluster.pools[0].count=1000000000"), nil, 2, "kube-basic.yaml: cluster.pools[0].count: the scenario (1,000,000,001 nodes, 46 jobs, 88 pods) " + about(1_000_000_000, 46, 88) + " of memory to run, more than the limit of", true},
		{"SIM_ count 1e9", run(scenario), []string{"SIM_CLUSTER__POOLS__0__COUNT=1000000000"}, 2, "(set by environment variable SIM_CLUSTER__POOLS__0__COUNT)", true},
		{"workload count MaxInt64", run(ed("jobs.yaml", "count: 6\n    parallelism: 8\n    arrival: {pattern: interval, at: 0, interval: 20}", fmt.Sprintf("count: %d\n    parallelism: 8\n    arrival: {pattern: once}", math.MaxInt64))), nil, 2, "jobs.yaml:53: workloads[0].count: the scenario submits 9,223,372,036,854,775,807 jobs; a run holds at most 2,147,483,647 (the engine numbers them with 32-bit ids)", false},
		{"interval arrivals past 1e9 s", chk(ed("late.yaml", "count: 6", "count: 100000000")), nil, 2, "late.yaml:55: workloads[0].arrival.interval: the last of 1e+08 jobs would arrive at 2e+09 s, later than the longest duration a scenario may give (1e9 s, about 31.7 years)", false},
		{"parallelism 1e8", chk(ed("par.yaml", "parallelism: 8", "parallelism: 100000000")), nil, 2, "par.yaml:54: workloads[0].parallelism: the scenario (17 nodes, 46 jobs, 600,000,040 pods) " + about(16, 46, 600_000_040) + " of memory to run, more than the limit of", true},
		{"parallelism 1e9", chk(ed("par9.yaml", "parallelism: 8", "parallelism: 1000000000")), nil, 2, "par9.yaml:54: workloads[0].parallelism: the scenario creates 6,000,000,040 pods; a run holds at most 2,147,483,647 (the engine numbers them with 32-bit ids)", false},
		{"completions 1e8 (run)", run(ed("comp.yaml", "parallelism: 8", "parallelism: 8\n    completions: 100000000")), nil, 2, "comp.yaml:55: workloads[0].completions: the scenario (17 nodes, 46 jobs, 600,000,040 pods) " + about(16, 46, 600_000_040) + " of memory to run, more than the limit of", true},
		{"--max-memory 1MiB", chk(scenario, "--max-memory", "1MiB"), nil, 2, "kube-basic.yaml: the memory limit of 1 MiB (--max-memory) is below the 32 MiB any run needs", true},
		{"--max-memory 32.1MiB", chk(scenario, "--max-memory", "32.1MiB"), nil, 2, "kube-basic.yaml:67: workloads[1].count: the scenario (17 nodes, 46 jobs, 88 pods) " + about(16, 46, 88) + " of memory to run, more than the limit of 32.1 MiB (--max-memory)", true},
		{"--max-nodes 10", chk(scenario, "--max-nodes", "10"), nil, 2, "kube-basic.yaml:19: cluster.pools[0].count: the scenario has 17 nodes, more than the limit of 10 (--max-nodes)", true},
		{"--max-pods 10", run(scenario, "--max-pods", "10"), nil, 2, "kube-basic.yaml:54: workloads[0].parallelism: the scenario creates 88 pods, more than the limit of 10 (--max-pods)", true},
		{"--max-memory lots", chk(scenario, "--max-memory", "lots"), nil, 2, `--max-memory: cannot read "lots" as a size`, true},
		{"/dev/zero (run)", run("/dev/zero"), nil, 2, "cannot read scenario: /dev/zero: larger than the 4 MiB limit for scenario files (is it the right file?)", true},
		{"/dev/zero (check)", chk("/dev/zero"), nil, 2, "cannot read scenario: /dev/zero: larger than the 4 MiB limit for scenario files", true},
		{"a folder", chk(dir), nil, 2, "cannot read scenario", false},
		{"missing file", run(filepath.Join(dir, "none.yaml")), nil, 2, "cannot read scenario", false},
		{"empty file", chk(write("empty.yaml", "")), nil, 2, "empty.yaml: empty scenario (expected a mapping with version, cluster, policy and workloads)", false},
		{"BOM then a scenario", chk(write("bom.yaml", "\ufeff"+base)), nil, 0, "bom.yaml: ok", false},
		{"invalid UTF-8", chk(write("utf8.yaml", "version: 1\nname: \xff\n")), nil, 2, "utf8.yaml: invalid leading UTF-8 octet", false},
		{"NUL byte", run(write("nul.yaml", "version: 1\x00\n")), nil, 2, "nul.yaml: control characters are not allowed", false},
		{"deep nesting", chk(write("deep.yaml", strings.Repeat("[", 20000))), nil, 2, "deep.yaml: exceeded max depth of 10000", false},
		{"alias flood", chk(write("flood.yaml", flood)), nil, 2, "flood.yaml:4: cluster.pools[199999].name: document too large (alias expansion?)", false},
		{"two documents", chk(write("two.yaml", base+"---\nversion: 1\n")), nil, 2, "a second YAML document (after ---): the file must hold one", false},
		{"huge scalar", chk(ed("bigname.yaml", "name: kube-basic", "name: "+big)), nil, 2, `bigname.yaml:6: name: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… (3145728 bytes) is not a valid scenario name`, false},
		{"unknown key", chk(ed("key.yaml", "seed: 1", "seed: 1\nsead: 2")), nil, 2, "key.yaml:15: sead: unknown field; valid fields:", false},
		{"wrong type", chk(ed("type.yaml", "count: 16", "count: [16]")), nil, 2, "type.yaml:19: cluster.pools[0].count: must be an integer, got a list", false},
		{"quoted number", run(ed("qnum.yaml", "count: 16", `count: "16"`)), nil, 2, `qnum.yaml:19: cluster.pools[0].count: must be an integer, got the quoted string "16" (a quoted value is a string; write numbers and booleans without quotes)`, false},
		{"quoted boolean", chk(ed("qbool.yaml", "pullOverhead: 2", "pullOverhead: 2\n  serializeImagePulls: \"false\"")), nil, 2, `qbool.yaml:43: startup.serializeImagePulls: must be true or false, got the quoted string "false"`, false},
		{"quoted boolean via --set", chk(scenario, "--set", `startup.serializeImagePulls="false"`), nil, 2, `kube-basic.yaml: startup.serializeImagePulls: must be true or false, got the quoted string "false" (a quoted value is a string; write numbers and booleans without quotes) (set by --set startup.serializeImagePulls)`, false},
		{"runTime 1e300", run(ed("rt.yaml", "runTime: {dist: exponential, mean: 120}", "runTime: 1e300")), nil, 2, "rt.yaml:69: workloads[1].runTime: 1e+300 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)", false},
		{"lognormal sigma 1e308", chk(ed("sigma.yaml", "sigma: 0.1", "sigma: 1e308")), nil, 2, "sigma.yaml:56: workloads[0].runTime: lognormal: sigma 1e+308 is too large: draws can overflow", false},
		{"NaN", chk(ed("nan.yaml", "mean: 120", "mean: .nan")), nil, 2, `nan.yaml:69: workloads[1].runTime: mean: must be a finite number, got ".nan"`, false},
		{"negative", chk(ed("neg.yaml", "rate: 0.2", "rate: -0.2")), nil, 2, "neg.yaml:68: workloads[1].arrival.rate: must be greater than 0 for pattern poisson (jobs per second)", false},
		{"memory 16Ei", chk(ed("ei.yaml", "memory: 60Gi", "memory: 16Ei")), nil, 2, `ei.yaml:21: cluster.pools[0].memory: "16Ei" is too large (at most 8Pi bytes)`, false},
		{"exponent bomb", chk(ed("exp.yaml", "memory: 60Gi", "memory: 1e999999999")), nil, 2, `exp.yaml:21: cluster.pools[0].memory: cannot parse "1e999999999" as a quantity`, false},
		{"merge key", chk(ed("merge.yaml", "seed: 1", "seed: 1\n<<: {until: 5}")), nil, 2, "merge.yaml:15: <<: merge keys (<<) are not supported; write the fields out", false},
		{"name leaves out/", run(ed("escape.yaml", "name: kube-basic", "name: ../../tmp/x")), nil, 2, `escape.yaml:6: name: "../../tmp/x" is not a valid scenario name`, false},
		{"profile is /etc/passwd", chk(ed("passwd.yaml", "seed: 1", "seed: 1\nnetwork: {profile: "+secret+"}")), nil, 2, "passwd.yaml:15: network.profile: \"" + secret + "\" is not a network profile (a YAML mapping with kind: NetworkProfile)", false},
		{"profile is /dev/zero", chk(ed("zprof.yaml", "seed: 1", "seed: 1\nnetwork: {profile: /dev/zero}")), nil, 2, "zprof.yaml:15: network.profile: cannot read profile: /dev/zero: larger than the 16 MiB limit for network profile files", false},
		{"--set unknown path", chk(scenario, "--set", "cluster.pool[0].count=3"), nil, 2, `kube-basic.yaml: cluster.pool[0].count: unknown field "pool"; valid fields: pools (set by --set cluster.pool[0].count)`, false},
		{"--set index out of range", run(scenario, "--set", "workloads[9].count=3"), nil, 2, "kube-basic.yaml: workloads[9].count: index 9 out of range (the list has 2 entries) (set by --set workloads[9].count)", false},
		{"SIM_ negative count", chk(scenario), []string{"SIM_CLUSTER__POOLS__0__COUNT=-5"}, 2, "kube-basic.yaml: cluster.pools[0].count: must be at least 1, got -5 (set by environment variable SIM_CLUSTER__POOLS__0__COUNT)", false},
		{"SIM_ quoted seed", run(scenario), []string{`SIM_SEED="7"`}, 2, `kube-basic.yaml: seed: must be a non-negative integer, got the quoted string "7" (a quoted value is a string; write numbers and booleans without quotes) (set by environment variable SIM_SEED)`, false},
		{"stray SIM_FOO", chk(scenario), []string{"SIM_FOO=1"}, 0, "sim: warning: environment variable SIM_FOO is not a scenario setting (unknown field \"foo\"; valid fields: cluster, controllers, description, name, network, outputs, policy, runtimes, seed, stallTimeout, startup, until, usernetes, version, workflows, workloads); ignored", true},
	}
}

// TestHostileCLI: sim run and sim check on hostile inputs exit with the
// code the README promises (2: bad input) and one message naming the
// file, the line where there is one and the field, never a crash.
func TestHostileCLI(t *testing.T) {
	dir := t.TempDir()
	wired := limitsWired()
	for _, tc := range hostileCLICases(t, dir) {
		t.Run(tc.class, func(t *testing.T) {
			if tc.sized && !wired {
				t.Skip("sim run/check have no --max-memory yet: wire cmd/sim/limits.go (loadScenario, addLimitFlags) into run.go")
			}
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			out, err := runCmd(t, tc.args...)
			msg := out
			if err != nil {
				msg = out + "sim: " + err.Error()
			}
			// A row of the table of hostile inputs (go test -v).
			first, _, _ := strings.Cut(msg, "\n")
			if len(first) > 300 {
				first = first[:300] + "…"
			}
			cmdline := strings.Join(tc.args, " ")
			if len(cmdline) > 120 {
				cmdline = cmdline[:120] + "…"
			}
			var env string
			if len(tc.env) > 0 {
				env = strings.Join(tc.env, " ") + " "
			}
			t.Logf("| %s | `%ssim %s` | %d | `%s` |", tc.class, env, strings.ReplaceAll(cmdline, dir, "$T"), exitCode(err), strings.ReplaceAll(first, dir, "$T"))
			if code := exitCode(err); code != tc.code {
				t.Errorf("sim %s: exit %d, want %d\n%.500s", strings.Join(tc.args, " "), code, tc.code, msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("sim %s:\n got: %.600s\nwant: %s", strings.Join(tc.args, " "), msg, tc.want)
			}
			if err != nil && (len(err.Error()) > 1024 || strings.Contains(err.Error(), "SECRET-TOKEN")) {
				t.Errorf("message of %d bytes, or it echoes a file: %.300s", len(err.Error()), err)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
				t.Errorf("a refused run left %s", filepath.Join(dir, "out"))
			}
		})
	}
}

// about is the estimate's wording for kube-basic.yaml with workers
// worker nodes (plus its control-plane node with a label and a taint),
// jobs and pods, from the per-unit costs.
func about(workers, jobs, pods int64) string {
	b := scenarios.BytesBase + workers*scenarios.BytesPerNode + (scenarios.BytesPerNode + 2*scenarios.BytesPerNodeLabel) +
		jobs*scenarios.BytesPerJob + pods*scenarios.BytesPerPod
	return "would need about " + scenarios.FormatBytes(b)
}
