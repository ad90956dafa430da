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
)

// SchemaVersion is the version of the results.json schema. It changes when
// a field is removed or changes meaning; adding a field does not change it.
const SchemaVersion = 1

// Output file names, in the order Write produces them.
const (
	SummaryFile = "summary.txt"
	ResultsFile = "results.json"
	JobsFile    = "jobs.csv"
	PodsFile    = "pods.csv"
	EventsFile  = "events.jsonl"
)

// Files lists the files Write produces. With Options.Force only these are
// replaced in an existing folder.
func Files() []string {
	return []string{SummaryFile, ResultsFile, JobsFile, PodsFile, EventsFile}
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
}

// HashScenario returns the hex SHA-256 of a scenario file's bytes, for
// Meta.ScenarioSHA256.
func HashScenario(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Options control Write.
type Options struct {
	// Force allows writing into a folder that exists and is not empty. Only
	// the files Write produces are replaced; other files are left alone.
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
// parents if needed.
//
// The whole set is rendered in memory and written into a temporary sibling
// folder first; only when every file is complete are they moved into dir,
// each by an atomic rename (a new dir is renamed into place as a whole). A
// failure before the move leaves dir as it was and removes the temporary
// folder. If dir exists and is not empty, Write refuses (an error wrapping
// ErrNotEmpty) unless opts.Force is set.
//
// Output is a function of res and meta only: writing the same Result twice
// gives byte-identical files.
func Write(dir string, res *engine.Result, meta Meta, opts Options) error {
	if res == nil {
		return fmt.Errorf("report: write %s: nil result", dir)
	}
	if meta.Seed != 0 && meta.Seed != res.Seed {
		return fmt.Errorf("report: write %s: meta seed %d differs from the run's seed %d", dir, meta.Seed, res.Seed)
	}
	if meta.Policy == "" {
		meta.Policy = res.Policy
	} else if res.Policy != "" && meta.Policy != res.Policy {
		return fmt.Errorf("report: write %s: meta policy %q differs from the run's policy %q", dir, meta.Policy, res.Policy)
	}
	meta.Seed = res.Seed

	exists, err := checkTarget(dir, opts.Force)
	if err != nil {
		return err
	}
	files, err := render(res, meta)
	if err != nil {
		return fmt.Errorf("report: write %s: %w", dir, err)
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("report: write %s: %w", dir, err)
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("report: write %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return fmt.Errorf("report: write %s: temporary folder: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // a no-op once tmp was renamed into place
	for _, f := range files {
		if err := writeFile(filepath.Join(tmp, f.name), f.data); err != nil {
			return fmt.Errorf("report: write %s: %w", dir, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return fmt.Errorf("report: write %s: %w", dir, err)
	}

	if !exists {
		if err := rename(tmp, abs); err != nil {
			return fmt.Errorf("report: write %s: %w", dir, err)
		}
		return nil
	}
	// dir exists (empty, or Force): move the files in one by one. Each
	// rename replaces one file atomically; other files are left alone.
	for _, f := range files {
		if err := rename(filepath.Join(tmp, f.name), filepath.Join(abs, f.name)); err != nil {
			return fmt.Errorf("report: write %s: %w", dir, err)
		}
	}
	return nil
}

// rename is os.Rename; tests replace it to inject failures.
var rename = os.Rename

// checkTarget reports whether dir exists and returns an error if Write must
// not write into it: it is not a folder, it is not empty and force is off,
// or one of the files to replace is not a regular file.
func checkTarget(dir string, force bool) (bool, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("report: write %s: %w", dir, err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("report: write %s: output folder exists and is not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("report: write %s: %w", dir, err)
	}
	if len(entries) > 0 && !force {
		return false, &notEmptyError{dir}
	}
	for _, name := range Files() {
		st, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("report: write %s: %w", dir, err)
		}
		if !st.Mode().IsRegular() {
			return false, fmt.Errorf("report: write %s: %s exists and is not a regular file", dir, name)
		}
	}
	return true, nil
}

// writeFile creates path, writes data and syncs it.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CheckDir returns the error Write would return for dir before anything is
// computed, so a command can refuse early instead of after a long run.
func CheckDir(dir string, force bool) error {
	_, err := checkTarget(dir, force)
	return err
}
