#!/usr/bin/env bash
# Usage: compat/suite/update.sh SUITE BACKEND LIBDIR
# Runs the whole SUITE (1.50.0 | 1.44.2) with BACKEND (epoll | uring) against LIBDIR's libuv.so.1
# and ADDS every test that passed (twice: newly passing ones are run again) to
# expect/<suite>-<backend>.txt (sorted; never removes one).
# Listed tests that did not pass this time are reported, not removed. Needs root (see run.sh).
set -uo pipefail
source "$(dirname "$0")/common.sh"

[ $# -eq 3 ] || { sed -n "2,6p" "$0" >&2; exit 2; }
SUITE=$1 BACKEND=$2 LIBDIR=$3
check_suite "$SUITE"
case $BACKEND in epoll|uring) ;; *) die "BACKEND must be epoll or uring" ;; esac
exp=$SUITE_DIR/expect/$SUITE-$BACKEND.txt
out=$BUILD_ROOT/update-$SUITE-$BACKEND.txt
mkdir -p "$BUILD_ROOT" "$SUITE_DIR/expect"
touch "$exp"

"$SUITE_DIR/run.sh" "$SUITE" "$LIBDIR" --backend "$BACKEND" --all --out "$out"
[ -s "$out" ] || die "no results from run.sh"

old=$(mktemp); new=$(mktemp); cand=$(mktemp)
list_file "$exp" | LC_ALL=C sort -u > "$old"
# Newly passing tests must pass a second time to be listed (check.sh must not be flaky).
sed -n 's/^PASS //p' "$out" | LC_ALL=C sort -u | LC_ALL=C comm -23 - "$old" > "$cand"
if [ -s "$cand" ]; then
  echo "compat/suite: running the $(wc -l < "$cand") newly passing test(s) a second time"
  "$SUITE_DIR/run.sh" "$SUITE" "$LIBDIR" --backend "$BACKEND" --list "$cand" --out "$out.again" >/dev/null
  for t in $(LC_ALL=C comm -23 "$cand" <(sed -n 's/^PASS //p' "$out.again" | LC_ALL=C sort -u)); do
    echo "compat/suite: not adding $t: it did not pass a second time (flaky)"
  done
  sed -n 's/^PASS //p' "$out.again" > "$cand"
fi
{ cat "$old" "$cand"; } | LC_ALL=C sort -u > "$new"
added=$(LC_ALL=C comm -13 "$old" "$new")
gone=$(sed -n 's/^\(FAIL\|SKIP\) \([A-Za-z0-9_]*\).*/\2/p' "$out" | LC_ALL=C sort -u | LC_ALL=C comm -12 - "$old")
cp "$new" "$exp"
rm -f "$old" "$new" "$cand"
echo "compat/suite: expect/$SUITE-$BACKEND.txt: $(printf '%s' "$added" | grep -c .) added, $(wc -l < "$exp") listed"
[ -z "$added" ] || printf '  + %s\n' $added | head -n 40
[ "$(printf '%s' "$added" | grep -c .)" -le 40 ] || echo "  ... (see git diff)"
if [ -n "$gone" ]; then
  echo "compat/suite: WARNING: listed as passing but did not pass now (kept in the list):"
  printf '  - %s\n' $gone
fi
