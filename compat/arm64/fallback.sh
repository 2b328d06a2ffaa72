#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/fallback.sh
# Proves that a loop of the aarch64 libuv.so.1 under qemu-user (which answers io_uring_setup
# with ENOSYS) falls back to epoll quietly: fallback.c, built for aarch64 and run under
# qemu-aarch64 with UV_USE_IO_URING=1 and UVRING_DEBUG=1, must finish its file requests, timer
# and work item, and print exactly one line on stderr: the backend choice, epoll, for ENOSYS.
# Also shows `uvring doctor` under qemu. Last line "fallback-arm64: N passed, M failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--inner" ]; then
  ROOT=$2 LIBDIR=$3 OUT=$4
  QEMU=(qemu-aarch64-static -L /usr/aarch64-linux-gnu -E "LD_LIBRARY_PATH=$LIBDIR")
  passed=0 failed=0
  pass() { passed=$((passed + 1)); echo "PASS  $*"; }
  fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
  mkdir -p "$OUT"
  aarch64-linux-gnu-gcc -std=gnu11 -Wall -Wextra -Werror -I "$ROOT/include" "$HERE/fallback.c" \
    -o "$OUT/fallback" -L "$LIBDIR" -l:libuv.so.1 || { echo "fallback-arm64: 0 passed, 1 failed"; exit 1; }
  echo "== uvring doctor under qemu-aarch64"
  "${QEMU[@]}" "$LIBDIR/uvring" doctor | sed 's/^/    /'
  for want in 1 unset; do
    if [ "$want" = 1 ]; then env=(UV_USE_IO_URING=1); else env=(); fi
    echo "== fallback.c under qemu-aarch64, UV_USE_IO_URING=$want UVRING_DEBUG=1"
    env "${env[@]}" UVRING_DEBUG=1 "${QEMU[@]}" "$OUT/fallback" > "$OUT/out" 2> "$OUT/err"
    rc=$?
    sed 's/^/    stdout: /' "$OUT/out"; sed 's/^/    stderr: /' "$OUT/err"
    if [ $rc -eq 0 ] && grep -q '^ok: ' "$OUT/out" && [ "$(grep -c . "$OUT/err")" = 1 ] &&
       grep -q '^uvring: loop backend epoll: .*ENOSYS' "$OUT/err"; then
      pass "UV_USE_IO_URING=$want under qemu-user: io_uring_setup ENOSYS -> epoll, quietly; file requests, timer and work done"
    else
      fail "UV_USE_IO_URING=$want under qemu-user: exit $rc; expected 'ok:' and the one stderr line 'uvring: loop backend epoll: ... ENOSYS'"
    fi
  done
  echo "fallback-arm64: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

source "$HERE/common.sh"
arm_need_root
"$HERE/chroot.sh"
[ -e "$ARM_LIBDIR/libuv.so.1" ] || "$HERE/build.sh"
in_chroot bash "$HERE/fallback.sh" --inner "$ARM_ROOT" "$ARM_LIBDIR" "$ARM_CACHE/fallback"
