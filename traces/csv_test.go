package traces

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadJobsCSV(t *testing.T) {
	tr, err := Open([]string{"testdata/csv/jobs.csv"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Formats[0] != "jobs-csv" || tr.Relative || len(tr.Jobs) != 3 {
		t.Fatalf("formats %v, relative %v, %d jobs", tr.Formats, tr.Relative, len(tr.Jobs))
	}
	a, b, c := tr.Jobs[0], tr.Jobs[1], tr.Jobs[2]
	if a.ID != "ƒ2bZ7YSMn" || a.Name != "lammps" || a.Kind != "FluxJob" || a.User != "alice" || a.Queue != "batch" ||
		a.Scheduler != "flux" || a.Submit != 1724384540.563 || a.Alloc != 1724384540.61 || a.Start != 1724384540.672 ||
		a.End != 1724384631.197 || a.Nodes != 2 || a.Tasks != 16 || a.CoresPerTask != 2 || a.Walltime != 3600 ||
		a.Procs != 32 || a.Status != "completed" || a.ExitCode != 0 || Known(a.Startup) ||
		!slices.Equal(a.NodeList, []string{"i-0a", "i-0b"}) || a.Line != 2 {
		t.Errorf("job a = %+v", *a)
	}
	if b.Name != "amg, 64 ranks" || b.MemoryPerTask != 4<<30 || Known(b.End) || Known(b.Alloc) || b.Startup != 30.5 ||
		b.ExitCode != -1 || len(b.NodeList) != 4 || b.Queue != "" || b.Line != 3 {
		t.Errorf("job b = %+v", *b)
	}
	if c.Name != `a "quoted" name` || c.GPUsPerTask != 1 || Known(c.Start) || c.NodeList != nil || c.Status != "pending" {
		t.Errorf("job c = %+v", *c)
	}
	// Times all small: a relative trace, noted.
	tr, err = Open([]string{"testdata/csv/relative.csv"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Relative || len(tr.Notes) != 1 || tr.Notes[0].Key != "csv-relative" || tr.Jobs[1].Submit != 5.5 {
		t.Errorf("relative: %v, notes %+v", tr.Relative, tr.Notes)
	}
}

func TestJobsCSVErrors(t *testing.T) {
	h := JobsCSVHeader + "\n"
	row := func(cols map[int]string) string {
		r := []string{"1", "n", "Job", "u", "q", "s", "10", "", "20", "30", "1", "2", "1", "0", "0", "60", "2", "completed", "0", "", "a;b"}
		for k, v := range cols {
			r[k] = v
		}
		return strings.Join(r, ",") + "\n"
	}
	for _, tc := range []struct{ in, want string }{
		{"", "j.csv: empty file"},
		{"id,name\n1,x\n", `j.csv:1: not the jobs-csv header (id,name,kind,user,queue,scheduler,submit,alloc,start,end,nodes,tasks,cores_per_task,gpus_per_ta`},
		{h + "1,n,Job\n", "j.csv:2: 3 fields where jobs-csv has 21"},
		{h + row(nil) + row(nil), `j.csv:3: id: job "1" appears twice (first at line 2)`},
		{h + row(map[int]string{csvID: ""}), "j.csv:2: id: empty: every job needs its id"},
		{h + row(map[int]string{csvSubmit: "soon"}), `j.csv:2: submit: not a time in seconds from 0 to 1e+11 (empty when unknown): "soon"`},
		{h + row(map[int]string{csvStart: "NaN"}), `j.csv:2: start: not a time in seconds from 0 to 1e+11 (empty when unknown): "NaN"`},
		{h + row(map[int]string{csvEnd: "1e400"}), `j.csv:2: end: not a time in seconds from 0 to 1e+11`},
		{h + row(map[int]string{csvAlloc: "-3"}), `j.csv:2: alloc: not a time`},
		{h + row(map[int]string{csvTasks: "99999999999999999999"}), `j.csv:2: tasks: not a count from 0 to 1e+08: "99999999999999999999"`},
		{h + row(map[int]string{csvNodes: "-1"}), `j.csv:2: nodes: not a count from 0 to 1e+08: "-1"`},
		{h + row(map[int]string{csvMemoryPerTask: "1.5"}), `j.csv:2: memory_per_task: not a number of bytes`},
		{h + row(map[int]string{csvWalltime: "Inf"}), `j.csv:2: walltime: not a number of seconds from 0 to 1e+10: "Inf"`},
		{h + row(map[int]string{csvExitCode: "-2"}), `j.csv:2: exit_code: not an exit code from -1 to 2147483647: "-2"`},
		{h + row(map[int]string{csvNodelist: "a;;b"}), `j.csv:2: nodelist: an empty node name in "a;;b"`},
		{h + row(map[int]string{csvEnd: "15"}), `j.csv:2: end: 15 is before the start (20)`},
		{h + row(nil) + "2,\"unterminated,x\n", `j.csv:3: extraneous or missing " in quoted-field`},
		{h + row(nil) + row(map[int]string{csvID: "2", csvName: "x\ny"}), "j.csv:3: 2 fields where jobs-csv has 21"},
	} {
		in, _ := NewInput(strings.NewReader(tc.in), "j.csv")
		_, err := Read(&Trace{Start: NaN}, in, "jobs-csv")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%.70q: error %v\nwant %q", tc.in, err, tc.want)
		}
	}
}

// TestJobsCSVHostile: a 20 MB row, an endless quoted field and a
// truncated gzip file give one error naming the file and the line.
func TestJobsCSVHostile(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.csv")
	row := "1,n,Job,u,q,s,10,,20,30,1,2,1,0,0,60,2,completed,0,,a;b\n"
	if err := os.WriteFile(long, []byte(JobsCSVHeader+"\n"+row+"2,"+strings.Repeat("x", 20<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open([]string{long}, "")
	if err == nil || err.Error() != long+":3: a row longer than 16 MiB (is it the right file?)" {
		t.Errorf("20 MB row: %v", err)
	}
	// A quoted field of many short lines.
	quoted := filepath.Join(dir, "quoted.csv")
	if err := os.WriteFile(quoted, []byte(JobsCSVHeader+"\n"+row+"2,\""+strings.Repeat("x\n", 9<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open([]string{quoted}, "")
	if err == nil || err.Error() != quoted+":3: a row longer than 16 MiB (is it the right file?)" {
		t.Errorf("endless quoted field: %v", err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	fmt.Fprintln(zw, JobsCSVHeader)
	for i := range 20000 {
		fmt.Fprintf(zw, "job-%d,n,Job,u%d,q,s,%d,,%d,%d,1,2,1,0,0,60,2,completed,0,,node-%d\n", i, i%13, 1e9+i, 1e9+i+5, 1e9+i+50, i%7)
	}
	zw.Close()
	cut := filepath.Join(dir, "cut.csv.gz")
	if err := os.WriteFile(cut, z.Bytes()[:z.Len()*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open([]string{cut}, "")
	if err == nil || !strings.HasPrefix(err.Error(), cut+":") || !strings.Contains(err.Error(), "the file is truncated or corrupt: unexpected EOF") {
		t.Errorf("truncated gzip: %v", err)
	}
}

func TestDetectJobsCSV(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{JobsCSVHeader + "\n1,n,Job,u", true},
		{JobsCSVHeader + "\r\n", true},
		{"\ufeff" + JobsCSVHeader + "\n", true},
		{JobsCSVHeader + ",extra\n", false},
		{",time_seconds,event,pod,size,experiment,iteration\n", false},
		{"1 0 5 10 1 -1 -1 1 60 -1 1 1 1 -1 -1 -1 -1 -1\n", false},
	} {
		if got := detectJobsCSV([]byte(tc.head), nil); got != tc.want {
			t.Errorf("detectJobsCSV(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

func TestJobsCSVRoundTrip(t *testing.T) {
	for _, file := range []string{"csv/jobs.csv", "csv/relative.csv", "swf/small.swf", "swf/model.swf"} {
		tr, err := Open([]string{filepath.Join("testdata", file)}, "")
		if err != nil {
			t.Fatal(err)
		}
		back, _ := swfRoundTrip(t, tr, "jobs-csv")
		// What jobs-csv does not carry.
		for _, j := range tr.Jobs {
			j.Params, j.Events, j.App, j.Exclusive = nil, nil, "", false
			j.RunTime = NaN
		}
		for _, d := range swfDiffJobs(tr, back, 0) {
			t.Errorf("%s: %s", file, d)
		}
		if back.Relative != tr.Relative {
			t.Errorf("%s: relative %v, then %v", file, tr.Relative, back.Relative)
		}
	}
	// Exact times: no rounding of epoch seconds.
	tr, _ := Open([]string{"testdata/csv/jobs.csv"}, "")
	back, text := swfRoundTrip(t, tr, "jobs-csv")
	if back.Jobs[0].Submit != 1724384540.563 || !strings.Contains(text, `"amg, 64 ranks"`) {
		t.Errorf("written:\n%s", text)
	}
	if math.IsNaN(back.Jobs[1].Startup) {
		t.Errorf("startup lost")
	}
}

func FuzzJobsCSV(f *testing.F) {
	files, _ := filepath.Glob("testdata/csv/*.csv")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(JobsCSVHeader + "\n1,\"a\nb\",Job,,,,1,2,3,4,0,0,0,0,0,0,0,,-1,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		tr := &Trace{Start: NaN}
		if _, err := Read(tr, in, "jobs-csv"); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv:") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteJobsCSV(&out, tr); err != nil {
			t.Fatal(err)
		}
		back, err := readSWFText(t, out.String(), "back.csv", "jobs-csv")
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out.String())
		}
		if d := swfDiffJobs(tr, back, 0); len(d) > 0 {
			t.Fatalf("round trip: %v", d)
		}
	})
}
