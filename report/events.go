package report

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/killpoint"
)

// EventWriter writes events.jsonl one record at a time, as the engine
// emits them (it implements engine.RecordSink): the trace never has to be
// held in memory. Each line is one JSON object:
//
//	{"t":…,"event":"…","pod":"…","job":"…","node":"…","msg":"…","series":{"count":…,"lastObservedTime":…}}
//
// with the absent fields left out; "series" marks the end of a
// FailedScheduling series (engine.Record). Records must come in time order.
//
// Encoding and writing run on a goroutine of their own, a batch of
// records at a time, so that on a machine with a second core the file
// costs the simulation almost nothing; the bytes are the same as if they
// were written in line.
type EventWriter struct {
	f      *os.File
	closed bool // Close has run (Record's goroutine only)
	last   float64
	n      int
	batch  []eventLine
	full   chan []eventLine // batches to encode, in order (closed by Close)
	free   chan []eventLine // encoded batches to reuse
	done   chan struct{}    // closed when the goroutine has ended
	quit   chan struct{}    // closed by abort (from any goroutine)
	once   sync.Once
	mu     sync.Mutex
	err    error // the first write error (guarded by mu)
}

// eventLine is what a line needs: the record and the names of its
// objects (copied now: a pod's other fields change as the run goes).
type eventLine struct {
	r              engine.Record
	name           string
	pod, job, node string
}

const eventBatch = 4096

var _ engine.RecordSink = (*EventWriter)(nil)

func createEventWriter(path string) (*EventWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &EventWriter{
		f:     f,
		batch: make([]eventLine, 0, eventBatch),
		full:  make(chan []eventLine, 4),
		free:  make(chan []eventLine, 6),
		done:  make(chan struct{}),
		quit:  make(chan struct{}),
	}
	go w.encode(w.full)
	return w, nil
}

// Record implements engine.RecordSink.
func (w *EventWriter) Record(r *engine.Record, p *engine.Pod, j *engine.Job, n *engine.Node) error {
	name, ok := kindName(r.Kind)
	if !ok {
		return fmt.Errorf("record %d at %v: unknown kind %d", w.n, r.T, r.Kind)
	}
	if r.T < w.last {
		return fmt.Errorf("record %d (%s) at %v comes after a record at %v: the trace must be in time order", w.n, name, r.T, w.last)
	}
	w.last = r.T
	l := eventLine{r: *r, name: name}
	if p != nil {
		l.pod = p.Name
	}
	if j != nil {
		l.job = j.Name
	}
	if n != nil {
		l.node = n.Name
	}
	w.batch = append(w.batch, l)
	w.n++
	if w.n == 100 {
		killpoint.At("report-events-streaming")
	}
	if len(w.batch) == eventBatch {
		return w.send()
	}
	return nil
}

// send hands the current batch to the encoder and takes an empty one.
func (w *EventWriter) send() error {
	if err := w.failed(); err != nil {
		return err
	}
	select {
	case w.full <- w.batch:
	case <-w.quit:
		return errAborted
	}
	select {
	case b := <-w.free:
		w.batch = b[:0]
	default:
		w.batch = make([]eventLine, 0, eventBatch)
	}
	return nil
}

func (w *EventWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// encode runs on its own goroutine: it encodes the batches in order and
// writes them.
func (w *EventWriter) encode(full <-chan []eventLine) {
	defer close(w.done)
	bw := bufio.NewWriterSize(w.f, 1<<20)
	buf := make([]byte, 0, 256)
	for {
		var batch []eventLine
		select {
		case b, ok := <-full:
			if !ok {
				if w.failed() == nil {
					if err := bw.Flush(); err != nil {
						w.setErr(err)
					}
				}
				return
			}
			batch = b
		case <-w.quit:
			return
		}
		if w.failed() == nil {
			for i := range batch {
				buf = appendEventLine(buf[:0], &batch[i])
				if _, err := bw.Write(buf); err != nil {
					w.setErr(err)
					break
				}
			}
		}
		clear(batch) // drop the strings
		select {
		case w.free <- batch:
		default:
		}
	}
}

var errAborted = fmt.Errorf("the report was aborted")

func (w *EventWriter) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func appendEventLine(b []byte, l *eventLine) []byte {
	r := &l.r
	b = append(b, `{"t":`...)
	b = appendNum(b, r.T)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, l.name)
	if l.pod != "" {
		b = append(b, `,"pod":`...)
		b = appendJSONString(b, l.pod)
	}
	if l.job != "" {
		b = append(b, `,"job":`...)
		b = appendJSONString(b, l.job)
	}
	if l.node != "" {
		b = append(b, `,"node":`...)
		b = appendJSONString(b, l.node)
	}
	if r.Msg != "" {
		b = append(b, `,"msg":`...)
		b = appendJSONString(b, r.Msg)
	}
	if r.Count > 0 {
		b = append(b, `,"series":{"count":`...)
		b = appendInt(b, r.Count)
		b = append(b, `,"lastObservedTime":`...)
		b = appendNum(b, r.LastObserved)
		b = append(b, '}')
	}
	return append(b, '}', '\n')
}

// Count returns the number of records written.
func (w *EventWriter) Count() int { return w.n }

// Close writes what is left, syncs and closes the file. It must be
// called from the goroutine that calls Record.
func (w *EventWriter) Close() error {
	if w.closed {
		return w.failed()
	}
	w.closed = true
	if len(w.batch) > 0 {
		if err := w.send(); err != nil {
			w.abort()
			return err
		}
	}
	close(w.full)
	select {
	case <-w.done:
	case <-w.quit:
		return errAborted
	}
	err := w.failed()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.setErr(err)
	return err
}

// abort stops the encoder and closes the file; safe from any goroutine
// (a signal handler) and more than once.
func (w *EventWriter) abort() {
	w.once.Do(func() {
		w.setErr(errAborted)
		close(w.quit)
		w.f.Close() // a write in flight fails; a second Close is harmless
	})
}

// writeRecords writes a Result's in-memory records (engine.Config.Record
// without a sink), stable-sorted by time, resolving their indexes.
func writeRecords(w *EventWriter, res *engine.Result) error {
	pods := make(map[int]*engine.Pod, len(res.Pods))
	for _, p := range res.Pods {
		pods[p.ID] = p
	}
	var nodes []*engine.Node
	if res.Cluster != nil {
		nodes = res.Cluster.Nodes
	}
	recs := slices.Clone(res.Records)
	slices.SortStableFunc(recs, func(a, b engine.Record) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	for i := range recs {
		r := &recs[i]
		name, _ := kindName(r.Kind)
		var (
			p *engine.Pod
			j *engine.Job
			n *engine.Node
		)
		if r.Pod >= 0 {
			var ok bool
			if p, ok = pods[r.Pod]; !ok {
				return fmt.Errorf("record %d (%s at %v): no pod with id %d", i, name, r.T, r.Pod)
			}
			j = p.Job
		}
		if r.Node >= 0 {
			if r.Node >= len(nodes) {
				return fmt.Errorf("record %d (%s at %v): no node with index %d", i, name, r.T, r.Node)
			}
			n = nodes[r.Node]
		}
		if r.Job >= 0 && (j == nil || j.Name == "") {
			if r.Job >= len(res.Jobs) {
				return fmt.Errorf("record %d (%s at %v): no job with index %d", i, name, r.T, r.Job)
			}
			j = res.Jobs[r.Job]
		}
		if err := w.Record(r, p, j, n); err != nil {
			return err
		}
	}
	return nil
}
