#!/usr/bin/env bash
# Usage: compat/trixie/setup.sh
# Makes (once) and prints the path of a Debian 13 (trixie) chroot holding Debian 13's own Node 20,
# Neovim 0.10, lua-luv and libuv 1.50 (libuv1t64), which node-test/ and nvim-test/ run on uvring.
# The programs need glibc 2.41, so they run in this chroot; uvring built on the host runs there
# unchanged (the tests bind its folder into the chroot and point LD_LIBRARY_PATH at it).
# Cached in compat/trixie/.cache (git-ignored): root/ is the chroot, debs/ debootstrap's downloads.
# The archive is the one the machine's apt sources name (/etc/apt/sources.list.d/debian.sources
# or /etc/apt/sources.list). Needs root and debootstrap (apt-get install debootstrap). Idempotent,
# serialised with flock; a chroot whose package list differs from PKGS below is made again.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${UVRING_TRIXIE_CACHE:-$HERE/.cache}
ROOT=$CACHE/root
# nodejs pulls libnode115 and the node-* modules it needs; neovim pulls lua-luv. Named anyway so
# a change of their dependencies cannot drop them. coreutils, dash, bsdutils (script) are in
# minbase; procps (ps) for nvim-test's uv-spawn-pty; ncurses-base for TERM=xterm-256color.
PKGS=nodejs,neovim,lua-luv,libuv1t64,procps,ncurses-base
STAMP=$ROOT/.uvring-trixie

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PKGS" ] && [ -x "$ROOT/usr/bin/node" ] && [ -x "$ROOT/usr/bin/nvim" ]; then
  echo "$ROOT"; exit 0
fi
command -v debootstrap >/dev/null || { echo "trixie: no debootstrap (apt-get install debootstrap)" >&2; exit 2; }
uri=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | awk '{print $1}' | grep -v security | head -1)
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "trixie: no Debian archive URI in the machine's apt sources" >&2; exit 2; }
# Anything half-made (an interrupted run) goes; nothing may still be mounted inside it.
if [ -d "$ROOT" ]; then
  if grep -qF " $ROOT/" /proc/self/mounts; then
    echo "trixie: something is still mounted under $ROOT; not removing it" >&2; exit 2
  fi
  rm -rf "$ROOT"
fi
mkdir -p "$CACHE/debs"
echo "trixie: debootstrap --variant=minbase --include=$PKGS trixie $ROOT $uri" >&2
t0=$(date +%s)
# Two stages, so that dpkg can be told not to fsync each file of this throw-away tree
# (force-unsafe-io) before it installs anything: about 20 s less. The second stage runs in a
# private mount namespace: whatever it mounts inside the chroot goes with it.
failed() {
  echo "trixie: debootstrap failed ($1); last lines of $CACHE/debootstrap.log:" >&2
  tail -n 20 "$CACHE/debootstrap.log" >&2
  exit 2
}
debootstrap --foreign --variant=minbase --include="$PKGS" --cache-dir="$CACHE/debs" \
  trixie "$ROOT" "$uri" >"$CACHE/debootstrap.log" 2>&1 || failed "first stage"
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/uvring-unsafe-io"
unshare -m chroot "$ROOT" /debootstrap/debootstrap --second-stage >>"$CACHE/debootstrap.log" 2>&1 || failed "second stage"
# Names the scenarios resolve; the chroot's own files, never the host's.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
mkdir -p "$ROOT/uvr"
for p in node nvim; do
  [ -x "$ROOT/usr/bin/$p" ] || { echo "trixie: no /usr/bin/$p in the chroot" >&2; exit 2; }
done
echo "$PKGS" >"$STAMP"
# shellcheck disable=SC2016
echo "trixie: chroot made in $(( $(date +%s) - t0 ))s: $(chroot "$ROOT" dpkg-query -W -f '${Package} ${Version}, ' nodejs neovim lua-luv libuv1t64)" >&2
echo "$ROOT"
