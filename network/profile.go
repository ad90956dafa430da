package network

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalid is wrapped by every error about an impossible profile,
// stage or placement.
var ErrInvalid = errors.New("network: invalid")

// Band is one message-size regime of a point-to-point transport, as
// SMPI's piecewise models have them: a message of n bytes with
// n <= MaxBytes (and above the previous band's MaxBytes) takes
// Latency + n/Bandwidth seconds end to end.
type Band struct {
	// MaxBytes is the band's largest message size; 0 in the last band
	// means no upper bound.
	MaxBytes int64 `yaml:"maxBytes" json:"maxBytes"`
	// Latency is the one-way time of a message of this band at zero
	// size (intercept), seconds.
	Latency float64 `yaml:"latency" json:"latency"`
	// Bandwidth is the asymptotic one-stream rate within the band,
	// bytes per second.
	Bandwidth float64 `yaml:"bandwidth" json:"bandwidth"`
}

// Stage is one hop a runtime adds to the path of every inter-node
// packet: an overlay (flannel VXLAN), a user-space network stack
// (slirp4netns), a veth pair. Stages are listed from the application
// outward. Their costs are mechanisms, not ratios:
//
//   - Latency is added once per message (one way).
//   - MTU is the size of the packets the stage handles; 0 means the
//     packets of the stage before it, grown by that stage's
//     HeaderBytes (the first stage inherits the base MTU). The first
//     stage's packet size fixes the application payload per packet,
//     P = size − 40 bytes of TCP/IP headers.
//   - PerPacket and PerByte are the stage's serial processing cost; a
//     stage that handles one packet at a time caps the stream rate at
//     P/(PerPacket + size·PerByte) bytes of payload per second. The
//     cap is per node, shared by all the node's concurrent flows (one
//     slirp4netns process serves the whole namespace), and so is the
//     queue: messages the node's ranks send at once wait for one
//     another there, each at least one packet's cost however small
//     (the collectives price it: path.service).
//   - HeaderBytes is the encapsulation the stage adds to every packet
//     it passes on (VXLAN over UDP/IPv4 with the inner Ethernet
//     header: 50 bytes), which the base network carries as overhead.
//   - CPUPerByte is node CPU time (seconds per byte moved) the stage
//     burns outside the application (slirp4netns copies every byte in
//     user space); it competes with the ranks for cores.
type Stage struct {
	Name        string  `yaml:"name" json:"name"`
	Latency     float64 `yaml:"latency" json:"latency"`
	PerPacket   float64 `yaml:"perPacket" json:"perPacket"`
	PerByte     float64 `yaml:"perByte" json:"perByte"`
	HeaderBytes int     `yaml:"headerBytes" json:"headerBytes"`
	MTU         int     `yaml:"mtu" json:"mtu"`
	CPUPerByte  float64 `yaml:"cpuPerByte" json:"cpuPerByte"`
}

// TCPIPHeaderBytes is the IPv4 + TCP header overhead of one packet
// without options.
const TCPIPHeaderBytes = 40

// Profile is a point-to-point transport: the bands of the base
// network, fitted to measurements, and the stages a runtime puts in
// front of it.
type Profile struct {
	Name string `yaml:"name" json:"name"`
	// Bands in ascending MaxBytes; the last has MaxBytes 0.
	Bands []Band `yaml:"bands" json:"bands"`
	// EagerLimit is the largest message sent eagerly (0: no limit, every
	// message is eager); larger messages
	// use the rendezvous protocol and pay RendezvousLatency more (the
	// request-to-send/clear-to-send round trip) unless the fitted bands
	// already include it (then leave it 0).
	EagerLimit        int64   `yaml:"eagerLimit" json:"eagerLimit"`
	RendezvousLatency float64 `yaml:"rendezvousLatency" json:"rendezvousLatency"`
	// MTU of the base network the bands were measured on (0: 1500).
	MTU int `yaml:"mtu" json:"mtu"`
	// LinkBandwidth is a node's line rate shared by all its flows
	// (bytes/s); 0 means the last band's Bandwidth.
	LinkBandwidth float64 `yaml:"linkBandwidth" json:"linkBandwidth"`
	// CPUPerByte is the base stack's node CPU time per byte moved.
	CPUPerByte float64 `yaml:"cpuPerByte" json:"cpuPerByte"`
	// Stages added by the runtime, in packet order.
	Stages []Stage `yaml:"stages" json:"stages"`
}

// Validate reports the first impossible parameter, naming it.
func (p *Profile) Validate() error {
	if p == nil {
		return fmt.Errorf("%w: profile: missing", ErrInvalid)
	}
	if len(p.Bands) == 0 {
		return fmt.Errorf("%w: profile %s: bands: at least one band is needed", ErrInvalid, quote(p.Name))
	}
	var prev int64
	for i, b := range p.Bands {
		last := i == len(p.Bands)-1
		switch {
		case !last && b.MaxBytes <= prev:
			return fmt.Errorf("%w: profile %s: bands[%d].maxBytes: %d must be above the previous band's %d", ErrInvalid, quote(p.Name), i, b.MaxBytes, prev)
		case last && b.MaxBytes != 0 && b.MaxBytes <= prev:
			return fmt.Errorf("%w: profile %s: bands[%d].maxBytes: %d must be above the previous band's %d (or 0 for no bound)", ErrInvalid, quote(p.Name), i, b.MaxBytes, prev)
		case !(b.Latency >= 0) || math.IsInf(b.Latency, 0):
			return fmt.Errorf("%w: profile %s: bands[%d].latency: %g s must be finite and not negative", ErrInvalid, quote(p.Name), i, b.Latency)
		case !(b.Bandwidth > 0) || math.IsInf(b.Bandwidth, 0):
			return fmt.Errorf("%w: profile %s: bands[%d].bandwidth: %g B/s must be positive and finite", ErrInvalid, quote(p.Name), i, b.Bandwidth)
		}
		prev = b.MaxBytes
	}
	checks := []struct {
		name string
		v    float64
	}{
		{"rendezvousLatency", p.RendezvousLatency},
		{"linkBandwidth", p.LinkBandwidth},
		{"cpuPerByte", p.CPUPerByte},
	}
	for _, c := range checks {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			return fmt.Errorf("%w: profile %s: %s: %g must be finite and not negative", ErrInvalid, quote(p.Name), c.name, c.v)
		}
	}
	if p.EagerLimit < 0 {
		return fmt.Errorf("%w: profile %s: eagerLimit: %d must not be negative", ErrInvalid, quote(p.Name), p.EagerLimit)
	}
	if p.MTU != 0 && p.MTU <= TCPIPHeaderBytes {
		return fmt.Errorf("%w: profile %s: mtu: %d must exceed the %d bytes of TCP/IP headers", ErrInvalid, quote(p.Name), p.MTU, TCPIPHeaderBytes)
	}
	for i, s := range p.Stages {
		if err := s.validate(); err != nil {
			return fmt.Errorf("%w: profile %s: stages[%d] (%s): %v", ErrInvalid, quote(p.Name), i, clipText(s.Name), err)
		}
	}
	if len(p.Stages) > 0 && p.payload() <= 0 {
		return fmt.Errorf("%w: profile %s: stages[0].mtu: packets of %d bytes leave no payload after %d bytes of TCP/IP headers", ErrInvalid, quote(p.Name), p.packetSize(0), TCPIPHeaderBytes)
	}
	return nil
}

func (s *Stage) validate() error {
	for _, c := range []struct {
		name string
		v    float64
	}{{"latency", s.Latency}, {"perPacket", s.PerPacket}, {"perByte", s.PerByte}, {"cpuPerByte", s.CPUPerByte}} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			return fmt.Errorf("%s: %g must be finite and not negative", c.name, c.v)
		}
	}
	if s.HeaderBytes < 0 {
		return fmt.Errorf("headerBytes: %d must not be negative", s.HeaderBytes)
	}
	if s.MTU < 0 || (s.MTU > 0 && s.MTU <= TCPIPHeaderBytes) {
		return fmt.Errorf("mtu: %d must be 0 (inherit) or exceed %d", s.MTU, TCPIPHeaderBytes)
	}
	return nil
}

func (p *Profile) baseMTU() int {
	if p.MTU == 0 {
		return 1500
	}
	return p.MTU
}

// packetSize is the size of the packets stage i handles.
func (p *Profile) packetSize(i int) int {
	w := p.baseMTU()
	for j := 0; j <= i; j++ {
		if j > 0 {
			w += p.Stages[j-1].HeaderBytes
		}
		if p.Stages[j].MTU > 0 {
			w = p.Stages[j].MTU
		}
	}
	return w
}

// payload is the application payload per packet: the first stage's
// packet size (or the base MTU) less the TCP/IP headers.
func (p *Profile) payload() float64 {
	if len(p.Stages) == 0 {
		return float64(p.baseMTU() - TCPIPHeaderBytes)
	}
	return float64(p.packetSize(0) - TCPIPHeaderBytes)
}

// BandOf returns the band a message of n bytes falls in (the zero Band
// if p has none).
func (p *Profile) BandOf(n int64) Band {
	if len(p.Bands) == 0 {
		return Band{}
	}
	for _, b := range p.Bands {
		if b.MaxBytes == 0 || n <= b.MaxBytes {
			return b
		}
	}
	return p.Bands[len(p.Bands)-1]
}

// StageRate is the stream rate stage i sustains, bytes of application
// payload per second (+Inf if it has no serial cost; 0 if there is no
// stage i).
func (p *Profile) StageRate(i int) float64 {
	if i < 0 || i >= len(p.Stages) {
		return 0
	}
	s := p.Stages[i]
	cost := s.PerPacket + float64(p.packetSize(i))*s.PerByte
	if cost == 0 {
		return math.Inf(1)
	}
	return p.payload() / cost
}

// Goodput is the fraction of the base network's payload rate left to
// the application once the stages' encapsulation rides on every
// packet: payload/(payload + 40 + Σ HeaderBytes) over the base
// network's own payload fraction, at most 1.
func (p *Profile) Goodput() float64 {
	hdr := 0
	for _, s := range p.Stages {
		hdr += s.HeaderBytes
	}
	pl := p.payload()
	base := float64(p.baseMTU())
	g := (pl / (pl + TCPIPHeaderBytes + float64(hdr))) / ((base - TCPIPHeaderBytes) / base)
	return math.Min(g, 1)
}

// Bandwidth is the one-stream rate for messages of n bytes through the
// whole path: the band's rate scaled by Goodput, capped by every
// stage's rate.
func (p *Profile) Bandwidth(n int64) float64 {
	bw := p.BandOf(n).Bandwidth * p.Goodput()
	for i := range p.Stages {
		bw = math.Min(bw, p.StageRate(i))
	}
	return bw
}

// Latency is the zero-byte time for a message in n's band: the band's
// intercept, the rendezvous handshake above the eager limit, and every
// stage's latency.
func (p *Profile) Latency(n int64) float64 {
	l := p.BandOf(n).Latency
	if p.EagerLimit > 0 && n > p.EagerLimit {
		l += p.RendezvousLatency
	}
	for _, s := range p.Stages {
		l += s.Latency
	}
	return l
}

// Time is the end-to-end time of one message of n bytes between two
// nodes with nothing else on the path (seconds).
func (p *Profile) Time(n int64) float64 {
	if n <= 0 {
		return p.Latency(0)
	}
	return p.Latency(n) + float64(n)/p.Bandwidth(n)
}

// NodeCPUPerByte is the CPU time (seconds per byte sent or received)
// the path burns on a node outside the application: the base stack's
// and every stage's.
func (p *Profile) NodeCPUPerByte() float64 {
	c := p.CPUPerByte
	for _, s := range p.Stages {
		c += s.CPUPerByte
	}
	return c
}

// With returns a copy of p named name with stages appended (the base
// network's bands are shared, the stage list is not).
func (p *Profile) With(name string, stages ...Stage) *Profile {
	q := *p
	q.Name = name
	q.Stages = append(append([]Stage(nil), p.Stages...), stages...)
	return &q
}
