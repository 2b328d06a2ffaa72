#!/usr/bin/env bash
# Usage: compat/diff/run.sh [LIBDIR]      (default target/release)
# Differential tests: LIBDIR/libuv.so.1 (uvring) against real libuv 1.50.0, built from Debian's
# source package by compat/suite/baseline.sh. Both are loaded into one process, each in its own
# link namespace (dlmopen), and given the same inputs; see README.md.
# Env: UVRING_DIFF_COUNT (inputs per function, default 100000), UVRING_DIFF_SEED (default
# 0x5eed1e55), UVRING_DIFF_SHOW (differences printed per function, default 5).
# Runs inside a private network namespace (uv_ip6_addr asks the kernel for interface indexes).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIBDIR=$(cd "${1:-$ROOT/target/release}" && pwd)
die() { echo "compat/diff: error: $*" >&2; exit 2; }

[ -e "$LIBDIR/libuv.so.1" ] || die "no libuv.so.1 in $LIBDIR (run make first)"
[ "$(id -u)" = 0 ] || die "must run as root (unshare -n for a private network namespace)"
REAL=$("$ROOT/compat/suite/baseline.sh" 1.50.0 | tail -n 1) || die "cannot build real libuv 1.50.0"
[ -e "$REAL/libuv.so.1" ] || die "no libuv.so.1 in $REAL"

B=$HERE/.build
mkdir -p "$B"
gcc -O2 -g -Wall -Wextra -Werror -I"$ROOT/include" -o "$B/difftest.tmp" "$HERE/difftest.c" -ldl ||
  die "cannot build difftest"
mv -f "$B/difftest.tmp" "$B/difftest"
t0=$(date +%s)
rc=0
unshare -n -- "$B/difftest" "$LIBDIR/libuv.so.1" "$REAL/libuv.so.1" || rc=$?
echo "compat/diff: $(( $(date +%s) - t0 )) s"
exit "$rc"
