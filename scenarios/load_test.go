package scenarios

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/kube"
)

// minimal is a valid scenario; the malformed cases edit it.
const minimal = `version: 1
name: t
seed: 3
cluster:
  pools:
    - name: w
      count: 2
      cpu: 4
      memory: 8Gi
policy:
  name: kube
workloads:
  - name: j
    kind: IndexedJob
    parallelism: 2
    runTime: 10
    pod:
      containers:
        - {name: c, image: busybox:1.36, cpu: 1, memory: 1Gi}
`

func TestMinimalIsValid(t *testing.T) {
	sc, err := Parse("t.yaml", []byte(minimal), Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 3 || sc.Cluster.Pools[0].CPU != 4000 || sc.Cluster.Pools[0].Memory != 8<<30 {
		t.Errorf("decoded %+v", sc.Cluster.Pools[0])
	}
	if k, ok := sc.Policy.Section("kube").(*kube.Config); !ok || k.PodMaxBackoffSeconds != 10 {
		t.Errorf("kube defaults not applied: %+v", sc.Policy.Section("kube"))
	}
}

// edit replaces old with new in minimal, failing if old is absent.
func edit(t testing.TB, old, new string) string {
	t.Helper()
	if !strings.Contains(minimal, old) {
		t.Fatalf("edit: %q not in the minimal scenario", old)
	}
	return strings.Replace(minimal, old, new, 1)
}

// TestMalformed: each malformed scenario gives exactly its message (file,
// line where known, field path, what is wrong and what is valid), never a
// panic.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		doc  func(t *testing.T) string
		set  []string
		want string
	}{
		{"empty file", func(*testing.T) string { return "" }, nil, "bad.yaml: empty scenario (expected a mapping with version, cluster, policy and workloads)"},
		{"not a mapping", func(*testing.T) string { return "- 1\n- 2\n" }, nil, "bad.yaml:1: a scenario must be a mapping with version, cluster, policy and workloads"},
		{"yaml syntax", func(t *testing.T) string { return edit(t, "seed: 3", "seed: [3") }, nil, "bad.yaml:2: did not find expected ',' or ']'"},
		{"missing version", func(t *testing.T) string { return edit(t, "version: 1\n", "") }, nil, "bad.yaml: version: required (this build reads version: 1)"},
		{"future version", func(t *testing.T) string { return edit(t, "version: 1", "version: 2") }, nil, "bad.yaml:1: version: unsupported schema version 2 (this build reads version: 1)"},
		{"unknown top-level key", func(t *testing.T) string { return edit(t, "seed: 3", "seed: 3\nsead: 4") }, nil, "bad.yaml:4: sead: unknown field; valid fields: cluster, controllers, description, name, network, outputs, policy, runtimes, seed, stallTimeout, startup, until, usernetes, version, workflows, workloads"},
		{"wrong case key", func(t *testing.T) string { return edit(t, "runTime: 10", "runtime: 10") }, nil, "bad.yaml:16: workloads[0].runtime: unknown field (did you mean \"runTime\"?); valid fields: app, arrival, batch, cluster, completions, count, experiment, flux, kind, launcher, name, parallelism, pod, podGroup, runTime, runtimes, trace"},
		{"duplicate key", func(t *testing.T) string { return edit(t, "seed: 3", "seed: 3\nseed: 4") }, nil, "bad.yaml:4: seed: duplicate key"},
		{"seed not a number", func(t *testing.T) string { return edit(t, "seed: 3", "seed: three") }, nil, "bad.yaml:3: seed: must be a non-negative integer, got \"three\""},
		{"negative seed", func(t *testing.T) string { return edit(t, "seed: 3", "seed: -3") }, nil, "bad.yaml:3: seed: must be a non-negative integer, got \"-3\""},
		{"no pools", func(t *testing.T) string {
			return strings.Replace(minimal, "  pools:\n    - name: w\n      count: 2\n      cpu: 4\n      memory: 8Gi\n", "  pools: []\n", 1)
		}, nil, "bad.yaml:5: cluster.pools: at least one node pool is required"},
		{"pools not a list", func(t *testing.T) string {
			return strings.Replace(minimal, "  pools:\n    - name: w\n      count: 2\n      cpu: 4\n      memory: 8Gi\n", "  pools: {name: w}\n", 1)
		}, nil, "bad.yaml:5: cluster.pools: must be a list, got a mapping"},
		{"cpu unparsable", func(t *testing.T) string { return edit(t, "cpu: 4\n", "cpu: lots\n") }, nil, "bad.yaml:8: cluster.pools[0].cpu: cannot parse \"lots\" as a quantity (examples: 500m, 2, 4Gi, 1G)"},
		{"cpu negative", func(t *testing.T) string { return edit(t, "cpu: 4\n", "cpu: -4\n") }, nil, "bad.yaml:8: cluster.pools[0].cpu: must not be negative, got \"-4\""},
		{"cpu zero", func(t *testing.T) string { return edit(t, "cpu: 4\n", "cpu: 0\n") }, nil, "bad.yaml:8: cluster.pools[0].cpu: must be greater than 0 (allocatable cpu per node, e.g. 16 or 15500m)"},
		{"cpu finer than millicores", func(t *testing.T) string { return edit(t, "cpu: 4\n", "cpu: 0.0001\n") }, nil, "bad.yaml:8: cluster.pools[0].cpu: \"0.0001\" is finer than the smallest unit"},
		{"memory bad suffix", func(t *testing.T) string { return edit(t, "memory: 8Gi", "memory: 8GB") }, nil, "bad.yaml:9: cluster.pools[0].memory: cannot parse \"8GB\" as a quantity (examples: 500m, 2, 4Gi, 1G)"},
		{"count zero", func(t *testing.T) string { return edit(t, "count: 2", "count: 0") }, nil, "bad.yaml:7: cluster.pools[0].count: must be at least 1, got 0"},
		{"count fractional", func(t *testing.T) string { return edit(t, "count: 2", "count: 2.5") }, nil, "bad.yaml:7: cluster.pools[0].count: must be an integer, got \"2.5\""},
		{"second pool duplicate name", func(t *testing.T) string {
			return edit(t, "      memory: 8Gi\n", "      memory: 8Gi\n    - {name: w, count: 1, cpu: 2, memory: 1Gi}\n")
		}, nil, "bad.yaml:10: cluster.pools[1].name: duplicate pool name \"w\""},
		{"second pool bad cpu", func(t *testing.T) string {
			return edit(t, "      memory: 8Gi\n", "      memory: 8Gi\n    - {name: v, count: 1, cpu: x, memory: 1Gi}\n")
		}, nil, "bad.yaml:10: cluster.pools[1].cpu: cannot parse \"x\" as a quantity (examples: 500m, 2, 4Gi, 1G)"},
		{"taint effect", func(t *testing.T) string {
			return edit(t, "      memory: 8Gi\n", "      memory: 8Gi\n      taints: [{key: k, effect: Sometimes}]\n")
		}, nil, "bad.yaml:10: cluster.pools[0].taints[0].effect: unknown effect \"Sometimes\" (valid: NoSchedule, PreferNoSchedule, NoExecute)"},
		{"unknown policy", func(t *testing.T) string { return edit(t, "name: kube", "name: slurm") }, nil, "bad.yaml:11: policy.name: unknown policy \"slurm\" (valid: coscheduling, default-scheduler, fluence, flux, kube)"},
		{"missing policy name", func(t *testing.T) string { return edit(t, "  name: kube\n", "  kube: {}\n") }, nil, "bad.yaml:11: policy.name: required (valid: coscheduling, default-scheduler, fluence, flux, kube)"},
		{"unknown scoring strategy", func(t *testing.T) string {
			return edit(t, "  name: kube\n", "  name: kube\n  kube:\n    scoringStrategy: {type: Spread}\n")
		}, nil, "bad.yaml:13: policy.kube.scoringStrategy.type: unknown strategy \"Spread\" (valid: LeastAllocated, MostAllocated, RequestedToCapacityRatio)"},
		{"percentage out of range", func(t *testing.T) string {
			return edit(t, "  name: kube\n", "  name: kube\n  kube: {percentageOfNodesToScore: 120}\n")
		}, nil, "bad.yaml:12: policy.kube.percentageOfNodesToScore: must be between 0 and 100"},
		{"no workloads", func(t *testing.T) string { return minimal[:strings.Index(minimal, "workloads:")] + "workloads: []\n" }, nil, "bad.yaml:12: workloads: at least one workload is required"},
		{"unknown kind", func(t *testing.T) string { return edit(t, "kind: IndexedJob", "kind: CronJob") }, nil, "bad.yaml:14: workloads[0].kind: unknown kind \"CronJob\" (valid: Pod, Job, IndexedJob, MPIJob, MiniCluster, PyTorchJob, FluxJob)"},
		{"negative parallelism", func(t *testing.T) string { return edit(t, "parallelism: 2", "parallelism: -2") }, nil, "bad.yaml:15: workloads[0].parallelism: must be at least 1, got -2"},
		{"missing runTime", func(t *testing.T) string { return edit(t, "    runTime: 10\n", "") }, nil, "bad.yaml:13: workloads[0].runTime: required (seconds, or a distribution such as {dist: lognormal, median: 60, sigma: 0.2}), or an app model"},
		{"negative runTime", func(t *testing.T) string { return edit(t, "runTime: 10", "runTime: -10") }, nil, "bad.yaml:16: workloads[0].runTime: must not be negative, got -10"},
		{"unknown distribution", func(t *testing.T) string { return edit(t, "runTime: 10", "runTime: {dist: weibull, k: 2}") }, nil, "bad.yaml:16: workloads[0].runTime: dist: unknown distribution \"weibull\" (valid: const, exponential, lognormal, normal, uniform)"},
		{"distribution missing parameter", func(t *testing.T) string { return edit(t, "runTime: 10", "runTime: {dist: lognormal, median: 60}") }, nil, "bad.yaml:16: workloads[0].runTime: lognormal distribution needs sigma"},
		{"uniform min above max", func(t *testing.T) string { return edit(t, "runTime: 10", "runTime: {dist: uniform, min: 9, max: 3}") }, nil, "bad.yaml:16: workloads[0].runTime: uniform: min 9 is above max 3"},
		{"arrival pattern", func(t *testing.T) string {
			return edit(t, "    runTime: 10\n", "    runTime: 10\n    arrival: {pattern: bursty}\n")
		}, nil, "bad.yaml:17: workloads[0].arrival.pattern: unknown pattern \"bursty\" (valid: once, interval, poisson)"},
		{"poisson without rate", func(t *testing.T) string {
			return edit(t, "    runTime: 10\n", "    runTime: 10\n    arrival: {pattern: poisson}\n")
		}, nil, "bad.yaml:17: workloads[0].arrival.rate: must be greater than 0 for pattern poisson (jobs per second)"},
		{"no containers", func(t *testing.T) string {
			return edit(t, "      containers:\n        - {name: c, image: busybox:1.36, cpu: 1, memory: 1Gi}\n", "      containers: []\n")
		}, nil, "bad.yaml:18: workloads[0].pod.containers: at least one container is required"},
		{"container without image", func(t *testing.T) string { return edit(t, "image: busybox:1.36, ", "") }, nil, "bad.yaml:19: workloads[0].pod.containers[0].image: required"},
		{"pull policy", func(t *testing.T) string {
			return edit(t, "cpu: 1, memory: 1Gi}", "cpu: 1, memory: 1Gi, pullPolicy: Sometimes}")
		}, nil, "bad.yaml:19: workloads[0].pod.containers[0].pullPolicy: unknown pull policy \"Sometimes\" (valid: Always, IfNotPresent, Never)"},
		{"affinity operator", func(t *testing.T) string {
			return edit(t, "      containers:\n", "      affinity:\n        required:\n          - matchExpressions: [{key: zone, operator: Near, values: [a]}]\n      containers:\n")
		}, nil, "bad.yaml:20: workloads[0].pod.affinity.required[0].matchExpressions[0].operator: unknown operator \"Near\" (valid: In, NotIn, Exists, DoesNotExist, Gt, Lt)"},
		{"set unknown key", func(*testing.T) string { return minimal }, []string{"cluster.pools[0].cores=8"}, "bad.yaml: cluster.pools[0].cores: unknown field \"cores\"; valid fields: coreSpeed, count, cpu, gpus, images, labels, memory, memoryBandwidth, name, pods, racks, taints, unschedulable, zones (set by --set cluster.pools[0].cores)"},
		{"set index out of range", func(*testing.T) string { return minimal }, []string{"cluster.pools[3].cpu=8"}, "bad.yaml: cluster.pools[3].cpu: index 3 out of range (the list has 1 entry) (set by --set cluster.pools[3].cpu)"},
		{"set bad value", func(*testing.T) string { return minimal }, []string{"cluster.pools[0].count=many"}, "bad.yaml: cluster.pools[0].count: must be an integer, got \"many\" (set by --set cluster.pools[0].count)"},
		{"set without equals", func(*testing.T) string { return minimal }, []string{"seed"}, "bad.yaml: --set \"seed\": expected key=value, e.g. --set seed=7 or --set cluster.pools[0].count=16"},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d malformed cases", len(cases))
	}
	for _, tc := range cases {
		_, err := Parse("bad.yaml", []byte(tc.doc(t)), Overrides{Set: tc.set, IgnoreEnv: true})
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.name, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.name, err, tc.want)
		}
	}
}

// FuzzParse: no input, however malformed, makes the loader panic, and
// every error it returns is located (a *Error).
func FuzzParse(f *testing.F) {
	f.Add(minimal, "")
	f.Add(minimal, "cluster.pools[0].count=3")
	f.Add("version: 1\ncluster: {pools: [{name: a, count: 1, cpu: 1, memory: 1Gi}]}\n", "workloads[0].runTime={dist: uniform, min: 1, max: 2}")
	f.Fuzz(func(t *testing.T, doc, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		_, err := Parse("fuzz.yaml", []byte(doc), Overrides{Set: sets, IgnoreEnv: true})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a located *Error", err, err)
			}
		}
	})
}

// TestOverridePrecedence: --set beats SIM_ environment variables, which
// beat the file; nested keys and list indexes work in both.
func TestOverridePrecedence(t *testing.T) {
	parse := func(sets ...string) *Scenario {
		t.Helper()
		sc, err := Parse("t.yaml", []byte(minimal), Overrides{Set: sets})
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	if sc := parse(); sc.Seed != 3 {
		t.Fatalf("file seed = %d, want 3", sc.Seed)
	}
	t.Setenv("SIM_SEED", "7")
	t.Setenv("SIM_CLUSTER__POOLS__0__COUNT", "5")
	t.Setenv("SIM_POLICY__KUBE__SCORINGSTRATEGY__TYPE", "MostAllocated")
	sc := parse()
	if sc.Seed != 7 || sc.Cluster.Pools[0].Count != 5 || sc.Policy.Section("kube").(*kube.Config).ScoringStrategy.Type != "MostAllocated" {
		t.Errorf("environment: seed %d count %d strategy %s, want 7, 5, MostAllocated",
			sc.Seed, sc.Cluster.Pools[0].Count, sc.Policy.Section("kube").(*kube.Config).ScoringStrategy.Type)
	}
	sc = parse("seed=9", "cluster.pools[0].zones=[a, b]", "workloads[0].arrival.pattern=poisson", "workloads[0].arrival.rate=0.5")
	if sc.Seed != 9 || sc.Cluster.Pools[0].Count != 5 || len(sc.Cluster.Pools[0].Zones) != 2 || sc.Workloads[0].Arrival.Rate != 0.5 {
		t.Errorf("--set: seed %d count %d zones %v rate %v, want 9, 5 (from the environment), [a b], 0.5",
			sc.Seed, sc.Cluster.Pools[0].Count, sc.Cluster.Pools[0].Zones, sc.Workloads[0].Arrival.Rate)
	}
	t.Setenv("SIM_CLUSTER__POOLS__0__CPU", "lots")
	_, err := Parse("t.yaml", []byte(minimal), Overrides{})
	want := "t.yaml: cluster.pools[0].cpu: cannot parse \"lots\" as a quantity (examples: 500m, 2, 4Gi, 1G) (set by environment variable SIM_CLUSTER__POOLS__0__CPU)"
	if err == nil || err.Error() != want {
		t.Errorf("bad environment value: error %v, want %s", err, want)
	}
}

// An override that switches policy.name runs the scenario under the new
// policy as it is: the file's settings for a policy the new one does not
// read are left out with a warning; settings an override wrote are
// kept, so a contradiction there is still refused.
func TestPolicySwitchDropsOtherSettings(t *testing.T) {
	doc := `version: 1
cluster: {pools: [{name: n, count: 2, cpu: 4, memory: 8Gi}]}
policy:
  name: kube
  kube: {scoringStrategy: {type: MostAllocated}}
workloads:
  - {name: j, kind: FluxJob, flux: {nodes: 1}, runTime: {dist: const, value: 10}}
`
	sc, err := Parse("t.yaml", []byte(doc), Overrides{Set: []string{"policy.name=flux"}, IgnoreEnv: true})
	if err != nil {
		t.Fatalf("switched to flux: %v", err)
	}
	if _, kept := sc.Policy.Sections["kube"]; sc.Policy.Name != "flux" || kept || len(sc.Warnings) != 1 || !strings.Contains(sc.Warnings[0], "policy.kube: settings for kube left out") {
		t.Errorf("policy %s, kube settings kept %v, warnings %q; want flux without the kube settings and one warning", sc.Policy.Name, kept, sc.Warnings)
	}
	// Without the switch the file's own contradiction is refused.
	if _, err := Parse("t.yaml", []byte(strings.Replace(doc, "name: kube", "name: flux", 1)), Overrides{IgnoreEnv: true}); err == nil || !strings.Contains(err.Error(), "policy.kube: settings for kube") {
		t.Errorf("a file naming flux with kube settings: %v, want refused", err)
	}
	// Settings an override wrote stay, and are refused.
	_, err = Parse("t.yaml", []byte(doc), Overrides{Set: []string{"policy.name=flux", "policy.kube.scoringStrategy.type=LeastAllocated"}, IgnoreEnv: true})
	if err == nil || !strings.Contains(err.Error(), "policy.kube: settings for kube, but policy \"flux\" does not read them") {
		t.Errorf("kube settings set with the switch to flux: %v, want refused", err)
	}
	// A policy that reads them keeps them (fluence reads kube's).
	sc, err = Parse("t.yaml", []byte(strings.Replace(doc, "kind: FluxJob, flux: {nodes: 1}", "kind: Job, pod: {containers: [{name: c, image: busybox:1.36, cpu: 1}]}", 1)), Overrides{Set: []string{"policy.name=fluence"}, IgnoreEnv: true})
	if err != nil {
		t.Fatalf("switched to fluence: %v", err)
	}
	if _, kept := sc.Policy.Sections["kube"]; !kept || len(sc.Warnings) != 0 {
		t.Errorf("switched to fluence: kube settings kept %v, warnings %q; want them kept", kept, sc.Warnings)
	}
}
