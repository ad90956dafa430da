package engine

import (
	"math"
	"testing"
)

func TestPodTemplateRequests(t *testing.T) {
	c := func(cpu, mem, gpu int64) Container { return Container{MilliCPU: cpu, Memory: mem, GPU: gpu} }
	tests := []struct {
		name string
		tmpl PodTemplate
		want Resources
	}{
		{
			name: "one container",
			tmpl: PodTemplate{Containers: []Container{c(500, GiB, 0)}},
			want: Resources{MilliCPU: 500, Memory: GiB, Pods: 1},
		},
		{
			name: "no requests",
			// The real request of a pod that requests nothing is 0
			// (the 100m/200Mi defaults are for scoring only).
			tmpl: PodTemplate{Containers: []Container{{}, {}}},
			want: Resources{Pods: 1},
		},
		{
			name: "sum of app containers",
			// 500+250 = 750m; 1Gi + 512Mi = 1.5Gi; 1+1 = 2 GPUs.
			tmpl: PodTemplate{Containers: []Container{c(500, GiB, 1), c(250, 512*MiB, 1)}},
			want: Resources{MilliCPU: 750, Memory: GiB + 512*MiB, GPU: 2, Pods: 1},
		},
		{
			name: "init container dominates per resource",
			// cpu max(750, max(1000, 200)) = 1000; memory max(1.5Gi, max(256Mi, 2Gi)) = 2Gi;
			// gpu max(2, max(0, 4)) = 4.
			tmpl: PodTemplate{
				Containers:     []Container{c(500, GiB, 1), c(250, 512*MiB, 1)},
				InitContainers: []Container{c(1000, 256*MiB, 0), c(200, 2*GiB, 4)},
			},
			want: Resources{MilliCPU: 1000, Memory: 2 * GiB, GPU: 4, Pods: 1},
		},
		{
			name: "init containers are not summed",
			// Two inits of 600m run one after the other: max 600, not 1200; app 500 → 600.
			tmpl: PodTemplate{
				Containers:     []Container{c(500, GiB, 0)},
				InitContainers: []Container{c(600, 0, 0), c(600, 0, 0)},
			},
			want: Resources{MilliCPU: 600, Memory: GiB, Pods: 1},
		},
		{
			name: "overhead is added, its pod count ignored",
			// max(500, 800) + 100 = 900m; max(1Gi, 0) + 64Mi; gpu 0+1; pods stays 1.
			tmpl: PodTemplate{
				Containers:     []Container{c(500, GiB, 0)},
				InitContainers: []Container{c(800, 0, 0)},
				Overhead:       Resources{MilliCPU: 100, Memory: 64 * MiB, GPU: 1, Pods: 5},
			},
			want: Resources{MilliCPU: 900, Memory: GiB + 64*MiB, GPU: 1, Pods: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tmpl.Requests(); got != tc.want {
				t.Errorf("Requests() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPodTemplateNonZeroRequests(t *testing.T) {
	c := func(cpu, mem, gpu int64) Container { return Container{MilliCPU: cpu, Memory: mem, GPU: gpu} }
	const dc, dm = DefaultMilliCPURequest, DefaultMemoryRequest // 100m, 200Mi
	tests := []struct {
		name string
		tmpl PodTemplate
		want Resources
	}{
		{
			name: "defaults for a container that requests nothing",
			tmpl: PodTemplate{Containers: []Container{{}}},
			want: Resources{MilliCPU: 100, Memory: 200 * MiB, Pods: 1},
		},
		{
			name: "defaults per container and per resource",
			// cpu: 500 + default 100 = 600; memory: default 200Mi + 1Gi.
			tmpl: PodTemplate{Containers: []Container{c(500, 0, 0), c(0, GiB, 0)}},
			want: Resources{MilliCPU: 500 + dc, Memory: dm + GiB, Pods: 1},
		},
		{
			name: "explicit requests are kept",
			tmpl: PodTemplate{Containers: []Container{c(50, 100*MiB, 1)}},
			want: Resources{MilliCPU: 50, Memory: 100 * MiB, GPU: 1, Pods: 1},
		},
		{
			name: "init containers get defaults too and take the max",
			// app: 50m, 100Mi; init with nothing counts 100m, 200Mi → max → 100m, 200Mi.
			tmpl: PodTemplate{Containers: []Container{c(50, 100*MiB, 0)}, InitContainers: []Container{{}}},
			want: Resources{MilliCPU: dc, Memory: dm, Pods: 1},
		},
		{
			name: "max(Σ app, max init) + overhead",
			// app: 300 + 100(default) = 400m, 1Gi + 200Mi; init max(2000m, 100m default) = 2000m,
			// memory max(200Mi default, 512Mi) = 512Mi → cpu 2000, mem 1Gi+200Mi; + overhead 10m, 1Mi.
			tmpl: PodTemplate{
				Containers:     []Container{c(300, GiB, 0), c(0, 0, 0)},
				InitContainers: []Container{c(2000, 0, 0), c(0, 512*MiB, 0)},
				Overhead:       Resources{MilliCPU: 10, Memory: MiB},
			},
			want: Resources{MilliCPU: 2000 + 10, Memory: GiB + dm + MiB, Pods: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tmpl.NonZeroRequests(); got != tc.want {
				t.Errorf("NonZeroRequests() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNonZeroRequestsGPUAgreesWithRequests: the scoring request differs from
// the real one only by the cpu/memory defaults; extended resources (GPU)
// follow the same max(Σ app, max init) + overhead rule
// (k8s.io/component-helpers resource.PodRequests with
// NonMissingContainerRequests, which only fills cpu and memory).
func TestNonZeroRequestsGPUAgreesWithRequests(t *testing.T) {
	tmpl := PodTemplate{
		Containers:     []Container{{MilliCPU: 100, Memory: MiB, GPU: 1}},
		InitContainers: []Container{{GPU: 4}},
		Overhead:       Resources{GPU: 1},
	}
	// Requests: max(1, 4) + 1 = 5 GPUs. NonZero must agree on GPUs.
	if r, nz := tmpl.Requests(), tmpl.NonZeroRequests(); nz.GPU != r.GPU {
		t.Errorf("NonZeroRequests().GPU = %d, Requests().GPU = %d; want equal (5)", nz.GPU, r.GPU)
	}
}

func TestResources(t *testing.T) {
	a := Resources{MilliCPU: 1000, Memory: 2 * GiB, GPU: 1, Pods: 3}
	b := Resources{MilliCPU: 250, Memory: GiB, GPU: 0, Pods: 1}
	if got, want := a.Add(b), (Resources{1250, 3 * GiB, 1, 4}); got != want {
		t.Errorf("Add = %v, want %v", got, want)
	}
	if got, want := a.Sub(b), (Resources{750, GiB, 1, 2}); got != want {
		t.Errorf("Sub = %v, want %v", got, want)
	}
	if !b.LessEqual(a) || a.LessEqual(b) {
		t.Error("LessEqual wrong")
	}
	// One component over is enough to not fit.
	if (Resources{MilliCPU: 1, GPU: 2}).LessEqual(a) {
		t.Error("GPU 2 ≤ 1")
	}
	if !(Resources{}).IsZero() || a.IsZero() {
		t.Error("IsZero wrong")
	}
	n := &Node{Allocatable: a, Requested: b}
	if got := n.Free(); got != a.Sub(b) {
		t.Errorf("Free = %v", got)
	}
}

func TestJobAllStarted(t *testing.T) {
	mk := func(starts ...float64) *Job {
		j := &Job{Parallelism: 3, Completions: 5}
		for _, s := range starts {
			j.Pods = append(j.Pods, &Pod{ContainersStarted: s, Created: 0})
		}
		return j
	}
	// k = min(3, 5) = 3: the third-earliest start.
	if got := mk(5, 1, Unset, 3, 9).AllStarted(); got != 5 {
		t.Errorf("AllStarted = %v, want 5 (3rd of 1,3,5,9)", got)
	}
	if got := mk(1, Unset, 2).AllStarted(); !math.IsNaN(got) {
		t.Errorf("AllStarted with 2 of 3 started = %v, want NaN", got)
	}
	if got := (&Job{}).FirstCreated(); IsSet(got) {
		t.Errorf("FirstCreated of a job without pods = %v, want NaN", got)
	}
}
