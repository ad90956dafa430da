#!/usr/bin/env bash
# measure-network.sh OUTDIR [DURATION]
#
# Measures the transport paths converge models, on this machine only, with
# iperf3 (throughput, JSON) and ping (small-message round trip):
#
#   veth      two network namespaces joined by a veth pair, MTU 1500
#             (the bare-metal path: kernel TCP/IP, no encapsulation)
#   vxlan     a VXLAN device (id 42, UDP 4789) over that veth pair, MTU 1450
#             (the flannel-style overlay)
#   slirp     a namespace whose only way out is slirp4netns, MTU 1500 and
#             65520, talking to an iperf3 server on the host's 127.0.0.1
#             through slirp's 10.0.2.2 (the Usernetes/rootless path);
#             both directions, and slirp4netns' own CPU time per run
#   loopback  127.0.0.1 inside a namespace (the reference ceiling)
#
# Every throughput run is single stream and -P 4 and lasts DURATION seconds
# (default 5). Output, in OUTDIR:
#
#   <path>-<mtu>-<streams>[-reverse].json   iperf3 -J output
#   cpu-slirp-<mtu>-<streams>[-reverse].json slirp4netns CPU time of that run
#   ping-<path>-<mtu>.txt                   ping -c 50 -i 0.01 output
#   manifest.txt                            date, kernel, versions, CPU, commands
#
# Traffic stays on this machine: private addresses inside namespaces this
# script creates (10.201.0.0/24 veth, 10.202.0.0/24 VXLAN) and the host's
# loopback (slirp's 10.0.2.2 -> 127.0.0.1). The slirp namespace's default
# route is deleted once slirp4netns has configured it, and slirp's DNS
# forwarder is disabled, so nothing inside can reach anything but 10.0.2.2.
# Needs root, iproute2, iperf3 and slirp4netns; ping (iputils-ping) is
# optional. Namespaces and processes are removed on exit, also on failure.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [DURATION_SECONDS]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
OUT=$1
DUR=${2:-5}
case $DUR in ''|*[!0-9]*) echo "$0: DURATION must be a whole number of seconds, got '$DUR'" >&2; exit 2 ;; esac
if [ "$DUR" -lt 1 ] || [ "$DUR" -gt 60 ]; then
  echo "$0: DURATION must be 1..60 seconds, got $DUR" >&2; exit 2
fi

die() { echo "$0: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (creates network namespaces)"
for t in ip iperf3 slirp4netns ss timeout; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install iproute2 iperf3 slirp4netns coreutils)"
done
HAVE_PING=1
command -v ping >/dev/null 2>&1 || HAVE_PING=0

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

TAG=$$
NS_A=cvg-a-$TAG
NS_B=cvg-b-$TAG
NS_S=cvg-s-$TAG
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cvg-measure.XXXXXX")
PIDS=()
SLIRP_PID=
FAILED=0
# A client that hangs past its own -t is cut off here.
LIMIT=$((DUR + 30))

cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}" $SLIRP_PID; do
    kill "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}" $SLIRP_PID; do
    wait "$p" 2>/dev/null
  done
  for ns in "$NS_S" "$NS_B" "$NS_A"; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MANIFEST=$WORK/manifest.txt
note() { printf '%s\n' "$*" >>"$MANIFEST"; }
# run CMD...: log the exact command to the manifest, then run it.
run() { note "\$ $*"; "$@"; }

# wait_listen NS ADDR PORT: wait (max 10 s) for a TCP listener. NS "-" is the host.
wait_listen() {
  local ns=$1 addr=$2 port=$3 i
  for i in $(seq 100); do
    if [ "$ns" = - ]; then
      ss -ltnH "src $addr:$port" | grep -q . && return 0
    else
      ip netns exec "$ns" ss -ltnH "src $addr:$port" | grep -q . && return 0
    fi
    sleep 0.1
  done
  die "no iperf3 server listening on $addr:$port in ${ns/-/host}"
}

# start_server NS ADDR PORT: iperf3 server in the background (killed on exit).
start_server() {
  local ns=$1 addr=$2 port=$3
  if [ "$ns" = - ]; then
    note "\$ iperf3 -s -B $addr -p $port &"
    iperf3 -s -B "$addr" -p "$port" >"$WORK/server-$port.log" 2>&1 &
  else
    note "\$ ip netns exec $ns iperf3 -s -B $addr -p $port &"
    ip netns exec "$ns" iperf3 -s -B "$addr" -p "$port" >"$WORK/server-$ns-$port.log" 2>&1 &
  fi
  PIDS+=($!)
  wait_listen "$ns" "$addr" "$port"
}

# sum_received_bytes FILE: end.sum_received.bytes of an iperf3 -J file
# (no jq needed; iperf3 prints one key per line).
sum_received_bytes() {
  awk '/"sum_received"/ {in_r=1} in_r && /"bytes"/ {gsub(/[^0-9]/, ""); print; exit}' "$1"
}
sum_received_bps() {
  awk '/"sum_received"/ {in_r=1} in_r && /"bits_per_second"/ {sub(/.*:[ \t]*/, ""); sub(/,.*/, ""); print; exit}' "$1"
}

# slirp_ticks: utime+stime of slirp4netns in clock ticks (fields 14, 15 of /proc/PID/stat).
slirp_ticks() {
  local s rest
  s=$(cat "/proc/$SLIRP_PID/stat")
  rest=${s##*) }
  # shellcheck disable=SC2086
  set -- $rest
  echo "${12} ${13}"
}

SUMMARY=$WORK/summary.txt
# client NAME NS SERVER PORT [iperf3 options...]: one bounded run into OUT/NAME.json.
client() {
  local name=$1 ns=$2 server=$3 port=$4
  shift 4
  local tmp=$WORK/$name.json rc=0
  note "# $name  (loadavg before: $(cut -d' ' -f1-3 /proc/loadavg))"
  note "\$ ip netns exec $ns timeout $LIMIT iperf3 -c $server -p $port -J -t $DUR --connect-timeout 5000 $* > $name.json"
  ip netns exec "$ns" timeout "$LIMIT" iperf3 -c "$server" -p "$port" -J -t "$DUR" --connect-timeout 5000 "$@" >"$tmp" || rc=$?
  mv "$tmp" "$OUT/$name.json"
  if [ "$rc" -ne 0 ]; then
    echo "FAILED  $name (iperf3 exit $rc; see $name.json)" | tee -a "$SUMMARY" >&2
    note "# FAILED: exit $rc"
    FAILED=1
    return 1
  fi
  local bps
  bps=$(sum_received_bps "$OUT/$name.json")
  printf '%-28s %8.2f Gbit/s\n' "$name" "$(awk -v b="$bps" 'BEGIN{print b/1e9}')" | tee -a "$SUMMARY"
}

# slirp_client NAME PORT MTU STREAMS REVERSE [iperf3 options...]: a client run
# inside the slirp namespace plus slirp4netns' CPU time over it.
slirp_client() {
  local name=$1 port=$2 mtu=$3 streams=$4 reverse=$5
  shift 5
  local t0 t1 w0 w1 ok=1
  read -r -a t0 < <(slirp_ticks)
  w0=$(date +%s.%N)
  client "$name" "$NS_S" 10.0.2.2 "$port" "$@" || ok=0
  w1=$(date +%s.%N)
  read -r -a t1 < <(slirp_ticks)
  [ "$ok" = 1 ] || return 0
  local bytes hz
  bytes=$(sum_received_bytes "$OUT/$name.json")
  hz=$(getconf CLK_TCK)
  awk -v name="$name" -v mtu="$mtu" -v streams="$streams" -v rev="$reverse" \
      -v hz="$hz" -v u0="${t0[0]}" -v s0="${t0[1]}" -v u1="${t1[0]}" -v s1="${t1[1]}" \
      -v w0="$w0" -v w1="$w1" -v bytes="$bytes" -v pid="$SLIRP_PID" 'BEGIN {
    cpu = (u1 - u0 + s1 - s0) / hz
    printf "{\n"
    printf "  \"iperf3\": \"%s.json\",\n", name
    printf "  \"path\": \"slirp4netns\",\n  \"mtu\": %d,\n  \"streams\": %d,\n  \"reverse\": %s,\n", mtu, streams, rev
    printf "  \"slirp4netns_pid\": %d,\n  \"clk_tck\": %d,\n", pid, hz
    printf "  \"utime_ticks\": %d,\n  \"stime_ticks\": %d,\n", u1 - u0, s1 - s0
    printf "  \"cpu_seconds\": %.3f,\n  \"wall_seconds\": %.3f,\n", cpu, w1 - w0
    printf "  \"bytes_received\": %d,\n", bytes
    printf "  \"cpu_seconds_per_gb\": %.4f\n}\n", (bytes > 0 ? cpu / (bytes / 1e9) : 0)
  }' >"$WORK/cpu.json"
  mv "$WORK/cpu.json" "$OUT/cpu-$name.json"
  awk -v n="$name" -v hz="$hz" -v u0="${t0[0]}" -v s0="${t0[1]}" -v u1="${t1[0]}" -v s1="${t1[1]}" -v b="$bytes" \
    'BEGIN{c=(u1-u0+s1-s0)/hz; printf "%-28s slirp4netns %.2f CPU s, %.3f CPU s/GB\n", n, c, (b>0?c/(b/1e9):0)}' | tee -a "$SUMMARY"
}

# ping_run NAME NS TARGET: 50 pings 10 ms apart, text saved to OUT/ping-NAME.txt.
ping_run() {
  local name=$1 ns=$2 target=$3 rc=0
  if [ "$HAVE_PING" = 0 ]; then
    note "# ping-$name skipped: ping not installed (apt-get install iputils-ping)"
    return 0
  fi
  note "\$ ip netns exec $ns ping -c 50 -i 0.01 -w 20 $target > ping-$name.txt"
  ip netns exec "$ns" ping -c 50 -i 0.01 -w 20 "$target" >"$WORK/ping.txt" 2>&1 || rc=$?
  mv "$WORK/ping.txt" "$OUT/ping-$name.txt"
  if [ "$rc" -ne 0 ]; then
    echo "FAILED  ping-$name (exit $rc)" | tee -a "$SUMMARY" >&2
    FAILED=1
  else
    printf '%-28s %s\n' "ping-$name" "$(grep -E '^(rtt|round-trip)' "$OUT/ping-$name.txt")" | tee -a "$SUMMARY"
  fi
}

# --- manifest header -------------------------------------------------------
{
  echo "converge network measurements (scripts/measure-network.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host kernel: $(uname -r) ($(uname -m))"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x $(nproc) online"
  echo "iperf3: $(iperf3 --version 2>&1 | head -1)"
  echo "slirp4netns: $(slirp4netns --version 2>&1 | head -1); $(slirp4netns --version 2>&1 | grep -i libslirp | head -1)"
  echo "ip: $(ip -V 2>&1)"
  if [ "$HAVE_PING" = 1 ]; then echo "ping: $(ping -V 2>&1 | head -1)"; else echo "ping: not installed"; fi
  echo "duration per run: $DUR s; loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "namespaces: $NS_A, $NS_B (veth 10.201.0.1-2/24, vxlan 10.202.0.1-2/24), $NS_S (slirp4netns)"
  echo
  echo "commands:"
} >"$MANIFEST"

# --- veth pair between two namespaces --------------------------------------
run ip netns add "$NS_A" || die "ip netns add failed: network namespaces not permitted here"
run ip netns add "$NS_B"
run ip -n "$NS_A" link set lo up
run ip -n "$NS_B" link set lo up
run ip -n "$NS_A" link add cvg0 mtu 1500 type veth peer name cvg0 netns "$NS_B"
run ip -n "$NS_A" addr add 10.201.0.1/24 dev cvg0
run ip -n "$NS_B" addr add 10.201.0.2/24 dev cvg0
run ip -n "$NS_A" link set cvg0 up
run ip -n "$NS_B" link set cvg0 up

# --- VXLAN over the veth pair ----------------------------------------------
run ip -n "$NS_A" link add vx0 type vxlan id 42 dev cvg0 local 10.201.0.1 remote 10.201.0.2 dstport 4789
run ip -n "$NS_B" link add vx0 type vxlan id 42 dev cvg0 local 10.201.0.2 remote 10.201.0.1 dstport 4789
for ns in "$NS_A" "$NS_B"; do
  run ip -n "$ns" link set vx0 mtu 1450
done
run ip -n "$NS_A" addr add 10.202.0.1/24 dev vx0
run ip -n "$NS_B" addr add 10.202.0.2/24 dev vx0
run ip -n "$NS_A" link set vx0 up
run ip -n "$NS_B" link set vx0 up

start_server "$NS_B" 10.201.0.2 5201
start_server "$NS_B" 10.202.0.2 5202
start_server "$NS_A" 127.0.0.1 5203

ping_run veth-1500 "$NS_A" 10.201.0.2
ping_run vxlan-1450 "$NS_A" 10.202.0.2
ping_run loopback-65536 "$NS_A" 127.0.0.1

client veth-1500-1 "$NS_A" 10.201.0.2 5201 || true
client veth-1500-4 "$NS_A" 10.201.0.2 5201 -P 4 || true
client vxlan-1450-1 "$NS_A" 10.202.0.2 5202 || true
client vxlan-1450-4 "$NS_A" 10.202.0.2 5202 -P 4 || true
client loopback-65536-1 "$NS_A" 127.0.0.1 5203 || true
client loopback-65536-4 "$NS_A" 127.0.0.1 5203 -P 4 || true

# --- slirp4netns -----------------------------------------------------------
# iperf3 server on the host's loopback, on a free non-default port.
PORT=$((20000 + TAG % 20000))
while ss -ltnH "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
start_server - 127.0.0.1 "$PORT"

run ip netns add "$NS_S"
run ip -n "$NS_S" link set lo up
for mtu in 1500 65520; do
  note "\$ slirp4netns --configure --mtu=$mtu --disable-dns --netns-type=path /run/netns/$NS_S tap0 &"
  slirp4netns --configure --mtu="$mtu" --disable-dns --netns-type=path "/run/netns/$NS_S" tap0 \
    >"$WORK/slirp-$mtu.log" 2>&1 &
  SLIRP_PID=$!
  ready=0
  for i in $(seq 100); do
    kill -0 "$SLIRP_PID" 2>/dev/null || break
    if ip -n "$NS_S" -4 route show default 2>/dev/null | grep -q 10.0.2.2; then ready=1; break; fi
    sleep 0.1
  done
  if [ "$ready" = 0 ]; then
    cat "$WORK/slirp-$mtu.log" >&2
    die "slirp4netns (mtu $mtu) did not configure tap0 in $NS_S"
  fi
  # Nothing but slirp's gateway (the host's loopback) is reachable from here on.
  run ip -n "$NS_S" route del default
  note "# tap0: $(ip -n "$NS_S" -o -4 addr show dev tap0 | awk '{print $4}') mtu $(ip -n "$NS_S" -o link show tap0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p'); routes: $(ip -n "$NS_S" -4 route show | tr '\n' ';')"

  ping_run "slirp-$mtu" "$NS_S" 10.0.2.2
  slirp_client "slirp-$mtu-1" "$PORT" "$mtu" 1 false || true
  slirp_client "slirp-$mtu-4" "$PORT" "$mtu" 4 false -P 4 || true
  slirp_client "slirp-$mtu-1-reverse" "$PORT" "$mtu" 1 true -R || true
  slirp_client "slirp-$mtu-4-reverse" "$PORT" "$mtu" 4 true -P 4 -R || true

  note "\$ kill $SLIRP_PID  # slirp4netns"
  kill "$SLIRP_PID" 2>/dev/null || true
  wait "$SLIRP_PID" 2>/dev/null || true
  SLIRP_PID=
  # tap0 goes away with slirp4netns; wait so the next MTU starts clean.
  for i in $(seq 50); do ip -n "$NS_S" link show tap0 >/dev/null 2>&1 || break; sleep 0.1; done
done

{
  echo
  echo "results:"
  cat "$SUMMARY"
} >>"$MANIFEST"
mv "$MANIFEST" "$OUT/manifest.txt"
echo "wrote $OUT (manifest.txt)"
if [ "$FAILED" -ne 0 ]; then
  echo "$0: some runs failed (see manifest.txt)" >&2
  exit 1
fi
