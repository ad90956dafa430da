package calibrate

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/convergesim/converge/traces"
)

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
	if n, ok := traces.Flag3(j.Command, "-n"); !ok || n != [3]int{188, 144, 128} {
		t.Errorf("-n %v %v", n, ok)
	}
	if p, ok := traces.Flag3(j.Command, "-P"); !ok || p != [3]int{12, 12, 2} {
		t.Errorf("-P %v %v", p, ok)
	}
	if _, ok := traces.Flag3("amg -n 1 2", "-n"); ok {
		t.Error("-n with two values accepted")
	}
	if _, err := ReadCanopieArchive(filepath.Join(t.TempDir(), "none.tgz")); err == nil {
		t.Error("a missing archive was accepted")
	}
}
