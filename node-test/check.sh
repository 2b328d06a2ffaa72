#!/usr/bin/env bash
# Usage: node-test/check.sh [LIBDIR]   (what `make node-test` runs in CI)
# The scenarios (run.sh) and then the storm (storm.sh), both on LIBDIR in both backends and on
# Debian's libuv, first on Debian 12's programs, then on Debian 13's (UVRING_DEBIAN=13: in the
# chroot compat/trixie/setup.sh makes once); each prints its own `N passed, N failed` line.
# Fails if any fails.
HERE=$(cd "$(dirname "$0")" && pwd)
rc=0
for deb in 12 13; do
  t0=$(date +%s)
  UVRING_DEBIAN=$deb "$HERE/run.sh" "$@" || rc=1
  UVRING_DEBIAN=$deb "$HERE/storm.sh" "$@" || rc=1
  echo "node-test: Debian $deb took $(( $(date +%s) - t0 ))s"
done
exit $rc
