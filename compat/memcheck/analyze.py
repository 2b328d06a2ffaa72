#!/usr/bin/env python3
"""Reads valgrind's logs of a compat/memcheck run, one file per process of each test
(<test>.<pid>.log), and decides per test.

An error "involves uvring" when a frame of any of its stacks (where it happened, where the block
was allocated or freed, where an uninitialised value was created) is uvring's: a Rust source
line (.rs) or an address in libuv.so. A definite leak counts when its allocation stack has such a
frame (uvring allocated it). Errors and leaks entirely in the test program, libc or the dynamic
loader are listed, not failed on. exclude.txt names the exceptions, each with its reason:
    TEST  leak|error|race  REASON      (that kind, in that test, is expected; not failed on)
    TEST  skip             REASON      (not run under valgrind at all; run.sh leaves it out)
    *     KIND@FRAME       REASON      (a known finding in any test: KIND whose stack has a
                                        frame containing FRAME; reported as KNOWN, not failed on)
Exit 1 when an error or leak involving uvring is not excluded.
"""
import argparse
import collections
import glob
import os
import re
import sys

UVRING_FRAME = re.compile(r"\.rs:\d+\)|libuv\.so")
# libuv's test program: its sources and helpers.
TEST_FRAME = re.compile(r"\((test-[^:]*|runner[^:]*|run-tests|echo-server|blackhole-server|"
                        r"benchmark-[^:]*|task)\.[ch]:\d+\)")


def owner(frames):
    """Who a stack belongs to: the first frame that is uvring's or the test program's (frames of
    libc, the loader and valgrind's allocator are skipped). 'uvring', 'test' or 'other'."""
    for f in frames:
        if UVRING_FRAME.search(f):
            return "uvring"
        if TEST_FRAME.search(f):
            return "test"
    return "other"


def stacks(lines):
    """The stacks of an error block: the first, then each after an 'Address ...'/'Uninitialised
    value was created'/'Block was alloc'd' line, as lists of frames."""
    out, cur = [], []
    for l in lines[1:]:
        m = FRAME.match(l)
        if m:
            cur.append(m.group(2))
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out
FRAME = re.compile(r"^\s+(at|by) 0x[0-9A-Fa-f]+: (.*)$")


def kind_of(first):
    """Kind of an error block from its first line."""
    f = first
    if "definitely lost" in f:
        return "leak"
    if "indirectly lost" in f or "possibly lost" in f or "still reachable" in f:
        return None
    if f.startswith(("Invalid read", "Invalid write", "Invalid free", "Mismatched free",
                     "Source and destination overlap", "Argument 'size' of function")):
        return "error"
    if "uninitialised" in f or "unaddressable" in f:
        return "error"
    if ("data race" in f or f.startswith("Conflicting") or "lock order" in f
            or "Thread #" in f and "unlocked" in f or "pthread_" in f or "lock" in f.lower()
            or "barrier" in f.lower() or "condition variable" in f.lower()):
        return "race"
    if f.startswith(("Warning", "WARNING")):
        return "warning"
    return "error"


def blocks(path):
    """Yields (pid, [lines]) per error block of one valgrind log."""
    cur, pid = [], None
    with open(path, errors="replace") as fh:
        for raw in fh:
            m = re.match(r"^==(\d+)== ?(.*)$", raw.rstrip("\n"))
            if not m:
                continue
            pid, text = m.group(1), m.group(2)
            if text.strip() == "" or text.startswith("---"):
                if cur:
                    yield pid, cur
                cur = []
                continue
            cur.append(text)
    if cur:
        yield pid, cur


def load_exclusions(path):
    ex = collections.defaultdict(dict)
    if path and os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
            if not line.strip():
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                sys.exit(f"analyze.py: {path}: needs TEST KIND REASON: {line!r}")
            ex[parts[0]][parts[1]] = parts[2]
    return ex


def known_reason(ex, item):
    """The key of a '*' exclusion (KIND@FRAME) that matches this finding, or None."""
    kind, _uv, _first, frames = item
    for key in ex.get("*", {}):
        k, _, frame = key.partition("@")
        if k == kind and any(frame in f for f in frames):
            return key
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default="memcheck")
    ap.add_argument("--backend", default="?")
    ap.add_argument("--results", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--exclude")
    ap.add_argument("--report", required=True)
    a = ap.parse_args()

    status = {}
    for line in open(a.results):
        m = re.match(r"^(PASS|FAIL|SKIP) (\S+)(.*)$", line.rstrip("\n"))
        if m:
            status[m.group(2)] = (m.group(1), m.group(3).strip())
    ex = load_exclusions(a.exclude)

    found = collections.defaultdict(list)  # test -> [(kind, involves_uvring, first, stack)]
    for path in sorted(glob.glob(os.path.join(a.logs, "*.log"))):
        test = os.path.basename(path).rsplit(".", 2)[0]
        for pid, lines in blocks(path):
            if re.match(r"^Thread \d+:$", lines[0].strip()) and len(lines) > 1:
                lines = lines[1:]  # DRD names the thread on a line of its own first
            first = lines[0].strip()
            kind = kind_of(first)
            if kind is None or first.startswith(("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY",
                                                 "For lists of", "For counts of", "Rerun with",
                                                 "Use --track-origins", "All heap blocks",
                                                 "in use at exit", "total heap usage",
                                                 "definitely lost:", "indirectly lost:",
                                                 "possibly lost:", "still reachable:",
                                                 "suppressed:", "Thread #", "Thread-Announcement",
                                                 "More than ")):
                continue
            if first.startswith("Thread #") or "was created" == first[-11:]:
                continue
            frames = [FRAME.match(l).group(2) for l in lines if FRAME.match(l)]
            if not frames:
                if kind == "warning":
                    found[test].append(("warning", False, first, []))
                continue
            # Involves uvring: the stack where it happened, or where the memory was allocated,
            # freed or left uninitialised, is uvring's (first frame that is uvring's or the
            # test's decides). A leak: the allocation stack.
            uv = any(owner(st) == "uvring" for st in stacks(lines))
            found[test].append((kind, uv, first, frames))

    tests = sorted(set(status) | set(found))
    fails, lines_out = [], []
    counts = collections.Counter()
    for t in tests:
        st, why = status.get(t, ("NOTRUN", ""))
        counts[st] += 1
        items = found.get(t, [])
        known = [i for i in items if i[1] and known_reason(ex, i)]
        items = [i for i in items if i not in known]
        bad = [i for i in items if i[1] and i[0] in ("error", "leak", "race") and i[0] not in ex.get(t, {})]
        excused = [i for i in items if i[1] and i[0] in ex.get(t, {})]
        for i in known:
            counts["known:" + known_reason(ex, i)] += 1
        outside = [i for i in items if not i[1] and i[0] in ("error", "leak", "race")]
        warns = [i for i in items if i[0] == "warning"]
        verdict = "CLEAN"
        if st == "FAIL" and "outer timeout" in why:
            # Killed by run.sh's outer timeout: on the io_uring backend, valgrind's lock held
            # across io_uring_enter (README.md). No memory verdict for the part not run.
            verdict = "HUNG"
        if bad:
            verdict = "UVRING"
            fails.append(t)
        elif excused:
            verdict = "EXCLUDED"
        elif outside:
            verdict = "OUTSIDE"
        counts[verdict] += 1
        lines_out.append(f"{verdict:8} {st:6} {t}" + (f"  ({why})" if st == "FAIL" else "")
                         + (f"  [excluded {', '.join(ex[t])}: {'; '.join(ex[t].values())}]" if excused else ""))
        for k, uv, first, frames in bad + outside + warns:
            tag = "uvring" if uv else "outside uvring"
            lines_out.append(f"    {k} ({tag}): {first}")
            for f in frames[:12]:
                lines_out.append(f"        {f}")

    head = (f"{a.tool}, backend {a.backend}: {len(tests)} tests "
            f"(suite: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped); "
            f"{a.tool}: {counts['CLEAN']} clean, {counts['UVRING']} with errors involving uvring, "
            f"{counts['EXCLUDED']} excluded, {counts['OUTSIDE']} with findings outside uvring only, "
            f"{counts['HUNG']} hung (killed by the outer timeout)")
    for key in sorted(k for k in counts if k.startswith("known:")):
        k = key[len("known:"):]
        lines_out.insert(0, f"KNOWN    {counts[key]} x {k}: {ex['*'][k]}")
    with open(a.report, "w") as fh:
        fh.write(head + "\n" + "\n".join(lines_out) + "\n")
    print(head)
    for l in lines_out:
        if not l.startswith(("CLEAN", "EXCLUDED")) or l.startswith("    "):
            print(l)
    print(f"compat/memcheck: report {a.report}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
