package coscheduling_test

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/policies"
	"github.com/convergesim/converge/policies/coscheduling"
	"github.com/convergesim/converge/policies/kube"
	"github.com/convergesim/converge/scenarios"
)

const scenario = `version: 1
name: coscheduling-small
seed: 1
cluster:
  pools:
    - {name: w, count: 2, cpu: 8, memory: 32Gi}
policy:
  name: coscheduling
  coscheduling:
    podGroupBackoffSeconds: 5
workloads:
  - name: g
    kind: IndexedJob
    count: 4
    parallelism: 4
    runTime: 10
    podGroup: {minMember: 4, scheduleTimeoutSeconds: 30}
    pod:
      containers:
        - {name: c, image: busybox:1.36, cpu: 3, memory: 1Gi}
`

// A scenario names coscheduling and its section; its jobs' pods bind
// group by group; bad values are errors at policy.coscheduling.<field>
// with the line, or the override that set them.
func TestScenario(t *testing.T) {
	sc, err := scenarios.Parse("c.yaml", []byte(scenario), scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	if a := sc.Policy.Section("coscheduling").(*coscheduling.Args); a.PodGroupBackoffSeconds != 5 || a.PermitWaitingTimeSeconds != 60 || a.PodGroupRejectPercentage != 10 {
		t.Errorf("args %+v, want the backoff given and the defaults", *a)
	}
	e, err := scenarios.Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy != "coscheduling" || res.Stopped != "" || res.FinishedPods() != 16 {
		t.Fatalf("policy %s stopped %q finished %d", res.Policy, res.Stopped, res.FinishedPods())
	}
	// 16 cores hold 5 pods of 3 cores: one group at a time, bound
	// together.
	for _, j := range res.Jobs {
		for _, p := range j.Pods {
			if p.Assigned != j.Pods[0].Assigned {
				t.Errorf("%s assigned at %g, its group at %g", p.Name, p.Assigned, j.Pods[0].Assigned)
			}
		}
	}
	for _, tc := range []struct {
		doc  string
		set  []string
		want string
	}{
		{strings.Replace(scenario, "podGroupBackoffSeconds: 5", "podGroupBackoffSeconds: -1", 1), nil,
			"c.yaml:10: policy.coscheduling.podGroupBackoffSeconds: "},
		{strings.Replace(scenario, "podGroupBackoffSeconds: 5", "podGroupBackofSeconds: 5", 1), nil,
			"c.yaml:10: policy.coscheduling.podGroupBackofSeconds: unknown field"},
		{scenario, []string{"policy.coscheduling.podGroupRejectPercentage=101"},
			"c.yaml: policy.coscheduling.podGroupRejectPercentage: must be between 0 and 100, got 101 (set by --set policy.coscheduling.podGroupRejectPercentage)"},
		{scenario, []string{"policy.coscheduling.permitWaitingTimeSeconds=1.5"},
			"c.yaml: policy.coscheduling.permitWaitingTimeSeconds: "},
	} {
		_, err := scenarios.Parse("c.yaml", []byte(tc.doc), scenarios.Overrides{Set: tc.set, IgnoreEnv: true})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v\nwant %s…", err, tc.want)
		}
	}
}

func TestArgsValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*coscheduling.Args)
		want string
	}{
		{func(a *coscheduling.Args) {}, ""},
		{func(a *coscheduling.Args) { a.PermitWaitingTimeSeconds = 0; a.PodGroupRejectPercentage = 100 }, ""},
		{func(a *coscheduling.Args) { a.PermitWaitingTimeSeconds = -1 }, "permitWaitingTimeSeconds: must be between 0 and 1e+09 s, got -1"},
		{func(a *coscheduling.Args) { a.PodGroupBackoffSeconds = 2e9 }, "podGroupBackoffSeconds: must be between 0 and 1e+09 s, got 2000000000"},
		{func(a *coscheduling.Args) { a.PodGroupRejectPercentage = -1 }, "podGroupRejectPercentage: must be between 0 and 100, got -1"},
	} {
		a := coscheduling.DefaultArgs()
		tc.edit(&a)
		err := a.Validate()
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("%+v: error %q, want %q", a, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%+v: no error, want %q", a, tc.want)
		}
		if _, err := coscheduling.New(kube.DefaultConfig(), a, engine.NewStreams(1)); (err != nil) != (tc.want != "") {
			t.Errorf("%+v: New error %v", a, err)
		}
	}
	// Through the registry: the section is validated before the factory
	// runs, and the kube section is read.
	reg := policies.MustRegistry(kube.Registration(), coscheduling.Registration())
	bad := coscheduling.DefaultArgs()
	bad.PodGroupRejectPercentage = 200
	_, err := reg.New("coscheduling", policies.NewConfig(map[string]any{"coscheduling": &bad}), engine.NewStreams(1))
	if err == nil || err.Error() != "coscheduling: podGroupRejectPercentage: must be between 0 and 100, got 200" {
		t.Errorf("registry error %v", err)
	}
	kcfg := kube.DefaultConfig()
	kcfg.ScoringStrategy.Type = kube.MostAllocated
	p, err := reg.New("coscheduling", policies.NewConfig(map[string]any{"kube": &kcfg}), engine.NewStreams(1))
	if err != nil {
		t.Fatal(err)
	}
	s := p.(*coscheduling.Scheduler)
	if s.Name() != "coscheduling" || s.Config().ScoringStrategy.Type != kube.MostAllocated {
		t.Errorf("policy %s with strategy %s", s.Name(), s.Config().ScoringStrategy.Type)
	}
}
