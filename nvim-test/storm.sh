#!/usr/bin/env bash
# Usage: [UVRING_DEBIAN=12|13] nvim-test/storm.sh [LIBDIR]
# The Neovim Ctrl+Z storm (storm.py) on LIBDIR/libuv.so.1 (default: <repo>/target/release) with
# the epoll and the io_uring backend, and on that Debian's libuv: Debian 12's Neovim 0.7.2
# (default) or, with UVRING_DEBIAN=13, Debian 13's Neovim 0.10 in the chroot of compat/trixie
# (see run.sh), in the machine's tmux. In a private network namespace with only loopback.
# STORM_N instances (default 4), STORM_ROUNDS rounds (default 20). Debian 13's libuv 1.50 holds
# an io_uring of its own (it batches epoll_ctl in one), which the storm requires of it
# (EXPECT_RINGS=1). Prints resume latency per configuration and
# `nvim-storm (Debian N, Neovim V): N passed, N failed`.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DEBIAN=${UVRING_DEBIAN:-12}
case $DEBIAN in 12 | 13) ;; *) echo "nvim-storm: UVRING_DEBIAN must be 12 or 13" >&2; exit 2 ;; esac
if [ -z "${UVRING_NETNS:-}" ]; then
  # Make the chroot first: inside the namespace there is no network.
  if [ "$DEBIAN" = 13 ]; then
    "$REPO/compat/trixie/setup.sh" >/dev/null || { echo "nvim-storm: Debian 13 chroot setup failed" >&2; exit 2; }
  fi
  exec unshare -n -m env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
command -v tmux >/dev/null || { echo "nvim-storm: no tmux (apt-get install tmux)" >&2; exit 2; }
if [ "$DEBIAN" = 13 ]; then
  ROOT=$("$REPO/compat/trixie/setup.sh") || { echo "nvim-storm: Debian 13 chroot setup failed" >&2; exit 2; }
  "$REPO/compat/trixie/mount.sh" "$ROOT" "$LIBDIR" "$HERE" || exit 2
  ver=$(chroot "$ROOT" env -i /usr/bin/nvim --version | sed -n '1s/^NVIM v//p')
  export STORM_CHROOT=$ROOT NVIM=/usr/bin/nvim STORM_TAG="nvim-storm (Debian 13, Neovim $ver)"
  exec python3 "$HERE/storm.py" \
    "uvring-epoll=UV_USE_IO_URING=0,LD_LIBRARY_PATH=/uvr/lib,EXPECT_LIBUV=/uvr/lib/libuv.so.1" \
    "uvring-uring=UV_USE_IO_URING=1,LD_LIBRARY_PATH=/uvr/lib,EXPECT_LIBUV=/uvr/lib/libuv.so.1" \
    "debian-libuv=EXPECT_LIBUV=/usr/lib/x86_64-linux-gnu/libuv.so.1,EXPECT_RINGS=1"
fi
SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
ver=$("${NVIM:-/usr/bin/nvim}" --version | sed -n '1s/^NVIM v//p')
export STORM_TAG="nvim-storm (Debian 12, Neovim $ver)"
exec python3 "$HERE/storm.py" \
  "uvring-epoll=UV_USE_IO_URING=0,LD_LIBRARY_PATH=$LIBDIR,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "uvring-uring=UV_USE_IO_URING=1,LD_LIBRARY_PATH=$LIBDIR,EXPECT_LIBUV=$LIBDIR/libuv.so.1" \
  "debian-libuv=EXPECT_LIBUV=$SYSUV"
