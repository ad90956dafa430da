package fluence_test

import (
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion"
	"github.com/convergesim/converge/scenarios"
)

const scenario = `version: 1
name: fluence-small
seed: 1
cluster:
  pools:
    - {name: w, count: 4, cpu: 4, memory: 16Gi}
policy:
  name: fluence
  fluence:
    release: last-pod
workloads:
  - name: g
    kind: IndexedJob
    count: 2
    parallelism: 2
    runTime: 10
    pod:
      containers:
        - {name: c, image: busybox:1.36, cpu: 4, memory: 1Gi}
`

// A scenario names fluence and its section; bad values are errors at
// policy.fluence.<field> with the line, or the override that set them.
func TestScenario(t *testing.T) {
	sc, err := scenarios.Parse("f.yaml", []byte(scenario), scenarios.Overrides{IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := scenarios.Build(sc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy != "fluence" || res.Stopped != "" || res.FinishedPods() != 4 {
		t.Fatalf("policy %s stopped %q finished %d", res.Policy, res.Stopped, res.FinishedPods())
	}
	for _, tc := range []struct {
		doc  string
		set  []string
		want string
	}{
		{strings.Replace(scenario, "last-pod", "never", 1), nil, `f.yaml:10: policy.fluence.release: unknown value "never" (valid: first-pod, last-pod)`},
		{strings.Replace(scenario, "release: last-pod", "relase: x", 1), nil, "f.yaml:10: policy.fluence.relase: unknown field"},
		{scenario, []string{"policy.fluence.graph=dynamic"}, `f.yaml: policy.fluence.graph: unknown value "dynamic" (valid: static, live) (set by --set policy.fluence.graph)`},
	} {
		_, err := scenarios.Parse("f.yaml", []byte(tc.doc), scenarios.Overrides{Set: tc.set, IgnoreEnv: true})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v\nwant %s", err, tc.want)
		}
	}
	if !fluxion.ReapiAvailable {
		_, err := scenarios.Parse("f.yaml", []byte(scenario), scenarios.Overrides{Set: []string{"policy.fluence.backend=reapi"}, IgnoreEnv: true})
		want := "f.yaml: policy.fluence.backend: reapi needs a build with -tags fluxion"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %v\nwant %s", err, want)
		}
	}
}
