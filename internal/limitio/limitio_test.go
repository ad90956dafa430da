package limitio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr string
	}{
		{"under", small, 10, "12345", ""},
		{"at", small, 5, "12345", ""},
		{"over", small, 4, "", "small.yaml: larger than the 4 B limit for test files"},
		{"folder", dir, 10, "", "is a folder, not a test file"},
		{"missing", filepath.Join(dir, "none"), 10, "", "no such file"},
		{"devzero", "/dev/zero", 1 << 20, "", "/dev/zero: larger than the 1 MiB limit for test files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFile(tc.path, tc.limit, "test")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	_, err := ReadFile("/dev/zero", 100, "test")
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("errors.Is(%v, ErrTooLarge) = false", err)
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int64
		ok    bool
	}{{"", 0, true}, {"abc", 3, true}, {"abcd", 3, false}, {strings.Repeat("x", 10000), 9999, false}, {strings.Repeat("x", 10000), 10000, true}} {
		r := Reader(iotestOneByte(strings.NewReader(tc.in)), "in", tc.limit, "test")
		got, err := io.ReadAll(r)
		if tc.ok {
			if err != nil || string(got) != tc.in {
				t.Errorf("%d bytes, limit %d: got %d bytes, %v", len(tc.in), tc.limit, len(got), err)
			}
			continue
		}
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%d bytes, limit %d: err = %v, want too large", len(tc.in), tc.limit, err)
		}
		if int64(len(got)) > tc.limit {
			t.Errorf("%d bytes, limit %d: handed on %d bytes", len(tc.in), tc.limit, len(got))
		}
	}
}

// iotestOneByte returns a reader that returns at most 7 bytes a read, so
// that the limit falls inside a read.
func iotestOneByte(r io.Reader) io.Reader { return &small{r} }

type small struct{ r io.Reader }

func (s *small) Read(p []byte) (int, error) {
	if len(p) > 7 {
		p = p[:7]
	}
	return s.r.Read(p)
}

func TestQuote(t *testing.T) {
	if got := Quote("abc", 10); got != `"abc"` {
		t.Errorf("Quote short = %s", got)
	}
	long := strings.Repeat("é", 1000) // 2000 bytes
	got := Quote(long, 101)
	if len(got) > 140 || !strings.HasSuffix(got, "(2000 bytes)") {
		t.Errorf("Quote long = %s", got)
	}
	if !bytes.HasPrefix([]byte(got), []byte(`"éé`)) {
		t.Errorf("Quote long lost its prefix: %s", got[:10])
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 4096: "4 KiB", 16 * MiB: "16 MiB", 4 * GiB: "4 GiB", MiB + 1: "1048577 B"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
