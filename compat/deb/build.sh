#!/usr/bin/env bash
# `make deb`: builds the Debian packages with `dpkg-buildpackage -us -uc -b` in a copy of this
# tree (the files git tracks or would track, plus vendor/), so the build never walks the test
# caches, and leaves the .debs, .buildinfo and .changes in compat/deb/.cache/build/.
# vendor/ must be there already (`make vendor`); the build itself uses no network.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
version=$(dpkg-parsechangelog -S Version)
upstream=${version%-*}
out=$top/compat/deb/.cache/build
src=$out/uvring-$upstream
[ -d vendor ] || { echo "deb: vendor/ is missing: run 'make vendor' first" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$src"
cp -al vendor "$src/vendor"
# As root the build runs in a network namespace with no interface up: proof that it is offline.
netns=()
if [ "$(id -u)" = 0 ]; then netns=(unshare -n); else echo "deb: not root, so the build is not network-isolated"; fi
echo "== deb: ${netns[*]} dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
start=$(date +%s)
if ! (cd "$src" && "${netns[@]}" dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log"
  echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
  exit 1
fi
grep -E 'dpkg-gensymbols|dpkg-shlibdeps' "$out/build.log" || true
echo "deb: built in $(($(date +%s) - start)) s:"
(cd "$out" && ls -l ./*.deb ./*.changes)
