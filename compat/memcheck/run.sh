#!/usr/bin/env bash
# Usage: compat/memcheck/run.sh [--backend epoll|uring|both] [--full | --list FILE]
#                               [--tool memcheck|helgrind|drd] [LIBDIR]
# libuv 1.50's test suite under valgrind, on LIBDIR/libuv.so.1 (default target/release, built
# with debug info: the release profile has debug = 1). Each test runs as compat/suite/run.sh runs
# it (one at a time, user uvtest, private network namespace, 80x24 pty), with valgrind as the
# runner's --prefix. Default list: ci-list.txt (what CI runs); --full: the whole suite.
# Then analyze.py reads valgrind's log of every process of every test and fails on an error
# that involves uvring (see README.md for the criteria, suppressions and exclusions).
# Results: $STAGE-<tool>-<backend>/results/ (report.txt, vg/ logs), summary on stdout.
# Env: UVRING_MEMCHECK_TIMEOUT_MULTIPLIER (default 10): the runner's per-test timeouts times this.
#      UVRING_MEMCHECK_OUTER_TIMEOUT (default 600 s, 90 s on uring): run.sh's outer timeout (SIGKILL);
#      a process hung in io_uring_enter under valgrind ignores the runner's SIGTERM (README.md).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../suite/common.sh
source "$ROOT/compat/suite/common.sh"   # linux_tests, suite_src
die() { echo "compat/memcheck: error: $*" >&2; exit 2; }

BACKENDS="epoll uring" LIST=$HERE/ci-list.txt TOOL=memcheck LIBDIR=$ROOT/target/release
while [ $# -gt 0 ]; do
  case $1 in
    --backend) case ${2:-} in both) BACKENDS="epoll uring" ;; epoll|uring) BACKENDS=$2 ;;
                 *) die "--backend epoll|uring|both" ;; esac; shift 2 ;;
    --full) LIST=; shift ;;
    --list) LIST=${2:-}; shift 2 ;;
    --tool) TOOL=${2:-}; shift 2 ;;
    -*) sed -n '2,11p' "$0" >&2; exit 2 ;;
    *) LIBDIR=$1; shift ;;
  esac
done
case $TOOL in memcheck|helgrind|drd) ;; *) die "--tool memcheck|helgrind|drd" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (compat/suite/run.sh needs it)"
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
LIBDIR=$(cd "$LIBDIR" && pwd) || die "no folder $LIBDIR"
[ -e "$LIBDIR/libuv.so.1" ] || die "no libuv.so.1 in $LIBDIR (run make first)"
[ -z "$LIST" ] || [ -f "$LIST" ] || die "no list $LIST"

STAGE_BASE=${UVRING_SUITE_STAGE:-/var/tmp/uvring-suite}
rc=0
for backend in $BACKENDS; do
  # Each backend and tool its own stage root (own lock, own runner copy, own /tmp).
  stage=$STAGE_BASE-$TOOL-$backend
  out=$stage/results
  vg=$out/vg
  rm -rf "$out"; mkdir -p "$vg"; chmod 755 "$stage" "$out"; chmod 1777 "$vg"
  cp "$HERE/uvring.supp" "$out/uvring.supp"; chmod 644 "$out/uvring.supp"
  case $TOOL in
    memcheck) tool_opts="--tool=memcheck --leak-check=full --show-leak-kinds=definite
      --errors-for-leak-kinds=none --track-origins=yes" ;;
    helgrind) tool_opts="--tool=helgrind --history-level=approx" ;;
    drd) tool_opts="--tool=drd" ;;
  esac
  # The runner forks and execs itself for the test (and spawn helpers): trace the children.
  # UV_TEST_TIMEOUT_MULTIPLIER: the runner's per-test timeouts, for valgrind's slowness.
  prefix="env UV_TEST_TIMEOUT_MULTIPLIER=${UVRING_MEMCHECK_TIMEOUT_MULTIPLIER:-10} valgrind -q $(echo $tool_opts) --trace-children=yes
    --num-callers=40 --error-exitcode=99 --suppressions=$out/uvring.supp
    --log-file=$vg/{test}.%p.log"
  prefix=$(echo $prefix)
  echo "== compat/memcheck: $TOOL, backend $backend, ${LIST:-whole suite}"
  t0=$(date +%s)
  # Tests exclude.txt marks "skip" (every backend) or "skip-<backend>" are left out, visibly.
  listf=$out/list.txt
  # A test hung in io_uring_enter under valgrind (README.md) ignores SIGTERM: on the ring backend
  # the outer timeout (SIGKILL) comes sooner.
  if [ "$backend" = uring ]; then outer=90; else outer=600; fi
  if [ -n "$LIST" ]; then grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$LIST" | awk '{print $1}' > "$listf"
  else linux_tests "$(suite_src 1.50.0)" > "$listf"
  fi
  while read -r t kind reason; do
    case $kind in skip|skip-$backend) ;; *) continue ;; esac
    if grep -qxF "$t" "$listf"; then
      echo "compat/memcheck: not running $t under $TOOL on $backend: $reason"
      grep -vxF "$t" "$listf" > "$listf.new"; mv "$listf.new" "$listf"
    fi
  done < <(grep -v '^[[:space:]]*#' "$HERE/exclude.txt")
  which=(--list "$listf")
  UVRING_SUITE_STAGE=$stage "$ROOT/compat/suite/run.sh" 1.50.0 "$LIBDIR" --backend "$backend" \
    "${which[@]}" --out "$out/suite.txt" --timeout "${UVRING_MEMCHECK_OUTER_TIMEOUT:-$outer}" --prefix "$prefix" \
    > "$out/suite.stdout" 2>&1
  echo "compat/memcheck: suite run $(( $(date +%s) - t0 )) s: $(tail -n 1 "$out/suite.txt")"
  python3 "$HERE/analyze.py" --tool "$TOOL" --backend "$backend" --results "$out/suite.txt" \
    --logs "$vg" --exclude "$HERE/exclude.txt" --report "$out/report.txt" || rc=1
done
exit $rc
