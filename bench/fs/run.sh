#!/usr/bin/env bash
# Async fs throughput: uvring's io_uring backend, uvring's pool path, and real
# libuv 1.50 (its default: the pool), same source built twice, runs
# interleaved, medians of RUNS runs, ratios.
# usage: bench/fs/run.sh [UVRING_LIBDIR] [REAL_LIBDIR]
#   defaults: target/release and compat/suite/.cache/baseline/1.50.0
#   (build the latter with compat/suite/baseline.sh 1.50.0)
# env: RUNS (5), CONC (concurrency list, "1 4 16 64"), OPS (requests per run, 200000),
#      OPLIST (operations, "stat read openclose")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
ours=$(readlink -f "${1:-$root/target/release}")
real=$(readlink -f "${2:-$root/compat/suite/.cache/baseline/1.50.0}")
RUNS=${RUNS:-5}; CONC=${CONC:-"1 4 16 64"}; OPS=${OPS:-200000}; OPLIST=${OPLIST:-"stat read openclose"}
[ -e "$ours/libuv.so.1" ] || { [ -e "$ours/libuv.so" ] && ln -sf libuv.so "$ours/libuv.so.1"; }
for d in "$ours" "$real"; do [ -e "$d/libuv.so.1" ] || { echo "no libuv.so.1 in $d" >&2; exit 1; }; done
inc=$root/include; [ -e "$inc/uv.h" ] || inc=/work/ref/libuv1-1.50.0/include
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for v in ours real; do
  d=${!v}
  gcc -O2 -I"$inc" -o "$work/fsbench-$v" "$here/fsbench.c" -L"$d" -l:libuv.so.1 -Wl,-rpath,"$d"
done
head -c $((16 << 20)) /dev/urandom > "$work/data"
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "uvring: $ours"; echo "libuv:  $real"
echo "UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-4}, $OPS requests/run, median of $RUNS"
echo "uring = uvring UV_USE_IO_URING=1; pool = uvring UV_USE_IO_URING=0; libuv = real libuv 1.50 (default)"
printf "%-10s %5s %11s %11s %11s %10s %10s %10s\n" op conc "uring op/s" "pool op/s" "libuv op/s" uring/pool uring/libuv pool/libuv
for op in $OPLIST; do
  for c in $CONC; do
    : > "$work/u"; : > "$work/o"; : > "$work/r"
    for _ in $(seq "$RUNS"); do
      UV_USE_IO_URING=1 "$work/fsbench-ours" $op "$c" "$OPS" "$work/data" >> "$work/u"
      UV_USE_IO_URING=0 "$work/fsbench-ours" $op "$c" "$OPS" "$work/data" >> "$work/o"
      "$work/fsbench-real" $op "$c" "$OPS" "$work/data" >> "$work/r"
    done
    u=$(median < "$work/u"); o=$(median < "$work/o"); r=$(median < "$work/r")
    printf "%-10s %5s %11s %11s %11s %10.2f %10.2f %10.2f\n" $op "$c" "$u" "$o" "$r" \
      "$(echo "$u / $o" | bc -l)" "$(echo "$u / $r" | bc -l)" "$(echo "$o / $r" | bc -l)"
  done
done
