// Package coscheduling models scheduler-plugins' Coscheduling plugin
// (kubernetes-sigs/scheduler-plugins, release v0.34.7: the plugin in
// pkg/coscheduling/coscheduling.go, its PodGroupManager in
// pkg/coscheduling/core/core.go, the args in apis/config/types.go and
// apis/config/v1/defaults.go) running inside the kube-scheduler model
// (policies/kube) through its out-of-tree extension points.
//
// A job with an engine.PodGroup (the scheduling.x-k8s.io/v1alpha1
// PodGroup its pods carry the label of) is scheduled as a gang; a job
// without one is scheduled pod by pod, exactly as kube-scheduler does.
//
//   - QueueSort: higher priority first; then the earlier PodGroup
//     creationTimestamp (the job's submit time, in whole seconds as the
//     API server stores it) or, for a pod without a group, its
//     InitialAttemptTimestamp; then namespace/name as strings, so
//     "job-10" sorts before "job-2". Since the head-of-line-blocking fix
//     of v0.34.7 (GetCreationTimestamp, lastFailedSchedulePG), a group
//     whose scheduling failed recently sorts at the time of that failure
//     instead, until one of its pods passes Permit.
//   - PreFilter rejects a pod (UnschedulableAndUnresolvable) when its
//     group is backed off, when fewer than minMember of its pods exist
//     (kube-scheduler's pod informer holds non-terminated pods only, so a
//     finished pod no longer counts), or when minResources is set and the
//     cluster's free resources, the group's own pods not counted, fall
//     short of minResources plus minMember pod slots (CheckClusterResource,
//     node by node). A group that passes the resource check is remembered
//     (permittedPG) for permitWaitingTimeSeconds (3 s when that is 0: the
//     cache's default expiration).
//   - Permit counts the group's assigned pods (assumed or bound, from the
//     PodGroupManager's set, which Permit adds to and Unreserve and pod
//     deletions remove from). Enough of them: Success, and every waiting
//     sibling is allowed. Otherwise the pod waits, holding its node, for
//     the group's scheduleTimeoutSeconds, else permitWaitingTimeSeconds,
//     else 60 s; the group's first waiting pod moves its siblings to
//     activeQ.
//   - Unreserve (a waiting pod rejected or timed out, or a Permit
//     rejection) forgets the pod's assignment, rejects every waiting
//     sibling, drops the permitted entry and marks the group failed.
//   - PostFilter (a pod of the group found no node, or PreFilter rejected
//     it): nothing if minMember pods are already assigned, nothing if
//     the unassigned share is at most podGroupRejectPercentage (10 %);
//     else it rejects the waiting siblings, backs the group off for
//     podGroupBackoffSeconds (when set and minMember pods exist), drops
//     the permitted entry and marks the group failed.
//
// Not modelled: scheduling gates (no pod has any), a PodGroup object
// missing for a labelled pod (every group here exists), the PodGroup
// status controller (only its effect on requeueing, see
// policies/kube), and DefaultPreemption, which the kube model does not
// have.
package coscheduling
