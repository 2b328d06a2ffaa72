#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/chroot.sh
# Creates (once) the Debian 13 (trixie) amd64 chroot in compat/arm64/.cache/trixie that holds
# Debian's rustc/cargo 1.85, libstd-rust-dev:arm64, the aarch64 cross gcc and binutils,
# qemu-user-static and python3-pyelftools. A stamp file records the package list; a chroot whose
# stamp differs is made again. Needs root and Debian's archive.
set -euo pipefail
source "$(dirname "$0")/common.sh"
arm_need_root

STAMP=$CHROOT/.uvring-arm64
WANT=$(printf '%s\n' "$CHROOT_PKGS" "$CHROOT_FOREIGN" | tr -s ' \n' ' ')
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
  arm_note "chroot ready: $CHROOT"
  exit 0
fi

command -v debootstrap >/dev/null || {
  arm_note "apt-get install debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
} || arm_die "cannot install debootstrap (package debootstrap)"

MIRROR=$(arm_mirror)
if [ ! -f "$CHROOT/.uvring-debootstrap" ]; then
  rm -rf "$CHROOT"
  mkdir -p "$ARM_CACHE"
  arm_note "debootstrap trixie into $CHROOT from $MIRROR"
  debootstrap --variant=minbase --include=ca-certificates trixie "$CHROOT" "$MIRROR" \
    >"$ARM_CACHE/debootstrap.log" 2>&1 ||
    { tail -n 20 "$ARM_CACHE/debootstrap.log" >&2; arm_die "debootstrap trixie failed"; }
  touch "$CHROOT/.uvring-debootstrap"
fi

# shellcheck disable=SC2086
in_chroot bash -c "
  set -e
  export DEBIAN_FRONTEND=noninteractive
  dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $CHROOT_PKGS $CHROOT_FOREIGN
  apt-get clean
" >"$ARM_CACHE/apt.log" 2>&1 || { tail -n 20 "$ARM_CACHE/apt.log" >&2; arm_die "installing $CHROOT_PKGS $CHROOT_FOREIGN in the chroot failed"; }
echo "$WANT" > "$STAMP"
arm_note "chroot ready: $CHROOT ($(du -sh "$CHROOT" | cut -f1))"
