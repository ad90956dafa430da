// Package kube models the default kube-scheduler (default profile) as an
// engine.Policy, following the reference "kube-and-fluxion-semantics" §1.
//
// # Queue
//
// Pods wait in three places, as in upstream's PriorityQueue. activeQ is
// ordered by PrioritySort: higher priority first, then the earlier queue
// timestamp (the creation time, reset to the end of the failed cycle on
// every requeue). A pod that fits nowhere goes to unschedulablePods with
// the filter plugins that rejected it. A cluster event moves the pods it
// may help out again, as upstream's QueueingHints decide
// (queueing_hints.go): the deletion of a bound pod helps the pods
// NodeResourcesFit rejected; a node added or changed helps a pod if the
// hint of one of its rejecting plugins says so (the pod now fits the
// node's allocatable and a resource it requests grew; the cordon was
// lifted; its taints are now tolerated; it now matches the pod's node
// affinity). Moved pods go to backoffQ while their backoff
// (initial·2^(attempts−1), capped, by default 1 s … 10 s) runs, else to
// activeQ. backoffQ is flushed to activeQ on a 1-s tick, and pods that
// stayed in unschedulablePods longer than 5 min are flushed on a 30-s tick.
// The ticks are on a fixed grid of simulated time (multiples of 1 s and
// 30 s). The 1-s timer runs only while backoffQ holds a pod; the 30-s timer
// is set straight for the tick at which the oldest unschedulable pod is due
// (the ticks in between would find nothing). An idle scheduler sets no
// timers.
//
// # Cycle
//
// One pod at a time. At time t the scheduler pops the head of activeQ and
// runs the whole cycle on the cluster as it is at t:
//
//   - Filter, in upstream order: NodeUnschedulable, TaintToleration
//     (NoSchedule/NoExecute taints must be tolerated), NodeAffinity
//     (nodeSelector and required terms; In, NotIn, Exists, DoesNotExist,
//     Gt, Lt), NodeResourcesFit (real requests: cpu, memory, GPUs, pod
//     slots). Nodes are visited from a rotating start index and the search
//     stops after numFeasibleNodesToFind feasible nodes (all nodes below
//     100; else 50 − n/125 percent, at least 5 % and 100 nodes, or the
//     configured percentageOfNodesToScore). The start index then advances by
//     the number of nodes visited.
//   - No feasible node: an Unschedulable decision with upstream's message
//     ("0/5 nodes are available: 2 node(s) had untolerated taint {k: v},
//     3 Insufficient cpu." — the "count reason" entries sorted as strings).
//   - One feasible node: chosen without scoring.
//   - Otherwise Score, NormalizeScore and weights, with upstream's integer
//     arithmetic: TaintToleration (PreferNoSchedule, reverse-normalized, ×3),
//     NodeAffinity (preferred terms, normalized, ×2), NodeResourcesFit
//     (LeastAllocated, MostAllocated or RequestedToCapacityRatio on non-zero
//     requests, ×1), PodTopologySpread (system default constraints, only for
//     pods a Service/ReplicaSet selects, ×2), BalancedAllocation (real
//     requests, cpu and memory, skipped for best-effort pods, ×1) and
//     ImageLocality (×1). The node is drawn uniformly among those with the
//     highest total, from the policy's own random stream "kube.tiebreak".
//     Upstream draws by reservoir sampling (one draw per tied node); the
//     model counts the tied nodes and draws one index, which has the same
//     distribution with one draw per cycle.
//
// The cycle lasts cycleSeconds + perNodeSeconds × (nodes evaluated) of
// simulated time. Decisions can only be made at the time Decide is called,
// so the model decides at the start of the cycle and sets a timer for its
// end, when the next cycle may start. The pod is assumed on its node at the
// start (the engine holds its resources from then, so the next cycle sees
// them) and its bind API call leaves at the end of the cycle, throttled by
// the client's token bucket (clientQPS 50, burst 100): the Bind decision's
// Delay is the cycle time plus the limiter's wait. A failed pod's queue
// timestamp and backoff start at the end of its cycle.
//
// # Simplifications
//
//   - No preemption (DefaultPreemption's PostFilter), so no nominated
//     nodes; the FailedScheduling message has no "preemption:" part.
//   - No inter-pod affinity or anti-affinity, no volumes (VolumeBinding,
//     VolumeZone, volume limits), no NodePorts, no scheduling gates, no
//     DoNotSchedule topology spread constraints of the pod's own, no
//     extenders; Permit and binding have no failure paths.
//   - Queueing hints look at the changed node, not at which nodes rejected
//     the pod, as upstream's do: any deletion of a bound pod re-queues
//     every pod NodeResourcesFit rejected. Several changes of one node in
//     one instant are judged as one change.
//   - A backoff that ends exactly at a flush tick or an event counts as
//     over (upstream: still backing off until the next tick). Exact ties
//     need cycles of zero cost; with the default cost they do not happen.
//   - PodTopologySpread's selector (derived upstream from the Service or
//     ReplicaSet selecting the pod) is "pods of the same Job".
//   - Filters are evaluated sequentially, in the rotation order. Upstream
//     runs them on 16 goroutines and stops when k feasible nodes are found;
//     every filter is a pure function of (pod, node snapshot), so each node
//     gets the same verdict either way, and the scores of a node do not
//     depend on which other nodes were found except through the
//     normalization over the feasible set. The only difference is which k
//     feasible nodes are found (upstream's set depends on goroutine timing,
//     ours is the first k of the rotation, one of the sets upstream can
//     find) and hence how far the start index advances.
//   - The ImageLocality thresholds (23 MiB, 1000 MiB per container) are from
//     the reference, which quotes them from memory (unverified).
//   - The cycle cost parameters are order-of-magnitude figures, not a
//     calibration.
//
// # Performance
//
// A cycle allocates nothing in steady state: the per-template data (node
// affinity, tolerations, images, requests) is compiled once, scratch slices
// are kept by the Scheduler, and queue records are recycled. Five exact
// shortcuts keep a cycle at a few microseconds on thousands of nodes:
//
//   - The filter reads a compact 80-byte copy of each node's allocatable and
//     requested resources, in a slice indexed like Cluster.Nodes, instead of
//     chasing a pointer per node. The copy is updated from the Bind
//     decisions and the PodDeleted and NodeChanged events, and checked
//     against the engine's node before every Bind; a mismatch (a change no
//     event reported) reloads it and reruns the cycle (Stats.CacheReloads).
//   - For LeastAllocated/MostAllocated on cpu and memory, NodeResourcesFit
//     and BalancedAllocation are computed in one pass with the divisions by
//     allocatable replaced by a multiplication and an exact integer
//     correction; BalancedAllocation keeps upstream's float64 divisions.
//     fast_test.go checks these against the generic scorers, which follow
//     upstream's code structure and serve every other configuration.
//   - Those two scores depend only on the node's and the pod's requests, so
//     each node remembers its last score for the pods of one template; any
//     change of the node's requests clears it.
//   - A failed cycle's diagnosis (upstream framework.Diagnosis) is a code
//     per node (the rejecting plugin and its detail, taint reasons
//     interned) and counts per reason, from which the message is built
//     once; no string is hashed. The diagnosis of a template whose pod
//     failed is remembered (at most 4–64 templates, 4 Mi node verdicts in
//     all, least recently used out). Every change of a node's filter
//     inputs (a bind, a deletion, a NodeChanged) is logged, so the next
//     pod of that template re-filters only the nodes changed since; if
//     still none passes, the cycle fails with the same message and
//     plugins without a scan (Stats.KnownFailures), and leaves the start
//     index where a full failed cycle leaves it. Its simulated cost is
//     still that of every node evaluated. Pods whose requests are not
//     their template's take the full path. A diagnosis is rebuilt from
//     the engine's nodes when the log no longer reaches back to it, so an
//     unreported node change (see CacheReloads) is caught there or at the
//     next bind on that node rather than at the next failed cycle.
//   - ImageLocality reads image names interned to ids per template, and
//     remembers per node the images seen there (the engine only ever adds
//     images to a node); while the engine's count of holders equals the
//     nodes seen, scoring asks the engine nothing (image_locality.go).
package kube
