#!/usr/bin/env bash
# Usage: compat/suite/baseline.sh [VERSION...]      (default: 1.50.0 1.44.2)
# Builds the REAL libuv (shared library, from Debian's source package, with its own CMake) into
# $CACHE_DIR/baseline/<version>/ and prints each LIBDIR (a folder holding libuv.so.1), to be
# given to run.sh / update.sh as the reference:
#   compat/suite/run.sh 1.50.0 "$(compat/suite/baseline.sh 1.50.0)"
set -euo pipefail
source "$(dirname "$0")/common.sh"

VERSIONS=${*:-$SUITES}
apt_install build-essential cmake
for v in $VERSIONS; do
  check_suite "$v"
  src=$(suite_src "$v")
  b=$CACHE_DIR/baseline/$v
  if [ ! -e "$b/libuv.so.1" ]; then
    note "building real libuv $v with cmake in $b"
    rm -rf "$b"; mkdir -p "$b"
    cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
      -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DLIBUV_BUILD_SHARED=ON >"$b.log" 2>&1 ||
      { cat "$b.log" >&2; die "cmake configure of libuv $v failed"; }
    cmake --build "$b" --target uv -j "$(nproc)" >>"$b.log" 2>&1 ||
      { tail -n 30 "$b.log" >&2; die "cmake build of libuv $v failed"; }
  fi
  [ -e "$b/libuv.so.1" ] || die "no libuv.so.1 in $b"
  echo "$b"
done
