package planner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// benchSchedule fills a 1024-core planner the way a reserving scheduler
// does: each job (1..256 cores, 100..5099 s; 334,000 core-seconds on
// average) is placed at its earliest start at or after a submit time drawn
// from [0, horizon). With load = offered work / (1024 x horizon) below 1
// the schedule stays near the submit times; above 1 a backlog builds up
// past the horizon. Schedules are cached: b.Run calls its function again
// for every b.N.
func benchSchedule(b *testing.B, spans int, load float64) (*Planner, []PlannedSpan, []SpanID, int64) {
	b.Helper()
	key := benchKey{spans, load}
	c, ok := benchCache[key]
	if !ok {
		c = buildBenchSchedule(b, spans, load)
		benchCache[key] = c
	}
	return c.p.Clone(), slices.Clone(c.jobs), slices.Clone(c.ids), c.horizon
}

type benchKey struct {
	spans int
	load  float64
}

type benchEntry struct {
	p       *Planner
	jobs    []PlannedSpan
	ids     []SpanID
	horizon int64
}

var benchCache = map[benchKey]benchEntry{}

func benchHorizon(spans int, load float64) int64 {
	return int64(float64(spans) * 128.5 * 2599.5 / 1024 / load)
}

func buildBenchSchedule(b *testing.B, spans int, load float64) benchEntry {
	p, err := NewPlanner(0, 1<<40, 1024, "core")
	if err != nil {
		b.Fatal(err)
	}
	horizon := benchHorizon(spans, load)
	rng := rand.New(rand.NewPCG(42, 42))
	jobs := make([]PlannedSpan, 0, spans)
	ids := make([]SpanID, 0, spans)
	for len(jobs) < spans {
		req, dur := 1+rng.Int64N(256), 100+rng.Int64N(5000)
		at, ok := p.EarliestStart(rng.Int64N(horizon), dur, req)
		if !ok {
			b.Fatal("no start found")
		}
		id, err := p.AddSpan(at, dur, req)
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, PlannedSpan{Start: at, Duration: dur, Request: req})
		ids = append(ids, id)
	}
	return benchEntry{p, jobs, ids, horizon}
}

type benchQuery struct{ at, dur, req int64 }

// benchQueries draws jobs like the schedule's, with requests up to 512
// cores, submitted in [0, horizon).
func benchQueries(n int, horizon int64) []benchQuery {
	rng := rand.New(rand.NewPCG(9, 9))
	q := make([]benchQuery, n)
	for i := range q {
		q[i] = benchQuery{rng.Int64N(horizon), 100 + rng.Int64N(5000), 1 + rng.Int64N(512)}
	}
	return q
}

var benchSizes = []int{1_000, 10_000, 100_000}

// BenchmarkPlannerAvailTimeFirst: one AvailTimeFirst (earliest point for a
// random request from a random time) per op. At load 0.7 the schedule stays
// near the submit times (answers a few rounds away); at load 3 the system
// is saturated, with a backlog about twice the submit horizon, and a query
// from a random time passes over many free stretches too short for it
// before the backlog ends (about 300 rounds per query at 10,000 spans).
func BenchmarkPlannerAvailTimeFirst(b *testing.B) {
	for _, c := range []struct {
		load  float64
		spans int
	}{{0.7, 1_000}, {0.7, 10_000}, {0.7, 100_000}, {3, 1_000}, {3, 10_000}} {
		b.Run(fmt.Sprintf("load=%g/spans=%d", c.load, c.spans), func(b *testing.B) {
			p, _, _, horizon := benchSchedule(b, c.spans, c.load)
			qs := benchQueries(1024, horizon)
			b.ReportAllocs()
			b.ResetTimer()
			var dist int64
			for i := 0; b.Loop(); i++ {
				q := qs[i&1023]
				t, ok := p.AvailTimeFirst(q.at, q.dur, q.req)
				if !ok {
					b.Fatal("no time found")
				}
				dist += t - q.at
			}
			b.ReportMetric(float64(p.PointCount()), "points")
			b.ReportMetric(float64(dist)/float64(b.N), "wait/op")
		})
	}
}

// BenchmarkPlannerAvailTimeNext: AvailTimeFirst then 15 AvailTimeNext
// calls per op (the reservation loop of dfu_traverser_t::schedule when the
// first candidates fail the full match).
func BenchmarkPlannerAvailTimeNext(b *testing.B) {
	p, _, _, horizon := benchSchedule(b, 10_000, 0.7)
	qs := benchQueries(1024, horizon)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i&1023]
		_, ok := p.AvailTimeFirst(q.at, q.dur, q.req)
		for j := 0; ok && j < 15; j++ {
			_, ok = p.AvailTimeNext()
		}
	}
}

// BenchmarkPlannerAddRemSpan: one RemSpan of a random planned job and one
// AddSpan putting it back (a cancel and a re-reservation) per op.
func BenchmarkPlannerAddRemSpan(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			p, jobs, ids, _ := benchSchedule(b, n, 0.7)
			rng := rand.New(rand.NewPCG(5, 5))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				k := rng.IntN(len(jobs))
				if err := p.RemSpan(ids[k]); err != nil {
					b.Fatal(err)
				}
				j := jobs[k]
				id, err := p.AddSpan(j.Start, j.Duration, j.Request)
				if err != nil {
					b.Fatal(err)
				}
				ids[k] = id
			}
		})
	}
}

// BenchmarkPlannerAvailDuring: one window minimum per op.
func BenchmarkPlannerAvailDuring(b *testing.B) {
	p, _, _, horizon := benchSchedule(b, 10_000, 0.7)
	qs := benchQueries(1024, horizon)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i&1023]
		if p.AvailDuring(q.at, q.dur) < 0 {
			b.Fatal("invalid window")
		}
	}
}

// BenchmarkPlannerMultiAvailTimeFirst: the root prune filter
// (core, node) of a 64-node x 16-core cluster with 10,000 spans placed at
// load 0.7; one AvailTimeFirst per op. A query after the last scheduled
// point has no candidate (ENOENT, flux-sched semantics) and is cheap.
func BenchmarkPlannerMultiAvailTimeFirst(b *testing.B) {
	m, err := NewPlannerMulti(0, 1<<40, []int64{1024, 64}, []string{"core", "node"})
	if err != nil {
		b.Fatal(err)
	}
	// 8.5 nodes x 2599.5 s on average over 64 nodes.
	const spans = 10_000
	load := 0.7
	horizon := int64(spans * 8.5 * 2599.5 / 64 / load)
	rng := rand.New(rand.NewPCG(1, 2))
	for range spans {
		nodes, dur := 1+rng.Int64N(16), 100+rng.Int64N(5000)
		req := []int64{nodes * 16, nodes}
		at, ok := m.AvailTimeFirst(rng.Int64N(horizon), dur, req)
		if !ok {
			at, ok = m.Planner(0).EarliestStart(0, dur, req[0])
		}
		if !ok {
			b.Fatal("no start")
		}
		if _, err := m.AddSpan(at, dur, req); err != nil {
			continue // the earliest core time may lack nodes; skip the job
		}
	}
	qs := benchQueries(1024, horizon)
	req := make([]int64, 2)
	b.ReportAllocs()
	b.ResetTimer()
	found := 0
	for i := 0; b.Loop(); i++ {
		q := qs[i&1023]
		nodes := 1 + q.req%32
		req[0], req[1] = nodes*16, nodes
		if _, ok := m.AvailTimeFirst(q.at, q.dur, req); ok {
			found++
		}
	}
	b.ReportMetric(float64(m.SpanCount()), "spans")
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}
