package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// TestOverridesRecorded: Parse lists every override it applied, in the
// order applied (environment variables by name, then --set as given),
// each as a user writes it; a later one wins on the same path.
func TestOverridesRecorded(t *testing.T) {
	env := []string{"HOME=/root", "SIM_SEED=7", "SIM_CLUSTER__POOLS__0__COUNT=5", "PATH=/bin"}
	sc, err := Parse("t.yaml", []byte(minimal), Overrides{Env: env, Set: []string{"seed=9", "cluster.pools[0].labels.Tier=gold", "workloads[0].runTime={dist: uniform, min: 1, max: 2}"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range sc.Applied {
		got = append(got, o.Path+" <- "+o.String())
	}
	want := []string{
		"cluster.pools[0].count <- SIM_CLUSTER__POOLS__0__COUNT=5",
		"seed <- SIM_SEED=7",
		"seed <- --set seed=9",
		"cluster.pools[0].labels.Tier <- --set cluster.pools[0].labels.Tier=gold",
		"workloads[0].runTime <- --set workloads[0].runTime={dist: uniform, min: 1, max: 2}",
	}
	if !slices.Equal(got, want) {
		t.Errorf("applied:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sc.Seed != 9 || sc.Cluster.Pools[0].Count != 5 || sc.Cluster.Pools[0].Labels["Tier"] != "gold" {
		t.Errorf("seed %d, count %d, labels %v: want 9, 5 and the label key's case kept", sc.Seed, sc.Cluster.Pools[0].Count, sc.Cluster.Pools[0].Labels)
	}
	if len(sc.Warnings) != 0 {
		t.Errorf("warnings %v", sc.Warnings)
	}
}

// TestStrayEnvironment: a SIM_ variable that names no scenario field is
// ignored with a warning naming it; it does not break the run.
func TestStrayEnvironment(t *testing.T) {
	env := []string{"SIM_FOO=1", "SIM_CLUSTER__POOLS__0__CORES=8", "SIM_SEED__X=1", "SIM_CLUSTER____COUNT=3", "SIM_=x", "SIM_WORKLOADS__RUNTIME=3"}
	sc, err := Parse("t.yaml", []byte(minimal), Overrides{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`environment variable SIM_ is not a scenario setting (empty segment); ignored`,
		`environment variable SIM_CLUSTER__POOLS__0__CORES is not a scenario setting (unknown field "cores"; valid fields: coreSpeed, count, cpu, gpus, images, labels, memory, memoryBandwidth, name, pods, racks, taints, unschedulable, zones); ignored`,
		`environment variable SIM_CLUSTER____COUNT is not a scenario setting (empty segment); ignored`,
		`environment variable SIM_FOO is not a scenario setting (unknown field "foo"; valid fields: cluster, controllers, description, name, network, outputs, policy, runtimes, seed, stallTimeout, startup, until, usernetes, version, workflows, workloads); ignored`,
		`environment variable SIM_SEED__X is not a scenario setting (seed is a single value, not a mapping); ignored`,
		`environment variable SIM_WORKLOADS__RUNTIME is not a scenario setting (workloads is a list: give an index, e.g. workloads[0]); ignored`,
	}
	if !slices.Equal(sc.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(sc.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if len(sc.Applied) != 0 || sc.Seed != 3 {
		t.Errorf("applied %v, seed %d", sc.Applied, sc.Seed)
	}
}

// TestOverrideErrorsSayWhoSetIt: a bad value set by an override is
// blamed on the override, never on a line of the file that does not
// hold it (at parse time and at validation).
func TestOverrideErrorsSayWhoSetIt(t *testing.T) {
	for _, tc := range []struct {
		env, set []string
		want     string
	}{
		{[]string{"SIM_CLUSTER__POOLS__0__COUNT=-5"}, nil, "t.yaml: cluster.pools[0].count: must be at least 1, got -5 (set by environment variable SIM_CLUSTER__POOLS__0__COUNT)"},
		{nil, []string{"cluster.pools[0].count=0"}, "t.yaml: cluster.pools[0].count: must be at least 1, got 0 (set by --set cluster.pools[0].count)"},
		{nil, []string{"cluster.pools[0]={name: w, count: 1, cpu: 0, memory: 1Gi}"}, "t.yaml: cluster.pools[0].cpu: must be greater than 0 (allocatable cpu per node, e.g. 16 or 15500m) (set by --set cluster.pools[0])"},
		{[]string{"SIM_WORKLOADS__0__RUNTIME=1e300"}, nil, "t.yaml: workloads[0].runTime: 1e+300 s is longer than the longest duration a scenario may give (1e9 s, about 31.7 years) (set by environment variable SIM_WORKLOADS__0__RUNTIME)"},
		{[]string{"SIM_SEED=\"7\""}, nil, `t.yaml: seed: must be a non-negative integer, got the quoted string "7" (a quoted value is a string; write numbers and booleans without quotes) (set by environment variable SIM_SEED)`},
		{nil, []string{"cluster.pools[99999999999999999999].count=1"}, `t.yaml: --set cluster.pools[99999999999999999999].count: malformed key "cluster.pools[99999999999999999999].count" (a list index is [0], [1], …)`},
		{nil, []string{"cluster..count=1"}, `t.yaml: --set cluster..count: malformed key "cluster..count" (write a.b[0].c)`},
		{nil, []string{"seed.x=1"}, "t.yaml: seed.x: seed is a single value, not a mapping (set by --set seed.x)"},
		{nil, []string{"workloads[0].runTime.shape=2"}, "t.yaml: workloads[0].runTime.shape: workloads[0].runTime is a distribution: its keys are dist, max, mean, median, min, sd, sigma, value (set by --set workloads[0].runTime.shape)"},
	} {
		_, err := Parse("t.yaml", []byte(minimal), Overrides{Env: tc.env, Set: tc.set, IgnoreEnv: tc.env == nil})
		if err == nil || err.Error() != tc.want {
			t.Errorf("env %v set %v:\n got: %v\nwant: %s", tc.env, tc.set, err, tc.want)
		}
	}
}

// TestOverrideThroughAlias: an override on a path through an alias
// changes that path only, not the anchored value the alias shares.
func TestOverrideThroughAlias(t *testing.T) {
	doc := edit(t, "    - name: w\n      count: 2\n      cpu: 4\n      memory: 8Gi\n",
		"    - &p {name: w, count: 2, cpu: 4, memory: 8Gi, labels: {a: b}}\n    - <<: *p\n")
	doc = strings.Replace(doc, "    - <<: *p\n", "    - *p\n", 1)
	sc, err := Parse("t.yaml", []byte(doc), Overrides{IgnoreEnv: true, Set: []string{"cluster.pools[1].name=v", "cluster.pools[1].labels.a=c"}})
	if err != nil {
		t.Fatal(err)
	}
	p := sc.Cluster.Pools
	if p[0].Name != "w" || p[1].Name != "v" || p[0].Labels["a"] != "b" || p[1].Labels["a"] != "c" || p[1].Count != 2 {
		t.Errorf("pools %+v", p)
	}
}
