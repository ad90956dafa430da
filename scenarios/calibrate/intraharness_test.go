package calibrate

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convergesim/converge/traces"
)

// TestMeasureIntraHarness runs scripts/measure-intra.sh once per set-up
// into a temporary folder and checks every file is OSU output that
// traces.ReadOSU reads, with every size, and that nothing else is
// left. It needs Open MPI (mpicc, mpirun, ompi_info: apt-get install
// openmpi-bin libopenmpi-dev) and skips with the reason otherwise. Not
// under -short: it takes about 30 s.
func TestMeasureIntraHarness(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "measure-intra.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// Bad arguments: exit 2 before anything runs.
	for _, args := range [][]string{{}, {t.TempDir(), "0"}, {t.TempDir(), "x"}, {"a", "1", "b"}} {
		err := exec.Command(script, args...).Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("measure-intra.sh %q: %v, want exit status 2", args, err)
		}
	}
	if testing.Short() {
		t.Skip("measure-intra harness: skipped under -short (runs MPI for ~30 s)")
	}
	for _, tool := range []string{"mpicc", "mpirun", "ompi_info"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("measure-intra harness: %s not installed (apt-get install openmpi-bin libopenmpi-dev)", tool)
		}
	}
	out := filepath.Join(t.TempDir(), "intra")
	cmd := exec.Command(script, out, "1")
	cmd.Env = append(os.Environ(), "QUIET_WAIT=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("measure-intra.sh: %v\n%s", err, b)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	modes := []string{"cma", "nocma"}
	if exec.Command("unshare", "-U", "-r", "true").Run() == nil {
		modes = append(modes, "userns-cma")
	}
	want := []string{"manifest.txt"}
	for _, m := range modes {
		want = append(want, "shm-"+m+"-bw.txt", "shm-"+m+"-latency.txt")
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for _, m := range modes {
		for _, b := range []struct {
			file  string
			kind  traces.OSUKind
			first int64
		}{{"latency", traces.OSULatency, 0}, {"bw", traces.OSUBandwidth, 1}} {
			path := filepath.Join(out, "shm-"+m+"-"+b.file+".txt")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := traces.ReadOSU(path, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if r.Kind != b.kind {
				t.Errorf("%s: kind %s, want %s", path, r.Kind, b.kind)
			}
			var sizes []int64
			for _, s := range r.Samples {
				sizes = append(sizes, s.Size)
			}
			var wantSizes []int64
			for n := b.first; n <= 4<<20; n = max(2*n, 1) {
				wantSizes = append(wantSizes, n)
			}
			if !slices.Equal(sizes, wantSizes) {
				t.Errorf("%s: sizes %v, want %v", path, sizes, wantSizes)
			}
		}
	}
	man, err := os.ReadFile(filepath.Join(out, "manifest.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"open mpi: ", "| cma latency: ", "| nocma bw: ", "means over 1 runs"} {
		if !strings.Contains(string(man), s) {
			t.Errorf("manifest.txt lacks %q", s)
		}
	}
}
