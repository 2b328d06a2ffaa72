#!/usr/bin/env bash
# Usage: compat/memcheck/probes.sh [LIBDIR]
# Builds ring-probes.c against LIBDIR/libuv.so.1 and runs each mode under memcheck on both
# backends (UV_USE_IO_URING=0: pool threads call pread/statx; =1: the ring does), printing what
# memcheck reports for each (README.md explains the results). Exit 1 when a deliberate bug goes
# unreported or a correct program gets a report, on either backend (free-early on the pool is
# racy by nature: the worker may read before main frees).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIBDIR=$(cd "${1:-$ROOT/target/release}" && pwd)
B=$HERE/.build
mkdir -p "$B"
gcc -g -O0 -Wall -Wextra -Werror -I"$ROOT/include" -o "$B/ring-probes" "$HERE/ring-probes.c" \
  -L"$LIBDIR" -l:libuv.so.1 -Wl,-rpath,"$LIBDIR" || { echo "probes: cannot build" >&2; exit 2; }
data=$(mktemp); head -c 64 /dev/zero | tr '\0' 'x' > "$data"
rc=0
for be in 0 1; do
  for m in small-read use-after-free free-early uninit-write correct-read correct-stat; do
    log=$B/probe-$be-$m.log
    UV_USE_IO_URING=$be timeout -s KILL 40 valgrind -q --track-origins=yes --num-callers=16 \
      --log-file="$log" "$B/ring-probes" "$m" "$data" > "$log.out" 2>&1
    st=$?
    first=$(grep -v -E '^==[0-9]+== Thread ' "$log" | grep -m1 -E '^==[0-9]+== [A-Z]' | sed 's/^==[0-9]*== //')
    [ $st = 137 ] && first="HUNG (killed after 40 s) ${first}"
    printf 'UV_USE_IO_URING=%s %-15s exit %-3s %s\n' "$be" "$m" "$st" "${first:-(no report)}"
    case $be/$m in
      */correct-*) [ -z "$first" ] || rc=1 ;;
      0/free-early) ;;  # racy by nature: the worker may read before main frees
      *) [ -n "$first" ] || rc=1 ;;
    esac
  done
done
rm -f "$data"
exit $rc
