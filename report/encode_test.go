package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

var encodeCases = []string{
	"", "plain", "with space", " leading", "\tleading tab", "comma,inside", `quote"inside`,
	"new\nline", "cr\rreturn", `\.`, "\u00a0nbsp", "tab\tinside", "ünïcödé", "\x00\x01\x1f ctl",
	"bad \xff utf8", "sep\u2028\u2029", "<html>&amp;", `back\slash`, "\u3000wide", "\x7f del",
	"trailing ", "emoji 🙂",
}

// The hand-written encoders agree byte for byte with encoding/csv and
// encoding/json (SetEscapeHTML(false)).
func TestEncodersMatchStdlib(t *testing.T) {
	for _, s := range encodeCases {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{s, "x"}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got := appendCSVField(nil, s)
		got = append(got, ",x\n"...)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("CSV %q: got %q, want %q", s, got, want.Bytes())
		}

		var jw bytes.Buffer
		enc := json.NewEncoder(&jw)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		gotJ := append(appendJSONString(nil, s), '\n')
		if !bytes.Equal(gotJ, jw.Bytes()) {
			t.Errorf("JSON %q: got %q, want %q", s, gotJ, jw.Bytes())
		}
	}
}

func TestAppendNumbers(t *testing.T) {
	// The reference formats: 6 decimals (CSV) and the shortest form (JSON)
	// of the value rounded to 6 places; unset (NaN, ±Inf) is empty / null.
	unset := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
	for _, f := range []float64{0, -0.0, 1, 12.5, 1e-7, 1.0000005, -3.25, 123456789.123456789, math.NaN(), math.Inf(1), math.Inf(-1)} {
		fixed, short := "", "null"
		if !unset(f) {
			fixed = strconv.FormatFloat(round6(f), 'f', 6, 64)
			short = strconv.FormatFloat(round6(f), 'f', -1, 64)
		}
		if got := string(appendFixed(nil, f)); got != fixed {
			t.Errorf("appendFixed(%v) = %q, want %q", f, got, fixed)
		}
		if got := string(appendNum(nil, f)); got != short {
			t.Errorf("appendNum(%v) = %q, want %q", f, got, short)
		}
	}
}

// appendNum's and appendFixed's fast forms agree with strconv's on random
// values of every magnitude a run produces, and at the edges of the fast
// range.
func TestAppendNumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float64{1e9 - 1e-6, 1e9, -1e9 + 1e-6, 999999999.9999995, -999999999.9999995, 0.0000005, -0.0000005, 0.0000004, -0.0000004, -0.0000006, 17519177.004, -0.5}
	for range 200000 {
		e := r.IntN(15) - 6
		vals = append(vals, (r.Float64()-0.3)*math.Pow(10, float64(e)))
	}
	for _, f := range vals {
		want := strconv.FormatFloat(round6(f), 'f', -1, 64)
		if got := string(appendNum(nil, f)); got != want {
			t.Fatalf("appendNum(%v) = %q, want %q", f, got, want)
		}
		if got, want := string(appendFixed(nil, f)), strconv.FormatFloat(round6(f), 'f', 6, 64); got != want {
			t.Fatalf("appendFixed(%v) = %q, want %q", f, got, want)
		}
	}
}
