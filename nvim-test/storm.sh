#!/usr/bin/env bash
# Usage: nvim-test/storm.sh [LIBDIR]
# The Neovim Ctrl+Z storm (storm.py) on LIBDIR/libuv.so.1 (default: <repo>/target/release) with
# the epoll and the io_uring backend, and on Debian's libuv, in a private network namespace with
# only loopback. STORM_N instances (default 4), STORM_ROUNDS rounds (default 20).
# Prints resume latency per configuration and `nvim-storm: N passed, N failed`.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ -z "${UVRING_NETNS:-}" ]; then
  exec unshare -n env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
command -v tmux >/dev/null || { echo "nvim-storm: no tmux (apt-get install tmux)" >&2; exit 2; }
SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
exec python3 "$HERE/storm.py" \
  "uvring-epoll=UV_USE_IO_URING=0,LD_LIBRARY_PATH=$LIBDIR,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "uvring-uring=UV_USE_IO_URING=1,LD_LIBRARY_PATH=$LIBDIR,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "debian-libuv=EXPECT_LIBUV=$SYSUV"
