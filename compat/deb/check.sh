#!/usr/bin/env bash
# Checks the packages `make deb` built (compat/deb/.cache/build): lintian with no error or
# warning (overrides in debian/*.lintian-overrides, each with its reason), and the library's
# ELF: soname, NEEDED entries, hardening (RELRO, BIND_NOW), glibc symbol versions no newer than
# Debian 12's (a package built here must install on Debian 12 and 13), debug info split into the
# dbgsym package under the library's build-id.
set -euo pipefail
cd "$(dirname "$0")"
debdir=${DEBDIR:-$PWD/.cache/build}
changes=$(ls "$debdir"/uvring_*_amd64.changes 2>/dev/null | head -1)
[ -n "$changes" ] || { echo "check: no .changes in $debdir (make deb)" >&2; exit 1; }
fail=0
passed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL: $*"; fail=$((fail + 1)); }

echo "== lintian $(lintian --version | cut -d' ' -f2) on $(basename "$changes") (all packages, --pedantic shown)"
lintian --pedantic -I --profile debian "$changes" 2>/dev/null | tee "$debdir/lintian.txt" | sed 's/^/    /'
n_ew=$(grep -cE '^[EW]: ' "$debdir/lintian.txt" || true)
[ "$n_ew" = 0 ] && ok "lintian: 0 errors, 0 warnings ($(grep -c . "$debdir/lintian.txt" || true) other lines)" || bad "lintian: $n_ew errors/warnings"

echo "== the library in $(basename "$(ls "$debdir"/libuv1-uvring_*.deb)")"
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$(ls "$debdir"/libuv1-uvring_*.deb)" "$x"
dpkg-deb -x "$(ls "$debdir"/libuv1-uvring-dbgsym_*.deb)" "$x"
lib=$(ls "$x"/usr/lib/*/libuv.so.1.0.0)
readelf -d "$lib" | grep -q 'SONAME.*\[libuv.so.1\]' && ok "soname libuv.so.1" || bad "soname"
needed=$(readelf -d "$lib" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "    NEEDED: $needed"
# libc.so.6 as libuv; ld-linux: __tls_get_addr, for Rust's thread-locals in a shared object (a
# TLS model without it is nightly-only). The unwinder Rust's std calls (_Unwind_*, even with
# panic=abort) is linked in statically by build.rs: no libgcc_s.so.1.
extra=$(echo "$needed" | tr ' ' '\n' | grep -vxE 'libc\.so\.6|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1|' || true)
[ -z "$extra" ] && ok "NEEDED within libc.so.6, ld-linux" || bad "unexpected NEEDED: $extra"
readelf -lW "$lib" | grep -q GNU_RELRO && ok "RELRO" || bad "no GNU_RELRO"
readelf -d "$lib" | grep -qE 'BIND_NOW|FLAGS_1.*NOW' && ok "BIND_NOW" || bad "no BIND_NOW"
readelf -lW "$lib" | grep GNU_STACK | grep -q 'RW ' && ok "non-executable stack" || bad "executable stack"
glibc=$(objdump -T "$lib" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
if dpkg --compare-versions "$glibc" le 2.36; then ok "newest glibc symbol version $glibc (Debian 12 has 2.36, 13 has 2.41)"; else bad "needs glibc $glibc"; fi
[ "$(nm -D --defined-only "$lib" | grep -c ' T uv_')" = 316 ] && ok "316 uv_* functions exported" || bad "export count"
[ -z "$(nm -D --defined-only "$lib" | grep ' T ' | grep -v ' T uv_')" ] && ok "only uv_* exported" || bad "non-uv exports"
readelf -S "$lib" | grep -q '\.debug_info' && bad "debug info left in the runtime package" || ok "runtime library stripped"
bid=$(readelf -n "$lib" | sed -n 's/.*Build ID: *//p')
dbg=$x/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
[ -f "$dbg" ] && readelf -S "$dbg" | grep -q '\.debug_info' && ok "dbgsym holds its debug info (build-id $bid)" || bad "no debug info for build-id $bid"
echo "check: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
