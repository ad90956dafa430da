package scenarios

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

// hostileLimits is the memory limit the hostile cases are checked
// against (small: nothing here may need more).
var hostileLimits = Limits{MaxBytes: 1 << 30, BytesHow: "test limit"}

// check is what sim check does with a scenario: parse, validate, size
// check, build.
func check(name string, data []byte, ov Overrides) error {
	sc, err := Parse(name, data, ov)
	if err != nil {
		return err
	}
	if err := CheckSize(sc, hostileLimits); err != nil {
		return err
	}
	_, err = Build(sc)
	return err
}

// TestHostile: malformed and hostile scenarios, one case per class: each
// gives one located error (file, line where there is one, field path)
// of bounded length, never a panic, never a hang, never an echo of a
// file that is not a scenario.
func TestHostile(t *testing.T) {
	cases := hostileCases(t, 5<<20)
	if len(cases) < 60 {
		t.Errorf("only %d hostile cases", len(cases))
	}
	for _, tc := range cases {
		err := check("h.yaml", []byte(tc.doc), Overrides{Set: tc.set, IgnoreEnv: true})
		if err == nil {
			t.Errorf("%s: accepted", tc.class)
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%s: %T is not a located *Error: %v", tc.class, err, err)
		}
		msg := err.Error()
		if prefix, open := strings.CutSuffix(tc.want, "…"); open && !strings.HasPrefix(msg, prefix) || !open && msg != tc.want {
			t.Errorf("%s:\n got: %.400s\nwant: %s", tc.class, msg, tc.want)
		}
		if len(msg) > 1024 || strings.Contains(msg, "SECRET-TOKEN") {
			t.Errorf("%s: message of %d bytes, or it echoes a file: %.300s", tc.class, len(msg), msg)
		}
	}
}

type hostileCase struct {
	class, doc string
	set        []string
	want       string // the whole message, or its start when it ends in "…"
}

// hostileCases are the hostile scenarios, with huge values of bigSize
// bytes.
func hostileCases(t testing.TB, bigSize int) []hostileCase {
	big := strings.Repeat("x", bigSize)
	bigLen := fmt.Sprintf("(%d bytes)", bigSize)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := write("secret.txt", "root:x:0:0:SECRET-TOKEN:/root:/bin/bash\n")
	secretMap := write("secret.yaml", "password: SECRET-TOKEN\nkind: Secret\n")
	aliases := "version: 1\ncluster:\n  pools:\n    - &p {name: w, count: 1, cpu: 1, memory: 1Gi}\n" + strings.Repeat("    - *p\n", 210_000)
	laughs := "version: 1\nx: &a [1,1,1,1,1,1,1,1,1,1]\n"
	for i, prev := 0, "a"; i < 8; i++ {
		name := fmt.Sprintf("b%d", i)
		laughs += fmt.Sprintf("%s: &%s [%s]\n", name, name, strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ","))
		prev = name
	}
	appEd := func(old, new string) string {
		if !strings.Contains(appMinimal, old) {
			t.Fatalf("%q not in appMinimal", old)
		}
		return strings.Replace(appMinimal, old, new, 1)
	}
	cases := []hostileCase{
		// Encoding and YAML structure.
		{"empty file", "", nil, "h.yaml: empty scenario (expected a mapping with version, cluster, policy and workloads)"},
		{"only a comment", "# nothing here\n", nil, "h.yaml: empty scenario (expected a mapping with version, cluster, policy and workloads)"},
		{"only a BOM", "\ufeff", nil, "h.yaml: empty scenario (expected a mapping with version, cluster, policy and workloads)"},
		{"UTF-16 text", "\xff\xfev\x00e\x00", nil, "h.yaml:1: a scenario must be a mapping with version, cluster, policy and workloads"},
		{"invalid UTF-8", "version: 1\nname: \xff\xfe\n", nil, "h.yaml: invalid leading UTF-8 octet"},
		{"NUL byte", "version: 1\x00\n", nil, "h.yaml: control characters are not allowed"},
		{"tab indentation", "version: 1\n\tname: x\n", nil, "h.yaml:2: found a tab character that violates indentation"},
		{"two documents", minimal + "---\nversion: 1\n", nil, "h.yaml:20: a second YAML document (after ---): the file must hold one"},
		{"a list, not a mapping", "- 1\n", nil, "h.yaml:1: a scenario must be a mapping with version, cluster, policy and workloads"},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil, "h.yaml: exceeded max depth of 10000"},
		{"recursive alias", "version: 1\ncluster: &c {pools: [*c]}\n", nil, "h.yaml:2: cluster.pools[0].pools: unknown field; valid fields: coreSpeed, count, cpu, gpus, images, labels, memory, memoryBandwidth, name, pods, racks, taints, unschedulable, zones"},
		{"alias flood", aliases, nil, "h.yaml:4: cluster.pools[199999].name: document too large (alias expansion?)"},
		{"billion laughs", laughs, nil, "h.yaml:2: x: unknown field; valid fields: …"},
		{"merge key", edit(t, "seed: 3", "seed: 3\n<<: {until: 3}"), nil, "h.yaml:4: <<: merge keys (<<) are not supported; write the fields out"},
		{"custom tag", edit(t, "seed: 3", "seed: !seed 3"), nil, `h.yaml:3: seed: YAML tag "!seed" is not supported`},
		{"huge scalar", edit(t, "name: t", "name: "+big), nil, `h.yaml:2: name: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… ` + bigLen + ` is not a valid scenario name: …`},
		{"huge key", "version: 1\n? " + big + "\n: 1\n", nil, `h.yaml:2: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… ` + bigLen + `: unknown field; valid fields: …`},
		{"huge value in a number field", edit(t, "seed: 3", "seed: 3"+strings.Repeat("3", 1<<20)), nil, `h.yaml:3: seed: must be a non-negative integer, got "3333333333333333333333333333333333333333333333333333333333333333"… (1048577 bytes)`},
		// Types and the scalar rule.
		{"unknown key", edit(t, "seed: 3", "seed: 3\nseeed: 4"), nil, "h.yaml:4: seeed: unknown field; valid fields: …"},
		{"list for a string", edit(t, "name: t", "name: [a]"), nil, "h.yaml:2: name: must be a string, got a list"},
		{"mapping for a number", edit(t, "seed: 3", "seed: {a: 1}"), nil, "h.yaml:3: seed: must be a non-negative integer, got a mapping"},
		{"quoted number", edit(t, "count: 2", "count: \"2\""), nil, `h.yaml:7: cluster.pools[0].count: must be an integer, got the quoted string "2" (a quoted value is a string; write numbers and booleans without quotes)`},
		{"quoted boolean", edit(t, "      memory: 8Gi\n", "      memory: 8Gi\n      unschedulable: 'true'\n"), nil, `h.yaml:10: cluster.pools[0].unschedulable: must be true or false, got the quoted string "true" (a quoted value is a string; write numbers and booleans without quotes)`},
		{"quoted duration", edit(t, "runTime: 10", "runTime: \"10\""), nil, `h.yaml:16: workloads[0].runTime: must be a finite number of seconds or a distribution such as {dist: lognormal, median: 0.5, sigma: 0.3}, got the quoted string "10" (a quoted value is a string; write numbers and booleans without quotes)`},
		{"hex integer", edit(t, "count: 2", "count: 0x10"), nil, `h.yaml:7: cluster.pools[0].count: must be a decimal integer, got "0x10"`},
		{"integer overflow", edit(t, "count: 2", "count: 99999999999999999999"), nil, `h.yaml:7: cluster.pools[0].count: must be an integer, got "99999999999999999999"`},
		// Impossible values.
		{"runTime 1e300", edit(t, "runTime: 10", "runTime: 1e300"), nil, "h.yaml:16: workloads[0].runTime: 1e+300 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"runTime .inf", edit(t, "runTime: 10", "runTime: .inf"), nil, `h.yaml:16: workloads[0].runTime: must be a finite number of seconds or a distribution such as {dist: lognormal, median: 0.5, sigma: 0.3}, got ".inf"`},
		{"runTime .nan", edit(t, "runTime: 10", "runTime: {dist: normal, mean: .nan, sd: 1}"), nil, `h.yaml:16: workloads[0].runTime: mean: must be a finite number, got ".nan"`},
		{"negative duration", edit(t, "runTime: 10", "runTime: {dist: uniform, min: -1, max: 2}"), nil, "h.yaml:16: workloads[0].runTime: min: must not be negative, got -1"},
		{"lognormal sigma 1e308", edit(t, "runTime: 10", "runTime: {dist: lognormal, median: 60, sigma: 1e308}"), nil, "h.yaml:16: workloads[0].runTime: lognormal: sigma 1e+308 is too large: draws can overflow (median·e^(15·sigma) must be finite)"},
		{"lognormal tail", edit(t, "runTime: 10", "runTime: {dist: lognormal, median: 60, sigma: 6}"), nil, "h.yaml:16: workloads[0].runTime: lognormal: its 99.99th percentile, 2.945e+11 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"exponential mean", edit(t, "runTime: 10", "runTime: {dist: exponential, mean: 1e9}"), nil, "h.yaml:16: workloads[0].runTime: exponential: its 99.99th percentile, 9.21e+09 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"until", edit(t, "seed: 3", "seed: 3\nuntil: 1e300"), nil, "h.yaml:4: until: 1e+300 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"stallTimeout", edit(t, "seed: 3", "seed: 3\nstallTimeout: -1"), nil, "h.yaml:4: stallTimeout: must not be negative, got -1"},
		{"backoff", edit(t, "seed: 3", "seed: 3\nstartup: {imageBackoffMax: 1e12}"), nil, "h.yaml:4: startup.imageBackoffMax: 1e+12 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"kube cycle", edit(t, "  name: kube\n", "  name: kube\n  kube: {cycleSeconds: 1e100}\n"), nil, "h.yaml:12: policy.kube.cycleSeconds: 1e+100 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"tiny rate", edit(t, "seed: 3", "seed: 3\ncontrollers: {jobQPS: 1e-300}"), nil, "h.yaml:4: controllers.jobQPS: must be 0 (unlimited) or at least 1e-9 per second (one per 1e9 s, about 31.7 years), got 1e-300"},
		{"poisson rate", edit(t, "    runTime: 10\n", "    runTime: 10\n    arrival: {pattern: poisson, rate: 1e-300}\n"), nil, "h.yaml:17: workloads[0].arrival.rate: the last of 1 jobs would arrive at about 1e+300 s, later than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"interval", edit(t, "    runTime: 10\n", "    runTime: 10\n    count: 3\n    arrival: {pattern: interval, interval: 1e300}\n"), nil, "h.yaml:18: workloads[0].arrival.interval: the last of 3 jobs would arrive at 2e+300 s, later than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"cpu 1e400", edit(t, "cpu: 4\n", "cpu: 1e400\n"), nil, `h.yaml:8: cluster.pools[0].cpu: cannot parse "1e400" as a quantity (examples: 500m, 2, 4Gi, 1G)`},
		{"memory 16Ei", edit(t, "memory: 8Gi", "memory: 16Ei"), nil, `h.yaml:9: cluster.pools[0].memory: "16Ei" is too large (at most 8Pi bytes)`},
		{"exponent bomb", edit(t, "memory: 8Gi", "memory: 1e999999999"), nil, `h.yaml:9: cluster.pools[0].memory: cannot parse "1e999999999" as a quantity (examples: 500m, 2, 4Gi, 1G)`},
		{"fraction quantity", edit(t, "memory: 8Gi", "memory: 1/3"), nil, `h.yaml:9: cluster.pools[0].memory: cannot parse "1/3" as a quantity (examples: 500m, 2, 4Gi, 1G)`},
		{"pod requests overflow", edit(t, "        - {name: c, image: busybox:1.36, cpu: 1, memory: 1Gi}\n", "        - {name: c, image: busybox:1.36, cpu: 9000000000000, memory: 1Gi}\n        - {name: d, image: busybox:1.36, cpu: 9000000000000, memory: 1Gi}\n"), nil, "h.yaml:19: workloads[0].pod.containers: the pod's cpu requests add up to more than 9007199254740 cpus"},
		{"image pull forever", strings.Replace(edit(t, "seed: 3", "seed: 3\nstartup: {nodeBandwidth: 1}"), "cpu: 1, memory: 1Gi}", "cpu: 1, memory: 1Gi, imageSize: 8Pi}", 1), nil, "h.yaml:20: workloads[0].pod.containers[0].imageSize: pulling it at the slowest configured bandwidth (1 bytes/s) takes 9.007e+15 s, longer than the longest duration a scenario may give (1e9 s, about 31.7 years)"},
		{"priority", edit(t, "      containers:\n", "      priority: 9999999999\n      containers:\n"), nil, "h.yaml:18: workloads[0].pod.priority: must be a 32-bit integer (as in Kubernetes), got 9999999999"},
		{"name escapes out/", edit(t, "name: t", "name: ../../etc"), nil, `h.yaml:2: name: "../../etc" is not a valid scenario name: …`},
		{"app steps", appEd("replicas: [4, 4, 4], steps: 100", "replicas: [1000, 1000, 1000], steps: 1000000000"), nil, "h.yaml:22: workloads[0].app: the lammps model prices a job of 2 pods on 2 nodes of pool vm in runtime bare at …"},
		{"app replicas", appEd("replicas: [4, 4, 4]", "replicas: [4, 4, 9223372036854775807]"), nil, "h.yaml:22: workloads[0].app.replicas[2]: must be between 0 and 1000000, got 9223372036854775807"},
		// Sizes (checked against a 1 GiB limit).
		{"pool count 1e9", edit(t, "count: 2", "count: 1000000000"), nil, "h.yaml:7: cluster.pools[0].count: the scenario (1,000,000,000 nodes, 1 jobs, 2 pods) " + about(BytesBase+1_000_000_000*BytesPerNode+BytesPerJob+2*BytesPerPod) + " of memory to run, more than the limit of 1 GiB (test limit)"},
		{"workload count MaxInt64", edit(t, "parallelism: 2", fmt.Sprintf("count: %d", math.MaxInt64)), nil, "h.yaml:15: workloads[0].count: the scenario submits 9,223,372,036,854,775,807 jobs; a run holds at most 2,147,483,647 (the engine numbers them with 32-bit ids)"},
		{"parallelism 1e9", edit(t, "parallelism: 2", "parallelism: 1000000000"), nil, "h.yaml:15: workloads[0].parallelism: the scenario (2 nodes, 1 jobs, 1,000,000,000 pods) " + about(BytesBase+2*BytesPerNode+BytesPerJob+1_000_000_000*BytesPerPod) + " of memory to run, more than the limit of 1 GiB (test limit)"},
		{"completions 1e9", edit(t, "parallelism: 2", "parallelism: 2\n    completions: 1000000000"), nil, "h.yaml:16: workloads[0].completions: the scenario (2 nodes, 1 jobs, 1,000,000,000 pods) " + about(BytesBase+2*BytesPerNode+BytesPerJob+1_000_000_000*BytesPerPod) + " of memory to run, more than the limit of 1 GiB (test limit)"},
		// Overrides.
		{"--set count 1e9", minimal, []string{"cluster.pools[0].count=1000000000"}, "h.yaml: cluster.pools[0].count: the scenario (1,000,000,000 nodes, 1 jobs, 2 pods) " + about(BytesBase+1_000_000_000*BytesPerNode+BytesPerJob+2*BytesPerPod) + " of memory to run, more than the limit of 1 GiB (test limit) (set by --set cluster.pools[0].count)"},
		{"--set unknown path", minimal, []string{"cluster.pool[0].count=3"}, `h.yaml: cluster.pool[0].count: unknown field "pool"; valid fields: pools (set by --set cluster.pool[0].count)`},
		{"--set index out of range", minimal, []string{"workloads[7].count=3"}, "h.yaml: workloads[7].count: index 7 out of range (the list has 1 entry) (set by --set workloads[7].count)"},
		{"--set huge index", minimal, []string{"workloads[99999999999999999999].count=3"}, `h.yaml: --set workloads[99999999999999999999].count: malformed key "workloads[99999999999999999999].count" (a list index is [0], [1], …)`},
		{"--set into a scalar", minimal, []string{"seed.low=3"}, "h.yaml: seed.low: seed is a single value, not a mapping (set by --set seed.low)"},
		{"--set without =", minimal, []string{"seed"}, `h.yaml: --set "seed": expected key=value, e.g. --set seed=7 or --set cluster.pools[0].count=16`},
		{"--set huge value", minimal, []string{"seed=" + big}, `h.yaml: seed: must be a non-negative integer, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… ` + bigLen + ` (set by --set seed)`},
		// Files a scenario names.
		{"profile is /etc/passwd-like", edit(t, "seed: 3", "seed: 3\nnetwork: {profile: "+secret+"}"), nil, "h.yaml:4: network.profile: \"" + secret + "\" is not a network profile (a YAML mapping with kind: NetworkProfile)"},
		{"profile is another YAML", edit(t, "seed: 3", "seed: 3\nnetwork: {profile: "+secretMap+"}"), nil, "h.yaml:4: network.profile: \"" + secretMap + "\" is not a network profile (a YAML mapping with kind: NetworkProfile)"},
		{"profile is /dev/zero", edit(t, "seed: 3", "seed: 3\nnetwork: {profile: /dev/zero}"), nil, "h.yaml:4: network.profile: cannot read profile: /dev/zero: larger than the 16 MiB limit for network profile files (is it the right file?)"},
		{"profile is a folder", edit(t, "seed: 3", "seed: 3\nnetwork: {profile: "+dir+"}"), nil, "h.yaml:4: network.profile: cannot read profile: " + dir + ": is a folder, not a network profile file"},
		{"app file is /dev/zero", appEd("file: apps/lammps.yaml", "file: /dev/zero"), nil, "h.yaml:22: workloads[0].app.file: cannot read app model: /dev/zero: larger than the 16 MiB limit for app model files (is it the right file?)"},
		{"app file is another YAML", appEd("file: apps/lammps.yaml", "file: "+secretMap), nil, "h.yaml:22: workloads[0].app.file: " + secretMap + ":2: kind: must be AppModel (this is not an app model file)"},
		{"app file is text", appEd("file: apps/lammps.yaml", "file: "+secret), nil, "h.yaml:22: workloads[0].app.file: " + secret + ": not an app model file (a YAML mapping with kind: AppModel, version, app and fits)"},
	}
	return cases
}

// TestHostileFiles: what Load does with paths that are not scenario
// files.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, limitio.Scenario+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "cannot read scenario: /dev/zero: larger than the 4 MiB limit for scenario files (is it the right file?)"},
		{big, "cannot read scenario: " + big + ": larger than the 4 MiB limit for scenario files (is it the right file?)"},
		{dir, "cannot read scenario: " + dir + ": is a folder, not a scenario file"},
		{filepath.Join(dir, "none.yaml"), "cannot read scenario: open " + filepath.Join(dir, "none.yaml") + ": no such file or directory"},
	} {
		if _, err := Load(tc.path, Overrides{IgnoreEnv: true}); err == nil || err.Error() != tc.want {
			t.Errorf("Load(%s):\n got: %v\nwant: %s", tc.path, err, tc.want)
		}
	}
}

// TestBOMScenario: a UTF-8 byte order mark before a valid scenario is
// accepted (editors write one).
func TestBOMScenario(t *testing.T) {
	if _, err := Parse("bom.yaml", []byte("\ufeff"+minimal), Overrides{IgnoreEnv: true}); err != nil {
		t.Error(err)
	}
}
