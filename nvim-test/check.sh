#!/usr/bin/env bash
# Usage: nvim-test/check.sh [LIBDIR]   (what `make nvim-test` runs in CI)
# The scenarios (run.sh) and then the storm (storm.sh), both on LIBDIR in both backends and on
# Debian's libuv; each prints its own `N passed, N failed` line. Fails if either fails.
HERE=$(cd "$(dirname "$0")" && pwd)
rc=0
"$HERE/run.sh" "$@" || rc=1
"$HERE/storm.sh" "$@" || rc=1
exit $rc
