#!/usr/bin/env bash
# measure-intra.sh OUTDIR [REPEAT]
#
# Measures MPI's intra-node (shared-memory) transport between two processes
# on this machine, with and without single-copy, in the OSU osu_latency /
# osu_bw output format that `sim fit network` reads:
#
#   cma         Open MPI's shared-memory BTL with single-copy by Linux
#               cross-memory attach (process_vm_readv/writev: the receiver
#               copies straight out of the sender's buffer once the
#               rendezvous is done; needs ptrace access to the peer)
#   nocma       the same BTL with single-copy turned off: every message is
#               copied into the shared segment and out again (copy-in/
#               copy-out), what a rank gets when CMA is refused
#   userns-cma  cma again, with mpirun and both ranks inside a user
#               namespace (unshare -U -r): whether a user namespace by
#               itself refuses CMA (skipped, with a note, if unshare fails)
#
# Open MPI 4.x: --mca btl vader,self --mca btl_vader_single_copy_mechanism
# cma|none. Open MPI 5.x: --mca btl sm,self and --mca smsc cma, or
# --mca smsc ^cma,knem,xpmem for none (not run on the build host, which has
# 4.1). The benchmark is scripts/intra-pingpong.c (OSU's two loops; Debian
# does not package the OSU suite), compiled with mpicc into a temporary
# folder. Two ranks, --bind-to core. REPEAT (default 3) runs of each
# benchmark per mode, the modes interleaved, one file per mode and
# benchmark (the runs one after another, as OSU files may hold them):
#
#   shm-<mode>-latency.txt   osu_latency format, sizes 0 .. 4 MiB
#   shm-<mode>-bw.txt        osu_bw format (window 64), sizes 1 .. 4 MiB
#   manifest.txt             date, kernel, CPU, Open MPI version and its
#                            shared-memory parameters, /dev/shm, the load
#                            before every run, every command as run
#
# On a small shared host a rank that loses its CPU makes a microsecond
# ping-pong take a scheduler time slice. So, as root, each launch runs
# SCHED_FIFO (chrt -f 1), and before every run the script waits (up to
# QUIET_WAIT seconds, default 20) until the CPUs have been 90 % idle for
# 3 s; the manifest records both.
#
# The files are written to a temporary folder and moved into OUTDIR only
# when every run has succeeded. Needs mpicc, mpirun and ompi_info
# (apt-get install openmpi-bin libopenmpi-dev).
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [REPEAT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
OUT=$1
REPEAT=${2:-3}
case $REPEAT in ''|*[!0-9]*) echo "$0: REPEAT must be a whole number, got '$REPEAT'" >&2; exit 2 ;; esac
if [ "$REPEAT" -lt 1 ] || [ "$REPEAT" -gt 20 ]; then
  echo "$0: REPEAT must be 1..20, got $REPEAT" >&2; exit 2
fi

die() { echo "$0: $*" >&2; exit 1; }
for t in mpicc mpirun ompi_info timeout; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install openmpi-bin libopenmpi-dev)"
done
SRC=$(cd "$(dirname "$0")" && pwd)/intra-pingpong.c
[ -f "$SRC" ] || die "$SRC is missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cvg-intra.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
RES=$WORK/out
mkdir -p "$RES"
BIN=$WORK/intra-pingpong
MAN=$RES/manifest.txt

mpicc -O2 -Wall -o "$BIN" "$SRC" || die "mpicc failed on $SRC"

VERSION=$(mpirun --version 2>/dev/null | head -n1 | sed -n 's/.*(Open MPI) \([0-9][0-9.]*\).*/\1/p')
[ -n "$VERSION" ] || die "mpirun is not Open MPI ($(mpirun --version 2>&1 | head -n1)); this script uses Open MPI's MCA names"
case $VERSION in
  4.*) SHM=(--mca btl vader,self)
       CMA=(--mca btl_vader_single_copy_mechanism cma)
       NOCMA=(--mca btl_vader_single_copy_mechanism none)
       PARAMS=$(ompi_info --param btl vader --level 9 2>/dev/null | grep -E 'single_copy|segment_size|eager_limit|backing_directory|fbox' || true) ;;
  5.*) SHM=(--mca btl sm,self)
       CMA=(--mca smsc cma)
       NOCMA=(--mca smsc '^cma,knem,xpmem')
       PARAMS=$( (ompi_info --param btl sm --level 9; ompi_info --param smsc all --level 9) 2>/dev/null | grep -E 'single_copy|segment_size|eager_limit|backing_directory|smsc' || true) ;;
  *) die "Open MPI $VERSION: only 4.x and 5.x MCA names are known" ;;
esac
ROOT=()
[ "$(id -u)" -eq 0 ] && ROOT=(--allow-run-as-root)
LAUNCH=(mpirun "${ROOT[@]}" -np 2 --bind-to core --map-by core "${SHM[@]}")

USERNS=1
if ! unshare -U -r true 2>/dev/null; then
  USERNS=0
fi
# The whole launch (mpirun and both ranks) runs SCHED_FIFO at priority 1
# when allowed (root): on a small shared host a rank that loses its CPU to
# another process for a time slice makes a microsecond ping-pong take
# milliseconds. The kernel's RT throttling (sched_rt_runtime_us) still
# leaves other processes their share. Without it the runs go as they are.
RT=()
if chrt -f 1 true 2>/dev/null; then
  RT=(chrt -f 1)
fi

{
  echo "# converge intra-node measurement (scripts/measure-intra.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kernel: $(uname -srm)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc)"
  echo "open mpi: $VERSION ($(mpirun --version 2>/dev/null | head -n1))"
  echo "compiler: $(mpicc --version 2>/dev/null | head -n1)"
  echo "benchmark: scripts/intra-pingpong.c sha256 $(sha256sum "$SRC" | cut -d' ' -f1)"
  echo "/dev/shm: $(df -h --output=size /dev/shm 2>/dev/null | tail -n1 | tr -d ' ') ($(findmnt -no FSTYPE /dev/shm 2>/dev/null | head -n1))"
  echo "repeat: $REPEAT"
  echo "user namespaces (unshare -U -r): $([ $USERNS = 1 ] && echo available || echo 'refused: userns-cma skipped')"
  echo "scheduling: $([ ${#RT[@]} -gt 0 ] && echo "SCHED_FIFO 1 (${RT[*]}), RT throttling $(cat /proc/sys/kernel/sched_rt_runtime_us 2>/dev/null) of $(cat /proc/sys/kernel/sched_rt_period_us 2>/dev/null) us" || echo 'normal (chrt -f refused)')"
  echo "shared-memory parameters (ompi_info):"
  echo "$PARAMS" | sed 's/^ */  /'
  echo
} >"$MAN"

# quiet waits (at most QUIET_WAIT seconds) until the host is idle: the CPUs
# were at least 90 % idle (/proc/stat) over each of 3 seconds in a row, so
# that the runs disturb, and are disturbed by, as little else as possible.
# Prints how long it waited, or "busy" if it gave up.
QUIET_WAIT=${QUIET_WAIT:-20}
cpu_idle() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat; }
quiet() {
  local n=0 i a b c d
  read -r a b < <(cpu_idle)
  for ((i = 1; i <= QUIET_WAIT; i++)); do
    sleep 1
    read -r c d < <(cpu_idle)
    if [ $(((c - a) * 10)) -ge $(((d - b) * 9)) ] && [ $((d - b)) -gt 0 ]; then
      n=$((n + 1))
      if [ $n -ge 3 ]; then echo "idle after $i s"; return; fi
    else
      n=0
    fi
    a=$c b=$d
  done
  echo "busy (gave up after $QUIET_WAIT s)"
}

run() { # mode bench file cmd...
  local mode=$1 bench=$2 file=$3
  shift 3
  local q
  q=$(quiet)
  echo "load $(cut -d' ' -f1-3 /proc/loadavg), $q | $mode $bench: $*" >>"$MAN"
  if ! timeout 600 "$@" >>"$file" 2>>"$WORK/stderr-$mode.txt"; then
    cat "$WORK/stderr-$mode.txt" >&2
    die "$mode $bench failed: $*"
  fi
}

MODES=(cma nocma)
[ $USERNS = 1 ] && MODES+=(userns-cma)
for ((i = 1; i <= REPEAT; i++)); do
  for mode in "${MODES[@]}"; do
    case $mode in
      cma)        cmd=("${RT[@]}" "${LAUNCH[@]}" "${CMA[@]}") ;;
      nocma)      cmd=("${RT[@]}" "${LAUNCH[@]}" "${NOCMA[@]}") ;;
      userns-cma) cmd=("${RT[@]}" unshare -U -r "${LAUNCH[@]}" "${CMA[@]}") ;;
    esac
    for bench in latency bw; do
      run "$mode" "$bench" "$RES/shm-$mode-$bench.txt" "${cmd[@]}" "$BIN" "$bench"
    done
  done
done

# Results: the mean over runs at a few sizes.
{
  echo
  echo "means over $REPEAT runs (latency us / bandwidth MB/s):"
  printf '%-12s %10s %10s %10s %10s %10s %10s\n' mode lat-8B lat-64K lat-1M bw-64K bw-1M bw-4M
  for mode in "${MODES[@]}"; do
    lat=$RES/shm-$mode-latency.txt bw=$RES/shm-$mode-bw.txt
    mean() { awk -v s="$2" '$1 == s { t += $2; n++ } END { if (n) printf "%.2f", t / n; else printf "-" }' "$1"; }
    printf '%-12s %10s %10s %10s %10s %10s %10s\n' "$mode" \
      "$(mean "$lat" 8)" "$(mean "$lat" 65536)" "$(mean "$lat" 1048576)" \
      "$(mean "$bw" 65536)" "$(mean "$bw" 1048576)" "$(mean "$bw" 4194304)"
  done
} >>"$MAN"

mkdir -p "$OUT"
for f in "$RES"/*; do
  cp "$f" "$OUT/.$(basename "$f").tmp"
  mv "$OUT/.$(basename "$f").tmp" "$OUT/$(basename "$f")"
done
cat "$MAN"
