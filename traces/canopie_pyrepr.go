package traces

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/convergesim/converge/internal/limitio"
)

// pyReader reads the Python literals the canopie22 experiments saved:
// the repr of a kubernetes-client V1NodeList (config.log, cluster.log:
// dicts, lists, single-quoted strings that Python splits over lines by
// juxtaposition, None/True/False, datetime.datetime(..., tzinfo=tzutc()))
// and the experiment configs named *.json that are Python literals, not
// JSON (# comments, trailing commas). It reads one value at a time from
// a stream, bounding nesting, string length and the items of one
// container, and names the line of an error.
type pyReader struct {
	r    *bufio.Reader
	name string
	line int
	err  error
}

// pyMaxDepth bounds the nesting of a Python literal (a V1Node nests
// about 10 deep).
const pyMaxDepth = 64

// pyName is a bare name (the keyword of a keyword argument).
type pyName string

// pyCall is a call in a repr: datetime.datetime(2022, 5, 7, ...).
type pyCall struct {
	Name string
	Args []any
}

func newPyReader(r io.Reader, name string) *pyReader {
	return &pyReader{r: bufio.NewReaderSize(r, 64<<10), name: name, line: 1}
}

func (p *pyReader) errorf(format string, args ...any) error {
	if p.err == nil {
		p.err = posErr(p.name, p.line, "", fmt.Sprintf(format, args...))
	}
	return p.err
}

// readErr turns a read error into one naming the line.
func (p *pyReader) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return p.errorf("the file ends inside a Python literal (truncated?)")
	}
	var tl *limitio.TooLargeError
	if errors.As(err, &tl) {
		return p.errorf("%v", err)
	}
	return p.errorf("the file is truncated or corrupt: %v", err)
}

// peek skips white space and comments and returns the next byte without
// consuming it (0 at the end).
func (p *pyReader) peek() (byte, error) {
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, nil
			}
			return 0, p.readErr(err)
		}
		switch c {
		case '\n':
			p.line++
		case ' ', '\t', '\r', '\\':
			// a backslash continues a line
		case 0:
			return 0, p.errorf("binary data (a NUL byte): not a Python literal")
		case '#':
			for {
				c, err := p.r.ReadByte()
				if err != nil {
					if errors.Is(err, io.EOF) {
						return 0, nil
					}
					return 0, p.readErr(err)
				}
				if c == '\n' {
					p.line++
					break
				}
			}
		default:
			p.r.UnreadByte()
			return c, nil
		}
	}
}

// expect consumes the byte c after white space.
func (p *pyReader) expect(c byte) error {
	got, err := p.peek()
	if err != nil {
		return err
	}
	if got != c {
		return p.errorf("expected %q, found %s", c, byteText(got))
	}
	p.r.ReadByte()
	return nil
}

func byteText(c byte) string {
	if c == 0 {
		return "the end of the file (truncated?)"
	}
	return strconv.QuoteRune(rune(c))
}

// value reads the next value. When keep is false it is read and dropped
// (nil is returned), so that a large part of no interest costs no memory.
func (p *pyReader) value(depth int, keep bool) (any, error) {
	if depth > pyMaxDepth {
		return nil, p.errorf("nested more than %d deep", pyMaxDepth)
	}
	c, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == '{':
		p.r.ReadByte()
		var m map[string]any
		if keep {
			m = map[string]any{}
		}
		err := p.items('}', func(n int) error {
			k, err := p.value(depth+1, true)
			if err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			v, err := p.value(depth+1, keep)
			if err != nil {
				return err
			}
			if keep {
				m[fmt.Sprint(k)] = v
			}
			return nil
		})
		if err != nil || !keep {
			return nil, err
		}
		return m, nil
	case c == '[' || c == '(':
		p.r.ReadByte()
		end := byte(']')
		if c == '(' {
			end = ')'
		}
		var l []any
		err := p.items(end, func(n int) error {
			v, err := p.value(depth+1, keep)
			if keep {
				l = append(l, v)
			}
			return err
		})
		if err != nil || !keep {
			return nil, err
		}
		if l == nil {
			l = []any{}
		}
		return l, nil
	case c == '\'' || c == '"':
		var b strings.Builder
		for {
			if err := p.str(&b, keep); err != nil {
				return nil, err
			}
			// 'a ' 'b': Python joins adjacent literals.
			if c, err = p.peek(); err != nil {
				return nil, err
			}
			if c != '\'' && c != '"' {
				break
			}
		}
		return b.String(), nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		tok, err := p.word()
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(tok, "_", ""), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, p.errorf("%s is not a finite number", quote(tok))
		}
		return v, nil
	case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
		tok, err := p.word()
		if err != nil {
			return nil, err
		}
		switch tok {
		case "None":
			return nil, nil
		case "True":
			return true, nil
		case "False":
			return false, nil
		}
		c, err := p.peek()
		if err != nil {
			return nil, err
		}
		if c != '(' {
			return pyName(tok), nil // a keyword argument's name
		}
		p.r.ReadByte()
		call := pyCall{Name: tok}
		err = p.items(')', func(n int) error {
			v, err := p.value(depth+1, true)
			if err != nil {
				return err
			}
			if c, err := p.peek(); err != nil {
				return err
			} else if c == '=' { // a keyword argument: tzinfo=tzutc()
				p.r.ReadByte()
				v, err = p.value(depth+1, true)
				if err != nil {
					return err
				}
			}
			call.Args = append(call.Args, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return call, nil
	}
	return nil, p.errorf("unexpected %s", byteText(c))
}

// items reads the elements of a container up to end, calling fn for
// each; commas separate them and may trail.
func (p *pyReader) items(end byte, fn func(n int) error) error {
	for n := 0; ; n++ {
		c, err := p.peek()
		if err != nil {
			return err
		}
		if c == end {
			p.r.ReadByte()
			return nil
		}
		if n >= MaxRecords {
			return p.errorf("more than %d items", MaxRecords)
		}
		if err := fn(n); err != nil {
			return err
		}
		if c, err = p.peek(); err != nil {
			return err
		}
		switch c {
		case ',':
			p.r.ReadByte()
		case end:
		default:
			return p.errorf("expected ',' or %q, found %s", end, byteText(c))
		}
	}
}

// word reads a name or a number.
func (p *pyReader) word() (string, error) {
	var b []byte
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", p.readErr(err)
		}
		if c == '.' || c == '_' || c == '+' || c == '-' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z') {
			if len(b) >= 256 {
				return "", p.errorf("a name or number longer than 256 bytes")
			}
			b = append(b, c)
			continue
		}
		p.r.UnreadByte()
		break
	}
	return string(b), nil
}

// str reads one quoted string literal into b (when keep).
func (p *pyReader) str(b *strings.Builder, keep bool) error {
	q, _ := p.r.ReadByte()
	n := 0
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			return p.readErr(err)
		}
		n++
		if n > MaxLine {
			return p.errorf("a string longer than %s", limitio.Size(MaxLine))
		}
		switch c {
		case q:
			return nil
		case '\n':
			return p.errorf("a line ends inside a string")
		case 0:
			return p.errorf("binary data (a NUL byte): not a Python literal")
		case '\\':
			e, err := p.r.ReadByte()
			if err != nil {
				return p.readErr(err)
			}
			switch e {
			case 'n':
				e = '\n'
			case 't':
				e = '\t'
			case '\n':
				p.line++
				continue
			}
			c = e
		}
		if keep {
			b.WriteByte(c)
		}
	}
}

// pyTime is the Unix time of a datetime.datetime(y, mo, d, h, mi, s[,
// µs], tzinfo=tzutc()) (the client's times are UTC), or NaN.
func pyTime(v any) float64 {
	c, ok := v.(pyCall)
	if !ok || c.Name != "datetime.datetime" || len(c.Args) < 3 {
		return NaN
	}
	var f [7]int
	for i := 0; i < len(c.Args) && i < 7; i++ {
		x, ok := c.Args[i].(float64)
		if !ok {
			break
		}
		if x < 0 || x > 1e7 {
			return NaN
		}
		f[i] = int(x)
	}
	return float64(time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*1000, time.UTC).UnixMicro()) / 1e6
}

// pyGet follows keys through nested dicts; nil when a key is absent.
func pyGet(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func pyString(v any) string {
	s, _ := v.(string)
	return s
}
