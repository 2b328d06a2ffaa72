#!/usr/bin/env bash
# Usage: bench/libuv/run.sh [--only NAME[,NAME]] [--strace NAME] [--instructions NAME[,NAME]]
#                           [--report RAW]
# Env:   UVRING_LIBDIR (uvring's folder, default target/release), REPS (pairs, default 5),
#        BENCH_BACKENDS (default epoll,uring), BASELINE (real libuv 1.50's folder; default: built by
#        compat/suite/baseline.sh 1.50.0).
# Builds libuv 1.50's benchmark runner against uvring and against real libuv 1.50, then runs
# bench/libuv/compare.py (interleaved pairs in a loopback-only network namespace, as root).
# The table goes to stdout and to bench/libuv/.cache/results/table-*.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$ROOT/compat/suite/common.sh"
as_root
command -v unshare >/dev/null || die "unshare (util-linux) is missing"
command -v ip >/dev/null || apt_install iproute2
command -v python3 >/dev/null || apt_install python3
case " $* " in *" --strace "*) command -v strace >/dev/null || apt_install strace ;; esac
case " $* " in *" --instructions "*) command -v valgrind >/dev/null || apt_install valgrind ;; esac

LIBDIR=${UVRING_LIBDIR:-$ROOT/target/release}
[ -e "$LIBDIR/libuv.so.1" ] || die "no libuv.so.1 in LIBDIR=$LIBDIR (run make first, or set UVRING_LIBDIR)"
BASELINE=${BASELINE:-$("$ROOT/compat/suite/baseline.sh" 1.50.0)}
A=$("$HERE/build.sh" uvring "$LIBDIR")
B=$("$HERE/build.sh" libuv "$BASELINE")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no -- src 2>/dev/null | head -1)
exec python3 "$HERE/compare.py" --uvring "$A" --libuv "$B" --results "$HERE/.cache/results" \
  --header "$(date -u +%Y-%m-%d), uvring $COMMIT${DIRTY:+ (src/ modified)} ($LIBDIR), $(uname -r)." "$@"
