package jobspec

import (
	"fmt"
	"math"
)

// Count is a resource vertex's count (RFC 14): the acceptable numbers are
// Min, then repeatedly the operator applied with Operand, up to Max:
//
//	"+": Min, Min+Operand, Min+2·Operand, ...
//	"*": Min, Min·Operand, Min·Operand², ...
//	"^": Min, Min^Operand, (Min^Operand)^Operand, ...
//
// A fixed count N is {Min: N, Max: N, Operator: "+", Operand: 1}; {min: N}
// alone has Max CountUnbounded ("infinite" in RFC 14, UINT_MAX in Fluxion).
//
// Preference: RFC 14 says a range asks for the maximum number available
// subject to the operator and operand, so larger acceptable counts are
// preferred; Fluxion's matcher_util_api_t::calc_count
// (resource/policies/base/matcher.cpp) takes the largest acceptable count
// not above the qualified (available) count and Max. Best does the same;
// Candidates lists the acceptable counts largest first.
type Count struct {
	Min, Max int64
	Operator string // "+", "*" or "^"
	Operand  int64
}

// Fixed reports whether exactly one count is acceptable (Min == Max).
func (c Count) Fixed() bool { return c.Min == c.Max }

// next returns the acceptable count after v, or false past Max (or on
// overflow, or when the sequence does not grow).
func (c Count) next(v int64) (int64, bool) {
	var n int64
	switch c.Operator {
	case "+":
		if c.Operand < 1 || v > math.MaxInt64-c.Operand {
			return 0, false
		}
		n = v + c.Operand
	case "*":
		if c.Operand < 2 || v > math.MaxInt64/c.Operand {
			return 0, false
		}
		n = v * c.Operand
	case "^":
		if c.Operand < 2 || v < 2 {
			return 0, false
		}
		n = v
		for i := int64(1); i < c.Operand; i++ {
			if n > math.MaxInt64/v {
				return 0, false
			}
			n *= v
		}
	default:
		return 0, false
	}
	if n > c.Max {
		return 0, false
	}
	return n, true
}

// Best returns the largest acceptable count that is at most avail, or 0 if
// none is (avail < Min). It mirrors Fluxion's calc_count: for "+" it is
// min(avail, Max) rounded down onto the Min + k·Operand grid; for "*" and
// "^" it walks the sequence.
func (c Count) Best(avail int64) int64 {
	if c.Min < 1 || c.Min > c.Max || c.Min > avail {
		return 0
	}
	top := min(avail, c.Max)
	if c.Operator == "+" {
		if c.Operand < 1 {
			return c.Min
		}
		return top - (top-c.Min)%c.Operand
	}
	best := c.Min
	for v, ok := c.next(c.Min); ok && v <= top; v, ok = c.next(v) {
		best = v
	}
	return best
}

// Accepts reports whether n is one of the acceptable counts.
func (c Count) Accepts(n int64) bool {
	return n >= c.Min && n <= c.Max && c.Best(n) == n
}

// Candidates returns the acceptable counts that are at most limit, largest
// (most preferred) first. It allocates one entry per candidate, so callers
// on a hot path should use Best, or bound limit: an open "+" range has up
// to limit entries.
func (c Count) Candidates(limit int64) []int64 {
	var up []int64
	top := min(limit, c.Max)
	if c.Min < 1 || c.Min > top {
		return nil
	}
	for v, ok := c.Min, true; ok && v <= top; v, ok = c.next(v) {
		up = append(up, v)
	}
	for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
		up[i], up[j] = up[j], up[i]
	}
	return up
}

// String renders the count as in a jobspec: "4" for a fixed count,
// "{min: 2}" for an open range, else "{min: 2, max: 8, operator: *,
// operand: 2}".
func (c Count) String() string {
	switch {
	case c.Fixed() && c.Operator == "+" && c.Operand == 1:
		return fmt.Sprint(c.Min)
	case c.Max == CountUnbounded && c.Operator == "+" && c.Operand == 1:
		return fmt.Sprintf("{min: %d}", c.Min)
	}
	return fmt.Sprintf("{min: %d, max: %d, operator: %s, operand: %d}", c.Min, c.Max, c.Operator, c.Operand)
}
