#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/tool.sh PROGRAM ARGS...
# Runs one program of the trixie chroot (e.g. aarch64-linux-gnu-gcc) on host paths: the worktree
# and the folders in $ARM_BIND are bound at their own paths (see in_chroot in common.sh).
# compat/suite/build.sh uses it as its compiler and nm for the aarch64 runner.
set -euo pipefail
source "$(dirname "$0")/common.sh"
in_chroot "$@"
