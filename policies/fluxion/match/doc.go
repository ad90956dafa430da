// Package match is the Matcher of the Fluxion model: the match ops
// (allocate, allocate with satisfiability, allocate or else reserve,
// satisfiability, without allocating), cancel and info, the policies
// (low, high, lonode, hinode, *nodex, first, locality, variation), the
// traversal that ranks candidates as Fluxion does, R output in Fluxion's
// match formats (rv1_nosched, rv1 with the scheduling JGF, jgf;
// MatcherOptions.MatchFormat), update_allocate (Matcher.UpdateAllocate:
// re-install a known allocation from its R) and partial cancel
// (Matcher.PartialCancel: release whole ranks or named vertices of an
// allocation), and the errors callers tell apart (ErrBusy, ErrInvalid,
// ErrUnsatisfiable, ErrNoJob, ...). It matches jobspecs of package
// jobspec on graphs of package graph, whose availability over time it
// tracks with package planner.
//
// # Match policies
//
// Every policy is modelled by the order in which it ranks the feasible
// candidates of one request (traverse.go); feasibility does not depend on
// the policy, except that *nodex take nodes whole.
//
//   - low/high (lonode/hinode, *nodex): ascending/descending id, with
//     node_centric the node's id first.
//   - first: first fit in by_outedges order, each level stopping once
//     its requests are met, as explore_dynamically does (see traverse.go).
//   - locality (greater_interval_first_t): a vertex scores its id, a slot
//     the sum of its members' id+2. At the top level of the jobspec the
//     candidates' scores are joined into runs of contiguous values and the
//     run with the highest start ranks first — the run holding the highest
//     free id, not the longest run; candidates of one run tie. Below the
//     top level it is high: highest id first.
//   - variation (var_aware_t): a vertex scores its own
//     properties.perf_class (std::stoi, and 9999 when missing, malformed,
//     negative or above 9999), a slot the sum of its members' class+1; the
//     lowest score ranks first at every level, with no grouping by class
//     (a job spills into the next class). Because a slot scores its
//     members only, the nodes' classes play no part when the jobspec has
//     slots at the top (no node level).
//   - Slot members (dom_finish_slot) are taken in descending id for
//     high and locality, descending class for variation, ascending id for
//     low.
//
// # Where the model is known to differ
//
// Fluxion ranks candidates with std::sort (choose_best_k in
// resource/evaluators/edge_eval_api.hpp), which is not stable, under
// every policy: first too, which is high with node_centric and
// stop_on_1_matches (dfu_match_policy_factory.cpp) and so ranks what
// its traversal collected before it stopped, highest node first. The
// model sorts as libstdc++'s std::sort does (stdsort.go), ties included:
// of 20 tied candidates under locality it takes the 11th in discovery
// order first, as flux-sched's resource-query does. flux-sched built
// with another C++ library (libc++) would order ties differently.
//
// A match whose picks hold nothing exclusively (no slot, or node>slot
// whose slots land on the node's sockets, which Fluxion's update never
// reaches) fails with ErrNoUpdate, as Fluxion's update does; the errno
// the cli reports with it is incidental (EBUSY if its traversal met a
// busy or mismatching vertex, else none) and the model predicts it from
// its own search, which visits what Fluxion's does (under first, up to
// where explore_dynamically stops). Satisfiability is checked after every job
// has ended (Fluxion's pass runs near INT64_MAX, its planners' end), and
// reservations must end within the window, where Fluxion may clip one
// at graph_end. R lists what Fluxion's update emits: a node or socket
// held whole inside a slot lists only its matched children, and, as in
// Fluxion, only those count in the ancestors' aggregates (and so in
// first's edge weights); the rest of its subtree is booked but not
// counted.
package match
