package traces

// This file holds what the Flux formats share: hostlists and idsets (RFC
// 29 and RFC 22), wait statuses, the job id a file's name gives, and a
// checked reader of decoded JSON objects (numbers as json.Number) whose
// errors name the file, the line and the field.

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxExpand is the most names one hostlist, or ids one idset, may
// expand to: more than any Flux instance holds. A hostlist such as
// "n[0-999999999]" is refused rather than expanded.
const MaxExpand = 1_000_000

// fxMaxEpoch is the latest wall-clock time read (about the year 5138): a
// larger timestamp is corrupt.
const fxMaxEpoch = 1e11

// fluxKind is the Job.Kind of a Flux job.
const fluxKind = "FluxJob"

// ExpandHostlist expands a Flux hostlist (RFC 29: comma-separated
// host expressions, each a prefix, at most one bracketed list of
// numbers and ranges, and a suffix: "node[1-3,5],login1",
// "gpu[01-04]" keeps the width of the range's first number) into names,
// in order. At most MaxExpand names.
func ExpandHostlist(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, expr := range fxSplitHostlist(s) {
		if expr == "" {
			return nil, fmt.Errorf("hostlist %s: an empty host", quote(s))
		}
		open := strings.IndexByte(expr, '[')
		if open < 0 {
			if strings.ContainsAny(expr, "]") {
				return nil, fmt.Errorf("hostlist %s: %s has a ']' without '['", quote(s), quote(expr))
			}
			if len(out) >= MaxExpand {
				return nil, fmt.Errorf("hostlist %s: more than %d hosts", quote(fxCut(s)), MaxExpand)
			}
			out = append(out, expr)
			continue
		}
		end := strings.IndexByte(expr, ']')
		if end < open {
			return nil, fmt.Errorf("hostlist %s: %s has no ']' closing its '['", quote(s), quote(expr))
		}
		prefix, list, suffix := expr[:open], expr[open+1:end], expr[end+1:]
		if strings.ContainsAny(suffix, "[]") || strings.ContainsAny(prefix, "]") {
			return nil, fmt.Errorf("hostlist %s: %s has more than one bracketed range (not supported)", quote(s), quote(expr))
		}
		err := fxRangeList(list, func(lo, hi uint64, width int) error {
			if uint64(len(out))+hi-lo+1 > MaxExpand {
				return fmt.Errorf("more than %d hosts", MaxExpand)
			}
			for k := lo; k <= hi; k++ {
				out = append(out, prefix+fxPad(k, width)+suffix)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("hostlist %s: %v", quote(fxCut(s)), err)
		}
	}
	return out, nil
}

// fxCut cuts s for a message.
func fxCut(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// fxSplitHostlist splits on the commas outside brackets.
func fxSplitHostlist(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// fxRangeList calls fn for each element of "1-3,5,07-09": its bounds and
// the width of its first number when that has a leading zero (0: no
// padding).
func fxRangeList(list string, fn func(lo, hi uint64, width int) error) error {
	if strings.TrimSpace(list) == "" {
		return fmt.Errorf("an empty range list")
	}
	for _, el := range strings.Split(list, ",") {
		el = strings.TrimSpace(el)
		a, b, isRange := strings.Cut(el, "-")
		lo, err := fxParseID(a)
		if err != nil {
			return err
		}
		hi := lo
		if isRange {
			if hi, err = fxParseID(b); err != nil {
				return err
			}
			if hi < lo {
				return fmt.Errorf("range %s runs backwards", quote(el))
			}
		}
		width := 0
		if len(a) > 1 && a[0] == '0' {
			width = len(a)
		}
		if err := fn(lo, hi, width); err != nil {
			return err
		}
	}
	return nil
}

// fxParseID parses a non-negative decimal id.
func fxParseID(s string) (uint64, error) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s is not a non-negative integer", quote(s))
	}
	return strconv.ParseUint(s, 10, 64)
}

// fxPad formats k with at least width digits.
func fxPad(k uint64, width int) string {
	s := strconv.FormatUint(k, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// CompressHostlist writes names as a hostlist, in their order: runs of
// consecutive numbers with the same prefix become a bracketed range
// ("node1,node2,node3,node5" → "node[1-3,5]"), so that ExpandHostlist
// gives the names back.
func CompressHostlist(names []string) string {
	var b strings.Builder
	i := 0
	for i < len(names) {
		prefix, num := fxSplitNumber(names[i])
		if num == "" {
			fxSep(&b)
			b.WriteString(names[i])
			i++
			continue
		}
		// The names from i with this prefix and a number go in one
		// bracket, as runs.
		var runs []string
		for i < len(names) {
			p, n := fxSplitNumber(names[i])
			if p != prefix || n == "" {
				break
			}
			lo, _ := strconv.ParseUint(n, 10, 64)
			width := 0
			if len(n) > 1 && n[0] == '0' {
				width = len(n)
			}
			hi := lo
			j := i + 1
			for j < len(names) {
				p2, n2 := fxSplitNumber(names[j])
				if p2 != prefix || n2 != fxPad(hi+1, width) || (width == 0 && n2 != strconv.FormatUint(hi+1, 10)) {
					break
				}
				hi++
				j++
			}
			if hi == lo {
				runs = append(runs, n)
			} else {
				runs = append(runs, n+"-"+fxPad(hi, width))
			}
			i = j
		}
		fxSep(&b)
		b.WriteString(prefix)
		if len(runs) == 1 && !strings.Contains(runs[0], "-") {
			b.WriteString(runs[0])
		} else {
			b.WriteString("[" + strings.Join(runs, ",") + "]")
		}
	}
	return b.String()
}

func fxSep(b *strings.Builder) {
	if b.Len() > 0 {
		b.WriteByte(',')
	}
}

// fxSplitNumber splits a name into the part before its trailing decimal
// number and the number ("" when it ends in none, or the number is too
// long to be one).
func fxSplitNumber(s string) (string, string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 18 || strings.ContainsAny(s[:i], "[],") {
		return s, ""
	}
	return s[:i], s[i:]
}

// ExpandIDSet expands an RFC 22 idset ("0-3,7", optionally in brackets)
// into its ids, in order. At most MaxExpand ids.
func ExpandIDSet(s string) ([]int, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	if t == "" {
		return nil, nil
	}
	var out []int
	err := fxRangeList(t, func(lo, hi uint64, _ int) error {
		if hi > math.MaxInt32 {
			return fmt.Errorf("id %d too large", hi)
		}
		if uint64(len(out))+hi-lo+1 > MaxExpand {
			return fmt.Errorf("more than %d ids", MaxExpand)
		}
		for k := lo; k <= hi; k++ {
			out = append(out, int(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("idset %s: %v", quote(fxCut(s)), err)
	}
	return out, nil
}

// fxCountIDSet counts the ids of an idset without expanding it (at most
// MaxExpand).
func fxCountIDSet(s string) (int, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	if t == "" {
		return 0, nil
	}
	n := uint64(0)
	err := fxRangeList(t, func(lo, hi uint64, _ int) error {
		if n += hi - lo + 1; n > MaxExpand {
			return fmt.Errorf("more than %d ids", MaxExpand)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("idset %s: %v", quote(fxCut(s)), err)
	}
	return int(n), nil
}

// fxMaxListed is the most node names the jobs of one file may list in
// all (their NodeLists), and fxMaxHosts the most distinct ones: a small
// file of hostlists such as "n[0-999999]" would otherwise take
// gigabytes.
const (
	fxMaxListed = 20_000_000
	fxMaxHosts  = MaxExpand
)

// fxHosts expands the nodelists of one file's jobs, keeping one copy of
// each name and counting them against fxMaxListed and fxMaxHosts.
type fxHosts struct {
	names  map[string]string
	listed int
}

// expand expands a hostlist.
func (h *fxHosts) expand(hl string) ([]string, error) {
	names, err := ExpandHostlist(hl)
	if err != nil {
		return nil, err
	}
	if h.listed += len(names); h.listed > fxMaxListed {
		return nil, fmt.Errorf("the jobs list more than %d nodes in all", fxMaxListed)
	}
	if h.names == nil {
		h.names = map[string]string{}
	}
	for i, n := range names {
		if c, ok := h.names[n]; ok {
			names[i] = c
			continue
		}
		if len(h.names) >= fxMaxHosts {
			return nil, fmt.Errorf("more than %d distinct hosts", fxMaxHosts)
		}
		h.names[n] = n
	}
	return names, nil
}

// fxWaitStatus decodes a POSIX wait status: the exit code of a process
// that exited, or the signal that ended it (0 when it exited).
func fxWaitStatus(status int64) (code, signal int) {
	if status&0x7f == 0 {
		return int(status>>8) & 0xff, 0
	}
	return 0, int(status & 0x7f)
}

// fxFileJobID is the job id a file's name gives: its base name without
// the usual endings (".gz", ".eventlog", ".json", ".jsonl", ".yaml",
// ".log"), without a "job." prefix and a ".guest.exec" or ".exec" ending
// (the KVS keys job.<id>.eventlog, job.<id>.guest.exec.eventlog);
// "-" (standard input) gives "stdin".
func fxFileJobID(name string) string {
	if name == "-" {
		return "stdin"
	}
	base := filepath.Base(name)
	for {
		trimmed := base
		for _, ext := range []string{".gz", ".eventlog", ".jsonl", ".json", ".yaml", ".yml", ".log", ".txt", ".R"} {
			trimmed = strings.TrimSuffix(trimmed, ext)
		}
		if trimmed == base || trimmed == "" {
			break
		}
		base = trimmed
	}
	if strings.HasPrefix(base, "job.") && len(base) > 4 {
		base = base[4:]
	}
	for _, ext := range []string{".guest.exec", ".exec"} {
		if t := strings.TrimSuffix(base, ext); t != "" {
			base = t
		}
	}
	return base
}

// fxFields reads the values of decoded JSON objects (numbers as
// json.Number), checking types and ranges; the first error is kept,
// naming the file, line and field path (prefix + key).
type fxFields struct {
	in     *Input
	line   int
	prefix string
	err    error
	// lineOf, when set, gives the line of a field path (a YAML
	// document's), 0 when not known.
	lineOf func(path string) int
}

// sub returns the fields of the object at path key below f's, sharing
// f's line lookup.
func (f *fxFields) sub(key string) *fxFields {
	return &fxFields{in: f.in, line: f.line, prefix: f.path(key), lineOf: f.lineOf}
}

// keep moves g's error into f (the first one is kept).
func (f *fxFields) keep(g *fxFields) {
	if f.err == nil {
		f.err = g.err
	}
}

func (f *fxFields) path(key string) string {
	if f.prefix == "" {
		return key
	}
	if key == "" {
		return f.prefix
	}
	return f.prefix + "." + key
}

// fail records an error about key (the first only).
func (f *fxFields) fail(key, format string, args ...any) {
	if f.err == nil {
		line := f.line
		if f.lineOf != nil {
			if l := f.lineOf(f.path(key)); l > 0 {
				line = l
			}
		}
		f.err = f.in.Errorf(line, f.path(key), format, args...)
	}
}

// fxAbsent reports a missing value: no key, null, or "" (flux jobs gives
// "" for unset fields).
func fxAbsent(v any, ok bool) bool {
	if !ok || v == nil {
		return true
	}
	s, isStr := v.(string)
	return isStr && s == ""
}

// num returns the number at key within [lo, hi] (false when absent).
func (f *fxFields) num(m map[string]any, key string, lo, hi float64) (float64, bool) {
	v, ok := m[key]
	if fxAbsent(v, ok) {
		return 0, false
	}
	x, err := fxNumber(v)
	if err != nil {
		f.fail(key, "%v", err)
		return 0, false
	}
	if x < lo || x > hi {
		f.fail(key, "%s is out of range (%g to %g)", fxValueText(v), lo, hi)
		return 0, false
	}
	return x, true
}

// fxInteger returns the integer at key within [lo, hi] (false when
// absent).
func (f *fxFields) fxInteger(m map[string]any, key string, lo, hi int64) (int64, bool) {
	v, ok := m[key]
	if fxAbsent(v, ok) {
		return 0, false
	}
	x, err := fxInteger(v)
	if err != nil {
		f.fail(key, "%v", err)
		return 0, false
	}
	if x < lo || x > hi {
		f.fail(key, "%d is out of range (%d to %d)", x, lo, hi)
		return 0, false
	}
	return x, true
}

// time returns the epoch time at key; absent or 0 (Flux's unset) gives
// NaN.
func (f *fxFields) time(m map[string]any, key string) float64 {
	x, ok := f.num(m, key, 0, fxMaxEpoch)
	if !ok || x == 0 {
		return NaN
	}
	return x
}

// str returns the string at key ("" when absent).
func (f *fxFields) str(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		f.fail(key, "a %s where a string is expected", fxKindOf(v))
		return ""
	}
	if len(s) > 4096 {
		f.fail(key, "a string of %d bytes (at most 4096)", len(s))
		return ""
	}
	return s
}

// boolean returns the boolean at key (false when absent).
func (f *fxFields) boolean(m map[string]any, key string) bool {
	v, ok := m[key]
	if fxAbsent(v, ok) {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		f.fail(key, "a %s where true or false is expected", fxKindOf(v))
	}
	return b
}

// obj returns the object at key (nil when absent).
func (f *fxFields) obj(m map[string]any, key string) map[string]any {
	v, ok := m[key]
	if fxAbsent(v, ok) {
		return nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		f.fail(key, "a %s where an object is expected", fxKindOf(v))
	}
	return o
}

// list returns the array at key (nil when absent).
func (f *fxFields) list(m map[string]any, key string) []any {
	v, ok := m[key]
	if fxAbsent(v, ok) {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		f.fail(key, "a %s where an array is expected", fxKindOf(v))
	}
	return l
}

// fxNumber converts a decoded JSON number.
func fxNumber(v any) (float64, error) {
	var x float64
	switch n := v.(type) {
	case json.Number:
		var err error
		x, err = strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a number in range", quote(string(n)))
		}
	case float64:
		x = n
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	default:
		return 0, fmt.Errorf("a %s where a number is expected", fxKindOf(v))
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%v is not a finite number", x)
	}
	return x, nil
}

// fxInteger converts a decoded JSON integer.
func fxInteger(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		x, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer in range", quote(string(n)))
		}
		return x, nil
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("a %s where an integer is expected", fxKindOf(v))
}

// fxKindOf names a decoded JSON value's type for a message.
func fxKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int, int64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// fxValueText shows a scalar for a message.
func fxValueText(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case json.Number:
		return quote(string(x))
	}
	return fmt.Sprint(v)
}

// fxScalarText is a scalar's text for Params ("" and false for an object
// or array).
func fxScalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

// fxEventName checks an event's name: a short printable string.
func fxEventName(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("a %s where an event name is expected", fxKindOf(v))
	}
	if s == "" || len(s) > 128 || !utf8.ValidString(s) {
		return "", fmt.Errorf("%s is not an event name", quote(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%s is not an event name (a control character)", quote(s))
		}
	}
	return s, nil
}

// fxTime writes an epoch time so that it reads back exactly.
func fxTime(t float64) json.Number {
	return json.Number(strconv.FormatFloat(t, 'f', -1, 64))
}

// fxSetParam sets a job parameter, making the map.
func fxSetParam(j *Job, key, value string) {
	if j.Params == nil {
		j.Params = map[string]string{}
	}
	j.Params[key] = value
}

// fxErrTooMany is a hostlist or idset over MaxExpand in all.
var fxErrTooMany = fmt.Errorf("more than %d names in all", MaxExpand)
