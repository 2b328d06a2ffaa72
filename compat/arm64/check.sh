#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/check.sh            (make arm64; needs root)
# The aarch64 check, start to end, each step timed:
#   chroot.sh    Debian 13 chroot with rustc 1.85, libstd-rust-dev:arm64, aarch64 gcc, qemu-user
#   build.sh     libuv.so.1 / libuv.a cross-built for aarch64, offline, with Debian's rustc
#   abi.sh       compat/abi's layout, Rust-mirror and symbol checks for aarch64: 0 differences
#   fallback.sh  under qemu-user (no io_uring) a loop falls back to epoll quietly, visibly
#   suite.sh     libuv 1.50's tests listed in expect-1.50.0.txt pass under qemu-aarch64 (what
#                fails is retried once; passing then is reported FLAKY, not a failure)
# Last line "arm64: N passed, N failed" counts the steps; exit 1 if any failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
arm_need_root
EXPECT=$HERE/expect-1.50.0.txt

passed=0 failed=0 times=()
step() { # name command...
  local name=$1 t0=$SECONDS rc; shift
  echo "== arm64: $name"
  "$@"; rc=$?
  times+=("$name $((SECONDS - t0)) s")
  if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "== arm64: $name FAILED"; fi
  return $rc
}

suite_expect() {
  local out=$ARM_CACHE/check-1.50.0.txt n
  n=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$EXPECT" | grep -c .)
  [ "$n" -gt 0 ] || { echo "compat/arm64: $EXPECT lists no test"; return 1; }
  echo "compat/arm64: checking the $n tests of $(basename "$EXPECT") under qemu-aarch64"
  "$HERE/suite.sh" --list "$EXPECT" --out "$out" | sed -u '$d'
  [ -s "$out" ] || { echo "compat/arm64: no results"; return 1; }
  sed -n 's/^\(FAIL\|SKIP\) \([A-Za-z0-9_]*\).*/\2/p' "$out" > "$out.retry-list"
  if [ -s "$out.retry-list" ]; then
    echo "compat/arm64: retrying $(wc -l < "$out.retry-list") test(s) once"
    "$HERE/suite.sh" --list "$out.retry-list" --out "$out.retry" | sed -u '$d'
    for t in $(sed -n 's/^PASS //p' "$out.retry"); do
      echo "compat/arm64: FLAKY $t (failed, then passed on retry)"
      sed -i "s/^\(FAIL\|SKIP\) $t\( .*\)\?\$/PASS $t/" "$out"
    done
  fi
  grep -E '^(FAIL|SKIP) ' "$out" | sed 's/^/compat\/arm64: REGRESSION (listed as passing): /'
  echo "suite 1.50.0 on aarch64 under qemu: $(grep -c '^PASS ' "$out") passed, $(grep -c '^FAIL ' "$out") failed, $(grep -c '^SKIP ' "$out") skipped"
  ! grep -qE '^(FAIL|SKIP) ' "$out"
}

start=$SECONDS
step chroot "$HERE/chroot.sh" || { echo "arm64: $passed passed, $failed failed"; exit 1; }
step build "$HERE/build.sh" || { echo "arm64: $passed passed, $failed failed"; exit 1; }
step abi "$HERE/abi.sh"
step fallback "$HERE/fallback.sh"
step suite suite_expect
echo "== arm64: times: $(printf '%s, ' "${times[@]}")total $((SECONDS - start)) s"
echo "arm64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
