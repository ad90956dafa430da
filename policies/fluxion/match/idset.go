package match

import (
	"fmt"
	"strconv"
	"strings"
)

// ExpandIDSet expands an RFC 22 idset ("0-3,7").
func ExpandIDSet(set string) ([]int64, error) {
	var out []int64
	if strings.TrimSpace(set) == "" {
		return nil, nil
	}
	for _, part := range strings.Split(set, ",") {
		lo, hi, rng := strings.Cut(part, "-")
		if part != "" && part[0] == '-' { // a lone negative id (rank -1)
			lo, hi, rng = part, "", false
		}
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("fluxion: idset %s: %w", mquoted(set), err)
		}
		b := a
		if rng {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("fluxion: idset %s: bad range %s", mquoted(set), mquoted(part))
			}
		}
		if b-a > 1<<24 {
			return nil, fmt.Errorf("fluxion: idset %s: range too large", mquoted(set))
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// ExpandHostlist expands an RFC 29 hostlist ("node[0-2,5],login") in order.
func ExpandHostlist(hl string) ([]string, error) {
	var out []string
	for len(hl) > 0 {
		// One host expression: up to the next comma outside brackets.
		depth, end := 0, len(hl)
		for i := 0; i < len(hl); i++ {
			switch hl[i] {
			case '[':
				depth++
			case ']':
				depth--
			case ',':
				if depth == 0 {
					end = i
					i = len(hl)
				}
			}
		}
		expr := hl[:end]
		hl = strings.TrimPrefix(hl[end:], ",")
		open := strings.IndexByte(expr, '[')
		if open < 0 {
			if expr != "" {
				out = append(out, expr)
			}
			continue
		}
		close := strings.IndexByte(expr, ']')
		if close < open || close != len(expr)-1 {
			return nil, fmt.Errorf("fluxion: hostlist %s: malformed", mquoted(expr))
		}
		prefix := expr[:open]
		for _, part := range strings.Split(expr[open+1:close], ",") {
			lo, hi, rng := strings.Cut(part, "-")
			a, err := strconv.ParseInt(lo, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("fluxion: hostlist %s: %w", mquoted(expr), err)
			}
			b := a
			if rng {
				if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
					return nil, fmt.Errorf("fluxion: hostlist %s: bad range %s", mquoted(expr), mquoted(part))
				}
			}
			if b-a > 1<<24 {
				return nil, fmt.Errorf("fluxion: hostlist %s: range too large", mquoted(expr))
			}
			width := 0
			if len(lo) > 1 && lo[0] == '0' {
				width = len(lo)
			}
			for i := a; i <= b; i++ {
				d := strconv.FormatInt(i, 10)
				if len(d) < width {
					d = strings.Repeat("0", width-len(d)) + d
				}
				out = append(out, prefix+d)
			}
		}
	}
	return out, nil
}
