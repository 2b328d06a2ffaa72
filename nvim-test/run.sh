#!/usr/bin/env bash
# Usage: [UVRING_DEBIAN=12|13] nvim-test/run.sh [LIBDIR] [SCENARIO...]
# Runs a Debian Neovim headless on LIBDIR/libuv.so.1 (default: <repo>/target/release) with the
# epoll backend (UV_USE_IO_URING=0) and the io_uring backend (UV_USE_IO_URING=1), and on that
# Debian's own libuv.so.1, over every scenario in nvim-test/scenarios/ (run by harness.lua):
#   UVRING_DEBIAN=12 (default): the machine's Neovim 0.7.2 (Debian 12), Debian's libuv 1.44.2;
#   UVRING_DEBIAN=13: Debian 13's Neovim 0.10.4 in the chroot compat/trixie/setup.sh makes, Debian
#     13's libuv 1.50.0; LIBDIR is bound into the chroot (compat/trixie/mount.sh) and the programs
#     get a clean Debian 13 environment.
# Everything runs in a private network namespace with only loopback up (and a private mount
# namespace). Each scenario proves which libuv.so.1 it runs on (/proc/self/maps); a first check
# also proves the backend via UVRING_DEBUG=1 and that the file mapped is LIBDIR's (same inode).
# A scenario that calls T.skip(why) needs a newer Neovim: shown as SKIP with its reason and
# counted apart. Prints a table and `nvim-test (Debian N, Neovim V): N passed, N failed, N skipped`.
# Needs root (unshare, chroot).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DEBIAN=${UVRING_DEBIAN:-12}
case $DEBIAN in 12 | 13) ;; *) echo "nvim-test: UVRING_DEBIAN must be 12 or 13" >&2; exit 2 ;; esac
if [ -z "${UVRING_NETNS:-}" ]; then
  # Make the chroot first: inside the namespace there is no network.
  if [ "$DEBIAN" = 13 ]; then
    "$REPO/compat/trixie/setup.sh" >/dev/null || { echo "nvim-test: Debian 13 chroot setup failed" >&2; exit 2; }
  fi
  exec unshare -n -m env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
shift || true
[ -e "$LIBDIR/libuv.so.1" ] || { echo "nvim-test: no $LIBDIR/libuv.so.1" >&2; exit 2; }
TIMEOUT=${NVIM_TEST_TIMEOUT:-60}
if [ "$DEBIAN" = 13 ]; then
  ROOT=$("$REPO/compat/trixie/setup.sh") || { echo "nvim-test: Debian 13 chroot setup failed" >&2; exit 2; }
  "$REPO/compat/trixie/mount.sh" "$ROOT" "$LIBDIR" "$HERE" || exit 2
  # IN: the command prefix that enters the chroot, BASE: the clean environment it gets there.
  IN=(chroot "$ROOT" env -i) BASE=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}")
  NVIM=/usr/bin/nvim TDIR=/uvr/test ULIB=/uvr/lib
  SYSUV=/usr/lib/x86_64-linux-gnu/$(basename "$(readlink -f "$ROOT/usr/lib/x86_64-linux-gnu/libuv.so.1")")
  SYSVER=1.50.0
  SCRATCH_IN=$(mktemp -d "$ROOT/tmp/uvr-nvim-test.XXXXXX") && SCRATCH_IN=${SCRATCH_IN#"$ROOT"}
  SCRATCH=$ROOT$SCRATCH_IN
else
  NVIM=${NVIM:-/usr/bin/nvim}
  [ -x "$NVIM" ] || { echo "nvim-test: no $NVIM (apt-get install neovim)" >&2; exit 2; }
  IN=(env) BASE=()
  TDIR=$HERE ULIB=$LIBDIR
  SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
  SYSVER=1.44.2
  SCRATCH=$(mktemp -d /tmp/uvr-nvim-test.XXXXXX) SCRATCH_IN=$SCRATCH
fi
# (In the chroot all of it is on tmpfs mounts of this run's own mount namespace: gone with it.)
trap '[ "$DEBIAN" = 13 ] || rm -rf "$SCRATCH"' EXIT
# Each configuration its own scratch folder; in the chroot its own tmpfs too (the configurations
# run at once, and a scenario may count the free blocks of its file system).
for cfg in uvring-epoll uvring-uring debian-libuv; do
  mkdir -p "$SCRATCH/$cfg"
  if [ "$DEBIAN" = 13 ]; then mount -t tmpfs -o mode=1777 tmpfs "$SCRATCH/$cfg" || exit 2; fi
done
CONFIGS=(uvring-epoll uvring-uring debian-libuv)
# with_config CONFIG DIR [VAR=value...] CMD...: runs CMD in DIR with the environment of CONFIG
# (paths as the program sees them).
with_config() {
  local cfg=$1 dir=$2; shift 2
  local e=("${IN[@]}" -C "$dir" -u UV_USE_IO_URING -u LD_LIBRARY_PATH "${BASE[@]}")
  case $cfg in
    uvring-epoll) "${e[@]}" UV_USE_IO_URING=0 LD_LIBRARY_PATH="$ULIB" EXPECT_LIBUV="$ULIB/libuv.so.1" "$@" ;;
    uvring-uring) "${e[@]}" UV_USE_IO_URING=1 LD_LIBRARY_PATH="$ULIB" EXPECT_LIBUV="$ULIB/libuv.so.1" "$@" ;;
    debian-libuv) "${e[@]}" EXPECT_LIBUV="$SYSUV" "$@" ;;
  esac
}
NVIMVER=$(with_config debian-libuv / "$NVIM" --version 2>/dev/null | sed -n '1s/^NVIM v//p')
TAG="nvim-test (Debian $DEBIAN, Neovim $NVIMVER)"
if [ $# -gt 0 ]; then SCEN=("$@"); else
  SCEN=(); for f in "$HERE"/scenarios/*.lua; do SCEN+=("$(basename "$f" .lua)"); done
fi

pass=0 fail=0 skip=0
declare -A RES
# Proof: the libuv mapped (path and inode, the maps line's own field, which must be LIBDIR's file
# on uvring) and, on uvring, the backend each loop chose (UVRING_DEBUG=1).
ino=$(stat -L -c %i "$LIBDIR/libuv.so.1")
for cfg in "${CONFIGS[@]}"; do
  out=$(with_config "$cfg" "$SCRATCH_IN" UVRING_DEBUG=1 \
    "$NVIM" --headless -u NONE -i NONE -n -c \
    'lua for l in io.lines("/proc/self/maps") do local p = l:match("(/%S*/libuv%.so%S*)"); if p then io.stdout:write(p, " ", vim.loop.version_string(), " inode ", l:match("^%S+%s+%S+%s+%S+%s+%S+%s+(%d+)"), "\n"); break end end' \
    -c 'qa!' </dev/null 2>&1)
  case $cfg in
    uvring-epoll) want="uvring: loop backend epoll" ;;
    uvring-uring) want="uvring: loop backend io_uring" ;;
    debian-libuv) want="$SYSUV $SYSVER" ;;
  esac
  if [ "$cfg" = debian-libuv ]; then
    ok=1; grep -qF "$want" <<<"$out" && ! grep -q uvring <<<"$out" || ok=0
  else
    ok=1; grep -qF "$want" <<<"$out" && grep -qF "$ULIB/$(basename "$(readlink -f "$LIBDIR/libuv.so.1")") 1.50.0 inode $ino" <<<"$out" || ok=0
  fi
  if [ $ok = 1 ]; then RES[proof,$cfg]=PASS; pass=$((pass + 1)); else RES[proof,$cfg]=FAIL; fail=$((fail + 1)); fi
  echo "$TAG: proof $cfg: $(tr '\n' ' ' <<<"$out" | sed 's/  */ /g')"
done

# run_one SCENARIO CONFIG: runs it, its output in $SCRATCH/S.C.log, "rc seconds" in $SCRATCH/S.C.res
run_one() {
  local s=$1 cfg=$2 t0 rc
  t0=$(date +%s.%N)
  with_config "$cfg" "$SCRATCH_IN/$cfg" SCRATCH="$SCRATCH_IN/$cfg" SCENARIO="$TDIR/scenarios/$s.lua" \
    timeout -k 5 "$TIMEOUT" "$NVIM" --headless -u NONE -i NONE -n -c "luafile $TDIR/harness.lua" \
    </dev/null >"$SCRATCH/$s.$cfg.log" 2>&1
  rc=$?
  echo "$rc $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')" >"$SCRATCH/$s.$cfg.res"
}
start=$(date +%s)
skipped=()
for s in "${SCEN[@]}"; do
  # The three configurations of a scenario run at once (UVRING_TEST_SERIAL=1: one at a time).
  for cfg in "${CONFIGS[@]}"; do
    run_one "$s" "$cfg" &
    [ -z "${UVRING_TEST_SERIAL:-}" ] || wait
  done
  wait
  for cfg in "${CONFIGS[@]}"; do
    log=$SCRATCH/$s.$cfg.log
    read -r rc dt <"$SCRATCH/$s.$cfg.res"
    if [ "$rc" -eq 0 ] && grep -q '^ok' "$log"; then RES[$s,$cfg]="PASS ${dt}s"; pass=$((pass + 1))
    elif [ "$rc" -eq 0 ] && grep -q '^SKIP: ' "$log"; then
      RES[$s,$cfg]="SKIP"; skip=$((skip + 1))
      [ "$cfg" = debian-libuv ] && skipped+=("$s: $(sed -n 's/^SKIP: //p' "$log" | head -1)")
    else
      RES[$s,$cfg]="FAIL(rc=$rc) ${dt}s"; fail=$((fail + 1))
      echo "$TAG: --- $s on $cfg failed (rc=$rc), last lines:"; tail -n 15 "$log" | sed 's/^/    /'
    fi
  done
done
echo "$TAG:"
printf '%-14s %-18s %-18s %-18s %s\n' scenario "${CONFIGS[@]}" ""
for s in proof "${SCEN[@]}"; do
  a=${RES[$s,uvring-epoll]} b=${RES[$s,uvring-uring]} c=${RES[$s,debian-libuv]}
  note=""; [ "${a%% *}" = "${c%% *}" ] && [ "${b%% *}" = "${c%% *}" ] || note="<- differs from Debian's libuv"
  printf '%-14s %-18s %-18s %-18s %s\n' "$s" "$a" "$b" "$c" "$note"
done
for x in "${skipped[@]}"; do echo "$TAG: skipped $x"; done
echo "$TAG: scenarios took $(( $(date +%s) - start ))s"
echo "$TAG: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
