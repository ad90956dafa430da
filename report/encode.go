package report

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Hand-written encoders for the per-row files (pods.csv, jobs.csv,
// events.jsonl), which may hold millions of rows: they append to a reused
// buffer with no allocation per field. Their output is byte-identical to
// encoding/csv's (default settings) and to encoding/json's with HTML
// escaping off, which the tests check.

// appendCSVField appends one CSV field, quoted as encoding/csv quotes it.
// CSVField is s as one CSV field, quoted as encoding/csv would.
func CSVField(s string) string { return string(appendCSVField(nil, s)) }

func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"', '"')
			continue
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// csvNeedsQuotes follows encoding/csv's fieldNeedsQuotes with ',' as the
// separator.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r == ' ' || r == '\t' || r == '\u00a0' || r == '\u1680' || (r >= '\u2000' && r <= '\u200a') ||
		r == '\u2028' || r == '\u2029' || r == '\u202f' || r == '\u205f' || r == '\u3000' || r == '\u0085' ||
		r == '\v' || r == '\f'
}

// appendFixed appends a float rounded to 6 places with all 6 decimals,
// as the CSV files write numbers; nothing when unset (NaN, ±Inf).
func appendFixed(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	if f > -1e9 && f < 1e9 {
		// Below 10⁹ a double is closer than 10⁻⁶/2 to its 6-place
		// decimal, so strconv would write the digits of the integer
		// k = round(f·10⁶): write them directly.
		k := int64(math.Round(f * 1e6))
		if k < 0 {
			b = append(b, '-')
			k = -k
		}
		b = strconv.AppendInt(b, k/1e6, 10)
		fr := k % 1e6
		return append(b, '.', byte('0'+fr/1e5), byte('0'+fr/1e4%10), byte('0'+fr/1e3%10),
			byte('0'+fr/100%10), byte('0'+fr/10%10), byte('0'+fr%10))
	}
	return strconv.AppendFloat(b, round6(f), 'f', 6, 64)
}

// appendNum appends a float as the JSON files write numbers (null when
// unset):
// the shortest decimal of the value rounded to 6 places. Below 10⁹ that
// is the 6-place fixed form without its trailing zeros (a double there
// is closer than 10⁻⁶/2 to its 6-place decimal, so no shorter decimal
// rounds to it), which strconv computes much faster than the shortest
// form.
func appendNum(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	r := round6(f)
	if r >= 1e9 || r <= -1e9 {
		return strconv.AppendFloat(b, r, 'f', -1, 64)
	}
	b = strconv.AppendFloat(b, r, 'f', 6, 64)
	n := len(b)
	for b[n-1] == '0' {
		n--
	}
	if b[n-1] == '.' {
		n--
	}
	return b[:n]
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// with SetEscapeHTML(false): invalid UTF-8 becomes U+FFFD, U+2028 and
// U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
