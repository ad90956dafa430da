package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/convergesim/converge/engine"
)

// records makes n records over a few pods, jobs and nodes, in time order,
// with every optional field in use somewhere.
func records(n int) ([]engine.Record, []*engine.Pod, []*engine.Job, []*engine.Node) {
	jobs := []*engine.Job{{ID: 0, Name: "j,0"}, {ID: 1, Name: "j\"1"}}
	nodes := []*engine.Node{{Name: "n0", Index: 0}, {Name: "n\u20281", Index: 1}}
	var pods []*engine.Pod
	for i := range 7 {
		pods = append(pods, &engine.Pod{ID: i, Name: "p" + strings.Repeat("é", i), Job: jobs[i%2]})
	}
	var recs []engine.Record
	for i := range n {
		r := engine.Record{T: float64(i) / 3, Kind: engine.RecKind(i % 16), Job: -1, Pod: -1, Node: -1}
		if i%3 != 0 {
			r.Pod = i % 7
			r.Job = pods[r.Pod].Job.ID
		}
		if i%4 == 0 {
			r.Node = i % 2
		}
		if i%5 == 0 {
			r.Msg = "msg\n" + strings.Repeat("x", i%11)
		}
		if i%13 == 0 && r.Pod >= 0 {
			r.Kind, r.Count, r.LastObserved = engine.RecFailedScheduling, i, r.T-1
		}
		recs = append(recs, r)
	}
	return recs, pods, jobs, nodes
}

func feed(t *testing.T, w *EventWriter, recs []engine.Record, pods []*engine.Pod, jobs []*engine.Job, nodes []*engine.Node) error {
	t.Helper()
	for i := range recs {
		r := &recs[i]
		var p *engine.Pod
		var j *engine.Job
		var n *engine.Node
		if r.Pod >= 0 {
			p = pods[r.Pod]
		}
		if r.Job >= 0 {
			j = jobs[r.Job]
		}
		if r.Node >= 0 {
			n = nodes[r.Node]
		}
		if err := w.Record(r, p, j, n); err != nil {
			return err
		}
	}
	return nil
}

// The asynchronous writer gives, over many batches, exactly the lines an
// in-line encoding gives.
func TestEventWriterMatchesInline(t *testing.T) {
	recs, pods, jobs, nodes := records(3*batchSize + 17)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := createEventWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := feed(t, w, recs, pods, jobs, nodes); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range recs {
		r := recs[i]
		l := eventLine{r: r}
		l.name, _ = kindName(r.Kind)
		if r.Pod >= 0 {
			l.pod = pods[r.Pod].Name
		}
		if r.Job >= 0 {
			l.job = jobs[r.Job].Name
		}
		if r.Node >= 0 {
			l.node = nodes[r.Node].Name
		}
		want = appendEventLine(want, &l)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("async output differs from in-line encoding (%d vs %d bytes)", len(got), len(want))
	}
	if w.Count() != len(recs) {
		t.Errorf("Count = %d, want %d", w.Count(), len(recs))
	}
}

// A record out of time order is refused.
func TestEventWriterTimeOrder(t *testing.T) {
	w, err := createEventWriter(filepath.Join(t.TempDir(), "e"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.abort()
	if err := w.Record(&engine.Record{T: 5, Pod: -1, Job: -1, Node: -1}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Record(&engine.Record{T: 4, Pod: -1, Job: -1, Node: -1}, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "time order") {
		t.Errorf("out of order: %v", err)
	}
}

// A failing file (here: closed under the writer) makes Record or Close
// return an error; nothing hangs.
func TestEventWriterWriteError(t *testing.T) {
	recs, pods, jobs, nodes := records(20 * batchSize)
	w, err := createEventWriter(filepath.Join(t.TempDir(), "e"))
	if err != nil {
		t.Fatal(err)
	}
	w.f.Close()
	err = feed(t, w, recs, pods, jobs, nodes)
	if err == nil {
		err = w.Close()
	}
	if err == nil || !errors.Is(err, os.ErrClosed) {
		t.Errorf("err = %v, want the write error", err)
	}
}

// abort from another goroutine while records stream in stops the writer:
// Record or Close fail, nothing panics or hangs.
func TestEventWriterAbortWhileWriting(t *testing.T) {
	recs, pods, jobs, nodes := records(50 * batchSize)
	w, err := createEventWriter(filepath.Join(t.TempDir(), "e"))
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		w.abort()
	}()
	half := 5 * batchSize
	err = feed(t, w, recs[:half], pods, jobs, nodes)
	close(start)
	if err == nil {
		err = feed(t, w, recs[half:], pods, jobs, nodes)
	}
	wg.Wait()
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		t.Error("an aborted writer closed without error")
	}
}
