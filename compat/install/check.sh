#!/usr/bin/env bash
# Issue 15: `make install` after a plain `make` installs .pc files with the paths of that install.
# Runs exactly what a packager does: default `make`, then `make install PREFIX=/usr
# LIBDIR=/usr/lib/<multiarch> DESTDIR=<tmp>`; checks every path in the installed libuv.pc and
# libuv-static.pc, then builds and runs a C program against the staged tree through pkg-config,
# linked to libuv.so and, statically, with `pkg-config --static --libs libuv-static`.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=compat/install
arch=$(gcc -print-multiarch)
prefix=/usr
libdir=/usr/lib/$arch
includedir=/usr/include
stage=$(mktemp -d /tmp/uvring-install-test.XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail=0
passed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL: $*"; fail=$((fail + 1)); }

echo "== install-test: make (default paths), then make install PREFIX=$prefix LIBDIR=$libdir DESTDIR=$stage"
make -s all >/dev/null
make -s install PREFIX="$prefix" LIBDIR="$libdir" DESTDIR="$stage" >/dev/null

pcdir=$stage$libdir/pkgconfig
for pc in libuv libuv-static; do
  f=$pcdir/$pc.pc
  if [ ! -f "$f" ]; then bad "$f not installed"; continue; fi
  # Every variable holding a path, and every -L/-I of Libs and Cflags, must be this install's.
  declare -A want=([prefix]=$prefix [exec_prefix]=$prefix [libdir]=$libdir [includedir]=$includedir)
  for v in prefix exec_prefix libdir includedir; do
    got=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable="$v" "$pc")
    if [ "$got" = "${want[$v]}" ]; then ok "$pc.pc $v=$got"; else bad "$pc.pc $v=$got, want ${want[$v]}"; fi
  done
  if grep -n '/usr/local' "$f"; then bad "$pc.pc still names /usr/local"; fi
  # pkgconf drops -I/usr/include and -L/usr/lib/<arch> unless told to keep them.
  for flag in $(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR='' PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config --static --cflags --libs "$pc"); do
    case $flag in
      -L*) p=${flag#-L}; [ "$p" = "$libdir" ] && [ -d "$stage$p" ] && ok "$pc.pc $flag is staged" || bad "$pc.pc $flag" ;;
      -I*) p=${flag#-I}; [ "$p" = "$includedir" ] && [ -f "$stage$p/uv.h" ] && ok "$pc.pc $flag holds uv.h" || bad "$pc.pc $flag" ;;
    esac
  done
done
for f in "$libdir/libuv.so.1.0.0" "$libdir/libuv.so.1" "$libdir/libuv.so" "$libdir/libuv.a" "$includedir/uv.h" "$includedir/uv/unix.h"; do
  if [ -e "$stage$f" ]; then ok "staged $f"; else bad "missing $stage$f"; fi
done

export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage
# shellcheck disable=SC2046
gcc -Wall -Werror -o "$stage/prog-shared" $here/prog.c $(pkg-config --cflags --libs libuv)
out=$(LD_LIBRARY_PATH=$stage$libdir "$stage/prog-shared")
echo "  $out"
case $out in *"from $stage$libdir/libuv.so.1") ok "shared: runs on the staged libuv.so.1" ;; *) bad "shared: $out" ;; esac
# shellcheck disable=SC2046
gcc -Wall -Werror -o "$stage/prog-static" $here/prog.c $(pkg-config --cflags --static --libs libuv-static)
if readelf -d "$stage/prog-static" | grep -q 'NEEDED.*libuv'; then bad "static: still NEEDs libuv"; fi
out=$("$stage/prog-static")
echo "  $out"
case $out in *"from $stage/prog-static") ok "static: libuv.a linked in, runs" ;; *) bad "static: $out" ;; esac

echo "install-test: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
