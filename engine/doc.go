// Package engine is the discrete-event core of converge: the simulated clock
// and event calendar, named seeded random streams, the cluster and its nodes,
// jobs and pods with their lifecycle timestamps, the Kubernetes Job
// controller, the node agent (kubelet) start-up model, and the invariant
// checks that make a broken run fail loudly.
//
// A Policy is told what happened (pod created, pod bound, pod deleted, node
// changed, timer fired) and answers with Decisions (bind pod P to node N,
// set a timer, record a scheduling failure). The engine applies decisions
// and checks them; a policy reads cluster state but never changes it.
//
// Time is float64 seconds of simulated time. Resources are integers
// (millicores, bytes, GPUs, pod slots).
package engine
