package graph

import (
	"unicode/utf16"
	"unicode/utf8"
)

// jgfScanner is the small JSON pull parser under ReadJGF. It follows RFC 8259
// and the choices of jansson's json_loads with flags 0, which flux-sched's
// JGF reader uses: strings must be valid UTF-8, "\u0000" and lone surrogates
// are rejected, nesting is limited (jgfMaxDepth), and nothing may follow the
// top-level value. Being schema-driven, the reader sees keys case-sensitively
// and in file order, and knows the JSON path of every value, without
// reflection or a generic value tree.
type jgfScanner struct {
	buf      []byte
	pos      int
	kscratch []byte // decoded keys with escapes
	vscratch []byte // decoded values with escapes
	escaped  bool   // the last str had escapes (its result is scratch space)
}

// jgfMaxDepth bounds the nesting of skipped values (jansson allows 2048).
const jgfMaxDepth = 1000

type jgfKind uint8

const (
	jgfEnd jgfKind = iota // end of input
	jgfObject
	jgfArray
	jgfString
	jgfNumber
	jgfTrue
	jgfFalse
	jgfNull
	jgfBad // a byte that cannot start a value
)

// jgfSyntaxError is a JSON syntax error at a byte offset.
type jgfSyntaxError struct {
	off int
	msg string
}

func (e *jgfSyntaxError) Error() string { return e.msg }

func (s *jgfScanner) fail(msg string) error { return &jgfSyntaxError{off: s.pos, msg: msg} }

// lineCol converts a byte offset into a 1-based line and column (bytes).
func (s *jgfScanner) lineCol(off int) (line, col int) {
	if off > len(s.buf) {
		off = len(s.buf)
	}
	line, last := 1, -1
	for i := 0; i < off; i++ {
		if s.buf[i] == '\n' {
			line++
			last = i
		}
	}
	return line, off - last
}

func (s *jgfScanner) ws() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// kind skips white space and classifies the next value without consuming it.
func (s *jgfScanner) kind() jgfKind {
	s.ws()
	if s.pos >= len(s.buf) {
		return jgfEnd
	}
	switch c := s.buf[s.pos]; {
	case c == '{':
		return jgfObject
	case c == '[':
		return jgfArray
	case c == '"':
		return jgfString
	case c == '-' || (c >= '0' && c <= '9'):
		return jgfNumber
	case c == 't':
		return jgfTrue
	case c == 'f':
		return jgfFalse
	case c == 'n':
		return jgfNull
	}
	return jgfBad
}

// valueError is the syntax error for a position where a value must start.
func (s *jgfScanner) valueError() error {
	if s.kind() == jgfEnd {
		return s.fail("unexpected end of input")
	}
	return s.fail("invalid character " + jgfQuoteByte(s.buf[s.pos]) + " looking for a value")
}

func jgfQuoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f && c != '\'' {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&15]})
}

// objectNext steps through an object whose '{' is at s.pos (i == 0) or whose
// previous member was consumed (i > 0). It returns the next key, positioned
// at its value, or more == false after consuming '}'. The key may alias the
// input or scratch space and is valid until the next objectNext.
func (s *jgfScanner) objectNext(i int) (key []byte, more bool, err error) {
	if i == 0 {
		s.ws()
		s.pos++ // '{', checked by the caller
	}
	s.ws()
	if s.pos >= len(s.buf) {
		return nil, false, s.fail("unexpected end of input in object")
	}
	if s.buf[s.pos] == '}' {
		s.pos++
		return nil, false, nil
	}
	if i > 0 {
		if s.buf[s.pos] != ',' {
			return nil, false, s.fail("expected ',' or '}' after object member")
		}
		s.pos++
		s.ws()
	}
	if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
		if s.pos >= len(s.buf) {
			return nil, false, s.fail("unexpected end of input in object")
		}
		return nil, false, s.fail("expected string key")
	}
	key, err = s.str(&s.kscratch)
	if err != nil {
		return nil, false, err
	}
	s.ws()
	if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
		return nil, false, s.fail("expected ':' after object key")
	}
	s.pos++
	return key, true, nil
}

// arrayNext steps through an array like objectNext: more == true means an
// element starts at s.pos.
func (s *jgfScanner) arrayNext(i int) (more bool, err error) {
	if i == 0 {
		s.ws()
		s.pos++ // '['
	}
	s.ws()
	if s.pos >= len(s.buf) {
		return false, s.fail("unexpected end of input in array")
	}
	if s.buf[s.pos] == ']' {
		s.pos++
		return false, nil
	}
	if i > 0 {
		if s.buf[s.pos] != ',' {
			return false, s.fail("expected ',' or ']' after array element")
		}
		s.pos++
	}
	return true, nil
}

// str decodes the string at s.pos. Without escapes the result aliases the
// input; with escapes it is decoded into *scratch.
func (s *jgfScanner) str(scratch *[]byte) ([]byte, error) {
	start := s.pos + 1
	high := false
	for i := start; i < len(s.buf); i++ {
		c := s.buf[i]
		switch {
		case c == '"':
			seg := s.buf[start:i]
			if high && !utf8.Valid(seg) {
				s.pos = start
				return nil, s.fail("invalid UTF-8 in string")
			}
			s.pos = i + 1
			s.escaped = false
			return seg, nil
		case c == '\\':
			s.escaped = true
			return s.strEscaped(start, i, scratch)
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character in string")
		case c >= 0x80:
			high = true
		}
	}
	s.pos = len(s.buf)
	return nil, s.fail("unterminated string")
}

func (s *jgfScanner) strEscaped(start, i int, scratch *[]byte) ([]byte, error) {
	out := append((*scratch)[:0], s.buf[start:i]...)
	for i < len(s.buf) {
		c := s.buf[i]
		switch {
		case c == '"':
			*scratch = out
			if !utf8.Valid(out) {
				s.pos = start
				return nil, s.fail("invalid UTF-8 in string")
			}
			s.pos = i + 1
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		// escape sequence at i
		if i+1 >= len(s.buf) {
			s.pos = len(s.buf)
			return nil, s.fail("unterminated string")
		}
		e := s.buf[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := jgfHex4(s.buf, i)
			if !ok {
				s.pos = i - 2
				return nil, s.fail("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if r < 0xdc00 && i+6 <= len(s.buf) && s.buf[i] == '\\' && s.buf[i+1] == 'u' {
					r2, ok2 = jgfHex4(s.buf, i+2)
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok2 || dec == utf8.RuneError {
					s.pos = i - 6
					return nil, s.fail("invalid \\u escape (lone surrogate)")
				}
				r = dec
				i += 6
			}
			if r == 0 {
				s.pos = i - 6
				return nil, s.fail("\\u0000 is not allowed in strings")
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos = i - 2
			return nil, s.fail("invalid escape " + jgfQuoteByte(e) + " in string")
		}
	}
	*scratch = out
	s.pos = len(s.buf)
	return nil, s.fail("unterminated string")
}

func jgfHex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans the number at s.pos and returns its text, and whether it is
// written as an integer (no fraction, no exponent).
func (s *jgfScanner) number() (raw []byte, isInt bool, err error) {
	b, i := s.buf, s.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		s.pos = i
		return nil, false, s.fail("invalid number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		if digits() == 0 {
			s.pos = i
			return nil, false, s.fail("invalid number: digit expected after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.pos = i
			return nil, false, s.fail("invalid number: digit expected in exponent")
		}
	}
	s.pos = i
	return b[start:i], isInt, nil
}

// jgfParseInt converts an integer token to int64; ok is false on overflow.
func jgfParseInt(raw []byte) (int64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	const cutoff = uint64(1) << 63
	var u uint64
	for _, c := range raw {
		d := uint64(c - '0')
		if u > (cutoff-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > cutoff {
			return 0, false
		}
		return int64(-u), true // -2^63 wraps to itself
	}
	if u >= cutoff {
		return 0, false
	}
	return int64(u), true
}

// literal consumes true, false or null.
func (s *jgfScanner) literal(k jgfKind) error {
	var lit string
	switch k {
	case jgfTrue:
		lit = "true"
	case jgfFalse:
		lit = "false"
	default:
		lit = "null"
	}
	if len(s.buf)-s.pos < len(lit) || string(s.buf[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal, want " + lit)
	}
	s.pos += len(lit)
	return nil
}

// skip consumes one value of any kind.
func (s *jgfScanner) skip(depth int) error {
	switch k := s.kind(); k {
	case jgfObject, jgfArray:
		if depth >= jgfMaxDepth {
			return s.fail("nesting too deep")
		}
		for i := 0; ; i++ {
			var more bool
			var err error
			if k == jgfObject {
				_, more, err = s.objectNext(i)
			} else {
				more, err = s.arrayNext(i)
			}
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	case jgfString:
		_, err := s.str(&s.vscratch)
		return err
	case jgfNumber:
		_, _, err := s.number()
		return err
	case jgfTrue, jgfFalse, jgfNull:
		return s.literal(k)
	}
	return s.valueError()
}

// describe consumes the next value and returns a short description for a
// "want X, got Y" message: "object", "array", or the token itself.
func (s *jgfScanner) describe() (string, error) {
	k := s.kind()
	start := s.pos
	if err := s.skip(0); err != nil {
		return "", err
	}
	switch k {
	case jgfObject:
		return "object", nil
	case jgfArray:
		return "array", nil
	}
	return ShortJSON(s.buf[start:s.pos]), nil
}

// ShortJSON returns a token of the input for a message, cut to about 40
// bytes (on a rune boundary) so that a huge value gives a short message.
func ShortJSON(raw []byte) string {
	if len(raw) > 40 {
		n := 37
		for n > 0 && !utf8.RuneStart(raw[n]) {
			n--
		}
		return string(raw[:n]) + "..."
	}
	return string(raw)
}
