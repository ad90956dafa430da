package jobspec

import (
	"reflect"
	"testing"
)

// TestCountCandidates lists the acceptable counts, most preferred (largest)
// first, as RFC 14 asks for "the maximum number ... available subject to
// the operator and operand".
func TestCountCandidates(t *testing.T) {
	tests := []struct {
		name  string
		c     Count
		limit int64
		want  []int64
	}{
		// 2, 2·2 = 4, 4·2 = 8; 16 > max.
		{"times2", Count{Min: 2, Max: 8, Operator: "*", Operand: 2}, 100, []int64{8, 4, 2}},
		// Only 6 available: 8 is out.
		{"times2 limited", Count{Min: 2, Max: 8, Operator: "*", Operand: 2}, 6, []int64{4, 2}},
		// 1, 4, 7, 10 (step 3).
		{"plus3", Count{Min: 1, Max: 10, Operator: "+", Operand: 3}, 100, []int64{10, 7, 4, 1}},
		// 2, 2² = 4, 4² = 16, 16² = 256 > 100.
		{"square", Count{Min: 2, Max: 100, Operator: "^", Operand: 2}, 1000, []int64{16, 4, 2}},
		// 3, 3³ = 27; 27³ > 1000.
		{"cube", Count{Min: 3, Max: 1000, Operator: "^", Operand: 3}, 1000, []int64{27, 3}},
		// Fixed count: only itself.
		{"fixed", Count{Min: 4, Max: 4, Operator: "+", Operand: 1}, 100, []int64{4}},
		// {min: 3} alone is open: bounded by the limit.
		{"open", Count{Min: 3, Max: CountUnbounded, Operator: "+", Operand: 1}, 6, []int64{6, 5, 4, 3}},
		// Fewer available than min: nothing.
		{"short", Count{Min: 3, Max: 9, Operator: "+", Operand: 1}, 2, nil},
		// Multiplying near the int64 limit stops instead of overflowing.
		{"overflow", Count{Min: 1 << 62, Max: 1<<63 - 1, Operator: "*", Operand: 2}, 1<<63 - 1, []int64{1 << 62}},
	}
	for _, tt := range tests {
		if got := tt.c.Candidates(tt.limit); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v.Candidates(%d) = %v, want %v", tt.name, tt.c, tt.limit, got, tt.want)
		}
	}
}

// TestCountBest: Best(avail) is Fluxion's calc_count, the largest
// acceptable count not above avail. The first rows are the cases of
// flux-sched resource/policies/base/test/matcher_util_api_test01.cpp.
func TestCountBest(t *testing.T) {
	const uintMax = CountUnbounded
	plus := func(min, max, operand int64) Count { return Count{Min: min, Max: max, Operator: "+", Operand: operand} }
	tests := []struct {
		c     Count
		avail int64
		want  int64
	}{
		{plus(1, 10, 1), uintMax, 10},
		{plus(1, 10, 1), 5, 5},
		{plus(1, 10, 2), uintMax, 9}, // 1, 3, 5, 7, 9
		{plus(1, 10, 2), 5, 5},
		{plus(1, 10, 3), uintMax, 10}, // 1, 4, 7, 10
		{plus(1, 10, 3), 5, 4},
		{plus(1, 10, 5), uintMax, 6}, // 1, 6
		{plus(1, 10, 5), 5, 1},
		{plus(1, 10, 10), uintMax, 1},
		{plus(1, 10, 10), 5, 1},
		{plus(1, uintMax, 1), uintMax, 4294967295},
		{plus(2, uintMax, 2), uintMax, 4294967294}, // even numbers from 2
		// Multiplication and exponentiation walk the sequence.
		{Count{Min: 2, Max: 8, Operator: "*", Operand: 2}, 7, 4},
		{Count{Min: 2, Max: 8, Operator: "*", Operand: 2}, 100, 8},
		{Count{Min: 2, Max: 1000, Operator: "^", Operand: 2}, 300, 256}, // 2, 4, 16, 256
		// Not enough available.
		{plus(3, 9, 1), 2, 0},
		{Count{Min: 4, Max: 4, Operator: "+", Operand: 1}, 3, 0},
	}
	for _, tt := range tests {
		if got := tt.c.Best(tt.avail); got != tt.want {
			t.Errorf("%v.Best(%d) = %d, want %d", tt.c, tt.avail, got, tt.want)
		}
	}
}

func TestCountAccepts(t *testing.T) {
	c := Count{Min: 2, Max: 8, Operator: "*", Operand: 2}
	for n, want := range map[int64]bool{1: false, 2: true, 3: false, 4: true, 6: false, 8: true, 16: false} {
		if got := c.Accepts(n); got != want {
			t.Errorf("%v.Accepts(%d) = %v, want %v", c, n, got, want)
		}
	}
}

func TestCountString(t *testing.T) {
	tests := []struct {
		c    Count
		want string
	}{
		{Count{Min: 4, Max: 4, Operator: "+", Operand: 1}, "4"},
		{Count{Min: 2, Max: CountUnbounded, Operator: "+", Operand: 1}, "{min: 2}"},
		{Count{Min: 2, Max: 8, Operator: "*", Operand: 2}, "{min: 2, max: 8, operator: *, operand: 2}"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// TestCountFromJobspec: the parser fills the RFC 14 defaults.
func TestCountFromJobspec(t *testing.T) {
	tests := []struct {
		count string
		want  Count
	}{
		{"4", Count{Min: 4, Max: 4, Operator: "+", Operand: 1}},
		{"{min: 4}", Count{Min: 4, Max: CountUnbounded, Operator: "+", Operand: 1}},
		{`{min: 2, max: 8, operator: "*", operand: 2}`, Count{Min: 2, Max: 8, Operator: "*", Operand: 2}},
		{`{"min": 2, "max": 16, "operator": "^", "operand": 2}`, Count{Min: 2, Max: 16, Operator: "^", Operand: 2}},
		{"{min: 1, max: 4294967295, operator: '+', operand: 2147483647}", Count{Min: 1, Max: CountUnbounded, Operator: "+", Operand: MaxCountOperand}},
	}
	for _, tt := range tests {
		doc := "version: 9999\nresources:\n  - type: slot\n    label: s\n    count: " + tt.count +
			"\n    with: [{type: core, count: 1}]\ntasks: [{command: [a], slot: s, count: {per_slot: 1}}]\nattributes: {}\n"
		js, err := ParseJobspec([]byte(doc), "count.yaml")
		if err != nil {
			t.Errorf("count %s: %v", tt.count, err)
			continue
		}
		if got := js.Resources[0].Count; got != tt.want {
			t.Errorf("count %s = %+v, want %+v", tt.count, got, tt.want)
		}
	}
}
