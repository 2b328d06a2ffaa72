# Shared helpers for compat/suite/*.sh (sourced, not executed).
# shellcheck shell=bash

SUITE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SUITE_DIR/../.." && pwd)
CACHE_DIR=${UVRING_SUITE_CACHE:-$SUITE_DIR/.cache}
BUILD_ROOT=${UVRING_SUITE_BUILD:-$SUITE_DIR/.build}
# World-readable place for the library, the runner, the test working copies and the private
# /tmp of the tests (the unprivileged test user cannot reach a checkout under /root). Not under
# /tmp itself: the tests get their own /tmp, bind-mounted over it in a private mount namespace.
STAGE_ROOT=${UVRING_SUITE_STAGE:-/var/tmp/uvring-suite}
TEST_USER=${UVRING_SUITE_USER:-uvtest}
SUITES="1.50.0 1.44.2"
BACKENDS="epoll uring"

die() { echo "compat/suite: error: $*" >&2; exit 2; }
note() { echo "compat/suite: $*" >&2; }

check_suite() {
  case "$1" in
    1.50.0|1.44.2) ;;
    *) die "unknown suite '$1' (expected one of: $SUITES)" ;;
  esac
}

# Debian source package version for each suite.
deb_version() {
  case "$1" in
    1.50.0) echo "1.50.0-2" ;;
    1.44.2) echo "1.44.2-1+deb12u1" ;;
  esac
}

as_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (needs apt-get, useradd, unshare -n, runuser)"
}

apt_install() {
  # Install missing packages (by command or package name), quietly.
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  as_root
  note "apt-get install ${missing[*]}"
  if [ -z "${UVRING_APT_UPDATED:-}" ]; then
    apt-get update -qq >&2 || die "apt-get update failed"
    export UVRING_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

# The Debian archive this machine's apt already uses (its first deb822 URIs line, else the first
# one-line `deb` entry): mirrors and proxies stay the machine's own choice.
debian_archive_uri() {
  local uri
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] || die "no Debian archive in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  echo "${uri%% *}"
}

ensure_deb_src() {
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ ||
     ! grep -rqs "trixie" /etc/apt/sources.list.d/uv-src.sources; then
    as_root
    note "adding deb-src entries (bookworm, trixie) in /etc/apt/sources.list.d/uv-src.sources"
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$(debian_archive_uri)" \
      > /etc/apt/sources.list.d/uv-src.sources
    apt-get update -qq >&2 || die "apt-get update failed"
    export UVRING_APT_UPDATED=1
  fi
}

# suite_src SUITE -> prints the unpacked libuv source dir, fetching it on first use with
# `apt-get source --download-only` into $CACHE_DIR/src and unpacking it WITHOUT Debian's patches
# (they only make tests skip on Debian's build daemons and tweak src/): upstream's suite is the judge.
suite_src() {
  local suite=$1 ver dir
  check_suite "$suite"
  dir=$CACHE_DIR/src/libuv1-$suite
  if [ "$(cat "$dir/.complete" 2>/dev/null)" != "upstream" ]; then
    apt_install dpkg-dev ca-certificates
    ensure_deb_src
    ver=$(deb_version "$suite")
    mkdir -p "$CACHE_DIR/src"
    rm -rf "$dir"
    note "fetching libuv $suite sources (apt-get source --download-only libuv1=$ver)"
    if ! (cd "$CACHE_DIR/src" && apt-get source -qq --download-only "libuv1=$ver" >&2); then
      # The exact Debian revision may have been superseded: take any of that upstream version.
      [ -n "${UVRING_APT_UPDATED:-}" ] || { apt-get update -qq >&2; export UVRING_APT_UPDATED=1; }
      ver=$(apt-cache showsrc libuv1 | sed -n 's/^Version: //p' | grep "^$suite-" | head -n1)
      [ -n "$ver" ] || die "no libuv1 $suite source package found"
      (cd "$CACHE_DIR/src" && apt-get source -qq --download-only "libuv1=$ver" >&2) ||
        die "apt-get source libuv1=$ver failed"
    fi
    (cd "$CACHE_DIR/src" && dpkg-source --skip-patches -x "libuv1_$ver.dsc" "libuv1-$suite" >&2) ||
      die "dpkg-source -x libuv1_$ver.dsc failed"
    [ -f "$dir/test/test-list.h" ] || die "unexpected source layout in $dir"
    echo "upstream" > "$dir/.complete"
  fi
  echo "$dir"
}

# lib_name SUITE LIBDIR -> build/stage name for this suite+library pair.
lib_name() {
  local real
  real=$(cd "$2" && pwd -P)
  echo "$1-$(basename "$real" | tr -c 'A-Za-z0-9._\n-' '_')-$(printf '%s' "$real" | md5sum | cut -c1-8)"
}

# find_lib LIBDIR -> path of the libuv shared object to use.
find_lib() {
  local d=$1
  if [ -e "$d/libuv.so.1" ]; then echo "$d/libuv.so.1"
  elif [ -e "$d/libuv.so" ]; then echo "$d/libuv.so"
  else die "no libuv.so.1 (or libuv.so) in $d"
  fi
}

# stage_lib SUITE LIBDIR -> copies the library to the (world-readable) rpath dir, prints that dir.
stage_lib() {
  local name src dst
  name=$(lib_name "$1" "$2")
  src=$(find_lib "$2")
  dst=$STAGE_ROOT/$name/lib
  mkdir -p "$dst"
  chmod 755 "$STAGE_ROOT" "$STAGE_ROOT/$name" "$dst"
  cp -fL "$src" "$dst/libuv.so.1.tmp"
  chmod 644 "$dst/libuv.so.1.tmp"
  mv -f "$dst/libuv.so.1.tmp" "$dst/libuv.so.1"
  echo "$dst"
}

# linux_tests SUITE_SRC -> test names (not helpers) of the Linux test list, in list order.
linux_tests() {
  gcc -E -P -I "$1/include" "$1/test/test-list.h" |
    sed -n -e 's/^[[:space:]]*TEST_ENTRY[[:space:]]*([[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*).*/\1/p' \
           -e 's/^[[:space:]]*TEST_ENTRY_CUSTOM[[:space:]]*([[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*,[[:space:]]*0[[:space:]]*,.*/\1/p'
}

# never_run -> names of tests that must never be executed.
never_run() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$SUITE_DIR/never-run.txt" | grep -v '^$'
}

# list_file FILE -> test names in an expectation/list file (comments and blanks ignored).
list_file() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' || true
}
