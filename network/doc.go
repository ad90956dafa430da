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
package network
