#!/usr/bin/env bash
# Usage: compat/kernels/install-deps.sh   (root; .ci/run calls it)
# Installs what compat/kernels needs: busybox-static (the initramfs's shell), strace, xz-utils,
# binutils, neovim and tmux (the Ctrl+Z storm), and qemu-system-x86 from bookworm-backports
# (bookworm's own 7.2 would remove the machine's qemu-utils from backports) through a private APT
# configuration: the system's sources stay as they are.
set -euo pipefail
source "$(dirname "$0")/common.sh"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  busybox-static strace xz-utils binutils neovim tmux >/dev/null ||
  kdie "apt-get install busybox-static strace xz-utils binutils neovim tmux failed"
if ! command -v qemu-system-x86_64 >/dev/null; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  apt_private "install-$codename-backports" 1 "$codename $codename-backports" ||
    kdie "apt-get update with $codename-backports failed: cannot install qemu-system-x86"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    -t "$codename-backports" qemu-system-x86 >/dev/null ||
    kdie "apt-get install -t $codename-backports qemu-system-x86 failed"
  unset APT_CONFIG
fi
qemu-system-x86_64 --version | head -n1
