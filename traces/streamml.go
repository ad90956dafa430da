package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
)

// StreamMLKind names the lammps-stream-ml results in size-limit
// messages; at most limitio.DataTable bytes (decompressed) are read.
const StreamMLKind = "lammps-stream-ml JSON"

// streamMLMaxReplicas bounds a run's replicas along one axis: more than
// any LAMMPS run of the workflow (x, y, z are 1 to 32 there), and small
// enough that the product of the three and the atoms of a replica stay
// far from overflowing.
const streamMLMaxReplicas = 1 << 16

// StreamMLRun is one LAMMPS test run of lammps-stream-ml.
type StreamMLRun struct {
	X, Y, Z int
	Wall    int // "Total wall time", whole seconds
}

// ReadStreamMLFile reads the lammps-stream-ml results file at path (see
// ReadStreamML; a folder, or a file over limitio.DataTable as stored,
// is refused).
func ReadStreamMLFile(path string) ([]StreamMLRun, error) {
	f, err := limitio.Open(path, limitio.DataTable, StreamMLKind)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadStreamML(path, f)
}

// ReadStreamML reads the test runs of the lammps-stream-ml workflow's
// results (lammps-predict.json of converged-computing/lammps-stream-ml:
// an object holding, beside each model's metrics, "dims", the test runs'
// {x, y, z} replicas, and "y_true", their LAMMPS wall times in whole
// seconds, in the same order). The keys are matched without regard to
// case, as encoding/json does; every other key is skipped. The two
// lists must be of the same, non-zero length, the replicas from 1 to
// 65536 and the times whole seconds from 0 to MaxSeconds; a key given
// twice, text after the object or input over limitio.DataTable bytes
// is refused. Errors name the file, the line and the field
// ("dims[3].x"). A gzip file is decompressed.
func ReadStreamML(name string, r io.Reader) ([]StreamMLRun, error) {
	src, err := appReader(name, r, StreamMLKind)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, appStreamErr(name, 0, err, 0)
	}
	p := &streamMLParser{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	return p.read()
}

type streamMLParser struct {
	name string
	data []byte
	dec  *json.Decoder
}

// line is the line of the next value (past white space and commas).
func (p *streamMLParser) line() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return measLineOf(p.data, int64(off))
}

func (p *streamMLParser) errAt(line int, field, format string, a ...any) error {
	return &InputError{File: p.name, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// jsonErr names what went wrong decoding the value of field that
// starts at line (the decoder's offsets in its errors count from the
// value's start, so the line is the value's).
func (p *streamMLParser) jsonErr(line int, field string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		f := field
		if te.Field != "" {
			f += "." + te.Field
		}
		return p.errAt(line, f, "a JSON %s where %s is expected", te.Value, te.Type)
	case errors.As(err, &se):
		return p.errAt(line, field, "not valid JSON: %v", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.errAt(measLineOf(p.data, int64(len(p.data))), field, "the file ends inside the JSON document (truncated?)")
	}
	return p.errAt(line, field, "%v", err)
}

func (p *streamMLParser) delim(field string, want json.Delim) error {
	line := p.line()
	tok, err := p.dec.Token()
	if err != nil {
		return p.jsonErr(line, field, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return p.errAt(line, field, "expected %q, found %s", want, tokenText(tok))
	}
	return nil
}

// list reads the array of field, calling item for each element.
func (p *streamMLParser) list(field string, item func(i, line int) error) error {
	if err := p.delim(field, '['); err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		if i >= MaxRecords {
			return p.errAt(p.line(), field, "more than %d items", MaxRecords)
		}
		if err := item(i, p.line()); err != nil {
			return err
		}
	}
	return p.delim(field, ']')
}

func (p *streamMLParser) read() ([]StreamMLRun, error) {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return nil, p.errAt(0, "", "empty file")
	}
	if err := p.delim("", '{'); err != nil {
		return nil, err
	}
	type dims struct{ X, Y, Z int }
	var (
		ds       []dims
		ys       []int
		dimsLine int
		yLine    int
	)
	for {
		line := p.line()
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.jsonErr(line, "", err)
		}
		if tok == json.Delim('}') {
			break
		}
		key, ok := tok.(string)
		if !ok {
			return nil, p.errAt(line, "", "expected an object key, found %s", tokenText(tok))
		}
		switch {
		case strings.EqualFold(key, "dims"):
			if dimsLine != 0 {
				return nil, p.errAt(line, key, "given twice (first on line %d)", dimsLine)
			}
			dimsLine = line
			err = p.list(key, func(i, line int) error {
				var d dims
				f := fmt.Sprintf("%s[%d]", key, i)
				if err := p.dec.Decode(&d); err != nil {
					return p.jsonErr(line, f, err)
				}
				for _, v := range []struct {
					axis string
					n    int
				}{{"x", d.X}, {"y", d.Y}, {"z", d.Z}} {
					if v.n < 1 || v.n > streamMLMaxReplicas {
						return p.errAt(line, f+"."+v.axis, "%d replicas (from 1 to %d)", v.n, streamMLMaxReplicas)
					}
				}
				ds = append(ds, d)
				return nil
			})
		case strings.EqualFold(key, "y_true"):
			if yLine != 0 {
				return nil, p.errAt(line, key, "given twice (first on line %d)", yLine)
			}
			yLine = line
			err = p.list(key, func(i, line int) error {
				var y int
				f := fmt.Sprintf("%s[%d]", key, i)
				if err := p.dec.Decode(&y); err != nil {
					return p.jsonErr(line, f, err)
				}
				if y < 0 || y > MaxSeconds {
					return p.errAt(line, f, "%d is not a wall time in whole seconds (from 0 to %d)", y, int(MaxSeconds))
				}
				ys = append(ys, y)
				return nil
			})
		default:
			var skip json.RawMessage
			if err = p.dec.Decode(&skip); err != nil {
				err = p.jsonErr(line, key, err)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	line := p.line()
	if tok, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		what := "text"
		if err == nil {
			what = tokenText(tok)
		}
		return nil, p.errAt(line, "", "%s after the end of the JSON object", what)
	}
	if len(ds) != len(ys) || len(ys) == 0 {
		return nil, p.errAt(max(dimsLine, yLine), "y_true", "%d dims for %d times (want one time per run, at least one run)", len(ds), len(ys))
	}
	runs := make([]StreamMLRun, len(ys))
	for i, d := range ds {
		runs[i] = StreamMLRun{X: d.X, Y: d.Y, Z: d.Z, Wall: ys[i]}
	}
	return runs, nil
}
