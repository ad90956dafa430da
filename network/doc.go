// Package network prices communication: what moving bytes between the
// ranks of a job costs on a given placement, in a given runtime.
//
// A Profile is a point-to-point transport fitted to measurements
// (iperf3, OSU): latency and bandwidth by message-size band, with the
// eager and rendezvous regimes as SimGrid's SMPI models them, plus the
// Stages a runtime puts on every packet's path (a VXLAN overlay,
// slirp4netns in user space) with their own latency, per-packet and
// per-byte costs. A runtime's slowdown is therefore computed from
// mechanisms — extra latency per message, a stage that caps the stream
// rate, encapsulation overhead, CPU burnt outside the application —
// never typed in as a ratio.
//
// # Collectives on a placement
//
// A Fabric joins an inter-node Profile, an intra-node (shared memory)
// Profile (DefaultIntra if nil), a Topology and a reduction rate. Its
// collectives (Allreduce, Bcast, Barrier, Alltoall, Allgather,
// HaloExchange) price one call on a Placement — the ranks on each node,
// numbered node by node — by following the algorithm's exchanges round
// by round, with the partners each rank really has (ring neighbour,
// rank XOR 2^k with the non-power-of-two fix-up, binomial tree levels,
// r+2^k for dissemination and Bruck, grid neighbours for halos). A
// round costs its slowest message: Intra between ranks of one node,
// Inter otherwise, where a node's concurrent inter-node messages share
// its link (LinkBandwidth, or the last band's Bandwidth, times
// Goodput) — k messages leaving or entering a node get at most link/k
// each — and on a two-level tree the messages leaving or entering a
// leaf share its uplink (node i is on leaf i/NodesPerLeaf unless
// Placement.Leaves says where the scheduler put it). Rounds that
// reduce add bytes/ReduceRate.
// Cost also reports the rounds and the bytes a rank moves over the
// network and in shared memory.
//
// Pricing is exact for the model (tests compare it with pricing every
// message on its own) and fast: a round is counted per node with
// interval arithmetic in O(1), uniform placements visit one period of
// nodes, and rounds whose partners are farther apart than a node holds
// ranks are O(1). AlgAuto picks the algorithm as MPICH's defaults do
// (selection.go has the thresholds and their sources).
//
// # Flows
//
// Flows shares link capacities among concurrent bulk transfers with
// max-min fairness (progressive filling, SimGrid's LMM with equal
// weights), re-sharing only the component a change touches; Advance
// and NextCompletion let an event loop drive it. FlowNetwork lays out
// a cluster's node and leaf links in a Flows.
package network
