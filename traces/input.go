package traces

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/convergesim/converge/internal/limitio"
)

// Limits of the recorded-trace readers. A trace is read as a stream, so
// its total size is not limited; what one record may take is, so that a
// hostile or broken file (a 2 GB line, /dev/zero, a binary) gives one
// clear error with its file and line instead of exhausting memory.
const (
	// MaxLine is the longest line of a line-oriented format (JSON
	// lines, SWF, a log).
	MaxLine = 16 * limitio.MiB
	// MaxValue is the largest single JSON value read at once (one item
	// of a List, one job of flux jobs --json, one whole jobspec or R).
	MaxValue = 64 * limitio.MiB
	// MaxRecords is the most jobs, pods or nodes one trace may hold.
	MaxRecords = 50_000_000
	// sniffSize is how much of a file detection looks at.
	sniffSize = 64 << 10
)

// Input is one trace file being read: decompressed when it is gzip
// (detected by its magic bytes, whatever its name), counted, and able to
// name the line of an offset for an error.
type Input struct {
	// Name is the file as the user named it ("-" for standard input).
	Name string
	path string // reopenable path, "" for a stream
	br   *bufio.Reader
	cnt  *counter
	gz   bool
	file *os.File
}

// counter counts the bytes read through it and refuses to read past
// limit (when > 0): the window a JSON decoder may buffer.
type counter struct {
	r     io.Reader
	n     int64
	limit int64
	name  string
	what  string
}

func (c *counter) Read(p []byte) (int, error) {
	if c.limit > 0 {
		left := c.limit - c.n
		if left <= 0 {
			return 0, &tooLongError{name: c.name, what: c.what, limit: c.limit}
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tooLongError is a record over its limit.
type tooLongError struct {
	name, what string
	limit      int64
}

func (e *tooLongError) Error() string {
	return fmt.Sprintf("%s longer than %s", e.what, limitio.Size(e.limit))
}

// OpenInput opens the trace file at path ("-": standard input).
func OpenInput(path string) (*Input, error) {
	if path == "-" {
		return NewInput(os.Stdin, "-")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not a trace file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	in, err := NewInput(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	in.path, in.file = path, f
	return in, nil
}

// NewInput reads a trace from r, named name in messages. A gzip stream
// is decompressed.
func NewInput(r io.Reader, name string) (*Input, error) {
	raw := bufio.NewReaderSize(r, 64<<10)
	in := &Input{Name: name}
	var src io.Reader = raw
	if head, _ := raw.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		z, err := gzip.NewReader(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: a broken gzip stream: %w", name, err)
		}
		z.Multistream(true)
		src = z
		in.gz = true
	}
	in.cnt = &counter{r: src, name: name}
	in.br = bufio.NewReaderSize(in.cnt, 64<<10)
	return in, nil
}

// Close closes the file.
func (in *Input) Close() error {
	if in.file != nil {
		return in.file.Close()
	}
	return nil
}

// Head returns up to n bytes of the start of the (decompressed) input
// without consuming them.
func (in *Input) Head(n int) []byte {
	b, _ := in.br.Peek(n)
	return b
}

// Reader returns the decompressed input.
func (in *Input) Reader() *bufio.Reader { return in.br }

// Offset is how many decompressed bytes have been consumed.
func (in *Input) Offset() int64 { return in.cnt.n - int64(in.br.Buffered()) }

// Errorf returns an error naming the file, the line (when > 0) and the
// field (when not ""): "file:line: field: message".
func (in *Input) Errorf(line int, field, format string, args ...any) error {
	return posErr(in.Name, line, field, fmt.Sprintf(format, args...))
}

func posErr(name string, line int, field, msg string) error {
	return &InputError{File: name, Line: line, Field: field, Msg: msg}
}

// LineAt returns the line holding decompressed byte offset off, by
// reading the file again from its start (errors are rare; remembering
// every line's offset would cost memory with the file's size); 0 when
// the input cannot be read again (standard input).
func (in *Input) LineAt(off int64) int { return in.lineOf(off, false) }

// ValueLineAt is LineAt of the first byte at or after off that is not
// white space or a comma: where the JSON value after off starts.
func (in *Input) ValueLineAt(off int64) int { return in.lineOf(off, true) }

func (in *Input) lineOf(off int64, toValue bool) int {
	if in.path == "" {
		return 0
	}
	again, err := OpenInput(in.path)
	if err != nil {
		return 0
	}
	defer again.Close()
	line := 1
	buf := make([]byte, 64<<10)
	var read int64
	for read < off {
		n, err := again.br.Read(buf[:min(int64(len(buf)), off-read)])
		line += bytes.Count(buf[:n], []byte{'\n'})
		read += int64(n)
		if err != nil {
			return line
		}
	}
	for toValue {
		b, err := again.br.ReadByte()
		if err != nil || !bytes.ContainsRune([]byte(" \t\r\n,"), rune(b)) {
			break
		}
		if b == '\n' {
			line++
		}
	}
	return line
}

// Lines calls fn with each line of the input (without its end of line;
// a final line without one included) and its number. A line over
// MaxLine is an error naming it; fn's error stops the reading and is
// returned as it is.
func (in *Input) Lines(fn func(line []byte, n int) error) error {
	var long []byte
	n := 0
	for {
		chunk, err := in.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > MaxLine {
				return in.Errorf(n+1, "", "a line longer than %s (is it the right file?)", limitio.Size(MaxLine))
			}
			long = append(long, chunk...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return in.readErr(n+1, err)
		}
		line := chunk
		if long != nil {
			if len(long)+len(chunk) > MaxLine {
				return in.Errorf(n+1, "", "a line longer than %s (is it the right file?)", limitio.Size(MaxLine))
			}
			line = append(long, chunk...)
			long = nil
		}
		if len(line) == 0 && err != nil {
			return nil
		}
		n++
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, 0); i >= 0 {
			return in.Errorf(n, "", "binary data (a NUL byte): not a text trace")
		}
		if ferr := fn(line, n); ferr != nil {
			return ferr
		}
		if err != nil {
			return nil
		}
	}
}

// readErr turns an error of the input stream (a broken gzip stream, a
// read error) into one naming the file and the line.
func (in *Input) readErr(line int, err error) error {
	var tl *tooLongError
	if errors.As(err, &tl) {
		return in.Errorf(line, "", "%v (is it the right file?)", tl)
	}
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return in.Errorf(line, "", "the file is truncated or corrupt: %v", err)
	}
	return in.Errorf(line, "", "%v", err)
}

// JSON returns a decoder over the rest of the input that reads numbers
// as json.Number. Each value it decodes may take at most MaxValue bytes
// past the last Mark.
func (in *Input) JSON() *JSONStream {
	d := json.NewDecoder(in.br)
	d.UseNumber()
	s := &JSONStream{in: in, Dec: d, base: in.Offset()}
	s.Mark()
	return s
}

// JSONStream decodes JSON values from an input, one bounded value at a
// time, with errors that name the line.
type JSONStream struct {
	in   *Input
	Dec  *json.Decoder
	base int64 // input offset where the decoder started
}

// Mark allows the next value MaxValue more bytes from here.
func (s *JSONStream) Mark() {
	s.in.cnt.limit = s.in.cnt.n + MaxValue + 64<<10
	s.in.cnt.what = fmt.Sprintf("a JSON value")
}

// Offset is the input offset of the decoder's position.
func (s *JSONStream) Offset() int64 { return s.base + s.Dec.InputOffset() }

// Line is the line of the decoder's position (0 when unknown).
func (s *JSONStream) Line() int { return s.in.LineAt(s.Offset()) }

// Err turns a decoding error into one naming file and line (and field
// when the error says which).
func (s *JSONStream) Err(field string, err error) error {
	var tl *tooLongError
	if errors.As(err, &tl) {
		return s.in.Errorf(s.Line(), field, "a JSON value longer than %s (is it the right file?)", limitio.Size(MaxValue))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return s.in.Errorf(s.in.LineAt(s.base+se.Offset), field, "not valid JSON: %v", err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := field
		if te.Field != "" {
			if f != "" {
				f += "."
			}
			f += te.Field
		}
		return s.in.Errorf(s.in.LineAt(s.base+te.Offset), f, "a JSON %s where %s is expected", te.Value, te.Type)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s.in.Errorf(s.Line(), field, "the file ends inside a JSON value (truncated?)")
	}
	return s.in.readErr(s.Line(), err)
}

// Decode decodes the next value into v (and marks), naming field in an
// error.
func (s *JSONStream) Decode(field string, v any) error {
	if err := s.Dec.Decode(v); err != nil {
		return s.Err(field, err)
	}
	s.Mark()
	return nil
}

// Delim reads the next token and checks that it is the delimiter d.
func (s *JSONStream) Delim(field string, d json.Delim) error {
	tok, err := s.Dec.Token()
	if err != nil {
		return s.Err(field, err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return s.in.Errorf(s.Line(), field, "expected %q, found %v", d, tokenText(tok))
	}
	return nil
}

// Key reads the next object key, or reports false at the object's end
// (consuming the '}').
func (s *JSONStream) Key(field string) (string, bool, error) {
	tok, err := s.Dec.Token()
	if err != nil {
		return "", false, s.Err(field, err)
	}
	switch t := tok.(type) {
	case string:
		return t, true, nil
	case json.Delim:
		if t == '}' {
			return "", false, nil
		}
	}
	return "", false, s.in.Errorf(s.Line(), field, "expected an object key, found %v", tokenText(tok))
}

// Skip reads and drops the next value.
func (s *JSONStream) Skip(field string) error {
	var raw json.RawMessage
	return s.Decode(field, &raw)
}

// Items calls fn for each element of the array that comes next, with its
// index; fn decodes the element (with Decode).
func (s *JSONStream) Items(field string, fn func(i int) error) error {
	if err := s.Delim(field, '['); err != nil {
		return err
	}
	for i := 0; s.Dec.More(); i++ {
		if i >= MaxRecords {
			return s.in.Errorf(s.Line(), field, "more than %d items", MaxRecords)
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return s.Delim(field, ']')
}

// End checks that nothing but white space follows the last value.
func (s *JSONStream) End() error {
	tok, err := s.Dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return s.Err("", err)
	}
	return s.in.Errorf(s.Line(), "", "unexpected %v after the end of the document", tokenText(tok))
}

func tokenText(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return quote(v)
	case nil:
		return "null"
	}
	return fmt.Sprint(t)
}
