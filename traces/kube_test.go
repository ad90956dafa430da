package traces

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const kubeDir = "testdata/kube"

// ts is the Unix time of an RFC 3339 time, for expectations.
func ts(t *testing.T, s string) float64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return float64(tm.UnixNano()) / 1e9
}

func openKube(t *testing.T, format string, files ...string) *Trace {
	t.Helper()
	var paths []string
	for _, f := range files {
		if !strings.Contains(f, "/") {
			f = filepath.Join(kubeDir, f)
		}
		paths = append(paths, f)
	}
	tr, err := Open(paths, format)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func podOf(t *testing.T, tr *Trace, ns, name string) *Pod {
	t.Helper()
	for _, p := range tr.Pods {
		if p.Namespace == ns && p.Name == name {
			return p
		}
	}
	t.Fatalf("no pod %s/%s", ns, name)
	return nil
}

func noteCount(tr *Trace, key string) int {
	for _, n := range tr.Notes {
		if n.Key == key {
			return n.Count
		}
	}
	return 0
}

// sameTime compares times, NaN equal to NaN.
func sameTime(a, b float64) bool {
	if !Known(a) || !Known(b) {
		return Known(a) == Known(b)
	}
	return math.Abs(a-b) < 1e-6
}

func TestKubeDetect(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"pods-list.json", "kube-pods"},
		{"pods-array.json", "kube-pods"},
		{"pod-single.json", "kube-pods"},
		{"nodes-list.json", "kube-nodes"},
		{"nodes-array.json", "kube-nodes"},
		{"events-list.json", "kube-events"},
		{"events-exporter.jsonl", "kube-events"},
		{"watch-pods.jsonl", "kube-events"},
		{"watch-raw.json", "kube-events"},
		{"pod-times.csv", "pod-times"},
	} {
		in, err := OpenInput(filepath.Join(kubeDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Detect(in)
		in.Close()
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if f.Name != tc.want {
			t.Errorf("%s detected as %s, want %s", tc.file, f.Name, tc.want)
		}
	}
}

func TestKubePodsList(t *testing.T) {
	tr := openKube(t, "", "pods-list.json")
	if len(tr.Pods) != 6 {
		t.Fatalf("%d pods, want 6", len(tr.Pods))
	}
	nan := math.NaN()
	for _, tc := range []struct {
		name, job, role, node, sched, phase, reason string
		index                                       int
		cpu, mem, gpu                               int64
		created, scheduled, initialized, ready      float64
		started, finished                           float64
	}{
		{"lmp-0-abcde", "default/lmp", "", "n1", "default-scheduler", "Succeeded", "", 0, 0, 0, 0,
			ts(t, "2024-06-01T15:35:42Z"), ts(t, "2024-06-01T15:35:42Z"), ts(t, "2024-06-01T15:35:44Z"), nan,
			ts(t, "2024-06-01T15:37:29Z"), ts(t, "2024-06-01T15:39:31Z")},
		{"lmp-1-fghij", "default/lmp", "", "n2", "default-scheduler", "Succeeded", "", 1, 0, 0, 0,
			ts(t, "2024-06-01T15:35:43Z"), ts(t, "2024-06-01T15:35:42Z"), ts(t, "2024-06-01T15:35:44Z"), nan,
			ts(t, "2024-06-01T15:37:30Z"), ts(t, "2024-06-01T15:39:32Z")},
		{"mpi-launcher", "default/mpi", "launcher", "n1", "default-scheduler", "Running", "", -1, 500, 1 << 30, 0,
			ts(t, "2024-06-01T15:40:00Z"), ts(t, "2024-06-01T15:40:01Z"), ts(t, "2024-06-01T15:40:01Z"), ts(t, "2024-06-01T15:40:03Z"),
			ts(t, "2024-06-01T15:40:02.5Z"), nan},
		// The init container's 3 CPUs exceed the containers' 2.25; memory
		// 4Gi + 128974848 exceeds the init container's 1e3.
		{"mpi-worker-1", "default/mpi", "worker", "n2", "default-scheduler", "Running", "", 1, 3000, 4<<30 + 128974848, 1,
			ts(t, "2024-06-01T15:40:00Z"), ts(t, "2024-06-01T15:40:01Z"), nan, nan,
			ts(t, "2024-06-01T15:40:05Z"), nan},
		{"gang-a", "default/gang", "", "", "fluence", "Pending", "0/2 nodes are available: 2 Insufficient cpu.", -1, 0, 0, 0,
			ts(t, "2024-04-18T06:08:34Z"), nan, nan, nan, nan, nan},
		{"solo", "", "", "n2", "default-scheduler", "Weird", "", -1, 0, 0, 0,
			ts(t, "2024-06-01T16:00:00Z"), nan, nan, nan, nan, nan},
	} {
		p := podOf(t, tr, "default", tc.name)
		if p.Job != tc.job || p.Role != tc.role || p.Node != tc.node || p.Scheduler != tc.sched || p.Phase != tc.phase ||
			p.Reason != tc.reason || p.Index != tc.index || p.CPU != tc.cpu || p.Memory != tc.mem || p.GPU != tc.gpu {
			t.Errorf("%s: job %q role %q node %q scheduler %q phase %q reason %q index %d cpu %d mem %d gpu %d", tc.name,
				p.Job, p.Role, p.Node, p.Scheduler, p.Phase, p.Reason, p.Index, p.CPU, p.Memory, p.GPU)
		}
		for _, c := range []struct {
			what      string
			got, want float64
		}{{"created", p.Created, tc.created}, {"scheduled", p.Scheduled, tc.scheduled}, {"initialized", p.Initialized, tc.initialized},
			{"ready", p.Ready, tc.ready}, {"started", p.Started, tc.started}, {"finished", p.Finished, tc.finished}} {
			if !sameTime(c.got, c.want) {
				t.Errorf("%s: %s = %v, want %v", tc.name, c.what, c.got, c.want)
			}
		}
	}
	kinds := map[string]string{}
	sizes := map[string]int{}
	for _, j := range tr.Jobs {
		kinds[j.ID] = j.Kind
		sizes[j.ID] = len(j.Pods)
	}
	for id, want := range map[string]string{"default/lmp": "MiniCluster", "default/mpi": "MPIJob", "default/gang": "PodGroup"} {
		if kinds[id] != want || (id != "default/gang" && sizes[id] != 2) {
			t.Errorf("job %s: kind %q with %d pods", id, kinds[id], sizes[id])
		}
	}
	if len(tr.Jobs) != 3 {
		t.Errorf("%d jobs, want 3", len(tr.Jobs))
	}
	if j := tr.FindJob("default/lmp"); j.Params["uid"] != "job-uid-1" || !sameTime(j.End, ts(t, "2024-06-01T15:39:32Z")) {
		t.Errorf("lmp: uid %q end %v", j.Params["uid"], j.End)
	}
	if j := tr.FindJob("default/mpi"); j.Params["uid"] != "mpi-uid" || Known(j.End) {
		t.Errorf("mpi: uid %q end %v (its pods still run)", j.Params["uid"], j.End)
	}
	for key, want := range map[string]int{"kube-1s": 6, "kube-unfinished": 3, "kube-no-node": 1, "kube-unknown-phase": 1, "kube-cond-false": 2} {
		if got := noteCount(tr, key); got != want {
			t.Errorf("note %s: %d, want %d", key, got, want)
		}
	}
}

func TestKubePodsShapes(t *testing.T) {
	tr := openKube(t, "", "pods-array.json", "pod-single.json")
	if len(tr.Pods) != 3 {
		t.Fatalf("%d pods", len(tr.Pods))
	}
	for i, name := range []string{"batch-0-xx1yz", "batch-1-ab2cd"} {
		p := podOf(t, tr, "default", name)
		if p.Job != "default/batch" || p.Index != i {
			t.Errorf("%s: job %q index %d", name, p.Job, p.Index)
		}
	}
	if j := tr.FindJob("default/batch"); j == nil || j.Kind != "Job" || len(j.Pods) != 2 {
		t.Errorf("job batch: %+v", j)
	}
	lone := podOf(t, tr, "work", "lone")
	if lone.Phase != "Failed" || lone.Reason != "The node was low on resource: memory." || lone.Job != "" || lone.Node != "n3" {
		t.Errorf("lone: %+v", lone)
	}
}

func TestKubeNodes(t *testing.T) {
	tr := openKube(t, "", "nodes-list.json")
	if len(tr.Nodes) != 3 {
		t.Fatalf("%d nodes", len(tr.Nodes))
	}
	n1, n2, cp := tr.Nodes[0], tr.Nodes[1], tr.Nodes[2]
	if n1.Name != "n1" || n1.CPU != 16000 || n1.Memory != 64<<30 || n1.Pods != 110 || n1.GPU != 0 || !n1.Ready || n1.Unschedulable ||
		n1.Labels["topology.kubernetes.io/zone"] != "us-east-2a" || len(n1.Taints) != 0 {
		t.Errorf("n1: %+v", n1)
	}
	if n2.CPU != 15890 || n2.Memory != 65497280<<10 || n2.GPU != 4 || n2.Ready || !n2.Unschedulable ||
		strings.Join(n2.Taints, ",") != "nvidia.com/gpu=present:NoSchedule,node.kubernetes.io/unschedulable:NoSchedule" {
		t.Errorf("n2: %+v", n2)
	}
	if cp.CPU != 4000 || cp.Taints[0] != "node-role.kubernetes.io/control-plane:NoSchedule" {
		t.Errorf("cp: %+v", cp)
	}
	if noteCount(tr, "kube-node-capacity") != 1 || noteCount(tr, "kube-node-not-ready") != 1 {
		t.Errorf("notes: %+v", tr.Notes)
	}
	// The bare array: the same first two nodes.
	arr := openKube(t, "", "nodes-array.json")
	if len(arr.Nodes) != 2 || arr.Nodes[1].GPU != 4 || arr.Nodes[0].Memory != n1.Memory {
		t.Errorf("array: %+v", arr.Nodes)
	}
}

func TestKubeEventsExporter(t *testing.T) {
	tr := openKube(t, "", "events-exporter.jsonl")
	p0 := podOf(t, tr, "default", "osu-0-aaaaa")
	p1 := podOf(t, tr, "default", "osu-1-bbbbb")
	stuck := podOf(t, tr, "default", "stuck")
	if p0.Job != "default/osu" || p0.Index != 0 || p0.Node != "n1" || p0.Scheduler != "default-scheduler" || p0.UID != "uid-osu-0-aaaaa" {
		t.Errorf("osu-0: %+v", p0)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"created", p0.Created, ts(t, "2024-08-22T23:21:57Z")},
		{"scheduled", p0.Scheduled, ts(t, "2024-08-22T23:21:57Z")},
		{"pull start", p0.PullStart, ts(t, "2024-08-22T23:21:59Z")},
		{"pulled", p0.Pulled, ts(t, "2024-08-22T23:23:01Z")},
		{"pull", p0.Pull, (time.Minute + 2500*time.Millisecond).Seconds()},
		{"started", p0.Started, ts(t, "2024-08-22T23:23:02Z")},
		{"finished", p0.Finished, ts(t, "2024-08-22T23:29:28Z")},
		{"osu-1 pull", p1.Pull, 0},
		{"osu-1 started", p1.Started, ts(t, "2024-08-22T23:22:00Z")},
		{"osu-1 finished", p1.Finished, math.NaN()},
		{"osu-1 created", p1.Created, ts(t, "2024-08-22T23:21:58Z")},
	} {
		if !sameTime(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if p1.Node != "n2" || p1.Index != 1 {
		t.Errorf("osu-1: %+v", p1)
	}
	if stuck.Reason != "0/2 nodes are available: 2 Insufficient cpu." || stuck.Node != "" || stuck.Job != "" {
		t.Errorf("stuck: %+v", stuck)
	}
	j := tr.FindJob("default/osu")
	if j == nil || j.Kind != "MiniCluster" || len(j.Pods) != 2 || !sameTime(j.Submit, ts(t, "2024-08-22T23:21:57Z")) {
		t.Fatalf("job: %+v", j)
	}
	if len(tr.Pods) != 3 || len(tr.Jobs) != 1 {
		t.Errorf("%d pods %d jobs", len(tr.Pods), len(tr.Jobs))
	}
	// Three lines are not events: the exporter's two log lines and a
	// line of text.
	for key, want := range map[string]int{"kube-not-events": 3, "kube-events-other-objects": 1, "kube-series": 1, "kube-killing": 1} {
		if got := noteCount(tr, key); got != want {
			t.Errorf("note %s: %d, want %d", key, got, want)
		}
	}
}

func TestKubeEventsList(t *testing.T) {
	tr := openKube(t, "", "events-list.json")
	w0 := podOf(t, tr, "default", "w-0")
	if w0.Node != "n3" || !sameTime(w0.Scheduled, ts(t, "2024-06-01T10:00:00Z")) ||
		!sameTime(w0.Pull, 1.062578128) || !sameTime(w0.Pulled, ts(t, "2024-06-01T10:00:02Z")) ||
		!sameTime(w0.Started, ts(t, "2024-06-01T10:00:03.25Z")) {
		t.Errorf("w-0: %+v", w0)
	}
	w1 := podOf(t, tr, "default", "w-1")
	if w1.Reason != "0/3 nodes are available: 3 Insufficient memory." || w1.Scheduler != "default-scheduler" {
		t.Errorf("w-1: %+v", w1)
	}
	if noteCount(tr, "kube-series") != 1 {
		t.Errorf("notes: %v", tr.Notes)
	}
}

func TestKubeEventsWatch(t *testing.T) {
	lines := openKube(t, "", "watch-pods.jsonl")
	raw := openKube(t, "", "watch-raw.json")
	for _, tr := range []*Trace{lines, raw} {
		if len(tr.Pods) != 1 {
			t.Fatalf("%d pods", len(tr.Pods))
		}
		p := tr.Pods[0]
		if p.Job != "default/indexed-job" || p.Index != 3 || p.Node != "n1" || p.Phase != "Succeeded" || p.CPU != 100 ||
			!sameTime(p.Scheduled, ts(t, "2024-03-01T12:00:01Z")) || !sameTime(p.Ready, ts(t, "2024-03-01T12:00:03Z")) ||
			!sameTime(p.Started, ts(t, "2024-03-01T12:00:02Z")) || !sameTime(p.Finished, ts(t, "2024-03-01T12:00:09Z")) {
			t.Errorf("%s: %+v", tr.Files[0], p)
		}
		if noteCount(tr, "kube-unfinished") != 0 {
			t.Errorf("%s: a pod that ended noted as unfinished", tr.Files[0])
		}
	}
}

func TestKubePodTimes(t *testing.T) {
	tr := openKube(t, "", "pod-times.csv")
	if !tr.Relative || len(tr.Jobs) != 2 || len(tr.Pods) != 3 {
		t.Fatalf("relative %v, %d jobs, %d pods", tr.Relative, len(tr.Jobs), len(tr.Pods))
	}
	j := tr.FindJob("pods-2-0")
	if j.Kind != "Pods" || j.Params["watch_create"] != "2.5" || j.Params["watch_delete"] != "30" || len(j.Pods) != 2 || j.Submit != 0 {
		t.Errorf("job: %+v", j)
	}
	// Pods in index order, whatever the file's order.
	if a, b := tr.Pods[j.Pods[0]], tr.Pods[j.Pods[1]]; a.Name != "pod-0" || b.Name != "pod-1" || a.Index != 0 || b.Ready != 3 || b.Created != 0 {
		t.Errorf("pods: %+v %+v", a, b)
	}
	ij := tr.FindJob("indexed-job-1-0")
	if p := tr.Pods[ij.Pods[0]]; ij.Kind != "Job" || p.Index != 0 || p.Scheduled != 1 || p.Ready != 2 || Known(p.Initialized) {
		t.Errorf("indexed job: %+v %+v", ij, p)
	}
	if noteCount(tr, "pod-times-relative") != 3 {
		t.Errorf("notes: %v", tr.Notes)
	}
}

func TestKubeQuantity(t *testing.T) {
	for _, tc := range []struct {
		in    any
		scale int64
		want  int64
		err   string
	}{
		{"2", 1000, 2000, ""},
		{"500m", 1000, 500, ""},
		{"4Gi", 1, 4 << 30, ""},
		{"1e3", 1, 1000, ""},
		{"128974848", 1, 128974848, ""},
		{"129M", 1, 129e6, ""},
		{"1.5", 1000, 1500, ""},
		{"0.1m", 1000, 1, ""}, // rounded up, as MilliValue does
		{"100n", 1000, 1, ""},
		{".5Ki", 1, 512, ""},
		{"-1", 1000, 0, "negative"},
		{"1e400", 1, 0, "out of range"},
		{"NaN", 1, 0, "not a Kubernetes quantity"},
		{"Inf", 1, 0, "not a Kubernetes quantity"},
		{"2 cores", 1000, 0, "not a Kubernetes quantity"},
		{"99999999Ei", 1, 0, "more than"},
		{"1e30", 1000, 0, "more than"},
		{true, 1, 0, "not a quantity"},
	} {
		got, err := kubeQuantity(tc.in, tc.scale, kubeMaxBytes)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestKubePullDuration(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want float64
		ok   bool
	}{
		{`Successfully pulled image "x" in 1.062578128s (1.062603299s including waiting)`, 1.062578128, true},
		{`Successfully pulled image "x" in 1m2.5s (1m2.6s including waiting)`, 62.5, true},
		{`Successfully pulled image "x" in 850ms (850ms including waiting). Image size: 1234 bytes.`, 0.85, true},
		{`Successfully pulled image "x" in 12.5s`, 12.5, true},
		{`Successfully pulled image "x" in 3.2s. Image size: 1 bytes.`, 3.2, true},
		{`Container image "x" already present on machine`, 0, true},
		{`Successfully pulled image "x"`, 0, false},
		{`Successfully pulled image "x" in -5s`, 0, false},
		{`Successfully pulled image "x" in 9999999999h`, 0, false},
	} {
		got, ok := kubePullDuration(tc.msg)
		if ok != tc.ok || (ok && !sameTime(got, tc.want)) {
			t.Errorf("%s: %v %v, want %v %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKubeGroups(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name       string
		labels     map[string]string
		owners     []kubeOwner
		kind, job  string
		index      int
		role, pgrp string
	}{
		{"fluence-a", map[string]string{"fluence.pod-group": "g1"}, nil, "PodGroup", "g1", -1, "", ""},
		{"cosched-a", map[string]string{"pod-group.scheduling.sigs.k8s.io": "g2"}, nil, "PodGroup", "g2", -1, "", ""},
		{"lmp-worker-3", map[string]string{"mpi-job-name": "lmp", "mpi-job-role": "worker"}, nil, "MPIJob", "lmp", 3, "worker", ""},
		{"lmp-launcher", map[string]string{"mpi-job-name": "lmp", "mpi-job-role": "launcher"}, nil, "MPIJob", "lmp", -1, "launcher", ""},
		{"x-worker-2", map[string]string{"scheduling.x-k8s.io/pod-group": "x"}, []kubeOwner{{Kind: "MPIJob", Name: "x", UID: "u"}}, "MPIJob", "x", 2, "", ""},
		// A Fluence-scheduled Job: the Job is the unit, its group kept.
		{"j-0-abcde", map[string]string{"scheduling.x-k8s.io/pod-group": "j-group", "job-name": "j"}, []kubeOwner{{Kind: "Job", Name: "j", Controller: &yes}}, "Job", "j", -1, "", "j-group"},
		{"mc-4-abcde", map[string]string{"hpa-selector": "mc", "job-index": "4"}, []kubeOwner{{Kind: "Job", Name: "mc"}}, "MiniCluster", "mc", 4, "", ""},
		{"plain", map[string]string{"app": "web"}, []kubeOwner{{Kind: "ReplicaSet", Name: "web-1"}}, "", "", -1, "", ""},
	} {
		m := &kubeMeta{Name: tc.name, Namespace: "ns", Labels: tc.labels, OwnerReferences: tc.owners}
		g, ok := kubeGroupOf(m)
		if ok != (tc.kind != "") || g.Kind != tc.kind || (ok && g.Name != tc.job) || g.PodGroup != tc.pgrp {
			t.Errorf("%s: %+v %v", tc.name, g, ok)
		}
		if idx, err := kubePodIndex(m, g, ok); err != nil || idx != tc.index {
			t.Errorf("%s: index %d %v, want %d", tc.name, idx, err, tc.index)
		}
		if r := kubePodRole(tc.labels); r != tc.role {
			t.Errorf("%s: role %q", tc.name, r)
		}
	}
}

// comparePods checks the records of two traces field by field; round
// rounds the times of the first as the writer does.
func comparePods(t *testing.T, a, b *Trace, round func(float64) float64, pullFields bool) {
	t.Helper()
	if len(a.Pods) != len(b.Pods) {
		t.Fatalf("%d pods, read back %d", len(a.Pods), len(b.Pods))
	}
	for i, p := range a.Pods {
		q := podOf(t, b, p.Namespace, p.Name)
		_ = i
		if p.UID != q.UID || p.Job != q.Job || p.Index != q.Index || p.Role != q.Role || p.Node != q.Node ||
			p.Scheduler != q.Scheduler || p.Reason != q.Reason || p.CPU != q.CPU || p.Memory != q.Memory || p.GPU != q.GPU {
			t.Errorf("%s/%s:\n %+v\nread back\n %+v", p.Namespace, p.Name, p, q)
			continue
		}
		times := []struct {
			what string
			a, b float64
		}{{"created", p.Created, q.Created}, {"scheduled", p.Scheduled, q.Scheduled}, {"started", p.Started, q.Started}, {"finished", p.Finished, q.Finished}}
		if pullFields {
			// Events record the creation of the pods of a controller
			// only.
			if j := a.FindJob(p.Job); j == nil || (j.Kind != "Job" && j.Kind != "MiniCluster" && j.Kind != "MPIJob") {
				times[0].a = NaN
			}
			times = append(times, []struct {
				what string
				a, b float64
			}{{"pull start", p.PullStart, q.PullStart}, {"pulled", p.Pulled, q.Pulled}, {"pull", p.Pull, q.Pull}}...)
		} else {
			if p.Phase != q.Phase {
				t.Errorf("%s: phase %q, read back %q", p.Name, p.Phase, q.Phase)
			}
			times = append(times, []struct {
				what string
				a, b float64
			}{{"initialized", p.Initialized, q.Initialized}, {"sandbox", p.SandboxReady, q.SandboxReady},
				{"containers ready", p.ContainersReady, q.ContainersReady}, {"ready", p.Ready, q.Ready}}...)
		}
		for _, c := range times {
			want := c.a
			if Known(want) && c.what != "pull" {
				want = round(want)
			}
			if !sameTime(want, c.b) {
				t.Errorf("%s: %s %v, read back %v (written as %v)", p.Name, c.what, c.a, c.b, want)
			}
		}
	}
	for _, j := range a.Jobs {
		k := b.FindJob(j.ID)
		if k == nil || k.Kind != j.Kind || len(k.Pods) != len(j.Pods) {
			t.Errorf("job %s (%s, %d pods) read back as %+v", j.ID, j.Kind, len(j.Pods), k)
		}
	}
}

func roundTrip(t *testing.T, tr *Trace, format string) *Trace {
	t.Helper()
	f, err := LookupFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out"+f.Ext)
	var buf bytes.Buffer
	if err := f.Write(&buf, tr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Open([]string{out}, "") // detected: the writer's output is recognised
	if err != nil {
		t.Fatal(err)
	}
	if back.Formats[0] != format {
		t.Fatalf("written %s read back as %s", format, back.Formats[0])
	}
	return back
}

const lammpsPods = "../../shared/data/flux-usernetes-aws/lammps-pods-pull-32.json"
const osuEvents = "../../shared/data/formats/k8s-events-osu-128.jsonl"
const podTimesCSV = "../../shared/data/pod-startup/pod-times.csv"

func TestKubePodsRoundTrip(t *testing.T) {
	files := []string{"pods-list.json", "pods-array.json", "pod-single.json"}
	if _, err := os.Stat(lammpsPods); err == nil {
		files = append(files, lammpsPods)
	}
	tr := openKube(t, "kube-pods", files...)
	back := roundTrip(t, tr, "kube-pods")
	// The API writes whole seconds (metav1.Time): fractions are
	// truncated, so the comparison truncates the times read first.
	comparePods(t, tr, back, math.Floor, false)
}

func TestKubeEventsRoundTrip(t *testing.T) {
	files := []string{"events-exporter.jsonl", "events-list.json"}
	if _, err := os.Stat(osuEvents); err == nil {
		files = append(files, osuEvents)
	}
	tr := openKube(t, "kube-events", files...)
	// A pod known from FailedScheduling events alone keeps no time: the
	// writer cannot place it in the stream.
	var kept []*Pod
	for _, p := range tr.Pods {
		if Known(p.Created) || Known(p.Scheduled) || Known(p.PullStart) || Known(p.Pulled) || Known(p.Started) || Known(p.Finished) {
			kept = append(kept, p)
		}
	}
	if len(kept) == len(tr.Pods) {
		t.Fatal("the fixture should hold a pod of no time (stuck)")
	}
	back := roundTrip(t, tr, "kube-events")
	tr.Pods = kept
	tr.podIndex = nil
	tr.Link("Job")
	// eventTime carries microseconds.
	comparePods(t, tr, back, func(v float64) float64 { return math.Round(v*1e6) / 1e6 }, true)
}

func TestKubeNodesRoundTrip(t *testing.T) {
	tr := openKube(t, "", "nodes-list.json")
	back := roundTrip(t, tr, "kube-nodes")
	if len(back.Nodes) != len(tr.Nodes) {
		t.Fatalf("%d nodes back", len(back.Nodes))
	}
	for i, n := range tr.Nodes {
		m := back.Nodes[i]
		if n.Name != m.Name || n.CPU != m.CPU || n.Memory != m.Memory || n.GPU != m.GPU || n.Pods != m.Pods ||
			n.Unschedulable != m.Unschedulable || n.Ready != m.Ready || strings.Join(n.Taints, ",") != strings.Join(m.Taints, ",") ||
			len(n.Labels) != len(m.Labels) {
			t.Errorf("%+v read back as %+v", n, m)
		}
	}
}

// A relative trace is written from its Start (else 1970).
func TestKubeWriteRelative(t *testing.T) {
	tr := openKube(t, "", "pod-times.csv")
	back := roundTrip(t, tr, "kube-pods")
	if p := podOf(t, back, "pods-2-0", "pod-1"); p.Created != 0 || p.Ready != 3 || p.Index != 1 {
		t.Errorf("pod-1: %+v", p)
	}
	tr.Start = ts(t, "2024-01-01T00:00:00Z")
	back = roundTrip(t, tr, "kube-pods")
	if p := podOf(t, back, "pods-2-0", "pod-1"); p.Created != tr.Start || p.Ready != tr.Start+3 {
		t.Errorf("pod-1 from Start: %+v", p)
	}
}

// --- the real samples ---

func TestKubeRealLammpsPods(t *testing.T) {
	if _, err := os.Stat(lammpsPods); err != nil {
		t.Skipf("real sample absent (%v): the test reads ../shared/data when it is there", err)
	}
	// Expectations from the file itself, decoded on its own.
	var raw struct {
		Items []struct {
			Metadata struct {
				Name, CreationTimestamp string
			}
			Spec struct {
				NodeName string
			}
			Status struct {
				ContainerStatuses []struct {
					State struct {
						Terminated *struct{ StartedAt string }
						Running    *struct{ StartedAt string }
					}
				}
			}
		}
	}
	data, err := os.ReadFile(lammpsPods)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, it := range raw.Items {
		nodes[it.Spec.NodeName] = true
	}
	tr := openKube(t, "", lammpsPods)
	if tr.Formats[0] != "kube-pods" {
		t.Fatalf("detected as %s", tr.Formats[0])
	}
	if len(tr.Pods) != len(raw.Items) || len(raw.Items) == 0 {
		t.Fatalf("%d pods, the file lists %d", len(tr.Pods), len(raw.Items))
	}
	if len(tr.Jobs) != 1 {
		t.Fatalf("%d jobs, want the one MiniCluster", len(tr.Jobs))
	}
	j := tr.Jobs[0]
	if j.Kind != "MiniCluster" || len(j.Pods) != len(raw.Items) || len(j.NodeList) != len(nodes) {
		t.Errorf("job %s: kind %s, %d pods, %d nodes (the file: %d nodes)", j.ID, j.Kind, len(j.Pods), len(j.NodeList), len(nodes))
	}
	indices := map[int]bool{}
	for i, it := range raw.Items {
		p := podOf(t, tr, "default", it.Metadata.Name)
		indices[p.Index] = true
		if p.Node == "" || p.Node != it.Spec.NodeName || !Known(p.Started) || p.Job != j.ID {
			t.Errorf("%s: node %q started %v job %q", p.Name, p.Node, p.Started, p.Job)
		}
		st := it.Status.ContainerStatuses[0].State
		start := ""
		if st.Terminated != nil {
			start = st.Terminated.StartedAt
		} else if st.Running != nil {
			start = st.Running.StartedAt
		}
		want := ts(t, start) - ts(t, it.Metadata.CreationTimestamp)
		if got := p.Started - p.Created; got <= 0 || !sameTime(got, want) {
			t.Errorf("item %d %s: start-up %v s, the file says %v s", i, p.Name, got, want)
		}
	}
	if len(indices) != len(raw.Items) || indices[-1] {
		t.Errorf("indices not distinct: %v", indices)
	}
	if noteCount(tr, "kube-1s") != len(raw.Items) {
		t.Errorf("one-second note on %d pods", noteCount(tr, "kube-1s"))
	}
}

func TestKubeRealOSUEvents(t *testing.T) {
	data, err := os.ReadFile(osuEvents)
	if err != nil {
		t.Skipf("real sample absent (%v): the test reads ../shared/data when it is there", err)
	}
	// Expectations from the file: which lines are events, which pods
	// they name, which pods have a Scheduled event, which Job uids.
	notEvents := 0
	pods, scheduled, jobUIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
		var e struct {
			Reason, Message string
			InvolvedObject  *struct{ Kind, Name, UID string }
		}
		if json.Unmarshal(l, &e) != nil || e.InvolvedObject == nil {
			notEvents++
			continue
		}
		switch e.InvolvedObject.Kind {
		case "Pod":
			pods[e.InvolvedObject.Name] = true
			if e.Reason == "Scheduled" {
				scheduled[e.InvolvedObject.Name] = true
			}
		case "Job":
			jobUIDs[e.InvolvedObject.UID] = true
		}
		if name, ok := strings.CutPrefix(e.Message, "Created pod: "); ok && e.Reason == "SuccessfulCreate" {
			pods[name] = true
		}
		if name, ok := strings.CutPrefix(e.Message, "(combined from similar events): Created pod: "); ok {
			pods[name] = true
		}
	}
	var first struct{ Level string }
	if json.Unmarshal(data[:bytes.IndexByte(data, '\n')], &first) != nil || first.Level == "" {
		t.Fatal("the sample's first line should be the exporter's log line")
	}
	tr := openKube(t, "", osuEvents)
	if tr.Formats[0] != "kube-events" {
		t.Fatalf("detected as %s", tr.Formats[0])
	}
	if got := noteCount(tr, "kube-not-events"); got != notEvents {
		t.Errorf("%d lines skipped, the file has %d that are not events", got, notEvents)
	}
	if len(tr.Pods) != len(pods) {
		t.Errorf("%d pods, the file names %d", len(tr.Pods), len(pods))
	}
	for _, p := range tr.Pods {
		if scheduled[p.Name] != (p.Node != "") {
			t.Errorf("%s: node %q, scheduled event %v", p.Name, p.Node, scheduled[p.Name])
		}
		if Known(p.Pull) && p.Pull < 0 {
			t.Errorf("%s: pull %v", p.Name, p.Pull)
		}
	}
	// The MiniCluster was created twice (two Job uids): two jobs.
	mc := 0
	for _, j := range tr.Jobs {
		if j.Kind == "MiniCluster" {
			mc++
			if !Known(j.Submit) || len(j.Pods) == 0 {
				t.Errorf("job %s: submit %v, %d pods", j.ID, j.Submit, len(j.Pods))
			}
		}
	}
	if mc != len(jobUIDs) || mc < 2 || tr.FindJob("default/flux-sample#2") == nil {
		t.Errorf("%d MiniCluster jobs, the file has %d Job uids", mc, len(jobUIDs))
	}
}

func TestKubeRealPodTimes(t *testing.T) {
	runs, err := ReadPodTimesFile(podTimesCSV)
	if err != nil {
		t.Skipf("real sample absent or unreadable (%v)", err)
	}
	tr := openKube(t, "", podTimesCSV)
	if tr.Formats[0] != "pod-times" || !tr.Relative {
		t.Fatalf("read as %s, relative %v", tr.Formats[0], tr.Relative)
	}
	pods := 0
	for _, r := range runs {
		pods += len(r.Pods)
	}
	if len(tr.Jobs) != len(runs) || len(tr.Pods) != pods {
		t.Fatalf("%d jobs %d pods; the file has %d runs %d pods", len(tr.Jobs), len(tr.Pods), len(runs), pods)
	}
	byKey := map[string]*Pod{}
	for _, p := range tr.Pods {
		byKey[p.Namespace+"/"+p.Name] = p
	}
	for _, r := range runs {
		ns := r.Experiment + "-" + strconv.Itoa(r.Size) + "-" + r.Iteration
		for name, c := range r.Pods {
			q := byKey[ns+"/"+name]
			if q == nil || q.Job != ns || q.Created != 0 || !sameTime(q.Ready, c.Ready) || !sameTime(q.Scheduled, c.PodScheduled) ||
				!sameTime(q.Initialized, c.Initialized) || !sameTime(q.ContainersReady, c.ContainersReady) {
				t.Fatalf("run %s pod %s: %+v", ns, name, q)
			}
		}
	}
}

// A watch stream that stops while the pod runs leaves it unfinished.
func TestKubeWatchUnfinished(t *testing.T) {
	lines := bytes.SplitAfter(kubeFixture(t, "watch-pods.jsonl"), []byte{'\n'})
	path := filepath.Join(t.TempDir(), "w.jsonl")
	if err := os.WriteFile(path, bytes.Join(lines[:3], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := openKube(t, "", path)
	p := tr.Pods[0]
	if p.Phase != "Running" || Known(p.Finished) || !Known(p.Started) {
		t.Fatalf("pod: %+v", p)
	}
	if noteCount(tr, "kube-unfinished") != 1 || noteCount(tr, "kube-1s") != 1 {
		t.Errorf("notes: %+v", tr.Notes)
	}
}

// A workload created again under the same name (another uid) is another
// job: namespace/name#2; a pod of no uid joins the latest.
func TestKubeSameNameJobs(t *testing.T) {
	pod := func(name, uid string) string {
		return `{"kind":"Pod","metadata":{"name":"` + name + `","namespace":"d","creationTimestamp":"2024-01-01T00:00:00Z",
			"labels":{"hpa-selector":"mc"},"ownerReferences":[{"kind":"Job","name":"mc","uid":"` + uid + `"}]},"spec":{},"status":{"phase":"Succeeded"}}`
	}
	doc := `[` + pod("mc-0-aaaaa", "u1") + `,` + pod("mc-1-bbbbb", "u1") + `,` + pod("mc-0-ccccc", "u2") + `,` + pod("mc-0-ddddd", "u1") + `,` +
		`{"kind":"Pod","metadata":{"name":"mc-2-eeeee","namespace":"d","labels":{"job-name":"mc"}},"spec":{},"status":{}}]`
	path := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := openKube(t, "kube-pods", path)
	want := map[string]string{"mc-0-aaaaa": "d/mc", "mc-1-bbbbb": "d/mc", "mc-0-ccccc": "d/mc#2", "mc-0-ddddd": "d/mc", "mc-2-eeeee": "d/mc"}
	for name, job := range want {
		if p := podOf(t, tr, "d", name); p.Job != job {
			t.Errorf("%s: job %q, want %q", name, p.Job, job)
		}
	}
	if j := tr.FindJob("d/mc#2"); j == nil || j.Kind != "MiniCluster" || j.Params["uid"] != "u2" {
		t.Errorf("second instance: %+v", j)
	}
	if noteCount(tr, "kube-same-name") != 1 {
		t.Errorf("notes: %+v", tr.Notes)
	}
}

// BenchmarkKubePodsRead reads a List of 20,000 pods (generated, about
// 60 MB): the reader decodes one item at a time, so what it allocates
// beyond the records kept does not grow with the file.
func BenchmarkKubePodsRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "pods.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	item := kubeFixture(b, "pods-list.json")
	// The first pod of the fixture, renamed per copy.
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(item, &list); err != nil {
		b.Fatal(err)
	}
	one := string(list.Items[0])
	f.WriteString(`{"apiVersion":"v1","items":[`)
	const n = 20000
	for i := 0; i < n; i++ {
		if i > 0 {
			f.WriteString(",\n")
		}
		f.WriteString(strings.ReplaceAll(one, "lmp-0-abcde", "lmp-"+strconv.Itoa(i)+"-abcde"))
	}
	f.WriteString(`],"kind":"List","metadata":{"resourceVersion":""}}`)
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr, err := Open([]string{path}, "kube-pods")
		if err != nil || len(tr.Pods) != n {
			b.Fatal(err)
		}
	}
}
