package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/convergesim/converge/network"
)

const (
	osuLat = "../../network/testdata/osu/osu_latency-v7.txt"
	osuBW  = "../../network/testdata/osu/osu_bw-v7.txt"
	csvLat = "../../network/testdata/osu/table-a.csv"
	csvBW  = "../../network/testdata/osu/table-b.csv"
	iperf1 = "../../network/testdata/iperf3/single.json"
	iperfP = "../../network/testdata/iperf3/parallel4.json"
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
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}

	// iperf3 runs: one band, the link bandwidth from the parallel run.
	tcp := filepath.Join(dir, "tcp.yaml")
	stdout, err = runCmd(t, "fit", "network", iperf1, iperfP, "-o", tcp)
	if err != nil || !strings.Contains(stdout, "link") || !strings.Contains(stdout, "iperf3: n rms max") {
		t.Fatalf("iperf3 fit: %v\n%s", err, stdout)
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
