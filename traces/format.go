package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format is one real trace format: how to recognise it from the start
// of a file and how to read it into a Trace.
type Format struct {
	// Name is what --format takes.
	Name string
	// Doc says in a line what the format is (sim trace formats).
	Doc string
	// Detect reports whether a file starting with head (the first
	// 64 KiB, decompressed; less for a short file) is in this format.
	// keys are the first-level keys of the first JSON object of head
	// (of the first element when head is an array; of the first line
	// for JSON lines), in order, or nil when head is not JSON.
	Detect func(head []byte, keys []string) bool
	// Read reads the whole input into t.
	Read func(in *Input, t *Trace) error
	// Write writes t in this format (nil when converge does not write
	// it). What the format cannot hold is left out; Write says nothing
	// of it (sim trace convert reports it).
	Write func(w io.Writer, t *Trace) error
	// Ext is the usual file name ending of the format (".json").
	Ext string
}

var formats []*Format

// register adds a format; detection tries formats in registration
// order, so the most specific register first.
func register(f *Format) {
	if slices.ContainsFunc(formats, func(g *Format) bool { return g.Name == f.Name }) {
		panic("traces: format registered twice: " + f.Name)
	}
	formats = append(formats, f)
}

// Formats returns the known formats, in detection order.
func Formats() []*Format { return slices.Clone(formats) }

// FormatNames returns the names of the known formats, sorted.
func FormatNames() []string {
	var n []string
	for _, f := range formats {
		n = append(n, f.Name)
	}
	slices.Sort(n)
	return n
}

// LookupFormat returns the format named name.
func LookupFormat(name string) (*Format, error) {
	for _, f := range formats {
		if f.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("unknown trace format %q (known: %s)", name, strings.Join(FormatNames(), ", "))
}

// Detect returns the format of the input from its first bytes.
func Detect(in *Input) (*Format, error) {
	head := in.Head(sniffSize)
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, fmt.Errorf("%s: empty file", in.Name)
	}
	if bytes.IndexByte(head, 0) >= 0 && !isTar(head) {
		return nil, fmt.Errorf("%s: binary data (a NUL byte), and not a tar archive: not a trace format converge reads (known: %s)", in.Name, strings.Join(FormatNames(), ", "))
	}
	keys := JSONKeys(head)
	for _, f := range formats {
		if f.Detect != nil && f.Detect(head, keys) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s: not a trace format converge recognises; name it with --format (known: %s)", in.Name, strings.Join(FormatNames(), ", "))
}

// isTar reports a POSIX tar header.
func isTar(head []byte) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

// ReadFile reads the trace file at path ("-": standard input) into t, in
// format (detected when ""); it returns the format read.
func ReadFile(t *Trace, path, format string) (*Format, error) {
	in, err := OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return Read(t, in, format)
}

// Read reads in into t, in format (detected when "").
func Read(t *Trace, in *Input, format string) (*Format, error) {
	var f *Format
	var err error
	if format == "" {
		f, err = Detect(in)
	} else {
		f, err = LookupFormat(format)
		if err != nil {
			err = fmt.Errorf("%s: %w", in.Name, err)
		}
	}
	if err != nil {
		return nil, err
	}
	// Files of one trace share a time base: wall-clock (Unix seconds)
	// or seconds from the trace's start. Each file's base is what its
	// reader says; files that add jobs or pods must agree.
	n0, wasRel := len(t.Jobs)+len(t.Pods), t.Relative
	t.Relative = false
	if err := f.Read(in, t); err != nil {
		return f, err
	}
	if added := len(t.Jobs)+len(t.Pods) > n0; !added {
		t.Relative = wasRel // a node dump, an R: no times
	} else if n0 > 0 && t.Relative != wasRel {
		base := map[bool]string{true: "seconds from the trace's start", false: "wall-clock times"}
		return f, fmt.Errorf("%s: its times are %s, but those of %s are %s: they cannot be read as one trace", in.Name, base[t.Relative], strings.Join(t.Files, ", "), base[wasRel])
	}
	if len(t.Jobs) > MaxRecords || len(t.Pods) > MaxRecords || len(t.Nodes) > MaxRecords {
		return f, fmt.Errorf("%s: more than %d records", in.Name, MaxRecords)
	}
	t.Files = append(t.Files, in.Name)
	t.Formats = append(t.Formats, f.Name)
	return f, nil
}

// Open reads the trace files, each in format (detected per file when
// ""), into one trace, and links pods to their jobs.
func Open(paths []string, format string) (*Trace, error) {
	t := &Trace{Start: NaN}
	for _, p := range paths {
		if _, err := ReadFile(t, p, format); err != nil {
			return nil, err
		}
	}
	t.Link("Job")
	return t, nil
}

// JSONKeys returns the first-level keys of the first JSON object in head
// (of the first element when head starts an array), in order, as far as
// head goes; nil when head does not start with JSON.
func JSONKeys(head []byte) []string {
	d := json.NewDecoder(bytes.NewReader(head))
	tok, err := d.Token()
	if err != nil {
		return nil
	}
	if tok == json.Delim('[') {
		if tok, err = d.Token(); err != nil {
			return nil
		}
	}
	if tok != json.Delim('{') {
		return nil
	}
	keys := []string{}
	for {
		tok, err := d.Token()
		if err != nil {
			return keys
		}
		k, ok := tok.(string)
		if !ok {
			return keys
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return keys
		}
	}
}

// hasKeys reports whether keys holds every one of want.
func hasKeys(keys []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(keys, w) {
			return false
		}
	}
	return true
}
