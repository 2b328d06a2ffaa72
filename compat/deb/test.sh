#!/usr/bin/env bash
# `make deb-test`: builds the packages and checks them. The two chroots (network and dpkg bound)
# are made in the background while the package builds (CPU bound); the script waits for them.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .cache
start=$(date +%s)
pids=()
for s in trixie bookworm; do
  ./chroot-make.sh "$s" >".cache/chroot-make-$s.log" 2>&1 &
  pids+=($!)
done
# shellcheck disable=SC2317
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT
stamp() { echo "deb-test: $1 after $(($(date +%s) - start)) s"; }
make -C ../.. deb; stamp "deb built"
./check.sh; stamp "check done"
./abidiff.sh; stamp "abidiff done"
for i in 0 1; do
  s=$([ "$i" = 0 ] && echo trixie || echo bookworm)
  if ! wait "${pids[$i]}"; then cat ".cache/chroot-make-$s.log"; echo "deb-test: making the $s chroot failed" >&2; exit 1; fi
  cat ".cache/chroot-make-$s.log"
done
pids=()
stamp "chroots ready"
./chroot-test.sh trixie
./chroot-test.sh bookworm
stamp "all done"
