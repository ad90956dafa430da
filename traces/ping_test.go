package traces

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/convergesim/converge/internal/limitio"
)

func TestReadPing(t *testing.T) {
	out := `PING 10.201.0.2 (10.201.0.2) 56(84) bytes of data.
64 bytes from 10.201.0.2: icmp_seq=1 ttl=64 time=0.052 ms

--- 10.201.0.2 ping statistics ---
50 packets transmitted, 49 received, 2% packet loss, time 512ms
rtt min/avg/max/mdev = 0.026/0.060/0.249/0.046 ms
`
	r, err := ReadPing("ping.txt", strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	near := func(got, ms float64) bool { return math.Abs(got-ms/1000) <= 1e-12*ms }
	if len(r.Times) != 1 || !near(r.Median(), 0.052) {
		t.Errorf("reply times %v, median %v; want [0.052 ms]", r.Times, r.Median())
	}
	if r.Sent != 50 || r.Received != 49 || !near(r.Min, 0.026) || !near(r.Avg, 0.060) || !near(r.Max, 0.249) || !near(r.Mdev, 0.046) {
		t.Errorf("ReadPing = %+v", r)
	}
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", `ping.txt: no "packets transmitted" line`},
		{"no replies", "5 packets transmitted, 0 received, 100% packet loss\n", "ping.txt:1: received: no replies"},
		{"truncated", "5 packets transmitted, 5 received\n", `no "rtt min/avg/max/mdev" line`},
		{"bad rtt", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = a/b/c/d ms\n", `ping.txt:2: rtt: "a" is not a round-trip time`},
		{"bad reply", "64 bytes from x: icmp_seq=1 ttl=64 time=fast ms\n", `ping.txt:1: time: cannot read the round trip`},
		{"order", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = 3/2/1/0 ms\n", "min ≤ avg ≤ max"},
		// Impossible values and hostile text.
		{"NaN reply", "64 bytes from x: icmp_seq=1 ttl=64 time=NaN ms\n", `ping.txt:1: time: cannot read the round trip in "64 bytes from x: icmp_seq=1 ttl=64 time=NaN ms"`},
		{"NaN rtt", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = NaN/NaN/NaN/NaN ms\n", `ping.txt:2: rtt: "NaN" is not a round-trip time in ms (at most 1e+06)`},
		{"Inf rtt", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = 1/2/+Inf/0 ms\n", `ping.txt:2: rtt: "+Inf" is not a round-trip time`},
		{"hours", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = 1/2/1e9/0 ms\n", `ping.txt:2: rtt: "1e9" is not a round-trip time`},
		{"more replies than requests", "5 packets transmitted, 7 received\nrtt min/avg/max/mdev = 1/2/3/0 ms\n", "ping.txt:1: received: 7 replies to 5 requests"},
		{"huge count", "99999999999999999999999 packets transmitted, 5 received\n", `ping.txt:1: packets transmitted: "99999999999999999999999" is not a count`},
		{"long line", strings.Repeat("x", 2<<20) + "\n", "ping.txt:1: a line longer than 1 MiB: not ping output"},
		{"long reply quoted short", "64 bytes from x: time=" + strings.Repeat("9", 5000) + "x ms\n", `… (5026 bytes)`},
	} {
		_, err := ReadPing("ping.txt", strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("%s: a %d-byte message", c.name, len(err.Error()))
		}
	}
	// An endless input (/dev/zero) is refused at the limit.
	_, err = ReadPing("zero", &pingSpaces{})
	if !errors.Is(err, limitio.ErrTooLarge) {
		t.Errorf("endless input: %v", err)
	}
}

// pingSpaces reads lines of 1023 spaces forever: short enough for the
// scanner, so only the size limit stops the read.
type pingSpaces struct{ n int }

func (z *pingSpaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
		if z.n%1024 == 1023 {
			p[i] = '\n'
		}
		z.n++
	}
	return len(p), nil
}

func FuzzReadPing(f *testing.F) {
	f.Add("50 packets transmitted, 49 received\nrtt min/avg/max/mdev = 0.026/0.060/0.249/0.046 ms\n")
	f.Add("64 bytes from x: icmp_seq=1 ttl=64 time=NaN ms\n5 packets transmitted, 5 received\nrtt min/avg/max/mdev = NaN/1/+Inf/0 ms\n")
	f.Add("5 packets transmitted, 7 received\nrtt min/avg/max/mdev = 1/2/1e308/0 ms\n")
	f.Add("\x00\x00\xff\xfe\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ReadPing("f", strings.NewReader(s))
		if err != nil {
			fuzzInputErr(t, err)
			return
		}
		ok := func(v float64) bool { return v >= 0 && v <= MaxRTTMicros*1e-6 }
		if r.Received == 0 || r.Received > r.Sent || r.Min > r.Avg || r.Avg > r.Max || !ok(r.Min) || !ok(r.Max) || !ok(r.Mdev) {
			t.Fatalf("accepted %+v", r)
		}
		for _, v := range r.Times {
			if !ok(v) {
				t.Fatalf("accepted a reply time %v", v)
			}
		}
	})
}
