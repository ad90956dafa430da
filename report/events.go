package report

import (
	"bufio"
	"fmt"
	"os"
	"slices"

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
type EventWriter struct {
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	last float64
	n    int
	err  error
}

var _ engine.RecordSink = (*EventWriter)(nil)

func createEventWriter(path string) (*EventWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	return &EventWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), buf: make([]byte, 0, 256)}, nil
}

// Record implements engine.RecordSink.
func (w *EventWriter) Record(r *engine.Record, p *engine.Pod, j *engine.Job, n *engine.Node) error {
	if w.err != nil {
		return w.err
	}
	name, ok := kindName(r.Kind)
	if !ok {
		return fmt.Errorf("record %d at %v: unknown kind %d", w.n, r.T, r.Kind)
	}
	if r.T < w.last {
		return fmt.Errorf("record %d (%s) at %v comes after a record at %v: the trace must be in time order", w.n, name, r.T, w.last)
	}
	w.last = r.T
	b := append(w.buf[:0], `{"t":`...)
	b = appendNum(b, r.T)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, name)
	if p != nil && p.Name != "" {
		b = append(b, `,"pod":`...)
		b = appendJSONString(b, p.Name)
	}
	if j != nil && j.Name != "" {
		b = append(b, `,"job":`...)
		b = appendJSONString(b, j.Name)
	}
	if n != nil && n.Name != "" {
		b = append(b, `,"node":`...)
		b = appendJSONString(b, n.Name)
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
	b = append(b, '}', '\n')
	w.buf = b
	w.n++
	if w.n == 100 {
		killpoint.At("report-events-streaming")
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Count returns the number of records written.
func (w *EventWriter) Count() int { return w.n }

// Close flushes, syncs and closes the file.
func (w *EventWriter) Close() error {
	if w.f == nil {
		return w.err
	}
	err := w.err
	if err == nil {
		err = w.w.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *EventWriter) abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
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
