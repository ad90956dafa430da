package traces

import (
	"bytes"
	"strings"
	"testing"
)

// fxFuzz reads data in format: no panic, and an error names the input.
// What reads without error and has a writer is written and read back,
// which must give as many jobs.
func fxFuzz(f *testing.F, format string, seeds ...string) {
	for _, b := range fxFixtures(f, format) {
		f.Add(b)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.in")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.in") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		tr := &Trace{Start: NaN}
		fm, err := Read(tr, in, format)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.in") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		if fm.Write == nil {
			return
		}
		var buf bytes.Buffer
		if err := fm.Write(&buf, tr); err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
		in2, err := NewInput(bytes.NewReader(buf.Bytes()), "fuzz.out")
		if err != nil {
			t.Fatal(err)
		}
		back := &Trace{Start: NaN}
		if _, err := Read(back, in2, format); err != nil {
			if format == "flux-eventlog" || len(tr.Jobs) > 0 {
				t.Fatalf("reading back what was written: %v\n%s", err, buf.String())
			}
			return
		}
		want := len(tr.Jobs)
		if format == "flux-eventlog" {
			want = 0
			for _, j := range tr.Jobs {
				if Known(j.Submit) {
					want++
				}
			}
		}
		if len(back.Jobs) != want {
			t.Fatalf("%d jobs read, %d read back\n%s", want, len(back.Jobs), buf.String())
		}
	})
}

func FuzzFluxJobs(f *testing.F) {
	fxFuzz(f, "flux-jobs", `[{"id":"x","nodelist":"a[1-3]"}]`, `{"id":1}`+"\n"+`{"id":2}`, `{"jobs":[null]}`)
}

func FuzzFluxEventlog(f *testing.F) {
	fxFuzz(f, "flux-eventlog", `{"timestamp":1,"name":"submit","context":{"id":"a"}}`)
}

func FuzzFluxExecEventlog(f *testing.F) {
	fxFuzz(f, "flux-exec-eventlog")
}

func FuzzJobspec(f *testing.F) {
	fxFuzz(f, "jobspec", "version: 1\nresources: [{type: slot, count: {min: 2}, with: [{type: core}]}]\ntasks: [{command: a b, count: {total: 3}}]\n")
}

func FuzzR(f *testing.F) {
	fxFuzz(f, "R", `{"version":1,"execution":{"R_lite":[{"rank":"[0-1]","children":{}}],"properties":{"x":"1"}}}`)
}

func FuzzFluxJobspecEvents(f *testing.F) {
	fxFuzz(f, "flux-jobspec-events", `{"a":[],"b":[{"jobspec":{},"events":[]}]}`)
}
