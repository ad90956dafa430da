#!/usr/bin/env bash
# Whole-process cost of `sim run` at scale, as users run it: wall time,
# CPU time and peak memory (/usr/bin/time) of each case, with every output
# written. Usage: scripts/scale.sh [CASE...]   (default: all cases)
#   SIM=bin/sim       the binary to measure
#   OUT=out/scale     where the reports go (replaced with --force)
# Prints one Markdown table row per case; docs/performance.md keeps the
# figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SIM=${SIM:-bin/sim}
OUT=${OUT:-out/scale}
[ -x /usr/bin/time ] || { echo "scale.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
[ -x "$SIM" ] || { echo "scale.sh: $SIM not found (make build)" >&2; exit 2; }

x100=()
for i in 0 1 2 3 4 5 6; do x100+=(--set "workloads[$i].count=100"); done

declare -A ARGS=(
  [backlog-10k-2nodes]="scenarios/scale/backlog-2nodes.yaml"
  [backlog-100k-2nodes]="scenarios/scale/backlog-2nodes.yaml --set workloads[0].count=100000"
  [backlog-100k-1000nodes]="scenarios/scale/backlog-1000nodes.yaml"
  [unsaturated-100k]="scenarios/scale/unsaturated-100k.yaml"
  [million-pods]="scenarios/scale/million-pods.yaml"
  [usernetes-x100]="scenarios/usernetes-collectives.yaml ${x100[*]}"
)
ORDER=(backlog-10k-2nodes backlog-100k-2nodes backlog-100k-1000nodes unsaturated-100k million-pods usernetes-x100)
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${ORDER[@]}")

mkdir -p "$OUT"
echo "| case | pods | wall s | cpu s | peak RSS MB | output MB | events recorded | µs wall per pod |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  [ -n "${ARGS[$c]:-}" ] || { echo "scale.sh: unknown case $c (cases: ${ORDER[*]})" >&2; exit 2; }
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/$c.time" "$SIM" run ${ARGS[$c]} -o "$OUT/$c" --force -q
  read -r wall user sys rss < "$OUT/$c.time"
  pods=$(sed -n 's/^  pods  *\([0-9]*\) created.*/\1/p' "$OUT/$c/summary.txt")
  recs=$(sed -n 's/^  recorded events  *\([0-9]*\)$/\1/p' "$OUT/$c/summary.txt")
  size=$(du -sm "$OUT/$c" | cut -f1)
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.1f", u+s}')
  per=$(awk -v w="$wall" -v p="$pods" 'BEGIN{printf "%.1f", w*1e6/p}')
  echo "| $c | $pods | $wall | $cpu | $((rss / 1024)) | $size | $recs | $per |"
done
