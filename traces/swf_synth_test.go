package traces

import (
	"bytes"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSyntheticSWF(t *testing.T) {
	const jobs, procs = 20000, 1024
	var a, b, c bytes.Buffer
	if err := SyntheticSWF(&a, jobs, procs, 7); err != nil {
		t.Fatal(err)
	}
	SyntheticSWF(&b, jobs, procs, 7)
	SyntheticSWF(&c, jobs, procs, 8)
	if a.String() != b.String() {
		t.Error("same seed, different traces")
	}
	if a.String() == c.String() {
		t.Error("different seeds, same trace")
	}
	tr, err := readSWFText(t, a.String(), "synth.swf", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Jobs) != jobs || tr.Header["MaxProcs"] != "1024" || tr.Formats[0] != "swf" {
		t.Fatalf("%d jobs, header %v", len(tr.Jobs), tr.Header)
	}
	serial, pow2, parallel, failed := 0, 0, 0, 0
	area := 0.0
	last := 0.0
	for _, j := range tr.Jobs {
		if j.Tasks < 1 || j.Tasks > procs || j.Procs != j.Tasks {
			t.Fatalf("job %s: %d processors", j.ID, j.Tasks)
		}
		run := j.Duration()
		if !(run >= 1 && run <= 36*3600) || j.Walltime < run || j.Walltime > 5*run+60 || math.Mod(j.Walltime, 60) != 0 {
			t.Fatalf("job %s: run %v, requested %v", j.ID, run, j.Walltime)
		}
		if j.Submit < last {
			t.Fatalf("job %s submitted before the one before it", j.ID)
		}
		last = j.Submit
		switch {
		case j.Tasks == 1:
			serial++
		default:
			parallel++
			if bits.OnesCount(uint(j.Tasks)) == 1 {
				pow2++
			}
		}
		if j.Status == "failed" {
			failed++
		}
		area += float64(j.Tasks) * run
	}
	// The shares drawn, within a few standard errors of 20,000 draws.
	if s := float64(serial) / jobs; math.Abs(s-synthSerial) > 0.02 {
		t.Errorf("serial share %.3f, want %.2f", s, synthSerial)
	}
	// Log-uniform sizes land on a power of two now and then by
	// themselves: at least the share rounded.
	if s := float64(pow2) / float64(parallel); s < synthPow2 || s > synthPow2+0.1 {
		t.Errorf("power-of-two share %.3f, want %.2f to %.2f", s, synthPow2, synthPow2+0.1)
	}
	if s := float64(failed) / jobs; math.Abs(s-synthFailed) > 0.01 {
		t.Errorf("failed share %.3f", s)
	}
	// Offered load: the processor-seconds asked over the span. Heavy
	// tailed run times make it noisy: a wide band.
	if load := area / (last * procs); load < 0.55 || load > 0.95 {
		t.Errorf("offered load %.3f, want about %.2f", load, synthLoad)
	}
	if err := SyntheticSWF(&a, -1, 4, 1); err == nil || !strings.Contains(err.Error(), "-1 jobs") {
		t.Errorf("negative jobs: %v", err)
	}
	if err := SyntheticSWF(&a, 1, 0, 1); err == nil || !strings.Contains(err.Error(), "0 processors") {
		t.Errorf("no processors: %v", err)
	}
}

// BenchmarkReadSWF reads a generated trace of 1,000,000 jobs on 10,000
// processors with traces.Open (the generation is not timed).
func BenchmarkReadSWF(b *testing.B) {
	const jobs, procs = 1_000_000, 10_000
	path := filepath.Join(b.TempDir(), "synthetic.swf")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := SyntheticSWF(f, jobs, procs, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		tr, err := Open([]string{path}, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(tr.Jobs) != jobs {
			b.Fatalf("%d jobs", len(tr.Jobs))
		}
	}
	b.ReportMetric(float64(jobs)*float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
