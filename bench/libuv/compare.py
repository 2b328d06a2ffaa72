#!/usr/bin/env python3
"""Runs libuv 1.50's benchmark runner linked against uvring (A) and against real libuv 1.50 (B),
interleaved A B / B A, REPS pairs per benchmark and backend, each run in a private network
namespace with only loopback; prints a markdown table of medians and ratios (> 1: uvring better).

Called by bench/libuv/run.sh, which builds the two runners; see bench/libuv/README.md.
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# Benchmarks of benchmark-list.h that are not compared, and why.
EXCLUDED = {
    "sizes": "prints struct sizes, no performance metric (the ABI is checked by compat/abi)",
    "ping_udp10": "fails on real libuv 1.50 too: every pinger binds 127.0.0.1:TEST_PORT, the "
                  "second bind gets EADDRINUSE (benchmark-ping-udp.c:130)",
    "ping_udp100": "same as ping_udp10",
}
# Benchmarks left out of the default run because on this 2-core machine they take longer than
# the runner's own 60 s limit (BENCHMARK_ENTRY) with real libuv 1.50 as well; --only runs them.
SLOW = {
    "async1": "over the runner's 60 s limit with real libuv 1.50 here (89-91 s run by hand)",
    "async8": "60 s runner timeout with real libuv 1.50 here",
    "async_pummel_8": "60 s runner timeout with real libuv 1.50 here",
    "fs_stat": "60 s runner timeout with real libuv 1.50 here (its 16/32 concurrent rounds)",
}

# name pattern -> [(metric label, regex on the output, higher is better)]
RATE = r"\(([\d,]+)/s(?:ec)?[,)]"
METRICS = [
    (r"loop_count_timed$", [("ticks/s", r"\((\d+) ticks/s\)", True)]),
    (r"loop_(count|alive)$", [("ticks/s", r"ticks in [\d.]+s \((\d+)/s\)", True)]),
    (r"ping_pongs$", [("roundtrips/s", r"ping_pongs: (\d+) roundtrips/s", True)]),
    (r"ping_udp\d+$", [("roundtrips/s", r"~ (\d+) roundtrips/s", True)]),
    (r"tcp_write_batch$", [("s for 1M writes", r"write requests in ([\d.]+)s", False)]),
    (r"(tcp|pipe)_pump\d+_client$", [("gbit/s", r"_client: ([\d.]+) gbit/s", True)]),
    (r"(tcp4|pipe)_pound_\d+$", [("accepts/s", r"pound-\d+: (\d+) accepts/s", True)]),
    (r"tcp_multi_accept\d+$", [("accepts/s", r"accept\d+: (\d+) accepts/sec", True)]),
    (r"udp_(timed_)?pummel_\d+v\d+$", [("received/s", r"pummel_\d+v\d+: (\d+)/s received", True)]),
    (r"getaddrinfo$", [("req/s", r"getaddrinfo: (\d+) req/s", True)]),
    (r"fs_stat$", [("stats/s sync", r"stats \(sync\): [\d.]+s " + RATE, True)]
     + [(f"stats/s {n} conc", rf"stats \({n} concurrent\): [\d.]+s " + RATE, True)
        for n in (1, 2, 3, 4, 8, 16, 32)]),
    (r"async\d+$", [("pings/s", RATE, True)]),
    (r"async_pummel_\d+$", [("callbacks/s", RATE, True)]),
    (r"queue_work$", [("jobs/s", RATE, True)]),
    (r"spawn$", [("spawns/s", r"spawn: (\d+) spawns/s", True)]),
    (r"thread_create$", [("threads/s", RATE, True)]),
    (r"million_async$", [("events/s", RATE, True)]),
    (r"million_timers$", [("s total", r"([\d.]+) seconds total", False)]),
]
BACKENDS = {"epoll": "0", "uring": "1"}
# Run order: the quick ones (and those issue 10 names) first, so that a run cut short still has
# whole rows for them; the rest follow in the runner's list order.
FIRST = ["loop_count", "loop_count_timed", "loop_alive", "ping_pongs", "ping_udp1",
         "tcp_write_batch", "tcp_pump1_client", "tcp_pump100_client", "pipe_pump1_client",
         "pipe_pump100_client", "spawn", "thread_create", "getaddrinfo", "queue_work",
         "million_async", "tcp4_pound_100", "tcp4_pound_1000", "pipe_pound_100",
         "pipe_pound_1000", "async_pummel_2", "async1", "million_timers"]
NETNS = "ip link set lo up; ip route add 239.0.0.0/8 dev lo; exec \"$@\""


def metrics_of(name):
    for pat, ms in METRICS:
        if re.match(pat, name):
            return ms
    return None


def run_in_netns(cmd, env_value, cwd, timeout):
    """cmd inside `unshare -n` (only loopback), UV_USE_IO_URING=env_value; returns (rc, output)."""
    env = dict(os.environ, UV_USE_IO_URING=env_value)
    full = ["unshare", "-n", "sh", "-c", NETNS, "sh"] + cmd
    try:
        p = subprocess.run(full, env=env, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode(errors="replace") + "\n(killed by compare.py timeout)"


def run_one(runner, name, env_value):
    """Runs one benchmark; returns {label: value} or None, and the output."""
    work = tempfile.mkdtemp(prefix="uvring-bench-")
    try:
        rc, out = run_in_netns([runner, name], env_value, work, 300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if rc != 0 or not re.search(r"^ok 1 - ", out, re.M):
        return None, out
    vals = {}
    for label, rx, _ in metrics_of(name):
        m = re.search(rx, out)
        if m:
            vals[label] = float(m.group(1).replace(",", ""))
    return (vals or None), out


def list_benchmarks(runner):
    out = subprocess.run([runner, "--list"], stdout=subprocess.PIPE, check=True).stdout.decode()
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def table(raw, names, backend):
    """Markdown rows for one backend from raw records."""
    rows = [f"| benchmark | metric | uvring {backend} median | libuv median | ratio | range | pairs |",
            "|---|---|---:|---:|---:|---|---:|"]
    for name in names:
        ms = metrics_of(name)
        for label, _, higher in ms:
            pairs = {}
            fails = 0
            for (b, n, rep, lib), vals in raw.items():
                if b != backend or n != name:
                    continue
                if vals is None:
                    fails += 1
                    continue
                if label in vals:
                    pairs.setdefault(rep, {})[lib] = vals[label]
            full = [p for p in pairs.values() if "uvring" in p and "libuv" in p]
            if not full and label != ms[0][0]:
                continue
            a = [p["uvring"] for p in pairs.values() if "uvring" in p]
            b = [p["libuv"] for p in pairs.values() if "libuv" in p]
            ma = statistics.median(a) if a else None
            mb = statistics.median(b) if b else None

            def ratio(x, y):
                if not x or not y:
                    return None
                return x / y if higher else y / x
            r = ratio(ma, mb)
            rs = [ratio(p["uvring"], p["libuv"]) for p in full]
            rs = [x for x in rs if x is not None]
            rng = f"{min(rs):.2f} - {max(rs):.2f}" if rs else "-"
            note = f"{len(full)}" + (f" ({fails} failed runs)" if fails else "")
            arrow = "" if higher else " (lower better)"
            rows.append(f"| {name} | {label}{arrow} | {fmt(ma)} | {fmt(mb)} | "
                        f"{'-' if r is None else f'{r:.2f}'} | {rng} | {note} |")
    return rows


def load_raw(path):
    raw = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            b, n, rep, lib, status, vals = line.rstrip("\n").split("\t")
            raw[(b, n, int(rep), lib)] = (None if status != "ok" else
                                          {k: float(v) for k, v in
                                           (kv.split("=", 1) for kv in vals.split(";") if kv)})
    return raw


def report(raw, names, backends, header):
    lines = header[:]
    for backend in backends:
        lines += ["", f"### {backend} (UV_USE_IO_URING={BACKENDS[backend]}, both libraries)", ""]
        lines += table(raw, names, backend)
    return "\n".join(lines) + "\n"


def parse_strace(path):
    """strace -c summary -> ({syscall: calls}, total calls)."""
    counts = {}
    total = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[-1] != "total":
                # % time, seconds, usecs/call, calls, [errors], syscall
                counts[parts[-1]] = int(parts[3])
            elif parts and parts[-1] == "total":
                total = int(parts[3])
    return counts, total


def strace_mode(runners, name, backends):
    """Runs NAME under strace -c -f for each library and backend, prints counts side by side."""
    cols = []
    for backend in backends:
        for lib in ("uvring", "libuv"):
            work = tempfile.mkdtemp(prefix="uvring-bench-strace-")
            out_file = os.path.join(work, "strace.txt")
            rc, out = run_in_netns(["strace", "-c", "-f", "-o", out_file, runners[lib], name],
                                   BACKENDS[backend], work, 600)
            counts, total = parse_strace(out_file) if os.path.exists(out_file) else ({}, 0)
            shutil.rmtree(work, ignore_errors=True)
            m = re.search(r"roundtrips/s", out)
            rt = None
            if m:
                rate = re.search(r"(\d+) roundtrips/s", out)
                secs = 5  # TIME in benchmark-ping-pongs.c / benchmark-ping-udp.c: 5000 ms
                rt = int(rate.group(1)) * secs if rate else None
            status = "ok" if rc == 0 else f"rc={rc}"
            cols.append((f"{lib} {backend}", counts, total, rt, status, out))
    keys = sorted({k for c in cols for k in c[1]}, key=lambda k: -max(c[1].get(k, 0) for c in cols))
    w = max(16, max(len(c[0]) for c in cols) + 2)
    print(f"strace -c -f of {name} (all processes: runner, benchmark, helper)")
    print(f"{'syscall':<20}" + "".join(f"{c[0]:>{w}}" for c in cols))
    for k in keys:
        print(f"{k:<20}" + "".join(f"{c[1].get(k, 0):>{w}}" for c in cols))
    print(f"{'total':<20}" + "".join(f"{c[2]:>{w}}" for c in cols))
    print(f"{'status':<20}" + "".join(f"{c[4]:>{w}}" for c in cols))
    if any(c[3] for c in cols):
        print(f"{'round trips':<20}" + "".join(f"{(c[3] or 0):>{w}}" for c in cols))
        print(f"{'calls/round trip':<20}" +
              "".join(f"{(c[2] / c[3] if c[3] else 0):>{w}.2f}" for c in cols))
        for sc in ("epoll_wait", "epoll_pwait", "io_uring_enter", "read", "write", "recvfrom",
                   "sendto", "recvmsg", "sendmsg", "epoll_ctl"):
            if any(c[1].get(sc) for c in cols):
                print(f"{sc + '/rt':<20}" +
                      "".join(f"{(c[1].get(sc, 0) / c[3] if c[3] else 0):>{w}.2f}" for c in cols))
    for c in cols:
        if c[4] != "ok":
            print(f"\n{c[0]} failed:\n{c[5]}")


# --instructions: the helper server a benchmark talks to (benchmark-list.h), run natively beside
# it, and how many operations one run of the benchmark process does: a fixed count; its printed
# rate (METRICS) over the benchmark's fixed 5 s; or calls the callgrind output records (pound
# runs "10 s and the last closes", so it prints no count).
HELPERS = {r"ping_pongs$|tcp4_pound_": "tcp4_echo_server", r"tcp_write_batch$": "tcp4_blackhole_server",
           r"pipe_pound_": "pipe_echo_server", r"tcp_pump\d+_client$": "tcp_pump_server",
           r"pipe_pump\d+_client$": "pipe_pump_server"}
OPS = [
    (r"thread_create$", 20000),
    (r"spawn$", 1000),
    (r"getaddrinfo$", 10000),
    (r"tcp_write_batch$", 1000000),
    # The printed metric (METRICS) times what turns it into a count over the 5 s the client
    # runs: round trips/s; gbit/s (2^30 bits) into 8 KiB writes.
    (r"ping_pongs$", ("metric", 5)),
    (r"(tcp|pipe)_pump\d+_client$", ("metric", 5 * 2**30 / 8 / 8192)),
    # One connection (connect, the helper's accept, close) per call.
    (r"tcp4_pound_\d+$", ("calls", "uv_tcp_connect")),
    (r"pipe_pound_\d+$", ("calls", "uv_pipe_connect")),
    # Senders and receivers in the one process: per datagram sent (and, but for losses, received).
    (r"udp_(timed_)?pummel_\d+v\d+$", ("calls", "uv_udp_send")),
    (r"ping_udp1$", ("calls", "uv_udp_try_send")),
]


def instructions_mode(runners, names, backends, results):
    """Each of NAMES once per library and backend under callgrind; prints instructions per
    operation of the benchmark process, split by where they ran (cgsplit.py)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cgsplit
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is missing (run.sh installs it)")
    out_dir = os.path.join(results, "instructions",
                           datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(out_dir, exist_ok=True)
    print(f"{'benchmark':<20}{'mode':<7}{'library':<8}{'Ir/op':>10}{'lib Ir/op':>11}"
          f"{'glibc Ir/op':>13}{'other Ir/op':>13}{'ops':>10}")
    for name in names:
        ops_rule = next((o for pat, o in OPS if re.match(pat, name)), None)
        if ops_rule is None:
            sys.exit(f"no operation count known for {name}: add it to OPS")
        helper = next((h for pat, h in HELPERS.items() if re.match(pat, name)), "")
        for backend in backends:
            for lib in ("uvring", "libuv"):
                base = os.path.join(out_dir, f"{name}-{backend}-{lib}")
                work = tempfile.mkdtemp(prefix="uvring-bench-instr-")
                os.chmod(work, 0o755)
                # The helper natively (callgrind would slow the other side too), the benchmark
                # process itself (the runner's "NAME NAME" form) under callgrind.
                script = ('if [ -n "$3" ]; then "$1" "$2" "$3" > helper.log 2>&1 & hp=$!; sleep 1; fi; '
                          'valgrind --tool=callgrind --callgrind-out-file="$4" "$1" "$2" "$2"; '
                          'rc=$?; [ -n "$3" ] && kill $hp 2>/dev/null; exit $rc')
                rc, out = run_in_netns(["sh", "-c", script, "sh", runners[lib], name, helper,
                                        base + ".cg"], BACKENDS[backend], work, 1800)
                shutil.rmtree(work, ignore_errors=True)
                with open(base + ".log", "w") as f:
                    f.write(out)
                if rc != 0 or not os.path.exists(base + ".cg"):
                    print(f"{name:<20}{backend:<7}{lib:<8} failed: {base}.log")
                    continue
                if isinstance(ops_rule, int):
                    ops = ops_rule
                elif ops_rule[0] == "calls":
                    ops = cgsplit.calls(base + ".cg", ops_rule[1])
                else:
                    m = re.search(metrics_of(name)[0][1], out)
                    ops = int(float(m.group(1)) * ops_rule[1]) if m else 0
                if not ops:
                    print(f"{name:<20}{backend:<7}{lib:<8} no operation count: {base}.log")
                    continue
                total, libir, glibc, other = cgsplit.split(base + ".cg")
                print(f"{name:<20}{backend:<7}{lib:<8}{total / ops:>10.0f}{libir / ops:>11.0f}"
                      f"{glibc / ops:>13.0f}{other / ops:>13.0f}{ops:>10}", flush=True)
    print(f"callgrind outputs and logs: {out_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--uvring", required=True, help="runner linked against uvring")
    ap.add_argument("--libuv", required=True, help="runner linked against real libuv 1.50")
    ap.add_argument("--reps", type=int, default=int(os.environ.get("REPS", "5")))
    ap.add_argument("--only", help="NAME[,NAME]: just these benchmarks (may name SLOW ones)")
    ap.add_argument("--backends", default=os.environ.get("BENCH_BACKENDS", "epoll,uring"))
    ap.add_argument("--strace", metavar="NAME", help="strace -c -f NAME for both libraries")
    ap.add_argument("--instructions", metavar="NAME[,NAME]",
                    help="count instructions per operation under callgrind instead of timing")
    ap.add_argument("--results", required=True, help="folder for the raw data and the table")
    ap.add_argument("--report", metavar="RAW", help="only rebuild the table from a raw file")
    ap.add_argument("--header", default="", help="a line for the top of the table")
    a = ap.parse_args()
    backends = [b for b in a.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            sys.exit(f"unknown backend {b} (epoll, uring)")
    runners = {"uvring": a.uvring, "libuv": a.libuv}
    all_names = list_benchmarks(a.uvring)
    if a.strace:
        if a.strace not in all_names:
            sys.exit(f"no benchmark named {a.strace}")
        strace_mode(runners, a.strace, backends)
        return
    if a.instructions:
        names = a.instructions.split(",")
        for n in names:
            if n not in all_names:
                sys.exit(f"no benchmark named {n}")
        instructions_mode(runners, names, backends, a.results)
        return
    if a.only:
        names = a.only.split(",")
        for n in names:
            if n not in all_names:
                sys.exit(f"no benchmark named {n}")
            if n in EXCLUDED:
                sys.exit(f"{n} is excluded: {EXCLUDED[n]}")
    else:
        names = [n for n in all_names if n not in EXCLUDED and n not in SLOW]
        names = [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]
    for n in names:
        if metrics_of(n) is None:
            sys.exit(f"compare.py does not know how to read the metric of {n}: add it to METRICS")
    os.makedirs(a.results, exist_ok=True)
    header = [f"libuv 1.50 benchmark runner: uvring vs real libuv 1.50. {a.header}".rstrip(),
              "ratio: uvring/libuv of the medians, oriented so that > 1 means uvring is better; "
              "range: min - max of the per-pair ratios."]
    if a.report:
        raw = load_raw(a.report)
        names = [n for n in names if any(k[1] == n for k in raw)]
        print(report(raw, names, backends, header), end="")
        return
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    raw_path = os.path.join(a.results, f"raw-{stamp}.tsv")
    md_path = os.path.join(a.results, f"table-{stamp}.md")
    raw = {}
    t0 = time.time()
    with open(raw_path, "w") as rf:
        rf.write(f"# backend\tbenchmark\trep\tlib\tstatus\tmetrics   {a.header}\n")
        # Benchmark by benchmark (so a cut-short run still has whole rows), each backend,
        # REPS pairs; the pair's order alternates: A B, B A, A B ...
        for name in names:
            for backend in backends:
                for rep in range(a.reps):
                    order = ("uvring", "libuv") if rep % 2 == 0 else ("libuv", "uvring")
                    for lib in order:
                        vals, out = run_one(runners[lib], name, BACKENDS[backend])
                        raw[(backend, name, rep, lib)] = vals
                        enc = ";".join(f"{k}={v}" for k, v in (vals or {}).items())
                        rf.write(f"{backend}\t{name}\t{rep}\t{lib}\t"
                                 f"{'ok' if vals else 'fail'}\t{enc}\n")
                        rf.flush()
                        load = os.getloadavg()[0]
                        print(f"[{time.time() - t0:6.0f}s load {load:4.1f}] {backend} {name} "
                              f"#{rep + 1} {lib}: "
                              + (", ".join(f"{k} {fmt(v)}" for k, v in vals.items()) if vals
                                 else "FAILED\n" + out.strip()[-2000:]),
                              file=sys.stderr, flush=True)
    header.append(f"{a.reps} pairs per benchmark and backend; {time.time() - t0:.0f} s; "
                  f"load average at the end {os.getloadavg()[0]:.1f} (2 cores).")
    text = report(raw, names, backends, header)
    excl = ["", "Not compared:"] + [f"- {n}: {why}" for n, why in {**EXCLUDED, **SLOW}.items()
                                    if n not in names]
    text += "\n".join(excl) + "\n"
    with open(md_path, "w") as f:
        f.write(text)
    print(text, end="")
    print(f"raw data: {raw_path}\ntable: {md_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
