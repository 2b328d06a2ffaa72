#!/usr/bin/env bash
# Usage: node-test/storm.sh [LIBDIR]
# The Node SIGTSTP/SIGSTOP/SIGCONT/SIGKILL storm (storm.py) on LIBDIR/libuv.so.1 (default:
# <repo>/target/release) with the epoll and the io_uring backend, and on Debian's libuv, in a
# private network namespace with only loopback. UVRING_DEBUG=1 makes each loop report its backend
# (a ring that could not be set up is reported as a failure). Prints `node-storm: N passed, N failed`.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ -z "${UVRING_NETNS:-}" ]; then
  # Fetch Debian's Node first: inside the namespace there is no network.
  "$HERE/setup.sh" >/dev/null || { echo "node-test: setup failed" >&2; exit 2; }
  exec unshare -n env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
ROOT=$("$HERE/setup.sh") || { echo "node-storm: setup failed" >&2; exit 2; }
NODELIB=$ROOT/usr/lib/x86_64-linux-gnu
SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
exec python3 "$HERE/storm.py" "$ROOT/usr/bin/node" \
  "uvring-epoll=UVRING_DEBUG=1,UV_USE_IO_URING=0,LD_LIBRARY_PATH=$LIBDIR:$NODELIB,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "uvring-uring=UVRING_DEBUG=1,UV_USE_IO_URING=1,LD_LIBRARY_PATH=$LIBDIR:$NODELIB,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "debian-libuv=LD_LIBRARY_PATH=$NODELIB,EXPECT_LIBUV=$SYSUV"
