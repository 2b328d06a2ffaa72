#!/usr/bin/env bash
# Usage: compat/trixie/mount.sh ROOT LIBDIR TESTDIR
# Run inside a private mount namespace (unshare -m), as root. Readies the Debian 13 chroot ROOT
# (made by setup.sh) for one test run: /proc and /dev (with /dev/pts) bound from the host, a fresh
# tmpfs on /tmp, the folder holding the libuv.so.1 under test bound read-only on /uvr/lib and the
# test folder (node-test/ or nvim-test/) read-only on /uvr/test. Everything is mounted in that
# namespace only, so it all goes when the run's last process exits: nothing to unmount, nothing
# left behind in the cached chroot. Refuses to run in the machine's own mount namespace.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 ROOT LIBDIR TESTDIR" >&2; exit 2; }
ROOT=$1 LIBDIR=$2 TESTDIR=$3
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
  echo "trixie: mount.sh must run in a private mount namespace (unshare -m)" >&2; exit 2
fi
[ -x "$ROOT/usr/bin/node" ] || { echo "trixie: $ROOT is not a made chroot (run compat/trixie/setup.sh)" >&2; exit 2; }
mount --bind /proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mkdir -p "$ROOT/uvr/lib" "$ROOT/uvr/test"
mount --bind -o ro "$LIBDIR" "$ROOT/uvr/lib"
mount --bind -o ro "$TESTDIR" "$ROOT/uvr/test"
