#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/suite.sh [--list FILE | --all] [--out RESULTS] [--timeout SECONDS]
# libuv 1.50's test suite on the aarch64 libuv.so.1 (compat/arm64/build.sh) under qemu-user:
# compat/suite/build.sh cross-compiles the runner (libuv's test/*.c against OUR include/, with
# the chroot's aarch64-linux-gnu-gcc) with its ELF interpreter and an rpath in a world-readable
# copy of the cross glibc, and compat/suite/run.sh runs it one test at a time as the
# unprivileged user, in a private network namespace, under a pty, with --emulator: the chroot's
# static qemu-aarch64 registered in a private binfmt_misc, so the processes the tests spawn
# (the runner itself, as helpers) are emulated too. Prints PASS/FAIL/SKIP per test and
# "N passed, N failed, N skipped"; options as compat/suite/run.sh's. The runner's own per-test
# timeouts are multiplied by 4 (emulation is several times slower: tcp_writealot needs 14-17 s
# of its 5 s here on a loaded machine); a later --timeout-multiplier wins. Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common.sh"
export UVRING_SUITE_BUILD=${UVRING_ARM64_SUITE_BUILD:-$ARM_CACHE/suite-build}
# shellcheck source=../suite/common.sh
source "$ARM_ROOT/compat/suite/common.sh"
arm_need_root
"$HERE/chroot.sh"
[ -e "$ARM_LIBDIR/libuv.so.1" ] || "$HERE/build.sh"

LIBUV=$(suite_src 1.50.0)
# The aarch64 glibc and libgcc the runner and libuv.so.1 load, where the test user can read them.
SYSROOT=$STAGE_ROOT/sysroot-aarch64
mkdir -p "$SYSROOT"
chmod 755 "$STAGE_ROOT" "$SYSROOT"
cp -fL "$CHROOT"/usr/aarch64-linux-gnu/lib/*.so.[0-9]* "$SYSROOT/"
chmod 755 "$SYSROOT"/*

export ARM_BIND="$LIBUV $STAGE_ROOT"
export UVRING_SUITE_CC="$HERE/tool.sh aarch64-linux-gnu-gcc"
export UVRING_SUITE_NM="$HERE/tool.sh aarch64-linux-gnu-nm"
export UVRING_SUITE_HEADERS=$ARM_ROOT/include
export UVRING_SUITE_LDFLAGS="-Wl,--dynamic-linker=$SYSROOT/ld-linux-aarch64.so.1 -Wl,--disable-new-dtags -Wl,-rpath,$SYSROOT"
RUNNER=$("$ARM_ROOT/compat/suite/build.sh" 1.50.0 "$ARM_LIBDIR") || arm_die "cross-building the 1.50.0 runner failed"
arm_is_aarch64 "$RUNNER" || arm_die "$RUNNER is not an aarch64 program"
exec "$ARM_ROOT/compat/suite/run.sh" 1.50.0 "$ARM_LIBDIR" --runner "$RUNNER" \
  --emulator "$CHROOT/usr/bin/qemu-aarch64-static" --timeout-multiplier 4 "$@"
