#!/usr/bin/env bash
# Usage: compat/kernels/fetch.sh RELEASE     (bullseye | bookworm | trixie)
# Resolves the current Debian kernel of RELEASE (what linux-image-amd64 depends on, security
# updates included) through a private APT configuration, downloads it with `apt-get download`
# into .cache/debs/ (once per package version), unpacks it, and builds an initramfs of
# busybox-static and that kernel's virtio/9p modules. Prints the kernel's folder, which holds
# `vmlinuz`, `initrd.gz`, `version` (uname -r) and `package` (name=version).
# With UVRING_KERNELS_OFFLINE=1 the last resolved kernel is used without asking the archive.
# A failed resolution or download is an error naming the package. Needs root (apt-get).
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
REL=$1
SUITES=$(release_suites "$REL")
OUT=$KCACHE/kernels/$REL
mkdir -p "$OUT" "$KCACHE/debs"

if [ "${UVRING_KERNELS_OFFLINE:-}" = 1 ] && [ -f "$OUT/package" ] && [ -f "$OUT/initrd.gz" ]; then
  echo "$OUT"; exit 0
fi

apt_private "kernel-$REL" 0 "$SUITES" ||
  kdie "apt-get update for $REL ($SUITES) failed: cannot resolve linux-image-amd64 of $REL"
# The current ABI package, e.g. linux-image-6.1.0-57-amd64 (never pinned here).
PKG=$(apt-cache depends --important linux-image-amd64 2>/dev/null |
  sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | grep -v -- '-unsigned$' | head -n1)
[ -n "$PKG" ] || kdie "cannot resolve the kernel package of $REL: linux-image-amd64 has no linux-image-*-amd64 dependency"
VER=$(apt-cache policy "$PKG" | sed -n 's/^ *Candidate: //p')
[ -n "$VER" ] && [ "$VER" != "(none)" ] || kdie "no candidate version of $PKG ($REL)"

# The initramfs is rebuilt when the package or the init script changes.
STAMP="$PKG=$VER init=$(md5sum < "$KDIR/init" | cut -c1-12)"
if [ "$(cat "$OUT/stamp" 2>/dev/null)" != "$STAMP" ] || [ ! -f "$OUT/initrd.gz" ]; then
  knote "$REL: $PKG=$VER: fetching (or taking from .cache/debs) and building the initramfs"
  DEBS=$KCACHE/debs
  deb=$(ls "$DEBS/${PKG}_${VER//:/%3a}_amd64.deb" 2>/dev/null || true)
  if [ -z "$deb" ]; then
    (cd "$DEBS" && apt-get download -qq "$PKG=$VER") >"$OUT/download.log" 2>&1 ||
      { cat "$OUT/download.log" >&2; kdie "apt-get download $PKG=$VER ($REL) failed"; }
    deb=$(ls "$DEBS/${PKG}_"*"_amd64.deb" 2>/dev/null | grep -F "_${VER//:/%3a}_" | head -n1)
    [ -n "$deb" ] || kdie "apt-get download $PKG=$VER ($REL) left no .deb in $DEBS"
  fi
  rm -rf "$OUT/root" "$OUT/initrd" "$OUT/initrd.gz"
  dpkg-deb -x "$deb" "$OUT/root" || kdie "cannot unpack $deb ($PKG)"
  KV=${PKG#linux-image-}
  [ -f "$OUT/root/boot/vmlinuz-$KV" ] || kdie "$PKG has no boot/vmlinuz-$KV"
  MODS=$OUT/root/lib/modules/$KV
  [ -d "$MODS" ] || MODS=$OUT/root/usr/lib/modules/$KV
  [ -f "$MODS/modules.builtin" ] || kdie "$PKG has no modules.builtin"
  cp "$OUT/root/boot/vmlinuz-$KV" "$OUT/vmlinuz"

  # The modules for a 9p root over virtio-pci, with their dependencies (the depends= of each
  # module's .modinfo; the package has no modules.dep, depmod makes it at install), in load order.
  IR=$OUT/initrd
  mkdir -p "$IR/bin" "$IR/proc" "$IR/sys" "$IR/dev" "$IR/root" "$IR/results" "$IR/modules"
  BB=/bin/busybox
  [ -x "$BB" ] || kdie "no /bin/busybox (apt-get install busybox-static)"
  ldd "$BB" >/dev/null 2>&1 && kdie "$BB is not static (apt-get install busybox-static)"
  cp "$BB" "$IR/bin/busybox"
  : > "$IR/modules/order"
  declare -A seen=()
  add_mod() { # module name (dashes or underscores)
    local name=${1//-/_} f base deps d
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    f=$(find "$MODS/kernel" -name "${name//_/[-_]}.ko*" | head -n1)
    if [ -z "$f" ]; then
      if grep -qE "/${name//_/[-_]}\.ko" "$MODS/modules.builtin"; then
        echo "# $name built in" >> "$IR/modules/order"; return 0
      fi
      kdie "$PKG: $name is neither a module nor built in"
    fi
    base=$(basename "$f"); base=${base%.xz}; base=${base%.zst}
    case $f in
      *.xz) xz -dc "$f" > "$IR/modules/$base" ;;
      *.zst) zstd -qdc "$f" > "$IR/modules/$base" ;;
      *) cp "$f" "$IR/modules/$base" ;;
    esac
    deps=$(objcopy -O binary --only-section=.modinfo "$IR/modules/$base" /dev/stdout |
      tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
    for d in $deps; do add_mod "$d"; done
    echo "$base" >> "$IR/modules/order"
  }
  for name in virtio_pci 9pnet_virtio 9p; do add_mod "$name"; done
  cp "$KDIR/init" "$IR/init"
  chmod 755 "$IR/init" "$IR/bin/busybox"
  (cd "$IR" && find . | LC_ALL=C sort | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$OUT/initrd.gz.tmp"
  mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
  echo "$KV" > "$OUT/version"
  echo "$PKG=$VER" > "$OUT/package"
  echo "$STAMP" > "$OUT/stamp"
  rm -rf "$OUT/root"
fi
echo "$OUT"
