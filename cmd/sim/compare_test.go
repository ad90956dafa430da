package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompare: sim compare runs the scenario once per policy into its
// own folder and writes the side-by-side table and CSV; the kube row of
// small-cluster-gangs is stalled with no job finished, the coscheduling
// row done with all of them; the same command gives the same files.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	run := func(out string) {
		t.Helper()
		if o, err := runCmd(t, "compare", "../../scenarios/small-cluster-gangs.yaml", "-o", out, "-q",
			"--policy", "kube", "--policy", "coscheduling", "--policy", "fluence,policy.fluence.assign=by-slot,policy.fluence.policy=lonodex"); err != nil {
			t.Fatalf("compare: %v\n%s", err, o)
		}
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	run(a)
	run(b)
	for _, sub := range []string{"kube", "coscheduling", "fluence-fluence.assign-by-slot-fluence.policy-lonodex"} {
		if _, err := os.Stat(filepath.Join(a, sub, "summary.txt")); err != nil {
			t.Errorf("no report for %s: %v", sub, err)
		}
	}
	for _, f := range []string{"comparison.txt", "comparison.csv"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: empty or differs between two runs", f)
		}
	}
	data, _ := os.ReadFile(filepath.Join(a, "comparison.csv"))
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byPolicy := map[string][]string{}
	for _, r := range rows[1:] {
		if r[1] == "" {
			byPolicy[r[0]] = r
		}
	}
	if r := byPolicy["kube"]; r == nil || r[2] != "stalled" || r[4] != "0" {
		t.Errorf("kube row %v, want stalled with 0 jobs finished", r)
	}
	if r := byPolicy["coscheduling"]; r == nil || r[2] != "done" || r[4] != r[3] || r[5] == "" {
		t.Errorf("coscheduling row %v, want every job finished and a makespan", r)
	}
	if r := byPolicy["fluence,policy.fluence.assign=by-slot,policy.fluence.policy=lonodex"]; r == nil || r[2] != "done" {
		t.Errorf("fluence row %v", r)
	}
	text, _ := os.ReadFile(filepath.Join(a, "comparison.txt"))
	if !strings.Contains(string(text), "per workload") {
		t.Errorf("comparison.txt lacks the workload table:\n%s", text)
	}
	// The stop column starts where its header does, whatever the
	// length of the policies' names.
	lines := strings.Split(string(text), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "policy ") {
			continue
		}
		col := strings.Index(l, "stop")
		for _, r := range lines[i+1 : i+4] {
			if f := strings.Fields(r); len(f) < 2 || strings.Index(r, " "+f[1]+" ")+1 != col {
				t.Errorf("row %q: stop column not under its header (at %d)", r, col)
			}
		}
		break
	}
}

func TestCompareErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--policy", "kube"}, "at least two --policy"},
		{[]string{"--policy", "kube", "--policy", "kube"}, "given twice"},
		{[]string{"--policy", "kube", "--policy", "fluence,assign"}, "is not key=value"},
		{[]string{"--policy", "kube", "--policy", "volcano"}, "unknown policy"},
	} {
		out := filepath.Join(t.TempDir(), "cmp")
		args := append([]string{"compare", "../../scenarios/small-cluster-gangs.yaml", "-o", out, "-q"}, tc.args...)
		_, err := runCmd(t, args...)
		if exitCode(err) != exitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (exit %d), want exit 2 with %q", tc.args, err, exitCode(err), tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: %s was written although the command was refused", tc.args, out)
		}
	}
}
