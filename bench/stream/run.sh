#!/usr/bin/env bash
# Queued TCP writes (queuedwrites.c): uvring in both backends and real libuv
# 1.50, the same source built twice, runs interleaved, each in a private
# network namespace with only loopback; medians of RUNS runs and ratios.
# usage: bench/stream/run.sh [UVRING_LIBDIR] [REAL_LIBDIR]   (as root: unshare -n)
#   defaults: target/release and compat/suite/.cache/baseline/1.50.0
#   (build the latter with compat/suite/baseline.sh 1.50.0)
# env: RUNS (5); KINDS ("tcp pipe"); CASES ("N:SIZE ..." requests and bytes
#      per request, "1000000:13 200000:512 100000:4096 20000:65536"); SNDBUF
#      (the TCP writer's SO_SNDBUF, 0 = the kernel's autotuning)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
ours=$(readlink -f "${1:-$root/target/release}")
real=$(readlink -f "${2:-$root/compat/suite/.cache/baseline/1.50.0}")
RUNS=${RUNS:-5}; SNDBUF=${SNDBUF:-0}; KINDS=${KINDS:-"tcp pipe"}
CASES=${CASES:-"1000000:13 200000:512 100000:4096 20000:65536"}
[ -e "$ours/libuv.so.1" ] || { [ -e "$ours/libuv.so" ] && ln -sf libuv.so "$ours/libuv.so.1"; }
for d in "$ours" "$real"; do [ -e "$d/libuv.so.1" ] || { echo "no libuv.so.1 in $d" >&2; exit 1; }; done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for v in ours real; do
  d=${!v}
  gcc -O2 -Wall -I"$root/include" -o "$work/qw-$v" "$here/queuedwrites.c" \
    -L"$d" -l:libuv.so.1 -Wl,-rpath,"$d" -lpthread
done
run() { # BINARY BACKEND N SIZE -> requests/s
  unshare -n sh -c 'ip link set lo up && UV_USE_IO_URING=$0 "$1" "$2" "$3" "$4" "$5"' \
    "$2" "$1" "$kind" "$3" "$4" "$SNDBUF"
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "uvring: $ours"; echo "libuv:  $real"
echo "requests/s from the last uv_write to the last callback, median of $RUNS, SNDBUF=$SNDBUF"
echo "epoll/uring = uvring with UV_USE_IO_URING=0/1; libuv = real libuv 1.50 (UV_USE_IO_URING=0)"
printf "%-5s %8s %6s %12s %12s %12s %12s %12s\n" kind requests bytes epoll uring libuv epoll/libuv uring/libuv
for kind in $KINDS; do
for c in $CASES; do
  n=${c%%:*}; size=${c##*:}
  : > "$work/e"; : > "$work/u"; : > "$work/r"
  for i in $(seq "$RUNS"); do
    # Alternate who goes first, so drifts of the machine hit all alike.
    if [ $((i % 2)) = 1 ]; then
      run "$work/qw-ours" 0 "$n" "$size" >> "$work/e"
      run "$work/qw-ours" 1 "$n" "$size" >> "$work/u"
      run "$work/qw-real" 0 "$n" "$size" >> "$work/r"
    else
      run "$work/qw-real" 0 "$n" "$size" >> "$work/r"
      run "$work/qw-ours" 1 "$n" "$size" >> "$work/u"
      run "$work/qw-ours" 0 "$n" "$size" >> "$work/e"
    fi
  done
  e=$(median < "$work/e"); u=$(median < "$work/u"); r=$(median < "$work/r")
  printf "%-5s %8s %6s %12s %12s %12s %12.2f %12.2f\n" "$kind" "$n" "$size" "$e" "$u" "$r" \
    "$(echo "$e / $r" | bc -l)" "$(echo "$u / $r" | bc -l)"
done
done
