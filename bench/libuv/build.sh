#!/usr/bin/env bash
# Usage: bench/libuv/build.sh NAME LIBDIR
#   NAME   = a label for this build (e.g. uvring, libuv)
#   LIBDIR = folder holding the libuv.so.1 to link against
# Builds libuv 1.50's own benchmark runner (uv_run_benchmarks_a: test/run-benchmarks.c, the
# runner, the echo/blackhole servers and every test/benchmark-*.c of the 1.50 source, as its
# CMakeLists.txt lists them) with libuv 1.50's headers, linked to a world-readable copy of
# LIBDIR's libuv.so.1 through an rpath. Prints the path of the runner on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# The suite's helpers: where libuv's sources are (fetched once, shared cache), die/note.
source "$HERE/../../compat/suite/common.sh"

[ $# -eq 2 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
NAME=$1
LIBDIR=$2
[ -d "$LIBDIR" ] || die "LIBDIR $LIBDIR is not a folder"
command -v gcc >/dev/null || apt_install build-essential
SRC=$(suite_src 1.50.0)
BUILD=${UVRING_BENCH_BUILD:-$HERE/.cache/build}
STAGE=${UVRING_BENCH_STAGE:-/var/tmp/uvring-bench}
OBJ=$BUILD/obj
mkdir -p "$OBJ" "$BUILD/$NAME"

# The runner's sources: the uv_run_benchmarks_a block of CMakeLists.txt (its ${uv_test_sources}
# is, at that point, only the Unix runner).
mapfile -t SOURCES < <(
  { echo test/runner-unix.c
    awk '/add_executable\(/ {inb=0} /uv_run_benchmarks_a/ && /^ *uv_run_benchmarks_a$/ {inb=1}
         inb { for (i = 1; i <= NF; i++) if ($i ~ /^test\/.*\.c\)?$/) { s=$i; sub(/\)$/, "", s); print s } }
         inb && /\)/ {inb=0}' "$SRC/CMakeLists.txt"; } | sort -u)
[ ${#SOURCES[@]} -gt 15 ] || die "could not read the uv_run_benchmarks_a sources from $SRC/CMakeLists.txt"
[[ " ${SOURCES[*]} " == *" test/run-benchmarks.c "* ]] || die "run-benchmarks.c not in the source list"

# libuv's CMake flags on Linux (uv_defines, uv_cflags), optimised like a release build.
CFLAGS_BENCH=(-O2 -g -std=gnu90 -Wall -Wno-unused-parameter -Wno-sign-compare
  -Wno-unused-function -Wno-unused-variable -fno-strict-aliasing
  -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -D_GNU_SOURCE -D_POSIX_C_SOURCE=200112
  -I"$SRC/include" -I"$SRC/test")
FLAGS_ID=$( (printf '%s ' "${CFLAGS_BENCH[@]}"; stat -c %Y "$SRC/.complete") | md5sum | cut -c1-8)
if [ "$(cat "$OBJ/.flags" 2>/dev/null)" != "$FLAGS_ID" ]; then
  rm -f "$OBJ"/*.o
  echo "$FLAGS_ID" > "$OBJ/.flags"
fi
OBJS=()
for s in "${SOURCES[@]}"; do
  o=$OBJ/$(basename "${s%.c}").o
  OBJS+=("$o")
  if [ ! -f "$o" ] || [ "$SRC/$s" -nt "$o" ]; then
    gcc "${CFLAGS_BENCH[@]}" -c "$SRC/$s" -o "$o.tmp" || die "compiling $s failed"
    mv -f "$o.tmp" "$o"
  fi
done

# A world-readable copy of the library (compat/suite's stage_lib), the runner's rpath.
STAGE_ROOT=$STAGE
LIBSTAGE=$(stage_lib 1.50.0 "$LIBDIR")
mkdir -p "$STAGE/$NAME"
chmod 755 "$STAGE/$NAME"
RUNNER=$STAGE/$NAME/uv_run_benchmarks_a
gcc -o "$RUNNER.tmp" "${OBJS[@]}" "$LIBSTAGE/libuv.so.1" -Wl,-rpath,"$LIBSTAGE" \
  -lpthread -ldl -lrt -lm || die "linking the benchmark runner against $LIBDIR failed"
mv -f "$RUNNER.tmp" "$RUNNER"
chmod 755 "$RUNNER"
echo "$LIBDIR" > "$STAGE/$NAME/libdir"
echo "$RUNNER"
