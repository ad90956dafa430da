package network

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// PingResult is the summary line of iputils ping: round-trip times in
// seconds and the packets sent and received.
type PingResult struct {
	Name                string
	Sent, Received      int
	Min, Avg, Max, Mdev float64
	// Times are the replies' round trips in seconds, in order (the
	// "time=0.052 ms" of each reply line).
	Times []float64
}

// Median is the median round trip of the replies (the summary's mean
// when no reply lines were read). Unlike the mean it ignores the odd
// reply delayed by a scheduler hiccup of a loaded host.
func (r *PingResult) Median() float64 {
	if len(r.Times) == 0 {
		return r.Avg
	}
	t := slices.Clone(r.Times)
	slices.Sort(t)
	n := len(t)
	if n%2 == 1 {
		return t[n/2]
	}
	return (t[n/2-1] + t[n/2]) / 2
}

// ReadPing reads iputils ping output (`ping -c N HOST`): the
// "N packets transmitted, M received" line and the
// "rtt min/avg/max/mdev = a/b/c/d ms" line. A run with no reply, or
// output without those lines, is an error naming the file and line.
func ReadPing(name string, r io.Reader) (*PingResult, error) {
	res := &PingResult{Name: name}
	sc := bufio.NewScanner(r)
	line, statsLine, rttLine := 0, 0, 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		switch {
		case strings.Contains(t, " time=") && strings.Contains(t, "bytes from"):
			_, rest, _ := strings.Cut(t, " time=")
			num, unit, _ := strings.Cut(rest, " ")
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 || unit != "ms" {
				return nil, &InputError{File: name, Line: line, Field: "time", Msg: fmt.Sprintf("cannot read the round trip in %q", t)}
			}
			res.Times = append(res.Times, v/1000)
		case strings.Contains(t, "packets transmitted"):
			statsLine = line
			var err error
			fields := strings.Split(t, ",")
			if len(fields) < 2 {
				return nil, &InputError{File: name, Line: line, Msg: fmt.Sprintf("cannot read %q", t)}
			}
			if res.Sent, err = leadingInt(fields[0]); err != nil {
				return nil, &InputError{File: name, Line: line, Field: "packets transmitted", Msg: err.Error()}
			}
			if res.Received, err = leadingInt(fields[1]); err != nil {
				return nil, &InputError{File: name, Line: line, Field: "received", Msg: err.Error()}
			}
		case strings.HasPrefix(t, "rtt ") || strings.HasPrefix(t, "round-trip "):
			rttLine = line
			_, rest, ok := strings.Cut(t, "=")
			vals, unit, ok2 := strings.Cut(strings.TrimSpace(rest), " ")
			parts := strings.Split(vals, "/")
			if !ok || !ok2 || unit != "ms" || len(parts) < 3 {
				return nil, &InputError{File: name, Line: line, Field: "rtt", Msg: fmt.Sprintf("cannot read %q (want rtt min/avg/max/mdev = a/b/c/d ms)", t)}
			}
			dst := []*float64{&res.Min, &res.Avg, &res.Max, &res.Mdev}
			for i, p := range parts {
				if i >= len(dst) {
					break
				}
				v, err := strconv.ParseFloat(p, 64)
				if err != nil || v < 0 {
					return nil, &InputError{File: name, Line: line, Field: "rtt", Msg: fmt.Sprintf("%q is not a round-trip time in ms", p)}
				}
				*dst[i] = v / 1000
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &InputError{File: name, Line: line, Msg: err.Error()}
	}
	switch {
	case statsLine == 0:
		return nil, &InputError{File: name, Msg: "no \"packets transmitted\" line: not ping output, or truncated"}
	case res.Received == 0:
		return nil, &InputError{File: name, Line: statsLine, Field: "received", Msg: "no replies: the path was down"}
	case rttLine == 0:
		return nil, &InputError{File: name, Msg: "no \"rtt min/avg/max/mdev\" line: truncated output"}
	case res.Min > res.Avg || res.Avg > res.Max:
		return nil, &InputError{File: name, Line: rttLine, Field: "rtt", Msg: "min ≤ avg ≤ max does not hold"}
	}
	return res, nil
}

func leadingInt(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty count")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", f[0])
	}
	return n, nil
}
