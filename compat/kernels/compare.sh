#!/usr/bin/env bash
# Usage: compat/kernels/compare.sh hazards TAG HAZARDS_OUTPUT
#        compat/kernels/compare.sh suite TAG SUITE_RESULTS LABEL SECONDS
# Compares a run inside a kernel's VM with what that kernel is expected to do: everything passes
# except the named entries of expect/<hazards|suite>-TAG.txt, each with its reason and evidence:
#   hazards:  TEST-NAME | text the FAIL line must contain | reason
#   suite:    LABEL TEST FAIL|SKIP | reason | evidence      (LABEL: default, UV_USE_IO_URING=0,
#             UV_USE_IO_URING=1, or * for every backend)
# An entry whose test then passes is reported too (the expectation is stale). Prints
# "PASS|FAIL|EXPECTED name: detail" lines; exit 1 on anything unexpected.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KIND=$1 TAG=$2 IN=$3
EXP=$HERE/expect/$KIND-$TAG.txt
entries() { [ -f "$EXP" ] && sed -e 's/^[[:space:]]*//' -e '/^#/d' -e '/^$/d' "$EXP"; return 0; }
trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<< "$1"; }
bad=0
if [ "$KIND" = hazards ]; then
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$IN" | tail -n1)
  [ -n "$summary" ] || { echo "FAIL hazards-$TAG: no summary line (did not finish: $(tail -n1 "$IN"))"; bad=1; }
  declare -A want=() why=()
  while IFS='|' read -r name text reason; do
    name=$(trim "$name"); want[$name]=$(trim "$text"); why[$name]=$(trim "$reason")
  done < <(entries)
  nexp=0
  while read -r st name rest; do
    name=${name%:}
    if [ "$st" = SKIP ] && [[ $rest == "(not selected"* ]]; then
      continue
    elif [ "$st" = PASS ]; then
      if [ -n "${want[$name]+x}" ]; then
        echo "FAIL hazards-$TAG $name: passed, but expect/hazards-$TAG.txt says it fails here (${why[$name]})"; bad=1
      fi
    elif [ -n "${want[$name]+x}" ] && [ "$st" = FAIL ] && grep -qF -- "${want[$name]}" <<< "$rest"; then
      echo "EXPECTED hazards-$TAG $name: fails as expected on this kernel: ${why[$name]}"; nexp=$((nexp + 1))
    else
      echo "FAIL hazards-$TAG $name: $st $rest"; bad=1
    fi
  done < <(grep -E '^(PASS|FAIL|SKIP) ' "$IN")
  for name in "${!want[@]}"; do
    grep -qE "^(PASS|FAIL|SKIP) $name(:| |$)|^SKIP ${name%%[!0-9]*} \(not selected" "$IN" ||
      { echo "FAIL hazards-$TAG $name: expected entry, but the test did not run"; bad=1; }
  done
  [ "$(grep -cE '^(PASS|FAIL) ' "$IN")" -gt 0 ] || { echo "FAIL hazards-$TAG: no PASS or FAIL line read"; bad=1; }
  [ $bad -eq 0 ] && echo "PASS hazards-$TAG: $summary ($nexp of the failures are this kernel's named differences; $(tail -n1 "$IN"))"
  exit $bad
fi

LABEL=$4 SECS=${5:-?}
total=$(grep -cE '^(PASS|FAIL|SKIP) ' "$IN")
p=$(grep -c '^PASS ' "$IN") f=$(grep -c '^FAIL ' "$IN") s=$(grep -c '^SKIP ' "$IN")
declare -A want=() why=()
while IFS='|' read -r head reason evidence; do
  read -r lab t st <<< "$head"
  if [ "$lab" = "$LABEL" ] || [ "$lab" = '*' ]; then want[$t]=$st; why[$t]="$(trim "$reason"); evidence: $(trim "$evidence")"; fi
done < <(entries)
nexp=0
while read -r st t rest; do
  if [ -n "${want[$t]+x}" ]; then
    if [ "$st" = "${want[$t]}" ]; then
      echo "EXPECTED suite-$TAG $LABEL $t: $st ${why[$t]}"; nexp=$((nexp + 1))
    else
      echo "FAIL suite-$TAG $LABEL $t: $st $rest, but expect/suite-$TAG.txt says ${want[$t]} (${why[$t]})"; bad=1
    fi
  elif [ "$st" != PASS ]; then
    echo "FAIL suite-$TAG $LABEL $t: $st $rest"; bad=1
  fi
done < <(grep -E '^(PASS|FAIL|SKIP) ' "$IN")
[ "$total" -gt 0 ] || { echo "FAIL suite-$TAG $LABEL: no results ($(tail -n 3 "$IN.stdout" 2>/dev/null | tr '\n' ' '))"; bad=1; }
res="$p passed, $f failed, $s skipped of $total ($nexp named differences for this kernel), ${SECS}s"
if [ $bad -eq 0 ]; then echo "PASS suite-$TAG-$LABEL: $res"; else echo "FAIL suite-$TAG-$LABEL: $res"; fi
exit $bad
