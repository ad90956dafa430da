package engine_test

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/engine/enginetest"
)

// Short names for the exact latencies (enginetest: dyadic constants).
const (
	L     = enginetest.CreateLatency  // 0.25
	bindL = enginetest.BindLatency    // 0.125
	watch = enginetest.SyncDelay      // 0.0625
	sbx   = enginetest.Sandbox        // 1
	pull  = enginetest.PullOverhead   // 2
	mfst  = enginetest.ManifestCheck  // 0.75
	start = enginetest.ContainerStart // 0.5
)

func oneNode() []*engine.Node { return enginetest.Nodes(1, enginetest.BigNode) }

func TestBarePodTimeline(t *testing.T) {
	tmpl := enginetest.Template("app:1", 10)
	tmpl.ReadinessDelay = engine.Const(4)
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.Pod("p", tmpl)))
	p := res.Pods[0]

	created := 0 + L                 // client create call: 0.25
	assigned := created              // first-fit binds at the PodCreated delivery
	scheduled := assigned + bindL    // bind round trip: 0.375
	initialized := scheduled + watch // first kubelet sync (no init containers): 0.4375
	sandboxUp := initialized + sbx   // 1.4375
	pulled := sandboxUp + pull       // unlimited bandwidth: overhead only, 3.4375
	started := pulled + start        // 3.9375
	ready := started + 4             // readiness delay: 7.9375
	finished := started + 10         // run time: 13.9375
	eq(t, "Created", p.Created, created)
	eq(t, "Assigned", p.Assigned, assigned)
	eq(t, "Scheduled", p.Scheduled, scheduled)
	eq(t, "Initialized", p.Initialized, initialized)
	eq(t, "ContainersStarted", p.ContainersStarted, started)
	eq(t, "Ready", p.Ready, ready)
	eq(t, "Finished", p.Finished, finished)
	eq(t, "PullSeconds", p.PullSeconds, pull)
	eq(t, "StartupDelay", p.StartupDelay(), started-created)
	eq(t, "Job.Submitted", res.Jobs[0].Submitted, 0)
	eq(t, "Job.Finished", res.Jobs[0].Finished, finished)
	eq(t, "Job.FirstCreated", res.Jobs[0].FirstCreated(), created)
	eq(t, "Job.AllStarted", res.Jobs[0].AllStarted(), started)
	eq(t, "End", res.End, finished)
	if p.Name != "p" || p.Node.Name != "node-0" || p.Phase != engine.PodSucceeded || p.Attempts != 1 || p.PullFailures != 0 {
		t.Errorf("pod %s", enginetest.PodLine(p))
	}
	// Calendar events: arrival, pod create, bind done, kubelet sync,
	// sandbox done, image ready, container up, ready, finish = 9 (policy
	// deliveries are not calendar events).
	if res.Events != 9 {
		t.Errorf("Events = %d, want 9", res.Events)
	}
	// The node gave everything back.
	if n := res.Cluster.Nodes[0]; !n.Requested.IsZero() || !n.NonZeroRequested.IsZero() {
		t.Errorf("node still holds %v / %v", n.Requested, n.NonZeroRequested)
	}
	if size, ok := res.Cluster.Nodes[0].HasImage("app:1"); !ok || size != 100*engine.MiB {
		t.Errorf("HasImage = %v, %v; want 100 MiB, true", size, ok)
	}
	if got := res.Cluster.NodesWithImage("app:1"); got != 1 {
		t.Errorf("NodesWithImage = %d, want 1", got)
	}

	// The trace, in order, with each record's time.
	want := []struct {
		k  engine.RecKind
		at float64
	}{
		{engine.RecJobSubmitted, 0}, {engine.RecPodCreated, created}, {engine.RecAssigned, assigned},
		{engine.RecScheduled, scheduled}, {engine.RecInitialized, initialized},
		{engine.RecSandboxReady, sandboxUp}, {engine.RecPulling, sandboxUp}, {engine.RecPulled, pulled},
		{engine.RecStarted, started}, {engine.RecReady, ready}, {engine.RecSucceeded, finished},
		{engine.RecJobComplete, finished},
	}
	if len(res.Records) != len(want) {
		t.Fatalf("%d records, want %d:\n%s", len(res.Records), len(want), enginetest.Dump(res))
	}
	for i, w := range want {
		r := res.Records[i]
		if r.Kind != w.k || r.T != w.at {
			t.Errorf("record %d = %s, want %v at %v", i, enginetest.RecordLine(r), w.k, w.at)
		}
	}
}

func TestNoReadinessProbeReadyAtStart(t *testing.T) {
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(5, enginetest.Pod("p", enginetest.Template("a", 1))))
	p := res.Pods[0]
	// Arrival 5, created 5.25, started 5.25 + 0.125 + 0.0625 + 1 + 2 + 0.5 = 8.9375.
	eq(t, "ContainersStarted", p.ContainersStarted, 5+L+bindL+watch+sbx+pull+start)
	eq(t, "Ready", p.Ready, p.ContainersStarted)
	eq(t, "Finished", p.Finished, p.ContainersStarted+1)
}

func TestBindDelayAndRecordOff(t *testing.T) {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Record = false
	res := runToEnd(t, cfg, &enginetest.FirstFit{BindDelay: 3}, at(0, enginetest.Pod("p", enginetest.Template("a", 1))))
	p := res.Pods[0]
	// Assigned at creation; the bind call is sent 3 s later and takes 0.125.
	eq(t, "Assigned", p.Assigned, L)
	eq(t, "Scheduled", p.Scheduled, L+3+bindL)
	if len(res.Records) != 0 {
		t.Errorf("Record=false kept %d records", len(res.Records))
	}
}

// TestBarePodsClientThrottle: bare pods go through the user's client
// (QPS 2, burst 3): three creates at once, then one every 0.5 s.
func TestBarePodsClientThrottle(t *testing.T) {
	cfg := enginetest.ExactConfig(oneNode())
	cfg.Controllers.ClientQPS, cfg.Controllers.ClientBurst = 2, 3
	var subs []submission
	for i := range 6 {
		subs = append(subs, at(0, enginetest.Pod("p"+strconv.Itoa(i), enginetest.Template("a", 1))))
	}
	res := runToEnd(t, cfg, &enginetest.FirstFit{}, subs...)
	// Tokens 3,2,1 → waits 0,0,0; then −1,−2,−3 → 0.5, 1, 1.5; plus the create latency.
	want := []float64{L, L, L, 0.5 + L, 1 + L, 1.5 + L}
	for i, p := range res.Pods {
		eq(t, p.Name+".Created", p.Created, want[i])
	}
}

// TestIndexedJobSlowStart: the Job controller creates pods in batches of
// 1, 2, 4, 8, each batch after the previous one's creates completed.
func TestIndexedJobSlowStart(t *testing.T) {
	tests := []struct {
		name   string
		qps    float64
		burst  int
		want   []float64 // creation time of index i
		derive string
	}{
		{
			name: "unthrottled",
			// Batch k is issued when batch k−1's creates landed (k·L) and lands L later.
			want: []float64{
				L,            // batch 1: index 0
				2 * L, 2 * L, // batch 2: 1–2
				3 * L, 3 * L, 3 * L, 3 * L, // batch 3: 3–6
				4 * L, 4 * L, 4 * L, 4 * L, 4 * L, 4 * L, 4 * L, 4 * L, // batch 4: 7–14
			},
		},
		{
			name: "client bucket binds (QPS 4, burst 2)",
			qps:  4, burst: 2,
			// Tokens start at 2 (first use, t=0).
			// Batch 1 at t=0: 2→1, wait 0 → created 0.25.
			// Batch 2 at 0.25: 1 + 0.25·4 = 2 (cap) → 1, 0: waits 0, 0 → 0.5, 0.5.
			// Batch 3 at 0.5: 0 + 0.25·4 = 1 → 0, −1, −2, −3: waits 0, .25, .5, .75
			//   → 0.75, 1.0, 1.25, 1.5; the batch completes at 1.5.
			// Batch 4 at 1.5: −3 + (1.5−0.5)·4 = 1 → waits 0, .25, …, 1.75
			//   → 1.75, 2.0, …, 3.5.
			want: []float64{
				0.25,
				0.5, 0.5,
				0.75, 1.0, 1.25, 1.5,
				1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := enginetest.ExactConfig(oneNode())
			cfg.Controllers.JobQPS, cfg.Controllers.JobBurst = tc.qps, tc.burst
			res := runToEnd(t, cfg, &enginetest.FirstFit{}, at(0, enginetest.IndexedJob("ij", 15, 15, enginetest.Template("a", 100))))
			if len(res.Pods) != 15 {
				t.Fatalf("%d pods, want 15", len(res.Pods))
			}
			for i, p := range res.Pods {
				if p.Index != i || p.Name != "ij-"+strconv.Itoa(i) {
					t.Errorf("pod %d: index %d name %s", i, p.Index, p.Name)
				}
				eq(t, p.Name+".Created", p.Created, tc.want[i])
			}
		})
	}
}

// TestJobCompletionsBeyondParallelism: a Job with parallelism 2 and
// completions 5 keeps two pods active and creates a replacement after each
// success, until five succeeded.
func TestJobCompletionsBeyondParallelism(t *testing.T) {
	for _, kind := range []engine.JobKind{engine.KindJob, engine.KindIndexedJob} {
		t.Run(kind.String(), func(t *testing.T) {
			tmpl := enginetest.Template("a", 0)
			// Run times 10, 20, 10, 20, 10 in creation order, so no two
			// pods finish at the same instant.
			tmpl.RunTime = &seqDist{vals: []float64{10, 20}}
			j := &engine.Job{Name: "j", Kind: kind, Parallelism: 2, Completions: 5, Template: tmpl}
			res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, j))
			if len(res.Pods) != 5 {
				t.Fatalf("%d pods, want exactly 5 (never more than the completions)\n%s", len(res.Pods), enginetest.Dump(res))
			}
			var indexes []int
			var finishes []float64
			for _, p := range res.Pods {
				indexes = append(indexes, p.Index)
				finishes = append(finishes, p.Finished)
			}
			if !slices.Equal(indexes, []int{0, 1, 2, 3, 4}) {
				t.Errorf("indexes %v, want 0..4 in creation order", indexes)
			}
			// Slow start: index 0 at L, index 1 at 2L (want = min(2,5) − 1 = 1).
			eq(t, "pod 0 created", res.Pods[0].Created, L)
			eq(t, "pod 1 created", res.Pods[1].Created, 2*L)
			// Each later pod is created L after the k-th success (k = 1, 2, 3).
			slices.Sort(finishes)
			for k := 2; k < 5; k++ {
				eq(t, res.Pods[k].Name+" created", res.Pods[k].Created, finishes[k-2]+L)
			}
			// Never more than parallelism pods alive at once.
			for _, p := range res.Pods {
				alive := 0
				for _, q := range res.Pods {
					if q.Created <= p.Created && q.Finished > p.Created {
						alive++
					}
				}
				if alive > 2 {
					t.Errorf("%d pods alive at %v, parallelism 2", alive, p.Created)
				}
			}
			// The job completes with its fifth success.
			eq(t, "Job.Finished", res.Jobs[0].Finished, finishes[4])
			eq(t, "Job.AllStarted", res.Jobs[0].AllStarted(), max(res.Pods[0].ContainersStarted, res.Pods[1].ContainersStarted))
		})
	}
}

// TestJobSimultaneousSuccesses: two pods succeed at the same instant; the
// controller's next sync wants two pods and creates them slow-start, 1 then
// 1 (kube: one sync with diff 2 → batches 1, min(2, 1)).
func TestJobSimultaneousSuccesses(t *testing.T) {
	// Both pods start at the same time: pod 1 waits for pod 0's pull of
	// the same image (created 0.25 and 0.5, both pulled at 3.4375).
	j := enginetest.IndexedJob("j", 2, 4, enginetest.Template("a", 10))
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, j))
	p0, p1 := res.Pods[0], res.Pods[1]
	// Pod 0: 0.25 + 0.125 + 0.0625 + 1 + 2 (pull) + 0.5 = 3.9375 start, 13.9375 end.
	// Pod 1: sandbox at 1.6875 while the image is in flight → waits for it: same start.
	eq(t, "pod 0 started", p0.ContainersStarted, 3.9375)
	eq(t, "pod 1 started", p1.ContainersStarted, 3.9375)
	eq(t, "pod 1 finished", p1.Finished, p0.Finished)
	eq(t, "pod 2 created", res.Pods[2].Created, p0.Finished+L)
	eq(t, "pod 3 created", res.Pods[3].Created, p0.Finished+2*L)
}

// seqDist returns its values in turn, cycling (a deterministic per-pod
// sequence for tests; it ignores the random stream).
type seqDist struct {
	vals []float64
	i    int
}

func (d *seqDist) Sample(*rand.Rand) float64 { v := d.vals[d.i%len(d.vals)]; d.i++; return v }
func (d *seqDist) Mean() float64             { return d.vals[0] }
func (d *seqDist) String() string            { return "seq" }

// TestParallelismAboveCompletions: parallelism 10, completions 3 → exactly 3 pods.
func TestParallelismAboveCompletions(t *testing.T) {
	res := runToEnd(t, enginetest.ExactConfig(oneNode()), &enginetest.FirstFit{}, at(0, enginetest.IndexedJob("j", 10, 3, enginetest.Template("a", 1))))
	if len(res.Pods) != 3 {
		t.Fatalf("%d pods, want 3", len(res.Pods))
	}
	// Batches 1, then min(2, 3−1) = 2.
	eq(t, "pod 0", res.Pods[0].Created, L)
	eq(t, "pod 1", res.Pods[1].Created, 2*L)
	eq(t, "pod 2", res.Pods[2].Created, 2*L)
}

// TestJobSlowStartAcrossSyncs follows kube's job controller: one sync
// creates at most MaxPodCreateDeletePerSync = 500 pods in slow-start
// batches 1, 2, 4, …, each batch min(2·previous, remaining of the 500),
// and the next sync starts again at 1 (job_controller.go manageJob:
// `for batchSize := min(diff, SlowStartInitialBatchSize); diff > 0;
// batchSize = min(2*batchSize, diff)` with diff capped at 500).
// A 1000-pod job is therefore created in batches
// 1 2 4 8 16 32 64 128 245 | 1 2 4 8 16 32 64 128 245.
func TestJobSlowStartAcrossSyncs(t *testing.T) {
	nodes := enginetest.Nodes(10, enginetest.BigNode)
	res := runToEnd(t, enginetest.ExactConfig(nodes), &enginetest.FirstFit{}, at(0, enginetest.IndexedJob("big", 1000, 1000, enginetest.Template("a", 1000))))
	// Unthrottled: batch k lands at k·L; group pods by creation time.
	var sizes []int
	last := -1.0
	for _, p := range res.Pods {
		if p.Created != last {
			sizes = append(sizes, 0)
			last = p.Created
		}
		sizes[len(sizes)-1]++
	}
	want := []int{1, 2, 4, 8, 16, 32, 64, 128, 245, 1, 2, 4, 8, 16, 32, 64, 128, 245}
	if !slices.Equal(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
}
