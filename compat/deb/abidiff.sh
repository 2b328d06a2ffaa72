#!/usr/bin/env bash
# abidiff (abigail-tools) of the packaged libuv.so.1 against libuv's, both with debug info:
#  1. against Debian 13's libuv.so.1 (libuv1t64 1.50.0-2, fetched by debian13-libuv.sh): the
#     exported symbols. Its dbgsym lives in the debian-debug archive, which this machine's
#     network refuses, so for types:
#  2. against libuv 1.50.0 built here with debug info from Debian's 1.50.0-2 source package
#     (compat/suite/baseline.sh, the same source as Debian 13's binary): every function's types,
#     with abidiff.suppr.
# Passes when neither reports a removed function, variable or symbol, nor an incompatible change
# (abidiff's exit bit 8), nor any size change, and when every remaining report of (2) is one of
# the kinds listed below (C typedef vs Rust's own spelling of the same type).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
debdir=${DEBDIR:-$here/.cache/build}
res=$here/.cache/abidiff
rm -rf "$res"; mkdir -p "$res/ours"
for f in "$debdir"/libuv1-uvring_*_amd64.deb "$debdir"/libuv1-uvring-dbgsym_*_amd64.deb; do
  [ -e "$f" ] || { echo "abidiff: missing $f (make deb)" >&2; exit 1; }
  dpkg-deb -x "$f" "$res/ours"
done
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ours=$res/ours/usr/lib/$arch/libuv.so.1.0.0
d13=$("$here/debian13-libuv.sh")/usr/lib/$arch/libuv.so.1.0.0
base=$(../suite/baseline.sh 1.50.0)/libuv.so.1
fail=0
passed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL: $*"; fail=$((fail + 1)); }
status() { # name rc report
  if [ $(($2 & 11)) -eq 0 ]; then ok "$1: abidiff exit $2 (no error, no incompatible change)"; else bad "$1: abidiff exit $2"; fi
  if grep -qE '[1-9][0-9]* Removed' "$3"; then bad "$1: removed: $(grep -E '[1-9][0-9]* Removed' "$3")"; else ok "$1: nothing removed"; fi
  if grep -q 'size changed' "$3"; then bad "$1: a size changed: $(grep -m3 'size changed' "$3")"; else ok "$1: no size change"; fi
}

echo "== abidiff 1: Debian 13's libuv.so.1 (symbols) vs $(basename "$(ls "$debdir"/libuv1-uvring_*_amd64.deb)")"
rc=0; abidiff --no-show-locs "$d13" "$ours" >"$res/debian13.txt" 2>&1 || rc=$?
sed 's/^/    /' "$res/debian13.txt" | head -20
n13=$(nm -D --defined-only "$d13" | grep -c ' T uv_')
nours=$(nm -D --defined-only "$ours" | grep -c ' T uv_')
[ "$n13" = 316 ] && [ "$nours" = 316 ] && ok "316 uv_* functions exported by both" || bad "exports: Debian $n13, ours $nours"
status "vs Debian 13" "$rc" "$res/debian13.txt"

echo "== abidiff 2: libuv 1.50.0 built from Debian's source with debug info vs ours with its dbgsym, abidiff.suppr"
rc=0; abidiff --no-show-locs --suppressions "$here/abidiff.suppr" --d2 "$res/ours/usr/lib/debug" \
  "$base" "$ours" >"$res/types.txt" 2>&1 || rc=$?
head -2 "$res/types.txt" | sed 's/^/    /'
status "types" "$rc" "$res/types.txt"
grep -q 'filtered out' "$res/types.txt" && ok "types: DWARF of both read (functions compared)" || bad "types: no function compared"
# What the suppressions cannot reach: a C typedef whose Rust DWARF is another kind of type.
allowed="entity changed from '(typedef uv_[a-z0-9_]+_cb' to 'struct core::option::Option<unsafe extern \"C\" fn\(.*\)>'"
allowed+="|const char' to 'i8'"
allowed+="|typedef (u?int(8|16|32|64)_t|s?size_t|uv_file|uv_uid_t|uv_gid_t|sa_family_t)' to compatible type '[iu](8|16|32|64|size)'"
allowed+="|const (sockaddr|addrinfo)' to 'struct libc::unix::linux_like::(sockaddr|addrinfo)'"
allowed+="|typedef FILE' to compatible type 'struct libc::unix::FILE'"
allowed+="|typedef uv_metrics_t' to compatible type 'struct uv::loop_::uv_metrics_t'"
allowed+="|const uv_process_options_t' to 'struct uv::process::uv_process_options_t')$"
grep -o "entity changed from .*" "$res/types.txt" | sort | uniq -c | sort -rn >"$res/kinds.txt" || true
unknown=$(grep -o "entity changed from .*" "$res/types.txt" | grep -vcE "$allowed" || true)
if [ "$unknown" = 0 ]; then
  ok "types: all $(grep -c 'entity changed' "$res/types.txt" || true) remaining reports are C typedefs spelled as Rust types ($(wc -l <"$res/kinds.txt") kinds, $res/kinds.txt)"
else
  grep -o "entity changed from .*" "$res/types.txt" | grep -vE "$allowed" | sort -u | head -10
  bad "types: $unknown reports of an unexpected kind ($res/types.txt)"
fi
echo "abidiff: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
