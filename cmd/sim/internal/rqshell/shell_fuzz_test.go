package rqshell

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzShell: any session text runs without a panic, Run fails only on
// I/O, and every live job can be cancelled afterwards. File arguments
// are restricted to names without "/" (files of testdata/), so that the
// fuzzer cannot open a device or a FIFO that blocks.
//
//	go test ./cmd/sim/internal/rqshell/ -run '^$' -fuzz FuzzShell -fuzztime 30s
func FuzzShell(f *testing.F) {
	files, _ := filepath.Glob("testdata/parity/*.session")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("match allocate cores2.yaml\r\n" + strings.Repeat("x", 300) + "\nstat\n")
	f.Add("m allocate \x00\xff\nc 18446744073709551616\ni -1\nt /cluster0 sideways\nu allocate jgf tiny.json 1 0 9223372036854775807\npc 1 rv1exec tiny.json\nf ((status=up) or (names=node[0-9999999]))\n")
	f.Fuzz(func(t *testing.T, session string) {
		for _, l := range strings.Split(session, "\n") {
			w := strings.Fields(l)
			if strings.Contains(l, "/") && len(w) > 0 && !strings.HasPrefix(w[0], "#") &&
				!slices.Contains([]string{"set-status", "t", "get-status", "e", "set-property", "p", "get-property", "g"}, w[0]) {
				return
			}
		}
		s := newTestShell(t, "", "")
		t.Chdir("testdata")
		var out, errOut bytes.Buffer
		if err := s.run(strings.NewReader(session), &out, &errOut, "> ", 256); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if err := s.g.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, id := range s.m.Jobs() {
			if err := s.m.Cancel(id); err != nil {
				t.Fatalf("cancel %d: %v", id, err)
			}
		}
	})
}
