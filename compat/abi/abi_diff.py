#!/usr/bin/env python3
"""Compare two ABI dumps made by abi_dump.py.

    abi_diff.py THEIRS OURS [--only-theirs] [--allow FILE] [--label TEXT]

Default: every key must exist on both sides with the same value.
--only-theirs: keys present only in OURS are fine (ours is a newer API);
               keys of THEIRS must exist in OURS with the same value.
--allow FILE:  lines "KEY-GLOB <TAB> PATTERN => REPLACEMENT <TAB> REASON".
               For a differing key that matches KEY-GLOB, the regex PATTERN
               is replaced by REPLACEMENT in THEIRS' value; if it then equals
               ours, the difference is allowed (and printed with its reason).
               PATTERN "*" accepts any value; REPLACEMENT "<missing>" accepts
               the key being absent from OURS.
Exit status: 0 if no unexplained difference, 1 otherwise.
"""

import fnmatch
import re
import sys


def load(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            k, _, v = line.partition("\t")
            d[k] = v
    return d


def load_allow(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or " => " not in parts[1] or not parts[2].strip():
                sys.stderr.write("%s:%d: malformed rule (need KEY<TAB>PAT => REPL"
                                 "<TAB>REASON)\n" % (path, n))
                sys.exit(2)
            pat, repl = parts[1].split(" => ", 1)
            rules.append({"glob": parts[0], "pat": pat, "repl": repl,
                          "reason": parts[2].strip(), "where": "%s:%d" % (path, n),
                          "used": 0})
    return rules


def explain(rules, key, theirs, ours):
    """Return the rules that explain this difference, or None.
    Regex rules that match the key are applied one after another."""
    applied = []
    v = theirs
    for r in rules:
        if not fnmatch.fnmatchcase(key, r["glob"]):
            continue
        if r["repl"] == "<missing>":
            if ours is None:
                applied = [r]
                break
            continue
        if ours is None:
            continue
        if r["pat"] == "*":
            applied = [r]
            break
        nv = re.sub(r["pat"], r["repl"], v)
        if nv != v:
            applied.append(r)
            v = nv
            if v == ours:
                break
    else:
        if v != ours:
            return None
    if not applied:
        return None
    for r in applied:
        r["used"] += 1
    return applied


def main():
    args = sys.argv[1:]
    only_theirs = "--only-theirs" in args
    allow = None
    label = ""
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--allow":
            allow = args[i + 1]
            i += 2
            continue
        if a == "--label":
            label = args[i + 1]
            i += 2
            continue
        if a != "--only-theirs":
            pos.append(a)
        i += 1
    if len(pos) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    theirs, ours = load(pos[0]), load(pos[1])
    rules = load_allow(allow) if allow else []
    keys = set(theirs) if only_theirs else set(theirs) | set(ours)
    bad, allowed = [], []
    for k in sorted(keys):
        t, o = theirs.get(k), ours.get(k)
        if t == o:
            continue
        if t is not None:
            r = explain(rules, k, t, o)
            if r:
                allowed.append((k, r))
                continue
        bad.append((k, t, o))
    for k, r in allowed:
        print("  allowed  %s  (%s)" % (k, "; ".join(x["reason"] for x in r)))
    for k, t, o in bad:
        if o is None:
            print("  MISSING  %s\n           theirs: %s" % (k, t))
        elif t is None:
            print("  EXTRA    %s\n           ours:   %s" % (k, o))
        else:
            print("  DIFFERS  %s\n           theirs: %s\n           ours:   %s"
                  % (k, t, o))
    for r in rules:
        if not r["used"]:
            print("  note: allowlist rule %s matched nothing" % r["where"])
    print("%s%d compared, %d differences, %d allowed"
          % (label + ": " if label else "", len(keys), len(bad), len(allowed)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
