#!/usr/bin/env bash
# Fetches Debian's Node 18.20.4 (which links libuv.so.1) and unpacks it into node-test/.cache/root,
# without touching the machine's own node. The three node-* JavaScript packages are also unpacked
# into / because Node looks for them under /usr/share/nodejs. Idempotent; needs root.
# Prints the path of the node binary's root folder.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=$HERE/.cache
ROOT=$CACHE/root
PKGS="nodejs=18.20.4+dfsg-1~deb12u3 libnode108 libc-ares2 node-acorn node-cjs-module-lexer node-undici"
if [ ! -x "$ROOT/usr/bin/node" ] || [ ! -d /usr/share/nodejs/acorn ] || [ ! -d /usr/share/nodejs/undici ]; then
  mkdir -p "$CACHE/debs" "$ROOT"
  if ! ls "$CACHE"/debs/libnode108_*.deb >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    (cd "$CACHE/debs" && apt-get download $PKGS >&2 2>/dev/null) || {
      apt-get update -qq >&2
      # shellcheck disable=SC2086
      (cd "$CACHE/debs" && apt-get download $PKGS >&2)
    }
  fi
  for d in "$CACHE"/debs/*.deb; do dpkg -x "$d" "$ROOT"; done
  for d in "$CACHE"/debs/node-*.deb; do dpkg -x "$d" /; done
fi
echo "$ROOT"
