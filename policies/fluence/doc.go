// Package fluence models Fluence (flux-framework/flux-k8s): Fluxion
// placing each pod group at once, as a kube-scheduler plugin talking to
// a sidecar that holds Fluxion's resource graph. It runs inside the
// kube-scheduler model (policies/kube) through the scheduling
// framework's extension points, and asks a Fluxion backend
// (policies/fluxion: the pure-Go matcher, or flux-sched's libreapi_cli
// with -tags fluxion) for each group's match.
//
// # Faithful behaviour (the default)
//
// What the plugin and sidecar do, from flux-k8s
// sig-scheduler-plugins/pkg/fluence/{fluence.go,core/core.go,core/flux.go,
// podspec/podspec.go,group/group.go} and
// src/fluence/{fluxion/fluxion.go,jobspec/jobspec.go,utils/utils.go}:
//
//   - The resource graph is built once, when the scheduler first runs,
//     from the nodes' free resources (utils.CreateInClusterJGF): cluster
//     k8scluster0, a subnet per distinct zone, then nodes with whole free
//     cores (floor of free millicores / 1000), memory in 1 GiB pools of
//     size 1024 MB, and GPUs; no socket level; control-plane, cordoned
//     and skip-labelled nodes are left out but use up their index. It is
//     never updated: pods of another scheduler, and node changes, are
//     invisible to it.
//   - Every job is a pod group (the webhook: a Job's group size is its
//     parallelism, a lone pod is a group of 1; a PodGroup from the
//     scenario gives minMember and the Permit timeout).
//   - The queue sorts by priority, then the group's scheduleStartTime (a
//     MicroTime: microseconds) set when the job arrives, then pod name.
//   - PreFilter: a pod that has a node goes there (PreFilterResult
//     NodeNames); a group with fewer than minMember pods is rejected;
//     otherwise, unless the group is already permitted (300 s), the
//     group's stale allocation is cancelled and one MATCH_ALLOCATE of
//     minMember slots, each shaped like the group's first pod (cores:
//     each container's cpu request rounded up, 0 → 1; memory >> 20 MB;
//     GPUs), version 9999, duration 3600, is asked with the configured
//     match policy (lonode, as the Helm chart). The pods, in lister
//     order (modelled as creation order; client-go's indexer returns a
//     map's order), get the allocation's distinct nodes in R order. When
//     the node count differs from the pod count (slots sharing a node)
//     the allocation is cancelled at once, yet the pods that got a node
//     keep it and the others get none: they stay pending, and each of
//     their attempts rejects the waiting siblings. The lister also holds
//     the group's finished pods, so a Job whose completions exceed its
//     parallelism never places its second wave.
//   - Filter is kube-scheduler's NodeResourcesFit on the one node named
//     (the Helm profile keeps it), so a pod whose node is full waits; a
//     cordoned node, or one tainted NoSchedule, is not refused.
//   - Permit as Coscheduling's, with Fluence's hard-coded 300 s timeout;
//     PostFilter and Unreserve reject the waiting siblings and drop the
//     permit but leave the Fluxion allocation; the group's next ask
//     cancels it.
//   - The allocation is cancelled when the group's first pod finishes
//     (the informer's UpdatePod on Succeeded/Failed, DeletePod): Fluxion
//     then offers the nodes again while siblings still run there.
//
// The engine runs without AllowOvercommit: when Fluxion over-commits
// relative to what runs, kube-scheduler's NodeResourcesFit (which the
// Helm profile keeps, values.yaml: "NodeResourcesFit is required or
// you'll get mismatches") refuses the pod on its node, and the kubelet
// would refuse it too (OutOfcpu/OutOfmemory admission); the pod waits
// until the node has room.
//
// # Corrected options (policy.fluence)
//
//   - release: last-pod — release when the last member holding a node
//     finishes;
//   - assign: by-slot — each node of R gets as many pods as it holds
//     slots, so groups whose slots share a node are placed (the lister
//     still counts finished pods: a Job's second wave stays stuck);
//   - graph: live — the graph follows the cluster: what pods outside
//     Fluence's live allocations use (another scheduler's, a released
//     group's) is marked down vertex by vertex, cordoned nodes whole;
//   - policy — Fluxion's match policy; backend — go or reapi.
//
// KubeWorkloads runs the default kube-scheduler beside Fluence for the
// named workloads (what the README warns against), to show what the
// static graph does not see.
//
// # Where the model differs
//
// The Helm profile disables every in-tree filter but NodeResourcesFit;
// the model skips NodeUnschedulable and TaintToleration on the node
// Fluence names (kube.FilterProfilePlugin) and keeps NodeAffinity and
// NoExecute taints, which the kubelet checks at admission (a pod the
// kubelet would reject stays pending instead of failing). The jobspec's
// zone variant (a pod label whose key
// contains "jobspec" with value "zone") is not modelled: scenario pods
// carry no labels. The sidecar's matching time is not simulated time.
package fluence
