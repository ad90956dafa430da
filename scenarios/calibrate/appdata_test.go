package calibrate

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A LAMMPS log cut down to the lines the reader uses (the shape of the
// 7 Feb 2024 screen output).
const lammpsLog = `LAMMPS (7 Feb 2024 - Development - e51a656)
  4 by 4 by 4 MPI processor grid
  304 atoms
  8 by 4 by 2 MPI processor grid
  622592 atoms
Loop time of 80.2568 on 64 procs for 100 steps with 622592 atoms

MPI task timing breakdown:
Section |  min time  |  avg time  |  max time  |%varavg| %total
---------------------------------------------------------------
Pair    | 40.834     | 44.955     | 49.009     |  28.1 | 56.01
Neigh   | 0.68978    | 0.69293    | 0.69626    |   0.2 |  0.86
Comm    | 0.079896   | 4.0894     | 8.2529     |  93.2 |  5.10
Output  | 0.0038564  | 0.046634   | 0.11583    |  23.9 |  0.06
Modify  | 30.465     | 30.469     | 30.475     |   0.0 | 37.96
Other   |            | 0.003396   |            |       |  0.00

Nlocal:           9728 ave        9740 max        9716 min
Total wall time: 0:01:22
`

func TestParseLAMMPSLog(t *testing.T) {
	l, err := ParseLAMMPSLog("x.out", strings.NewReader(lammpsLog))
	if err != nil {
		t.Fatal(err)
	}
	if l.Procs != 64 || l.Steps != 100 || l.Atoms != 622592 || l.Loop != 80.2568 || l.Wall != 82 || l.Grid != [3]int{8, 4, 2} {
		t.Errorf("parsed %+v", l)
	}
	if l.Sections["Pair"] != 44.955 || l.Sections["Modify"] != 30.469 || l.Sections["Other"] != 0.003396 || len(l.Sections) != 6 {
		t.Errorf("sections %v", l.Sections)
	}
	if _, err := ParseLAMMPSLog("y.out", strings.NewReader("LAMMPS\nTotal wall time: 0:00:01\n")); err == nil || !strings.Contains(err.Error(), "y.out") {
		t.Errorf("no loop time: %v", err)
	}
}

const canopieAMG = `+ mpirun --allow-run-as-root -np 288 --map-by numa amg -n 188 144 128 -P 12 12 2
=============================================
Generate Matrix:
=============================================
Spatial Operator:
  wall clock time = 2.686376 seconds
PCG Setup:
  wall clock time = 17.320097 seconds
PCG Solve:
  wall clock time = 66.881298 seconds
Iterations = 23
Mapping for job 00b4ab9b7c37 for scheduler kubeflux
amg-00b4ab9b7c37-worker-0 --> ip-192-168-32-60.us-east-2.compute.internal
amg-00b4ab9b7c37-worker-1 --> ip-192-168-33-246.us-east-2.compute.internal
amg-00b4ab9b7c37-worker-2 --> ip-192-168-32-60.us-east-2.compute.internal
ip-192-168-32-60.us-east-2.compute.internal ran 2 pods in zone us-east-2b
Run configuration for job 00b4ab9b7c37:
Ranks: 288, pods: 6, pods per node: 1
Slots per pod: 48, GiB memory per pod: 176.6
Launcher CPUs: 94, launcher memory in GiB: 346
MPIJob startup time for job amg-00b4ab9b7c37 is 5.916763 seconds
MPIJob runtime for job amg-00b4ab9b7c37 is 91.364988 seconds
`

// TestReadCanopieArchive: the calibration's view of an archive read by
// the traces reader (the log above and an experiment config, a Python
// literal, whose cpus_per_pod for 288 ranks on 6 pods is 94).
func TestReadCanopieArchive(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range []struct{ name, text string }{
		{"amg_00b4ab9b7c37_kubeflux_2022-05-08_T0210_27.out", canopieAMG},
		{"app-experiment-config.json", `[{"spec": { # comment
		  "exp_config": [{"ranks": 144, "pods": 6, "cpus_per_pod": 48, "slots_per_pod": 24,}, {"ranks": 288, "pods": 6, "cpus_per_pod":94,},]}},]`},
	} {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.text)), Typeflag: tar.TypeReg})
		tw.Write([]byte(m.text))
	}
	tw.Close()
	zw.Close()
	path := filepath.Join(t.TempDir(), "a.tgz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	jobs, err := ReadCanopieArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := jobs[0]
	if j.Ranks != 288 || j.Pods != 6 || j.Runtime != 91.364988 || j.File != path+":amg_00b4ab9b7c37_kubeflux_2022-05-08_T0210_27.out" {
		t.Errorf("job %+v", j)
	}
	if j.Scheduler != "kubeflux" || j.Startup != 5.916763 || j.SlotsPerPod != 48 || j.CPUsPerPod != 94 || j.MemoryGiB != 176.6 || j.LauncherCPUs != 94 || j.LauncherGiB != 346 {
		t.Errorf("run configuration: %+v", j)
	}
	if d, m := j.NodesUsed(); d != 2 || m != 2 || len(j.PodNodes) != 3 {
		t.Errorf("nodes used: %d distinct, %d most, from %v", d, m, j.PodNodes)
	}
	want := map[string]float64{"generate": 2.686376, "setup": 17.320097, "solve": 66.881298, "iterations": 23}
	for k, v := range want {
		if j.Stages[k] != v {
			t.Errorf("%s = %v, want %v", k, j.Stages[k], v)
		}
	}
	if n, ok := Flag3(j.Command, "-n"); !ok || n != [3]int{188, 144, 128} {
		t.Errorf("-n %v %v", n, ok)
	}
	if p, ok := Flag3(j.Command, "-P"); !ok || p != [3]int{12, 12, 2} {
		t.Errorf("-P %v %v", p, ok)
	}
	if _, ok := Flag3("amg -n 1 2", "-n"); ok {
		t.Error("-n with two values accepted")
	}
	if _, err := ReadCanopieArchive(filepath.Join(t.TempDir(), "none.tgz")); err == nil {
		t.Error("a missing archive was accepted")
	}
}

func FuzzParseLAMMPSLog(f *testing.F) {
	f.Add([]byte(lammpsLog))
	f.Add([]byte("Loop time of x on y procs for z steps with w atoms\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLAMMPSLog("fuzz.out", strings.NewReader(string(data)))
		if err == nil && l == nil {
			t.Fatal("nil log without an error")
		}
	})
}
