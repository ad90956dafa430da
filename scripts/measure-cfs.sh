#!/usr/bin/env bash
# measure-cfs.sh OUTFILE
#
# Measures what a CPU limit (the CFS bandwidth controller) costs a
# bulk-synchronous program on this machine, for the model in
# workloads/apps/cfs.go (docs/validation.md, "CPU limits (CFS quota)").
#
# scripts/cfs-experiment/cfsbench.c runs G "nodes" of R rank processes,
# each node in its own CPU cgroup with a quota below R cores, for S steps
# of C ms of CPU work each followed by a barrier of all ranks that they
# busy-poll on (as MPI ranks poll). Every run gets fresh cgroups, with each
# node's period started at a drawn offset (seeded: the same offsets on
# every rerun), the nodes out of step as separate machines are. Offsets are
# drawn so that no more ranks run at once than the machine has cores: the
# quota, not the machine, is what limits the ranks. Each run records the
# wall time of its S steps and the period phases the nodes actually got
# (from the ends of the ranks' throttled gaps).
#
# Every configuration runs with each rank bound to a core (bind=1, as
# mpirun --bind-to core does) and unbound (bind=0: ranks migrate, and a
# CPU a rank left keeps up to 1 ms of its group's runtime, unused).
#
# OUTFILE is a CSV (comment lines start with #): one row a run with
#   bind,groups,ranks,quota_cores,period_ms,compute_ms,steps,start_ms,phases_ms,coherence,wall_s
# start_ms and phases_ms (one per group, ';'-separated) are positions modulo
# the period on CLOCK_MONOTONIC: the model is run on exactly those phases.
#
# Needs root, a C compiler and the cpu controller (cgroup v1 at
# /sys/fs/cgroup/cpu or cgroup v2 at /sys/fs/cgroup). About 8 minutes; run
# it on an otherwise idle machine.
# Its cgroups (cvg-cfs-PID) are removed on exit, also on failure.
set -euo pipefail

usage() { echo "usage: $0 OUTFILE" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$1
die() { echo "$0: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (creates cgroups)"
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || die "$CC not found (apt-get install gcc)"

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cvg-cfs.XXXXXX")
"$CC" -O2 -Wall -o "$WORK/cfsbench" "$HERE/cfs-experiment/cfsbench.c" -lm

# The cpu controller: v1 hierarchy or v2 with cpu enabled below the root.
if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] || [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then
  V=1 ROOT=/sys/fs/cgroup/cpu PROCS=tasks
elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  V=2 ROOT=/sys/fs/cgroup PROCS=cgroup.procs
else
  die "no cpu cgroup controller at /sys/fs/cgroup/cpu (v1) or /sys/fs/cgroup (v2)"
fi
PARENT=$ROOT/cvg-cfs-$$
TMP_OUT=
cleanup() {
  [ -z "$TMP_OUT" ] || rm -f "$TMP_OUT"
  if [ -d "$PARENT" ]; then
    for d in "$PARENT"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
    rmdir "$PARENT" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$PARENT"
# The experiment's cgroup outweighs everything else on the machine, so
# other work steals as little of the nodes' windows as it can.
if [ $V = 1 ]; then
  echo 262144 >"$PARENT/cpu.shares"
else
  echo +cpu >"$ROOT/cgroup.subtree_control" 2>/dev/null || true
  echo 10000 >"$PARENT/cpu.weight"
  echo +cpu >"$PARENT/cgroup.subtree_control"
fi

TMP_OUT=$(mktemp "$(dirname "$OUT")/.cfs.XXXXXX")
{
  echo "# scripts/measure-cfs.sh $OUT"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kernel: $(uname -r); cgroup v$V; cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "# cfs bandwidth slice: $(cat /proc/sys/kernel/sched_cfs_bandwidth_slice_us 2>/dev/null || echo '?') us"
  echo "bind,groups,ranks,quota_cores,period_ms,compute_ms,steps,start_ms,phases_ms,coherence,wall_s"
} >"$TMP_OUT"

RUN=0
# run G R QUOTA_CORES PERIOD_MS COMPUTE_MS STEPS (BIND: 1 binds ranks)
BIND=1
run() {
  local g=$1 r=$2 q=$3 p=$4 c=$5 s=$6 k procs=() line
  RUN=$((RUN + 1))
  for ((k = 0; k < g; k++)); do
    mkdir "$PARENT/r$RUN-$k"
    procs+=("$PARENT/r$RUN-$k/$PROCS")
  done
  local qus pus
  qus=$(awk -v q="$q" -v p="$p" 'BEGIN{printf "%d", q*p*1000}')
  pus=$((p * 1000))
  local b=()
  [ "$BIND" = 1 ] && b=(-b)
  line=$("$WORK/cfsbench" "${b[@]}" -g "$g" -r "$r" -s "$s" -c "$c" -p "$pus" -w 300 -q "$qus" -O "$RUN" "${procs[@]}")
  for ((k = 0; k < g; k++)); do rmdir "$PARENT/r$RUN-$k"; done
  echo "$line" | awk -v q="$q" -v p="$p" -v b="$BIND" '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      ph = ""; coh = 1
      for (k = 0; k < v["groups"]; k++) {
        ph = ph (k ? ";" : "") v["abs" k "_ms"]
        if (v["coherence" k] < coh) coh = v["coherence" k]
      }
      printf "%d,%d,%d,%g,%g,%g,%d,%s,%s,%.3f,%s\n", b, v["groups"], v["ranks"], q, p, v["compute_ms"], v["steps"], v["start_ms"], ph, coh, v["wall"]
    }' | tee -a "$TMP_OUT"
}

# steps S for a run of about W ms of CPU work per rank, 4 to 100.
steps() { awk -v w="$1" -v c="$2" 'BEGIN{s = int(w / c + 0.5); if (s < 4) s = 4; if (s > 100) s = 100; print s}'; }

for BIND in 1 0; do
  # One node of 2 ranks: nothing to wait for but its own quota.
  for q in 0.5 1 1.5; do
    for c in 5 20 50 200; do run 1 2 $q 100 $c "$(steps 400 $c)"; done
  done
  # Two nodes of one rank, out of step (steps of 1 ms: a few hundred
  # microseconds of CPU time per core, as between an MPI code's
  # collectives).
  for q in 0.3 0.5 0.7; do
    for c in 1 5 20 50 200; do
      for rep in 1 2; do run 2 1 $q 100 $c "$(steps 400 $c)"; done
    done
  done
  # Three nodes of 2 ranks at 0.3 cores, and four of one rank at 0.2.
  for c in 5 20 50; do
    for rep in 1 2; do run 3 2 0.3 100 $c "$(steps 200 $c)"; done
  done
  for c in 1 5 20 50; do
    for rep in 1 2; do run 4 1 0.2 100 $c "$(steps 200 $c)"; done
  done
  # A 20 ms period.
  for c in 2 5 20; do
    run 1 2 1 20 $c "$(steps 400 $c)"
    for rep in 1 2; do run 2 1 0.5 20 $c "$(steps 400 $c)"; done
  done
done
# The expectation over phases: two nodes can take any phases on two cores,
# so twelve draws of the same configuration sample it.
BIND=1
for c in 1 5 20; do
  for rep in $(seq 12); do run 2 1 0.5 100 $c "$(steps 200 $c)"; done
done
mv "$TMP_OUT" "$OUT"
TMP_OUT=
echo "wrote $OUT ($RUN runs)"
