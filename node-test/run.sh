#!/usr/bin/env bash
# Usage: node-test/run.sh [LIBDIR] [SCENARIO...]
# Runs Debian's Node 18.20.4 (fetched by setup.sh) on LIBDIR/libuv.so.1 (default: <repo>/target/release)
# with the epoll backend (UV_USE_IO_URING=0) and the io_uring backend (UV_USE_IO_URING=1), and on
# Debian's own libuv.so.1, over every scenario in node-test/scenarios/. Everything runs in a
# private network namespace with only loopback up. Each scenario proves which libuv.so.1 it runs
# on (lib.js reads /proc/self/maps); a first check also proves the backend via UVRING_DEBUG=1.
# Prints a table and `node-test: N passed, N failed`. Needs root (unshare -n, setup.sh).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
if [ -z "${UVRING_NETNS:-}" ]; then
  # Fetch Debian's Node first: inside the namespace there is no network.
  "$HERE/setup.sh" >/dev/null || { echo "node-test: setup failed" >&2; exit 2; }
  exec unshare -n env UVRING_NETNS=1 sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
LIBDIR=$(cd "${1:-$REPO/target/release}" && pwd) || exit 2
shift || true
[ -e "$LIBDIR/libuv.so.1" ] || { echo "node-test: no $LIBDIR/libuv.so.1" >&2; exit 2; }
ROOT=$("$HERE/setup.sh") || { echo "node-test: setup failed" >&2; exit 2; }
NODE=$ROOT/usr/bin/node
NODELIB=$ROOT/usr/lib/x86_64-linux-gnu
SYSUV=$(readlink -f /lib/x86_64-linux-gnu/libuv.so.1)
TIMEOUT=${NODE_TEST_TIMEOUT:-120}
SCRATCH=$(mktemp -d /tmp/uvr-node-test.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
if [ $# -gt 0 ]; then SCEN=("$@"); else
  SCEN=(); for f in "$HERE"/scenarios/*.js; do SCEN+=("$(basename "$f" .js)"); done
fi
CONFIGS=(uvring-epoll uvring-uring debian-libuv)

# with_config CONFIG CMD...: runs CMD with the environment of CONFIG.
with_config() {
  local cfg=$1; shift
  case $cfg in
    uvring-epoll) env UV_USE_IO_URING=0 LD_LIBRARY_PATH="$LIBDIR:$NODELIB" EXPECT_LIBUV="$LIBDIR/libuv.so.1" "$@" ;;
    uvring-uring) env UV_USE_IO_URING=1 LD_LIBRARY_PATH="$LIBDIR:$NODELIB" EXPECT_LIBUV="$LIBDIR/libuv.so.1" "$@" ;;
    debian-libuv) env -u UV_USE_IO_URING LD_LIBRARY_PATH="$NODELIB" EXPECT_LIBUV="$SYSUV" "$@" ;;
  esac
}

pass=0 fail=0
declare -A RES
# Proof: the libuv mapped and, on uvring, the backend each loop chose (UVRING_DEBUG=1).
for cfg in "${CONFIGS[@]}"; do
  out=$(with_config "$cfg" env UVRING_DEBUG=1 SCRATCH="$SCRATCH" "$NODE" -e \
    'console.log(require(process.argv[1]).mappedLibuv(), process.versions.uv)' "$HERE/lib.js" 2>&1)
  case $cfg in
    uvring-epoll) want="uvring: loop backend epoll" ;;
    uvring-uring) want="uvring: loop backend io_uring" ;;
    debian-libuv) want="$SYSUV 1.44.2" ;;
  esac
  if grep -qF "$want" <<<"$out" && { [ "$cfg" = debian-libuv ] || grep -qF "$(readlink -f "$LIBDIR/libuv.so.1") 1.50.0" <<<"$out"; } \
     && ! { [ "$cfg" = debian-libuv ] && grep -q uvring <<<"$out"; }; then
    RES[proof,$cfg]=PASS; pass=$((pass + 1))
  else
    RES[proof,$cfg]=FAIL; fail=$((fail + 1))
  fi
  echo "node-test: proof $cfg: $(tr '\n' ' ' <<<"$out" | sed 's/  */ /g')"
done

start=$(date +%s)
for s in "${SCEN[@]}"; do
  for cfg in "${CONFIGS[@]}"; do
    log=$SCRATCH/$s.$cfg.log
    t0=$(date +%s.%N)
    (cd "$SCRATCH" && with_config "$cfg" env SCRATCH="$SCRATCH" \
      timeout -k 5 "$TIMEOUT" "$NODE" "$HERE/scenarios/$s.js") </dev/null >"$log" 2>&1
    rc=$?
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    if [ $rc -eq 0 ]; then RES[$s,$cfg]="PASS ${dt}s"; pass=$((pass + 1))
    else
      RES[$s,$cfg]="FAIL(rc=$rc) ${dt}s"; fail=$((fail + 1))
      echo "node-test: --- $s on $cfg failed (rc=$rc), last lines:"; tail -n 15 "$log" | sed 's/^/    /'
    fi
  done
done
printf '%-16s %-18s %-18s %-18s %s\n' scenario "${CONFIGS[@]}" ""
for s in proof "${SCEN[@]}"; do
  a=${RES[$s,uvring-epoll]} b=${RES[$s,uvring-uring]} c=${RES[$s,debian-libuv]}
  note=""; [ "${a%% *}" = "${c%% *}" ] && [ "${b%% *}" = "${c%% *}" ] || note="<- differs from Debian's libuv"
  printf '%-16s %-18s %-18s %-18s %s\n' "$s" "$a" "$b" "$c" "$note"
done
echo "node-test: scenarios took $(( $(date +%s) - start ))s"
echo "node-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
