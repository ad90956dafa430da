package traces

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const canopieDir = "testdata/canopie"

// canopieTar makes a .tgz of the fixture files named, in order, under
// dir (a data/ prefix, as the real archives have none: both are read).
func canopieTar(t testing.TB, dir string, names ...string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(canopieDir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(dir, "study.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var canopieFixtures = []string{"amg_0a1b2c3d4e5f_kubeflux_2024-01-02_T0304_05.out",
	"lammps_00ff00ff00ff_default-scheduler_2024-01-02_T0400_00.out", "app-experiment-config.json", "config.log"}

func utc(y, mo, d, h, mi, s int) float64 {
	return float64(time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Unix())
}

func TestCanopieArchive(t *testing.T) {
	// The logs before the config (its cpus_per_pod applies all the
	// same), and the node list first (detection by its name).
	for _, order := range [][]string{canopieFixtures, {canopieFixtures[3], canopieFixtures[0], canopieFixtures[1], canopieFixtures[2]}} {
		p := canopieTar(t, t.TempDir(), order...)
		tr, err := Open([]string{p}, "")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Formats[0] != "canopie22" {
			t.Fatalf("detected %v", tr.Formats)
		}
		if len(tr.Jobs) != 2 || len(tr.Pods) != 8 || len(tr.Nodes) != 2 {
			t.Fatalf("%d jobs, %d pods, %d nodes", len(tr.Jobs), len(tr.Pods), len(tr.Nodes))
		}
		amg := tr.FindJob("amg-0a1b2c3d4e5f")
		if amg == nil {
			t.Fatal("no amg-0a1b2c3d4e5f")
		}
		submit := utc(2024, 1, 2, 3, 4, 5)
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"kind", amg.Kind, "MPIJob"}, {"app", amg.App, "amg"}, {"scheduler", amg.Scheduler, "kubeflux"},
			{"submit", amg.Submit, submit}, {"startup", amg.Startup, 6.5}, {"start", amg.Start, submit + 6.5},
			{"end", amg.End, submit + 6.5 + 57.25}, {"tasks", amg.Tasks, 96}, {"status", amg.Status, "completed"},
			{"ranks", amg.Params["ranks"], "96"}, {"pods", amg.Params["pods"], "4"}, {"cpus", amg.Params["cpus_per_pod"], "32"},
			{"slots", amg.Params["slots_per_pod"], "24"}, {"solve", amg.Params["stage.solve"], "40.125"},
			{"generate", amg.Params["stage.generate"], "1.5"}, {"iterations", amg.Params["stage.iterations"], "21"},
			{"end-to-end", amg.Params["end_to_end"], "63.75"}, {"runtime", amg.Params["runtime"], "57.25"},
			{"problem", amg.Params["config.per_rank_size"], "64 64 64"},
			{"nodelist", strings.Join(amg.NodeList, ","), "node-a,node-b,node-c"},
		} {
			if c.got != c.want {
				t.Errorf("amg %s = %v, want %v", c.what, c.got, c.want)
			}
		}
		var names []string
		for _, i := range amg.Pods {
			p := tr.Pods[i]
			names = append(names, p.Name+"@"+p.Node+"/"+p.Role+"/"+strconv.Itoa(p.Index))
			if p.Role == "worker" && (p.CPU != 32000 || p.Memory != int64(90.5*(1<<30)) || p.Job != amg.ID || p.Scheduler != "kubeflux") {
				t.Errorf("worker %+v", p)
			}
			if p.Role == "launcher" && (p.CPU != 8000 || p.Memory != 16<<30 || p.Node != "") {
				t.Errorf("launcher %+v", p)
			}
		}
		want := "amg-0a1b2c3d4e5f-worker-0@node-a/worker/0 amg-0a1b2c3d4e5f-worker-1@node-b/worker/1 amg-0a1b2c3d4e5f-worker-2@node-a/worker/2 amg-0a1b2c3d4e5f-worker-10@node-c/worker/10 amg-0a1b2c3d4e5f-launcher@/launcher/-1"
		if strings.Join(names, " ") != want {
			t.Errorf("pods\n%s\nwant\n%s", strings.Join(names, " "), want)
		}
		lmp := tr.FindJob("lammps-00ff00ff00ff")
		if lmp == nil || lmp.Params["cpus_per_pod"] != "3" || lmp.Params["stage.loop"] != "12.5" || lmp.Scheduler != "default-scheduler" || lmp.Tasks != 4 {
			t.Errorf("lammps %+v", lmp)
		}
		a, b := tr.Nodes[0], tr.Nodes[1]
		if a.Name != "node-a" || a.CPU != 47500 || a.Memory != 191000000<<10 || a.Pods != 110 || !a.Ready || a.Unschedulable ||
			!slices.Equal(a.Taints, []string{"worker=true:NoSchedule"}) || a.Labels["node.kubernetes.io/instance-type"] != "hpc.small" {
			t.Errorf("node a %+v", a)
		}
		if b.Name != "node-b" || b.CPU != 48000 || b.Memory != 180<<30 || b.GPU != 2 || b.Ready || !b.Unschedulable || len(b.Taints) != 0 {
			t.Errorf("node b %+v", b)
		}
		if !slices.ContainsFunc(tr.Notes, func(n *Note) bool { return n.Key == "canopie22-submit" && n.Count == 2 }) {
			t.Errorf("no submit note: %v", tr.Notes)
		}
	}
}

// TestCanopieSingleFiles: one log, or one node list, read on its own.
func TestCanopieSingleFiles(t *testing.T) {
	tr, err := Open([]string{filepath.Join(canopieDir, canopieFixtures[0])}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Formats[0] != "canopie22" || len(tr.Jobs) != 1 || len(tr.Pods) != 5 {
		t.Fatalf("%v: %d jobs %d pods", tr.Formats, len(tr.Jobs), len(tr.Pods))
	}
	// No config: the workers' cpus are their slots.
	if p := tr.Pods[0]; p.CPU != 24000 || tr.Jobs[0].Params["cpus_per_pod"] != "" {
		t.Errorf("without a config: %+v %v", p, tr.Jobs[0].Params)
	}
	tr, err = Open([]string{filepath.Join(canopieDir, "config.log")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Formats[0] != "canopie22" || len(tr.Nodes) != 2 || len(tr.Jobs) != 0 {
		t.Fatalf("%v: %d nodes", tr.Formats, len(tr.Nodes))
	}
	// A log under another name: the MPIJob's name comes from its lines,
	// its times are unknown (and said so).
	data, _ := os.ReadFile(filepath.Join(canopieDir, canopieFixtures[1]))
	p := filepath.Join(t.TempDir(), "run.log")
	os.WriteFile(p, data, 0o644)
	tr, err = Open([]string{p}, "")
	if err != nil {
		t.Fatal(err)
	}
	j := tr.Jobs[0]
	if j.ID != "lammps-00ff00ff00ff" || j.App != "lammps" || Known(j.Submit) || Known(j.Start) || j.Startup != 3.25 || j.Scheduler != "default-scheduler" {
		t.Errorf("%+v", j)
	}
	if !slices.ContainsFunc(tr.Notes, func(n *Note) bool { return n.Key == "canopie22-no-submit" }) {
		t.Errorf("notes %v", tr.Notes)
	}
}

func TestCanopieDetect(t *testing.T) {
	mk := func(name string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Size: 1, Mode: 0o644, Format: tar.FormatUSTAR})
		tw.Write([]byte("x"))
		tw.Close()
		return buf.Bytes()
	}
	log, _ := os.ReadFile(filepath.Join(canopieDir, canopieFixtures[0]))
	repr, _ := os.ReadFile(filepath.Join(canopieDir, "config.log"))
	for _, c := range []struct {
		name string
		head []byte
		want bool
	}{
		{"tar of a log", mk("qmcpack_0165ecaea406_kubeflux_2022-05-08_T2119_17.out"), true},
		{"tar of a node list", mk("config.log"), true},
		{"tar of a config", mk("lammps-experiment-config.json"), true},
		{"tar of something else", mk("README.md"), false},
		{"a log", log, true},
		{"a node list", repr, true},
		{"JSON", []byte(`{"apiVersion": "v1", "items": []}`), false},
		{"a shell trace of no mpirun", []byte("+ ls\nfoo\n"), false},
		{"SWF", []byte("; Version: 2.2\n1 0 10 100 4 -1 -1 4 -1 -1 1 1 1 -1 1 -1 -1 -1\n"), false},
	} {
		if got := detectCanopie(c.head, JSONKeys(c.head)); got != c.want {
			t.Errorf("%s: detect %v, want %v", c.name, got, c.want)
		}
	}
}

const canopieData = "../../shared/data/canopie22-scaling"

// TestCanopieReal reads every real archive and checks it against
// mpijob-runs.csv (one row per job parsed independently from the same
// logs): the jobs per scheduler and study, and each job's start-up and
// run time, ranks, pods, distinct nodes and most pods on a node.
func TestCanopieReal(t *testing.T) {
	f, err := os.Open(filepath.Join(canopieData, "mpijob-runs.csv"))
	if err != nil {
		t.Skipf("canopie22 data absent (%v)", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	byExp := map[string][][]string{}
	for _, r := range rows[1:] {
		byExp[r[col["experiment"]]] = append(byExp[r[col["experiment"]]], r)
	}
	if len(byExp) == 0 {
		t.Fatal("no rows")
	}
	for exp, rows := range byExp {
		// amg_scaling/efa is the folder amg_scaling-efa
		archives, _ := filepath.Glob(filepath.Join(canopieData, strings.ReplaceAll(exp, "/", "-"), "*.tgz"))
		if len(archives) != 1 {
			t.Errorf("%s: %d archives", exp, len(archives))
			continue
		}
		tr, err := Open(archives, "")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Formats[0] != "canopie22" {
			t.Fatalf("%s detected as %v", archives[0], tr.Formats)
		}
		want, got := map[string]int{}, map[string]int{}
		for _, r := range rows {
			want[r[col["scheduler"]]]++
		}
		for _, j := range tr.Jobs {
			got[j.Scheduler]++
		}
		if !mapsEqual(got, want) {
			t.Errorf("%s: jobs per scheduler %v, the CSV has %v", exp, got, want)
		}
		// The node list holds every node a worker ran on, as a worker
		// node of the instance type it names.
		nodes := map[string]*Node{}
		for _, n := range tr.Nodes {
			nodes[n.Name] = n
		}
		for _, p := range tr.Pods {
			n := nodes[p.Node]
			if p.Role != "worker" {
				continue
			}
			if n == nil || n.CPU <= 0 || n.Memory <= 0 || !n.Ready || !slices.Contains(n.Taints, "worker=true:NoSchedule") ||
				n.Labels["node.kubernetes.io/instance-type"] == "" {
				t.Errorf("%s: pod %s on node %s: %+v", exp, p.Name, p.Node, n)
				break
			}
		}
		for _, r := range rows {
			id := r[col["app"]] + "-" + r[col["job_id"]]
			j := tr.FindJob(id)
			if j == nil {
				t.Errorf("%s: no job %s", exp, id)
				continue
			}
			fl := func(c string) float64 {
				v, err := strconv.ParseFloat(r[col[c]], 64)
				if err != nil {
					t.Fatalf("%s: %s %q", id, c, r[col[c]])
				}
				return v
			}
			rt, _ := strconv.ParseFloat(j.Params["runtime"], 64)
			if j.Startup != fl("startup_s") || rt != fl("runtime_s") || math.Abs(j.End-j.Start-rt) > 1e-6 {
				t.Errorf("%s: startup %v runtime %v, the CSV %v %v", id, j.Startup, rt, fl("startup_s"), fl("runtime_s"))
			}
			if j.Scheduler != r[col["scheduler"]] || j.Params["ranks"] != r[col["ranks"]] || j.Params["pods"] != r[col["pods"]] ||
				j.Params["slots_per_pod"] != r[col["slots_per_pod"]] || strconv.Itoa(j.Tasks) != r[col["ranks"]] {
				t.Errorf("%s: %s ranks %s pods %s slots %s, the CSV %v", id, j.Scheduler, j.Params["ranks"], j.Params["pods"], j.Params["slots_per_pod"], r)
			}
			per := map[string]int{}
			most, workers := 0, 0
			for _, i := range j.Pods {
				if p := tr.Pods[i]; p.Role == "worker" {
					per[p.Node]++
					most = max(most, per[p.Node])
					workers++
				}
			}
			if strconv.Itoa(len(per)) != r[col["distinct_nodes"]] || strconv.Itoa(most) != r[col["max_pods_on_a_node"]] || strconv.Itoa(workers) != r[col["pods"]] {
				t.Errorf("%s: %d workers on %d nodes, at most %d a node; the CSV %v", id, workers, len(per), most, r)
			}
			ts, err := time.Parse("2006-01-02_T1504_05", r[col["file_timestamp"]])
			if err != nil {
				t.Fatal(err)
			}
			if j.Params["log"] != filepath.Base(r[col["source_file"]]) || j.Submit != float64(ts.Unix()) {
				t.Errorf("%s: log %s submit %v; the CSV %s %s", id, j.Params["log"], j.Submit, r[col["source_file"]], ts)
			}
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCanopieHostile: broken and hostile archives and logs give one
// error naming the file (and the member and line where there is one).
func TestCanopieHostile(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(canopieTar(t, dir, canopieFixtures...))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A member that says it is 2 GB (its data never comes).
	var huge bytes.Buffer
	zw := gzip.NewWriter(&huge)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "amg_0123456789ab_kubeflux_2022-05-08_T0000_00.out", Size: 2 << 30, Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Flush()
	zw.Close()
	log := func(extra string) []byte {
		b, _ := os.ReadFile(filepath.Join(canopieDir, canopieFixtures[0]))
		return append([]byte(extra), b...)
	}
	logName := canopieFixtures[0]
	for _, c := range []struct {
		name, file string
		data       []byte
		want       []string
	}{
		{"2 GB member", "huge.tgz", huge.Bytes(), []string{"huge.tgz:amg_0123456789ab_kubeflux_2022-05-08_T0000_00.out", "over the limit"}},
		{"truncated gzip", "cut.tgz", good[:len(good)/2], []string{"cut.tgz", "truncated"}},
		{"20 MB line", logName, log(strings.Repeat("x", 20<<20) + "\n"), []string{logName + ":1", "longer than"}},
		{"huge ranks", logName, []byte("+ mpirun -np 4 a\nRanks: 99999999999999999999999, pods: 1, pods per node: 1\n"), []string{logName + ":2", "Ranks"}},
		{"negative runtime", logName, []byte("Ranks: 4, pods: 1, pods per node: 1\nMPIJob runtime for job a-1 is -3 seconds\n"), []string{logName + ":2", "runtime", "not a duration"}},
		{"NaN startup", logName, []byte("Ranks: 4, pods: 1, pods per node: 1\nMPIJob startup time for job a-1 is NaN seconds\n"), []string{logName + ":2", "startup"}},
		{"no runtime", logName, []byte("Ranks: 4, pods: 1, pods per node: 1\nMapping for job 1 for scheduler x\n"), []string{logName, "not a complete MPIJob log"}},
		{"deep nesting", "config.log", []byte("{'api_version': 'v1',\n 'items': [" + strings.Repeat("[", 100000) + "\n"), []string{"config.log:2", "nested more than"}},
		{"truncated node list", "config.log", []byte("{'api_version': 'v1',\n 'items': [{'metadata': {'name': 'a'"), []string{"config.log:2", "truncated"}},
		{"huge quantity", "config.log", []byte("{'api_version': 'v1',\n 'items': [{'metadata': {'name': 'a'}, 'status': {'allocatable': {'cpu': '1e300'}}}]}"), []string{"config.log:2", "cpu", "too large"}},
		{"binary", logName, []byte("MPIJob runtime for job \x00\x01"), []string{logName + ":1", "binary"}},
	} {
		p := write(c.file, c.data)
		_, err := Open([]string{p}, "canopie22")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to say %q", c.name, err, w)
			}
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v does not name %s", c.name, err, p)
		}
	}
	// A log whose worker is listed twice, and two archives of one job.
	p := canopieTar(t, dir, canopieFixtures[0])
	if _, err := Open([]string{p, p}, ""); err == nil || !strings.Contains(err.Error(), "read twice") {
		t.Errorf("the same job twice: %v", err)
	}
}

func FuzzCanopieLog(f *testing.F) {
	for _, n := range canopieFixtures {
		b, err := os.ReadFile(filepath.Join(canopieDir, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(func() []byte { b, _ := os.ReadFile(canopieTar(f, f.TempDir(), canopieFixtures...)); return b }())
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := NewInput(bytes.NewReader(data), "fuzz.out")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.out") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		tr := &Trace{Start: NaN}
		_, err = Read(tr, in, "canopie22")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.out") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		for _, j := range tr.Jobs {
			if j.ID == "" || j.Kind != "MPIJob" {
				t.Fatalf("job %+v", j)
			}
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("bare EOF")
		}
	})
}
