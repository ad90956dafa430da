package rqshell

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convergesim/converge/policies/fluxion/graph"
	"github.com/convergesim/converge/policies/fluxion/match"
)

// The parity sessions (testdata/parity/NAME.session) are command files
// that both tools read as they are: resource-query skips the "#" lines
// as unknown commands. The first line, "#! graph=G policy=P format=F",
// gives the options (resource-query -L G -f jgf -P P -F F -d; sim fluxion
// --load G --policy P -F F). NAME.stdout and NAME.stderr are what
// flux-sched v0.54.0's resource-query printed, run in testdata/.
//
// What is normalised before comparing, and why (docs/fluxion-reapi.md):
//   - timings: the last field of info and list lines (the seconds a match
//     took) and the values of stat's Min./Max./Avg. Match Time, which are
//     measured by each tool;
//   - the detail of a jobspec error after "Jobspec error for N: ", which
//     is each parser's own message.
// Everything else, standard output and standard error, must be the same
// byte for byte.

var (
	normTimes = []*regexp.Regexp{
		regexp.MustCompile(`(?m)^(INFO: [0-9]+, [A-Z]+, -?[0-9]+, .*, )[-+0-9.e]+$`),
		regexp.MustCompile(`(?m)^(INFO: (?:Min|Max|Avg)\. Match Time: ).*$`),
		regexp.MustCompile(`(?m)^(match_allocate: ERROR: Jobspec error for [0-9]+: ).*$`),
	}
)

func normalise(s string) string {
	for _, re := range normTimes {
		s = re.ReplaceAllString(s, "${1}<normalised>")
	}
	return s
}

type session struct {
	name, file            string
	graph, policy, format string
}

func sessions(t *testing.T) []session {
	t.Helper()
	files, err := filepath.Glob("testdata/parity/*.session")
	if err != nil || len(files) == 0 {
		t.Fatalf("no parity sessions: %v", err)
	}
	var out []session
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := session{name: strings.TrimSuffix(filepath.Base(f), ".session"), file: f, policy: "first", format: FormatSimple}
		first, _, _ := strings.Cut(string(data), "\n")
		head, ok := strings.CutPrefix(first, "#!")
		if !ok {
			t.Fatalf("%s: the first line must be #! graph=... policy=... format=...", f)
		}
		for _, kv := range strings.Fields(head) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "graph":
				s.graph = v
			case "policy":
				s.policy = v
			case "format":
				s.format = v
			default:
				t.Fatalf("%s: unknown option %q", f, kv)
			}
		}
		out = append(out, s)
	}
	return out
}

// runSession runs a session through the shell in testdata/ (where its
// file arguments are) and returns standard output and error.
func runSession(t *testing.T, s session) (string, string) {
	t.Helper()
	script, err := os.ReadFile(s.file)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("testdata")
	g, err := graph.ReadJGFFile(s.graph)
	if err != nil {
		t.Fatal(err)
	}
	m, err := match.NewMatcher(g, match.MatcherOptions{Policy: s.policy})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := New(m, Options{Format: s.format})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := sh.Run(bytes.NewReader(script), &out, &errOut, ""); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

// TestParity: every session gives resource-query's output.
func TestParity(t *testing.T) {
	for _, s := range sessions(t) {
		t.Run(s.name, func(t *testing.T) {
			wantOut, err := os.ReadFile(strings.TrimSuffix(s.file, ".session") + ".stdout")
			if err != nil {
				t.Fatal(err)
			}
			wantErr, err := os.ReadFile(strings.TrimSuffix(s.file, ".session") + ".stderr")
			if err != nil {
				t.Fatal(err)
			}
			gotOut, gotErr := runSession(t, s)
			compare(t, "stdout", normalise(string(wantOut)), normalise(gotOut))
			compare(t, "stderr", normalise(string(wantErr)), normalise(gotErr))
		})
	}
}

func compare(t *testing.T, what, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			t.Errorf("%s differs from resource-query's at line %d:\nresource-query: %.400q\nsim fluxion:    %.400q", what, i+1, wl, gl)
			return
		}
	}
}

// TestParityLive runs the sessions through a real resource-query, named
// by $RESOURCE_QUERY (for example flux-sched's
// build/resource/utilities/resource-query), and checks that it still
// prints the golden files: it shows that the golden files are the real
// tool's output. Skipped when RESOURCE_QUERY is not set.
func TestParityLive(t *testing.T) {
	rq := os.Getenv("RESOURCE_QUERY")
	if rq == "" {
		t.Skip("RESOURCE_QUERY is not set")
	}
	rq, err := filepath.Abs(rq)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions(t) {
		t.Run(s.name, func(t *testing.T) {
			script, err := os.Open(s.file)
			if err != nil {
				t.Fatal(err)
			}
			defer script.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// A session must end with quit: resource-query reads on at
			// the end of its input.
			cmd := exec.CommandContext(ctx, rq, "-d", "-L", s.graph, "-f", "jgf", "-P", s.policy, "-F", s.format)
			cmd.Dir = "testdata"
			cmd.Stdin = script
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s: %v\n%s", rq, err, errOut.String())
			}
			wantOut, _ := os.ReadFile(strings.TrimSuffix(s.file, ".session") + ".stdout")
			wantErr, _ := os.ReadFile(strings.TrimSuffix(s.file, ".session") + ".stderr")
			compare(t, "live stdout", normalise(string(wantOut)), normalise(out.String()))
			compare(t, "live stderr", normalise(string(wantErr)), normalise(errOut.String()))
		})
	}
}
