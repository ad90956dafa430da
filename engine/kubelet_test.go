package engine_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// TestImageCache: a second pod of the same image on the same node, after
// the first pull finished, does not pull with IfNotPresent; with Always it
// pays a manifest check only.
func TestImageCache(t *testing.T) {
	tests := []struct {
		policy      engine.PullPolicy
		wantPulls   int     // Pulling records of the second pod
		wantPullSec float64 // its pull time
	}{
		{engine.PullIfNotPresent, 0, 0},
		{engine.PullAlways, 1, mfst}, // manifest check 0.75, no transfer
	}
	for _, tc := range tests {
		t.Run(string(tc.policy), func(t *testing.T) {
			tmpl := enginetest.Template("app:1", 5)
			tmpl.Containers[0].PullPolicy = tc.policy
			res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{},
				at(0, enginetest.Pod("first", tmpl)), at(100, enginetest.Pod("second", tmpl)))
			first, second := res.Pods[0], res.Pods[1]
			// First: a real pull (absent image) of 2 s either way.
			eq(t, "first.PullSeconds", first.PullSeconds, pull)
			if n := len(enginetest.Records(res, first.ID, engine.RecPulling)); n != 1 {
				t.Errorf("first pod: %d pulls, want 1", n)
			}
			// Second: created 100.25, sandbox up at 100.25+0.125+0.0625+1 = 101.4375,
			// then (pull time) + container start 0.5.
			if n := len(enginetest.Records(res, second.ID, engine.RecPulling)); n != tc.wantPulls {
				t.Errorf("second pod: %d pulls, want %d", n, tc.wantPulls)
			}
			eq(t, "second.PullSeconds", second.PullSeconds, tc.wantPullSec)
			eq(t, "second.ContainersStarted", second.ContainersStarted, 100+L+bindL+watch+sbx+tc.wantPullSec+start)
		})
	}
}

// TestPullNeverFailsWithoutImage: Never with the image absent is
// ErrImageNeverPull forever; the pod never starts and the run stalls.
func TestPullNeverFailsWithoutImage(t *testing.T) {
	tmpl := enginetest.Template("app:1", 5)
	tmpl.Containers[0].PullPolicy = engine.PullNever
	res := run(t, retryConfig(), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	if res.Stopped != "stalled" {
		t.Fatalf("Stopped = %q, want stalled", res.Stopped)
	}
	p := res.Pods[0]
	if engine.IsSet(p.ContainersStarted) {
		t.Error("pod started without its image")
	}
	// The last progress is the bind completing at 0.375. The pull fails at
	// the sandbox (0.25 + 0.125 + 1 = 1.375) and is retried every 10 s (no
	// jitter); the stall is declared at the first retry more than 900 s
	// after the progress: 1.375 + 10k > 900.375 → k = 90, at 901.375,
	// after 90 failures (k = 0 … 89).
	eq(t, "End", res.End, 1.375+900)
	fails := enginetest.Records(res, p.ID, engine.RecPullFailed)
	if len(fails) != 90 || fails[0].Msg != "ErrImageNeverPull: app:1" {
		t.Errorf("%d PullFailed records (first %q), want 90 ErrImageNeverPull", len(fails), fails[0].Msg)
	}
}

// retryConfig is ExactConfig without the watch delay, so that the first
// sync follows the bind at once and a pod-worker retry lands exactly
// PodWorkerBackoff·(1 + jitter·u) after the failed sync, whether or not
// the model adds a watch delay to the requeue.
func retryConfig() engine.Config {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Startup.SyncDelay = nil
	return cfg
}

// sameInstantPods returns n bare pods of one template, all arriving at 0.
// With an unthrottled client they are created, bound and synced together.
func sameInstantPods(n int, tmpl *engine.PodTemplate) []submission {
	subs := make([]submission, n)
	for i := range subs {
		subs[i] = at(0, enginetest.Pod(fmt.Sprintf("p%02d", i), tmpl))
	}
	return subs
}

// TestRegistryPullQPS: registryPullQPS 5, burst 10, parallel pulls: 20 pods
// reach the pull at the same instant on one node; the limiter accepts
// exactly 10, the other 10 fail with "pull QPS exceeded", go into image
// back-off (10 s) and are retried by the pod worker 10–15 s later, when
// the image is present and they start without a pull.
func TestRegistryPullQPS(t *testing.T) {
	cfg := retryConfig()
	cfg.Seed = 7
	cfg.Startup.RegistryPullQPS, cfg.Startup.RegistryBurst = 5, 10
	cfg.Startup.PodWorkerJitter = 0.5 // 10–15 s
	res := runToEnd(t, cfg, &enginetest.FirstFit{}, sameInstantPods(20, enginetest.Template("app:1", 100))...)

	sandboxUp := L + bindL + sbx // 1.375 for every pod
	var ok, failed int
	for i, p := range res.Pods {
		fails := enginetest.Records(res, p.ID, engine.RecPullFailed)
		switch {
		case i < 10:
			// Pods 0–9 (sync order) take the 10 tokens; they share pod 0's
			// transfer and all start at 1.375 + 2 + 0.5.
			ok++
			if len(fails) != 0 || p.PullFailures != 0 {
				t.Errorf("%s: %d pull failures, want 0", p.Name, len(fails))
			}
			eq(t, p.Name+".ContainersStarted", p.ContainersStarted, sandboxUp+pull+start)
		default:
			failed++
			if len(fails) != 1 || p.PullFailures != 1 {
				t.Fatalf("%s: %d PullFailed records, %d failures, want 1", p.Name, len(fails), p.PullFailures)
			}
			if fails[0].T != sandboxUp || fails[0].Msg != "pull QPS exceeded" {
				t.Errorf("%s: failure %s, want pull QPS exceeded at %v", p.Name, enginetest.RecordLine(fails[0]), sandboxUp)
			}
			// Retry after 10·(1 + 0.5·u), u ∈ [0,1): image present → no pull,
			// container start 0.5.
			delay := p.ContainersStarted - start - sandboxUp
			if delay < 10 || delay >= 15 {
				t.Errorf("%s: retried %v s after the failure, want [10, 15)", p.Name, delay)
			}
			if n := len(enginetest.Records(res, p.ID, engine.RecPulling)); n != 0 {
				t.Errorf("%s: pulled %d times after the image landed, want 0", p.Name, n)
			}
		}
	}
	if ok != 10 || failed != 10 {
		t.Errorf("%d pulled at once, %d failed; want 10 and 10", ok, failed)
	}
	// The jitter is random: the ten retries are not all at one instant.
	var retries []float64
	for _, p := range res.Pods[10:] {
		retries = append(retries, p.ContainersStarted)
	}
	if slices.Min(retries) == slices.Max(retries) {
		t.Error("all retries at the same instant: no jitter")
	}
}

// TestImageBackoffDoubling: a pod whose pulls keep failing (an almost
// empty registry bucket) is in image back-off 10, 20, 40, 80, 160, 300,
// 300 … s; the pod worker retries every 10 s (no jitter) and reports
// PullBackOff while the back-off lasts.
func TestImageBackoffDoubling(t *testing.T) {
	cfg := retryConfig()
	cfg.Startup.RegistryPullQPS, cfg.Startup.RegistryBurst = 1e-9, 1
	cfg.Horizon = 2000
	// "hog" takes the only token and runs for the whole horizon (so the run
	// is not declared stalled); "victim" is created and synced in the same
	// instant but its pull of another image is refused.
	hog := enginetest.Template("hog", 1e6)
	victim := enginetest.Template("victim", 1)
	res := run(t, cfg, &enginetest.FirstFit{}, at(0, enginetest.Pod("hog", hog)), at(0, enginetest.Pod("victim", victim)))
	if res.Stopped != "horizon" || res.End != 2000 {
		t.Fatalf("Stopped %q at %v, want horizon at 2000", res.Stopped, res.End)
	}
	v := podByName(t, res, "victim")
	var fails []float64
	for _, r := range enginetest.Records(res, v.ID, engine.RecPullFailed) {
		fails = append(fails, r.T)
	}
	// First failure at the sandbox (1.375). The pod worker retries every
	// 10 s; a retry inside the back-off window is a PullBackOff; the first
	// retry at or after the window's end tries the pull and fails again,
	// doubling the window. With 10 s retries the window of period P is left
	// at the first multiple of 10 ≥ P: gaps 10, 20, 40, 80, 160, 300, 300, …
	want := []float64{L + bindL + sbx}
	gaps := []float64{10, 20, 40, 80, 160, 300, 300, 300, 300, 300}
	for _, g := range gaps {
		if next := want[len(want)-1] + g; next <= 2000 {
			want = append(want, next)
		}
	}
	if !slices.Equal(fails, want) {
		t.Errorf("PullFailed at %v,\nwant %v", fails, want)
	}
	// Between failures k and k+1 (gap g), the g/10 − 1 retries are back-offs.
	wantBackoffs := 0
	for i := 1; i < len(want); i++ {
		wantBackoffs += int((want[i]-want[i-1])/10) - 1
	}
	// … plus those after the last failure up to the horizon.
	wantBackoffs += int((2000 - want[len(want)-1]) / 10)
	if n := len(enginetest.Records(res, v.ID, engine.RecPullBackOff)); n != wantBackoffs {
		t.Errorf("%d PullBackOff records, want %d", n, wantBackoffs)
	}
	if v.PullFailures != len(want)+wantBackoffs {
		t.Errorf("PullFailures = %d, want %d", v.PullFailures, len(want)+wantBackoffs)
	}
}

// TestSerializedPulls: with serializeImagePulls one pull runs at a time per
// node; with parallel pulls both images arrive together.
func TestSerializedPulls(t *testing.T) {
	sandboxUp := L + bindL + watch + sbx // 1.4375
	tests := []struct {
		serial bool
		pulled []float64 // Pulled time of pod a, b
	}{
		// Serial: a's pull 1.4375 → 3.4375, then b's 3.4375 → 5.4375.
		{true, []float64{sandboxUp + pull, sandboxUp + 2*pull}},
		// Parallel (unlimited bandwidth): both 1.4375 → 3.4375.
		{false, []float64{sandboxUp + pull, sandboxUp + pull}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("serial=%v", tc.serial), func(t *testing.T) {
			cfg := enginetest.ExactConfig(oneNode())
			cfg.Startup.SerializeImagePulls = tc.serial
			res := runToEnd(t, cfg, &enginetest.FirstFit{},
				at(0, enginetest.Pod("a", enginetest.Template("img-a", 5))),
				at(0, enginetest.Pod("b", enginetest.Template("img-b", 5))))
			for i, p := range res.Pods {
				pulling := enginetest.Records(res, p.ID, engine.RecPulling)
				pulled := enginetest.Records(res, p.ID, engine.RecPulled)
				if len(pulling) != 1 || len(pulled) != 1 {
					t.Fatalf("%s: %d Pulling, %d Pulled", p.Name, len(pulling), len(pulled))
				}
				// Pulling is reported when the kubelet asks for the image
				// (before queueing), as kubelet's image manager does.
				eq(t, p.Name+" Pulling", pulling[0].T, sandboxUp)
				eq(t, p.Name+" Pulled", pulled[0].T, tc.pulled[i])
				// PullSeconds includes the wait in the queue.
				eq(t, p.Name+".PullSeconds", p.PullSeconds, tc.pulled[i]-sandboxUp)
				eq(t, p.Name+".ContainersStarted", p.ContainersStarted, tc.pulled[i]+start)
			}
		})
	}
}

// TestSerializedPullsWithBandwidth: serial pulls of two 60 MB images over
// a 30 MB/s node link take 2 s each, one after the other; parallel pulls
// share the link (15 MB/s each) and both land at 4 s.
func TestSerializedPullsWithBandwidth(t *testing.T) {
	sandboxUp := L + bindL + watch + sbx
	for _, serial := range []bool{true, false} {
		t.Run(fmt.Sprintf("serial=%v", serial), func(t *testing.T) {
			cfg := enginetest.ExactConfig(oneNode())
			cfg.Startup.SerializeImagePulls = serial
			cfg.Startup.NodeBandwidth = 30e6
			cfg.Startup.PullOverhead = nil // transfer time only
			ta, tb := enginetest.Template("img-a", 5), enginetest.Template("img-b", 5)
			ta.Containers[0].ImageSize, tb.Containers[0].ImageSize = 60e6, 60e6
			res := runToEnd(t, cfg, &enginetest.FirstFit{}, at(0, enginetest.Pod("a", ta)), at(0, enginetest.Pod("b", tb)))
			want := []float64{sandboxUp + 2, sandboxUp + 4} // 60/30, then 60/30 again
			if !serial {
				want = []float64{sandboxUp + 4, sandboxUp + 4} // 120 MB at 30 MB/s shared
			}
			for i, p := range res.Pods {
				eq(t, p.Name+" pulled", enginetest.Records(res, p.ID, engine.RecPulled)[0].T, want[i])
			}
		})
	}
}

// TestSerializedQueueUsesLimiter: with serialized pulls the rate limiter is
// consulted when the puller takes a request: of three queued pulls with
// burst 1, the first takes the token, the others are refused as they
// reach the head of the queue.
func TestSerializedQueueUsesLimiter(t *testing.T) {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Startup.SerializeImagePulls = true
	cfg.Startup.RegistryPullQPS, cfg.Startup.RegistryBurst = 0.01, 1
	res := runToEnd(t, cfg, &enginetest.FirstFit{},
		at(0, enginetest.Pod("a", enginetest.Template("img-a", 1))),
		at(0, enginetest.Pod("b", enginetest.Template("img-b", 1))),
		at(0, enginetest.Pod("c", enginetest.Template("img-c", 1))))
	a, b, c := res.Pods[0], res.Pods[1], res.Pods[2]
	if a.PullFailures != 0 {
		t.Errorf("a: %d pull failures, want 0", a.PullFailures)
	}
	// a's pull ends at 3.4375; then b and c are taken from the queue and refused.
	for _, p := range []*engine.Pod{b, c} {
		fails := enginetest.Records(res, p.ID, engine.RecPullFailed)
		if len(fails) == 0 || fails[0].T != 3.4375 {
			t.Errorf("%s: first failure %v, want at 3.4375", p.Name, fails)
		}
	}
}

// TestInitContainersRunInOrder: init containers run one after the other,
// each to completion, before Initialized; then the app container starts.
func TestInitContainersRunInOrder(t *testing.T) {
	tmpl := enginetest.Template("app:1", 10)
	tmpl.InitContainers = []engine.Container{
		{Name: "init-1", Image: "app:1", ImageSize: engine.MiB, PullPolicy: engine.PullIfNotPresent, Duration: engine.Const(1)},
		{Name: "init-2", Image: "tools:1", ImageSize: engine.MiB, PullPolicy: engine.PullIfNotPresent, Duration: engine.Const(4)},
	}
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	p := res.Pods[0]
	sandboxUp := L + bindL + watch + sbx // 1.4375
	init1Up := sandboxUp + pull + start  // pull app:1, start: 3.9375
	init1Done := init1Up + 1             // runs 1 s: 4.9375
	init2Up := init1Done + pull + start  // pull tools:1, start: 7.4375
	initialized := init2Up + 4           // runs 4 s: 11.4375
	started := initialized + start       // app:1 is present: 11.9375
	eq(t, "Initialized", p.Initialized, initialized)
	eq(t, "ContainersStarted", p.ContainersStarted, started)
	eq(t, "Finished", p.Finished, started+10)
	eq(t, "PullSeconds", p.PullSeconds, 2*pull)
	pulls := enginetest.Records(res, p.ID, engine.RecPulling)
	if len(pulls) != 2 || pulls[0].Msg != "app:1" || pulls[1].Msg != "tools:1" || pulls[0].T != sandboxUp || pulls[1].T != init1Done {
		t.Errorf("pulls %v, want app:1 at %v then tools:1 at %v", pulls, sandboxUp, init1Done)
	}
	// Initialized comes after the sandbox (not at the first sync).
	kinds := enginetest.Kinds(enginetest.Records(res, p.ID, engine.RecSandboxReady, engine.RecInitialized, engine.RecStarted))
	if !slices.Equal(kinds, []engine.RecKind{engine.RecSandboxReady, engine.RecInitialized, engine.RecStarted}) {
		t.Errorf("order %v", kinds)
	}
}

// TestMultipleAppContainersStartInOrder: app containers are started one
// after the other; the pod's ContainersStarted is the last one's start.
func TestMultipleAppContainersStartInOrder(t *testing.T) {
	tmpl := enginetest.Template("app:1", 10)
	tmpl.Containers = append(tmpl.Containers, engine.Container{Name: "sidecar", Image: "side:1", ImageSize: engine.MiB, PullPolicy: engine.PullIfNotPresent})
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	p := res.Pods[0]
	// app: pull 2 + start 0.5; sidecar: pull 2 + start 0.5.
	eq(t, "ContainersStarted", p.ContainersStarted, L+bindL+watch+sbx+2*(pull+start))
	// Scoring and filtering see both containers: 1 CPU + 0 → 1000m real,
	// 1000m + 100m default for the sidecar.
	if p.Requests.MilliCPU != 1000 || p.NonZero.MilliCPU != 1100 {
		t.Errorf("Requests %v NonZero %v", p.Requests, p.NonZero)
	}
}

// TestSandboxConcurrency: with SandboxConcurrency 1 a node creates one
// sandbox at a time; 0 means unlimited.
func TestSandboxConcurrency(t *testing.T) {
	syncAt := L + bindL + watch // 0.4375 for every pod
	tests := []struct {
		limit int
		want  []float64 // SandboxReady of pods 0, 1, 2
	}{
		{0, []float64{syncAt + sbx, syncAt + sbx, syncAt + sbx}},
		// One at a time: 1.4375, 2.4375, 3.4375.
		{1, []float64{syncAt + sbx, syncAt + 2*sbx, syncAt + 3*sbx}},
		// Two at a time: the third waits for the first two.
		{2, []float64{syncAt + sbx, syncAt + sbx, syncAt + 2*sbx}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
			cfg := enginetest.ExactConfig(oneNode())
			cfg.Startup.SandboxConcurrency = tc.limit
			res := runToEnd(t, cfg, &enginetest.FirstFit{}, sameInstantPods(3, enginetest.Template("app:1", 10))...)
			for i, p := range res.Pods {
				rs := enginetest.Records(res, p.ID, engine.RecSandboxReady)
				if len(rs) != 1 {
					t.Fatalf("%s: %d SandboxReady records", p.Name, len(rs))
				}
				eq(t, p.Name+" SandboxReady", rs[0].T, tc.want[i])
				// Initialized (no init containers) is still the first sync.
				eq(t, p.Name+".Initialized", p.Initialized, syncAt)
			}
		})
	}
}

// TestSyncLoopTicks: with a 1 s sync loop period, pod-worker retries on a
// node are picked up on that node's ticker, so every retry time on one
// node has the same fractional phase, and it comes at most one period
// after the jittered back-off.
func TestSyncLoopTicks(t *testing.T) {
	cfg := retryConfig()
	cfg.Seed = 3
	cfg.Startup.RegistryPullQPS, cfg.Startup.RegistryBurst = 5, 10
	cfg.Startup.PodWorkerJitter = 0.5
	cfg.Startup.SyncLoopPeriod = 1
	res := runToEnd(t, cfg, &enginetest.FirstFit{}, sameInstantPods(20, enginetest.Template("app:1", 100))...)
	sandboxUp := L + bindL + sbx
	var phase float64
	for i, p := range res.Pods[10:] {
		retry := p.ContainersStarted - start // image present at the retry: no pull
		if d := retry - sandboxUp; d < 10 || d >= 16 {
			t.Errorf("%s: retried %v s after the failure, want [10, 16)", p.Name, d)
		}
		frac := retry - math.Floor(retry)
		if i == 0 {
			phase = frac
		} else if math.Abs(frac-phase) > 1e-9 {
			t.Errorf("%s: retry at %v, phase %v; other retries on the node have phase %v", p.Name, retry, frac, phase)
		}
	}
}
