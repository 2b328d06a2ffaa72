#!/usr/bin/env python3
"""Usage: cgsplit.py CALLGRIND_OUT [--calls FUNCTION]
Prints "total lib glibc other": the instructions (Ir) a callgrind output counts, split by the
object they ran in: the libuv.so under test, glibc (libc, ld.so, libm, libpthread), the rest.
Self cost only: the cost line after a `calls=` line is a call's inclusive cost and is skipped.
Exits non-zero when the parts do not add up to the file's own total.
With --calls FUNCTION, prints instead how many calls to FUNCTION the file records (from every
caller): the operation count of a benchmark that runs for a time, not a count.
compare.py --instructions imports split() and calls()."""
import re
import sys


def _read(path, calls_of=None):
    """-> ({object: self Ir}, the file's total or None, calls to calls_of)."""
    names = {}  # ob/cob name compression
    fn_names = {}  # fn/cfn name compression (one table for both)
    cfn = ""
    ncalls = 0
    ob = ""
    skip_next = False
    cost = {}
    total = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line[0].isdigit() or line[0] in "+-*":
                if skip_next:
                    skip_next = False
                else:
                    parts = line.split()
                    if len(parts) >= 2:
                        cost[ob] = cost.get(ob, 0) + int(parts[1])
                continue
            skip_next = False
            m = re.match(r"(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                # "(id) name" defines a compressed name, "(id)" reuses it; objects and
                # functions have a table each (fn and cfn share one, ob and cob the other).
                table = names if m.group(1).endswith("ob") else fn_names
                if m.group(3) is not None:
                    table[m.group(2)] = m.group(3)
                if m.group(1) == "ob":
                    ob = table.get(m.group(2), m.group(2))
                elif m.group(1) == "cfn":
                    cfn = table.get(m.group(2), m.group(2))
            elif line.startswith("ob="):
                ob = line[3:]
            elif line.startswith("calls="):
                skip_next = True
                if cfn == calls_of:
                    ncalls += int(line[6:].split()[0])
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    return cost, total, ncalls


def split(path):
    """-> (total, lib, glibc, other) self Ir; ValueError when the parts miss the file's total."""
    cost, total, _ = _read(path)
    parts = {"lib": 0, "glibc": 0, "other": 0}
    for obj, n in cost.items():
        if re.search(r"libuv\.so", obj):
            parts["lib"] += n
        elif re.search(r"/(libc\.so|libc-|ld-linux|libm\.so|libpthread)", obj):
            parts["glibc"] += n
        else:
            parts["other"] += n
    s = sum(parts.values())
    if total is not None and s != total:
        raise ValueError(f"cgsplit: parts add up to {s}, {path} says {total}")
    return s, parts["lib"], parts["glibc"], parts["other"]


def calls(path, function):
    """How many calls to `function` the callgrind output records."""
    return _read(path, function)[2]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] == "--calls":
        print(calls(sys.argv[1], sys.argv[3]))
    elif len(sys.argv) == 2:
        try:
            print(*split(sys.argv[1]))
        except ValueError as e:
            sys.exit(str(e))
    else:
        sys.exit(__doc__)
