# Shared helpers for compat/kernels/*.sh (sourced, not executed).
# shellcheck shell=bash
KDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR/../.." && pwd)
KCACHE=${UVRING_KERNELS_CACHE:-$KDIR/.cache}
KOUT=${UVRING_KERNELS_OUT:-$KDIR/.out}
RELEASES="bullseye bookworm trixie"
# shellcheck source=apt.sh
source "$KDIR/apt.sh"

kdie() { echo "compat/kernels: error: $*" >&2; exit 2; }
knote() { echo "compat/kernels: $*" >&2; }

# The suites a release's kernels come from (the newest wins: security updates).
release_suites() {
  case $1 in
    bullseye) echo "bullseye bullseye-security" ;;
    bookworm) echo "bookworm bookworm-security" ;;
    trixie) echo "trixie trixie-security" ;;
    *) kdie "unknown release '$1' (expected one of: $RELEASES)" ;;
  esac
}

# Short name used in expectation files and reports.
release_tag() {
  case $1 in bullseye) echo 5.10 ;; bookworm) echo 6.1 ;; trixie) echo 6.12 ;; esac
}
