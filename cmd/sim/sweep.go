package main

// sim sweep: one base scenario run at many points (policies, any
// scenario key, seeds), in parallel, resumable, in shards; sim sweep
// merge: shard folders combined into the table one machine gives.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/convergesim/converge/engine"
	"github.com/convergesim/converge/internal/killpoint"
	"github.com/convergesim/converge/report"
	"github.com/convergesim/converge/scenarios"
)

type sweepFlags struct {
	out    string
	jobs   int
	resume bool
	force  bool
	quiet  bool
	shard  string
	limits limitFlags
}

// sweepSubcommands are added to `sim sweep` besides merge (emit).
var sweepSubcommands []func() *cobra.Command

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SWEEP.yaml",
		Short: "Run a scenario at every point of a sweep (policies, settings, seeds)",
		Long: `Run a base scenario at every point of a sweep file: each point is the base
with the values of the sweep's axes set (as --set would), run exactly as
'sim run' runs it, its report written atomically into DIR/points/<id>/.
Then DIR/sweep.csv holds one row per point and DIR/summary.txt each group
of replicates (points equal but for the seed) with the mean, standard
deviation and 95% confidence interval of every metric.

A sweep file:

  version: 1
  name: fluence-vs-kube              # default: the file's name
  base: ../fluence-vs-kube.yaml      # relative to the sweep file
  mode: cartesian                    # or zip (the i-th value of every axis)
  axes:
    - path: policy.name              # any scenario key, as --set names it
      values: [kube, coscheduling, fluence]
    - seeds: 10                      # replicates: seed = 1 … 10

--resume skips every point whose report is complete and redoes the
others (a point interrupted even by kill -9 left no report). --shard i/n
runs only the points whose index is i modulo n; 'sim sweep merge' combines
the shards' folders.`,
		Example: `  sim sweep scenarios/sweeps/fluence-vs-kube.yaml
  sim sweep scenarios/sweeps/fluence-vs-kube.yaml -o out/fvk -j 2
  sim sweep scenarios/sweeps/fluence-vs-kube.yaml -o out/fvk --resume
  sim sweep scenarios/sweeps/fluence-vs-kube.yaml --shard 0/3 -o out/shard-0
  sim sweep merge out/shard-0 out/shard-1 out/shard-2 -o out/fvk`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd, args[0], &f)
		},
	}
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "output folder (default: out/<sweep name>)")
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", 0, "points run at once (default 0: the number of cores)")
	cmd.Flags().BoolVar(&f.resume, "resume", false, "continue an interrupted sweep: skip the points whose report is complete")
	cmd.Flags().BoolVar(&f.force, "force", false, "run every point again, replacing the reports in an existing output folder")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar and no summary")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run only shard i of n (i/n: the points whose index is i modulo n)")
	addLimitFlags(cmd, &f.limits)
	cmd.AddCommand(newSweepMergeCmd())
	for _, sub := range sweepSubcommands {
		cmd.AddCommand(sub())
	}
	return cmd
}

// parseShard reads --shard i/n (0 ≤ i < n); "" is 0/1.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %s: want i/n with 0 ≤ i < n (e.g. 0/4)", s)
	}
	return i, n, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func runSweep(cmd *cobra.Command, path string, f *sweepFlags) error {
	shard, shards, err := parseShard(f.shard)
	if err != nil {
		return usageErr(err)
	}
	switch {
	case f.jobs < 0:
		return usageErr(fmt.Errorf("-j %d: want a number of workers (0: the number of cores)", f.jobs))
	case f.resume && f.force:
		return usageErr(fmt.Errorf("--resume keeps the finished points and --force runs them again: give one"))
	}
	if f.jobs == 0 {
		f.jobs = runtime.NumCPU()
	}
	sw, err := scenarios.LoadSweep(path, nil)
	if err != nil {
		return usageErr(err)
	}
	var todo []*scenarios.SweepPoint
	for i := range sw.Points {
		p := &sw.Points[i]
		if p.Index%shards != shard {
			continue
		}
		sc, err := sw.Scenario(p)
		if err != nil { // checked by LoadSweep
			return usageErr(err)
		}
		if len(todo) == 0 {
			printWarnings(cmd, sc)
		}
		if err := f.limits.checkSize(sc); err != nil {
			return fmt.Errorf("point %s: %w", p, err)
		}
		todo = append(todo, p)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", sw.Name)
	}
	m := sw.Manifest()
	lock, err := openSweepDir(dir, m, f.resume, f.force)
	if err != nil {
		return err
	}
	defer lock.release()

	// Points already complete (--resume) are skipped.
	pointsDir := filepath.Join(dir, scenarios.SweepPointsDir)
	if err := os.MkdirAll(pointsDir, 0o755); err != nil {
		return usageErr(fmt.Errorf("output folder %s: %w", dir, err))
	}
	run := todo[:0:0]
	for _, p := range todo {
		pd := filepath.Join(pointsDir, p.ID)
		if f.resume {
			done, err := pointDone(pd, p, m)
			if err != nil {
				return usageErr(err)
			}
			if done {
				continue
			}
		}
		run = append(run, p)
	}
	errOut := cmd.ErrOrStderr()
	if !f.quiet && len(todo) > len(run) {
		fmt.Fprintf(errOut, "sim: %d of %d points already done in %s\n", len(todo)-len(run), len(todo), dir)
	}
	failed, err := runPoints(cmd, sw, run, pointsDir, f)
	if err != nil {
		return err
	}
	rows, summary, err := writeSweepTables(dir, m)
	if err != nil {
		return err
	}
	if !f.quiet {
		cmd.Print(string(summary))
		cmd.Printf("\nsweep written to %s (%d points, %d with results)\n", dir, len(m.Points), len(rows))
	}
	if len(failed) > 0 {
		return failedErr(fmt.Errorf("%d of %d points failed (%s); the others' reports are in %s; after a fix, --resume runs the failed ones", len(failed), len(run), strings.Join(failed, ", "), dir))
	}
	return nil
}

// pointDone reports whether a point's report folder is complete and of
// this sweep (an error if it is of another one).
func pointDone(pd string, p *scenarios.SweepPoint, m *scenarios.SweepManifest) (bool, error) {
	if _, err := os.Stat(filepath.Join(pd, report.ResultsFile)); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	_, err := scenarios.ReadSweepRow(pd, m.Points[p.Index], m.BaseSHA256)
	if errors.Is(err, scenarios.ErrPointStale) {
		return false, fmt.Errorf("%w; run again with --force, or into another folder", err)
	}
	return err == nil, err
}

// runPoints runs the points with f.jobs workers, a progress bar on a
// terminal. A point whose run fails is listed in failed and the others
// go on; bad input (found building a point) stops the sweep.
func runPoints(cmd *cobra.Command, sw *scenarios.Sweep, run []*scenarios.SweepPoint, pointsDir string, f *sweepFlags) (failed []string, err error) {
	if len(run) == 0 {
		return nil, nil
	}
	errOut := cmd.ErrOrStderr()
	var bar *progressbar.ProgressBar
	if !f.quiet && isTerminal(errOut) {
		bar = progressbar.NewOptions(len(run),
			progressbar.OptionSetWriter(errOut),
			progressbar.OptionSetDescription("sweep "+sw.Name),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	work := make(chan *scenarios.SweepPoint)
	var (
		mu      sync.Mutex
		stopErr error
		wg      sync.WaitGroup
	)
	fails := map[int]string{}
	for range min(f.jobs, len(run)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				err := runPoint(cmd, sw, p, filepath.Join(pointsDir, p.ID), f.force)
				mu.Lock()
				var ee *exitError
				switch {
				case err == nil:
				case errors.As(err, &ee) && ee.code == exitFailed:
					fails[p.Index] = p.ID
					if bar != nil {
						bar.Clear()
					}
					fmt.Fprintf(errOut, "sim: point %s: %v\n", p, err)
				default:
					if stopErr == nil {
						stopErr = fmt.Errorf("point %s: %w", p, err)
					}
				}
				if bar != nil {
					bar.Add(1)
				}
				mu.Unlock()
				killpoint.At("sweep-point-done")
			}
		}()
	}
	for _, p := range run {
		mu.Lock()
		stop := stopErr != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if stopErr != nil {
		var ee *exitError
		if errors.As(stopErr, &ee) {
			return nil, &exitError{ee.code, stopErr}
		}
		return nil, stopErr
	}
	for _, p := range run {
		if id, ok := fails[p.Index]; ok {
			failed = append(failed, id)
		}
	}
	return failed, nil
}

// runPoint runs one point as `sim run BASE --set ... -o DIR -q` would.
func runPoint(cmd *cobra.Command, sw *scenarios.Sweep, p *scenarios.SweepPoint, dir string, force bool) error {
	sc, err := sw.Scenario(p)
	if err != nil {
		return usageErr(err)
	}
	_, _, _, err = runLoaded(cmd, sw.BasePath, sc, sw.BaseData, &runFlags{out: dir, force: force, quiet: true})
	return err
}

// writeSweepTables writes sweep.csv and summary.txt (each atomically)
// from the points' reports under dir, then the figures and index.html.
// It returns the rows read and summary.txt's text.
func writeSweepTables(dir string, m *scenarios.SweepManifest) (rows []scenarios.SweepRow, summary []byte, err error) {
	rows, _, err = scenarios.ReadSweepRows(dir, m)
	if err != nil {
		return nil, nil, failedErr(fmt.Errorf("reading the points' reports: %w", err))
	}
	if err := writeSweepFile(filepath.Join(dir, scenarios.SweepTableFile), scenarios.SweepCSV(m, rows)); err != nil {
		return nil, nil, failedErr(err)
	}
	killpoint.At("sweep-wrote-table")
	summary = scenarios.SweepSummary(m, rows)
	if err := writeSweepFile(filepath.Join(dir, scenarios.SweepSummaryFile), summary); err != nil {
		return nil, nil, failedErr(err)
	}
	if err := writeSweepPage(dir, m, rows, summary); err != nil {
		return nil, nil, failedErr(fmt.Errorf("the sweep's figures and index.html: %w", err))
	}
	return rows, summary, nil
}

// writeSweepFile writes one of a sweep's files atomically (a reader
// sees the old file or the new one) and syncs its folder.
func writeSweepFile(path string, data []byte) error {
	if err := writeFileAtomic(path, data, true); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// sweepLock is a sweep folder held by this process (DIR/.lock, flock).
type sweepLock struct {
	f    *os.File
	path string
}

func (l *sweepLock) release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}

// lockSweepDir creates dir if needed and takes its lock.
func lockSweepDir(dir string) (*sweepLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, usageErr(fmt.Errorf("output folder %s: %w", dir, err))
	}
	path := filepath.Join(dir, ".lock")
	for range 5 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, usageErr(fmt.Errorf("output folder %s: cannot create its lock file: %w", dir, err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, usageErr(fmt.Errorf("output folder %s is being written by another sweep (it holds %s); wait for it or choose another folder", dir, path))
			}
			return nil, usageErr(fmt.Errorf("output folder %s: cannot lock %s: %w", dir, path, err))
		}
		// The holder before us removes the file as it releases it.
		var a, b syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Stat(path, &b) == nil && a.Ino == b.Ino && a.Dev == b.Dev {
			return &sweepLock{f: f, path: path}, nil
		}
		f.Close()
	}
	return nil, usageErr(fmt.Errorf("output folder %s: its lock file keeps changing; is another sweep starting?", dir))
}

// openSweepDir checks and locks the output folder and writes the
// manifest. A folder holding a sweep is continued with resume (the same
// sweep only) or run again with force; any other non-empty folder needs
// force.
func openSweepDir(dir string, m *scenarios.SweepManifest, resume, force bool) (*sweepLock, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, usageErr(fmt.Errorf("output folder %s exists and is not a folder", dir))
	}
	lock, err := lockSweepDir(dir)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.release()
		}
	}()
	old, err := scenarios.ReadSweepManifest(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !force && !emptyBut(dir, ".lock") {
			return nil, usageErr(fmt.Errorf("output folder %s exists and is not empty; choose another one, or --force to write the sweep into it", dir))
		}
	case err != nil:
		if !force {
			return nil, usageErr(fmt.Errorf("output folder %s: %w (--force runs the sweep again there)", dir, err))
		}
	case resume:
		if why := m.SameSweep(old); why != "" {
			return nil, usageErr(fmt.Errorf("output folder %s holds %s; --resume continues the same sweep only (--force runs this one there)", dir, why))
		}
	case !force:
		return nil, usageErr(fmt.Errorf("output folder %s holds a sweep already; --resume finishes it, --force runs every point again", dir))
	}
	if err := writeSweepFile(filepath.Join(dir, scenarios.SweepManifestFile), m.Encode()); err != nil {
		return nil, usageErr(err)
	}
	ok = true
	return lock, nil
}

// emptyBut reports whether dir holds nothing but the named entries.
func emptyBut(dir string, names ...string) bool {
	es, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range es {
		if !slices.Contains(names, e.Name()) {
			return false
		}
	}
	return true
}

type mergeFlags struct {
	out   string
	force bool
	quiet bool
}

func newSweepMergeCmd() *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{
		Use:   "merge DIR... -o OUT",
		Short: "Combine the folders of a sweep's shards into one",
		Long: `Combine the output folders of a sweep's shards (sim sweep --shard i/n) into
OUT: every point's report is hard-linked (else copied) into OUT/points/,
then OUT/sweep.csv and OUT/summary.txt are written as one machine running
the whole sweep writes them, byte for byte. The folders must hold the same
sweep (the same sweep file and base scenario). A point that no folder
holds is listed, and the command exits 1.`,
		Example: `  sim sweep merge out/shard-0 out/shard-1 out/shard-2 -o out/fvk`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("merge needs the shards' folders\nUsage: %s", cmd.UseLine()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd, args, &f)
		},
	}
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "the merged folder (required)")
	cmd.Flags().BoolVar(&f.force, "force", false, "write into an existing folder, replacing its points' reports")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print the summary")
	return cmd
}

func runMerge(cmd *cobra.Command, dirs []string, f *mergeFlags) error {
	if f.out == "" {
		return usageErr(fmt.Errorf("merge: -o OUT is required"))
	}
	outAbs, _ := filepath.Abs(f.out)
	var m *scenarios.SweepManifest
	for _, d := range dirs {
		if a, _ := filepath.Abs(d); a == outAbs {
			return usageErr(fmt.Errorf("merge: %s is both a shard and the output; write the merge into another folder", d))
		}
		dm, err := scenarios.ReadSweepManifest(d)
		if err != nil {
			return usageErr(fmt.Errorf("merge: %s is not a sweep's folder: %w", d, err))
		}
		if m == nil {
			m = dm
		} else if why := m.SameSweep(dm); why != "" {
			return usageErr(fmt.Errorf("merge: %s holds %s than %s", d, why, dirs[0]))
		}
	}
	if st, err := os.Stat(f.out); err == nil && !st.IsDir() {
		return usageErr(fmt.Errorf("output folder %s exists and is not a folder", f.out))
	}
	lock, err := lockSweepDir(f.out)
	if err != nil {
		return err
	}
	defer lock.release()
	if !f.force && !emptyBut(f.out, ".lock") {
		return usageErr(fmt.Errorf("output folder %s exists and is not empty; choose another one, or --force", f.out))
	}
	if err := writeSweepFile(filepath.Join(f.out, scenarios.SweepManifestFile), m.Encode()); err != nil {
		return usageErr(err)
	}
	outPoints := filepath.Join(f.out, scenarios.SweepPointsDir)
	if err := os.MkdirAll(outPoints, 0o755); err != nil {
		return failedErr(err)
	}
	var missing []string
	for _, p := range m.Points {
		src := ""
		for _, d := range dirs {
			pd := filepath.Join(d, scenarios.SweepPointsDir, p.ID)
			if _, err := os.Stat(filepath.Join(pd, report.ResultsFile)); err != nil {
				continue
			}
			if _, err := scenarios.ReadSweepRow(pd, p, m.BaseSHA256); err != nil {
				return usageErr(fmt.Errorf("merge: %w", err))
			}
			src = pd
			break
		}
		if src == "" {
			missing = append(missing, p.ID)
			continue
		}
		if err := installCopy(src, filepath.Join(outPoints, p.ID)); err != nil {
			return failedErr(fmt.Errorf("merge: point %s: %w", p.ID, err))
		}
	}
	rows, summary, err := writeSweepTables(f.out, m)
	if err != nil {
		return err
	}
	if !f.quiet {
		cmd.Print(string(summary))
		cmd.Printf("\nmerged into %s (%d points, %d with results)\n", f.out, len(m.Points), len(rows))
	}
	if len(missing) > 0 {
		if len(missing) > 10 {
			missing = append(missing[:10], fmt.Sprintf("… (%d in all)", len(missing)))
		}
		return failedErr(fmt.Errorf("merge: no folder holds the report of %s; run the shards that hold them (with --resume) and merge again", strings.Join(missing, ", ")))
	}
	return nil
}

// installCopy puts a copy of folder src (hard links, else copies) at dst
// atomically: built beside dst, then renamed into place; an existing dst
// is replaced.
func installCopy(src, dst string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := linkTree(src, tmp); err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err == nil {
		old := tmp + ".old"
		if err := os.Rename(dst, old); err != nil {
			return err
		}
		defer os.RemoveAll(old)
	}
	return os.Rename(tmp, dst)
}

// linkTree fills folder dst (existing) with src's entries: files hard
// linked, else copied; folders recreated.
func linkTree(src, dst string) error {
	es, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range es {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case e.IsDir():
			if err := os.Mkdir(d, 0o755); err != nil {
				return err
			}
			if err := linkTree(s, d); err != nil {
				return err
			}
		case e.Type().IsRegular():
			if os.Link(s, d) == nil {
				continue
			}
			if err := copyFile(s, d); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is not a file or a folder", s)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// runProgress shows a long run's progress on a terminal: jobs done of
// jobs submitted, with the simulated time and an estimate of the time
// left. It returns the function that clears it. A run shorter than
// engine.ProgressEvery events shows nothing.
func runProgress(eng *engine.Engine, errOut io.Writer) (done func()) {
	if !isTerminal(errOut) {
		return func() {}
	}
	var bar *progressbar.ProgressBar
	eng.OnProgress(func(p engine.Progress) {
		if bar == nil {
			bar = progressbar.NewOptions(max(p.Jobs, 1),
				progressbar.OptionSetWriter(errOut),
				progressbar.OptionShowCount(),
				progressbar.OptionSetItsString("jobs"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		if p.Jobs > bar.GetMax() {
			bar.ChangeMax(p.Jobs)
		}
		bar.Describe(fmt.Sprintf("simulated %.0f s, jobs done", p.Now))
		bar.Set(p.JobsDone)
	})
	return func() {
		if bar != nil {
			bar.Finish()
		}
	}
}
