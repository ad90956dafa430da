package traces

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/convergesim/converge/internal/limitio"
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
// output without those lines, is an error naming the file and line; so
// is a time that is not a finite number of milliseconds up to
// MaxRTTMicros, more replies than requests, or input over
// limitio.Measurement bytes or with a line over 1 MiB. A gzip file is
// decompressed.
func ReadPing(name string, r io.Reader) (*PingResult, error) {
	res := &PingResult{Name: name}
	in, err := NewInput(r, name)
	if err != nil {
		return nil, &InputError{File: name, Msg: strings.TrimPrefix(err.Error(), name+": ")}
	}
	sc := bufio.NewScanner(limitio.Reader(in.Reader(), name, limitio.Measurement, MeasurementKind))
	sc.Buffer(make([]byte, 0, 4096), measMaxLine)
	line, statsLine, rttLine := 0, 0, 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		switch {
		case strings.Contains(t, " time=") && strings.Contains(t, "bytes from"):
			_, rest, _ := strings.Cut(t, " time=")
			num, unit, _ := strings.Cut(rest, " ")
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || !pingTime(v) || unit != "ms" {
				return nil, &InputError{File: name, Line: line, Field: "time", Msg: fmt.Sprintf("cannot read the round trip in %s (want time=<ms> ms, at most %g ms)", quote(t), MaxRTTMicros/1000)}
			}
			res.Times = append(res.Times, v/1000)
		case strings.Contains(t, "packets transmitted"):
			statsLine = line
			var err error
			fields := strings.Split(t, ",")
			if len(fields) < 2 {
				return nil, &InputError{File: name, Line: line, Msg: fmt.Sprintf("cannot read %s", quote(t))}
			}
			if res.Sent, err = pingCount(fields[0]); err != nil {
				return nil, &InputError{File: name, Line: line, Field: "packets transmitted", Msg: err.Error()}
			}
			if res.Received, err = pingCount(fields[1]); err != nil {
				return nil, &InputError{File: name, Line: line, Field: "received", Msg: err.Error()}
			}
		case strings.HasPrefix(t, "rtt ") || strings.HasPrefix(t, "round-trip "):
			rttLine = line
			_, rest, ok := strings.Cut(t, "=")
			vals, unit, ok2 := strings.Cut(strings.TrimSpace(rest), " ")
			parts := strings.Split(vals, "/")
			if !ok || !ok2 || unit != "ms" || len(parts) < 3 {
				return nil, &InputError{File: name, Line: line, Field: "rtt", Msg: fmt.Sprintf("cannot read %s (want rtt min/avg/max/mdev = a/b/c/d ms)", quote(t))}
			}
			dst := []*float64{&res.Min, &res.Avg, &res.Max, &res.Mdev}
			for i, p := range parts {
				if i >= len(dst) {
					break
				}
				v, err := strconv.ParseFloat(p, 64)
				if err != nil || !pingTime(v) {
					return nil, &InputError{File: name, Line: line, Field: "rtt", Msg: fmt.Sprintf("%s is not a round-trip time in ms (at most %g)", quote(p), MaxRTTMicros/1000)}
				}
				*dst[i] = v / 1000
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &InputError{File: name, Line: line + 1, Msg: fmt.Sprintf("a line longer than %s: not ping output", limitio.Size(measMaxLine))}
		}
		return nil, measStreamErr(name, line+1, err)
	}
	switch {
	case statsLine == 0:
		return nil, &InputError{File: name, Msg: "no \"packets transmitted\" line: not ping output, or truncated"}
	case res.Received == 0:
		return nil, &InputError{File: name, Line: statsLine, Field: "received", Msg: "no replies: the path was down"}
	case res.Received > res.Sent:
		return nil, &InputError{File: name, Line: statsLine, Field: "received", Msg: fmt.Sprintf("%d replies to %d requests", res.Received, res.Sent)}
	case rttLine == 0:
		return nil, &InputError{File: name, Msg: "no \"rtt min/avg/max/mdev\" line: truncated output"}
	case res.Min > res.Avg || res.Avg > res.Max:
		return nil, &InputError{File: name, Line: rttLine, Field: "rtt", Msg: "min ≤ avg ≤ max does not hold"}
	}
	return res, nil
}

// pingTime reports whether v is a plausible time in milliseconds.
func pingTime(v float64) bool {
	return v >= 0 && !math.IsInf(v, 0) && v <= MaxRTTMicros/1000
}

func pingCount(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty count")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s is not a count", quote(f[0]))
	}
	return n, nil
}
