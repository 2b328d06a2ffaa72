#!/usr/bin/env bash
# Usage: compat/kernels/run.sh [--full] [--storm] [LIBDIR]
# uvring on the kernels Debian ships: bullseye's 5.10, bookworm's 6.1 and trixie's 6.12, each
# booted in qemu-system-x86_64 (TCG) from an initramfs (fetch.sh, vm.sh), the host's / read-only
# over 9p, running guest.sh inside: doctor's verdict and UVRING_DEBUG=1 per backend
# (UV_USE_IO_URING=0, unset, =1), the exit-fix verdict against /proc/kallsyms, the ring's probed
# features and the fallbacks (t_fallback.c), compat/hazards, and libuv 1.50's suite per backend.
#   (default)  CI: the suite's named subset suite-ci.txt in each backend      (`make kernels`)
#   --full     the suite's whole expectation list in each backend, and what does not pass is
#              run again on real libuv 1.50 in the same VM as evidence       (`make kernels-full`)
#   --storm    also the Neovim Ctrl+Z storm in the 6.1 VM, default backend then UV_USE_IO_URING=1
# UVRING_KERNELS="bullseye bookworm trixie" picks kernels, UVRING_KERNELS_SUITE_VARS="0 unset 1"
# the suite's backends (full: the run in parts). Prints per kernel what passed, then
# "N passed, N failed"; exits non-zero on anything unexpected. Needs root.
set -uo pipefail
source "$(dirname "$0")/common.sh"
MODE=ci STORM=0 LIBDIR=
while [ $# -gt 0 ]; do
  case $1 in
    --full) MODE=full; shift ;;
    --storm) STORM=1; shift ;;
    -*) sed -n '2,16p' "$0" >&2; exit 2 ;;
    *) LIBDIR=$1; shift ;;
  esac
done
LIBDIR=$(cd "${LIBDIR:-$REPO/target/release}" && pwd) || kdie "no LIBDIR"
[ "$LIBDIR" = "$REPO/target/release" ] || kdie "the VMs run $REPO/target/release (guest.sh); give no other LIBDIR"
[ -f "$LIBDIR/libuv.so.1" ] && [ -x "$LIBDIR/uvring" ] || kdie "no libuv.so.1 or uvring in $LIBDIR (make lib)"
[ "$(id -u)" = 0 ] || kdie "must run as root (apt-get, qemu, users)"
for c in qemu-system-x86_64 strace gcc; do
  command -v $c > /dev/null || kdie "no $c: run compat/kernels/install-deps.sh"
done
[ -x /bin/busybox ] || kdie "no /bin/busybox: run compat/kernels/install-deps.sh"
T_START=$(date +%s)

# Users the tests switch to: the VMs see the host's /etc/passwd read-only, so they exist here.
id -u uvtest > /dev/null 2>&1 || useradd -m -s /bin/sh uvtest || kdie "useradd uvtest failed"
getent passwd uvhazard > /dev/null || useradd --system --user-group --no-create-home \
  --home-dir /nonexistent --shell /usr/sbin/nologin uvhazard || kdie "useradd uvhazard failed"

# Programs the VMs run, built here (the emulated CPU is slow and / is read-only there).
KBIN=$KOUT/bin
mkdir -p "$KBIN"
for src in "$KDIR/t_fallback.c" "$KDIR/t_closeexec.c" "$REPO/compat/hazards/t_loopfds.c"; do
  gcc -std=gnu11 -O2 -Wall -Wextra -I"$REPO/include" -I"$REPO/compat/hazards" \
    -o "$KBIN/$(basename "$src" .c)" "$src" "$LIBDIR/libuv.so.1" -Wl,-rpath,"$LIBDIR" ||
    kdie "building $src failed"
done
chmod -R a+rX "$KOUT"
export UVRING_KERNELS_BIN=$KBIN
export UVRING_SUITE_STAGE=${UVRING_SUITE_STAGE:-/var/tmp/uvring-suite}
# libuv 1.50's test runner for the library (and, for --full, for real libuv 1.50 as evidence).
UVRING_KERNELS_RUNNER=$("$REPO/compat/suite/build.sh" 1.50.0 "$LIBDIR" | tail -n1) ||
  kdie "compat/suite/build.sh 1.50.0 $LIBDIR failed"
export UVRING_KERNELS_RUNNER
if [ "$MODE" = full ]; then
  UVRING_KERNELS_BASELINE=$("$REPO/compat/suite/baseline.sh" 1.50.0 | tail -n1) ||
    kdie "compat/suite/baseline.sh 1.50.0 failed"
  UVRING_KERNELS_BASELINE_RUNNER=$("$REPO/compat/suite/build.sh" 1.50.0 "$UVRING_KERNELS_BASELINE" | tail -n1) ||
    kdie "building the suite for real libuv 1.50 failed"
  export UVRING_KERNELS_BASELINE UVRING_KERNELS_BASELINE_RUNNER
fi
knote "programs built in $(( $(date +%s) - T_START ))s"

# VM bounds: the whole boot + run of one kernel (full: 40 min per suite backend, 30 min for the rest).
NVARS=$(wc -w <<< "${UVRING_KERNELS_SUITE_VARS:-0 unset 1}")
if [ "$MODE" = full ]; then TMO=${UVRING_KERNELS_TIMEOUT:-$((1800 + 2400 * NVARS))}; else TMO=${UVRING_KERNELS_TIMEOUT:-600}; fi
summary=() npass=0 nfail=0
run_vm() { # RELEASE TAG MODE
  local rel=$1 tag=$2 mode=$3 res rc secs p f e
  res=$KOUT/$rel-$mode
  "$KDIR/fetch.sh" "$rel" > /dev/null || { nfail=$((nfail + 1)); summary+=("FAIL $tag: no kernel (fetch.sh $rel)"); return; }
  knote "$rel ($(cat "$KCACHE/kernels/$rel/package")): booting, mode $mode, bound ${TMO}s"
  rm -rf "$res"; mkdir -p "$res"
  "$KDIR/vm.sh" "$rel" "$TMO" "$res" "$KDIR/guest.sh" "$tag" "$mode"
  rc=$?
  secs=$(cat "$res/seconds" 2>/dev/null || echo '?')
  grep -E '^(PASS|FAIL|EXPECTED|INFO|  real libuv)' "$res/results.txt" 2>/dev/null | sed "s/^/  [$tag] /"
  p=$(grep -c '^PASS ' "$res/results.txt" 2>/dev/null) f=$(grep -c '^FAIL ' "$res/results.txt" 2>/dev/null)
  e=$(grep -c '^EXPECTED ' "$res/results.txt" 2>/dev/null)
  npass=$((npass + ${p:-0})); nfail=$((nfail + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    nfail=$((nfail + 1))
    summary+=("FAIL $tag ($(cat "$KCACHE/kernels/$rel/package")) $mode: VM status $rc after ${secs}s (124: timeout); ${p:-0} passed, ${f:-0} failed; console: $res/console.log")
  else
    summary+=("$([ "${f:-0}" -eq 0 ] && echo PASS || echo FAIL) $tag ($(cat "$KCACHE/kernels/$rel/package")) $mode: boot+run ${secs}s, ${p:-0} passed, ${f:-0} failed, $e named kernel differences")
  fi
}
for rel in ${UVRING_KERNELS:-$RELEASES}; do
  run_vm "$rel" "$(release_tag "$rel")" "$MODE"
done
[ "$STORM" = 1 ] && run_vm bookworm 6.1 storm
echo "== compat/kernels ($MODE$([ "$STORM" = 1 ] && echo ' + storm')): $(( $(date +%s) - T_START ))s"
printf '%s\n' "${summary[@]}"
echo "kernels: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
