package traces

import (
	"bytes"
	"path/filepath"
	"testing"
)

// fxWriteRead writes tr in format and reads it back with detection,
// checking that the format written is the one detected.
func fxWriteRead(t *testing.T, tr *Trace, format string) *Trace {
	t.Helper()
	f, err := LookupFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, tr); err != nil {
		t.Fatalf("write %s: %v", format, err)
	}
	in, err := NewInput(bytes.NewReader(buf.Bytes()), "written"+f.Ext)
	if err != nil {
		t.Fatal(err)
	}
	back := &Trace{Start: NaN}
	got, err := Read(back, in, "")
	if err != nil {
		t.Fatalf("reading back what %s wrote: %v\n%s", format, err, buf.String())
	}
	if got.Name != format {
		t.Fatalf("what %s wrote is detected as %s", format, got.Name)
	}
	return back
}

func TestFluxJobsRoundTrip(t *testing.T) {
	for _, name := range []string{"jobs.json", "jobs-array.json", "jobs.jsonl"} {
		tr := fxRead(t, name, "flux-jobs")
		back := fxWriteRead(t, tr, "flux-jobs")
		if len(back.Jobs) != len(tr.Jobs) {
			t.Fatalf("%s: %d jobs, then %d", name, len(tr.Jobs), len(back.Jobs))
		}
		for i, j := range tr.Jobs {
			fxSameJob(t, name, j, back.Jobs[i])
		}
	}
}

func TestFluxEventlogRoundTrip(t *testing.T) {
	tr := &Trace{Start: NaN}
	for _, name := range []string{"several.eventlog", "ƒ2Ab5.eventlog"} {
		if _, err := ReadFile(tr, filepath.Join(fxData, name), ""); err != nil {
			t.Fatal(err)
		}
	}
	back := fxWriteRead(t, tr, "flux-eventlog")
	if len(back.Jobs) != len(tr.Jobs) {
		t.Fatalf("%d jobs, then %d", len(tr.Jobs), len(back.Jobs))
	}
	// Written in submit order: compare by id.
	for _, j := range tr.Jobs {
		fxSameJob(t, "eventlog", j, fxJob(t, back, j.ID))
	}
}

// TestFluxJobsToEventlog converts a flux jobs listing into eventlogs made
// from the jobs' times, and checks that the times, status and exit code
// read back are the listing's.
func TestFluxJobsToEventlog(t *testing.T) {
	tr := fxRead(t, "jobs.json", "flux-jobs")
	back := fxWriteRead(t, tr, "flux-eventlog")
	if len(back.Jobs) != len(tr.Jobs) {
		t.Fatalf("%d jobs, then %d", len(tr.Jobs), len(back.Jobs))
	}
	for _, a := range tr.Jobs {
		b := fxJob(t, back, a.ID)
		if !fxSame(a.Submit, b.Submit) || !fxSame(a.Alloc, b.Alloc) || !fxSame(a.Start, b.Start) || !fxSame(a.End, b.End) ||
			a.Status != b.Status || a.ExitCode != b.ExitCode || a.Walltime != b.Walltime {
			t.Errorf("job %s: submit %v alloc %v start %v end %v status %s exit %d walltime %g, then %v %v %v %v %s %d %g",
				a.ID, a.Submit, a.Alloc, a.Start, a.End, a.Status, a.ExitCode, a.Walltime,
				b.Submit, b.Alloc, b.Start, b.End, b.Status, b.ExitCode, b.Walltime)
		}
		if a.User != b.User && a.User != "alice" {
			t.Errorf("job %s: user %s, then %s", a.ID, a.User, b.User)
		}
	}
	// And back to a listing: the same records again.
	again := fxWriteRead(t, back, "flux-jobs")
	for _, b := range back.Jobs {
		c := fxJob(t, again, b.ID)
		if !fxSame(b.Submit, c.Submit) || !fxSame(b.End, c.End) || b.Status != c.Status || b.ExitCode != c.ExitCode {
			t.Errorf("job %s: %+v, then %+v", b.ID, b, c)
		}
	}
}
