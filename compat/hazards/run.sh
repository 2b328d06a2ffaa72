#!/usr/bin/env bash
# Usage: compat/hazards/run.sh [LIBDIR]   (default: $UVRING_LIBDIR, else <repo>/target/release)
# Builds the hazard tests (C programs in this folder) against include/ and LIBDIR's libuv.so.1
# (LIBDIR's `uvring` tool is used for `uvring doctor`) and runs them: the io_uring kernel
# hazards of issue 5 and the backend policy. Prints PASS/FAIL/SKIP lines and a final
# "N passed, N failed"; exits non-zero on any failure. Tests that need root (sysctls, another
# user, setuid) print "SKIP (not root)" when not root. Every sysctl changed is restored on exit,
# whatever happens (trap). Needs gcc; installs strace with apt-get when missing (root).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIBDIR=${1:-${UVRING_LIBDIR:-$REPO/target/release}}
if [ ! -f "$LIBDIR/libuv.so.1" ]; then
  echo "compat/hazards: no libuv.so.1 in $LIBDIR (run make lib, or give LIBDIR)" >&2
  exit 2
fi
LIBDIR=$(cd "$LIBDIR" && pwd)

# No ambient setting may bias the tests: each one sets what it needs.
unset UV_USE_IO_URING UVRING_DEBUG UV_THREADPOOL_SIZE

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
SYSCTL_DIS=/proc/sys/kernel/io_uring_disabled
SYSCTL_GRP=/proc/sys/kernel/io_uring_group
OLD_DIS=$(cat "$SYSCTL_DIS" 2>/dev/null || echo "")
OLD_GRP=$(cat "$SYSCTL_GRP" 2>/dev/null || echo "")

# A world-traversable build folder with a copy of the library, so that an unprivileged user
# (test 4) and a process that dropped to nobody (test 6) can load it and use the temp files.
BUILD=$(mktemp -d /tmp/uvring-hazards.XXXXXX)
chmod 755 "$BUILD"
mkdir -p "$BUILD/lib" "$BUILD/tmp" "$BUILD/out"
chmod 1777 "$BUILD/tmp"
export HAZARD_TMP=$BUILD/tmp

restore() {
  if [ "$IS_ROOT" = 1 ]; then
    [ -n "$OLD_GRP" ] && [ "$(cat "$SYSCTL_GRP" 2>/dev/null)" != "$OLD_GRP" ] &&
      echo "$OLD_GRP" > "$SYSCTL_GRP"
    [ -n "$OLD_DIS" ] && [ "$(cat "$SYSCTL_DIS" 2>/dev/null)" != "$OLD_DIS" ] &&
      echo "$OLD_DIS" > "$SYSCTL_DIS"
  fi
  return 0
}
cleanup() {
  restore
  rm -rf "$BUILD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

set_sysctl() { # NAME VALUE
  echo "$2" > "/proc/sys/kernel/$1" 2>/dev/null && [ "$(cat "/proc/sys/kernel/$1")" = "$2" ]
}

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "PASS $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1 ($2)"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1: $2"
  shift 2
  local f
  for f in "$@"; do
    [ -s "$f" ] && sed -n '1,15s/^/    | /p' "$f"
  done
  return 0
}

# HAZARDS_ONLY="1 2 ...": run only those tests (a VM's CI subset, compat/kernels); the others
# print a SKIP line saying so. Default: all.
selected() {
  [ -z "${HAZARDS_ONLY:-}" ] || [[ " $HAZARDS_ONLY " == *" $1 "* ]] && return 0
  skip "$1" "not selected: HAZARDS_ONLY=$HAZARDS_ONLY"
  return 1
}

# ---- build ----
cp "$LIBDIR/libuv.so.1" "$BUILD/lib/libuv.so.1"
UVRING=
if [ -x "$LIBDIR/uvring" ]; then
  cp "$LIBDIR/uvring" "$BUILD/lib/uvring"
  UVRING=$BUILD/lib/uvring
fi
chmod -R a+rX "$BUILD/lib"
# The tests each program serves: with HAZARDS_ONLY, only the programs of those tests are built.
serves() {
  case $1 in
    t_loopfds) echo 1 2 3 4 ;; t_sqpoll) echo 5 ;; t_setuid | t_setuid_raw) echo 6 ;;
    t_stopcont | t_stopidle) echo 7 ;; t_inflight) echo 8 ;; t_fork) echo 9 ;; t_fsheavy) echo 10 ;;
    t_backendfd) echo 11 ;; t_nproc) echo 12 ;;
  esac
}
for src in "$HERE"/t_*.c; do
  name=$(basename "$src" .c)
  if [ -n "${HAZARDS_ONLY:-}" ]; then
    use=0
    for n in $(serves "$name"); do [[ " $HAZARDS_ONLY " == *" $n "* ]] && use=1; done
    [ "$use" = 1 ] || continue
  fi
  if ! gcc -std=gnu11 -O2 -Wall -Wextra -I"$REPO/include" -I"$HERE" -o "$BUILD/$name" "$src" \
      "$BUILD/lib/libuv.so.1" -Wl,-rpath,"$BUILD/lib" 2> "$BUILD/out/$name.cc"; then
    fail "build $name" "gcc failed" "$BUILD/out/$name.cc"
  fi
done
chmod -R a+rX "$BUILD"
[ "$failed" -eq 0 ] || { echo "$passed passed, $failed failed"; exit 1; }

# run NAME TIMEOUT CMD...: stdout to $BUILD/out/NAME.out, stderr to NAME.err; returns the status.
run() {
  local name=$1 secs=$2
  shift 2
  timeout -k 5 "$secs" "$@" > "$BUILD/out/$name.out" 2> "$BUILD/out/$name.err"
}
out() { cat "$BUILD/out/$1.out"; }
err() { cat "$BUILD/out/$1.err"; }
logs() { echo "$BUILD/out/$1.out" "$BUILD/out/$1.err"; }
# The backend line of `uvring doctor` (run with the given prefix command, e.g. runuser).
doctor_line() { "$@" "$UVRING" doctor 2>&1 | grep '^backend of a new loop:'; }

T=$BUILD
WANT_EPOLL='ring_fds_alive=0 ring_fds_after_close=0'
WANT_URING='ring_fds_alive=1 ring_fds_after_close=0'

# ---- 1. UV_USE_IO_URING=0 holds no io_uring descriptor; unset holds one ----
if selected 1; then
t=1-no-ring-with-UV_USE_IO_URING=0
if ! run t1a 30 env UV_USE_IO_URING=0 "$T/t_loopfds"; then
  fail "$t" "loop program failed (status $?)" $(logs t1a)
elif [ "$(out t1a)" != "$WANT_EPOLL" ]; then
  fail "$t" "UV_USE_IO_URING=0: $(out t1a), expected $WANT_EPOLL" $(logs t1a)
elif ! run t1b 30 "$T/t_loopfds"; then
  fail "$t" "loop program failed with the variable unset (status $?)" $(logs t1b)
elif [ "$(out t1b)" != "$WANT_URING" ]; then
  fail "$t" "variable unset: $(out t1b), expected $WANT_URING (the check would prove nothing)" \
    $(logs t1b)
else
  detail="=0: $(out t1a); unset: $(out t1b)"
  if command -v strace > /dev/null; then
    # Not even a transient ring: no io_uring_setup call at all with the variable at 0.
    UV_USE_IO_URING=0 timeout 30 strace -f -qq -e trace=io_uring_setup -o "$T/out/t1c.strace" \
      "$T/t_loopfds" > /dev/null 2>&1
    n=$(grep -c 'io_uring_setup(' "$T/out/t1c.strace")
    if [ "$n" -ne 0 ]; then
      fail "$t" "UV_USE_IO_URING=0 still called io_uring_setup $n time(s)" "$T/out/t1c.strace"
    else
      pass "$t" "$detail; io_uring_setup calls with =0: 0"
    fi
  else
    pass "$t" "$detail"
  fi
fi
fi

# ---- 2. kernel.io_uring_disabled=2: epoll, and the loop and doctor say why ----
if selected 2; then
t=2-sysctl-io_uring_disabled=2
if [ "$IS_ROOT" != 1 ]; then
  skip "$t" "not root"
elif [ -z "$OLD_DIS" ]; then
  fail "$t" "no $SYSCTL_DIS on this kernel"
elif ! set_sysctl io_uring_disabled 2; then
  restore
  fail "$t" "cannot write $SYSCTL_DIS"
else
  run t2a 30 env UVRING_DEBUG=1 "$T/t_loopfds"
  rc_a=$?
  run t2b 30 env UVRING_DEBUG=1 UV_USE_IO_URING=1 "$T/t_loopfds"
  rc_b=$?
  doc=$([ -n "$UVRING" ] && doctor_line)
  restore
  why='uvring: loop backend epoll: kernel.io_uring_disabled=2'
  if [ $rc_a -ne 0 ] || [ $rc_b -ne 0 ]; then
    fail "$t" "loop program failed (status $rc_a, $rc_b)" $(logs t2a) $(logs t2b)
  elif [ "$(out t2a)" != "$WANT_EPOLL" ] || [ "$(out t2b)" != "$WANT_EPOLL" ]; then
    fail "$t" "unset: $(out t2a); UV_USE_IO_URING=1: $(out t2b); expected $WANT_EPOLL"
  elif ! err t2a | grep -qF "$why" || ! err t2b | grep -qF "$why"; then
    fail "$t" "UVRING_DEBUG=1 does not say '$why'" $(logs t2a) $(logs t2b)
  elif [ -z "$UVRING" ]; then
    fail "$t" "no uvring tool in $LIBDIR to run doctor"
  elif ! grep -Eqi '^backend of a new loop: +epoll .*io_uring_disabled=2' <<< "$doc"; then
    fail "$t" "uvring doctor says: $doc"
  else
    pass "$t" "no ring fd (unset and =1); debug: '$(err t2a | grep -F "$why")'; doctor: '$doc'"
  fi
fi
fi

# ---- 3. seccomp filter answering io_uring_setup with EPERM: epoll, and why ----
if selected 3; then
t=3-seccomp-EPERM-on-io_uring_setup
run t3a 30 env UVRING_DEBUG=1 "$T/t_loopfds" seccomp ${UVRING:+"$UVRING" doctor}
rc_a=$?
run t3b 30 env UVRING_DEBUG=1 UV_USE_IO_URING=1 "$T/t_loopfds" seccomp
rc_b=$?
why='uvring: loop backend epoll: io_uring setup failed (EPERM)'
if [ $rc_a -ne 0 ] || [ $rc_b -ne 0 ]; then
  fail "$t" "loop program under seccomp failed (status $rc_a, $rc_b)" $(logs t3a) $(logs t3b)
elif [ "$(out t3a | head -1)" != "$WANT_EPOLL" ] || [ "$(out t3b)" != "$WANT_EPOLL" ]; then
  fail "$t" "unset: $(out t3a | head -1); =1: $(out t3b); expected $WANT_EPOLL"
elif ! err t3a | grep -qF "$why" || ! err t3b | grep -qF "$why"; then
  fail "$t" "UVRING_DEBUG=1 does not say '$why'" $(logs t3a) $(logs t3b)
else
  pass "$t" "timers, async fs and a pipe ran on epoll (unset and =1); debug: '$why...'"
fi
# The same process, still under the filter, asks doctor which backend a new loop gets.
t=3b-doctor-under-seccomp
doc=$(out t3a | grep '^backend of a new loop:')
if [ -z "$UVRING" ]; then
  fail "$t" "no uvring tool in $LIBDIR to run doctor"
elif grep -Eqi '^backend of a new loop: +epoll .*EPERM' <<< "$doc"; then
  pass "$t" "doctor: '$doc'"
else
  fail "$t" "doctor under a seccomp filter that denies io_uring_setup says '$doc', expected\
 Epoll with the EPERM from io_uring_setup"
fi
fi

# ---- 4. unprivileged user outside kernel.io_uring_group, sysctl at 1: epoll ----
if selected 4; then
t=4-unprivileged-with-io_uring_disabled=1
if [ "$IS_ROOT" != 1 ]; then
  skip "$t" "not root"
elif [ -z "$OLD_DIS" ] || [ -z "$OLD_GRP" ]; then
  fail "$t" "no $SYSCTL_DIS / $SYSCTL_GRP on this kernel"
else
  getent passwd uvhazard > /dev/null ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin uvhazard
  HGID=$(id -g uvhazard 2>/dev/null)
  AS_USER=(runuser -u uvhazard -- env HAZARD_TMP="$HAZARD_TMP")
  if [ -z "$HGID" ]; then
    fail "$t" "could not create the user uvhazard"
  elif ! set_sysctl io_uring_group -1 || ! set_sysctl io_uring_disabled 1; then
    restore
    fail "$t" "cannot write the io_uring sysctls"
  else
    run t4a 30 "${AS_USER[@]}" UVRING_DEBUG=1 "$T/t_loopfds"
    rc_a=$?
    run t4b 30 "${AS_USER[@]}" UVRING_DEBUG=1 UV_USE_IO_URING=1 "$T/t_loopfds"
    rc_b=$?
    doc=$([ -n "$UVRING" ] && doctor_line runuser -u uvhazard --)
    run t4c 30 "$T/t_loopfds" # control: root has CAP_SYS_ADMIN
    rc_c=$?
    set_sysctl io_uring_group "$HGID"
    run t4d 30 "${AS_USER[@]}" "$T/t_loopfds" # control: a member of the group gets a ring
    rc_d=$?
    restore
    why='uvring: loop backend epoll: kernel.io_uring_disabled=1 and this process has neither'
    if [ $rc_a -ne 0 ] || [ $rc_b -ne 0 ] || [ $rc_c -ne 0 ] || [ $rc_d -ne 0 ]; then
      fail "$t" "loop program failed (status $rc_a $rc_b $rc_c $rc_d)" $(logs t4a) $(logs t4b) \
        $(logs t4c) $(logs t4d)
    elif [ "$(out t4a)" != "$WANT_EPOLL" ] || [ "$(out t4b)" != "$WANT_EPOLL" ]; then
      fail "$t" "as uvhazard: unset: $(out t4a); =1: $(out t4b); expected $WANT_EPOLL"
    elif ! err t4a | grep -qF "$why" || ! err t4b | grep -qF "$why"; then
      fail "$t" "UVRING_DEBUG=1 does not say '$why'" $(logs t4a) $(logs t4b)
    elif ! grep -Eqi '^backend of a new loop: +epoll .*io_uring_disabled=1' <<< "$doc"; then
      fail "$t" "uvring doctor as uvhazard says: '$doc'"
    elif [ "$(out t4c)" != "$WANT_URING" ]; then
      fail "$t" "control: root (CAP_SYS_ADMIN) with the sysctl at 1: $(out t4c), expected a ring"
    elif [ "$(out t4d)" != "$WANT_URING" ]; then
      fail "$t" "control: uvhazard in kernel.io_uring_group=$HGID: $(out t4d), expected a ring"
    else
      pass "$t" "uvhazard: no ring fd (unset and =1), debug and doctor say why; controls:\
 root and a member of io_uring_group get a ring"
    fi
  fi
fi
fi

# ---- 5. 1000 SQPOLL loop cycles leave no iou-sqp thread ----
if selected 5; then
t=5-sqpoll-threads-gone-after-1000-loops
if run t5 120 env UV_USE_IO_URING=1 "$T/t_sqpoll" "${HAZARDS_SQPOLL_LOOPS:-1000}"; then
  pass "$t" "$(out t5)"
else
  fail "$t" "status $?: $(out t5)" $(logs t5)
fi
fi

# ---- 6. setuid(nobody) after the ring was used: async open of a root-only file is EACCES ----
if selected 6; then
t=6-setuid-after-ring-use
if [ "$IS_ROOT" != 1 ]; then
  skip "$t" "not root"
else
  bad=
  for mode in default uring-sqpoll epoll; do
    case $mode in
      default) run t6-$mode 30 "$T/t_setuid"; want_rings=1 ;;
      uring-sqpoll) run t6-$mode 30 env UV_USE_IO_URING=1 "$T/t_setuid" sqpoll; want_rings=1 ;;
      epoll) run t6-$mode 30 env UV_USE_IO_URING=0 "$T/t_setuid"; want_rings=0 ;;
    esac
    rc=$?
    if [ $rc -ne 0 ]; then
      fail "$t" "$mode: status $rc" $(logs t6-$mode)
      bad=1
    elif ! out t6-$mode | grep -q "ring_fds_at_setuid=$want_rings "; then
      fail "$t" "$mode: expected $want_rings ring fd when the credentials changed: $(out t6-$mode)"
      bad=1
    fi
  done
  # Control without libuv: is the hazard present on this kernel? (Information, not a verdict.)
  mkdir -m 755 "$BUILD/tmp/raw" && echo secret > "$BUILD/tmp/raw/secret" &&
    chmod 600 "$BUILD/tmp/raw/secret"
  ctl=
  for m in plain plain-async sqpoll; do
    r=$(timeout -k 5 20 "$T/t_setuid_raw" "$BUILD/tmp/raw/secret" $m 2>&1 | sed -n 's/^raw_ring_open_after_setuid=//p')
    case $r in
      -13) ctl+=" raw $m ring: EACCES;" ;;
      '' | -*) ctl+=" raw $m ring: ${r:-error};" ;;
      *) ctl+=" raw $m ring: OPENED (the hazard is real here);" ;;
    esac
    # uvring checks credentials only for SQPOLL rings (src/backend/uring.rs): it relies on the
    # kernel giving a plain ring's requests, io-wq ones included, the submitter's credentials.
    if [ "$m" = plain-async ] && [ "$r" != -13 ]; then
      fail "$t" "a plain ring's io-wq request after setuid got '${r:-error}', not EACCES: this kernel needs uvring's credential check for plain rings too"
      bad=1
    fi
  done
  [ -z "$bad" ] && pass "$t" "default: $(out t6-default); SQPOLL: $(out t6-uring-sqpoll); epoll ok;\
 control, same steps on a raw ring without uvring:$ctl"
fi
fi

# ---- 7. 1000 SIGSTOP/SIGCONT pairs during 100k async reads and writes ----
if selected 7; then
for v in 1 0; do
  t=7-sigstop-storm-UV_USE_IO_URING=$v
  if run t7-$v 150 env UV_USE_IO_URING=$v "$T/t_stopcont" 100000 1000; then
    pass "$t" "$(out t7-$v)"
  else
    fail "$t" "status $?: $(out t7-$v)" $(logs t7-$v)
  fi
done

# ---- 7b. stop/continue while the loop is blocked in its wait, a read parked on a pipe ----
for v in 1 0; do
  t=7b-sigstop-while-waiting-UV_USE_IO_URING=$v
  if run t7b-$v 60 env UV_USE_IO_URING=$v "$T/t_stopidle" 200; then
    pass "$t" "$(out t7b-$v | tr '\n' ' ')"
  else
    fail "$t" "status $?: $(out t7b-$v | tr '\n' ' ')" $(logs t7b-$v)
  fi
done
fi

# ---- 8. 10k async file operations in flight at once ----
if selected 8; then
# Submitted before uv_run, and from inside a loop turn (what a ring takes: requests made outside
# uv_run go to the pool, so only the second variant fills the ring far past its size).
for v in 1-before 1-inside 0-before 0-inside; do
  t=8-10k-in-flight-UV_USE_IO_URING=${v%-*}-submitted-${v#*-}
  want=${v%-*}
  if ! run t8-$v 60 env UV_USE_IO_URING=${v%-*} "$T/t_inflight" ${v#*-}; then
    fail "$t" "status $?: $(out t8-$v)" $(logs t8-$v)
  elif ! out t8-$v | grep -q "ring_fds=$want\$"; then
    fail "$t" "wrong backend: $(out t8-$v)"
  else
    pass "$t" "$(out t8-$v)"
  fi
done
fi

# ---- 9. fork: the child's loop works after uv_loop_fork, the parent's is untouched ----
if selected 9; then
for v in unset 0; do
  t=9-fork-UV_USE_IO_URING=$v
  if [ $v = unset ]; then run t9-$v 30 "$T/t_fork"; else run t9-$v 30 env UV_USE_IO_URING=0 "$T/t_fork"; fi
  rc=$?
  want=$([ $v = unset ] && echo 1 || echo 0)
  if [ $rc -ne 0 ]; then
    fail "$t" "status $rc: $(out t9-$v | tr '\n' ' ')" $(logs t9-$v)
  elif ! out t9-$v | grep -q "^child: ring_fds=$want shared_with_parent=0 " ||
    ! out t9-$v | grep -q "^parent: ring_fds=$want "; then
    fail "$t" "$(out t9-$v | tr '\n' ' ')"
  else
    pass "$t" "$(out t9-$v | tr '\n' ' ')"
  fi
done
fi

# ---- 10. strace: in io_uring mode the fs ops go through the ring, no thread does them ----
if selected 10; then
t=10-strace-ops-in-the-ring
if ! command -v strace > /dev/null && [ "$IS_ROOT" = 1 ] && command -v apt-get > /dev/null; then
  (apt-get install -y strace || { apt-get update && apt-get install -y strace; }) \
    > "$T/out/apt.log" 2>&1
fi
N=5000
STAT_RE='^(statx|newfstatat|fstatat64|stat|lstat|fstat)$'
READ_RE='^(pread64|preadv|preadv2|read)$'
if ! command -v strace > /dev/null; then
  fail "$t" "strace is not installed and could not be installed" "$T/out/apt.log"
else
  for v in 1 0; do
    # Summary of the whole process tree (-c -f), then the same syscalls per thread.
    UV_USE_IO_URING=$v timeout -k 5 120 strace -f -c -o "$T/out/t10-$v.sum" "$T/t_fsheavy" $N \
      > "$T/out/t10-$v.out" 2> "$T/out/t10-$v.err"
    rc_c=$?
    UV_USE_IO_URING=$v timeout -k 5 120 strace -f -qq -o "$T/out/t10-$v.log" \
      -e trace=execve,statx,newfstatat,fstat,stat,lstat,pread64,preadv,preadv2,read \
      "$T/t_fsheavy" $N > /dev/null 2>> "$T/out/t10-$v.err"
    rc_l=$?
    calls() { # FILE REGEX: total calls of the matching syscalls in a strace -c summary
      awk -v re="$2" '$NF ~ re && $4 ~ /^[0-9]+$/ { n += $4 } END { print n + 0 }' "$1"
    }
    eval "c_stat_$v=\$(calls \"$T/out/t10-$v.sum\" '$STAT_RE')"
    eval "c_read_$v=\$(calls \"$T/out/t10-$v.sum\" '$READ_RE')"
    eval "c_enter_$v=\$(calls \"$T/out/t10-$v.sum\" '^io_uring_enter\$')"
    eval "c_clone_$v=\$(calls \"$T/out/t10-$v.sum\" '^(clone|clone3)\$')"
    # Per thread: the main thread is the one that execve'd; any other pid is a worker thread.
    main=$(awk 'NR == 1 { print $1 }' "$T/out/t10-$v.log")
    eval "w_stat_$v=\$(awk -v m=\"$main\" '\$1 != m && \$2 ~ /^(statx|newfstatat|fstat|stat|lstat)\\(/' \"$T/out/t10-$v.log\" | wc -l)"
    eval "w_read_$v=\$(awk -v m=\"$main\" '\$1 != m && \$2 ~ /^(pread64|preadv|preadv2)\\(/' \"$T/out/t10-$v.log\" | wc -l)"
    # The loop thread answers a stat itself when the path is in the dentry cache on a local
    # filesystem and few operations are in flight (src/fs/cached_stat.rs: openat2 RESOLVE_CACHED,
    # then statx(fd, "", AT_STATX_DONT_SYNC|AT_EMPTY_PATH)); those cannot block and are counted apart
    # (strace -c cannot tell them apart, so the stat limits use this per-thread log only).
    eval "m_stat_$v=\$(awk -v m=\"$main\" '\$1 == m && \$2 ~ /^(statx|newfstatat|fstat|stat|lstat)\\(/ && !/AT_STATX_DONT_SYNC\\|AT_EMPTY_PATH/' \"$T/out/t10-$v.log\" | wc -l)"
    eval "m_cached_$v=\$(awk -v m=\"$main\" '\$1 == m && \$2 ~ /^statx\\(/ && /AT_STATX_DONT_SYNC\\|AT_EMPTY_PATH/' \"$T/out/t10-$v.log\" | wc -l)"
    eval "m_read_$v=\$(awk -v m=\"$main\" '\$1 == m && \$2 ~ /^(pread64|preadv|preadv2)\\(/' \"$T/out/t10-$v.log\" | wc -l)"
    eval "rc_$v=\$(( rc_c | rc_l ))"
  done
  summary="N=$N async stats + $N async reads. io_uring: io_uring_enter=$c_enter_1, stat-family=$c_stat_1, read-family=$c_read_1, clones=$c_clone_1, by worker threads: stat=$w_stat_1 pread=$w_read_1, by the main thread: stat=$m_stat_1 pread=$m_read_1 (+ $m_cached_1 cached stats that cannot block). UV_USE_IO_URING=0: io_uring_enter=$c_enter_0, stat-family=$c_stat_0, read-family=$c_read_0, clones=$c_clone_0, by worker threads: stat=$w_stat_0 pread=$w_read_0"
  # The program's own code makes no stat/pread call; the dynamic loader makes a few dozen at
  # most. So in io_uring mode: no worker thread stats or preads, and the main thread far fewer
  # than N (the async ops did not become synchronous calls either).
  if [ "$rc_1" -ne 0 ] || [ "$rc_0" -ne 0 ]; then
    fail "$t" "program under strace failed ($rc_1, $rc_0)" "$T/out/t10-1.err" "$T/out/t10-0.err"
  elif [ "$c_enter_1" -lt 1 ] || [ "$w_stat_1" -ne 0 ] || [ "$w_read_1" -ne 0 ] ||
    [ "$m_stat_1" -gt 64 ] || [ "$m_read_1" -gt 64 ] ||
    [ "$c_read_1" -gt 128 ]; then
    fail "$t" "io_uring mode: the ops are not (all) in the ring: $summary" "$T/out/t10-1.sum"
  elif [ "$c_enter_0" -ne 0 ] || [ "$w_stat_0" -lt $N ] || [ "$w_read_0" -lt $N ]; then
    fail "$t" "UV_USE_IO_URING=0: expected the pool to do >= $N stats and preads: $summary" \
      "$T/out/t10-0.sum"
  else
    pass "$t" "$summary"
  fi
fi
fi

# ---- 11. uv_backend_fd is the epoll set in both modes; an outer epoll loop drives uv_run ----
if selected 11; then
t=11-backend-fd-is-epoll
t11_ok=1
for m in 0 1; do
  if ! run "t11-$m" 60 env UV_USE_IO_URING=$m "$T/t_backendfd"; then
    fail "$t" "UV_USE_IO_URING=$m: program failed (status $?)" $(logs "t11-$m")
    t11_ok=0
    break
  fi
  want="backend_fd=epoll enoent=1 fs_done=192 blocking_wakeups=yes ring_fds=$m"
  if [ "$(out "t11-$m")" != "$want" ]; then
    fail "$t" "UV_USE_IO_URING=$m: $(out "t11-$m"), expected $want" $(logs "t11-$m")
    t11_ok=0
    break
  fi
done
[ "$t11_ok" = 1 ] && pass "$t" "both modes: epoll fd, EPOLL_CTL_MOD after uv_poll_stop = ENOENT, 192 fs ops completed by an outer epoll_wait loop (ring in use with =1)"
fi

# ---- 12. a pool that cannot start any thread (RLIMIT_NPROC=1): work completes, stderr says why ----
if selected 12; then
t=12-pool-without-threads
if [ "$IS_ROOT" != 1 ]; then
  skip "$t" "not root (root is exempt from RLIMIT_NPROC: the test runs as uvhazard)"
elif ! getent passwd uvhazard > /dev/null &&
  ! useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin uvhazard; then
  fail "$t" "could not create the user uvhazard"
elif ! run t12 60 runuser -u uvhazard -- env UV_USE_IO_URING=0 prlimit --nproc=1:1 "$T/t_nproc"; then
  fail "$t" "program failed or hung (status $?)" $(logs t12)
elif [ "$(out t12)" != "work_done=3 after_cb=3 fs_done=1 stat_ok=1" ]; then
  fail "$t" "got '$(out t12)'" $(logs t12)
elif ! grep -q '^uvring: cannot start a thread-pool worker' "$T/out/t12.err"; then
  fail "$t" "no message on stderr" $(logs t12)
else
  pass "$t" "$(out t12); stderr: $(head -c 200 "$T/out/t12.err")"
fi
fi

[ "$skipped" -gt 0 ] && echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
