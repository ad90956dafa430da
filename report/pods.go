package report

import (
	"bufio"
	"fmt"
	"os"
	"sync"

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
	f     *os.File
	n     int           // pods handed over (the engine's goroutine)
	last  *engine.Pod   // the last of them
	batch []*engine.Pod // the pods not yet sent to the encoder
	full  chan []*engine.Pod
	free  chan []*engine.Pod // encoded batches to reuse
	done  chan struct{}      // closed when the goroutine has ended
	quit  chan struct{}      // closed by abort (from any goroutine)
	once  sync.Once
	mu    sync.Mutex
	err   error // the first write error (guarded by mu)
}

var _ engine.PodSink = (*PodWriter)(nil)

func createPodWriter(path string) (*PodWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &PodWriter{
		f:     f,
		batch: make([]*engine.Pod, 0, podBatch),
		full:  make(chan []*engine.Pod, 4),
		free:  make(chan []*engine.Pod, 6),
		done:  make(chan struct{}),
		quit:  make(chan struct{}),
	}
	go w.encode()
	return w, nil
}

// podBatch is how many pods the encoder gets at once.
const podBatch = 4096

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
	w.batch = append(w.batch, ps...)
	w.n += len(ps)
	w.last = ps[len(ps)-1]
	if len(w.batch) >= podBatch {
		return w.send()
	}
	return nil
}

// send hands the current batch to the encoder and takes an empty one.
func (w *PodWriter) send() error {
	select {
	case w.full <- w.batch:
	case <-w.quit:
		return errAborted
	}
	select {
	case b := <-w.free:
		w.batch = b[:0]
	default:
		w.batch = make([]*engine.Pod, 0, podBatch)
	}
	return nil
}

// encode runs on its own goroutine: the header, then the rows of each
// run of pods in order.
func (w *PodWriter) encode() {
	defer close(w.done)
	bw := bufio.NewWriterSize(w.f, 1<<20)
	buf := appendCSVRow(nil, podColumns)
	if _, err := bw.Write(buf); err != nil {
		w.setErr(err)
	}
	for {
		var ps []*engine.Pod
		select {
		case b, ok := <-w.full:
			if !ok {
				if w.failed() == nil {
					if err := bw.Flush(); err != nil {
						w.setErr(err)
					}
				}
				return
			}
			ps = b
		case <-w.quit:
			return
		}
		if w.failed() == nil {
			if err := writePodRows(bw, ps, buf); err != nil {
				w.setErr(err)
			}
		}
		clear(ps)
		select {
		case w.free <- ps:
		default:
		}
	}
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
// and more than once.
func (w *PodWriter) abort() {
	w.once.Do(func() {
		w.setErr(errAborted)
		close(w.quit)
		w.f.Close()
	})
}

func (w *PodWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *PodWriter) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}
