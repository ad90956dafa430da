package engine

import (
	"hash/fnv"
	"math/rand/v2"
)

// Streams hands out independent random streams by name, all derived from one
// seed. Asking for a new name never shifts the draws of existing streams.
type Streams struct {
	seed    uint64
	streams map[string]*rand.Rand
}

// NewStreams returns the stream set of a seed.
func NewStreams(seed uint64) *Streams {
	return &Streams{seed: seed, streams: map[string]*rand.Rand{}}
}

// Get returns the stream with the given name, creating it on first use.
// The stream is PCG seeded with (seed, FNV-1a(name)).
func (s *Streams) Get(name string) *rand.Rand {
	if r, ok := s.streams[name]; ok {
		return r
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(s.seed, h.Sum64()))
	s.streams[name] = r
	return r
}

// Seed returns the seed the streams derive from.
func (s *Streams) Seed() uint64 { return s.seed }
