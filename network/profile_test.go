package network

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// threeBands: eager small and medium bands, a rendezvous band above
// 64 KiB with its handshake priced separately, jumbo frames.
func threeBands() *Profile {
	return &Profile{
		Name: "ib",
		Bands: []Band{
			{MaxBytes: 1024, Latency: 2e-6, Bandwidth: 1e9},
			{MaxBytes: 65536, Latency: 5e-6, Bandwidth: 5e9},
			{Latency: 10e-6, Bandwidth: 10e9},
		},
		EagerLimit:        65536,
		RendezvousLatency: 3e-6,
		MTU:               9000,
		CPUPerByte:        0.1e-9,
	}
}

// overlay: a user-space stack with 1450-byte packets and a serial
// cost, a VXLAN hop adding 50 bytes, and a per-packet stage after it.
func overlay() *Profile {
	return (&Profile{
		Name:  "eth",
		Bands: []Band{{MaxBytes: 4096, Latency: 20e-6, Bandwidth: 0.5e9}, {Latency: 30e-6, Bandwidth: 1.2e9}},
	}).With("usernetes",
		Stage{Name: "slirp", MTU: 1450, PerPacket: 2e-6, PerByte: 0.5e-9, Latency: 20e-6, CPUPerByte: 1e-9},
		Stage{Name: "vxlan", HeaderBytes: 50, Latency: 3e-6},
		Stage{Name: "veth", PerPacket: 1e-6, Latency: 1e-6},
	)
}

func TestProfileBandsAndTime(t *testing.T) {
	p := threeBands()
	tests := []struct {
		n         int64
		lat, bw   float64
		rendezvou bool
	}{
		{0, 2e-6, 1e9, false},
		{1024, 2e-6, 1e9, false},
		{1025, 5e-6, 5e9, false},
		{65536, 5e-6, 5e9, false},
		{65537, 10e-6, 10e9, true},
		{1 << 30, 10e-6, 10e9, true},
	}
	for _, tc := range tests {
		if b := p.BandOf(tc.n); b.Latency != tc.lat || b.Bandwidth != tc.bw {
			t.Errorf("BandOf(%d) = %+v", tc.n, b)
		}
		lat := tc.lat
		if tc.rendezvou {
			lat += 3e-6
		}
		close(t, "Latency", p.Latency(tc.n), lat)
		close(t, "Bandwidth (no stages: the band's)", p.Bandwidth(tc.n), tc.bw)
		close(t, "Time", p.Time(tc.n), lat+float64(tc.n)/tc.bw)
	}
	close(t, "Time(-5) is Time(0)", p.Time(-5), p.Time(0))
	close(t, "Goodput without stages", p.Goodput(), 1)
	close(t, "NodeCPUPerByte", p.NodeCPUPerByte(), 0.1e-9)
	// No eager limit: nothing pays the handshake.
	p.EagerLimit = 0
	close(t, "Latency without an eager limit", p.Latency(1<<30), 10e-6)
}

func TestProfileStages(t *testing.T) {
	p := overlay()
	// Packet sizes: slirp 1450 (its MTU), vxlan inherits 1450 (slirp adds
	// no header), veth 1450+50. Payload per packet: 1450 − 40.
	payload := 1450.0 - 40
	rate0 := payload / (2e-6 + 1450*0.5e-9)
	rate2 := payload / (1e-6 + 1500*0)
	tests := []struct {
		i    int
		want float64
	}{{0, rate0}, {1, math.Inf(1)}, {2, rate2}, {3, 0}, {-1, 0}}
	for _, tc := range tests {
		if got := p.StageRate(tc.i); !(got == tc.want || math.Abs(got-tc.want) < 1e-9*tc.want) {
			t.Errorf("StageRate(%d) = %g, want %g", tc.i, got, tc.want)
		}
	}
	// Goodput: payload over payload + TCP/IP + VXLAN, relative to the
	// base network's own payload fraction with 1500-byte packets.
	goodput := (payload / (payload + 40 + 50)) / (1460.0 / 1500)
	close(t, "Goodput", p.Goodput(), goodput)
	for _, n := range []int64{100, 4096, 4097, 1 << 24} {
		band := p.BandOf(n)
		bw := math.Min(band.Bandwidth*goodput, math.Min(rate0, rate2))
		close(t, "Bandwidth", p.Bandwidth(n), bw)
		lat := band.Latency + 20e-6 + 3e-6 + 1e-6
		close(t, "Latency", p.Latency(n), lat)
		close(t, "Time", p.Time(n), lat+float64(n)/bw)
	}
	close(t, "NodeCPUPerByte", p.NodeCPUPerByte(), 1e-9)
	// Goodput is capped at 1 when the first stage's packets are larger
	// than the base network's (jumbo frames inside).
	q := (&Profile{Name: "x", Bands: []Band{{Latency: 1e-6, Bandwidth: 1e9}}}).With("j", Stage{MTU: 9000})
	close(t, "Goodput capped", q.Goodput(), 1)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestProfileWithCopies(t *testing.T) {
	base := overlay()
	a := base.With("a", Stage{Name: "extra", Latency: 1})
	b := base.With("b")
	if len(a.Stages) != 4 || len(b.Stages) != 3 || len(base.Stages) != 3 || a.Name != "a" {
		t.Fatalf("With: %d %d %d stages", len(a.Stages), len(b.Stages), len(base.Stages))
	}
	b.Stages[0].Latency = 99
	if base.Stages[0].Latency == 99 {
		t.Error("With shares the stage list")
	}
}

func TestProfileValidate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name  string
		mod   func(p *Profile)
		field string
	}{
		{"no bands", func(p *Profile) { p.Bands = nil }, "bands"},
		{"bands not ascending", func(p *Profile) { p.Bands[1].MaxBytes = 1024 }, "bands[1].maxBytes"},
		{"first band without bound before others", func(p *Profile) { p.Bands[0].MaxBytes = 0 }, "bands[0].maxBytes"},
		{"last band below the previous", func(p *Profile) { p.Bands[2].MaxBytes = 100 }, "bands[2].maxBytes"},
		{"single negative band bound", func(p *Profile) { p.Bands = []Band{{MaxBytes: -1, Latency: 1, Bandwidth: 1}} }, "bands[0].maxBytes"},
		{"negative latency", func(p *Profile) { p.Bands[0].Latency = -1e-6 }, "bands[0].latency"},
		{"NaN latency", func(p *Profile) { p.Bands[1].Latency = nan }, "bands[1].latency"},
		{"infinite latency", func(p *Profile) { p.Bands[1].Latency = inf }, "bands[1].latency"},
		{"zero bandwidth", func(p *Profile) { p.Bands[2].Bandwidth = 0 }, "bands[2].bandwidth"},
		{"NaN bandwidth", func(p *Profile) { p.Bands[2].Bandwidth = nan }, "bands[2].bandwidth"},
		{"infinite bandwidth", func(p *Profile) { p.Bands[0].Bandwidth = inf }, "bands[0].bandwidth"},
		{"negative rendezvous", func(p *Profile) { p.RendezvousLatency = -1 }, "rendezvousLatency"},
		{"NaN link", func(p *Profile) { p.LinkBandwidth = nan }, "linkBandwidth"},
		{"infinite link", func(p *Profile) { p.LinkBandwidth = inf }, "linkBandwidth"},
		{"negative cpu", func(p *Profile) { p.CPUPerByte = -1 }, "cpuPerByte"},
		{"negative eager limit", func(p *Profile) { p.EagerLimit = -1 }, "eagerLimit"},
		{"MTU all header", func(p *Profile) { p.MTU = 40 }, "mtu"},
		{"stage latency", func(p *Profile) { p.Stages = []Stage{{Name: "s", Latency: -1}} }, "stages[0] (s): latency"},
		{"stage per packet NaN", func(p *Profile) { p.Stages = []Stage{{PerPacket: nan}} }, "perPacket"},
		{"stage per byte", func(p *Profile) { p.Stages = []Stage{{}, {PerByte: -1}} }, "stages[1]"},
		{"stage cpu", func(p *Profile) { p.Stages = []Stage{{CPUPerByte: inf}} }, "cpuPerByte"},
		{"stage header", func(p *Profile) { p.Stages = []Stage{{HeaderBytes: -50}} }, "headerBytes"},
		{"stage MTU small", func(p *Profile) { p.Stages = []Stage{{MTU: 30}} }, "mtu"},
		{"stage MTU negative", func(p *Profile) { p.Stages = []Stage{{MTU: -1}} }, "mtu"},
	}
	for _, tc := range tests {
		p := threeBands()
		tc.mod(p)
		err := p.Validate()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), `"ib"`) {
			t.Errorf("%s: %q does not name the profile and %s", tc.name, err, tc.field)
		}
	}
	var nilp *Profile
	if err := nilp.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil profile: %v", err)
	}
	if err := threeBands().Validate(); err != nil {
		t.Errorf("good profile: %v", err)
	}
	// An invalid profile does not panic when priced.
	empty := &Profile{}
	_ = empty.Time(10)
	_ = empty.Bandwidth(10)
}
