#!/usr/bin/env bash
# Usage: compat/kernels/vm.sh RELEASE TIMEOUT RESULTS_DIR SCRIPT [ARGS...]
# Boots RELEASE's Debian kernel (fetch.sh) in qemu-system-x86_64 (TCG, 2 cpus, 2 GiB) with the
# host's / read-only over 9p and RESULTS_DIR writable, and runs `bash SCRIPT ARGS...` as root,
# chrooted into the host's /, with RESULTS_DIR at /media (SCRIPT: a path on the host). The whole
# VM run is bounded by TIMEOUT seconds. Console output goes to RESULTS_DIR/console.log (and to
# stderr with UVRING_KERNELS_VERBOSE=1). Exit status: SCRIPT's, 124 when the VM timed out,
# 125 when the VM ended without a status (panic, failed mount: see the console log).
set -uo pipefail
source "$(dirname "$0")/common.sh"
[ $# -ge 4 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
REL=$1 TMO=$2 RES=$3 SCRIPT=$4
shift 4
command -v qemu-system-x86_64 >/dev/null || kdie "no qemu-system-x86_64 (see .ci/run: qemu-system-x86 from bookworm-backports)"
K=$("$KDIR/fetch.sh" "$REL") || exit 2
mkdir -p "$RES"
RES=$(cd "$RES" && pwd)
SCRIPT=$(cd "$(dirname "$SCRIPT")" && pwd)/$(basename "$SCRIPT")
case $SCRIPT in /dev/*) kdie "$SCRIPT: the VM has its own /dev; put the script elsewhere" ;; esac
rm -f "$RES/rc" "$RES/console.log"
# The VM mounts its own tmpfs on /tmp, /var/tmp and /run; init keeps these host folders visible
# through it when they lie there (a checkout cloned into a mktemp folder).
: > "$RES/keep"
for p in "$REPO" "$(dirname "$SCRIPT")"; do
  case $p in "$REPO"/*) continue ;; /tmp/*|/var/tmp/*|/run/*) grep -qxF "$p" "$RES/keep" || echo "$p" >> "$RES/keep" ;; esac
done
{
  # The settings of compat/kernels and compat/suite reach the command (init starts it with env -i).
  for v in $(compgen -e | grep -E '^(UVRING_KERNELS_|UVRING_SUITE_|UVRING_STORM_|UVRING_HAZARDS_|STORM_)'); do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
  echo "cd $(printf '%q' "$REPO") || exit 3"
  printf 'exec bash %q' "$SCRIPT"
  printf ' %q' "$@"
  echo
} > "$RES/cmd.sh"
t0=$(date +%s)
if [ "${UVRING_KERNELS_VERBOSE:-}" = 1 ]; then SERIAL=(-serial stdio); else SERIAL=(-serial "file:$RES/console.log"); fi
boot() {
  rm -f "$RES/rc"
  timeout -k 10 "$TMO" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2G \
    -display none -monitor none -no-reboot "${SERIAL[@]}" \
    -kernel "$K/vmlinuz" -initrd "$K/initrd.gz" \
    -append "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$RES,mount_tag=results,security_model=none,multidevs=remap" \
    </dev/null 2>"$RES/qemu.err" | { if [ "${UVRING_KERNELS_VERBOSE:-}" = 1 ]; then tee "$RES/console.log" >&2; else cat; fi; }
  return "${PIPESTATUS[0]}"
}
boot
q=$?
# QEMU 10.0's TCG has been seen to abort on its own (iotlb_to_section assertion, exit 134) in
# about 1 boot in 20 here: such a crash, before the command left a status, is retried once.
if [ ! -s "$RES/rc" ] && [ "$q" -ne 124 ] && [ "$q" -ne 137 ] && [ "$q" -ne 0 ]; then
  knote "$REL: qemu itself failed (exit $q: $(tail -n1 "$RES/qemu.err")); booting once more"
  cp "$RES/qemu.err" "$RES/qemu.err.first"
  boot
  q=$?
fi
echo "$(( $(date +%s) - t0 ))" > "$RES/seconds"
if [ "$q" -eq 124 ] || [ "$q" -eq 137 ]; then
  knote "$REL: the VM did not finish within ${TMO}s (killed)"
  exit 124
fi
if [ ! -s "$RES/rc" ]; then
  knote "$REL: the VM ended without a status (qemu exit $q); last console lines:"
  tail -n 15 "$RES/console.log" >&2
  cat "$RES/qemu.err" >&2
  exit 125
fi
exit "$(cat "$RES/rc")"
