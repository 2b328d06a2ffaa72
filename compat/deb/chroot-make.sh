#!/usr/bin/env bash
# Makes the cached chroot compat/deb/.cache/chroot-SUITE for chroot-test.sh: Debian SUITE
# (trixie or bookworm), minbase, with Debian's nodejs, neovim, lua-luv, lua5.1 and libuv, from the
# archive the machine's apt sources name. The downloaded .debs stay in its /var/cache/apt/archives
# (Debian's libuv is reinstalled from there at the end of the test).
set -euo pipefail
cd "$(dirname "$0")"
suite=${1:?usage: chroot-make.sh trixie|bookworm}
case $suite in
  trixie) libuv=libuv1t64 ;;
  bookworm) libuv=libuv1 ;;
  *) echo "chroot-make: unknown suite $suite" >&2; exit 2 ;;
esac
dir=$PWD/.cache/chroot-$suite
[ -e "$dir/.complete" ] && exit 0
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
uri=${uri:-http://deb.debian.org/debian}
rm -rf "$dir" "$dir.new"
mkdir -p .cache
start=$(date +%s)
echo "== chroot-make: $suite minbase + nodejs neovim lua-luv lua5.1 $libuv from $uri"
mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/cache \
  --include="nodejs,neovim,lua-luv,lua5.1,$libuv" "$suite" "$dir.new" "$uri"
mv "$dir.new" "$dir"
touch "$dir/.complete"
echo "chroot-make: $suite made in $(($(date +%s) - start)) s"
