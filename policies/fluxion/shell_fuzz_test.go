package fluxion

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzShell: any session text (commands, junk, long lines, CR, NUL,
// invalid UTF-8) runs without a panic; Run fails only on I/O, every error
// message is bounded, and the matcher stays consistent. File arguments
// are restricted to names without "/" (files of this package's folder),
// so that the fuzzer cannot open a device or a FIFO that blocks.
//
//	go test ./policies/fluxion/ -run '^$' -fuzz FuzzShell -fuzztime 30s
func FuzzShell(f *testing.F) {
	for _, name := range []string{"allocate.txt", "errors.txt", "partial.txt", "reserve.txt", "update.txt", "status.txt"} {
		data, err := os.ReadFile("testdata/shell/" + name)
		if err != nil {
			f.Fatal(err)
		}
		var cmds []string
		for _, l := range strings.Split(string(data), "\n") {
			if c, ok := strings.CutPrefix(l, "> "); ok {
				cmds = append(cmds, strings.ReplaceAll(c, "testdata/shell/", ""))
			}
		}
		f.Add(strings.Join(cmds, "\n") + "\n")
	}
	f.Add("match allocate cores2.yaml\r\n" + strings.Repeat("x", 300) + "\nstat\n")
	f.Add("m allocate \x00\xff\nc 18446744073709551616\ni -1\nt /cluster0 sideways\nu allocate jgf tiny.json 1 0 9223372036854775807\npc 1 rv1exec tiny.json\n")
	f.Add("match allocate_orelse_reserve node1.yaml\nmatch allocate_orelse_reserve node1.yaml\nmatch allocate_orelse_reserve node1.yaml\nmatch allocate_orelse_reserve node1.yaml\nmatch allocate_orelse_reserve node1.yaml\ncancel 1\nq\nstat")
	f.Fuzz(func(t *testing.T, session string) {
		for _, l := range strings.Split(session, "\n") {
			if strings.Contains(l, "/") {
				return
			}
		}
		t.Chdir("testdata/shell")
		var diag bytes.Buffer
		s := newTestShell(t, "tiny.json", "", "", &diag)
		var out, errOut bytes.Buffer
		if err := s.run(strings.NewReader(session), &out, &errOut, "> ", 256); err != nil {
			t.Fatalf("Run: %v", err)
		}
		for _, l := range strings.Split(errOut.String()+diag.String(), "\n") {
			if len(l) > 2000 {
				t.Fatalf("a %d-byte message: %.200s", len(l), l)
			}
		}
		if err := s.m.Graph().Validate(); err != nil {
			t.Fatal(err)
		}
		for _, id := range s.m.Jobs() {
			if err := s.m.Cancel(id); err != nil {
				t.Fatalf("cancel %d: %v", id, err)
			}
		}
	})
}
