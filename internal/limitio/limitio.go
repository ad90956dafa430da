// Package limitio reads input files with a size limit, so that a hostile
// or mistaken input (/dev/zero, a log instead of a scenario, a 5 GB file)
// gives one clear error instead of exhausting memory. Every reader of a
// user-supplied file in converge goes through it, with the limit of its
// kind of file (the constants below, documented in README.md).
package limitio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits of the kinds of file converge reads whole into memory. A file
// over its limit is refused with a *TooLargeError naming the file, its
// kind and the limit.
const (
	MiB = 1 << 20
	GiB = 1 << 30

	Scenario      = 4 * MiB   // scenario YAML (yaml.v3 takes about 100 bytes of memory per byte of a pathological file)
	Profile       = 16 * MiB  // network profiles, app model files
	Measurement   = 256 * MiB // iperf3 JSON, OSU output and tables, ping output
	ResourceGraph = 4 * GiB   // JGF resource graphs (10,000 nodes of 109 vertices: 315 MB)
	Jobspec       = 16 * MiB  // jobspecs and R documents
	Line          = 16 * MiB  // one line of an interactive session (sim fluxion)
	DataTable     = 256 * MiB // CSV tables of measurements (traces, calibration data)
)

// TooLargeError is returned when an input exceeds its limit.
type TooLargeError struct {
	Path  string // the file as named by the user
	Kind  string // "scenario", "iperf3 JSON", ...
	Limit int64  // bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than the %s limit for %s files (is it the right file?)", e.Path, Size(e.Limit), e.Kind)
}

// ErrTooLarge is wrapped by every *TooLargeError.
var ErrTooLarge = errors.New("input too large")

// Unwrap lets errors.Is(err, ErrTooLarge) match.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Open opens the file at path for a reader with a size limit: a folder is
// refused with a clear error, and so is a regular file larger than limit
// (a *TooLargeError) before anything is read. Files whose size Stat does
// not tell (pipes, /dev/zero, /proc files) are the caller's to read
// through ReadAll or Reader, which stop at the limit.
func Open(path string, limit int64, kind string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a folder, not a %s file", path, kind)
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		f.Close()
		return nil, &TooLargeError{Path: path, Kind: kind, Limit: limit}
	}
	return f, nil
}

// ReadFile reads the whole file at path (see Open), refusing it with a
// *TooLargeError once more than limit bytes have been read: it never
// reads more than limit+1 bytes.
func ReadFile(path string, limit int64, kind string) ([]byte, error) {
	f, err := Open(path, limit, kind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit, kind)
}

// ReadAll reads r to the end, refusing it with a *TooLargeError once more
// than limit bytes have been read; name is the input's name in messages.
func ReadAll(r io.Reader, name string, limit int64, kind string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: name, Kind: kind, Limit: limit}
	}
	return data, nil
}

// Reader wraps r so that reading more than limit bytes fails with a
// *TooLargeError: for readers that stream (a JSON decoder, a scanner)
// rather than read whole.
func Reader(r io.Reader, name string, limit int64, kind string) io.Reader {
	return &limited{r: r, left: limit, err: &TooLargeError{Path: name, Kind: kind, Limit: limit}}
}

type limited struct {
	r    io.Reader
	left int64
	err  *TooLargeError
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		// The byte past the limit is not handed on.
		return n - 1, l.err
	}
	return n, err
}

// Size formats a byte count for messages: "16 MiB", "4 GiB", "512 B".
func Size(n int64) string {
	switch {
	case n >= GiB && n%GiB == 0:
		return fmt.Sprintf("%d GiB", n/GiB)
	case n >= MiB && n%MiB == 0:
		return fmt.Sprintf("%d MiB", n/MiB)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// Quote returns s quoted for an error message, cut to at most max bytes
// (on a rune boundary) with the full length said when it was cut: a 5 MB
// value must not become a 5 MB message.
func Quote(s string, max int) string {
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }
