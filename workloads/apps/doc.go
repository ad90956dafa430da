// Package apps models how long an application runs on a placement:
// compute that depends on the ranks, the ranks per node (memory
// bandwidth) and the CPU the runtime leaves them, plus communication
// priced by package network on the same placement and transport. The
// same job placed differently runs differently; nothing is a typed-in
// slowdown ratio.
//
// Every model takes an Env (fabric, placement, node shape, CPU quota,
// pods per node, background load) and returns a Result: the run time
// and its phases. Parameters come from scenarios/apps/<app>.yaml
// (kind AppModel), fitted to measurements by scenarios/calibrate with
// their provenance.
//
// # Common pieces
//
// Notation: r ranks on the busiest node, C its cores, B its memory
// bandwidth, s the core speed relative to the fitted one, N nodes.
//
// Compute of a stage is work/s; memory traffic of a stage is
// bytes·r/B (every rank of a node streams through the same memory
// controllers). Communication is the network.Fabric's price of the
// collective or halo exchange on the placement.
//
// CPU contention (Env.Contention), per bulk-synchronous phase of
// uncontended time t0 in which each rank sends (and receives) b bytes
// between nodes, with a quota q cores per pod and k pods per node,
// daemons busy with L cores and a network path burning c s/byte:
//
//	t = max(t0, (t0·r + 2·r·b·c)/(C − L), T_cfs)
//
// then, when no core is idle (e = min(1, r + L − C) > 0) and the
// daemons come in bursts of d seconds, at each of the phase's S
// synchronisations every rank waits for the bursts on any node
// (OS noise amplification):
//
//	t ← t·(1 + (d/τ)·(1 − exp(−N·e·τ/d))),  τ = t/S
//
// T_cfs is the CFS bandwidth controller's mechanism (cfs.go): each
// pod of ρ = r/k ranks runs q·P/ρ of every period P (100 ms) and is
// throttled for the rest, its ranks spinning (busy-polling MPI) so that
// waiting spends quota too; the pods' periods are out of step, and each
// of the phase's S steps ends when the slowest pod has had t0/S of
// running time. Its expectation over the periods' phases is t0·r/(q·k)
// (the average) for steps much longer than P and grows with the number
// of pods towards one throttled gap a step for short steps. Left out:
// SMT, frequency and cache effects.
//
// # LAMMPS (ReaxFF)
//
// The data file (HNS: 304 atoms, a 22.326 × 11.1412 × 13.778966 Å
// triclinic cell) replicated x·y·z times: N = 304·x·y·z atoms, spread
// over the process grid LAMMPS picks (smallest subdomain surface).
// Per rank N_l = N/P owned atoms and N_g = ρ·((l_x+2r_c)(l_y+2r_c)(l_z+2r_c)
// − l_x·l_y·l_z) ghost atoms within the ghost cutoff r_c = 11 Å. Per step:
//
//	pair = (a_l·N_l + a_g·N_g)/s
//	qeq  = (q_l·N_l + q_g·N_g)/s + K·(2 halo(8 B·face atoms) + 2 allreduce(8 B))
//	comm = halo(48 B·face atoms) + allreduce(thermo)/thermoEvery
//
// (K CG iterations of fix qeq/reaxff; face atoms ρ·r_c·face area,
// later dimensions including earlier ghosts; subdomains thinner than
// r_c take ⌊r_c/l⌋+1 swaps). Run = launch + setup + steps·step, setup
// = fixed + SetupSteps steps.
//
// # AMG
//
// Each rank owns R = n_x·n_y·n_z rows of the 27-point problem. Each
// stage (startup, generate, setup, and each PCG iteration):
//
//	t = R·compute/s + R·bytes·r/B + allreduces·AR(8) + allgathers·AG(8) + halos·halo(8 B·face)
//
// Iterations = I0 + I1·log2(rows/rows_ref). Packing the same ranks on
// fewer nodes multiplies the memory term (144 ranks on 2, 3, 6
// hpc6a nodes); EFA against TCP changes only the fabric.
//
// # QMCPACK
//
// Compute bound: init = fixed/s + broadcasts·Bcast(table); each section
// blocks·steps·(step + ⌈W/P⌉·walker)/s, plus an allreduce of the
// estimators per block and, in DMC, an allgather of walker counts per
// step.
//
// # Training (data parallel)
//
// Per step, b = ⌈batch/P⌉ samples a rank: compute = b·(sample/s +
// bytes·r/B); step = compute + AR(gradient) − min(overlap·AR, compute).
//
// # Generic MPI pattern and fixed durations
//
// Pattern: iterations × Σ phases (compute/s + bytes·r/B + the phase's
// allreduce, halo, alltoall, allgather, bcast, barrier). Fixed: a
// constant.
package apps
