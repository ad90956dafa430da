package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
)

// batchFile is a file written on a goroutine of its own, a batch of items
// at a time, in order: the common part of EventWriter and PodWriter. The
// owner's goroutine adds items (add) and closes it (close); abort may be
// called from any goroutine (a signal handler) and more than once.
// Writing a full batch waits while the encoder is four batches behind,
// so memory stays bounded whatever the file's size.
type batchFile[T any] struct {
	f      *os.File
	closed bool // close has run (the owner's goroutine only)
	batch  []T
	full   chan []T      // batches to encode, in order (closed by close)
	free   chan []T      // encoded batches to reuse
	done   chan struct{} // closed when the encoder has ended
	quit   chan struct{} // closed by abort
	once   sync.Once
	mu     sync.Mutex
	err    error // the first write error (guarded by mu)
}

// batchSize is how many items the encoder gets at once.
const batchSize = 4096

// errAborted is what a writer returns once aborted.
var errAborted = fmt.Errorf("the report was aborted")

// createBatchFile creates path (it must not exist) and starts its
// encoder, which writes head, then each batch through encode (buf is
// its own, to reuse).
func createBatchFile[T any](path string, head []byte, encode func(w io.Writer, batch []T, buf []byte) ([]byte, error)) (*batchFile[T], error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &batchFile[T]{
		f:     f,
		batch: make([]T, 0, batchSize),
		full:  make(chan []T, 4),
		free:  make(chan []T, 6),
		done:  make(chan struct{}),
		quit:  make(chan struct{}),
	}
	go w.encode(head, encode)
	return w, nil
}

// add queues items for the encoder.
func (w *batchFile[T]) add(items ...T) error {
	w.batch = append(w.batch, items...)
	if len(w.batch) >= batchSize {
		return w.send()
	}
	return nil
}

// send hands the current batch to the encoder and takes an empty one.
func (w *batchFile[T]) send() error {
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
		w.batch = make([]T, 0, batchSize)
	}
	return nil
}

// encode runs on its own goroutine.
func (w *batchFile[T]) encode(head []byte, encode func(w io.Writer, batch []T, buf []byte) ([]byte, error)) {
	defer close(w.done)
	bw := bufio.NewWriterSize(w.f, 1<<20)
	if _, err := bw.Write(head); err != nil {
		w.setErr(err)
	}
	buf := make([]byte, 0, 256)
	for {
		var batch []T
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
			batch = b
		case <-w.quit:
			return
		}
		if w.failed() == nil {
			var err error
			if buf, err = encode(bw, batch, buf); err != nil {
				w.setErr(err)
			}
		}
		clear(batch) // drop what the items point to
		select {
		case w.free <- batch:
		default:
		}
	}
}

// close writes what is left, syncs and closes the file.
func (w *batchFile[T]) close() error {
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

// abort stops the encoder and closes the file.
func (w *batchFile[T]) abort() {
	w.once.Do(func() {
		w.setErr(errAborted)
		close(w.quit)
		w.f.Close() // a write in flight fails; a second Close is harmless
	})
}

func (w *batchFile[T]) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *batchFile[T]) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}
