package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/convergesim/converge/internal/killpoint"
	"github.com/convergesim/converge/report"
)

var (
	simBinOnce sync.Once
	simBin     string
	simBinErr  error
)

// buildSim builds the sim binary once per test process.
func buildSim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sim binary; skipped under -short")
	}
	simBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sim-bin-")
		if err != nil {
			simBinErr = err
			return
		}
		simBin = filepath.Join(dir, "sim")
		out, err := exec.Command("go", "build", "-o", simBin, ".").CombinedOutput()
		if err != nil {
			simBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if simBinErr != nil {
		t.Fatal(simBinErr)
	}
	return simBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if simBin != "" {
		os.RemoveAll(filepath.Dir(simBin))
	}
	os.Exit(code)
}

// A panic anywhere under a command is a bug: exit 3 and a request for a
// report, not the bad-input code.
func TestPanicExitsInternal(t *testing.T) {
	defer func(f func(io.Writer, io.Writer) *cobra.Command) { newRoot = f }(newRoot)
	newRoot = func(out, errOut io.Writer) *cobra.Command {
		root := newRootCmd(out, errOut)
		root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
			var m map[string]int
			m["x"] = 1 // assignment to a nil map
			return nil
		}})
		return root
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"boom"}, &stdout, &stderr)
	if code != exitInternal {
		t.Errorf("exit %d, want %d", code, exitInternal)
	}
	msg := stderr.String()
	for _, want := range []string{"sim: internal error: assignment to entry in nil map", "please report it", "goroutine"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

// Output folder problems are bad input (exit 2), found before anything
// is simulated, and leave nothing behind.
func TestOutputFolderProblems(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out  string
		want string
	}{
		{file, "exists and is not a folder"},
		{filepath.Join(file, "sub"), "cannot create its parent folder"},
		{"/proc/converge-report", "/proc/converge-report"},
		{"/", "cannot write a report there"},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"run", scenario, "-o", tc.out, "-q"}, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("-o %s: exit %d, stderr %q; want exit %d mentioning %q", tc.out, code, stderr.String(), exitUsage, tc.want)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"file"}) {
		t.Errorf("left behind: %v", got)
	}
}

// A second run into a folder another run is writing is refused at once.
func TestConcurrentRunRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	o, err := report.Open(dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Abort()
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", scenario, "-o", dir, "-q"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "is being written by another run") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	o.Abort()
	if code := run([]string{"run", scenario, "-o", dir, "-q"}, &stdout, &stderr); code != 0 {
		t.Errorf("after the other run ended: exit %d, %s", code, stderr.String())
	}
}

// The summary printed is the run's own, from memory.
func TestSummaryPrintedFromMemory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", scenario, "-o", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), string(onDisk)) {
		t.Errorf("printed summary differs from summary.txt")
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	slices.Sort(n)
	return n
}

// readReport reads every file of a report folder (nil if it is absent).
func readReport(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameReport(a, b map[string][]byte) bool {
	if len(a) != len(b) || a == nil || b == nil {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// killStages are the points at which TestKillWhileWriting kills a run:
// while the event trace streams, after each file, after the user's files
// were carried over, after the folders were exchanged, after install.
var killStages = []string{
	"report-events-streaming", "report-events-closed",
	"report-wrote-" + report.SummaryFile, "report-wrote-" + report.ResultsFile,
	"report-wrote-" + report.JobsFile, "report-wrote-" + report.PodsFile,
	"report-carried-over", "report-exchanged", "report-installed",
}

// A run killed with SIGKILL at any stage of writing leaves the output
// folder holding either the old complete report or the new complete one
// (never a mix, and the user's own files kept); the next run into the
// folder leaves no temporary folder or lock behind.
func TestKillWhileWriting(t *testing.T) {
	bin := buildSim(t)
	base := t.TempDir()
	sim := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, stderr.String()
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal()), stderr.String()
			}
			return ee.ExitCode(), stderr.String()
		}
		t.Fatalf("sim %v: %v", args, err)
		return 0, ""
	}
	ref := map[string]map[string][]byte{}
	for _, seed := range []string{"1", "2"} {
		d := filepath.Join(base, "ref"+seed)
		if code, msg := sim(nil, "run", scenario, "-q", "-o", d, "--seed", seed); code != 0 {
			t.Fatalf("reference run: exit %d %s", code, msg)
		}
		ref[seed] = readReport(t, d)
	}
	notes := []byte("the user's own notes\n")
	for _, existing := range []bool{true, false} {
		for _, stage := range killStages {
			if !existing && stage == "report-carried-over" || !existing && stage == "report-exchanged" {
				continue // a new folder is renamed into place, not exchanged
			}
			name := fmt.Sprintf("existing=%v/%s", existing, stage)
			t.Run(name, func(t *testing.T) {
				parent := filepath.Join(base, strings.ReplaceAll(name, "/", "-"))
				dir := filepath.Join(parent, "out")
				var old map[string][]byte
				if existing {
					if code, msg := sim(nil, "run", scenario, "-q", "-o", dir, "--seed", "1"); code != 0 {
						t.Fatalf("first run: exit %d %s", code, msg)
					}
					if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o644); err != nil {
						t.Fatal(err)
					}
					old = readReport(t, dir)
				}
				code, msg := sim([]string{killpoint.Env + "=" + stage}, "run", scenario, "-q", "-o", dir, "--seed", "2", "--force")
				if code != -int(syscall.SIGKILL) {
					t.Fatalf("run was not killed at %s: exit %d %s", stage, code, msg)
				}
				got := readReport(t, dir)
				newWithNotes := maps2(ref["2"])
				if existing {
					newWithNotes["notes.txt"] = notes
				}
				switch {
				case existing && sameReport(got, old):
				case sameReport(got, newWithNotes):
				case !existing && got == nil:
				default:
					t.Fatalf("after a kill at %s the folder holds neither the old nor the new complete report: %v", stage, keys(got))
				}
				// The next run cleans up what the killed one left.
				if code, msg := sim(nil, "run", scenario, "-q", "-o", dir, "--seed", "1", "--force"); code != 0 {
					t.Fatalf("next run: exit %d %s", code, msg)
				}
				if left := names(t, parent); !slices.Equal(left, []string{"out"}) {
					t.Errorf("after the next run the parent holds %v, want only out", left)
				}
				want := maps2(ref["1"])
				if existing {
					want["notes.txt"] = notes
				}
				if !sameReport(readReport(t, dir), want) {
					t.Errorf("the next run's report is not complete")
				}
			})
		}
	}
}

// SIGINT or SIGTERM during a run removes the unfinished report, leaves
// the folder as it was, and exits 128+signal.
func TestSignalRemovesUnfinishedReport(t *testing.T) {
	bin := buildSim(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			cmd := exec.Command(bin, "run", scenario, "-q", "-o", dir)
			cmd.Env = append(os.Environ(), killpoint.Env+"=pause:report-events-streaming")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			paused := false
			for sc.Scan() {
				if strings.Contains(sc.Text(), "killpoint: paused at") {
					paused = true
					break
				}
			}
			if !paused {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("the run never reached the pause point")
			}
			if left := names(t, parent); len(left) != 2 { // .out.lock and .out.tmp-*
				t.Errorf("while running, the parent holds %v", left)
			}
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(stderr)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit %v, want %d", err, 128+int(sig))
			}
			if !strings.Contains(string(rest), "the unfinished report was removed") {
				t.Errorf("stderr: %s", rest)
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(names(t, parent)) > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if left := names(t, parent); len(left) != 0 {
				t.Errorf("after %v the parent holds %v", sig, left)
			}
		})
	}
}

func maps2(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}
