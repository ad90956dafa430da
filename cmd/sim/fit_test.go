package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/convergesim/converge/network"
)

const (
	osuLat = "../../traces/testdata/network/osu/osu_latency-v7.txt"
	osuBW  = "../../traces/testdata/network/osu/osu_bw-v7.txt"
	csvLat = "../../traces/testdata/network/osu/table-a.csv"
	csvBW  = "../../traces/testdata/network/osu/table-b.csv"
	iperf1 = "../../traces/testdata/network/iperf3/single.json"
	iperfP = "../../traces/testdata/network/iperf3/parallel4.json"
)

func TestFitNetwork(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "profiles", "efa.yaml")
	stdout, err := runCmd(t, "fit", "network", osuLat, osuBW, "-o", out)
	if err != nil {
		t.Fatalf("fit: %v\n%s", err, stdout)
	}
	for _, want := range []string{"profile efa: 3 band(s), eager limit 65536 B", "Fit error per message-size band", "osu_latency: n rms max", "0..8192", "8193..65536", "65537..", "osu_latency-v7.txt", "profile efa written to"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, prov, err := network.ReadProfile(out, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "efa" || len(p.Bands) != 3 || prov == nil || len(prov.Inputs) != 2 || prov.Fit == nil {
		t.Fatalf("profile %+v provenance %+v", p, prov)
	}
	if !strings.HasPrefix(prov.Tool, "sim ") || prov.Command != "sim fit network "+osuLat+" "+osuBW+" -o "+out+" --name efa" {
		t.Errorf("provenance tool %q command %q", prov.Tool, prov.Command)
	}
	if len(prov.Inputs[0].SHA256) != 64 {
		t.Errorf("input hash %q", prov.Inputs[0].SHA256)
	}

	// An existing profile is not replaced without --force, and not touched.
	_, err = runCmd(t, "fit", "network", csvLat, csvBW, "--experiment", "overlay", "-o", out)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "already exists (use --force to overwrite)") {
		t.Fatalf("existing output: %v (exit %d)", err, exitCode(err))
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, data) {
		t.Error("the refused fit changed the profile")
	}
	if _, err := runCmd(t, "fit", "network", csvLat, csvBW, "--experiment", "overlay", "-o", out, "--force", "--name", "overlay", "--bands", "8192,65536"); err != nil {
		t.Fatalf("--force: %v", err)
	}
	p, _, err = network.ReadProfile(out, bytes.NewReader(mustRead(t, out)))
	if err != nil || p.Name != "overlay" {
		t.Fatalf("after --force: %+v %v", p, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1+len(fitFigurePaths(out)) { // the profile and its figures
		t.Errorf("temporary files left: %v", entries)
	}
	for _, fig := range fitFigurePaths(out) {
		if _, err := os.Stat(fig); err != nil {
			t.Errorf("no figure beside the profile: %v", err)
		}
	}

	// iperf3 runs: one band, the link bandwidth from the parallel run.
	tcp := filepath.Join(dir, "tcp.yaml")
	stdout, err = runCmd(t, "fit", "network", iperf1, iperfP, "-o", tcp)
	if err != nil || !strings.Contains(stdout, "link") || !strings.Contains(stdout, "iperf3: n rms max") {
		t.Fatalf("iperf3 fit: %v\n%s", err, stdout)
	}
}

// A gzip measurement file fits as the file it holds: the same profile
// and fit, the provenance naming the file as given with its own hash.
func TestFitNetworkGzip(t *testing.T) {
	dir := t.TempDir()
	var gz []string
	for _, f := range []string{csvLat, csvBW} {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(mustRead(t, f))
		w.Close()
		path := filepath.Join(dir, filepath.Base(f)+".gz")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		gz = append(gz, path)
	}
	plain, zipped := filepath.Join(dir, "plain.yaml"), filepath.Join(dir, "gz.yaml")
	if out, err := runCmd(t, "fit", "network", csvLat, csvBW, "--experiment", "metal", "-o", plain, "--name", "p"); err != nil {
		t.Fatalf("plain: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "fit", "network", gz[0], gz[1], "--experiment", "metal", "-o", zipped, "--name", "p"); err != nil {
		t.Fatalf("gzip: %v\n%s", err, out)
	}
	a, pa, err := network.ReadProfile(plain, bytes.NewReader(mustRead(t, plain)))
	if err != nil {
		t.Fatal(err)
	}
	b, pb, err := network.ReadProfile(zipped, bytes.NewReader(mustRead(t, zipped)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || pa.Fit == nil || pb.Fit == nil || !reflect.DeepEqual(pa.Fit.Bands, pb.Fit.Bands) {
		t.Errorf("gzip fit differs:\n%+v\n%+v", a, b)
	}
	if pb.Inputs[0].Path != gz[0] || pb.Inputs[0].SHA256 == pa.Inputs[0].SHA256 || pb.Inputs[0].Format != "osu-csv" {
		t.Errorf("gzip input %+v", pb.Inputs[0])
	}
	// Cut short: exit 2 naming the file.
	cut := filepath.Join(dir, "cut.csv.gz")
	data := mustRead(t, gz[0])
	if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, "fit", "network", cut, "--experiment", "metal", "-o", filepath.Join(dir, "x.yaml"))
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), cut+": the file is truncated or corrupt") {
		t.Errorf("truncated gzip: %v (exit %d)", err, exitCode(err))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFitNetworkErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.yaml")
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("# OSU MPI Latency Test v7.3\n# Size  Latency (us)\n0 1.5\n8 fast\n"), 0o644)
	trunc := filepath.Join(dir, "trunc.json")
	os.WriteFile(trunc, mustRead(t, iperf1)[:900], 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "network", bad, "-o", out}, "bad.txt:4: Latency (us): cannot read \"fast\" as a number"},
		{[]string{"fit", "network", trunc, "-o", out}, "trunc.json:"},
		{[]string{"fit", "network", csvLat, csvBW, "-o", out}, `experiment: 2 experiments ("metal", "overlay"): choose one`},
		{[]string{"fit", "network", csvLat, "--experiment", "cloud", "-o", out}, `no experiment "cloud"`},
		{[]string{"fit", "network", osuLat, "-o", out, "--bands", "65536,8192"}, "--bands: 8192 must be above 65536"},
		{[]string{"fit", "network", osuLat, "-o", out, "--bands", "big"}, `--bands: "big" is not a positive number`},
		{[]string{"fit", "network", osuLat, "-o", out, "--bands", "1024,1500"}, "band 1 (sizes 1025 .. 1500): network: cannot fit: no samples"},
		{[]string{"fit", "network", osuLat, "-o", out, "--bands", "2,4096"}, "band 0 (sizes 0 .. 2): network: cannot fit: time falls or stays flat"},
		{[]string{"fit", "network", osuBW, "-o", out}, "no latency samples"},
		{[]string{"fit", "network", filepath.Join(dir, "missing.json"), "-o", out}, "cannot read measurement file"},
		{[]string{"fit", "network", osuLat}, "fit network needs -o PROFILE.yaml"},
		{[]string{"fit", "network", "-o", out}, "needs at least one measurement file"},
		{[]string{"fit", "network", osuLat, "-o", out, "--bogus"}, "unknown flag: --bogus"},
		{[]string{"fit", "routing"}, `unknown fit target "routing"`},
		{[]string{"fit", "network", osuLat, "-o", dir}, "is not a regular file"},
	} {
		_, err := runCmd(t, tc.args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sim %v: %v (exit %d), want exit 2 with %q", tc.args, err, exitCode(err), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("sim %v wrote %s", tc.args, out)
		}
	}
}

func TestFitNetworkHelp(t *testing.T) {
	out, err := runCmd(t, "fit", "network", "--help")
	if err != nil || !strings.Contains(out, "sim fit network osu-results-latency.csv") || !strings.Contains(out, "--experiment") {
		t.Errorf("help: %v\n%s", err, out)
	}
}

// fitHostileNames are --name values and input file names that must not
// inject YAML into the profile: line breaks of every kind YAML honours,
// comment and document markers, quotes, control bytes, invalid UTF-8.
var fitHostileNames = []string{
	"a\nkind: Injected\nversion: 9",
	"cr\rbands: []",
	"nel\u0085ls\u2028ps\u2029",
	"# comment --- ...",
	`it's "quoted" \ $HOME`,
	"esc\x1b[31mred\x7f",
	"bad\xff\xfeutf8",
	"tab\tend",
}

// TestFitNetworkHostileNames: a profile fitted with hostile names (in
// --name and in the input file's name) loads back with the same names,
// and its Regenerate comment is one printable line.
func TestFitNetworkHostileNames(t *testing.T) {
	dir := t.TempDir()
	lat := mustRead(t, osuLat)
	for i, name := range fitHostileNames {
		in := filepath.Join(dir, fmt.Sprintf("in%d-%s.txt", i, strings.ReplaceAll(name, "/", "_")))
		if err := os.WriteFile(in, lat, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprintf("p%d.yaml", i))
		if stdout, err := runCmd(t, "fit", "network", in, "-o", out, "--name", name); err != nil {
			t.Fatalf("%q: %v\n%s", name, err, stdout)
		}
		data := mustRead(t, out)
		p, prov, err := network.ReadProfile(out, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%q: the written profile does not load: %v\n%s", name, err, data)
		}
		if p.Name != name || prov.Inputs[0].Path != in || prov.Fit.Inputs[0].Path != in {
			t.Errorf("%q: read back name %q, input %q (want %q)", name, p.Name, prov.Inputs[0].Path, in)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "# Regenerate: ") && (!utf8.ValidString(l) || strings.IndexFunc(l, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0) {
				t.Errorf("%q: comment line not printable: %q", name, l)
			}
		}
		// The recorded command gives back the names when a shell runs it.
		if _, err := exec.LookPath("bash"); err == nil {
			script := strings.Replace(prov.Command, "sim fit network", "printf '%s\\0'", 1)
			got, err := exec.Command("bash", "-c", script).Output()
			if err != nil {
				t.Fatalf("%q: bash -c %q: %v", name, script, err)
			}
			args := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00")
			if len(args) != 5 || args[0] != in || args[4] != name {
				t.Errorf("%q: the shell reads the command as %q", name, args)
			}
		}
	}
}

func TestShellQuote(t *testing.T) {
	for s, want := range map[string]string{
		"plain-1.txt": "plain-1.txt",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"a\nb":        `$'a\nb'`,
		"\xff'\\":     `$'\xff\'\\'`,
		"ls\u2028":    `$'ls\xe2\x80\xa8'`,
		"":            "''",
	} {
		if got := shellQuote(s); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzParseBands: --bands is accepted only as ascending positive byte
// counts, and refused with a bounded message otherwise.
func FuzzParseBands(f *testing.F) {
	for _, s := range []string{"8192,65536", "", " 1 , 2 ", "65536,8192", "big", "1,,2", "9223372036854775808", "-1", strings.Repeat("9", 5000), "1\n2", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bands, err := parseBands(s)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("a %d-byte message", len(err.Error()))
			}
			return
		}
		for i, b := range bands {
			if b <= 0 || i > 0 && b <= bands[i-1] {
				t.Fatalf("accepted %v", bands)
			}
		}
	})
}

// TestFitNetworkHostileInput: malformed, impossible and hostile
// measurement files, names and flags of sim fit network; none crashes,
// each gives one clear message naming the file (and the line and field
// where there is one), and nothing is written. The table in the log is
// the closing note's.
func TestFitNetworkHostileInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "p.yaml")
	w := func(name string, data []byte) string { return writeFile(t, dir, name, data) }
	loop := filepath.Join(dir, "loop.json")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.json")
	if f, err := os.Create(sparse); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(300 << 20) // 300 MiB of holes: no disk used
		f.Close()
	}
	fifo := filepath.Join(dir, "osu.fifo")
	single := string(mustRead(t, iperf1))
	lat := "# OSU MPI Latency Test v7.3\n# Size          Latency (us)\n"
	// iperf edits the single-stream run: the first match of re becomes
	// to. line is the line of the edit.
	line := 0
	iperf := func(re, to string) []byte {
		r := regexp.MustCompile(re)
		loc := r.FindStringIndex(single)
		if loc == nil {
			t.Fatalf("no %s in %s", re, iperf1)
		}
		line = strings.Count(single[:loc[0]], "\n") + 1
		return []byte(single[:loc[0]] + to + single[loc[1]:])
	}
	at := func(file string, data []byte) (string, string) {
		return w(file, data), fmt.Sprintf("%s:%d: ", file, line)
	}
	rate, rateAt := at("rate.json", iperf(`"bits_per_second":\s*[0-9.e+]+`, `"bits_per_second": 1e308`))
	e400, e400At := at("e400.json", iperf(`"bits_per_second":\s*[0-9.e+]+`, `"bits_per_second": 1e400`))
	negb, negbAt := at("negbytes.json", iperf(`"bytes":\s*[0-9]+,\s*"bits_per_second"`, `"bytes": -1, "bits_per_second"`))
	forged, forgedAt := at("forged.json", iperf(`"bits_per_second":\s*[0-9.e+]+`, `"bits_per_second": 123456789012`))
	fit := func(files ...string) []string { return append(append([]string{"fit", "network"}, files...), "-o", out) }
	cases := []hostileCase{
		{what: "/dev/zero", args: fit("/dev/zero"), code: 2, want: "sim: /dev/zero:1: binary data (a NUL byte at offset 0): not a text measurement file (iperf3 JSON, OSU output or table, ping output)"},
		{what: "a 300 MiB file", args: fit(sparse), code: 2, want: "sim: " + sparse + ": larger than the 256 MiB limit for measurement files (is it the right file?)"},
		{what: "a folder", args: fit(dir), code: 2, want: "sim: " + dir + ": is a folder, not a measurement file"},
		{what: "a missing file", args: fit(filepath.Join(dir, "none.txt")), code: 2, want: "sim: cannot read measurement file: open " + dir + "/none.txt: no such file or directory"},
		{what: "a symlink loop", args: fit(loop), code: 2, want: "too many levels of symbolic links"},
		{what: "a FIFO carrying garbage", args: fit(fifo), code: 2, want: "osu.fifo: not iperf3 -J JSON, OSU output or an OSU CSV table (first line \"garbage from a pipe\")", setup: fifoWriter(fifo, []byte("garbage from a pipe\n"))},
		{what: "an empty file", args: fit(w("empty.txt", nil)), code: 2, want: "empty.txt: empty file"},
		{what: "truncated iperf3 JSON", args: fit(w("trunc.json", []byte(single[:len(single)/2]))), code: 2, want: "trunc.json:"},
		{what: "binary garbage", args: fit(w("bin.dat", []byte("\x7fELF\x02\x01\x01\x00\x00"))), code: 2, want: "bin.dat:1: binary data (a NUL byte at offset 7)"},
		{what: "UTF-16 text", args: fit(w("utf16.txt", []byte("\xff\xfe#\x00 \x00O\x00S\x00U\x00"))), code: 2, want: "utf16.txt:1: binary data (a NUL byte at offset 3)"},
		{what: "a /etc/passwd-like text", args: fit(w("passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"))), code: 2, want: `passwd: not iperf3 -J JSON, OSU output or an OSU CSV table (first line "root:x:0:0:root:/root:/bin/bash")`},
		{what: "iperf3 bits_per_second 1e308", args: fit(rate), code: 2, want: rateAt + "intervals[0].streams[0].bits_per_second: 1e+308 is above 1e+15 (1 Pbit/s): not a measured rate"},
		{what: "iperf3 number past float64 (1e400)", args: fit(e400), code: 2, want: e400At + `intervals.streams.bits_per_second: "1e400" is out of range for a number`},
		{what: "iperf3 negative bytes", args: fit(negb), code: 2, want: negbAt + "intervals[0].streams[0].bytes: -1 must not be negative"},
		{what: "iperf3 forged rate (disagrees with bytes/seconds)", args: fit(forged), code: 2, want: forgedAt + "intervals[0].streams[0].bits_per_second: 1.23456789012e+11 disagrees with bytes*8/seconds"},
		{what: "iperf3 seconds 0 (a NaN-making rate)", args: fit(w("zerosec.json", iperf(`"seconds":\s*[0-9.e+]+,\s*"bytes":\s*[0-9]+,\s*"bits_per_second":\s*[0-9.e+]+,\s*"retransmits":\s*[0-9]+,\s*"sender":\s*true`, `"seconds": 0, "bytes": 5, "bits_per_second": 0, "retransmits": 0, "sender": true`))), code: 2, want: "zerosec.json"},
		{what: "iperf3 JSON nested 100,000 deep", args: fit(w("deep.json", []byte(`{"start":`+strings.Repeat("[", 100000)))), code: 2, want: "deep.json"},
		{what: "iperf3 with unknown fields (ignored)", args: []string{"fit", "network", w("extra.json", []byte(strings.Replace(single, "{", `{"surprise": {"a": [1, 2]},`, 1))), "-o", filepath.Join(dir, "extra.yaml")}, code: 0, want: ""},
		{what: "iperf3 that reports an error of 1 MiB", args: fit(w("err.json", []byte(`{"start":{},"error":"`+strings.Repeat("e", 1<<20)+`"}`))), code: 2, want: `err.json:1: error: iperf3 reported an error: "eeee`},
		{what: "OSU latency of 10^12 us", args: fit(w("lat.txt", []byte(lat+"0 1.5\n8 1e12\n"))), code: 2, want: "lat.txt:4: Latency (us): 1e+12 is above 1e+09 µs: not a measurement"},
		{what: "OSU NaN", args: fit(w("nan.txt", []byte(lat+"0 NaN\n"))), code: 2, want: `nan.txt:3: Latency (us): cannot read "NaN" as a number`},
		{what: "OSU message of 2 TiB", args: fit(w("size.txt", []byte(lat+"2199023255552 1.5\n"))), code: 2, want: "size.txt:3: Size: 2199023255552 is larger than 1099511627776 bytes (1 TiB): not a message size"},
		{what: "OSU negative size", args: fit(w("negsize.txt", []byte(lat+"-8 1.5\n"))), code: 2, want: "negsize.txt:3: Size: -8 must not be negative"},
		{what: "OSU line of 2 MiB", args: fit(w("long.txt", []byte(lat+strings.Repeat("1", 2<<20)+"\n"))), code: 2, want: "long.txt:3: a line longer than 1 MiB: not OSU output"},
		{what: "OSU invalid UTF-8", args: fit(w("utf8.txt", []byte(lat+"0 1.5\xff\n"))), code: 2, want: `utf8.txt:3: Latency (us): cannot read "1.5\xff" as a number`},
		{what: "OSU CSV bandwidth 2e8 MB/s", args: fit(w("bw.csv", []byte("size,average_latency_us\n8,2e8\n16,4e8\n"))), code: 2, want: "bw.csv:2: average_latency_us: 2e+08 is above 1.25e+08 MB/s (1 Pbit/s): not a measurement"},
		{what: "OSU CSV header of 5,000 bytes", args: fit(w("hdr.csv", []byte("size,"+strings.Repeat("h", 5000)+"\n1,2\n"))), code: 2, want: `hdr.csv:1: average_latency_us: missing column (the header has "size,hhhh`},
		{what: "ping output (not a fit input)", args: fit(w("ping.txt", []byte("PING x (10.0.0.1) 56(84) bytes of data.\n"))), code: 2, want: `ping.txt: not iperf3 -J JSON, OSU output or an OSU CSV table (first line "PING x (10.0.0.1) 56(84) bytes of data.")`},
		{what: "--name with a newline (escaped; loads back)", args: []string{"fit", "network", osuLat, "-o", filepath.Join(dir, "n1.yaml"), "--name", "a\nkind: Injected"}, code: 0, want: ""},
		{what: "an input file name with a newline (escaped; loads back)", args: []string{"fit", "network", w("in\nversion: 9.txt", mustRead(t, osuLat)), "-o", filepath.Join(dir, "n2.yaml")}, code: 0, want: ""},
		{what: "a --bands of 5,000 digits", args: append(fit(osuLat), "--bands", strings.Repeat("9", 5000)), code: 2, want: `sim: --bands: "9999999999999999999999999999999999999999"… (5000 bytes) is not a positive number of bytes`},
		{what: "a 5,000-byte --experiment", args: append(fit(csvLat), "--experiment", strings.Repeat("x", 5000)), code: 2, want: `table-a.csv: experiment: no experiment "xxxx`},
		{what: "-o naming a folder", args: []string{"fit", "network", osuLat, "-o", dir}, code: 2, want: "sim: " + dir + " exists and is not a regular file"},
	}
	runHostile(t, dir, cases)
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused fit wrote %s", out)
	}
	for _, f := range []string{"n1.yaml", "n2.yaml", "extra.yaml"} {
		if _, _, err := network.ReadProfileFile(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s does not load back: %v", f, err)
		}
	}
}
