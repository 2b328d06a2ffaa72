#!/usr/bin/env bash
# Usage: compat/suite/build.sh SUITE LIBDIR
#   SUITE  = 1.50.0 | 1.44.2   (which libuv test suite)
#   LIBDIR = folder holding the libuv.so.1 under test
# Builds libuv's test runner uv_run_tests from that suite's test/*.c (the uv_run_tests sources
# listed in its CMakeLists.txt, Linux part) with libuv's own headers, linked to LIBDIR's
# libuv.so.1 through an rpath to a world-readable copy of it ($STAGE_ROOT/<name>/lib).
# Missing functions do not stop the link (it is made against a stub): a test that calls one dies
# at run time with "symbol lookup error" (lazy binding) and fails; the others run.
# Prints the path of the runner on stdout.
# Cross builds (compat/arm64) set UVRING_SUITE_CC and UVRING_SUITE_NM (compiler and nm for the
# target), UVRING_SUITE_HEADERS (a uv.h folder to build against instead of libuv's own; libuv's
# stays after it for the few tests that include libuv's src/) and UVRING_SUITE_LDFLAGS (more
# link flags); unset, the runner is built natively with libuv's headers.
set -euo pipefail
source "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
SUITE=$1
LIBDIR=$2
check_suite "$SUITE"
[ -d "$LIBDIR" ] || die "LIBDIR $LIBDIR is not a folder"
CC=${UVRING_SUITE_CC:-gcc}
NM=${UVRING_SUITE_NM:-nm}
read -ra EXTRA_LDFLAGS <<< "${UVRING_SUITE_LDFLAGS:-}"
command -v gcc >/dev/null || apt_install build-essential

SRC=$(suite_src "$SUITE")
NAME=$(lib_name "$SUITE" "$LIBDIR")
OBJ=$BUILD_ROOT/$SUITE/obj
OUT=$BUILD_ROOT/$NAME
mkdir -p "$OBJ" "$OUT"

# The test sources of uv_run_tests: every test/*.c named in a `list(APPEND uv_test_sources ...)`
# block of CMakeLists.txt, less the Windows runner.
mapfile -t SOURCES < <(
  awk '/list\(APPEND uv_test_sources/ {inb=1}
       inb { for (i = 1; i <= NF; i++) if ($i ~ /^test\/.*\.c\)?$/) { s=$i; sub(/\)$/, "", s); print s } }
       inb && /\)/ {inb=0}' "$SRC/CMakeLists.txt" | grep -v 'runner-win\.c' | sort -u)
[ ${#SOURCES[@]} -gt 100 ] || die "could not read uv_test_sources from $SRC/CMakeLists.txt"
[[ " ${SOURCES[*]} " == *" test/runner-unix.c "* ]] || die "runner-unix.c not in the source list"

# Flags of libuv's CMake build on Linux (uv_defines, uv_cflags, USING_UV_SHARED).
CFLAGS_SUITE=(-g -std=gnu90 -Wall -Wextra -Wstrict-prototypes -Wno-unused-parameter
  -Wno-sign-compare -Wno-unused-function -fno-strict-aliasing
  -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -D_GNU_SOURCE -D_POSIX_C_SOURCE=200112
  -DUSING_UV_SHARED=1 -I"${UVRING_SUITE_HEADERS:-$SRC/include}" -I"$SRC/test")
[ -z "${UVRING_SUITE_HEADERS:-}" ] || CFLAGS_SUITE+=(-idirafter "$SRC/include")
# Rebuild everything when the compiler, the flags or the unpacked sources change.
FLAGS_ID=$( (printf '%s ' "$CC" "${CFLAGS_SUITE[@]}"; stat -c %Y "$SRC/.complete") | md5sum | cut -c1-8)
if [ "$(cat "$OBJ/.flags" 2>/dev/null)" != "$FLAGS_ID" ]; then
  rm -f "$OBJ"/*.o
  echo "$FLAGS_ID" > "$OBJ/.flags"
fi

compile_one() {
  local src=$1 obj
  obj=$OBJ/$(basename "${src%.c}").o
  if [ ! -f "$obj" ] || [ "$SRC/$src" -nt "$obj" ]; then
    $CC "${CFLAGS_SUITE[@]}" -c "$SRC/$src" -o "$obj.tmp" 2>"$obj.log" || { cat "$obj.log" >&2; return 1; }
    mv "$obj.tmp" "$obj"
  fi
}
export -f compile_one
export SRC OBJ CC
export CFLAGS_SUITE_STR
# (arrays do not cross `export -f`; pass the flags through a string)
CFLAGS_SUITE_STR=$(printf '%q ' "${CFLAGS_SUITE[@]}")
note "compiling the $SUITE suite (${#SOURCES[@]} files) in $OBJ"
printf '%s\n' "${SOURCES[@]}" |
  xargs -P "$(nproc)" -I{} bash -c 'eval "CFLAGS_SUITE=($CFLAGS_SUITE_STR)"; compile_one "$1"' _ {} \
  || die "compiling the $SUITE suite failed"

LIBSTAGE=$(stage_lib "$SUITE" "$LIBDIR")
OBJS=()
for s in "${SOURCES[@]}"; do OBJS+=("$OBJ/$(basename "${s%.c}").o"); done

# Link against a stub libuv.so.1 that defines every uv_* function the objects call, so each one
# becomes an ordinary dynamic reference (PLT, bound lazily); at run time the rpath loads the real
# library under test, and a call to a function it lacks ends that test process with
# "symbol lookup error: ... undefined symbol: uv_xxx" while the other tests run normally.
STUB=$OUT/stub
mkdir -p "$STUB"
$NM --defined-only "${OBJS[@]}" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u > "$STUB/defined.txt"
$NM --undefined-only "${OBJS[@]}" 2>/dev/null | awk '$1 == "U" {print $2}' | grep '^uv_' | sort -u \
  | comm -23 - "$STUB/defined.txt" > "$STUB/uv-used.txt"
sed 's/.*/void &(void) {}/' "$STUB/uv-used.txt" > "$STUB/stub.c"
$CC -shared -fPIC -Wl,-soname,libuv.so.1 -o "$STUB/libuv.so.1" "$STUB/stub.c"
$CC -o "$OUT/uv_run_tests.tmp" "${OBJS[@]}" \
  -L"$STUB" -l:libuv.so.1 -Wl,-rpath,"$LIBSTAGE" -Wl,-z,lazy "${EXTRA_LDFLAGS[@]}" \
  -lpthread -ldl -lrt -lutil -lm
if readelf -rW "$OUT/uv_run_tests.tmp" | grep -v JUMP_SLOT | grep ' uv_' >/dev/null; then
  note "warning: some uv_* functions are referenced by address (bound at load time, not lazily):"
  readelf -rW "$OUT/uv_run_tests.tmp" | grep -v JUMP_SLOT | grep ' uv_' >&2
fi
mv -f "$OUT/uv_run_tests.tmp" "$OUT/uv_run_tests"

# Report the uv_* functions the suite needs and the library lacks.
$NM -D --defined-only "$LIBSTAGE/libuv.so.1" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$OUT/lib-symbols.txt"
comm -23 "$STUB/uv-used.txt" "$OUT/lib-symbols.txt" > "$OUT/missing-symbols.txt" || true
n=$(wc -l < "$OUT/missing-symbols.txt")
if [ "$n" -gt 0 ]; then
  note "$n uv_* function(s) used by the $SUITE suite are missing from $LIBDIR (tests calling them will fail): $OUT/missing-symbols.txt"
fi
echo "$LIBDIR" > "$OUT/libdir"
echo "$OUT/uv_run_tests"
