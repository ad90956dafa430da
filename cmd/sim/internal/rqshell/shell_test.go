package rqshell

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// newTestShell loads testdata/tiny.json (4 nodes of 4 cores) and returns
// a shell over it.
func newTestShell(t testing.TB, policy, format string) *Shell {
	t.Helper()
	g, err := graph.ReadJGFFile("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Options{Format: format})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func execLines(t *testing.T, s *Shell, lines ...string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	for _, l := range lines {
		if err := s.Exec(l, &out, &errOut); err != nil && !errors.Is(err, ErrQuit) {
			t.Fatal(err)
		}
	}
	return out.String(), errOut.String()
}

// TestStatTimes: resource-query times updates only, so with jobs but no
// update stat shows the largest double as the minimum and 0 for the
// rest; an update's time comes in; info shows the match's own time.
func TestStatTimes(t *testing.T) {
	s := newTestShell(t, "", "")
	out, _ := execLines(t, s, "stat")
	if want := "INFO: Num. of Jobs Matched: 0\nINFO: Min. Match Time: 0\nINFO: Max. Match Time: 0\nINFO: Avg. Match Time: 0\n"; out != want {
		t.Errorf("stat on a fresh shell:\n%s\nwant\n%s", out, want)
	}
	out, _ = execLines(t, s, "match allocate testdata/cores2.yaml", "stat")
	if want := "INFO: Num. of Jobs Matched: 1\nINFO: Min. Match Time: 1.79769e+308\nINFO: Max. Match Time: 0\nINFO: Avg. Match Time: 0\n"; !strings.HasSuffix(out, want) {
		t.Errorf("stat after a match:\n%s\nwant the end\n%s", out, want)
	}
	out, _ = execLines(t, s, "update allocate rv1exec testdata/r-rank1.json 7 0 100", "stat", "info 7")
	if strings.Contains(out, "1.79769e+308") || !strings.Contains(out, "INFO: Num. of Jobs Matched: 2\n") || !strings.Contains(out, "INFO: 7, ALLOCATED, 0, testdata/r-rank1.json, ") {
		t.Errorf("after an update:\n%s", out)
	}
}

func TestCdoubleStrtoll(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {0.000418901234, "0.000418901"}, {9.417531e-05, "9.41753e-05"}, {1.7976931348623157e308, "1.79769e+308"}, {12.5, "12.5"}} {
		if got := cdouble(tc.in); got != tc.want {
			t.Errorf("cdouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{{"12", 12}, {"  -3x", -3}, {"abc", 0}, {"+7", 7}, {"99999999999999999999", 1<<63 - 1}, {"-99999999999999999999", -1 << 63}} {
		if got := strtoll(tc.in); got != tc.want {
			t.Errorf("strtoll(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestFindCriteria: the expression grammar of Fluxion's evaluator.
func TestFindCriteria(t *testing.T) {
	for _, tc := range []struct {
		crit string
		ok   bool
	}{
		{"status=up", true},
		{"STATUS=up", false},
		{"status=UP", true},
		{"status=up and sched-now=free", true},
		{"status=up sched-now=free", true}, // a missing joiner is and
		{"(status=up or status=down) and names=node[0-3]", true},
		{"((status=up))", true},
		{"(status=up", false},
		{"status=up or", false},
		{"status=upsched-now=free", false},
		{"status", false},
		{"jobid-alloc=12", true},
		{"jobid-alloc=x", false},
		{"names=node[3-1]", false},
		{"property=", false},
		{"agfilter=t", true},
		{"bogus=1", false},
	} {
		_, err := parseExpr(tc.crit)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.crit, err, tc.ok)
		}
	}
	x, _ := parseExpr("status=down or status=up and status=down")
	if x.eval(&vertexState{v: &graph.Vertex{}}) {
		t.Error("left-to-right fold: (down or up) and down is false on an up vertex")
	}
	hosts, err := decodeHostlist("node[0-2,07-08],login")
	if err != nil || len(hosts) != 6 || !hosts["node07"] || !hosts["login"] || !hosts["node1"] {
		t.Errorf("decodeHostlist: %v %v", hosts, err)
	}
}

func TestFindAgfilterAndNoMatch(t *testing.T) {
	s := newTestShell(t, "", "")
	out, errOut := execLines(t, s, "find agfilter=true", "find status=down")
	if !strings.Contains(errOut, "agfilter") {
		t.Errorf("agfilter: stderr %q", errOut)
	}
	if out != rule+"INFO: EXPRESSION=\"status=down\"\n"+rule {
		t.Errorf("nothing found: stdout %q", out)
	}
}

// TestPartialCancel: releasing both ranks of a two-node job by their
// R_lite cancels it. (flux-sched v0.54.0's resource-query fails this for a
// job it matched, "N not found in rank_to_counts": see the docs.)
func TestPartialCancel(t *testing.T) {
	s := newTestShell(t, "lonode", "")
	out, errOut := execLines(t, s, "match allocate testdata/nodes2.yaml",
		"partial-cancel 1 rv1exec testdata/r-rank0.json", "info 1",
		"partial-cancel 1 rv1exec testdata/r-rank1.json", "info 1",
		"partial-cancel 1 rv1exec testdata/r-rank1.json")
	if !strings.Contains(out, "INFO: 1, ALLOCATED, 0,") || !strings.Contains(out, "INFO: 1, CANCELED, 0,") {
		t.Errorf("stdout:\n%s", out)
	}
	if errOut != "ERROR: nonexistent job 1\n" {
		t.Errorf("stderr %q", errOut)
	}
}

func TestRunPromptQuit(t *testing.T) {
	s := newTestShell(t, "low", "")
	in := strings.NewReader("# comment\n\nstat\nbogus\nmatch allocate testdata/cores2.yaml\nquit\nstat\n")
	var out, errOut bytes.Buffer
	if err := s.Run(in, &out, &errOut, "resource-query> "); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "resource-query> "); n != 6 {
		t.Errorf("%d prompts, want 6 (the line after quit is not read):\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "Num. of Jobs Matched"); n != 1 {
		t.Errorf("stat ran %d times, want 1", n)
	}
	if errOut.String() != "ERROR: unknown command bogus (ignored; try help)\n" {
		t.Errorf("stderr %q", errOut.String())
	}
}

func TestNewFormat(t *testing.T) {
	g, err := graph.ReadJGFFile("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(m, Options{Format: "pretty_simple"}); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "simple, rlite, jgf, rv1, rv1_nosched") {
		t.Errorf("pretty_simple: %v", err)
	}
	for _, f := range append([]string{""}, Formats...) {
		if _, err := New(m, Options{Format: f}); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil matcher accepted")
	}
}

// TestLongLines: a line over the limit is skipped with an error naming
// its number; lines at the limit, CRLF and a last line without newline
// are read.
func TestLongLines(t *testing.T) {
	const limit = 64
	s := newTestShell(t, "", "")
	atLimit := "stat" + strings.Repeat(" ", limit-4)
	in := strings.Repeat("x", 100000) + "\n" + atLimit + "\n" + atLimit + "y\n" + "stat\r\n" + strings.Repeat("z", limit+1)
	var out, errOut bytes.Buffer
	if err := s.run(strings.NewReader(in), &out, &errOut, "", limit); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "Num. of Jobs Matched"); n != 2 {
		t.Errorf("stat ran %d times, want 2", n)
	}
	want := "ERROR: line 1: longer than the 64 B limit for a command; skipped\n" +
		"ERROR: line 3: longer than the 64 B limit for a command; skipped\n" +
		"ERROR: line 5: longer than the 64 B limit for a command; skipped\n"
	if errOut.String() != want {
		t.Errorf("stderr\n%s\nwant\n%s", errOut.String(), want)
	}
}

// TestHostileFiles: file arguments that are not jobspecs or R give one
// error naming the file and the session goes on.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("\x00\x01\x02\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", 5000)
	for _, tc := range []struct{ cmd, want string }{
		{"match allocate /dev/zero", "ERROR: can't open /dev/zero: "},
		{"match allocate " + dir, "ERROR: can't open " + dir},
		{"match allocate " + bin, "match_allocate: ERROR: Jobspec error for 1: "},
		{"update allocate rv1exec " + bin + " 8 0 10", "ERROR: can't read " + bin + ": not an R (a JSON object)"},
		{"partial-cancel 1 rv1exec testdata/r-rank0.json", "ERROR: nonexistent job 1"},
		{"update allocate rv1exec testdata/cores2.yaml 8 0 10", "ERROR: can't read testdata/cores2.yaml: not an R"},
		{"update allocate rv1exec testdata/tiny.json 8 0 10", "ERROR: traverser run () returned error \nERROR: "},
		{"match " + long + " x", `ERROR: unknown subcmd "ppp`},
		{"find " + long, "findfind: invalid criteria: ppp"},
		{long, `ERROR: unknown command "ppp`},
	} {
		s := newTestShell(t, "", "")
		var out, errOut bytes.Buffer
		if err := s.Run(strings.NewReader(tc.cmd+"\nstat\n"), &out, &errOut, ""); err != nil {
			t.Fatalf("%.80s: %v", tc.cmd, err)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%.80s:\nstderr %.500s\nwant %q", tc.cmd, errOut.String(), tc.want)
		}
		if !strings.Contains(out.String(), "Num. of Jobs Matched") {
			t.Errorf("%.80s: the session did not go on", tc.cmd)
		}
	}
}
