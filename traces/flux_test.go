package traces

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const fxData = "testdata/flux"

// fxRead reads one fixture with format detection and checks the format
// detected.
func fxRead(t *testing.T, name, want string) *Trace {
	t.Helper()
	tr := &Trace{Start: NaN}
	f, err := ReadFile(tr, filepath.Join(fxData, name), "")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Name != want {
		t.Fatalf("%s detected as %s, want %s", name, f.Name, want)
	}
	return tr
}

// fxSame compares floats, NaN equal to NaN.
func fxSame(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func fxJob(t *testing.T, tr *Trace, id string) *Job {
	t.Helper()
	j := tr.FindJob(id)
	if j == nil {
		var ids []string
		for _, j := range tr.Jobs {
			ids = append(ids, j.ID)
		}
		t.Fatalf("no job %q (jobs: %v)", id, ids)
	}
	return j
}

func fxHasNote(tr *Trace, key string) bool {
	return slices.ContainsFunc(tr.Notes, func(n *Note) bool { return n.Key == key })
}

func TestExpandHostlist(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  string
	}{
		{"node[1-3,5]", []string{"node1", "node2", "node3", "node5"}, ""},
		{"gpu[01-03]", []string{"gpu01", "gpu02", "gpu03"}, ""},
		{"n[09-10]", []string{"n09", "n10"}, ""},
		{"n[8-10]", []string{"n8", "n9", "n10"}, ""},
		{"login1,node[2-3]-ib,x", []string{"login1", "node2-ib", "node3-ib", "x"}, ""},
		{"i-05342cddb1d5e588a,i-0abc", []string{"i-05342cddb1d5e588a", "i-0abc"}, ""},
		{"", nil, ""},
		{"n[0-999999999]", nil, "more than 1000000 hosts"},
		{"n[0-500000],m[0-500000]", nil, "more than 1000000 hosts"},
		{"n[3-1]", nil, "runs backwards"},
		{"n[1-x]", nil, "not a non-negative integer"},
		{"n[1-2", nil, "no ']'"},
		{"n1]", nil, "without '['"},
		{"r[1-2]n[1-2]", nil, "more than one bracketed range"},
		{"n[]", nil, "empty range list"},
		{"a,,b", nil, "an empty host"},
		{"n[99999999999999999999]", nil, "not a non-negative integer"},
	} {
		got, err := ExpandHostlist(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ExpandHostlist(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ExpandHostlist(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestCompressHostlist(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"node1", "node2", "node3", "node5"}, "node[1-3,5]"},
		{[]string{"gpu01", "gpu02", "gpu03"}, "gpu[01-03]"},
		{[]string{"n09", "n10"}, "n[09-10]"},
		{[]string{"n8", "n9", "n10"}, "n[8-10]"},
		{[]string{"login", "node7"}, "login,node7"},
		{[]string{"n5", "n1", "n2"}, "n[5,1-2]"},
		{[]string{"a1", "b1", "a2"}, "a1,b1,a2"},
		{[]string{"n1", "n01"}, "n[1,01]"},
		{nil, ""},
	} {
		got := CompressHostlist(c.names)
		if got != c.want {
			t.Errorf("CompressHostlist(%v) = %q, want %q", c.names, got, c.want)
		}
		back, err := ExpandHostlist(got)
		if err != nil || !slices.Equal(back, c.names) {
			t.Errorf("ExpandHostlist(%q) = %v, %v; want %v back", got, back, err, c.names)
		}
	}
}

func TestExpandIDSet(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  string
	}{
		{"0-3,7", []int{0, 1, 2, 3, 7}, ""},
		{"[0-2,4]", []int{0, 1, 2, 4}, ""},
		{"5", []int{5}, ""},
		{"", nil, ""},
		{"0-999999999", nil, "more than 1000000 ids"},
		{"-1", nil, "not a non-negative integer"},
		{"3-1", nil, "runs backwards"},
		{"4294967296", nil, "too large"},
	} {
		got, err := ExpandIDSet(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ExpandIDSet(%q) = %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ExpandIDSet(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	for _, c := range []struct {
		status       int64
		code, signal int
	}{{0, 0, 0}, {256, 1, 0}, {768, 3, 0}, {9, 0, 9}, {15, 0, 15}, {139, 0, 11}} {
		code, sig := fxWaitStatus(c.status)
		if code != c.code || sig != c.signal {
			t.Errorf("fxWaitStatus(%d) = %d, %d; want %d, %d", c.status, code, sig, c.code, c.signal)
		}
	}
}

func TestFileJobID(t *testing.T) {
	for in, want := range map[string]string{
		"ƒ2Ab5.eventlog":             "ƒ2Ab5",
		"/x/12345.eventlog.gz":       "12345",
		"job.ƒ2Ab5.eventlog":         "ƒ2Ab5",
		"runs/4567.exec.eventlog":    "4567",
		"jobspec.yaml":               "jobspec",
		"-":                          "stdin",
		"some/dir/f2Ab5":             "f2Ab5",
		"job.12345.guest.exec.jsonl": "12345",
	} {
		if got := fxFileJobID(in); got != want {
			t.Errorf("fxFileJobID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFluxDetection reads every fixture with detection: each is taken
// for its own format only.
func TestFluxDetection(t *testing.T) {
	for name, want := range map[string]string{
		"jobs.json":           "flux-jobs",
		"jobs-array.json":     "flux-jobs",
		"jobs.jsonl":          "flux-jobs",
		"ƒ2Ab5.eventlog":      "flux-eventlog",
		"several.eventlog":    "flux-eventlog",
		"exec.eventlog":       "flux-exec-eventlog",
		"jobspec.yaml":        "jobspec",
		"jobspec.json":        "jobspec",
		"R.json":              "R",
		"job-R.json":          "R",
		"jobspec-events.json": "flux-jobspec-events",
	} {
		in, err := OpenInput(filepath.Join(fxData, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Detect(in)
		in.Close()
		if err != nil || f.Name != want {
			t.Errorf("%s: detected %v, %v; want %s", name, f, err, want)
		}
	}
}

// fxFixtures lists the fixtures by format (for the fuzz seeds and the
// hostile tests).
func fxFixtures(t testing.TB, format string) [][]byte {
	byFormat := map[string][]string{
		"flux-jobs":           {"jobs.json", "jobs-array.json", "jobs.jsonl"},
		"flux-eventlog":       {"ƒ2Ab5.eventlog", "several.eventlog"},
		"flux-exec-eventlog":  {"exec.eventlog"},
		"jobspec":             {"jobspec.yaml", "jobspec.json"},
		"R":                   {"R.json", "job-R.json"},
		"flux-jobspec-events": {"jobspec-events.json"},
	}
	var out [][]byte
	for _, name := range byFormat[format] {
		b, err := os.ReadFile(filepath.Join(fxData, name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// fxSameJob compares two jobs field by field (Line aside: a writer's
// output has its own lines), reporting the differences.
func fxSameJob(t *testing.T, what string, a, b *Job) {
	t.Helper()
	type f struct {
		name string
		x, y any
	}
	for _, d := range []f{
		{"ID", a.ID, b.ID}, {"Name", a.Name, b.Name}, {"Kind", a.Kind, b.Kind}, {"User", a.User, b.User},
		{"Queue", a.Queue, b.Queue}, {"Scheduler", a.Scheduler, b.Scheduler},
		{"Nodes", a.Nodes, b.Nodes}, {"Tasks", a.Tasks, b.Tasks}, {"CoresPerTask", a.CoresPerTask, b.CoresPerTask},
		{"GPUsPerTask", a.GPUsPerTask, b.GPUsPerTask}, {"MemoryPerTask", a.MemoryPerTask, b.MemoryPerTask},
		{"Exclusive", a.Exclusive, b.Exclusive}, {"Walltime", a.Walltime, b.Walltime},
		{"NodeList", a.NodeList, b.NodeList}, {"Procs", a.Procs, b.Procs}, {"Status", a.Status, b.Status},
		{"ExitCode", a.ExitCode, b.ExitCode}, {"App", a.App, b.App}, {"Params", a.Params, b.Params},
		{"Events", a.Events, b.Events},
	} {
		if !reflect.DeepEqual(d.x, d.y) && !(fxEmpty(d.x) && fxEmpty(d.y)) {
			t.Errorf("%s: job %s: %s %v, then %v", what, a.ID, d.name, d.x, d.y)
		}
	}
	for _, d := range []f{{"Submit", a.Submit, b.Submit}, {"Alloc", a.Alloc, b.Alloc}, {"Start", a.Start, b.Start},
		{"End", a.End, b.End}, {"Startup", a.Startup, b.Startup}} {
		if !fxSame(d.x.(float64), d.y.(float64)) {
			t.Errorf("%s: job %s: %s %v, then %v", what, a.ID, d.name, d.x, d.y)
		}
	}
}

func fxEmpty(v any) bool {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Slice, reflect.Map:
		return r.Len() == 0
	}
	return false
}

// TestFluxDetectsOnlyItsOwn runs detection over the other formats' files
// (the fixtures of the other readers and the real samples): none is
// taken for a Flux format.
func TestFluxDetectsOnlyItsOwn(t *testing.T) {
	flux := []string{"flux-jobs", "flux-eventlog", "flux-exec-eventlog", "jobspec", "R", "flux-jobspec-events"}
	var paths []string
	filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, filepath.Join("testdata", "flux")) && !strings.Contains(p, "fuzz") {
			paths = append(paths, p)
		}
		return nil
	})
	for _, s := range []string{"formats/k8s-events-osu-128.jsonl", "flux-usernetes-aws/lammps-pods-pull-32.json", "pod-startup/pod-times.csv"} {
		paths = append(paths, filepath.Join("../../shared/data", s))
	}
	checked := 0
	for _, p := range paths {
		in, err := OpenInput(p)
		if err != nil {
			continue
		}
		f, err := Detect(in)
		in.Close()
		checked++
		if err == nil && slices.Contains(flux, f.Name) {
			t.Errorf("%s detected as %s", p, f.Name)
		}
	}
	t.Logf("%d files of other formats checked", checked)
}
