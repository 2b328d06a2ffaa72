#!/usr/bin/env bash
# Usage: [UVRING_DEBIAN=12|13] node-test/storm.sh [LIBDIR]
# The Node SIGTSTP/SIGSTOP/SIGCONT/SIGKILL storm with Ctrl+Z resume rounds (storm.py) on
# LIBDIR/libuv.so.1 (default: <repo>/target/release) with the epoll and the io_uring backend, and
# on that Debian's libuv: Debian 12's Node 18 (default) or, with UVRING_DEBIAN=13, Debian 13's
# Node 20 in the chroot of compat/trixie (see run.sh). In a private network namespace with only
# loopback. UVRING_DEBUG=1 makes each loop report its backend (a ring that could not be set up is
# reported as a failure); Debian 13's libuv 1.50 holds rings of its own (it batches epoll_ctl in
# one), which the storm requires of it (EXPECT_RINGS=1). Prints the resume latency per configuration and
# `node-storm (Debian N, Node V): N passed, N failed`.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DEBIAN=${UVRING_DEBIAN:-12}
case $DEBIAN in 12 | 13) ;; *) echo "node-storm: UVRING_DEBIAN must be 12 or 13" >&2; exit 2 ;; esac
if [ -z "${UVRING_NETNS:-}" ]; then
  # Fetch Node (or make the chroot) first: inside the namespace there is no network.
  if [ "$DEBIAN" = 13 ]; then
    "$REPO/compat/trixie/setup.sh" >/dev/null || { echo "node-storm: Debian 13 chroot setup failed" >&2; exit 2; }
  else
    "$HERE/setup.sh" >/dev/null || { echo "node-storm: setup failed" >&2; exit 2; }
  fi
  exec unshare -n -m env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
if [ "$DEBIAN" = 13 ]; then
  ROOT=$("$REPO/compat/trixie/setup.sh") || { echo "node-storm: Debian 13 chroot setup failed" >&2; exit 2; }
  "$REPO/compat/trixie/mount.sh" "$ROOT" "$LIBDIR" "$HERE" || exit 2
  ver=$(chroot "$ROOT" env -i /usr/bin/node -p process.versions.node)
  SYSUV=/usr/lib/x86_64-linux-gnu/libuv.so.1
  export STORM_CHROOT=$ROOT STORM_TAG="node-storm (Debian 13, Node $ver)"
  exec python3 "$HERE/storm.py" /usr/bin/node \
    "uvring-epoll=UVRING_DEBUG=1,UV_USE_IO_URING=0,LD_LIBRARY_PATH=/uvr/lib,EXPECT_LIBUV=/uvr/lib/libuv.so.1" \
    "uvring-uring=UVRING_DEBUG=1,UV_USE_IO_URING=1,LD_LIBRARY_PATH=/uvr/lib,EXPECT_LIBUV=/uvr/lib/libuv.so.1" \
    "debian-libuv=EXPECT_LIBUV=$SYSUV,EXPECT_RINGS=1"
fi
ROOT=$("$HERE/setup.sh") || { echo "node-storm: setup failed" >&2; exit 2; }
NODELIB=$ROOT/usr/lib/x86_64-linux-gnu
SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
ver=$(LD_LIBRARY_PATH=$NODELIB "$ROOT/usr/bin/node" -p process.versions.node)
export STORM_TAG="node-storm (Debian 12, Node $ver)"
exec python3 "$HERE/storm.py" "$ROOT/usr/bin/node" \
  "uvring-epoll=UVRING_DEBUG=1,UV_USE_IO_URING=0,LD_LIBRARY_PATH=$LIBDIR:$NODELIB,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "uvring-uring=UVRING_DEBUG=1,UV_USE_IO_URING=1,LD_LIBRARY_PATH=$LIBDIR:$NODELIB,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "debian-libuv=LD_LIBRARY_PATH=$NODELIB,EXPECT_LIBUV=$SYSUV"
