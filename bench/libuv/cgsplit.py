#!/usr/bin/env python3
"""Usage: cgsplit.py CALLGRIND_OUT
Prints "total lib glibc other": the instructions (Ir) a callgrind output counts, split by the
object they ran in: the libuv.so under test, glibc (libc, ld.so, libm, libpthread), the rest.
Self cost only: the cost line after a `calls=` line is a call's inclusive cost and is skipped.
Exits non-zero when the parts do not add up to the file's own total."""
import re
import sys

names = {}
ob = ""
skip_next = False
cost = {}
total = None
with open(sys.argv[1], errors="replace") as f:
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
        m = re.match(r"(c?ob)=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(3) is not None:
                names[m.group(2)] = m.group(3)
            if m.group(1) == "ob":
                ob = names.get(m.group(2), m.group(2))
        elif line.startswith("ob="):
            ob = line[3:]
        elif line.startswith("calls="):
            skip_next = True
        elif line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])

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
    sys.exit(f"cgsplit: parts add up to {s}, the file says {total}")
print(s, parts["lib"], parts["glibc"], parts["other"])
