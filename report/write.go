package report

import (
	"github.com/convergesim/converge/engine"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// SchemaVersion is the version of the results.json schema. It changes when
// a field is removed or changes meaning; adding a field does not change it.
const SchemaVersion = 2

// Output file names, in the order Write produces them.
const (
	SummaryFile = "summary.txt"
	ResultsFile = "results.json"
	JobsFile    = "jobs.csv"
	PodsFile    = "pods.csv"
	EventsFile  = "events.jsonl"
)

// Files lists the files every report holds: the data files, the
// figures every run gets (RunFigureNames) and index.html. With
// Options.Force an existing folder is replaced as a whole, and its
// entries of other names are carried over into the new one (the
// figures only some runs get are not: see ownedFiles).
func Files() []string {
	out := []string{SummaryFile, ResultsFile, JobsFile, PodsFile, EventsFile}
	for _, name := range RunFigureNames(Meta{}) {
		out = append(out, FigureFiles(name)...)
	}
	return append(out, IndexFile)
}

// ownedFiles are the names a report may write: Files, and the figures
// of runs with workflows. A forced write replaces them all, so that a
// figure of an earlier run never outlives it.
func ownedFiles() []string {
	return append(Files(), FigureFiles(PredictionsFigure)...)
}

// Meta identifies the run. It is echoed into summary.txt and results.json.
type Meta struct {
	Scenario       string // scenario name
	ScenarioPath   string // the scenario file as given
	ScenarioSHA256 string // hex SHA-256 of the scenario file's bytes (see HashScenario)
	Seed           uint64 // must equal the Result's seed (0 = take it from the Result)
	Version        string // converge version string
	Policy         string // policy name ("" = take it from the Result; otherwise must match)
	// Settings are echoed as given (key → value), sorted by key: the
	// effective parameters a reader needs to reproduce the run.
	Settings map[string]string
	// BoundedSlowdownThreshold is τ of the batch jobs' bounded slowdown
	// (0: DefaultBSLDThreshold).
	BoundedSlowdownThreshold float64
	// Workflows are what the run's workflows did (none: nil).
	Workflows []Workflow
}

// HashScenario returns the hex SHA-256 of a scenario file's bytes, for
// Meta.ScenarioSHA256.
func HashScenario(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Options control Write.
type Options struct {
	// Force allows replacing a folder that exists and is not empty; the
	// files of other names in it are carried over into the new report.
	Force bool
}

// ErrNotEmpty is wrapped by the error Write returns when the output folder
// exists, is not empty and Options.Force is false.
var ErrNotEmpty = errors.New("output folder is not empty")

// notEmptyError names the folder in the message the user sees.
type notEmptyError struct{ dir string }

func (e *notEmptyError) Error() string {
	return fmt.Sprintf("output folder %s already exists and is not empty (use --force to overwrite)", e.dir)
}

func (e *notEmptyError) Unwrap() error { return ErrNotEmpty }

// Write writes the run's outputs (Files) into dir, creating it and its
// parents if needed: Open, then Commit. The event trace comes from
// res.Records (a run that streamed its trace uses Output directly).
//
// Everything is written into a temporary sibling folder first; only when
// every file is complete does that folder replace dir, in one atomic
// exchange. A failure before that leaves dir as it was and removes the
// temporary folder. If dir exists and is not empty, Write refuses (an
// error wrapping ErrNotEmpty) unless opts.Force is set.
//
// Output is a function of res and meta only: writing the same Result twice
// gives byte-identical files.
func Write(dir string, res *engine.Result, meta Meta, opts Options) error {
	if res == nil {
		return fmt.Errorf("report: write %s: nil result", dir)
	}
	o, err := Open(dir, opts)
	if err != nil {
		return err
	}
	if _, err := o.Commit(res, meta); err != nil {
		o.Abort()
		return err
	}
	return nil
}

// rename is os.Rename; tests replace it to inject failures.
var rename = os.Rename

// checkTarget returns an error if a report must not replace dir: it is
// not a folder, it is not empty and force is off, or a report file's name
// there is held by something other than a regular file.
func checkTarget(dir string, force bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return outErr(dir, "output folder %s: cannot create its parent folder: a part of the path is a file", dir)
	}
	if err != nil {
		return outErr(dir, "output folder %s: %w", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return outErr(dir, "output folder %s exists and is not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return outErr(dir, "output folder %s: %w", dir, unwrapPath(err))
	}
	if len(entries) > 0 && !force {
		return &OutputError{Dir: dir, Err: &notEmptyError{dir}}
	}
	for _, name := range ownedFiles() {
		st, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return outErr(dir, "output folder %s: %w", dir, unwrapPath(err))
		}
		if !st.Mode().IsRegular() {
			return outErr(dir, "output folder %s: %s exists and is not a regular file; move it away first", dir, name)
		}
	}
	return nil
}
