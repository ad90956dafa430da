// Package fluxion is a pure-Go model of Fluxion, the graph-based matcher of
// flux-sched, used by the Fluence and Flux policies: the resource graph
// (typed vertices in a containment tree, read and written as JGF, or
// generated from a scenario's cluster), jobspecs (RFC 14/25, and the loose
// shapes Fluence sends), the planner that tracks each vertex's availability
// over time, and the Matcher: the match ops (allocate, allocate with
// satisfiability, allocate or else reserve, satisfiability, without
// allocating), cancel and info, the low/high/lonode/hinode/*nodex/first
// policies, R output in Fluxion's match formats (rv1_nosched, rv1 with the
// scheduling JGF, jgf; MatcherOptions.MatchFormat), update_allocate
// (Matcher.UpdateAllocate: re-install a known allocation from its R) and
// partial cancel (Matcher.PartialCancel: release whole ranks or named
// vertices of an allocation).
//
// Backend puts the model and, with -tags fluxion, flux-sched's own
// libreapi_cli behind one API; Shell is `sim fluxion`, a resource-query
// look-alike. See ../../docs/fluxion-reapi.md and ../../docs/architecture.md.
package fluxion
