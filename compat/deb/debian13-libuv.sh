#!/usr/bin/env bash
# Fetches Debian 13's libuv1t64 and libuv1-dev through a private APT_CONFIG: own sources list
# and state under compat/deb/.cache/apt-trixie, so the system's sources are never changed.
# Unpacks both into compat/deb/.cache/debian13-libuv/ and prints that folder.
# (Its debug info, libuv1t64-dbgsym, lives in the debian-debug archive, suite trixie-debug, which
# this machine's network refuses: "400 Bad Request". abidiff.sh takes the types from libuv
# 1.50.0 built here from Debian's 1.50.0-2 source instead, see there.)
set -euo pipefail
cd "$(dirname "$0")"
c=$PWD/.cache/apt-trixie
out=$PWD/.cache/debian13-libuv
if [ -e "$out/.complete" ]; then echo "$out"; exit 0; fi
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
uri=${uri:-http://deb.debian.org/debian}
mkdir -p "$c/lists/partial" "$c/cache/archives/partial" "$c/parts" "$c/prefs" "$c/dl"
: > "$c/status"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$c/sources.list" <<EOS
deb [signed-by=$key] $uri trixie main
EOS
cat > "$c/apt.conf" <<EOS
Dir::Etc::SourceList "$c/sources.list";
Dir::Etc::SourceParts "$c/parts";
Dir::Etc::Preferences "$c/nonexistent";
Dir::Etc::PreferencesParts "$c/prefs";
Dir::State::Lists "$c/lists";
Dir::State::status "$c/status";
Dir::Cache "$c/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
EOS
export APT_CONFIG=$c/apt.conf
apt-get update -qq
(cd "$c/dl" && rm -f ./*.deb && apt-get download -qq libuv1t64 libuv1-dev)
rm -rf "$out"
mkdir -p "$out"
for f in "$c"/dl/*.deb; do
  [ -s "$f" ] || { echo "debian13-libuv: download of $f failed" >&2; exit 1; }
  dpkg-deb -x "$f" "$out"
done
ls "$c"/dl >&2
touch "$out/.complete"
echo "$out"
