// Package fluxion is a pure-Go model of Fluxion, the graph-based matcher of
// flux-sched, used by the Fluence and Flux policies: the resource graph
// (typed vertices in a containment tree, read and written as JGF, or
// generated from a scenario's cluster), jobspecs (RFC 14/25, and the loose
// shapes Fluence sends), and the planner that tracks each vertex's
// availability over time.
//
// This package is being built in increments (issue 3); the matcher (match
// ops and policies), R output and the cgo backend come next. See
// ../../docs/architecture.md.
package fluxion
