package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares every output file of the hand-built runs with
// testdata/golden/<case>/<file>. Regenerate with
//
//	go test ./report/ -run TestGolden -update
//
// and review the diff.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name    string
		stalled bool
	}{{"complete", false}, {"stalled", true}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := Write(dir, fixture(c.stalled), fixtureMeta(), Options{}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", c.name)
			for _, name := range Files() {
				if isImage(name) {
					continue // figures: TestRunFigures*, and determinism below
				}
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(golden, name)
				if *update {
					if err := os.MkdirAll(golden, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, path, firstDiff(want, got))
				}
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl
		}
	}
	return "(no line differs)"
}

// readAll returns the files of dir by name.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			out[e.Name()+"/"] = nil
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// names returns the sorted entry names of dir.
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

func TestWriteDeterministic(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	res := fixture(true)
	if err := Write(a, res, fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	// A fresh but equal Result, and a Meta whose map was filled in another order.
	meta := fixtureMeta()
	meta.Settings = map[string]string{}
	keys := []string{"horizon", "kube.percentageOfNodesToScore", "startup.bindLatency"}
	for i := len(keys) - 1; i >= 0; i-- {
		meta.Settings[keys[i]] = fixtureMeta().Settings[keys[i]]
	}
	if err := Write(b, fixture(true), meta, Options{}); err != nil {
		t.Fatal(err)
	}
	fa, fb := readAll(t, a), readAll(t, b)
	if len(fa) != len(Files()) {
		t.Fatalf("wrote %d files, want %d", len(fa), len(Files()))
	}
	for name, want := range fa {
		if !bytes.Equal(want, fb[name]) {
			t.Errorf("%s differs between two writes of the same run:\n%s", name, firstDiff(want, fb[name]))
		}
	}
	// Write does not modify the Result: the records stay in engine order.
	if res.Records[20].T != 5.0 || res.Records[21].T != 4.5 {
		t.Errorf("Write reordered res.Records")
	}
}

func TestWriteRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, fixture(false), fixtureMeta(), Options{})
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("err = %v, want ErrNotEmpty", err)
	}
	want := "output folder " + dir + " already exists and is not empty (use --force to overwrite)"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("folder holds %v after a refused write", got)
	}
	if got := names(t, filepath.Dir(dir)); len(got) != 1 {
		t.Errorf("parent holds %v: a temporary folder was left behind", got)
	}
}

func TestWriteEmptyExistingDir(t *testing.T) {
	dir := t.TempDir() // exists, empty: allowed without Force
	if err := Write(dir, fixture(false), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(Files())
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestWriteForce(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, fixture(true), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	stalled := readAll(t, dir)
	// Another writer's file and folder in the same output folder.
	if err := os.WriteFile(filepath.Join(dir, "notes.html"), []byte("<html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "plots"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, fixture(false), fixtureMeta(), Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("without Force: %v", err)
	}
	if err := Write(dir, fixture(false), fixtureMeta(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, dir)
	if string(got["notes.html"]) != "<html>" {
		t.Errorf("Force touched a file it does not produce: notes.html = %q", got["notes.html"])
	}
	if _, ok := got["plots/"]; !ok {
		t.Errorf("Force removed the plots folder")
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if err := Write(fresh, fixture(false), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, fresh)
	for _, name := range Files() {
		if !bytes.Equal(got[name], want[name]) {
			t.Errorf("%s was not replaced by the forced write", name)
		}
		if bytes.Equal(got[name], stalled[name]) {
			t.Errorf("%s still holds the first run", name)
		}
	}
	if len(got) != len(Files())+2 {
		t.Errorf("folder holds %d entries, want %d", len(got), len(Files())+2)
	}
}

// checkParent asserts that parent holds exactly the entries want.
func checkParent(t *testing.T, parent string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := names(t, parent); !slices.Equal(got, want) {
		t.Errorf("%s holds %v, want %v (temporary files left behind?)", parent, got, want)
	}
}

func TestWriteDirIsFile(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.WriteFile(dir, []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		if err := Write(dir, fixture(false), fixtureMeta(), Options{Force: force}); err == nil {
			t.Fatalf("Force=%v: no error writing into a file", force)
		}
		if b, _ := os.ReadFile(dir); string(b) != "a file" {
			t.Errorf("the file was changed: %q", b)
		}
		checkParent(t, parent, "out")
	}
}

func TestWriteForceTargetIsDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ResultsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, fixture(false), fixtureMeta(), Options{Force: true})
	if err == nil || !strings.Contains(err.Error(), "results.json exists and is not a regular file") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, SummaryFile)); string(b) != "old" {
		t.Errorf("summary.txt was replaced although the write failed: %q", b)
	}
	checkParent(t, filepath.Dir(dir), filepath.Base(dir))
}

// TestWriteFailureLeavesNothing makes the final move fail and checks that
// neither the output folder nor a temporary folder remains.
func TestWriteFailureLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	defer func(r func(string, string) error) { rename = r }(rename)
	rename = func(string, string) error { return &fs.PathError{Op: "rename", Path: dir, Err: errors.New("injected")} }
	if err := Write(dir, fixture(true), fixtureMeta(), Options{}); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	checkParent(t, parent)
}

func TestWriteBrokenResultWritesNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	res := fixture(false)
	res.Records = append(res.Records, fixture(false).Records[1])
	res.Records[len(res.Records)-1].Pod = 99 // no such pod
	err := Write(dir, res, fixtureMeta(), Options{})
	if err == nil || !strings.Contains(err.Error(), "no pod with id 99") {
		t.Fatalf("err = %v", err)
	}
	checkParent(t, parent)
}

func TestWriteMetaMismatch(t *testing.T) {
	parent := t.TempDir()
	meta := fixtureMeta()
	meta.Seed = 7
	if err := Write(filepath.Join(parent, "a"), fixture(false), meta, Options{}); err == nil || !strings.Contains(err.Error(), "seed 7") {
		t.Errorf("seed mismatch: %v", err)
	}
	meta = fixtureMeta()
	meta.Policy = "fluence"
	if err := Write(filepath.Join(parent, "b"), fixture(false), meta, Options{}); err == nil || !strings.Contains(err.Error(), `"fluence"`) {
		t.Errorf("policy mismatch: %v", err)
	}
	checkParent(t, parent)
	// Seed 0 and an empty policy are taken from the Result.
	meta = Meta{}
	dir := filepath.Join(parent, "c")
	if err := Write(dir, fixture(false), meta, Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ResultsFile))
	if !bytes.Contains(b, []byte(`"seed": 42,`)) || !bytes.Contains(b, []byte(`"policy": "first-fit",`)) {
		t.Errorf("seed or policy not taken from the Result:\n%s", b[:400])
	}
}

// TestUnsetValues checks how a pod with no timestamps but its creation is
// written: empty CSV cells, JSON null, "-" in summary.txt.
func TestUnsetValues(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, fixture(true), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	f := readAll(t, dir)
	pods := strings.Split(string(f[PodsFile]), "\n")
	// batch-1 (id 4): created at 5.75, nothing after.
	wantRow := "4,batch-1,2,batch,1,,Pending,6000,1073741824,0,5.750000,,,,,,,,,,,4,0,0.000000,0/2 nodes are available: 2 Insufficient cpu."
	if pods[5] != wantRow {
		t.Errorf("pods.csv row of batch-1:\n got %s\nwant %s", pods[5], wantRow)
	}
	if bytes.Contains(f[ResultsFile], []byte("NaN")) || bytes.Contains(f[EventsFile], []byte("NaN")) {
		t.Errorf("NaN leaked into JSON")
	}
	if !bytes.Contains(f[ResultsFile], []byte(`"makespan": null`)) {
		t.Errorf("an incomplete run's makespan is not null")
	}
	for _, name := range Files() {
		if bytes.Contains(f[name], []byte("NaN")) {
			t.Errorf("%s contains NaN", name)
		}
	}
	if !strings.HasPrefix(string(f[SummaryFile]), "converge run summary\n\n!!! RUN STALLED") {
		t.Errorf("summary.txt of a stalled run does not start with the stall banner:\n%s", f[SummaryFile])
	}
}

func TestEventsSortedByTime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, fixture(false), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, EventsFile))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(fixture(false).Records) {
		t.Fatalf("%d lines for %d records", len(lines), len(fixture(false).Records))
	}
	// web's Ready (recorded at 4.0 for 5.0) moves after mpi-1's Pulled at 4.5.
	i := slices.Index(lines, `{"t":4.5,"event":"Pulled","pod":"mpi-1","job":"mpi","node":"node-b","msg":"registry.example/mpi:1"}`)
	j := slices.Index(lines, `{"t":5,"event":"Ready","pod":"web","job":"web","node":"node-a"}`)
	if i < 0 || j < 0 || i > j {
		t.Errorf("events not sorted by time (Pulled at line %d, Ready at line %d)", i, j)
	}
	if lines[0] != `{"t":0,"event":"JobSubmitted","job":"mpi"}` {
		t.Errorf("first event %s", lines[0])
	}
}

// Where the folders cannot be exchanged, the old report is moved aside
// and the new one in; the user's files are still carried over, and a
// nested folder of theirs keeps its files.
func TestWriteForceWithoutExchange(t *testing.T) {
	defer func(f func(a, b string) error) { exchange = f }(exchange)
	exchange = func(a, b string) error { return &os.LinkError{Op: "exchange", Old: a, New: b, Err: syscall.EINVAL} }
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := Write(dir, fixture(true), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "plots", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plots", "deep", "a.png"), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, fixture(false), fixtureMeta(), Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "plots", "deep", "a.png")); err != nil || string(b) != "png" {
		t.Errorf("the user's nested file: %q, %v", b, err)
	}
	checkParent(t, parent, "out")
}

// A run killed between moving the old report aside and moving the new one
// in leaves the old report in .out.old-*; the next Open puts it back
// before anything else.
func TestOpenRestoresReportMovedAside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := Write(dir, fixture(true), fixtureMeta(), Options{}); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, dir)
	if err := os.Rename(dir, filepath.Join(parent, ".out.old-123")); err != nil {
		t.Fatal(err)
	}
	// Also a stale temporary folder of a killed run.
	if err := os.MkdirAll(filepath.Join(parent, ".out.tmp-456"), 0o755); err != nil {
		t.Fatal(err)
	}
	o, err := Open(dir, Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, dir); len(got) != len(want) || !bytes.Equal(got[ResultsFile], want[ResultsFile]) {
		t.Errorf("the old report was not restored: %v", names(t, dir))
	}
	o.Abort()
	checkParent(t, parent, "out")
}

// Two Opens of one folder: the second is refused while the first holds it.
func TestOpenLocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	a, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "being written by another run") {
		t.Fatalf("second Open: %v", err)
	}
	a.Abort()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Abort: %v", err)
	}
	b.Abort()
}

// TestWriteDuplicatePodIDs: two pods with one id, whether the id is in
// the engine's 0..len-1 range or not, are refused before anything is
// written.
func TestWriteDuplicatePodIDs(t *testing.T) {
	for _, id := range []int{0, 1000} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "out")
		res := fixture(false)
		if len(res.Pods) < 2 {
			t.Fatal("fixture has fewer than two pods")
		}
		a, b := *res.Pods[0], *res.Pods[1]
		a.ID, b.ID = id, id
		res.Pods[0], res.Pods[1] = &a, &b
		err := Write(dir, res, fixtureMeta(), Options{})
		if want := fmt.Sprintf("two pods with id %d", id); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("id %d: err = %v, want %q", id, err, want)
		}
		checkParent(t, parent)
	}
}
