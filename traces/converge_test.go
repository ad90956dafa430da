package traces

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/engine"
)

const convergeDir = "testdata/converge"

// The fixtures: mixed.jsonl, written by hand with every event kind
// converge writes (engine.RecKind), and small-cluster-gangs.jsonl, the
// events.jsonl of `sim run scenarios/small-cluster-gangs.yaml` (a run
// that stalls with gang pods pending).

func readConverge(t testing.TB, path string) *Trace {
	t.Helper()
	tr, err := Open([]string{path}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Formats[0] != "converge-events" || !tr.Relative {
		t.Fatalf("%s: format %v relative %v", path, tr.Formats, tr.Relative)
	}
	return tr
}

func TestConvergeMixed(t *testing.T) {
	tr := readConverge(t, filepath.Join(convergeDir, "mixed.jsonl"))
	pod := func(name string) *Pod {
		p, added := tr.Pod(convergeNamespace, name)
		if added {
			t.Fatalf("no pod %s", name)
		}
		return p
	}
	w0 := pod("mpi-worker-0")
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"created", w0.Created, 0.0}, {"scheduled", w0.Scheduled, 3.01}, {"node", w0.Node, "n-2"}, {"sandbox", w0.SandboxReady, 3.5},
		{"pull start", w0.PullStart, 3.5}, {"pulled", w0.Pulled, 14.0}, {"initialized", w0.Initialized, 14.2},
		{"started", w0.Started, 14.5}, {"ready", w0.Ready, 14.5}, {"finished", w0.Finished, 61.0}, {"phase", w0.Phase, "Succeeded"},
		{"job", w0.Job, "mpi"}, {"events", len(w0.Events), 13},
	} {
		if c.got != c.want {
			t.Errorf("worker 0 %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if e := w0.Events[3]; e.Name != "Unreserved" || e.T != 2 || e.Context["msg"] != "rejected" || e.Context["node"] != "n-1" {
		t.Errorf("worker 0 event 3 %+v", e)
	}
	w1 := pod("mpi-worker-1")
	if w1.Phase != "Pending" || w1.Node != "n-2" || Known(w1.Started) || !strings.HasPrefix(w1.Reason, "Back-off") {
		t.Errorf("worker 1 %+v", w1)
	}
	if e := w1.Events[3]; e.Name != "FailedScheduling" || e.Context["series.count"] != 4 || e.Context["series.lastObservedTime"] != 2.5 {
		t.Errorf("worker 1 series %+v", e)
	}
	if l := pod("mpi-launcher"); l.Phase != "Failed" || l.Finished != 61 || l.Node != "cp-0" {
		t.Errorf("launcher %+v", l)
	}
	job := func(id string) *Job {
		j := tr.FindJob(id)
		if j == nil {
			t.Fatalf("no job %s", id)
		}
		return j
	}
	a := job("flux-a")
	if a.Kind != "FluxJob" || a.Submit != 0 || a.Alloc != 0.001 || a.Start != 0.055158 || a.End != 60 || a.Status != "timeout" || len(a.Events) != 11 {
		t.Errorf("flux-a %+v", a)
	}
	if b := job("flux-b"); b.Kind != "FluxJob" || b.Submit != 1 || b.Alloc != 30.5 || Known(b.Start) || b.Status != "pending" || b.Events[0].Context["node"] != "n-2" {
		t.Errorf("flux-b %+v", b)
	}
	m := job("mpi")
	if m.Kind != "Job" || m.Submit != 0 || Known(m.End) || m.Status != "running" || len(m.Events) != 2 || len(m.Pods) != 3 || m.Start != 14.5 {
		t.Errorf("mpi %+v", m)
	}
	if l := job("late"); l.Status != "failed" || len(l.Events) != 2 {
		t.Errorf("late %+v", l)
	}
	if len(tr.Events) != 1 || tr.Events[0].Name != "Stalled" || tr.Events[0].T != 900 {
		t.Errorf("trace events %+v", tr.Events)
	}
	for _, k := range []string{"converge-stalled", "converge-pending", "converge-kind"} {
		if !slices.ContainsFunc(tr.Notes, func(n *Note) bool { return n.Key == k }) {
			t.Errorf("no note %s: %v", k, tr.Notes)
		}
	}
}

// TestConvergeSimRun checks the reading of a real run against counts
// made from its lines independently.
func TestConvergeSimRun(t *testing.T) {
	path := filepath.Join(convergeDir, "small-cluster-gangs.jsonl")
	tr := readConverge(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, created, started, jobs := 0, map[string]bool{}, map[string]bool{}, map[string]bool{}
	attempts := map[string]int{} // FailedScheduling attempts per pod
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines++
		pod, _ := l["pod"].(string)
		switch l["event"] {
		case "PodCreated":
			created[pod] = true
		case "Started":
			started[pod] = true
		case "JobSubmitted":
			jobs[l["job"].(string)] = true
		case "FailedScheduling":
			if s, ok := l["series"].(map[string]any); ok {
				attempts[pod] += int(s["count"].(float64)) - 1
			} else {
				attempts[pod]++
			}
		}
	}
	events := len(tr.Events)
	for _, j := range tr.Jobs {
		events += len(j.Events)
	}
	pending := 0
	for _, p := range tr.Pods {
		events += len(p.Events)
		if p.Phase == "Pending" {
			pending++
		}
		n := 0
		for _, e := range p.Events {
			if e.Name == "FailedScheduling" {
				if c, ok := e.Context["series.count"].(int); ok {
					n += c - 1
				} else {
					n++
				}
			}
		}
		if n != attempts[p.Name] {
			t.Errorf("%s: %d failed attempts, the lines say %d", p.Name, n, attempts[p.Name])
		}
	}
	if events != lines || len(tr.Pods) != len(created) || len(tr.Jobs) != len(jobs) || pending != len(created)-len(started) {
		t.Errorf("%d events of %d lines, %d pods of %d, %d jobs of %d, %d pending of %d", events, lines, len(tr.Pods), len(created),
			len(tr.Jobs), len(jobs), pending, len(created)-len(started))
	}
	if len(tr.Events) != 1 || tr.Events[0].Name != "Stalled" {
		t.Errorf("no Stalled: %+v", tr.Events)
	}
}

// sameTrace compares the records of two traces field by field.
func sameTrace(t *testing.T, what string, a, b *Trace) {
	t.Helper()
	if len(a.Jobs) != len(b.Jobs) || len(a.Pods) != len(b.Pods) {
		t.Fatalf("%s: %d/%d jobs, %d/%d pods", what, len(a.Jobs), len(b.Jobs), len(a.Pods), len(b.Pods))
	}
	eq := func(x, y any) bool { return reflect.DeepEqual(x, y) }
	sameF := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	for _, x := range a.Jobs {
		y := b.FindJob(x.ID)
		if y == nil {
			t.Errorf("%s: job %s lost", what, x.ID)
			continue
		}
		if x.Kind != y.Kind || x.Status != y.Status || !sameF(x.Submit, y.Submit) || !sameF(x.Alloc, y.Alloc) ||
			!sameF(x.Start, y.Start) || !sameF(x.End, y.End) || !eq(x.Events, y.Events) || !eq(x.NodeList, y.NodeList) || len(x.Pods) != len(y.Pods) {
			t.Errorf("%s: job\n%+v\n%+v", what, x, y)
		}
	}
	for _, x := range a.Pods {
		y, added := b.Pod(x.Namespace, x.Name)
		if added {
			t.Errorf("%s: pod %s lost", what, x.Name)
			continue
		}
		xs := []float64{x.Created, x.Scheduled, x.Initialized, x.SandboxReady, x.Started, x.Ready, x.Finished, x.PullStart, x.Pulled}
		ys := []float64{y.Created, y.Scheduled, y.Initialized, y.SandboxReady, y.Started, y.Ready, y.Finished, y.PullStart, y.Pulled}
		for i := range xs {
			if !sameF(xs[i], ys[i]) {
				t.Errorf("%s: pod %s time %d: %v, %v", what, x.Name, i, xs[i], ys[i])
			}
		}
		if x.Node != y.Node || x.Job != y.Job || x.Phase != y.Phase || x.Reason != y.Reason || !eq(x.Events, y.Events) {
			t.Errorf("%s: pod\n%+v\n%+v", what, x, y)
		}
	}
	if !eq(a.Events, b.Events) {
		t.Errorf("%s: trace events %v, %v", what, a.Events, b.Events)
	}
}

func TestConvergeRoundTrip(t *testing.T) {
	f, _ := LookupFormat("converge-events")
	for _, name := range []string{"mixed.jsonl", "small-cluster-gangs.jsonl"} {
		a := readConverge(t, filepath.Join(convergeDir, name))
		p := filepath.Join(t.TempDir(), name)
		var buf bytes.Buffer
		if err := f.Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, buf.Bytes(), 0o644)
		sameTrace(t, name, a, readConverge(t, p))
	}
	// A trace of times only (as another format gives): its events are
	// made from its times, and read back to the same times.
	src := &Trace{Relative: true, Start: NaN}
	j, _ := src.Job("j")
	j.Kind, j.Submit, j.End, j.Status = "Job", 1, 50, "completed"
	fj, _ := src.Job("f")
	fj.Kind, fj.Submit, fj.Alloc, fj.Start, fj.End, fj.Status = "FluxJob", 2, 3, 4, 40, "completed"
	for i, n := range []string{"j-0", "j-1"} {
		p, _ := src.Pod(convergeNamespace, n)
		p.Job, p.Node, p.Phase = "j", "n-1", "Succeeded"
		p.Created, p.Scheduled, p.SandboxReady, p.PullStart, p.Pulled = 1, 1.5, 2, 2, 9
		p.Initialized, p.Started, p.Ready, p.Finished = 9.5, 10+float64(i), 10+float64(i), 50
		p.ContainersReady = p.Ready
	}
	src.Link("Job")
	var buf bytes.Buffer
	if err := f.Write(&buf, src); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "times.jsonl")
	os.WriteFile(p, buf.Bytes(), 0o644)
	back := readConverge(t, p)
	// The events are new: compare everything else.
	for _, x := range back.Jobs {
		x.Events = nil
	}
	for _, x := range back.Pods {
		x.Events = nil
	}
	sameTrace(t, "times", src, back)
}

func TestConvergeDetect(t *testing.T) {
	for _, c := range []struct {
		head string
		want bool
	}{
		{`{"t":0,"event":"JobSubmitted","job":"a"}` + "\n", true},
		{`{"t":0.5,"event":"submit"}`, true},
		{`{"timestamp":1552593348.088391,"name":"alloc","context":{}}`, false},
		{`{"event":"x","t":0}`, false},
		{`{"kind":"Event","reason":"Scheduled"}`, false},
		{"t,event\n0,x\n", false},
	} {
		h := []byte(c.head)
		if got := detectConvergeEvents(h, JSONKeys(h)); got != c.want {
			t.Errorf("%s: %v, want %v", c.head, got, c.want)
		}
	}
}

func TestConvergeHostile(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(filepath.Join(convergeDir, "small-cluster-gangs.jsonl"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	ok := `{"t":0,"event":"JobSubmitted","job":"a"}` + "\n"
	for _, c := range []struct {
		name, data string
		want       []string
	}{
		{"20 MB line", ok + `{"t":1,"event":"PodCreated","pod":"` + strings.Repeat("p", 20<<20) + `"}` + "\n", []string{":2:", "longer than"}},
		{"huge number", ok + `{"t":1e999,"event":"PodCreated","pod":"p"}`, []string{":2:", "t"}},
		{"negative time", ok + `{"t":-1,"event":"PodCreated","pod":"p"}`, []string{":2:", "t:", "not a time"}},
		{"time of text", ok + `{"t":"soon","event":"PodCreated","pod":"p"}`, []string{":2:", "t:", "string"}},
		{"no event", ok + `{"t":1,"pod":"p"}`, []string{":2:", "event: missing"}},
		{"unknown field", ok + `{"t":1,"event":"PodCreated","pods":"p"}`, []string{":2:", "pods:"}},
		{"deep nesting", ok + `{"t":1,"event":"x","series":` + strings.Repeat("[", 20000) + "\n", []string{":2:"}},
		{"bad series", ok + `{"t":1,"event":"FailedScheduling","pod":"p","series":{"count":-4,"lastObservedTime":0}}`, []string{":2:", "series"}},
		{"truncated line", ok + `{"t":1,"event":"PodCre`, []string{":2:"}},
		{"binary", ok + "{\"t\":1,\x00}", []string{":2:", "binary"}},
		{"truncated gzip", gz.String()[:gz.Len()/2], []string{"truncated"}},
		{"negative tasks", `{"t":0,"event":"submit","job":"f","msg":"nodes=0 tasks=-5 cores-per-task=1"}`, []string{":1:", "msg:", "tasks="}},
		{"huge tasks", `{"t":0,"event":"submit","job":"f","msg":"tasks=100000000000000000000"}`, []string{":1:", "msg:", "not a count"}},
		{"walltime of text", `{"t":0,"event":"submit","job":"f","msg":"tasks=4 walltime=soon"}`, []string{":1:", "msg:", "walltime="}},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".jsonl")
		os.WriteFile(p, []byte(c.data), 0o644)
		_, err := Open([]string{p}, "converge-events")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range append(c.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %.300v, want it to say %q", c.name, err, w)
			}
		}
	}
}

// A Flux job's submit event says what it asked for (the engine writes
// FluxSpec.RequestText there): read back, the job has that request; keys
// the reader does not know are passed over.
func TestConvergeFluxRequest(t *testing.T) {
	want := engine.FluxSpec{Nodes: 2, Slots: 32, CoresPerSlot: 4, GPUsPerSlot: 1, Walltime: 5400.5, Exclusive: true}
	p := filepath.Join(t.TempDir(), "events.jsonl")
	data := `{"t":0,"event":"submit","job":"f","msg":"` + want.RequestText() + ` future=1"}` + "\n" +
		`{"t":0,"event":"alloc","job":"f"}` + "\n" + `{"t":0.5,"event":"start","job":"f"}` + "\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := readConverge(t, p)
	j := tr.Jobs[0]
	if j.Kind != "FluxJob" || j.Nodes != 2 || j.Tasks != 32 || j.CoresPerTask != 4 || j.GPUsPerTask != 1 || j.Walltime != 5400.5 || !j.Exclusive {
		t.Errorf("job read back: %s of %d nodes, %d tasks of %d cores and %d gpus, walltime %v, exclusive %v; want %+v",
			j.Kind, j.Nodes, j.Tasks, j.CoresPerTask, j.GPUsPerTask, j.Walltime, j.Exclusive, want)
	}
}

func FuzzConvergeEvents(f *testing.F) {
	for _, n := range []string{"mixed.jsonl", "small-cluster-gangs.jsonl"} {
		b, err := os.ReadFile(filepath.Join(convergeDir, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"t":1,"event":"FailedScheduling","pod":"p","series":{"count":2,"lastObservedTime":0.5}}`))
	format, _ := LookupFormat("converge-events")
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		tr := &Trace{Start: NaN}
		if _, err := Read(tr, in, "converge-events"); err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		// What was read writes and reads back to the same records.
		var buf bytes.Buffer
		if err := format.Write(&buf, tr); err != nil {
			t.Fatal(err)
		}
		in2, _ := NewInput(&buf, "again.jsonl")
		back := &Trace{Start: NaN}
		if _, err := Read(back, in2, "converge-events"); err != nil {
			t.Fatalf("written trace not read back: %v\n%s", err, buf.String())
		}
		if len(back.Pods) != len(tr.Pods) || len(back.Jobs) != len(tr.Jobs) || len(back.Events) != len(tr.Events) {
			t.Fatalf("round trip: %d/%d pods %d/%d jobs", len(tr.Pods), len(back.Pods), len(tr.Jobs), len(back.Jobs))
		}
	})
}
