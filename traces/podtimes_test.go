package traces

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

const sample = `,time_seconds,event,pod,size,experiment,iteration
0,2.85,watch_create,all,2,pods,0
1,33.0,watch_delete,all,2,pods,0
2,0.0,PodScheduled,pod-0,2,pods,0
3,0.0,Initialized,pod-0,2,pods,0
4,1.0,Ready,pod-0,2,pods,0
5,1.0,ContainersReady,pod-0,2,pods,0
6,0.0,PodScheduled,pod-1,2,pods,0
7,16.0,Ready,pod-1,2,pods,0
`

func TestReadPodTimes(t *testing.T) {
	runs, err := ReadPodTimes(strings.NewReader(sample), "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Size != 2 || runs[0].Experiment != "pods" || runs[0].WatchCreate != 2.85 {
		t.Fatalf("runs = %+v", runs[0])
	}
	p1 := runs[0].Pods["pod-1"]
	if p1.Ready != 16 || !math.IsNaN(p1.Initialized) {
		t.Errorf("pod-1 = %+v", p1)
	}
}

func TestReadPodTimesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "s.csv: empty file"},
		{",time,event\n", `s.csv: line 1: missing column "time_seconds"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,-1,Ready,p,2,pods,0\n", `s.csv: line 2: time_seconds: not a number of seconds from 0 to 1e+07: "-1"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Ready,p,x,pods,0\n", `s.csv: line 2: size: not an integer from 1 to 1000000: "x"`},
		{hdr + "0,1e300,Ready,p,2,pods,0\n", `s.csv: line 2: time_seconds: not a number of seconds from 0 to 1e+07: "1e300"`},
		{hdr + "0,NaN,Ready,p,2,pods,0\n", `s.csv: line 2: time_seconds: not a number of seconds from 0 to 1e+07: "NaN"`},
		{hdr + "0,1,Ready,p,9223372036854775807,pods,0\n", `s.csv: line 2: size: not an integer from 1 to 1000000: "9223372036854775807"`},
		{hdr + "0,1," + strings.Repeat("E", 5000) + ",p,2,pods,0\n", `… (5000 bytes) (known: watch_create`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Boom,p,2,pods,0\n", `s.csv: line 2: event: unknown event "Boom"`},
		{",time_seconds,event,pod,size,experiment,iteration\n0,1,Ready\n", "wrong number of fields"},
		{",time_seconds,event,pod,size,experiment,iteration\n", "s.csv: no rows"},
	} {
		_, err := ReadPodTimes(strings.NewReader(tc.in), "s.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadPodTimes(%.80q) error = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("a %d-byte message", len(err.Error()))
		}
	}
}

const hdr = ",time_seconds,event,pod,size,experiment,iteration\n"

// TestReadTablesHostile: an endless input stops at the size limit; a
// folder, /dev/zero and a missing file give one error naming the file.
func TestReadTablesHostile(t *testing.T) {
	// The readers under a 1 MiB limit (the public ones use
	// limitio.DataTable, 256 MiB).
	_, err := readPodTimes(newTextReader(endless{}, "big.csv", 1<<20), "big.csv")
	if !errors.Is(err, limitio.ErrTooLarge) || err.Error() != "big.csv: larger than the 1 MiB limit for data table files (is it the right file?)" {
		t.Errorf("endless pod times: %v", err)
	}
	_, err = readPullTimes(newTextReader(endless{}, "big.csv", 1<<20), "big.csv")
	if !errors.Is(err, limitio.ErrTooLarge) {
		t.Errorf("endless pull times: %v", err)
	}
	// A NUL byte stops the read at once.
	_, err = ReadPodTimes(strings.NewReader(hdr+"0,1,Ready,p,2,pods\x00,0\n"), "nul.csv")
	if err == nil || err.Error() != "nul.csv: binary data (a NUL byte at offset 68): not a CSV data table" {
		t.Errorf("NUL: %v", err)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{dir, dir + ": is a folder, not a data table file"},
		{filepath.Join(dir, "none.csv"), "no such file or directory"},
		{"/dev/zero", "/dev/zero: binary data (a NUL byte at offset 0): not a CSV data table"},
	} {
		if _, err := ReadPodTimesFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 300 {
			t.Errorf("ReadPodTimesFile(%s): %.300v", tc.path, err)
		}
		if _, err := ReadPullTimesFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 300 {
			t.Errorf("ReadPullTimesFile(%s): %.300v", tc.path, err)
		}
	}
}

// endless is a header line followed by one endless quoted field: only the
// size limit ends it.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func FuzzReadPodTimes(f *testing.F) {
	f.Add(sample)
	f.Add(hdr + "0,1e300,Ready,p,9223372036854775807,pods,0\n1,NaN,Boom,all,0,x,y\n")
	f.Add("\x00\xff\xfe,\"\n\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		runs, err := ReadPodTimes(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if len(err.Error()) > 1000 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		for _, r := range runs {
			if r.Size < 1 || r.Size > MaxCount {
				t.Fatalf("accepted size %d", r.Size)
			}
		}
	})
}
