#!/usr/bin/env bash
# uvring ABI check: our include/ and libuv.so.1 against libuv 1.50.0 and
# Debian's 1.44.2. See README.md in this folder.
#
#   compat/abi/check.sh [options] [path/to/libuv.so.1]
#
#   --install-deps    install what the check needs (gcc, g++, binutils,
#                     pyelftools, libuv reference sources) and exit
#   --allow-missing   functions missing from the library are a warning,
#                     not a failure (non-uv_ exports still fail)
#   --no-lib          skip the exported-symbol check
#   --self-test       also check the checker: libuv 1.50 vs itself, libuv
#                     1.44.2 vs 1.50 through the allowlist, and the symbol
#                     check on Debian's real libuv 1.44.2
#
# Reference material is looked up in $UVRING_ABI_REF (default
# ~/.cache/uvring-abi-ref) and fetched there with Debian's apt when absent.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REF=${UVRING_ABI_REF:-${XDG_CACHE_HOME:-$HOME/.cache}/uvring-abi-ref}
EXPORTS="$HERE/libuv-1.50-exports.txt"
ALLOW="$HERE/allow-1.44.2.txt"
EXPECTED_EXPORTS=316
V150=1.50.0-2
V144=1.44.2-1+deb12u1

ALLOW_MISSING=0
NO_LIB=0
SELF_TEST=0
LIB=""

log() { printf '%s\n' "$*"; }
err() { printf 'check.sh: %s\n' "$*" >&2; }

# ------------------------------------------------------------ dependencies --

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    err "need root for: $*"; return 1; fi
}

PY=""
find_python() {
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import elftools' 2>/dev/null; then
      PY=$p; return 0
    fi
  done
  return 1
}

install_tools() {
  local need=()
  command -v gcc >/dev/null || need+=(gcc)
  command -v g++ >/dev/null || need+=(g++)
  command -v nm >/dev/null || need+=(binutils)
  find_python || need+=(python3 python3-pyelftools)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || return 1
  fi
  if ! find_python; then
    # last resort: pip, for machines without the Debian package
    python3 -m pip install --quiet --user pyelftools 2>/dev/null ||
      python3 -m pip install --quiet --user --break-system-packages pyelftools || return 1
    find_python || { err "pyelftools not importable"; return 1; }
  fi
}

ref_ok() {
  [ -f "$REF/1.50.0/include/uv.h" ] && [ -d "$REF/1.50.0/test" ] && [ -d "$REF/1.50.0/src" ] &&
  [ -f "$REF/1.44.2/include/uv.h" ] && [ -d "$REF/1.44.2/test" ] && [ -d "$REF/1.44.2/src" ] &&
  [ -f "$REF/1.44.2/libuv.so.1" ]
}

# Reference material: libuv 1.50.0 and 1.44.2 sources (include/, test/, and
# src/, which a few tests include) and
# Debian 12's libuv1 / libuv1-dev 1.44.2 (headers and the real .so).
install_ref() {
  ref_ok && return 0
  local tmp
  tmp=$(mktemp -d) || return 1
  chmod 755 "$tmp"  # apt downloads as user _apt
  mkdir -p "$REF/1.50.0" "$REF/1.44.2"
  local local_ref="${UVRING_ABI_LOCAL_REF:-$ROOT/../ref}"
  if [ -d "$local_ref/libuv1-1.50.0/include" ] && [ -d "$local_ref/libuv1-1.44.2/test" ] &&
     ls "$local_ref"/libuv1_1.44.2-1+deb12u1_amd64.deb >/dev/null 2>&1; then
    log "reference: copying from $local_ref"
    cp -r "$local_ref/libuv1-1.50.0/include" "$local_ref/libuv1-1.50.0/test" "$local_ref/libuv1-1.50.0/src" "$REF/1.50.0/"
    cp -r "$local_ref/libuv1-1.44.2/test" "$local_ref/libuv1-1.44.2/src" "$REF/1.44.2/"
    cp "$local_ref"/libuv1_1.44.2-1+deb12u1_amd64.deb "$local_ref"/libuv1-dev_1.44.2-1+deb12u1_amd64.deb "$tmp/"
  else
    log "reference: fetching libuv $V150 and $V144 with apt"
    if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
      uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
      [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
      [ -n "$uri" ] || { err "no Debian archive in the machine's apt sources"; return 1; }
      printf 'Types: deb-src\nURIs: %s\nSuites: bookworm trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${uri%% *}" |
        as_root tee /etc/apt/sources.list.d/uvring-abi-src.sources >/dev/null
    fi
    as_root apt-get update -qq >/dev/null || return 1
    (cd "$tmp" && apt-get source -qq --download-only "libuv1=$V150" "libuv1=$V144" >/dev/null &&
      apt-get download -qq "libuv1=$V144" "libuv1-dev=$V144" >/dev/null) || { err "apt fetch failed"; return 1; }
    (cd "$tmp" && tar xzf libuv1_1.50.0.orig.tar.gz && tar xzf libuv1_1.44.2.orig.tar.gz) || return 1
    cp -r "$tmp"/libuv1-1.50.0/include "$tmp"/libuv1-1.50.0/test "$tmp"/libuv1-1.50.0/src "$REF/1.50.0/"
    cp -r "$tmp"/libuv1-1.44.2/test "$tmp"/libuv1-1.44.2/src "$REF/1.44.2/"
  fi
  mkdir -p "$tmp/deb"
  local d
  for d in "$tmp"/libuv1_1.44.2*.deb "$tmp"/libuv1-dev_1.44.2*.deb; do dpkg -x "$d" "$tmp/deb" || return 1; done
  rm -rf "$REF/1.44.2/include"
  cp -r "$tmp/deb/usr/include" "$REF/1.44.2/include"
  cp -L "$tmp"/deb/usr/lib/*/libuv.so.1 "$REF/1.44.2/libuv.so.1"
  rm -rf "$tmp"
  ref_ok
}

install_deps() { install_tools && install_ref; }

# ------------------------------------------------------------------ checks --

PASSED=0
FAILED=0
WARNINGS=0
RESULTS=()
pass() { PASSED=$((PASSED + 1)); RESULTS+=("PASS  $*"); log "PASS  $*"; }
fail() { FAILED=$((FAILED + 1)); RESULTS+=("FAIL  $*"); log "FAIL  $*"; }
warn() { WARNINGS=$((WARNINGS + 1)); RESULTS+=("WARN  $*"); log "WARN  $*"; }

OUT=""

dump() { # include-dir out-file
  "$PY" "$HERE/abi_dump.py" "$1" "$2"
}

check_layout() { # label theirs-dump ours-dump [diff options]
  local label=$1 theirs=$2 ours=$3; shift 3
  local res
  res=$("$PY" "$HERE/abi_diff.py" "$theirs" "$ours" --label "$label" "$@")
  local rc=$?
  printf '%s\n' "$res" | grep -v '^  allowed ' | sed 's/^/    /'
  local summary
  summary=$(printf '%s\n' "$res" | tail -n 1)
  if [ $rc -eq 0 ]; then pass "layout: $summary"; else fail "layout: $summary"; fi
}

check_header_modes() {
  local bad=() m
  local modes=(
    "gcc -x c -std=gnu89" "gcc -x c -std=gnu99" "gcc -x c -std=gnu11"
    "gcc -x c -std=c99 -D_GNU_SOURCE" "gcc -x c -std=c11 -D_POSIX_C_SOURCE=200809L"
    "g++ -x c++ -std=c++98" "g++ -x c++ -std=c++11" "g++ -x c++ -std=c++17"
  )
  for m in "${modes[@]}"; do
    if ! echo '#include <uv.h>' | $m -Wall -Wextra -pedantic -Werror -fsyntax-only \
        -I "$ROOT/include" - >"$OUT/mode.log" 2>&1; then
      bad+=("$m"); sed 's/^/    /' "$OUT/mode.log" | head -20
    fi
  done
  if [ ${#bad[@]} -eq 0 ]; then
    pass "headers: uv.h compiles cleanly (-Wall -Wextra -pedantic -Werror) in ${#modes[@]} C/C++ modes"
  else
    fail "headers: uv.h fails in: ${bad[*]}"
  fi
}

check_tests_compile() { # version
  local v=$1 tdir="$REF/$1/test"
  local list="$OUT/tests-$v.txt"
  # every test and benchmark source except the Windows-only runner
  ls "$tdir"/*.c | grep -v -- '-win\.c$' >"$list"
  local n
  n=$(wc -l <"$list")
  # A few tests (idna, strscpy, strtok, thread-name) include libuv's own
  # src/ files; those need uv/tree.h, which -idirafter takes from libuv.
  xargs -P "$(nproc)" -I{} sh -c \
    'gcc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -I "$1" -I "$2" -idirafter "$3" "$4" >/dev/null 2>&1 || echo "$4"' \
    _ "$ROOT/include" "$tdir" "$REF/$v/include" {} <"$list" >"$OUT/tests-$v.failed"
  local nf
  nf=$(wc -l <"$OUT/tests-$v.failed")
  if [ "$nf" -eq 0 ]; then
    pass "test sources: all $n of libuv $v's test/*.c compile against our headers"
  else
    local f
    while read -r f; do
      log "    $(basename "$f"):"
      gcc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -I "$ROOT/include" -I "$tdir" \
        -idirafter "$REF/$v/include" "$f" 2>&1 | grep -m5 'error' | sed 's/^/      /'
    done <"$OUT/tests-$v.failed"
    fail "test sources: $nf of $n libuv $v test/*.c files do not compile against our headers"
  fi
}

check_exports_list() {
  local n derived
  n=$(grep -c . "$EXPORTS")
  derived=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import abi_dump
print("\n".join(abi_dump.exported_functions(sys.argv[2])))' "$HERE" "$REF/1.50.0/include/uv.h")
  if [ "$n" -ne "$EXPECTED_EXPORTS" ]; then
    fail "exports list: $EXPORTS has $n names, expected $EXPECTED_EXPORTS"
  elif [ "$derived" != "$(cat "$EXPORTS")" ]; then
    fail "exports list: differs from the UV_EXTERN functions of libuv 1.50.0's uv.h"
  else
    pass "exports list: $n functions, same as the UV_EXTERN prototypes of libuv 1.50.0's uv.h"
  fi
  # Our own header must declare exactly the same functions.
  derived=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import abi_dump
print("\n".join(abi_dump.exported_functions(sys.argv[2])))' "$HERE" "$ROOT/include/uv.h")
  if [ "$derived" = "$(cat "$EXPORTS")" ]; then
    pass "exports list: our uv.h declares the same $n functions"
  else
    fail "exports list: our uv.h declares a different set: $(diff <(echo "$derived") "$EXPORTS" | grep '^[<>]' | tr '\n' ' ')"
  fi
}

check_symbols() { # lib allow-missing label
  local lib=$1 allow=$2 label=$3
  if [ ! -f "$lib" ]; then
    fail "symbols ($label): library not found: $lib (build it, pass its path, or use --no-lib)"
    return
  fi
  local syms="$OUT/syms.txt"
  # name type, defined dynamic symbols only; version nodes (type A) are not symbols
  if ! nm -D --defined-only "$lib" 2>"$OUT/nm.err" | awk 'NF >= 3 && $2 != "A" { print $3, $2 }' | sort >"$syms"; then
    fail "symbols ($label): nm failed: $(cat "$OUT/nm.err")"
    return
  fi
  sed -i 's/@.*\( \)/\1/' "$syms"  # strip symbol versions, if any
  local have missing extra_uv non_uv notfunc total
  total=$(grep -c . "$EXPORTS")
  missing=$(comm -23 "$EXPORTS" <(awk '{print $1}' "$syms" | sort -u))
  have=$((total - $(printf '%s' "$missing" | grep -c .)))
  non_uv=$(awk '$1 !~ /^uv_/ { print $1 }' "$syms" | tr '\n' ' ')
  extra_uv=$(comm -13 "$EXPORTS" <(awk '$1 ~ /^uv_/ { print $1 }' "$syms" | sort -u) | tr '\n' ' ')
  notfunc=$(awk '$1 ~ /^uv_/ && $2 != "T" && $2 != "W" && $2 != "i" { print $1 "(" $2 ")" }' "$syms" |
            grep -wFf "$EXPORTS" | tr '\n' ' ')
  local msg="$have of $total exported"
  if [ -n "$missing" ]; then
    msg="$msg, missing: $(printf '%s' "$missing" | tr '\n' ' ')"
  fi
  log "    $msg"
  if [ -n "$non_uv" ]; then
    fail "symbols ($label): exports symbols other than uv_*: $non_uv"
  else
    pass "symbols ($label): exports nothing but uv_* symbols"
  fi
  if [ -n "$notfunc" ]; then
    fail "symbols ($label): exported as non-functions: $notfunc"
  fi
  if [ -n "$extra_uv" ]; then
    warn "symbols ($label): uv_* symbols libuv 1.50 does not export: $extra_uv"
  fi
  if [ -z "$missing" ]; then
    pass "symbols ($label): all $total libuv 1.50 functions exported"
  elif [ "$allow" = 1 ]; then
    warn "symbols ($label): $have of $total exported, $((total - have)) missing (allowed by --allow-missing)"
  else
    fail "symbols ($label): $have of $total exported, $((total - have)) missing"
  fi
}

check_rust_mirrors() {
  # compat/abi/uvring-abi.h is cbindgen's rendering of src/abi (kept current by the unit test
  # abi::rendering); every size, alignment and field offset of it must equal include/uv.h's.
  local probe="$OUT/rust_vs_c.c" n
  if ! "$PY" "$HERE/rust_vs_c.py" "$HERE/uvring-abi.h" >"$probe" 2>"$OUT/rust_vs_c.err"; then
    fail "rust mirrors: could not write the probe: $(head -c 300 "$OUT/rust_vs_c.err")"
    return
  fi
  n=$(sed -n 's|^/\* \([0-9]*\) field offsets \*/$|\1|p' "$probe")
  if gcc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -I "$ROOT/include" "$probe" >"$OUT/rust_vs_c.log" 2>&1; then
    pass "rust mirrors: src/abi (cbindgen) and include/uv.h agree on $(grep -c '^SAME(sizeof' "$probe") sizes and $n field offsets"
  else
    grep 'static assertion failed\|error' "$OUT/rust_vs_c.log" | head -20 | sed 's/^/    /'
    fail "rust mirrors: src/abi and include/uv.h differ (see above)"
  fi
}

# -------------------------------------------------------------------- main --

main() {
  local a
  for a in "$@"; do
    case "$a" in
      --install-deps) install_deps; exit $? ;;
      --allow-missing) ALLOW_MISSING=1 ;;
      --no-lib) NO_LIB=1 ;;
      --self-test) SELF_TEST=1 ;;
      -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
      -*) err "unknown option $a"; exit 2 ;;
      *) LIB=$a ;;
    esac
  done
  [ -n "$LIB" ] || LIB="$ROOT/target/release/libuv.so.1"

  if ! find_python || ! command -v gcc >/dev/null || ! command -v g++ >/dev/null ||
     ! command -v nm >/dev/null || ! ref_ok; then
    log "== installing dependencies"
    install_deps || { err "could not install dependencies"; exit 2; }
  fi

  OUT=$(mktemp -d "${TMPDIR:-/tmp}/uvring-abi.XXXXXX")
  local start=$SECONDS
  log "== uvring ABI check (reference: $REF, work files: $OUT)"

  log "== layout dumps"
  # the three dumps are independent: run them side by side
  dump "$ROOT/include" "$OUT/ours.txt" & local p1=$!
  dump "$REF/1.50.0/include" "$OUT/libuv-1.50.0.txt" & local p2=$!
  dump "$REF/1.44.2/include" "$OUT/libuv-1.44.2.txt" & local p3=$!
  wait $p1 || { rm -f "$OUT/ours.txt"; fail "layout: our headers could not be dumped"; }
  wait $p2 || exit 2
  wait $p3 || exit 2

  if [ -s "$OUT/ours.txt" ]; then
    log "== layout: ours vs libuv 1.50.0 (every key, both ways)"
    check_layout "ours vs libuv 1.50.0" "$OUT/libuv-1.50.0.txt" "$OUT/ours.txt"
    log "== layout: ours vs libuv 1.44.2 (keys of 1.44.2; allowlist $(basename "$ALLOW"))"
    check_layout "ours vs libuv 1.44.2" "$OUT/libuv-1.44.2.txt" "$OUT/ours.txt" --only-theirs --allow "$ALLOW"
  fi

  if [ $SELF_TEST = 1 ]; then
    log "== self-test: libuv 1.50.0 vs itself, libuv 1.44.2 vs 1.50.0"
    dump "$REF/1.50.0/include" "$OUT/libuv-1.50.0-again.txt" || exit 2
    check_layout "self-test: libuv 1.50.0 vs itself" "$OUT/libuv-1.50.0.txt" "$OUT/libuv-1.50.0-again.txt"
    check_layout "self-test: libuv 1.50.0 vs 1.44.2" "$OUT/libuv-1.44.2.txt" "$OUT/libuv-1.50.0.txt" --only-theirs --allow "$ALLOW"
  fi

  log "== headers in C and C++"
  check_header_modes

  log "== src/abi (rendered by cbindgen) against include/uv.h"
  check_rust_mirrors

  log "== libuv's test sources against our headers"
  check_tests_compile 1.50.0
  check_tests_compile 1.44.2

  log "== exported functions"
  check_exports_list
  if [ $NO_LIB = 0 ]; then
    check_symbols "$LIB" "$ALLOW_MISSING" "$LIB"
  fi
  if [ $SELF_TEST = 1 ]; then
    log "== self-test: symbol check on Debian's real libuv 1.44.2"
    check_symbols "$REF/1.44.2/libuv.so.1" 1 "Debian libuv 1.44.2"
  fi

  log ""
  log "== summary ($((SECONDS - start)) s)"
  local r
  for r in "${RESULTS[@]}"; do log "  $r"; done
  log "abi: $PASSED passed, $FAILED failed"
  if [ $FAILED -eq 0 ]; then
    rm -rf "$OUT"
    exit 0
  fi
  log "(work files kept in $OUT)"
  exit 1
}

main "$@"
