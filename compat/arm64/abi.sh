#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/abi.sh
# compat/abi's checks for aarch64, in the trixie chroot with the aarch64 cross compiler:
#   1. layout: every type, field, enum constant, prototype and macro of our include/ against
#      libuv 1.50.0's headers, both compiled for aarch64 (abi_dump.py, abi_diff.py; the integer
#      macros are evaluated by a probe run under qemu-aarch64);
#   2. rust mirrors: rust_vs_c.py's probe (src/abi rendered by cbindgen, uvring-abi.h) against
#      include/uv.h, compiled for aarch64;
#   3. symbols: the aarch64 libuv.so.1 (compat/arm64/build.sh) exports libuv 1.50's 316
#      functions and nothing but uv_*;
#   4. sanity: libuv's own headers give a different dump on aarch64 than on x86_64 (so the checks
#      above did look at aarch64 layouts), listed.
# Last line: "abi-arm64: N passed, M failed"; exit 1 if anything failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--inner" ]; then
  # ---- inside the chroot ---------------------------------------------------------------------
  ROOT=$2 LIBUV=$3 LIB=$4
  ABI=$ROOT/compat/abi
  OUT=$(mktemp -d)
  passed=0 failed=0
  pass() { passed=$((passed + 1)); echo "PASS  $*"; }
  fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
  export ABI_EXEC="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
  CC=aarch64-linux-gnu-gcc python3 "$ABI/abi_dump.py" "$ROOT/include" "$OUT/ours.txt" & p1=$!
  CC=aarch64-linux-gnu-gcc python3 "$ABI/abi_dump.py" "$LIBUV/include" "$OUT/libuv.txt" & p2=$!
  wait $p1 || fail "layout: our headers could not be dumped for aarch64"
  wait $p2 || fail "layout: libuv 1.50.0's headers could not be dumped for aarch64"
  if [ -s "$OUT/ours.txt" ] && [ -s "$OUT/libuv.txt" ]; then
    res=$(python3 "$ABI/abi_diff.py" "$OUT/libuv.txt" "$OUT/ours.txt" --label "aarch64: ours vs libuv 1.50.0")
    rc=$?
    printf '%s\n' "$res" | sed 's/^/    /'
    if [ $rc -eq 0 ]; then pass "layout: $(printf '%s\n' "$res" | tail -n 1) ($(wc -l < "$OUT/ours.txt") items)"
    else fail "layout: $(printf '%s\n' "$res" | tail -n 1)"; fi
  fi

  python3 "$ABI/rust_vs_c.py" "$ABI/uvring-abi.h" > "$OUT/rust_vs_c.c" || fail "rust mirrors: no probe"
  n=$(sed -n 's|^/\* \([0-9]*\) field offsets \*/$|\1|p' "$OUT/rust_vs_c.c")
  if aarch64-linux-gnu-gcc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -I "$ROOT/include" "$OUT/rust_vs_c.c" \
      > "$OUT/rust_vs_c.log" 2>&1; then
    pass "rust mirrors: src/abi (cbindgen) and include/uv.h agree on aarch64 on $(grep -c '^SAME(sizeof' "$OUT/rust_vs_c.c") sizes and $n field offsets"
  else
    grep 'static assertion failed\|error' "$OUT/rust_vs_c.log" | head -20 | sed 's/^/    /'
    fail "rust mirrors: src/abi and include/uv.h differ on aarch64 (see above)"
  fi

  exports=$ABI/libuv-1.50-exports.txt
  if ! aarch64-linux-gnu-readelf -h "$LIB" 2>/dev/null | grep -q 'Machine:.*AArch64'; then
    fail "symbols: $LIB is not an aarch64 shared object"
  else
    aarch64-linux-gnu-nm -D --defined-only "$LIB" | awk 'NF >= 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' |
      sort -u > "$OUT/syms.txt"
    missing=$(comm -23 "$exports" "$OUT/syms.txt" | tr '\n' ' ')
    non_uv=$(grep -v '^uv_' "$OUT/syms.txt" | tr '\n' ' ')
    total=$(grep -c . "$exports")
    if [ -z "$missing" ] && [ -z "$non_uv" ]; then
      pass "symbols: the aarch64 libuv.so.1 exports all $total libuv 1.50 functions and nothing but uv_*"
    else
      fail "symbols: aarch64 libuv.so.1: missing: ${missing:-none}; not uv_*: ${non_uv:-none}"
    fi
  fi

  ABI_EXEC='' CC=gcc python3 "$ABI/abi_dump.py" "$LIBUV/include" "$OUT/libuv-x86_64.txt" ||
    fail "sanity: libuv 1.50.0's headers could not be dumped for x86_64"
  if [ -s "$OUT/libuv-x86_64.txt" ] && [ -s "$OUT/libuv.txt" ]; then
    diff "$OUT/libuv-x86_64.txt" "$OUT/libuv.txt" | sed -n 's/^> \([^\t]*\)\t.*/\1/p' > "$OUT/arch.txt"
    nd=$(wc -l < "$OUT/arch.txt")
    if [ "$nd" -gt 0 ]; then
      pass "sanity: libuv 1.50.0's own layout differs between x86_64 and aarch64 in $nd items, checked above: $(head -n 12 "$OUT/arch.txt" | sed 's/^[a-z]* //' | tr '\n' ' ')..."
    else
      fail "sanity: the aarch64 dump equals the x86_64 one: was it really compiled for aarch64?"
    fi
  fi
  rm -rf "$OUT"
  echo "abi-arm64: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

# ---- host --------------------------------------------------------------------------------------
source "$HERE/common.sh"
# shellcheck source=../suite/common.sh
source "$ARM_ROOT/compat/suite/common.sh"
arm_need_root
"$HERE/chroot.sh"
[ -e "$ARM_LIBDIR/libuv.so.1" ] || "$HERE/build.sh"
LIBUV=$(suite_src 1.50.0)
ARM_BIND=$LIBUV in_chroot bash "$HERE/abi.sh" --inner "$ARM_ROOT" "$LIBUV" "$(readlink -f "$ARM_LIBDIR/libuv.so.1")"
