package report

import (
	"fmt"
	"io"
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
//
// Encoding and writing run on a goroutine of their own, a batch of
// records at a time, so that on a machine with a second core the file
// costs the simulation almost nothing; the bytes are the same as if they
// were written in line.
type EventWriter struct {
	*batchFile[eventLine]
	last float64
	n    int
}

// eventLine is what a line needs: the record and the names of its
// objects (copied now: a pod's other fields change as the run goes).
type eventLine struct {
	r              engine.Record
	name           string
	pod, job, node string
}

var _ engine.RecordSink = (*EventWriter)(nil)

func createEventWriter(path string) (*EventWriter, error) {
	bf, err := createBatchFile(path, nil, func(w io.Writer, batch []eventLine, buf []byte) ([]byte, error) {
		for i := range batch {
			buf = appendEventLine(buf[:0], &batch[i])
			if _, err := w.Write(buf); err != nil {
				return buf, err
			}
		}
		return buf, nil
	})
	if err != nil {
		return nil, err
	}
	return &EventWriter{batchFile: bf}, nil
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
	w.n++
	if w.n == 100 {
		killpoint.At("report-events-streaming")
	}
	return w.add(l)
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
func (w *EventWriter) Close() error { return w.close() }

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
