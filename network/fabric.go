package network

import (
	"fmt"
	"math"
)

// Fabric prices communication between the ranks of a job: Inter
// between nodes, Intra within a node (shared memory; nil means
// DefaultIntra), over Topology (nil means one switch). A node's
// concurrent inter-node messages share its Inter link; concurrent
// shared-memory copies share nothing unless Intra.LinkBandwidth is set
// (then it caps their sum on a node). Pricing only reads the Fabric:
// one may serve many goroutines as long as nobody changes it.
type Fabric struct {
	Inter    *Profile  `yaml:"inter" json:"inter"`
	Intra    *Profile  `yaml:"intra" json:"intra"`
	Topology *Topology `yaml:"topology" json:"topology"`
	// ReduceRate is how fast a rank combines received data with its own
	// in a reduction (bytes of input per second; γ = 1/ReduceRate in the
	// Thakur–Rabenseifner–Gropp cost model); 0 means DefaultReduceRate.
	ReduceRate float64 `yaml:"reduceRate" json:"reduceRate"`
}

// DefaultReduceRate is the reduction rate used when Fabric.ReduceRate
// is 0: 5 GB/s. An element-wise sum of two double vectors streams two
// inputs and one output; one core of a current x86 server sustains
// 15–20 GB/s of such traffic from cache or memory, so about 5 GB/s of
// reduced input. An assumption, not a measurement: fit it from OSU
// osu_allreduce against osu_bw if it matters.
const DefaultReduceRate = 5e9

// DefaultIntra is a shared-memory transport between two ranks of one
// node. The figures are typical of OSU osu_latency and osu_bw between
// two cores of one socket on recent x86 servers with Open MPI (UCX or
// vader/sm) or MPICH (CH4 shm): about 0.3 µs for small messages copied
// through a shared buffer (copy in, copy out, ~4 GB/s), and a
// single-copy rendezvous (CMA/XPMEM/KNEM) above 8 KiB reaching
// ~10 GB/s at about 1.5 µs extra set-up. They are not a measurement of
// any machine here; fit a Profile to your own OSU runs (make
// measure-intra; scenarios/profiles/local-shm-cma.yaml and
// local-shm-nocma.yaml are this project's own, with and without
// single-copy). Intra-node copies are not capped by a shared node rate
// (LinkBandwidth 0 means uncapped for Intra, unlike Inter).
func DefaultIntra() *Profile {
	return &Profile{
		Name: "shm",
		Bands: []Band{
			{MaxBytes: 8 << 10, Latency: 0.3e-6, Bandwidth: 4e9},
			{MaxBytes: 0, Latency: 1.5e-6, Bandwidth: 10e9},
		},
	}
}

var defaultIntra = DefaultIntra()

func (f *Fabric) intra() *Profile {
	if f.Intra == nil {
		return defaultIntra
	}
	return f.Intra
}

func (f *Fabric) reduceRate() float64 {
	if f.ReduceRate == 0 {
		return DefaultReduceRate
	}
	return f.ReduceRate
}

// Validate reports the first impossible parameter, naming the field.
func (f *Fabric) Validate() error {
	if f == nil {
		return fmt.Errorf("%w: fabric: missing", ErrInvalid)
	}
	if f.Inter == nil {
		return fmt.Errorf("%w: fabric: inter: missing (the inter-node profile is required)", ErrInvalid)
	}
	if err := f.Inter.Validate(); err != nil {
		return fmt.Errorf("fabric: inter: %w", err)
	}
	if f.Intra != nil {
		if err := f.Intra.Validate(); err != nil {
			return fmt.Errorf("fabric: intra: %w", err)
		}
	}
	if err := f.Topology.Validate(); err != nil {
		return fmt.Errorf("fabric: %w", err)
	}
	if !(f.ReduceRate >= 0) || math.IsInf(f.ReduceRate, 0) {
		return fmt.Errorf("%w: fabric: reduceRate: %g B/s must be finite and not negative (0: default)", ErrInvalid, f.ReduceRate)
	}
	return nil
}

// PointToPoint is the time of one message of bytes bytes between two
// ranks with nothing else on the path: Intra if they share a node,
// Inter otherwise. It is +Inf if the profile needed is missing.
func (f *Fabric) PointToPoint(sameNode bool, bytes int64) float64 {
	if f == nil {
		return math.Inf(1)
	}
	if sameNode {
		return f.intra().Time(bytes)
	}
	if f.Inter == nil || len(f.Inter.Bands) == 0 {
		return math.Inf(1)
	}
	return f.Inter.Time(bytes)
}

// linkRate is a node's payload capacity on p: its line rate
// (LinkBandwidth, or the last band's Bandwidth) times Goodput, capped
// by the slowest stage: a stage's serial cost is paid by one process
// or queue per node (one slirp4netns per rootless namespace) that every
// flow of the node goes through, so it caps the node's aggregate, not
// only each stream (iperf3 -P 4 through slirp4netns gets no more than
// one stream).
func linkRate(p *Profile) float64 {
	l := p.LinkBandwidth
	if l == 0 {
		l = p.Bands[len(p.Bands)-1].Bandwidth
	}
	l *= p.Goodput()
	for i := range p.Stages {
		l = math.Min(l, p.StageRate(i))
	}
	return l
}
