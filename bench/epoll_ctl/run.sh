#!/usr/bin/env bash
# What sets CTL_BATCH_MIN (src/backend/mod.rs): epoll_ctl ADDs by system call against a batch in
# an io_uring, per batch size. Needs a kernel with io_uring; ROUNDS (default 7) runs per size.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cargo run -q --release --manifest-path "$HERE/Cargo.toml" --target-dir "$HERE/.cache/target"
