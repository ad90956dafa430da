package report

import (
	"fmt"

	"github.com/convergesim/converge/engine"
)

// PodWriter writes pods.csv while the run goes: the engine hands it the
// pods that have ended, in id order (it implements engine.PodSink), and
// a goroutine of its own encodes and writes them, so that on a machine
// with a second core the largest file is mostly written by the time the
// run ends. Commit writes the pods that had not ended (running, pending)
// and the ones still held back by an earlier pod that had not. The bytes
// are those that writing the whole file at the end gives.
type PodWriter struct {
	*batchFile[*engine.Pod]
	n    int         // pods handed over (the engine's goroutine)
	last *engine.Pod // the last of them
}

var _ engine.PodSink = (*PodWriter)(nil)

func createPodWriter(path string) (*PodWriter, error) {
	bf, err := createBatchFile(path, appendCSVRow(nil, podColumns), writePodRows)
	if err != nil {
		return nil, err
	}
	return &PodWriter{batchFile: bf}, nil
}

// Pods implements engine.PodSink: ps must be the next pods by id.
func (w *PodWriter) Pods(ps []*engine.Pod) error {
	if err := w.failed(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	if ps[0].ID != w.n {
		return fmt.Errorf("pod %d handed over after pod %d", ps[0].ID, w.n-1)
	}
	w.n += len(ps)
	w.last = ps[len(ps)-1]
	return w.add(ps...)
}

// finish writes the rest of the run's pods (those after the ones handed
// over), then syncs and closes the file. pods must be the run's
// (engine.Result.Pods) whose first ones were handed over.
func (w *PodWriter) finish(pods []*engine.Pod) error {
	if w.n > len(pods) || (w.n > 0 && pods[w.n-1] != w.last) {
		w.abort()
		return fmt.Errorf("%s: the pods written during the run are not this result's", PodsFile)
	}
	if err := w.Pods(pods[w.n:]); err != nil {
		w.abort()
		return err
	}
	return w.close()
}
