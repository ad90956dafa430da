package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fluxionData = "../../policies/fluxion/testdata/shell/"

// runFluxion runs "sim fluxion args..." with stdin and returns stdout,
// stderr and the exit code.
func runFluxionCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"fluxion"}, args...))
	err := root.Execute()
	if err != nil {
		errOut.WriteString("sim: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), exitCode(err)
}

func TestFluxionSession(t *testing.T) {
	in := "# a session\n\n" +
		"match allocate " + fluxionData + "node1.yaml\n" +
		"match allocate_orelse_reserve " + fluxionData + "cores4.yaml\n" +
		"bogus\n" +
		"match allocate_with_satisfiability " + fluxionData + "cores5.yaml\n" +
		"info 1\n" +
		"cancel 1\n" +
		"stat\n"
	out, errOut, code := runFluxionCmd(t, in, "--load", fluxionData+"tiny.json", "--policy", "lonode")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"      ------core0[1:x]\n      ------core1[1:x]\n      ------core2[1:x]\n      ------core3[1:x]\n      ---node0[1:s]\n      cluster0[1:s]\n",
		"INFO: JOBID=1\nINFO: RESOURCES=ALLOCATED\nINFO: SCHEDULED AT=Now\n",
		"INFO: JOBID=2\nINFO: RESOURCES=ALLOCATED\n",
		"INFO: No matching resources found\nINFO: Unsatisfiable request\nINFO: JOBID=3\n",
		"INFO: 1, ALLOCATED, 0, " + fluxionData + "node1.yaml, 0\n",
		"INFO: Num. of Vertices: 21\nINFO: Num. of Edges: 20\nINFO: Num. of Jobs Matched: 2\nINFO: Num. of Live Jobs: 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "resource-query>") {
		t.Errorf("prompt printed without --prompt:\n%s", out)
	}
	for _, want := range []string{`ERROR: unknown command "bogus"`, "ENODEV: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestFluxionRLiteAndPrompt(t *testing.T) {
	in := "match allocate " + fluxionData + "cores2.yaml\nquit\nstat\n"
	out, errOut, code := runFluxionCmd(t, in, "--load", fluxionData+"tiny.json", "--policy", "low", "--format", "rlite", "--prompt")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := `resource-query> {"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0-1"}}],"nodelist":["node0"],"starttime":0,"expiration":600}}` + "\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("stdout %q, want it to start with %q", out, want)
	}
	if n := strings.Count(out, "resource-query> "); n != 2 || strings.Contains(out, "Num. of") {
		t.Errorf("%d prompts (want 2) or stat ran after quit:\n%s", n, out)
	}
}

func TestFluxionExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"graph": {"nodes": []}}`), 0o644)
	graph := fluxionData + "tiny.json"
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{nil, exitUsage, []string{"--load"}},
		{[]string{"--load", filepath.Join(dir, "missing.json")}, exitUsage, []string{"cannot read graph"}},
		{[]string{"--load", bad}, exitUsage, []string{"cannot load graph"}},
		{[]string{"--load", graph, "--policy", "best"}, exitUsage, []string{`"best"`, "first, firstnodex, high, hinode, hinodex, locality, low, lonode, lonodex, variation"}},
		{[]string{"--load", graph, "--prune-filters", "core"}, exitUsage, []string{"prune filter"}},
		{[]string{"--load", graph, "--format", "pretty_simple"}, exitUsage, []string{"--match-format", "rlite, jgf, rv1"}},
		{[]string{"--load", graph, "-F", "jgf"}, 0, nil},
		{[]string{"--load", graph, "extra"}, exitUsage, []string{"takes no arguments"}},
		{[]string{"--load", graph, "--bogus"}, exitUsage, []string{"unknown flag"}},
		{[]string{"--load", graph}, 0, nil},
	} {
		out, errOut, code := runFluxionCmd(t, "frobnicate\nstat\n", tc.args...)
		if code != tc.code {
			t.Errorf("sim fluxion %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("sim fluxion %v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
	}
}
