// Package fluxion is a pure-Go model of Fluxion, the graph-based matcher
// of flux-sched, used by the Fluence and Flux policies and by `sim
// fluxion`. It is split by job into subpackages, each importing only
// those below it:
//
//   - planner: the planners that track each vertex's availability over
//     time (Planner, PlannerMulti);
//   - jobspec: jobspecs (RFC 14/25, and the loose shapes Fluence sends);
//   - graph: the resource graph (typed vertices in a containment tree),
//     read and written as JGF, or generated from a scenario's cluster;
//   - match: the Matcher, its match ops, policies and R output, and where
//     the model is known to differ from Fluxion.
//
// This package holds the one public Backend interface, which puts the
// model (NewGoBackend, OpenBackend "go") and, with -tags fluxion,
// flux-sched's own libreapi_cli (OpenBackend "reapi") behind one API, and
// SummarizeR. `sim fluxion` (cmd/sim/internal/rqshell) is a
// resource-query look-alike over the matcher. See
// ../../docs/fluxion-reapi.md and ../../docs/architecture.md.
package fluxion
