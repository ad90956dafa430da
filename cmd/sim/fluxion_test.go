package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const fluxionData = "internal/rqshell/testdata/"

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
		"      ---------core0[1:x]\n      ---------core1[1:x]\n      ---------core2[1:x]\n      ---------core3[1:x]\n      ------node0[1:s]\n      ---cluster0[1:s]\n",
		"INFO: JOBID=1\nINFO: RESOURCES=ALLOCATED\nINFO: SCHEDULED AT=Now\n",
		"INFO: JOBID=2\nINFO: RESOURCES=ALLOCATED\n",
		"INFO: No matching resources found\nINFO: Unsatisfiable request\nINFO: JOBID=3\n",
		"INFO: 1, ALLOCATED, 0, " + fluxionData + "node1.yaml, ",
		"INFO: Num. of Jobs Matched: 2\nINFO: Min. Match Time: 1.79769e+308\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "resource-query>") {
		t.Errorf("prompt printed without --prompt:\n%s", out)
	}
	for _, want := range []string{"ERROR: unknown command bogus (ignored; try help)"} {
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
	want := `resource-query> [{"rank": "0", "children": {"core": "0-1"}}]` + "\n"
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

// hostileCase is a malformed or hostile input tried on a command: the
// command must exit with code (2 for bad input; 0 when the input is a
// session line or file argument, after which the session goes on) and
// the first line of its message must contain want.
type hostileCase struct {
	what  string   // what is tried, for the table
	args  []string // after "sim"
	stdin string
	code  int
	want  string
	setup func(t *testing.T) // e.g. start the writer of a FIFO
}

// runHostile runs the cases in-process as a user would run the binary and
// logs a table row per case (go test -v ./cmd/sim -run Hostile prints the
// table): what was tried, the command, the exit code and the first line
// of the message. A panic fails the test run.
func runHostile(t *testing.T, dir string, cases []hostileCase) {
	t.Helper()
	t.Logf("| input | command | exit | first line of the message |")
	t.Logf("|---|---|---|---|")
	for _, tc := range cases {
		if tc.setup != nil {
			tc.setup(t)
		}
		var out, errOut bytes.Buffer
		root := newRootCmd(&out, &errOut)
		root.SetIn(strings.NewReader(tc.stdin))
		root.SetArgs(tc.args)
		err := root.Execute()
		code := exitCode(err)
		msg := ""
		if err != nil {
			msg = "sim: " + err.Error()
		} else {
			msg = strings.TrimLeft(errOut.String(), "\n")
		}
		first, _, _ := strings.Cut(msg, "\n")
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d: %.300s", tc.what, code, tc.code, first)
		}
		if !strings.Contains(first, tc.want) {
			t.Errorf("%s: message %.400q lacks %q", tc.what, first, tc.want)
		}
		if len(first) > 600 {
			t.Errorf("%s: a %d-byte message", tc.what, len(first))
		}
		show := "sim"
		for _, a := range tc.args {
			a = strings.ReplaceAll(a, dir, "$T")
			switch {
			case len(a) > 60:
				a = fmt.Sprintf("<%d bytes: %.12q…>", len(a), a)
			case strings.IndexFunc(a, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 || a == "":
				a = fmt.Sprintf("%q", a)
			}
			show += " " + a
		}
		if tc.stdin != "" {
			in := strings.ReplaceAll(tc.stdin, dir, "$T")
			if len(in) > 80 {
				in = fmt.Sprintf("%.40q… (%d bytes)", in, len(in))
			} else {
				in = fmt.Sprintf("%q", in)
			}
			show += " < " + in
		}
		show = strings.ReplaceAll(show, "internal/rqshell/testdata/", "")
		first = strings.ReplaceAll(first, dir, "$T")
		if len(first) > 200 {
			first = first[:200] + "…"
		}
		t.Logf("| %s | `%s` | %d | `%s` |", tc.what, show, code, strings.ReplaceAll(first, "|", `\|`))
	}
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fifoWriter makes a FIFO at path whose writer (started by the returned
// setup) writes data once a reader opens it.
func fifoWriter(path string, data []byte) func(t *testing.T) {
	return func(t *testing.T) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
		go func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
	}
}

// jgfOf is a JGF of a cluster with one node and one core, with the
// node's metadata replaced by nodeMeta if not "".
func jgfOf(nodeMeta, extraEdges string) string {
	if nodeMeta == "" {
		nodeMeta = `{"type":"node","paths":{"containment":"/c0/n1"}}`
	}
	return `{"graph":{"nodes":[` +
		`{"id":"0","metadata":{"type":"cluster","paths":{"containment":"/c0"}}},` +
		`{"id":"1","metadata":` + nodeMeta + `},` +
		`{"id":"2","metadata":{"type":"core","paths":{"containment":"/c0/n1/k2"}}}],` +
		`"edges":[{"source":"0","target":"1"},{"source":"1","target":"2"}` + extraEdges + `]}}`
}

// TestFluxionHostileInput: malformed and hostile graphs, flags, session
// lines and file arguments of sim fluxion; none crashes, each gives one
// clear message. The table in the log is the closing note's.
func TestFluxionHostileInput(t *testing.T) {
	dir := t.TempDir()
	graph := fluxionData + "tiny.json"
	loop := filepath.Join(dir, "loop.json")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	w := func(name, data string) string { return writeFile(t, dir, name, []byte(data)) }
	fifo := filepath.Join(dir, "graph.fifo")
	bigSize := `{"type":"memory","size":9223372036854775807,"paths":{"containment":"/c0/n1"}}`
	jobspec := func(count string) string {
		return "version: 1\nresources:\n  - type: slot\n    count: 1\n    label: default\n    with:\n      - type: core\n        count: " + count +
			"\ntasks:\n  - command: [app]\n    slot: default\n    count: {per_slot: 1}\nattributes:\n  system:\n    duration: 60\n"
	}
	load := func(p string) []string { return []string{"fluxion", "--load", p} }
	cases := []hostileCase{
		{what: "/dev/zero as the graph", args: load("/dev/zero"), code: 2, want: "/dev/zero: line 1, column 1: invalid JSON: invalid character byte 0x00 looking for a value"},
		{what: "a folder as the graph", args: load(dir), code: 2, want: "is a folder, not a resource graph (JGF) file"},
		{what: "a missing graph", args: load(filepath.Join(dir, "none.json")), code: 2, want: "sim: cannot read graph: open " + dir + "/none.json: no such file or directory"},
		{what: "a symlink loop", args: load(loop), code: 2, want: "too many levels of symbolic links"},
		{what: "a FIFO carrying text", args: load(fifo), code: 2, want: "graph.fifo: line 1, column 1: invalid JSON: invalid character 'h' looking for a value", setup: fifoWriter(fifo, []byte("hello from a pipe\n"))},
		{what: "an empty file", args: load(w("empty.json", "")), code: 2, want: "empty.json: line 1, column 1: invalid JSON: unexpected end of input"},
		{what: "truncated JSON", args: load(w("trunc.json", jgfOf("", "")[:120])), code: 2, want: "trunc.json: line 1, column 121: invalid JSON: unterminated string"},
		{what: "binary garbage", args: load(w("elf.json", "\x7fELF\x02\x01\x01\x00\x00\x00")), code: 2, want: "elf.json: line 1, column 1: invalid JSON: invalid character byte 0x7f looking for a value"},
		{what: "a text file (/etc/passwd-like)", args: load(w("passwd", "root:x:0:0:root:/root:/bin/bash\n")), code: 2, want: "passwd: line 1, column 1: invalid JSON: invalid character 'r' looking for a value"},
		{what: "JSON nested 100,000 deep", args: load(w("deep.json", `{"x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`)), code: 2, want: "deep.json: line 1, column 1006: invalid JSON: nesting too deep"},
		{what: "invalid UTF-8 in a string", args: load(w("utf8.json", jgfOf(`{"type":"node`+"\xff"+`","paths":{"containment":"/c0/n1"}}`, ""))), code: 2, want: "utf8.json: line 1, column 121: invalid JSON: invalid UTF-8 in string"},
		{what: "a top-level array", args: load(w("array.json", "[]")), code: 2, want: "array.json: top-level value: want object, got array"},
		{what: "a size of MaxInt64, alone of its type (fits: accepted)", args: load(w("size.json", jgfOf(bigSize, ""))), stdin: "stat\n", code: 0, want: ""},
		{what: "every size MaxInt64 (tiny.json)", args: load(w("tinymax.json", strings.ReplaceAll(string(mustRead(t, graph)), `"size": 1`, `"size": 9223372036854775807`))), code: 2, want: `tinymax.json: graph.nodes[3].metadata.size: 9223372036854775807: the sizes of the "core" vertices add up to more than 9223372036854775807`},
		{what: "sizes of one type summing past int64", args: load(w("sum.json", strings.Replace(jgfOf(bigSize, ""), `{"type":"core","paths"`, `{"type":"memory","size":9,"paths"`, 1))), code: 2, want: `sum.json: graph.nodes[2].metadata.size: 9: the sizes of the "memory" vertices add up to more than 9223372036854775807`},
		{what: "a rank of MaxInt64", args: load(w("rank.json", jgfOf(`{"type":"node","rank":9223372036854775807,"paths":{"containment":"/c0/n1"}}`, ""))), code: 2, want: "rank.json: graph.nodes[1].metadata.rank: 9223372036854775807 out of range: a broker rank is -1 (none) or 0 .. 2147483647"},
		{what: "a negative size", args: load(w("neg.json", jgfOf(`{"type":"node","size":-1,"paths":{"containment":"/c0/n1"}}`, ""))), code: 2, want: "neg.json: graph.nodes[1].metadata.size: must be >= 0, got -1"},
		{what: "an integer of 5,000 digits", args: load(w("digits.json", jgfOf(`{"type":"node","size":`+strings.Repeat("9", 5000)+`,"paths":{"containment":"/c0/n1"}}`, ""))), code: 2, want: "digits.json: graph.nodes[1].metadata.size: integer 9999999999999999999999999999999999999... out of range"},
		{what: "a containment cycle", args: load(w("cycle.json", jgfOf("", `,{"source":"2","target":"0"}`))), code: 2, want: `cycle.json: graph.edges[2]: containment edge "2" -> "0" leads from "/c0/n1/k2" up to its ancestor "/c0": a containment cycle`},
		{what: "an edge from a vertex to itself", args: load(w("self.json", jgfOf("", `,{"source":"1","target":"1"}`))), code: 2, want: `self.json: graph.edges[2]: source and target are both "1" ("/c0/n1"): a containment cycle`},
		{what: "a 5,000-byte path", args: load(w("path.json", jgfOf(`{"type":"node","paths":{"containment":"`+strings.Repeat("p", 5000)+`"}}`, ""))), code: 2, want: `path.json: graph.nodes[1].metadata.paths.containment: malformed path "ppp`},
		{what: "a duplicate key", args: load(w("dup.json", jgfOf(`{"type":"node","type":"core","paths":{"containment":"/c0/n1"}}`, ""))), code: 2, want: "dup.json: graph.nodes[1].metadata.type: duplicate key"},
		{what: "unknown fields (ignored, as Fluxion does)", args: load(w("unknown.json", strings.Replace(jgfOf(`{"type":"node","color":"red","paths":{"containment":"/c0/n1"}}`, ""), `{"graph":`, `{"extra":[1,2],"graph":`, 1))), stdin: "stat\n", code: 0, want: ""},
		{what: "a 5,000-byte --policy", args: []string{"fluxion", "--load", graph, "--policy", strings.Repeat("b", 5000)}, code: 2, want: `sim: --policy: fluxion: match: invalid argument (EINVAL): unknown match policy "bbbb`},
		{what: "a malformed --prune-filters", args: []string{"fluxion", "--load", graph, "--prune-filters", "ALL"}, code: 2, want: `sim: --prune-filters: fluxion: match: invalid argument (EINVAL): prune filter "ALL", want HL:LL`},
		{what: "an unknown --match-format", args: []string{"fluxion", "--load", graph, "-F", "\x1b[31m"}, code: 2, want: `sim: --match-format: unknown match format "\x1b[31m", only (simple, rlite, jgf, rv1, rv1_nosched) allowed`},
		{what: "a 17 MiB stdin line", args: load(graph), stdin: strings.Repeat("x", 17<<20) + "\nstat\n", code: 0, want: "ERROR: line 1: longer than the 16 MiB limit for a command; skipped"},
		{what: "a 2 MiB stdin line (ended the session before)", args: load(graph), stdin: strings.Repeat("w", 2<<20) + "\nstat\n", code: 0, want: `ERROR: unknown command "wwww`},
		{what: "binary garbage on stdin", args: load(graph), stdin: "\x00\xff\xfe\x01\nstat\n", code: 0, want: `ERROR: unknown command "\x00\xff\xfe\x01" (ignored; try help)`},
		{what: "CRLF line endings", args: load(graph), stdin: "stat\r\nbogus\r\n", code: 0, want: "ERROR: unknown command bogus (ignored; try help)"},
		{what: "/dev/zero as a jobspec", args: load(graph), stdin: "match allocate /dev/zero\nstat\n", code: 0, want: "ERROR: can't open /dev/zero: /dev/zero: larger than the 16 MiB limit for jobspec files (is it the right file?)"},
		{what: "a folder as a jobspec", args: load(graph), stdin: "match allocate " + dir + "\n", code: 0, want: "ERROR: can't open " + dir},
		{what: "a jobspec with invalid UTF-8", args: load(graph), stdin: "match allocate " + w("utf8.yaml", "version: 1\nresources: \xff\xfe\n") + "\n", code: 0, want: "match_allocate: ERROR: Jobspec error for 1: " + dir + "/utf8.yaml"},
		{what: "a jobspec count of 10^30", args: load(graph), stdin: "match allocate " + w("count.yaml", jobspec("1000000000000000000000000000000")) + "\n", code: 0, want: "count.yaml:8: resources[0].with[0].count: must be at most 4294967295, got 1000000000000000000000000000000"},
		{what: "an empty jobspec", args: load(graph), stdin: "match allocate " + w("empty.yaml", "") + "\n", code: 0, want: "empty.yaml: empty document"},
		{what: "/dev/zero as an R (update)", args: load(graph), stdin: "update allocate jgf /dev/zero 7 0 10\n", code: 0, want: "ERROR: can't read /dev/zero: not an R (a JSON object)"},
		{what: "a truncated R (rv1exec)", args: load(graph), stdin: "update allocate rv1exec " + w("r.json", `{"version":1,"execution":{"R_lite":[`) + " 7 0 10\n", code: 0, want: "ERROR: traverser run () returned error "},
		{what: "a job id of 2^64", args: load(graph), stdin: "cancel 18446744073709551616\n", code: 0, want: "cancel: ERROR: nonexistent job 9223372036854775807"},
		{what: "a negative update time", args: load(graph), stdin: "update allocate jgf " + graph + " 7 -5 10\n", code: 0, want: "ERROR: invalid time (-5, 10)"},
	}
	runHostile(t, dir, cases)
}
