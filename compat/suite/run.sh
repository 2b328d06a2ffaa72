#!/usr/bin/env bash
# Usage: compat/suite/run.sh SUITE LIBDIR [--backend epoll|uring] [--list FILE | --all]
#                            [--out RESULTS] [--timeout SECONDS] [--runner FILE] [--emulator FILE]
#                            [--timeout-multiplier N] [--prefix COMMAND]
#   SUITE      1.50.0 | 1.44.2
#   LIBDIR     folder holding the libuv.so.1 under test
#   --backend  epoll (default): UV_USE_IO_URING=0; uring: UV_USE_IO_URING=1
#   --list     run only the tests named in FILE (one per line, # comments); default --all
#   --out      results file (default: .build/<suite>-<lib>/results-<backend>.txt);
#              each test's full output is kept in RESULTS.logs/<test>.log
#   --timeout  outer safety timeout per test in seconds (default 120; the runner has its own)
#   --runner   a runner built elsewhere (e.g. cross-built) instead of build.sh's; it must carry
#              an rpath to $STAGE_ROOT/<name>/lib as build.sh's does (see compat/arm64/)
#   --emulator a static qemu-user for a runner of another architecture: the tests run in an
#              identity-mapped user namespace whose own binfmt_misc hands every binary of the
#              runner's ELF machine to it, so the processes the tests spawn are emulated too
#   --timeout-multiplier  N: the runner's own per-test timeouts times N (its
#              UV_TEST_TIMEOUT_MULTIPLIER, for slow emulation; the outer timeout stays)
#   --prefix   command put before the runner (e.g. valgrind and its options); "{test}" in it
#              becomes the test's name. Same isolation: it runs as uvtest, in the namespace, pty.
# Runs libuv's tests one at a time as the unprivileged user uvtest, inside a private network
# namespace with only loopback up and a private /tmp, each under an 80x24 pseudo-terminal, in a
# private copy of the suite. Tests in never-run.txt are never run. Prints "PASS|FAIL|SKIP name" per test and a last
# line "N passed, N failed, N skipped". Exit status 0 when nothing failed, 1 otherwise. Needs root.
set -uo pipefail
source "$(dirname "$0")/common.sh"

usage() { sed -n '2,24p' "$0" >&2; exit 2; }

if [ "${1:-}" = "--inner" ]; then
  # ---- inside the private network namespace ----------------------------------------------
  shift
  STAGE=$1 RUNNER=$2 WORK=$3 LISTF=$4 RESULTS=$5 BACKEND_VAL=$6 TMO=$7 START=$8 EMU=${9:-} MULT=${10:-} PREFIX=${11:-}
  if [ -n "$EMU" ]; then
    # This user namespace's own binfmt_misc (Linux >= 6.7; the host's is untouched): binaries
    # with the runner's ELF header (class, byte order, machine; ET_EXEC or ET_DYN) go to the
    # emulator, opened now (F) and given the original argv[0] (P).
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
      die "cannot mount a private binfmt_misc (needs Linux >= 6.7)"
    magic=$(od -An -v -tx1 -N20 "$RUNNER" | tr -d ' \n' | sed 's/../\\x&/g')
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
    echo ":uvring-emu:M::$magic:$mask:$EMU:FP" > /proc/sys/fs/binfmt_misc/register ||
      die "cannot register $EMU in binfmt_misc"
  fi
  ip link set lo up || die "ip link set lo up failed"
  ip route add 239.0.0.0/8 dev lo 2>/dev/null || true   # multicast tests, on loopback
  # A private /tmp (the tests use fixed names like /tmp/uv-test-sock; others may run libuv tests
  # on this machine too). unshare -m made the mounts private: nothing leaks out.
  mount --bind "$STAGE/tmp" /tmp || die "cannot bind-mount a private /tmp"
  LOGS=$RESULTS.logs
  rm -rf "$LOGS"; mkdir -p "$LOGS"
  : > "$RESULTS"
  # A stdin that never has data and never reaches EOF (script(1) would send ^D on EOF).
  rm -f "$STAGE/stdin.fifo"; mkfifo -m 600 "$STAGE/stdin.fifo"
  exec 3<>"$STAGE/stdin.fifo"
  home=$(getent passwd "$TEST_USER" | cut -d: -f6)
  test_uid=$(id -u "$TEST_USER")
  pass=0 fail=0 skip=0
  emit() { echo "$1"; echo "$1" >> "$RESULTS"; }
  kill_leftovers() {
    # Processes of this runner binary still alive after the test (by pid, never by name); under
    # an emulator they are processes of this run's private copy of it.
    local p
    for p in /proc/[0-9]*; do
      [ "$p/exe" -ef "${EMU:-$RUNNER}" ] 2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null
      # Under a --prefix (valgrind) the executable is the prefix's: match the runner's path
      # among the arguments of the test user's processes instead.
      [ -n "$PREFIX" ] && [ "$(stat -c %u "$p" 2>/dev/null)" = "$test_uid" ] &&
        { tr '\0' '\n' < "$p/cmdline"; } 2>/dev/null | grep -qxF "$RUNNER" &&
        kill -9 "${p#/proc/}" 2>/dev/null
    done
    return 0
  }
  while read -r t; do
    log=$LOGS/$t.log
    t0=${EPOCHREALTIME/./}
    (cd "$WORK" && timeout -k 10 "$TMO" runuser -u "$TEST_USER" -- env -i \
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin \
        HOME="$home" USER="$TEST_USER" LOGNAME="$TEST_USER" SHELL=/bin/sh TERM=xterm \
        UV_USE_IO_URING="$BACKEND_VAL" ${MULT:+UV_TEST_TIMEOUT_MULTIPLIER=$MULT} \
        script -qec "stty cols 80 rows 24; exec ${PREFIX//\{test\}/$t} $RUNNER $t" /dev/null <&3 >"$log.raw" 2>&1)
    rc=$?
    echo "$t $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms" >> "$LOGS/times.txt"
    tr -d '\r' < "$log.raw" > "$log"; rm -f "$log.raw"
    kill_leftovers
    if [ $rc -eq 0 ] && grep -q "^ok 1 - $t\$" "$log"; then
      pass=$((pass + 1)); emit "PASS $t"
    elif [ $rc -eq 7 ] && grep -q "^ok 1 - $t # SKIP" "$log"; then
      skip=$((skip + 1)); emit "SKIP $t"
    else
      case $rc in
        124) why="outer timeout ${TMO}s" ;;
        137) why="killed after outer timeout ${TMO}s" ;;
        *) if [ $rc -gt 128 ] && [ $rc -lt 160 ]; then why="signal $(kill -l $((rc - 128)))"
           else why="exit $rc"; fi ;;
      esac
      sym=$(sed 's/^# //' "$log" | tr -d '\n' | grep -o 'undefined symbol: [A-Za-z0-9_]*' | head -n 1)
      if [ -n "$sym" ]; then
        last="symbol lookup error, $sym"
      else
        last=$(grep -v -e '^[#[:space:]]*$' -e '^# exit code ' -e '^# Output from process ' \
                 -e "^not ok 1 - $t\$" -e '^# timeout$' "$log" |
               tail -n 3 | cut -c1-200 | paste -sd'\037' | sed 's/\x1f/ | /g')
        grep -q '^# timeout$' "$log" && why="$why, runner timeout"
      fi
      fail=$((fail + 1)); emit "FAIL $t ($why${last:+: $last})"
    fi
  done < "$LISTF"
  exec 3<&-
  rm -f "$STAGE/stdin.fifo"
  note "$(wc -l < "$LISTF") tests in $(( $(date +%s) - START )) s"
  emit "$pass passed, $fail failed, $skip skipped"
  [ $fail -eq 0 ]
  exit
fi

# ---- outer part (root, normal namespace) -----------------------------------------------------
[ $# -ge 2 ] || usage
SUITE=$1 LIBDIR=$2; shift 2
BACKEND=epoll LIST= RESULTS= TMO=120 PREBUILT= EMULATOR= MULT= PREFIX=
while [ $# -gt 0 ]; do
  case $1 in
    --backend) BACKEND=${2:-}; shift 2 ;;
    --list) LIST=${2:-}; shift 2 ;;
    --all) LIST=; shift ;;
    --out) RESULTS=${2:-}; shift 2 ;;
    --timeout) TMO=${2:-}; shift 2 ;;
    --runner) PREBUILT=${2:-}; shift 2 ;;
    --emulator) EMULATOR=${2:-}; shift 2 ;;
    --timeout-multiplier) MULT=${2:-}; shift 2 ;;
    --prefix) PREFIX=${2:-}; shift 2 ;;
    *) usage ;;
  esac
done
check_suite "$SUITE"
case $BACKEND in epoll) BACKEND_VAL=0 ;; uring) BACKEND_VAL=1 ;; *) die "--backend must be epoll or uring" ;; esac
[ -z "$LIST" ] || [ -f "$LIST" ] || die "list file $LIST not found"
as_root
apt_install build-essential bsdutils util-linux iproute2 passwd

if [ -n "$PREBUILT" ]; then
  [ -x "$PREBUILT" ] || die "runner $PREBUILT is not an executable file"
  RUNNER_BUILT=$PREBUILT
else
  RUNNER_BUILT=$("$SUITE_DIR/build.sh" "$SUITE" "$LIBDIR") || die "build failed"
fi
[ -z "$EMULATOR" ] || [ -x "$EMULATOR" ] || die "emulator $EMULATOR is not an executable file"
case $MULT in ''|[1-9]|[1-9][0-9]) ;; *) die "--timeout-multiplier must be a number from 1 to 99" ;; esac
SRC=$(suite_src "$SUITE")
NAME=$(lib_name "$SUITE" "$LIBDIR")
STAGE=$STAGE_ROOT/$NAME
[ -n "$RESULTS" ] || RESULTS=$BUILD_ROOT/$NAME/results-$BACKEND.txt
mkdir -p "$(dirname "$RESULTS")"
RESULTS=$(cd "$(dirname "$RESULTS")" && pwd)/$(basename "$RESULTS")

if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  note "creating user $TEST_USER"
  useradd -m -s /bin/sh "$TEST_USER" || die "useradd $TEST_USER failed"
fi

# One run at a time on this machine: the tests use fixed paths in /tmp.
mkdir -p "$STAGE_ROOT"; chmod 755 "$STAGE_ROOT"
exec 9>"$STAGE_ROOT/.lock"
flock -w 3600 9 || die "another suite run holds $STAGE_ROOT/.lock"

# World-readable runner next to its staged library; a private, writable copy of the suite.
mkdir -p "$STAGE"; chmod 755 "$STAGE"
cp -f "$RUNNER_BUILT" "$STAGE/uv_run_tests.tmp" && chmod 755 "$STAGE/uv_run_tests.tmp" &&
  mv -f "$STAGE/uv_run_tests.tmp" "$STAGE/uv_run_tests"
stage_lib "$SUITE" "$LIBDIR" >/dev/null
EMU=
if [ -n "$EMULATOR" ]; then
  EMU=$STAGE/emulator
  cp -f "$EMULATOR" "$EMU.tmp" && chmod 755 "$EMU.tmp" && mv -f "$EMU.tmp" "$EMU"
fi
WORK=$STAGE/work
rm -rf "$WORK" "$STAGE/tmp"; mkdir -p "$WORK" "$STAGE/tmp"
chmod 1777 "$STAGE/tmp"
cp -a "$SRC/test" "$WORK/test"
chown -R "$TEST_USER:" "$WORK"
chmod 755 "$WORK"

# The test list: the Linux tests of the suite, or the given list; never-run tests removed.
LISTF=$STAGE/list.txt
if [ -z "$LIST" ]; then linux_tests "$SRC" > "$LISTF.all"; else list_file "$LIST" > "$LISTF.all"; fi
never_run > "$STAGE/never-run.txt"
for t in $(grep -xFf "$STAGE/never-run.txt" "$LISTF.all"); do
  note "not running $t (never-run.txt)"
done
grep -vxFf "$STAGE/never-run.txt" "$LISTF.all" > "$LISTF" || true
rm -f "$LISTF.all"

note "suite $SUITE, backend $BACKEND (UV_USE_IO_URING=$BACKEND_VAL), library $(find_lib "$LIBDIR"), $(wc -l < "$LISTF") tests"
# The inner part writes into $STAGE/results* (RESULTS may lie under /tmp, which it cannot see).
INNER=("$SUITE_DIR/run.sh" --inner "$STAGE" "$STAGE/uv_run_tests" "$WORK" "$LISTF"
  "$STAGE/results.txt" "$BACKEND_VAL" "$TMO" "$(date +%s)" "$EMU" "$MULT" "$PREFIX")
if [ -z "$EMU" ]; then
  unshare -n -m -- "${INNER[@]}" | sed -u '$d'
  rc=${PIPESTATUS[0]}
else
  # A user namespace mapping every uid and gid to itself (root writes the maps: util-linux's
  # --map-users needs newuidmap), in which the inner part may mount its own binfmt_misc.
  rm -f "$STAGE/userns.pid" "$STAGE/userns.go"; mkfifo -m 600 "$STAGE/userns.go"
  (
    for _ in $(seq 200); do [ -s "$STAGE/userns.pid" ] && break; sleep 0.05; done
    # No pid: unshare -U failed (and said why); nobody reads the fifo then.
    p=$(cat "$STAGE/userns.pid" 2>/dev/null) || exit 0
    if echo '0 0 4294967295' > "/proc/$p/uid_map" && echo '0 0 4294967295' > "/proc/$p/gid_map"; then
      echo go > "$STAGE/userns.go"
    else
      note "cannot map the user namespace"; echo no > "$STAGE/userns.go"
    fi
  ) &
  unshare -U -n -m --propagation private -- bash -c \
    'echo $$ > "$1/userns.pid"; read -r go < "$1/userns.go"; [ "$go" = go ] || exit 2; shift; exec "$@"' \
    _ "$STAGE" "${INNER[@]}" | sed -u '$d'
  rc=${PIPESTATUS[0]}
  wait
  rm -f "$STAGE/userns.pid" "$STAGE/userns.go"
fi
rm -rf "$RESULTS" "$RESULTS.logs"
cp "$STAGE/results.txt" "$RESULTS" && cp -r "$STAGE/results.txt.logs" "$RESULTS.logs" ||
  die "cannot write $RESULTS"
note "results in $RESULTS, logs in $RESULTS.logs/"
tail -n 1 "$RESULTS"
exit "$rc"
