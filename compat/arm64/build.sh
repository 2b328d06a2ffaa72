#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: compat/arm64/build.sh
# Cross-builds libuv.so.1 and libuv.a (and the uvring tool) for aarch64-unknown-linux-gnu with
# Debian 13's rustc 1.85 inside the trixie chroot (compat/arm64/chroot.sh), offline: the crates
# of Cargo.lock are vendored on the host (`cargo vendor`, into .cache/vendor) and the chroot's
# cargo reads them from there. Output: .cache/lib/{libuv.so.1.0.0,libuv.so.1,libuv.a,uvring}.
set -euo pipefail
source "$(dirname "$0")/common.sh"
arm_need_root
"$ARM_DIR/chroot.sh"

VENDOR=$ARM_CACHE/vendor
LOCKSUM=$(md5sum < "$ARM_ROOT/Cargo.lock" | cut -c1-32)
if [ "$(cat "$VENDOR/.lock-md5" 2>/dev/null)" != "$LOCKSUM" ]; then
  command -v cargo >/dev/null || arm_die "host cargo needed to vendor the crates (cargo vendor)"
  arm_note "cargo vendor (host) into $VENDOR"
  rm -rf "$VENDOR"
  (cd "$ARM_ROOT" && cargo vendor --locked --versioned-dirs "$VENDOR" >/dev/null 2>"$ARM_CACHE/vendor.log") ||
    { tail -n 20 "$ARM_CACHE/vendor.log" >&2; arm_die "cargo vendor failed: the crates of Cargo.lock could not be fetched"; }
  echo "$LOCKSUM" > "$VENDOR/.lock-md5"
fi

# The chroot sees the worktree at its own path (in_chroot).
case $ARM_CACHE in "$ARM_ROOT"/*) ;; *) arm_die "UVRING_ARM64_CACHE must lie inside the worktree ($ARM_ROOT)" ;; esac
mkdir -p "$ARM_CACHE/cargo-home" "$ARM_LIBDIR"
cat > "$ARM_CACHE/cargo-home/config.toml" <<CFG
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "$VENDOR"

[target.$TRIPLE]
linker = "aarch64-linux-gnu-gcc"

[net]
offline = true
CFG

arm_note "cargo build --release --target $TRIPLE (Debian's rustc, in the chroot)"
in_chroot bash -c "
  set -e
  cd \"$ARM_ROOT\"
  export CARGO_HOME=$ARM_CACHE/cargo-home CARGO_TARGET_DIR=$ARM_CACHE/target
  rustc --version >&2
  cargo build --release --offline --frozen --target $TRIPLE >&2
" || arm_die "the aarch64 build failed"

OUT=$ARM_CACHE/target/$TRIPLE/release
cp -f "$OUT/libuv.so" "$ARM_LIBDIR/libuv.so.1.0.0.new" && mv -f "$ARM_LIBDIR/libuv.so.1.0.0.new" "$ARM_LIBDIR/libuv.so.1.0.0"
ln -sf libuv.so.1.0.0 "$ARM_LIBDIR/libuv.so.1"
cp -f "$OUT/libuv.a" "$OUT/uvring" "$ARM_LIBDIR/"
arm_is_aarch64 "$ARM_LIBDIR/libuv.so.1.0.0" || arm_die "the build did not make an aarch64 libuv.so.1"
arm_note "built: $ARM_LIBDIR/libuv.so.1 libuv.a uvring"
