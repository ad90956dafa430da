package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/killpoint"
)

// Output is a report folder being written. Open checks the folder, takes
// its lock and makes a temporary sibling folder before anything is
// simulated; the event trace can stream into it during the run (Events);
// Commit writes the other files and puts the complete report in place
// with one atomic exchange of folders; Abort (on any failure or signal)
// removes the temporary folder. A reader of the output folder therefore
// sees either the old complete report or the new one, never a mix, and a
// second run into the same folder is refused at Open, not after its
// simulation.
//
// Next to DIR live, while a run writes it, DIR's lock file `.DIR.lock`
// and temporary folder `.DIR.tmp-*`; both are removed when the run ends.
// A run killed with SIGKILL leaves them; the next run into DIR removes
// them (a temporary folder is stale when nobody holds the lock).
type Output struct {
	dir    string // as the user gave it
	abs    string
	parent string
	base   string
	tmp    string

	lock     *os.File
	lockPath string

	mu       sync.Mutex
	finished bool // committed or aborted
	events   *EventWriter
	pods     *PodWriter
}

// OutputError is a problem with the output folder itself (it cannot be
// created, is not a folder, is not empty, is being written by another
// run): the user's to fix, found before anything is simulated.
type OutputError struct {
	Dir string
	Err error
}

func (e *OutputError) Error() string { return e.Err.Error() }
func (e *OutputError) Unwrap() error { return e.Err }

func outErr(dir string, format string, a ...any) error {
	return &OutputError{Dir: dir, Err: fmt.Errorf(format, a...)}
}

// Open prepares dir for a new report; see Output. With opts.Force an
// existing non-empty dir will be replaced as a whole at Commit; files in
// it that the report does not produce are carried over into the new
// folder (hard links, else copies).
func Open(dir string, opts Options) (*Output, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, outErr(dir, "output folder %s: %w", dir, err)
	}
	o := &Output{dir: dir, abs: abs, parent: filepath.Dir(abs), base: filepath.Base(abs)}
	if o.base == string(filepath.Separator) || o.base == "." || o.base == ".." {
		return nil, outErr(dir, "output folder %s: cannot write a report there; name a folder", dir)
	}
	if err := checkTarget(dir, opts.Force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.parent, 0o755); err != nil {
		return nil, outErr(dir, "output folder %s: cannot create its parent folder: %w", dir, unwrapPath(err))
	}
	if err := o.takeLock(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			o.releaseLock()
		}
	}()
	if err := o.cleanStale(); err != nil {
		return nil, err
	}
	// Another run may have written dir between the check and the lock.
	if err := checkTarget(dir, opts.Force); err != nil {
		return nil, err
	}
	o.tmp, err = os.MkdirTemp(o.parent, "."+o.base+".tmp-")
	if err != nil {
		return nil, outErr(dir, "output folder %s: cannot create a temporary folder beside it: %w", dir, unwrapPath(err))
	}
	if err := os.Chmod(o.tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		os.RemoveAll(o.tmp)
		return nil, outErr(dir, "output folder %s: %w", dir, err)
	}
	ok = true
	return o, nil
}

// Dir returns the output folder as given to Open.
func (o *Output) Dir() string { return o.dir }

// unwrapPath drops the *fs.PathError's repetition of a path the message
// already names, keeping the operation's cause.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s: %w", pe.Op, pe.Path, pe.Err)
	}
	return err
}

// takeLock takes an exclusive flock on .BASE.lock beside the folder.
func (o *Output) takeLock() error {
	o.lockPath = filepath.Join(o.parent, "."+o.base+".lock")
	for range 5 {
		f, err := os.OpenFile(o.lockPath, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return outErr(o.dir, "output folder %s: cannot create its lock file: %w", o.dir, unwrapPath(err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return outErr(o.dir, "output folder %s is being written by another run (it holds %s); wait for it or choose another folder", o.dir, o.lockPath)
			}
			return outErr(o.dir, "output folder %s: cannot lock %s: %w", o.dir, o.lockPath, err)
		}
		// The holder before us removes the file as it releases the lock:
		// make sure the file we locked is still the one at the path.
		var a, b syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Stat(o.lockPath, &b) == nil && a.Ino == b.Ino && a.Dev == b.Dev {
			o.lock = f
			return nil
		}
		f.Close()
	}
	return outErr(o.dir, "output folder %s: its lock file %s keeps changing; is another run starting?", o.dir, o.lockPath)
}

func (o *Output) releaseLock() {
	if o.lock == nil {
		return
	}
	os.Remove(o.lockPath) // still holding the lock: see takeLock
	o.lock.Close()
	o.lock = nil
}

// cleanStale removes what runs killed while writing this folder left
// beside it: temporary folders (nobody else holds the lock, so none is
// in use), and, if the folder itself is missing, puts back an old report
// that a two-step replacement had moved aside.
func (o *Output) cleanStale() error {
	entries, err := os.ReadDir(o.parent)
	if err != nil {
		return outErr(o.dir, "output folder %s: %w", o.dir, unwrapPath(err))
	}
	tmpPrefix, oldPrefix := "."+o.base+".tmp-", "."+o.base+".old-"
	var olds []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			if err := os.RemoveAll(filepath.Join(o.parent, name)); err != nil {
				return outErr(o.dir, "output folder %s: cannot remove the stale temporary folder of an earlier run: %w", o.dir, unwrapPath(err))
			}
		case strings.HasPrefix(name, oldPrefix):
			olds = append(olds, filepath.Join(o.parent, name))
		}
	}
	slices.Sort(olds)
	if _, err := os.Lstat(o.abs); errors.Is(err, fs.ErrNotExist) && len(olds) > 0 {
		// Killed between moving the old report aside and moving the new
		// one in: the old report is complete; put it back.
		if err := os.Rename(olds[len(olds)-1], o.abs); err != nil {
			return outErr(o.dir, "output folder %s: cannot restore the earlier report from %s: %w", o.dir, olds[len(olds)-1], err)
		}
		olds = olds[:len(olds)-1]
	}
	for _, old := range olds {
		if err := os.RemoveAll(old); err != nil {
			return outErr(o.dir, "output folder %s: cannot remove %s: %w", o.dir, old, unwrapPath(err))
		}
	}
	return nil
}

// Events creates events.jsonl in the temporary folder and returns its
// writer, for engine.Engine.SetSink.
func (o *Output) Events() (*EventWriter, error) {
	if o.events != nil {
		return o.events, nil
	}
	w, err := createEventWriter(filepath.Join(o.tmp, EventsFile))
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", o.dir, err)
	}
	o.events = w
	return w, nil
}

// Pods creates pods.csv in the temporary folder and returns its writer,
// for engine.Engine.SetPodSink: the rows of the pods that end during the
// run are written as it goes, the rest at Commit.
func (o *Output) Pods() (*PodWriter, error) {
	if o.pods != nil {
		return o.pods, nil
	}
	w, err := createPodWriter(filepath.Join(o.tmp, PodsFile))
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", o.dir, err)
	}
	o.pods = w
	return w, nil
}

// Abort removes the temporary folder and releases the lock, unless the
// report was committed. It is safe to call more than once and from a
// signal handler while the run goes on.
func (o *Output) Abort() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished {
		return
	}
	o.finished = true
	if o.events != nil {
		o.events.abort()
	}
	if o.pods != nil {
		o.pods.abort()
	}
	os.RemoveAll(o.tmp)
	o.releaseLock()
}

// Commit writes the report of res into the temporary folder, then puts
// it in place of the output folder atomically, and returns the contents
// of summary.txt. On error the output folder is as it was (call Abort to
// remove the temporary folder).
func (o *Output) Commit(res *engine.Result, meta Meta) ([]byte, error) {
	if res == nil {
		return nil, fmt.Errorf("report: write %s: nil result", o.dir)
	}
	if meta.Seed != 0 && meta.Seed != res.Seed {
		return nil, fmt.Errorf("report: write %s: meta seed %d differs from the run's seed %d", o.dir, meta.Seed, res.Seed)
	}
	if meta.Policy == "" {
		meta.Policy = res.Policy
	} else if res.Policy != "" && meta.Policy != res.Policy {
		return nil, fmt.Errorf("report: write %s: meta policy %q differs from the run's policy %q", o.dir, meta.Policy, res.Policy)
	}
	meta.Seed = res.Seed
	if err := checkResult(res); err != nil {
		return nil, fmt.Errorf("report: write %s: %w", o.dir, err)
	}

	// events.jsonl: streamed during the run, or now from the records.
	if o.events == nil {
		if _, err := o.Events(); err != nil {
			return nil, err
		}
		if err := writeRecords(o.events, res); err != nil {
			return nil, fmt.Errorf("report: write %s: %s: %w", o.dir, EventsFile, err)
		}
	}
	if err := o.events.Close(); err != nil {
		return nil, fmt.Errorf("report: write %s: %s: %w", o.dir, EventsFile, err)
	}
	killpoint.At("report-events-closed")

	// pods.csv, the largest file, is written (or, if it streamed
	// during the run, finished) on a goroutine of its own while the
	// summary is computed and the small files are written; it only
	// reads the finished run.
	podsDone := make(chan error, 1)
	go func() {
		if o.pods != nil {
			podsDone <- o.pods.finish(res.Pods)
			return
		}
		podsDone <- writeFile(filepath.Join(o.tmp, PodsFile), func(w io.Writer) error { return writePods(w, res) })
	}()
	sum := SummarizeWith(res, meta.BoundedSlowdownThreshold)
	// The figures are drawn and written on a goroutine of their own
	// too; index.html, which shows them, comes last.
	type drawn struct {
		infos []FigureInfo
		err   error
	}
	figsDone := make(chan drawn, 1)
	go func() {
		figs, err := runFigures(res, meta, sum)
		if err == nil {
			err = writeFiguresNew(o.tmp, figs)
		}
		var infos []FigureInfo
		for _, f := range figs {
			infos = append(infos, f.FigureInfo)
		}
		figsDone <- drawn{infos, err}
	}()
	summary := renderSummary(res, meta, sum)
	for _, st := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{SummaryFile, func(w io.Writer) error { _, err := w.Write(summary); return err }},
		{ResultsFile, func(w io.Writer) error { return writeResults(w, res, meta, sum) }},
		{JobsFile, func(w io.Writer) error { return writeJobs(w, res) }},
	} {
		if err := writeFile(filepath.Join(o.tmp, st.name), st.write); err != nil {
			<-podsDone
			<-figsDone
			return nil, fmt.Errorf("report: write %s: %s: %w", o.dir, st.name, err)
		}
		killpoint.At("report-wrote-" + st.name)
	}
	podsErr, figs := <-podsDone, <-figsDone
	if podsErr != nil {
		return nil, fmt.Errorf("report: write %s: %s: %w", o.dir, PodsFile, podsErr)
	}
	killpoint.At("report-wrote-" + PodsFile)
	if figs.err != nil {
		return nil, fmt.Errorf("report: write %s: %w", o.dir, figs.err)
	}
	if err := writeFile(filepath.Join(o.tmp, IndexFile), func(w io.Writer) error {
		return WriteIndex(w, runPage(res, meta, summary, figs.infos))
	}); err != nil {
		return nil, fmt.Errorf("report: write %s: %s: %w", o.dir, IndexFile, err)
	}
	killpoint.At("report-wrote-" + IndexFile)

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished {
		return nil, fmt.Errorf("report: write %s: interrupted", o.dir)
	}
	if err := o.install(); err != nil {
		return nil, err
	}
	o.finished = true
	o.releaseLock()
	return summary, nil
}

// install puts the complete temporary folder in place of the output
// folder.
func (o *Output) install() error {
	st, err := os.Lstat(o.abs)
	if errors.Is(err, fs.ErrNotExist) {
		if err := rename(o.tmp, o.abs); err != nil {
			return fmt.Errorf("report: write %s: %w", o.dir, err)
		}
		syncDir(o.parent)
		killpoint.At("report-installed")
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", o.dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("report: write %s: output folder exists and is not a folder", o.dir)
	}
	if err := carryOver(o.abs, o.tmp); err != nil {
		return fmt.Errorf("report: write %s: keeping the folder's other files: %w", o.dir, err)
	}
	killpoint.At("report-carried-over")
	if err := o.replace(); err != nil {
		return err
	}
	killpoint.At("report-installed")
	return nil
}

// checkResult refuses a Result the report cannot describe.
func checkResult(res *engine.Result) error {
	// The engine's ids are 0..len-1; others are checked in a map.
	seen := make([]bool, len(res.Pods))
	var other map[int]bool
	for _, p := range res.Pods {
		if p == nil {
			return fmt.Errorf("result holds a nil pod")
		}
		dup := false
		if p.ID >= 0 && p.ID < len(seen) {
			dup, seen[p.ID] = seen[p.ID], true
		} else {
			if other == nil {
				other = map[int]bool{}
			}
			dup, other[p.ID] = other[p.ID], true
		}
		if dup {
			return fmt.Errorf("result holds two pods with id %d", p.ID)
		}
	}
	for _, j := range res.Jobs {
		if j == nil {
			return fmt.Errorf("result holds a nil job")
		}
	}
	return nil
}

// writeFile creates path, lets write fill it through a buffer, and syncs
// it.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// carryOver makes every entry of old that the report does not produce
// appear in tmp too (hard links to the same files, else copies), so that
// replacing old by tmp loses none of the user's files.
func carryOver(old, tmp string) error {
	own := map[string]bool{}
	for _, f := range ownedFiles() {
		own[f] = true
	}
	entries, err := os.ReadDir(old)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if own[e.Name()] {
			continue
		}
		if err := linkTree(filepath.Join(old, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func linkTree(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return err
	}
	switch {
	case st.Mode().IsRegular():
		if err := os.Link(src, dst); err == nil {
			return nil
		}
		return copyFile(src, dst, st.Mode().Perm())
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case st.IsDir():
		if err := os.Mkdir(dst, st.Mode().Perm()|0o700); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := linkTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
		return os.Chmod(dst, st.Mode().Perm())
	}
	return fmt.Errorf("%s is neither a file, a folder nor a symbolic link; move it out of the output folder", src)
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
