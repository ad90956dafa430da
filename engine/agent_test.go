package engine_test

import (
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// TestPreloadedImage: a node that has the image at the start runs the
// pod without a pull (IfNotPresent), and ImageLocality sees the image;
// a node without it pulls.
func TestPreloadedImage(t *testing.T) {
	tmpl := enginetest.Template("app:1", 10)
	run1 := func(preload bool) *engine.Result {
		nodes := enginetest.Nodes(1, enginetest.BigNode)
		if preload {
			nodes[0].Preloaded = map[string]int64{"app:1": 100 * engine.MiB}
			if size, ok := nodes[0].HasImage("app:1"); ok || size != 0 {
				t.Fatal("an image is present before the run starts")
			}
		}
		return runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	}
	warm, cold := run1(true), run1(false)
	if n := len(enginetest.Records(warm, 0, engine.RecPulling)); n != 0 {
		t.Errorf("preloaded: %d pulls, want none", n)
	}
	if n := len(enginetest.Records(cold, 0, engine.RecPulling)); n != 1 {
		t.Errorf("cold: %d pulls, want one", n)
	}
	if size, ok := warm.Cluster.Nodes[0].HasImage("app:1"); !ok || size != 100*engine.MiB {
		t.Errorf("HasImage = %d, %v", size, ok)
	}
	// The pull costs the cold pod PullOverhead plus the transfer; the
	// start-up difference is at least the overhead.
	if d := cold.Pods[0].ContainersStarted - warm.Pods[0].ContainersStarted; d < enginetest.PullOverhead {
		t.Errorf("cold start %v s later than warm, want at least the pull overhead %v s", d, float64(enginetest.PullOverhead))
	}
}
