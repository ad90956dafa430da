// Package fluxion is a pure-Go model of Fluxion, the graph-based matcher of
// flux-sched, used by the Fluence and Flux policies: the resource graph
// (typed vertices in a containment tree, read and written as JGF, or
// generated from a scenario's cluster), jobspecs (RFC 14/25, and the loose
// shapes Fluence sends), the planner that tracks each vertex's availability
// over time, and the Matcher: the match ops (allocate, allocate with
// satisfiability, allocate or else reserve, satisfiability, without
// allocating), cancel and info, the low/high/lonode/hinode/*nodex/first
// policies, and R (RFC 20) output.
//
// This package is being built in increments (issue 3): the locality and
// variation policies, partial cancel and update_allocate, JGF match output,
// the cgo backend over flux-sched's libreapi_cli and `sim fluxion` come
// next. See ../../docs/architecture.md.
package fluxion
