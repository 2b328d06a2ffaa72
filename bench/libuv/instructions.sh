#!/usr/bin/env bash
# Usage: bench/libuv/instructions.sh [NAME...]
#   (default: thread_create spawn getaddrinfo tcp_write_batch ping_pongs)
# Env: UVRING_LIBDIR, BASELINE, BENCH_BACKENDS (as run.sh).
# The work a benchmark does in user space, counted instead of timed: each named benchmark of
# libuv 1.50's runner runs once per library (uvring, real libuv 1.50) and backend under
# `valgrind --tool=callgrind`, its helper server (if it has one) natively beside it, in a
# loopback-only network namespace. Prints the instructions per operation of the benchmark process,
# in all and split by where they ran: the libuv library under test, glibc (libc and ld.so), the
# benchmark's own code. Instruction counts do not depend on the machine's load, so equal counts
# with equal system calls (run.sh --strace) mean equal work even where timings scatter. The kernel's
# side is not counted here. Not part of `make test`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/compat/suite/common.sh"
as_root
command -v valgrind >/dev/null || apt_install valgrind
command -v python3 >/dev/null || apt_install python3
command -v ip >/dev/null || apt_install iproute2

LIBDIR=${UVRING_LIBDIR:-$ROOT/target/release}
[ -e "$LIBDIR/libuv.so.1" ] || die "no libuv.so.1 in LIBDIR=$LIBDIR (run make first, or set UVRING_LIBDIR)"
BASELINE=${BASELINE:-$("$ROOT/compat/suite/baseline.sh" 1.50.0)}
declare -A RUNNER=([uvring]=$("$HERE/build.sh" uvring "$LIBDIR") [libuv]=$("$HERE/build.sh" libuv "$BASELINE"))
declare -A ENVV=([epoll]=0 [uring]=1)
BACKENDS=${BENCH_BACKENDS:-epoll,uring}
[ $# -gt 0 ] || set -- thread_create spawn getaddrinfo tcp_write_batch ping_pongs
OUT=$HERE/.cache/instructions/$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$OUT"

# The helper server of a benchmark (benchmark-list.h), and how many operations one run does:
# a fixed count, or a rate printed over the benchmark's fixed 5 s.
helper_of() {
  case $1 in
    ping_pongs | tcp4_pound_*) echo tcp4_echo_server ;;
    tcp_write_batch) echo tcp4_blackhole_server ;;
    pipe_pound_*) echo pipe_echo_server ;;
    tcp_pump*_client) echo tcp_pump_server ;;
    pipe_pump*_client) echo pipe_pump_server ;;
    *) echo "" ;;
  esac
}
ops_of() { # NAME OUTPUT
  case $1 in
    thread_create) echo 20000 ;;
    spawn) echo 1000 ;;
    getaddrinfo) echo 10000 ;;
    tcp_write_batch) echo 1000000 ;;
    ping_pongs) sed -n 's/.*ping_pongs: \([0-9]*\) roundtrips\/s.*/\1/p' "$2" | awk '{print $1 * 5}' ;;
    # 8 KiB writes: gbit/s (2^30 bits) over the 5 s the client runs.
    *_pump*_client) sed -n 's/.*_client: \([0-9.]*\) gbit\/s.*/\1/p' "$2" |
      awk '{printf "%d\n", $1 * 5 * 2^30 / 8 / 8192}' ;;
    *) die "instructions.sh: no operation count known for $1" ;;
  esac
}

# One run in a private network namespace: the helper natively, the benchmark under callgrind.
run() { # RUNNER NAME HELPER OUTFILE LOG
  local runner=$1 name=$2 helper=$3 cg=$4 log=$5 work
  work=$(mktemp -d /tmp/uvring-instr-XXXXXX)
  chmod 755 "$work"
  unshare -n sh -c '
    ip link set lo up
    cd "$5"
    if [ -n "$3" ]; then "$1" "$2" "$3" > helper.log 2>&1 & hp=$!; sleep 1; fi
    valgrind --tool=callgrind --callgrind-out-file="$4" "$1" "$2" "$2"
    rc=$?
    [ -n "$3" ] && kill $hp 2>/dev/null
    exit $rc' sh "$runner" "$name" "$helper" "$cg" "$work" > "$log" 2>&1
  local rc=$?
  rm -rf "$work"
  return $rc
}

printf '%-16s %-6s %-7s %12s %12s %12s %12s  %s\n' benchmark mode library "Ir/op" "lib Ir/op" \
  "glibc Ir/op" "other Ir/op" "ops"
for name in "$@"; do
  helper=$(helper_of "$name")
  for be in ${BACKENDS//,/ }; do
    for lib in uvring libuv; do
      base=$OUT/$name-$be-$lib
      if ! UV_USE_IO_URING=${ENVV[$be]} run "${RUNNER[$lib]}" "$name" "$helper" "$base.cg" "$base.log"; then
        printf '%-16s %-6s %-7s failed: %s\n' "$name" "$be" "$lib" "$base.log"
        continue
      fi
      ops=$(ops_of "$name" "$base.log")
      read -r total libir g rest < <("$HERE/cgsplit.py" "$base.cg")
      awk -v n="$name" -v b="$be" -v l="$lib" -v o="$ops" -v t="$total" -v li="$libir" -v g="$g" -v r="$rest" \
        'BEGIN { printf "%-16s %-6s %-7s %12.0f %12.0f %12.0f %12.0f  %d\n", n, b, l, t/o, li/o, g/o, r/o, o }'
    done
  done
done
echo "callgrind outputs and logs: $OUT"
