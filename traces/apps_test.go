package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

const appsData = "testdata/apps"

func appFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(appsData, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func appGzip(data []byte) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	z.Close()
	return b.Bytes()
}

// appInputErr checks that err is an input error of file at line (0:
// any) whose text holds want.
func appInputErr(t *testing.T, err error, file string, line int, want string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("error %v (%T) is not an *InputError", err, err)
	}
	if ie.File != file || (line > 0 && ie.Line != line) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q (line %d), want file %s, line %d, containing %q", err, ie.Line, file, line, want)
	}
}

// appErrNamesFile is what the fuzz tests ask of every error: it names
// the file, is an input error or a size limit, and is short.
func appErrNamesFile(t *testing.T, err error, name string) {
	t.Helper()
	var tl *limitio.TooLargeError
	if !errors.Is(err, ErrBadInput) && !errors.As(err, &tl) {
		t.Fatalf("error %v (%T) is not an input error", err, err)
	}
	if !strings.HasPrefix(err.Error(), name) {
		t.Fatalf("error %q does not name the file", err)
	}
	if len(err.Error()) > 1000 {
		t.Fatalf("a %d-byte message", len(err.Error()))
	}
}

func TestReadLAMMPSLog(t *testing.T) {
	one := appFixture(t, "lammps/results-lammps/bare-metal/lammps-2-16-1.out")
	for _, c := range []struct {
		name string
		data []byte
	}{{"plain", one}, {"gzip", appGzip(one)}, {"crlf", bytes.ReplaceAll(one, []byte("\n"), []byte("\r\n"))}} {
		t.Run(c.name, func(t *testing.T) {
			l, err := ReadLAMMPSLog("x.out", bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if l.Procs != 16 || l.Steps != 100 || l.Atoms != 77824 || l.Loop != 21.5 || l.Wall != 24 || l.Grid != [3]int{4, 2, 2} || l.Line != 21 {
				t.Errorf("read %+v", l)
			}
			want := map[string]float64{"Pair": 12.0, "Neigh": 0.22, "Comm": 0.95, "Output": 0.002, "Modify": 8.3, "Other": 0.03}
			if len(l.Sections) != len(want) {
				t.Errorf("sections %v, want %v", l.Sections, want)
			}
			for k, v := range want {
				if l.Sections[k] != v {
					t.Errorf("section %s = %v, want %v", k, l.Sections[k], v)
				}
			}
		})
	}
	// Two run commands: the last one's figures.
	l, err := ReadLAMMPSLog("two.log", bytes.NewReader(appFixture(t, "lammps/two-runs.log")))
	if err != nil {
		t.Fatal(err)
	}
	if l.Loop != 43.125 || l.Steps != 200 || l.Wall != 68 || l.Sections["Pair"] != 24.5 || l.Sections["Other"] != 0.075 || l.Line != 49 {
		t.Errorf("two runs: %+v", l)
	}
	// No "Total wall time": the wall time is unknown (-1).
	noWall := bytes.ReplaceAll(one, []byte("Total wall time: 0:00:24"), nil)
	if l, err := ReadLAMMPSLog("x", bytes.NewReader(noWall)); err != nil || l.Wall != -1 {
		t.Errorf("no wall time: %+v %v", l, err)
	}
}

func TestReadLAMMPSLogErrors(t *testing.T) {
	one := string(appFixture(t, "lammps/results-lammps/bare-metal/lammps-2-16-1.out"))
	loop := "Loop time of 21.5 on 16 procs for 100 steps with 77824 atoms"
	huge := strings.Repeat("9", 400)
	cases := []struct {
		name, data string
		line       int
		want       string
	}{
		{"unfinished", string(appFixture(t, "lammps/unfinished.log")), 0, `no "Loop time" line`},
		{"empty", "", 0, `no "Loop time" line`},
		{"short loop line", strings.Replace(one, loop, "Loop time of 21.5 on 16 procs", 1), 21, "Loop time: "},
		{"loop time text", strings.Replace(one, "of 21.5 on", "of soon on", 1), 21, `loop time: "soon" is not a time`},
		{"loop time NaN", strings.Replace(one, "of 21.5 on", "of NaN on", 1), 21, "loop time: "},
		{"loop time huge", strings.Replace(one, "of 21.5 on", "of 1e309 on", 1), 21, "loop time: "},
		{"loop time negative", strings.Replace(one, "of 21.5 on", "of -3 on", 1), 21, "loop time: "},
		{"no procs", strings.Replace(one, "on 16 procs", "on 0 procs", 1), 21, "procs: "},
		{"procs huge", strings.Replace(one, "on 16 procs", "on "+huge+" procs", 1), 21, "procs: "},
		{"steps", strings.Replace(one, "for 100 steps", "for -1 steps", 1), 21, "steps: "},
		{"atoms", strings.Replace(one, "with 77824 atoms", "with 7.5 atoms", 1), 21, "atoms: "},
		{"grid", strings.Replace(one, "  4 by 2 by 2 MPI", "  4 by x by 2 MPI", 1), 6, "MPI processor grid: "},
		{"section NaN", strings.Replace(one, "| 12.0       |", "| NaN        |", 1), 29, `Section "Pair": avg time`},
		{"section negative", strings.Replace(one, "| 12.0       |", "| -12.0      |", 1), 29, `Section "Pair": avg time`},
		{"20 MB line", strings.Replace(one, "Reading data file ...", "Reading "+strings.Repeat("x", 20<<20), 1), 4, "a line longer than 1 MiB"},
		{"binary", "\x00\x01\x02" + loop + "\n", 0, `no "Loop time" line`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadLAMMPSLog("bad.out", strings.NewReader(c.data))
			appInputErr(t, err, "bad.out", c.line, c.want)
		})
	}
	// A cut gzip stream: an error naming the file, not a short log read.
	z := appGzip([]byte(one))
	_, err := ReadLAMMPSLog("cut.out.gz", bytes.NewReader(z[:len(z)/2]))
	appInputErr(t, err, "cut.out.gz", 0, "truncated or corrupt")
	// A broken gzip header.
	_, err = ReadLAMMPSLog("hdr.gz", bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}))
	appInputErr(t, err, "hdr.gz", 0, "gzip")
}

// TestReadLAMMPSLogSizeLimit: input over limitio.DataTable is refused
// with the size-limit error naming the file (generated: the reader
// stops at the limit, so the test reads 256 MiB of zeros' worth of
// lines without keeping them).
func TestReadLAMMPSLogSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 256 MiB")
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	r := &repeatReader{line: line, n: limitio.DataTable/int64(len(line)) + 1}
	_, err := ReadLAMMPSLog("big.out", r)
	var tl *limitio.TooLargeError
	if !errors.As(err, &tl) || !strings.HasPrefix(err.Error(), "big.out") {
		t.Fatalf("%v, want a size-limit error naming big.out", err)
	}
}

// repeatReader yields line n times.
type repeatReader struct {
	line []byte
	n    int64
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) && r.n > 0 {
		k := copy(p[w:], r.line[r.off:])
		w += k
		r.off += k
		if r.off == len(r.line) {
			r.off = 0
			r.n--
		}
	}
	if w == 0 {
		return 0, io.EOF
	}
	return w, nil
}

func TestReadFluxUsernetesLAMMPS(t *testing.T) {
	runs, err := ReadFluxUsernetesLAMMPS(filepath.Join(appsData, "lammps"))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		env                string
		nodes, iter, procs int
		loop               float64
	}
	wants := []want{{"bare-metal", 2, 1, 16, 21.5}, {"bare-metal", 2, 2, 16, 22.25}, {"usernetes", 4, 1, 32, 12.75}}
	if len(runs) != len(wants) {
		t.Fatalf("%d runs, want %d", len(runs), len(wants))
	}
	for i, w := range wants {
		r := runs[i]
		if r.Env != w.env || r.Nodes != w.nodes || r.Iter != w.iter || r.Log.Procs != w.procs || r.Log.Loop != w.loop {
			t.Errorf("run %d: %+v %+v, want %+v", i, r, r.Log, w)
		}
	}

	// A gzip log is read like the others.
	dir := t.TempDir()
	env := filepath.Join(dir, "results-lammps", "container")
	os.MkdirAll(env, 0o755)
	one := appFixture(t, "lammps/results-lammps/bare-metal/lammps-2-16-1.out")
	os.WriteFile(filepath.Join(env, "lammps-2-16-3.out.gz"), appGzip(one), 0o644)
	runs, err = ReadFluxUsernetesLAMMPS(dir)
	if err != nil || len(runs) != 1 || runs[0].Iter != 3 || runs[0].Log.Loop != 21.5 {
		t.Fatalf("gzip: %+v %v", runs, err)
	}

	// The procs of the log against the name.
	bad := filepath.Join(env, "lammps-2-32-1.out")
	os.WriteFile(bad, one, 0o644)
	_, err = ReadFluxUsernetesLAMMPS(dir)
	appInputErr(t, err, bad, 21, "16 procs, the name says 32")
	os.Remove(bad)

	for _, name := range []string{"lammps-0-16-1.out", "lammps-2-1-1.out", "lammps-x-16-1.out", "lammps-2-16.out", "lammps-2-16-1-4.out"} {
		p := filepath.Join(env, name)
		os.WriteFile(p, one, 0o644)
		_, err = ReadFluxUsernetesLAMMPS(dir)
		appInputErr(t, err, p, 0, "file name: not lammps-<nodes>-<ranks>-<iter>.out")
		os.Remove(p)
	}

	if _, err := ReadFluxUsernetesLAMMPS(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an empty folder: %v, want fs.ErrNotExist", err)
	}
}

func TestReadStreamML(t *testing.T) {
	data := appFixture(t, "streamml/predict.json")
	want := []StreamMLRun{{4, 4, 2, 30}, {8, 4, 2, 41}, {8, 8, 2, 63}, {16, 8, 4, 102}}
	for _, c := range []struct {
		name string
		data []byte
	}{{"plain", data}, {"gzip", appGzip(data)}, {"keys in capitals", bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(`"dims"`), []byte(`"Dims"`)), []byte(`"x"`), []byte(`"X"`))}} {
		t.Run(c.name, func(t *testing.T) {
			runs, err := ReadStreamML("p.json", bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != len(want) {
				t.Fatalf("%d runs", len(runs))
			}
			for i := range want {
				if runs[i] != want[i] {
					t.Errorf("run %d: %+v, want %+v", i, runs[i], want[i])
				}
			}
		})
	}
	runs, err := ReadStreamMLFile(filepath.Join(appsData, "streamml", "predict.json"))
	if err != nil || len(runs) != 4 {
		t.Errorf("from the file: %v %v", runs, err)
	}
}

func TestReadStreamMLErrors(t *testing.T) {
	deep := `{"m": ` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `, "dims": [{"x":1,"y":1,"z":1}], "y_true": [1]}`
	cases := []struct {
		name, data string
		line       int
		want       string
	}{
		{"empty", "", 0, "empty file"},
		{"array", `[1, 2]`, 1, `expected "{", found "["`},
		{"no dims", `{"y_true": [1, 2]}`, 1, "y_true: 0 dims for 2 times"},
		{"no runs", `{"dims": [], "y_true": []}`, 1, "0 dims for 0 times"},
		{"lengths", "{\"dims\": [{\"x\":1,\"y\":1,\"z\":1}],\n \"y_true\": [1, 2]}", 2, "1 dims for 2 times"},
		{"zero replicas", "{\"dims\": [\n{\"x\":1,\"y\":1,\"z\":1},\n{\"x\":0,\"y\":1,\"z\":1}], \"y_true\": [1, 2]}", 3, "dims[1].x: 0 replicas"},
		{"huge replicas", `{"dims": [{"x":1,"y":1,"z":1e300}], "y_true": [1]}`, 1, "dims[0]"},
		{"replicas overflow", `{"dims": [{"x":1,"y":99999999999,"z":1}], "y_true": [1]}`, 1, "dims[0].y: 99999999999 replicas"},
		{"fraction", "{\"dims\": [{\"x\":1,\"y\":1,\"z\":1}],\n\"y_true\": [\n1.5]}", 3, "y_true[0]: a JSON number 1.5"},
		{"negative time", `{"dims": [{"x":1,"y":1,"z":1}], "y_true": [-1]}`, 1, "y_true[0]: -1 is not a wall time"},
		{"huge time", `{"dims": [{"x":1,"y":1,"z":1}], "y_true": [1e400]}`, 1, "y_true[0]"},
		{"string time", `{"dims": [{"x":1,"y":1,"z":1}], "y_true": ["1"]}`, 1, "y_true[0]: a JSON string"},
		{"twice", "{\"dims\": [{\"x\":1,\"y\":1,\"z\":1}], \"y_true\": [1],\n\"dims\": []}", 2, "dims: given twice (first on line 1)"},
		{"trailing", "{\"dims\": [{\"x\":1,\"y\":1,\"z\":1}], \"y_true\": [1]}\n{}", 2, `"{" after the end`},
		{"truncated", `{"dims": [{"x":1,"y":1,"z":1}], "y_true": [1`, 1, "truncated"},
		{"syntax", "{\"dims\": [{\"x\":1,\"y\":1,\"z\":1}],\n\"y_true\": [1,,]}", 2, "not valid JSON"},
		{"deep nesting", deep, 0, "m: "},
		{"20 MB value", `{"m": "` + strings.Repeat("x", 20<<20) + `", "dims": [{"x":1,"y":1,"z":1}], "y_true": [1, 2]}`, 1, "1 dims for 2 times"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadStreamML("p.json", strings.NewReader(c.data))
			appInputErr(t, err, "p.json", c.line, c.want)
		})
	}
	z := appGzip(appFixture(t, "streamml/predict.json"))
	_, err := ReadStreamML("cut.json.gz", bytes.NewReader(z[:len(z)-12]))
	appInputErr(t, err, "cut.json.gz", 0, "truncated or corrupt")
}

const bootstrapHead = ",minicluster_size,name,fluxsubmit_time,fluxstart_time,lammps_time,ranks,timesteps_per_second,operator_name\n"

func TestReadOperatorBootstrap(t *testing.T) {
	data := appFixture(t, "bootstrap/results.csv")
	for _, c := range []struct {
		name string
		data []byte
	}{{"plain", data}, {"gzip", appGzip(data)}} {
		t.Run(c.name, func(t *testing.T) {
			runs, err := ReadOperatorBootstrap("r.csv", bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			want := []BootstrapRun{
				{Line: 2, Operator: FluxOperator, Nodes: 8, Ranks: 752, Submit: 70.5, Start: 72.25, App: 64},
				{Line: 3, Operator: FluxOperator, Nodes: 8, Ranks: 752, Submit: 71, Start: 73, App: 65},
				{Line: 4, Operator: FluxOperator, Nodes: 16, Ranks: 1504, Submit: 45.25, Start: 48, App: 39},
				{Line: 5, Operator: MPIOperator, Nodes: 8, Ranks: 752, Submit: 78.5, Start: 84, App: 66},
				{Line: 6, Operator: MPIOperator, Nodes: 16, Ranks: 1504, Submit: 55, Start: 62.5, App: 40},
			}
			if len(runs) != len(want) {
				t.Fatalf("%d runs", len(runs))
			}
			for i := range want {
				if runs[i] != want[i] {
					t.Errorf("run %d: %+v, want %+v", i, runs[i], want[i])
				}
			}
		})
	}
}

func TestReadOperatorBootstrapErrors(t *testing.T) {
	head := bootstrapHead
	cases := []struct {
		name, data string
		line       int
		want       string
	}{
		{"empty", "", 0, "t.csv: empty file"},
		{"no rows", head, 0, "t.csv: no runs"},
		{"column", strings.Replace(head, "ranks", "procs", 1) + "a,8,m,1,2,1,8,1,flux-operator\n", 1, `t.csv:1: header: missing column "ranks"`},
		{"number", head + "a,8,m,soon,82.72,74.0,752,1.378,flux-operator\n", 2, `t.csv:2: fluxsubmit_time: "soon" is not a time`},
		{"NaN", head + "a,8,m,NaN,82.72,74.0,752,1.378,flux-operator\n", 2, `t.csv:2: fluxsubmit_time: "NaN" is not a time`},
		{"huge", head + "a,8,m,1e309,82.72,74.0,752,1.378,flux-operator\n", 2, `t.csv:2: fluxsubmit_time: "1e309" is not a time`},
		{"negative", head + "a,8,m,80,82.72,-1,752,1.378,flux-operator\n", 2, "t.csv:2: lammps_time"},
		{"operator", head + "a,8,m,80,82.72,74,752,1.378,slurm\n", 2, `t.csv:2: operator_name: "slurm" is neither`},
		{"size", head + "a,0,m,80,82.72,74,752,1.378,flux-operator\n", 2, "t.csv:2: minicluster_size"},
		{"huge count", head + "a,99999999999999999999999,m,80,82.72,74,752,1.378,flux-operator\n", 2, "t.csv:2: minicluster_size"},
		{"order", head + "a,8,m,80,79,74,752,1.378,flux-operator\n", 2, "t.csv:2: fluxstart_time: 79 is shorter"},
		{"app longer", head + "a,8,m,70,79,74,752,1.378,flux-operator\n", 2, "t.csv:2: fluxsubmit_time: 70 is shorter than lammps_time 74"},
		{"fields", head + "a,8,m,80\n", 2, "t.csv:2: 4 fields"},
		{"ranks", head + "a,8,m,80,82,74,4,1.378,flux-operator\n", 2, "t.csv:2: ranks: 4 ranks on 8 nodes"},
		{"quote", head + "a,8,m,80,82,74,752,1.378,\"flux-operator\n", 2, "t.csv:2: extraneous or missing \" in quoted-field"},
		{"20 MB line", strings.Repeat("x", 20<<20) + "\n", 1, "header: missing column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadOperatorBootstrap("t.csv", strings.NewReader(c.data))
			appInputErr(t, err, "t.csv", c.line, c.want)
		})
	}
	z := appGzip(appFixture(t, "bootstrap/results.csv"))
	_, err := ReadOperatorBootstrap("cut.csv.gz", bytes.NewReader(z[:len(z)-12]))
	appInputErr(t, err, "cut.csv.gz", 0, "truncated or corrupt")
}

// TestAppReadersRealData reads the real files of ../shared/data.
func TestAppReadersRealData(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent (the shared data folder is not beside the repository)", root)
	}
	t.Run("flux-usernetes-aws", func(t *testing.T) {
		runs, err := ReadFluxUsernetesLAMMPS(filepath.Join(root, "flux-usernetes-aws"))
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 400 {
			t.Errorf("%d logs, the data's README says 400", len(runs))
		}
		envs := map[string]int{}
		for _, r := range runs {
			envs[r.Env]++
			l := r.Log
			if l.Steps <= 0 || l.Atoms <= 0 || l.Loop <= 0 || l.Wall < l.Loop-1 || l.Procs%r.Nodes != 0 || l.Grid[0]*l.Grid[1]*l.Grid[2] != l.Procs {
				t.Errorf("%s %d nodes iter %d: %+v", r.Env, r.Nodes, r.Iter, l)
			}
			if l.Sections["Pair"] <= 0 || l.Sections["Modify"] <= 0 {
				t.Errorf("%s %d nodes iter %d: sections %v", r.Env, r.Nodes, r.Iter, l.Sections)
			}
		}
		t.Logf("%d logs: %v", len(runs), envs)
	})
	t.Run("lammps-stream-ml", func(t *testing.T) {
		runs, err := ReadStreamMLFile(filepath.Join(root, "lammps-stream-ml", "lammps-predict.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 250 {
			t.Errorf("%d runs, the data's README says 250", len(runs))
		}
	})
	t.Run("operator-bootstrap", func(t *testing.T) {
		p := filepath.Join(root, "operator-bootstrap", "results-8-16-nodes.csv")
		f, err := os.Open(p)
		if err != nil {
			t.Skip(err)
		}
		defer f.Close()
		runs, err := ReadOperatorBootstrap(p, f)
		if err != nil {
			t.Fatal(err)
		}
		ops := map[string]int{}
		for _, r := range runs {
			ops[r.Operator]++
		}
		if len(ops) != 2 || ops[FluxOperator] == 0 || ops[MPIOperator] == 0 {
			t.Errorf("operators %v", ops)
		}
		t.Logf("%d runs: %v", len(runs), ops)
	})
}

func TestFlag3(t *testing.T) {
	cmd := "+ mpirun --allow-run-as-root -np 288 --map-by numa amg -n 188 144 128 -P 12 12 2"
	for _, c := range []struct {
		cmd, flag string
		want      [3]int
		ok        bool
	}{
		{cmd, "-n", [3]int{188, 144, 128}, true},
		{cmd, "-P", [3]int{12, 12, 2}, true},
		{cmd, "-np", [3]int{}, false},
		{cmd, "-x", [3]int{}, false},
		{"amg -n 1 2", "-n", [3]int{}, false},
		{"amg -n 1 2 0", "-n", [3]int{}, false},
		{"amg -n 1 2 -3", "-n", [3]int{}, false},
		{"amg -n 1 2 99999999999999999999", "-n", [3]int{}, false},
		{"", "-n", [3]int{}, false},
	} {
		got, ok := Flag3(c.cmd, c.flag)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Flag3(%q, %q) = %v %v, want %v %v", c.cmd, c.flag, got, ok, c.want, c.ok)
		}
	}
}

// The fuzz tests: no panic, every error names the file, and what is
// accepted is within the documented bounds.

func FuzzReadLAMMPSLog(f *testing.F) {
	for _, p := range []string{"lammps/results-lammps/bare-metal/lammps-2-16-1.out", "lammps/two-runs.log", "lammps/unfinished.log"} {
		f.Add(appFixture(f, p))
	}
	f.Add(appGzip(appFixture(f, "lammps/results-lammps/usernetes/lammps-4-32-1.out")))
	f.Add([]byte("Loop time of x on y procs for z steps with w atoms\n"))
	f.Add([]byte("Loop time of 1e308 on 9223372036854775807 procs for 1 steps with 1 atoms\nTotal wall time: 99999999:99:99\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ReadLAMMPSLog("fuzz.out", bytes.NewReader(data))
		if err != nil {
			appErrNamesFile(t, err, "fuzz.out")
			return
		}
		if l == nil || l.Procs < 1 || l.Steps < 0 || l.Atoms < 0 || !(l.Loop >= 0 && l.Loop <= MaxSeconds) || l.Line < 1 || l.Wall < -1 || l.Wall > MaxSeconds {
			t.Fatalf("accepted %+v", l)
		}
		for k, v := range l.Sections {
			if !(v >= 0 && v <= MaxSeconds) {
				t.Fatalf("accepted section %q = %v", k, v)
			}
		}
	})
}

func FuzzReadStreamML(f *testing.F) {
	data := appFixture(f, "streamml/predict.json")
	f.Add(data)
	f.Add(appGzip(data))
	f.Add([]byte(`{"dims": [{"x":1,"y":1,"z":1}], "y_true": [1], "DIMS": []}`))
	f.Add([]byte(`{"dims": [{"x":1e3,"y":-1,"z":null}], "y_true": [NaN]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		runs, err := ReadStreamML("fuzz.json", bytes.NewReader(data))
		if err != nil {
			appErrNamesFile(t, err, "fuzz.json")
			return
		}
		if len(runs) == 0 {
			t.Fatal("no runs and no error")
		}
		for _, r := range runs {
			if r.X < 1 || r.Y < 1 || r.Z < 1 || r.X > streamMLMaxReplicas || r.Y > streamMLMaxReplicas || r.Z > streamMLMaxReplicas || r.Wall < 0 || r.Wall > MaxSeconds {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func FuzzReadOperatorBootstrap(f *testing.F) {
	data := appFixture(f, "bootstrap/results.csv")
	f.Add(data)
	f.Add(appGzip(data))
	f.Add([]byte(bootstrapHead + "a,8,m,NaN,+Inf,-0,752,1.378,flux-operator\n"))
	f.Add([]byte(bootstrapHead + "\"a\nb\",8,m,1,2,1,8,1,mpi-operator\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		runs, err := ReadOperatorBootstrap("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			appErrNamesFile(t, err, "fuzz.csv")
			return
		}
		if len(runs) == 0 {
			t.Fatal("no runs and no error")
		}
		for _, r := range runs {
			if (r.Operator != FluxOperator && r.Operator != MPIOperator) || r.Nodes < 1 || r.Ranks < r.Nodes || r.Line < 2 ||
				!(r.App >= 0) || r.Submit+LAMMPSWallResolution < r.App || r.Start < r.Submit || r.Start > bootstrapMaxSeconds {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func FuzzFlag3(f *testing.F) {
	f.Add("+ mpirun -np 288 amg -n 188 144 128 -P 12 12 2", "-n")
	f.Add("amg -n 1 2", "-n")
	f.Add("-P -P 1 2 3", "-P")
	f.Fuzz(func(t *testing.T, cmd, flag string) {
		v, ok := Flag3(cmd, flag)
		if ok && (v[0] < 1 || v[1] < 1 || v[2] < 1) {
			t.Fatalf("accepted %v", v)
		}
		if !ok && v != [3]int{} && !strings.Contains(cmd, flag) {
			t.Fatalf("values %v without the flag", v)
		}
	})
}
