#!/usr/bin/env bash
# A whole system on uvring: `chroot-test.sh trixie|bookworm`. In a Debian chroot (cached in
# compat/deb/.cache/chroot-SUITE, made by mmdebstrap --variant=minbase with Debian's nodejs,
# neovim, lua-luv and libuv), `apt-get install ./libuv1-uvring_*.deb` must replace Debian's libuv
# and remove nothing else; then node (fs, timers, TCP, child processes), nvim headless (a job,
# timers) and lua with luv (timer, fs, TCP) run on it with no LD_LIBRARY_PATH, each printing the
# libuv line of its own /proc/self/maps, which must be the package's file; reinstalling Debian's
# libuv must restore the system. Never touches the host system: the cached chroot is the lower
# layer of an overlay in a private mount namespace, and everything runs in a private network
# namespace with only loopback.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
suite=${1:?usage: chroot-test.sh trixie|bookworm}
debdir=${DEBDIR:-$here/.cache/build}
case $suite in
  trixie) debian_libuv=libuv1t64 ;;
  bookworm) debian_libuv=libuv1 ;;
  *) echo "chroot-test: unknown suite $suite" >&2; exit 2 ;;
esac
cache=$here/.cache
lower=$cache/chroot-$suite
"$here/chroot-make.sh" "$suite"
[ "${2:-}" = "--prepare" ] && exit 0
deb=$(ls "$debdir"/libuv1-uvring_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "chroot-test: no libuv1-uvring .deb in $debdir (make deb)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/uvring-chroot-$suite.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/upper" "$work/work" "$work/root"
cp "$deb" "$here"/chroot/* "$work/upper/" 2>/dev/null || true

echo "== chroot-test $suite: $(basename "$deb") against Debian's $debian_libuv"
unshare -m -n env SUITE="$suite" DEB="$(basename "$deb")" DEBIAN_LIBUV="$debian_libuv" \
    LOWER="$lower" W="$work" HERE="$here" bash "$here/chroot-inner.sh"
