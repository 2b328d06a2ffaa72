# Shared helpers for compat/arm64/*.sh (sourced, not executed).
# shellcheck shell=bash disable=SC2034
ARM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARM_ROOT=$(cd "$ARM_DIR/../.." && pwd)
ARM_CACHE=${UVRING_ARM64_CACHE:-$ARM_DIR/.cache}
CHROOT=$ARM_CACHE/trixie
TRIPLE=aarch64-unknown-linux-gnu
# Where the cross-built library lands (libuv.so.1, libuv.so.1.0.0, libuv.a).
ARM_LIBDIR=$ARM_CACHE/lib
# The amd64 packages of the chroot; libstd-rust-dev:arm64 comes on top (a foreign architecture).
CHROOT_PKGS="rustc cargo gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu"
CHROOT_PKGS="$CHROOT_PKGS qemu-user-static python3 python3-pyelftools"
CHROOT_FOREIGN="libstd-rust-dev:arm64"

arm_die() { echo "compat/arm64: error: $*" >&2; exit 2; }
arm_note() { echo "compat/arm64: $*" >&2; }

# arm_is_aarch64 FILE: an ELF file whose e_machine is EM_AARCH64 (183).
arm_is_aarch64() { [ "$(od -An -tx1 -j18 -N2 "$1" 2>/dev/null | tr -d ' \n')" = b700 ]; }

arm_need_root() { [ "$(id -u)" = 0 ] || arm_die "must run as root (debootstrap, chroot, namespaces)"; }

# The archive the host's apt already uses (its first URIs / deb line).
arm_mirror() {
  local uri
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  echo "${uri:-http://deb.debian.org/debian}"
}

# in_chroot CMD... : runs CMD inside the chroot, in a private mount namespace with /proc, /dev, a
# fresh /tmp, the worktree and every folder named in $ARM_BIND (space-separated, read-only) bound
# at the same paths as on the host, in the host's current folder when it exists there; nothing
# stays mounted afterwards.
in_chroot() {
  unshare -m --propagation private -- bash -c '
    set -e
    R=$1 SRC=$2 BIND=$3 CWD=$4; shift 4
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs tmpfs "$R/tmp"
    mkdir -p "$R$SRC" && mount --bind "$SRC" "$R$SRC"
    for d in $BIND; do mkdir -p "$R$d" && mount --bind -o ro "$d" "$R$d"; done
    [ -d "$R$CWD" ] || CWD=/
    exec chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      HOME=/root LANG=C.UTF-8 bash -c "cd \"\$0\" && exec \"\$@\"" "$CWD" "$@"
  ' _ "$CHROOT" "$ARM_ROOT" "${ARM_BIND:-}" "$PWD" "$@"
}
