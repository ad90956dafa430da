package traces

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readSWFText reads an SWF document given as text, named name.
func readSWFText(t *testing.T, text, name, format string) (*Trace, error) {
	t.Helper()
	in, err := NewInput(strings.NewReader(text), name)
	if err != nil {
		return nil, err
	}
	tr := &Trace{Start: NaN}
	_, err = Read(tr, in, format)
	return tr, err
}

func TestReadSWFFixture(t *testing.T) {
	tr, err := Open([]string{"testdata/swf/small.swf"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Formats; len(got) != 1 || got[0] != "swf" {
		t.Fatalf("formats = %v, want [swf] (detected)", got)
	}
	if !tr.Relative || tr.Start != 1700000000 {
		t.Errorf("relative %v, start %v; want true, 1700000000", tr.Relative, tr.Start)
	}
	for k, want := range map[string]string{
		"Version":        "2.2",
		"MaxProcs":       "32",
		"MaxNodes":       "4",
		"TimeZoneString": "Europe/Zurich",
		"EndTime":        "Wed Nov 15 01:00:00 CET 2023",
		"Note": "a hand-written fixture covering every status,\n" +
			"unknown values, partial executions and a job larger than the machine\n" +
			"requested time is wall-clock time",
	} {
		if got := tr.Header[k]; got != want {
			t.Errorf("Header[%s] = %q, want %q", k, got, want)
		}
	}
	if len(tr.Jobs) != 9 {
		t.Fatalf("%d jobs, want 9 (job 6's partial executions folded into it)", len(tr.Jobs))
	}
	type want struct {
		id                      string
		submit, start, end, run float64
		tasks, procs            int
		walltime                float64
		mem                     int64
		status, user, queue     string
		params                  map[string]string
		line                    int
	}
	nan := math.NaN()
	for _, w := range []want{
		{"1", 0, 10, 110, nan, 8, 8, 600, 2048 * 1024, "completed", "1", "1",
			map[string]string{ParamExecutable: "1", ParamPartition: "1", ParamGroup: "1", ParamCPUTime: "95.5", ParamUsedMemory: "1024"}, 24},
		// requested processors unknown: the allocated taken.
		{"2", 5, 5, 35.5, nan, 1, 1, 0, 0, "failed", "2", "0",
			map[string]string{ParamPartition: "1", ParamGroup: "1"}, 25},
		// cancelled before it ran.
		{"3", 20, nan, nan, nan, 16, 0, 3600, 1024 * 1024, "cancelled", "1", "1",
			map[string]string{ParamExecutable: "2", ParamPartition: "1", ParamGroup: "1"}, 26},
		{"4", 30, 130, 175, nan, 4, 4, 120, 0, "cancelled", "3", "1",
			map[string]string{ParamExecutable: "3", ParamPartition: "1", ParamGroup: "2"}, 27},
		// wait unknown: the run time kept apart; preceding job and think time.
		{"5", 40, nan, nan, 200, 2, 2, 300, 0, "completed", "2", "1",
			map[string]string{ParamExecutable: "1", ParamPartition: "1", ParamGroup: "1", ParamPreceding: "1", ParamThinkTime: "60"}, 28},
		{"6", 50, 70, 570, nan, 16, 16, 1000, 512 * 1024, "completed", "1", "1",
			map[string]string{ParamExecutable: "4", ParamPartition: "1", ParamGroup: "1", ParamCPUTime: "480", ParamUsedMemory: "512"}, 29},
		// status unknown, run time unknown.
		{"7", 60, 65, nan, nan, 8, 8, 1000, 0, "", "4", "1",
			map[string]string{ParamExecutable: "5", ParamPartition: "1", ParamGroup: "2"}, 32},
		{"8", 70, 70, 73, nan, 64, 64, 10, 0, "failed", "4", "1",
			map[string]string{ParamExecutable: "5", ParamPartition: "1", ParamGroup: "2"}, 33},
		{"9", 80.25, 81, 93, nan, 2, 2, 60, 0, "completed", "5", "1",
			map[string]string{ParamExecutable: "6", ParamPartition: "1", ParamGroup: "1", ParamPreceding: "8", ParamThinkTime: "7.5"}, 34},
	} {
		j := tr.FindJob(w.id)
		if j == nil {
			t.Errorf("job %s missing", w.id)
			continue
		}
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if !same(j.Submit, w.submit) || !same(j.Start, w.start) || !same(j.End, w.end) || !same(j.RunTime, w.run) ||
			j.Tasks != w.tasks || j.Procs != w.procs || j.Walltime != w.walltime || j.MemoryPerTask != w.mem ||
			j.Status != w.status || j.User != w.user || j.Queue != w.queue || !maps.Equal(j.Params, w.params) ||
			j.Line != w.line || j.Kind != "SWF" || j.ExitCode != -1 || !math.IsNaN(j.Alloc) {
			t.Errorf("job %s = %+v\nwant %+v", w.id, *j, w)
		}
	}
	// Job 6's partial executions are events.
	j6 := tr.FindJob("6")
	wantEv := []Event{
		{T: 70, Name: PartialExecution, Context: map[string]any{"end": 270.0, "procs": 16, "status": "continued"}},
		{T: 450, Name: PartialExecution, Context: map[string]any{"end": 750.0, "procs": 16, "status": "completed"}},
	}
	if !reflect.DeepEqual(j6.Events, wantEv) {
		t.Errorf("job 6 events = %v, want %v", j6.Events, wantEv)
	}
	if d := tr.FindJob("5").Duration(); d != 200 {
		t.Errorf("job 5 duration = %v, want 200 (its recorded run time)", d)
	}
	if d := tr.FindJob("1").Duration(); d != 100 {
		t.Errorf("job 1 duration = %v, want 100", d)
	}
	notes := map[string]int{}
	for _, n := range tr.Notes {
		notes[n.Key] = n.Count
	}
	wantNotes := map[string]int{
		"swf-request-from-alloc": 1, // job 2
		"swf-cancelled-unrun":    1, // job 3 (job 4 ran 45 s)
		"swf-no-wait":            1, // job 5
		"swf-partial":            2, // job 6's two lines
		"swf-no-runtime":         1, // job 7
		"swf-over-maxprocs":      1, // job 8 (64 > 32)
	}
	if !maps.Equal(notes, wantNotes) {
		t.Errorf("notes = %v, want %v", notes, wantNotes)
	}
}

func TestReadSWFOthers(t *testing.T) {
	// A workload model's output: waits unknown, run times kept.
	tr, err := Open([]string{"testdata/swf/model.swf"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Jobs) != 3 || tr.Jobs[1].RunTime != 1250 || tr.Jobs[1].Tasks != 64 || Known(tr.Jobs[1].Start) ||
		tr.Jobs[1].User != "" || tr.Jobs[1].Params != nil || Known(tr.Start) {
		t.Errorf("model: %d jobs, job 2 = %+v", len(tr.Jobs), *tr.Jobs[1])
	}
	if len(tr.Notes) != 1 || tr.Notes[0].Key != "swf-no-wait" || tr.Notes[0].Count != 3 {
		t.Errorf("model notes = %+v", tr.Notes)
	}
	// A last line without its newline.
	tr, err = Open([]string{"testdata/swf/nonewline.swf"}, "")
	if err != nil || len(tr.Jobs) != 1 || tr.Jobs[0].End != 15 {
		t.Errorf("no final newline: %v, %+v", err, tr)
	}
	// Partial executions without their summary line: the job spans them.
	tr, err = Open([]string{"testdata/swf/partial-only.swf"}, "swf")
	if err != nil {
		t.Fatal(err)
	}
	j := tr.Jobs[0]
	if len(tr.Jobs) != 1 || j.Start != 15 || j.End != 90 || j.Status != "failed" || len(j.Events) != 2 || j.Tasks != 4 {
		t.Errorf("partial only: %+v", *j)
	}
	if c := tr.Header[SWFComment]; c != "a log holding the partial executions of job 3 without its summary line" {
		t.Errorf("comment = %q", c)
	}
	keys := []string{}
	for _, n := range tr.Notes {
		keys = append(keys, n.Key)
	}
	if strings.Join(keys, ",") != "swf-partial,swf-partial-no-summary" {
		t.Errorf("partial-only notes: %v", keys)
	}
}

func TestSWFErrors(t *testing.T) {
	const ok = "1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
	for _, tc := range []struct{ in, want string }{
		{"1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1\n", "j.swf:1: 17 fields where SWF has 18 (is it an SWF file?)"},
		{ok + "2 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1 0\n", "j.swf:2: 19 fields where SWF has 18"},
		{"1 0 5 ten 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: run time: not a number: "ten"`},
		{"1 0 5 NaN 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: run time: not a number: "NaN"`},
		{"1 0 5 10 1 -1 -1 Inf 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: requested processors: not a number: "Inf"`},
		{"1 0 -5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: wait time: "-5" is negative (SWF writes -1 for unknown)`},
		{"1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -2.5\n", `j.swf:1: think time: "-2.5" is negative`},
		{"1 2e10 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: submit time: "2e10" is beyond 1e+10`},
		{"1 0 5 1e400 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: run time: "1e400" is beyond 1e+10`},
		{"1 0 5 10 100000001 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: allocated processors: "100000001" is beyond 1e+08`},
		{"1 0 5 10 1 -1 -1 99999999999999999999999 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: requested processors: "99999999999999999999999" is beyond 1e+08`},
		{"1 0 5 10 1.5 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", `j.swf:1: allocated processors: "1.5" is not a whole number`},
		{"1 0 5 10 1 -1 -1 1 60 -1 7 1 1 -1 -1 -1 -1 -1\n", "j.swf:1: status: 7 is not an SWF status"},
		{"-1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", "j.swf:1: job number: unknown (-1): every job needs its number"},
		{ok + "; Note: x\n" + ok, "j.swf:3: job number: job 1 appears twice (first at line 1)"},
		{"; UnixStartTime: yesterday\n" + ok, `j.swf:1: UnixStartTime: not a Unix time from 0 to 1e+10: "yesterday"`},
		{"; MaxProcs: -4\n" + ok, `j.swf:1: MaxProcs: not a count from 1 to 1e+08: "-4"`},
		{"; MaxNodes: 1e300\n" + ok, `j.swf:1: MaxNodes: not a count from 1 to 1e+08: "1e300"`},
		{ok + "1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 " + strings.Repeat("9", 5000) + "\n", `j.swf:2: think time: "99999999999999999999999999999999999999999999999999999999999999999999999999999999"… (5000 bytes) is beyond 1e+10`},
		{ok + "2 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1\x00 -1 -1\n", "j.swf:2: binary data (a NUL byte): not a text trace"},
	} {
		_, err := readSWFText(t, tc.in, "j.swf", "swf")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60q: error %v\nwant %q", tc.in, err, tc.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%.60q: a %d-byte message", tc.in, len(err.Error()))
		}
	}
}

// TestSWFHostile: a 20 MB line, a truncated gzip file, and two files of
// the same job numbers give one error naming the file and the line.
func TestSWFHostile(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.swf")
	line := "1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"
	if err := os.WriteFile(long, []byte("; Version: 2.2\n"+line+strings.Repeat("7", 20<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open([]string{long}, "")
	if err == nil || err.Error() != long+":3: a line longer than 16 MiB (is it the right file?)" {
		t.Errorf("20 MB line: %v", err)
	}

	// A gzip file cut in the middle.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	fmt.Fprint(zw, "; Version: 2.2\n")
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(zw, "%d %d 5 10 1 -1 -1 1 60 -1 1 %d 1 -1 -1 -1 -1 -1\n", i, i*3, i%97)
	}
	zw.Close()
	cut := filepath.Join(dir, "cut.swf.gz")
	if err := os.WriteFile(cut, z.Bytes()[:z.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open([]string{cut}, "")
	if err == nil || !strings.HasPrefix(err.Error(), cut+":") || !strings.Contains(err.Error(), "the file is truncated or corrupt: unexpected EOF") {
		t.Errorf("truncated gzip: %v", err)
	}
	// The whole file reads, gzip-transparently.
	whole := filepath.Join(dir, "whole.swf.gz")
	if err := os.WriteFile(whole, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Open([]string{whole}, "")
	if err != nil || len(tr.Jobs) != 20000 || tr.Jobs[19999].Submit != 60000 {
		t.Errorf("gzip: %v", err)
	}

	// Two files of the same job numbers.
	_, err = Open([]string{"testdata/swf/model.swf", "testdata/swf/model.swf"}, "")
	if err == nil || err.Error() != "testdata/swf/model.swf:5: job number: job 1 is already in the trace (read from an earlier file)" {
		t.Errorf("same jobs twice: %v", err)
	}
}

func TestDetectSWF(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"; Version: 2.2\n; MaxProcs: 4\n1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", true},
		{"1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1", true},
		{"\n\n  1\t0\t5\t10\t1\t-1\t-1\t1\t60\t-1\t1\t1\t1\t-1\t-1\t-1\t-1\t-1\n", true},
		{"; Version: 2.2\n; Computer: x\n", true}, // a header only (so far)
		{"; Version: 2.2\n1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1\n", false},
		{"; Version: 2.2\n1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 x\n", false},
		{"; just a comment\n", false},
		{"1,0,5,10,1,-1,-1,1,60,-1,1,1,1,-1,-1,-1,-1,-1\n", false},
		{`{"kind": "List", "items": []}`, false},
		{JobsCSVHeader + "\n", false},
	} {
		if got := detectSWF([]byte(tc.head), nil); got != tc.want {
			t.Errorf("detectSWF(%.50q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

// swfDiffJobs compares two traces' jobs, matched by ID, field by field
// (times within tol seconds; Line and Pods not compared) and returns the
// differences.
func swfDiffJobs(a, b *Trace, tol float64) []string {
	var d []string
	if len(a.Jobs) != len(b.Jobs) {
		return []string{fmt.Sprintf("%d jobs, then %d", len(a.Jobs), len(b.Jobs))}
	}
	near := func(x, y float64) bool {
		return math.IsNaN(x) && math.IsNaN(y) || math.Abs(x-y) <= tol
	}
	for _, x := range a.Jobs {
		y := b.FindJob(x.ID)
		if y == nil {
			d = append(d, fmt.Sprintf("job %s: missing", x.ID))
			continue
		}
		vx, vy := reflect.ValueOf(*x), reflect.ValueOf(*y)
		for k := 0; k < vx.NumField(); k++ {
			name := vx.Type().Field(k).Name
			fx, fy := vx.Field(k), vy.Field(k)
			switch name {
			case "Line", "Pods":
				continue
			case "Events":
				if len(x.Events) != len(y.Events) {
					d = append(d, fmt.Sprintf("job %s: %d events, then %d", x.ID, len(x.Events), len(y.Events)))
					continue
				}
				for e := range x.Events {
					ex, ey := x.Events[e], y.Events[e]
					end := func(c map[string]any) float64 {
						if v, ok := c["end"].(float64); ok {
							return v
						}
						return NaN
					}
					if ex.Name != ey.Name || !near(ex.T, ey.T) || !near(end(ex.Context), end(ey.Context)) ||
						ex.Context["procs"] != ey.Context["procs"] || ex.Context["status"] != ey.Context["status"] {
						d = append(d, fmt.Sprintf("job %s event %d: %v, then %v", x.ID, e, ex, ey))
					}
				}
				continue
			}
			if fx.Kind() == reflect.Float64 {
				if !near(fx.Float(), fy.Float()) {
					d = append(d, fmt.Sprintf("job %s %s: %v, then %v", x.ID, name, fx.Float(), fy.Float()))
				}
				continue
			}
			if !reflect.DeepEqual(fx.Interface(), fy.Interface()) {
				d = append(d, fmt.Sprintf("job %s %s: %v, then %v", x.ID, name, fx.Interface(), fy.Interface()))
			}
		}
	}
	return d
}

// swfRoundTrip writes tr in format and reads it back.
func swfRoundTrip(t *testing.T, tr *Trace, format string) (*Trace, string) {
	t.Helper()
	f, err := LookupFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.Write(&out, tr); err != nil {
		t.Fatal(err)
	}
	back, err := readSWFText(t, out.String(), "written"+f.Ext, "")
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, out.String())
	}
	if back.Formats[0] != format {
		t.Fatalf("written %s detected as %s", format, back.Formats[0])
	}
	return back, out.String()
}

func TestSWFRoundTrip(t *testing.T) {
	for _, file := range []string{"small.swf", "model.swf", "partial-only.swf", "nonewline.swf"} {
		tr, err := Open([]string{filepath.Join("testdata/swf", file)}, "")
		if err != nil {
			t.Fatal(err)
		}
		back, text := swfRoundTrip(t, tr, "swf")
		for _, d := range swfDiffJobs(tr, back, 0) {
			t.Errorf("%s: %s", file, d)
		}
		if back.Relative != tr.Relative || !(back.Start == tr.Start || !Known(back.Start) && !Known(tr.Start)) {
			t.Errorf("%s: relative %v start %v, then %v %v", file, tr.Relative, tr.Start, back.Relative, back.Start)
		}
		for k, v := range tr.Header {
			if k != "Note" && k != "Computer" && k != "MaxJobs" && k != "MaxRecords" && back.Header[k] != v {
				t.Errorf("%s: header %s = %q, then %q", file, k, v, back.Header[k])
			}
		}
		if !strings.HasPrefix(text, "; Version: 2.2\n; Computer: converge\n") || !strings.Contains(text, "; Note: written by converge from a trace read as swf") {
			t.Errorf("%s: header:\n%s", file, text[:min(len(text), 400)])
		}
		// Writing again gives the same bytes.
		again, _ := swfRoundTrip(t, back, "swf")
		var b1, b2 bytes.Buffer
		WriteSWF(&b1, back)
		WriteSWF(&b2, again)
		if b1.String() != b2.String() {
			t.Errorf("%s: a second round trip differs:\n%s\n----\n%s", file, b1.String(), b2.String())
		}
	}
	tr, _ := Open([]string{"testdata/swf/small.swf"}, "")
	_, text := swfRoundTrip(t, tr, "swf")
	for _, want := range []string{
		"; UnixStartTime: 1700000000\n; MaxNodes: 4\n; MaxProcs: 32\n; Note: written by converge from a trace read as swf (recorded on Test cluster of 4 nodes, 8 cores each)\n",
		"; MaxJobs: 9\n; MaxRecords: 11\n",
		"; Note: a hand-written fixture covering every status,\n; Note: unknown values, partial executions and a job larger than the machine\n",
		"\n1 0 10 100 8 95.5 1024 8 600 2048 1 1 1 1 1 1 -1 -1\n",
		"\n5 40 -1 200 2 -1 -1 2 300 -1 1 2 1 1 1 1 1 60\n",
		"\n6 50 20 500 16 480 512 16 1000 512 1 1 1 4 1 1 -1 -1\n6 50 20 200 16 480 512 16 1000 512 2 1 1 4 1 1 -1 -1\n6 50 400 300 16 480 512 16 1000 512 3 1 1 4 1 1 -1 -1\n",
		"\n9 80.25 0.75 12 2 -1 -1 2 60 -1 1 5 1 6 1 1 8 7.5\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("written SWF lacks %q:\n%s", want, text)
		}
	}
}

// TestSWFWriteAbsolute: a wall-clock trace of named jobs and users is
// written relative to its earliest submission, renumbered; a job asked
// in nodes requests nodes × cores.
func TestSWFWriteAbsolute(t *testing.T) {
	tr := &Trace{Start: NaN}
	mk := func(id, user string, submit, start, end float64) *Job {
		j, _ := tr.Job(id)
		j.User, j.Submit, j.Start, j.End = user, submit, start, end
		return j
	}
	a := mk("ƒ2", "alice", 1724384540.563, 1724384541.25, 1724384631.197)
	a.Tasks, a.CoresPerTask, a.MemoryPerTask, a.Walltime, a.Status = 4, 2, 4<<30, 3600, "completed"
	b := mk("default/lammps", "bob", 1724384500.5, NaN, NaN)
	b.Nodes, b.Status = 3, "pending"
	c := mk("ƒ3", "alice", 1724384600, 1724384601, 1724384700)
	c.Nodes, c.Status, c.Procs = 2, "timeout", 192
	for i := range 4 {
		tr.Nodes = append(tr.Nodes, &Node{Name: fmt.Sprint("n", i), CPU: 96000})
	}
	var out bytes.Buffer
	if err := WriteSWF(&out, tr); err != nil {
		t.Fatal(err)
	}
	want := "; Version: 2.2\n; Computer: converge\n; MaxJobs: 3\n; MaxRecords: 3\n; UnixStartTime: 1724384500\n" +
		"; MaxNodes: 4\n; MaxProcs: 384\n; Note: written by converge\n" +
		"; Note: times relative to UnixStartTime, the earliest submission (whole second)\n" +
		// b first (earliest submission): 3 nodes × 96 cores, no times.
		"1 0.5 -1 -1 -1 -1 -1 288 -1 -1 -1 1 -1 -1 -1 -1 -1 -1\n" +
		// a: 4 tasks × 2 cores; 4 GiB a task = 2 GiB a core.
		"2 40.563 0.687 89.947 -1 -1 -1 8 3600 2097152 1 2 -1 -1 -1 -1 -1 -1\n" +
		"3 100 1 99 192 -1 -1 192 -1 -1 0 2 -1 -1 -1 -1 -1 -1\n"
	if out.String() != want {
		t.Errorf("written:\n%s\nwant:\n%s", out.String(), want)
	}
	back, err := readSWFText(t, out.String(), "abs.swf", "")
	if err != nil {
		t.Fatal(err)
	}
	ja := back.FindJob("2")
	if math.Abs(back.Start+ja.Submit-a.Submit) > 1e-6 || math.Abs(back.Start+ja.End-a.End) > 1e-6 || ja.Tasks != 8 || ja.MemoryPerTask != 2<<30 {
		t.Errorf("read back: start %v, job %+v", back.Start, *ja)
	}
	// Without nodes, a job of 3 nodes requests 3 processors.
	tr.Nodes = nil
	out.Reset()
	WriteSWF(&out, tr)
	if !strings.Contains(out.String(), "\n1 0.5 -1 -1 -1 -1 -1 3 -1") {
		t.Errorf("nodes only, no machine:\n%s", out.String())
	}
}

func FuzzSWF(f *testing.F) {
	files, _ := filepath.Glob("testdata/swf/*.swf")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1 0 5 10 1 -1 -1 1 60 -1 2 1 1 -1 -1 -1 -1 -1\n1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.swf")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.swf: ") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		tr := &Trace{Start: NaN}
		if _, err := Read(tr, in, "swf"); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.swf:") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		// What was read writes, and reads back the same.
		var out bytes.Buffer
		if err := WriteSWF(&out, tr); err != nil {
			t.Fatal(err)
		}
		back, err := readSWFText(t, out.String(), "back.swf", "swf")
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out.String())
		}
		if d := swfDiffJobs(tr, back, 1e-6); len(d) > 0 {
			t.Fatalf("round trip: %v\n%s", d, out.String())
		}
	})
}
