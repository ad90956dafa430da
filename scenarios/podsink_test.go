package scenarios

import (
	"fmt"
	"testing"

	"github.com/convergesim/converge/engine"
)

// podChecker is a PodSink that checks the engine's promise: pods come in
// id order, each once, each ended, and none changes after it was handed
// over (report writes pods.csv from them on another goroutine).
type podChecker struct {
	t    *testing.T
	file string
	pods []*engine.Pod
	seen []string // each pod as it was when handed over
}

func (c *podChecker) Pods(ps []*engine.Pod) error {
	for _, p := range ps {
		if p.ID != len(c.pods) {
			c.t.Fatalf("%s: pod %d handed over after %d pods", c.file, p.ID, len(c.pods))
		}
		if p.Phase != engine.PodSucceeded && p.Phase != engine.PodFailed {
			c.t.Fatalf("%s: pod %s handed over in phase %v", c.file, p.Name, p.Phase)
		}
		c.pods = append(c.pods, p)
		c.seen = append(c.seen, fmt.Sprintf("%+v", *p))
	}
	return nil
}

// TestPodSinkGetsEndedPodsUnchanged runs bundled scenarios of every kind
// of pod (Kubernetes, gangs, Flux shells, Usernetes nested in Flux,
// contended jobs, image pulls, a deadlock) with a checking PodSink.
func TestPodSinkGetsEndedPodsUnchanged(t *testing.T) {
	handed := 0
	for _, file := range []string{"kube-basic.yaml", "fluence-vs-kube.yaml", "bare-metal-bros.yaml", "colocation.yaml", "image-pull.yaml", "small-cluster-gangs.yaml"} {
		sc := mustLoad(t, file)
		e, err := Build(sc)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		c := &podChecker{t: t, file: file}
		e.SetPodSink(c)
		res, err := e.Run()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, p := range c.pods {
			if now := fmt.Sprintf("%+v", *p); now != c.seen[i] {
				t.Errorf("%s: pod %s changed after it was handed over:\nthen %s\nnow  %s", file, p.Name, c.seen[i], now)
			}
		}
		// Every pod before the first one that has not ended was handed
		// over, and no other.
		want := 0
		for want < len(res.Pods) && (res.Pods[want].Phase == engine.PodSucceeded || res.Pods[want].Phase == engine.PodFailed) {
			want++
		}
		if len(c.pods) != want {
			t.Errorf("%s: %d pods handed over, want the %d that ended before the first still running or pending (of %d; run %q)", file, len(c.pods), want, len(res.Pods), res.Stopped)
		}
		handed += len(c.pods)
	}
	if handed == 0 {
		t.Fatal("no pod was handed over in any run")
	}
}
