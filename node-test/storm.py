#!/usr/bin/env python3
"""Node storm: N Debian-Node writers (storm-writer.js) doing continuous file, TCP and UDP I/O are
hit with SIGTSTP/SIGSTOP/SIGCONT storms; then come R Ctrl+Z rounds (every writer gets SIGTSTP; once
all are stopped each is pinged over UDP and sent SIGCONT: resume latency = SIGCONT to its pong);
then half are SIGKILLed mid-write (some while stopped) and the rest are told to finish. Checks:
every record a writer logged (fsynced) is on disk with a matching sha256; finished writers exit 0
with a DONE line; nothing hangs; no process in D state; no io_uring thread (iou-*) of ours left;
a fresh shell command answers promptly during the storm.
Usage: storm.py NODE CONFIG [CONFIG...] where CONFIG is name=ENV1=v1,ENV2=v2 (see storm.sh).
With STORM_CHROOT=ROOT, NODE and EXPECT_LIBUV are paths inside the chroot ROOT (readied by
compat/trixie/mount.sh: the test folder on /uvr/test), the writers run there with a clean
environment (ENV only, plus PATH/HOME/LANG) and their files go under ROOT/tmp."""
import hashlib, os, random, signal, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(os.environ.get('STORM_N', '6'))
SECS = float(os.environ.get('STORM_SECS', '60'))     # each writer's run time at the most
STORM = float(os.environ.get('STORM_STORM', '5'))    # length of the signal storm
RESUMES = int(os.environ.get('STORM_RESUMES', '10')) # Ctrl+Z rounds, each timing N resumes
CHROOT = os.environ.get('STORM_CHROOT')

TAG = os.environ.get('STORM_TAG', 'node-storm')

def log(*a):
    print(f'{TAG}:', *a, flush=True)

class Prober(threading.Thread):
    """Runs a fresh `sh -c true` every 100 ms; records the slowest answer."""
    def __init__(self):
        super().__init__(daemon=True); self.worst = 0.0; self.n = 0; self.stop = False
    def run(self):
        while not self.stop:
            t = time.monotonic()
            subprocess.run(['sh', '-c', 'true'])
            self.worst = max(self.worst, time.monotonic() - t); self.n += 1
            time.sleep(0.1)

def proc_state(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None

def ring_fds(pid):
    """How many io_uring instances the process holds (fds on anon_inode:[io_uring])."""
    n = 0
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                if os.readlink(f'/proc/{pid}/fd/{fd}') == 'anon_inode:[io_uring]': n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n

def d_state(pids):
    out = subprocess.run(['ps', '-eo', 'pid=,stat=,comm='], capture_output=True, text=True).stdout
    bad = []
    for line in out.splitlines():
        p = line.split(None, 2)
        if len(p) == 3 and p[1].startswith('D') and (int(p[0]) in pids or p[2] in ('node', 'nvim')):
            bad.append(line.strip())
    return bad

def iou_threads(pids):
    out = subprocess.run(['ps', '-eLo', 'pid=,tid=,comm='], capture_output=True, text=True).stdout
    mine, others = [], 0
    for line in out.splitlines():
        p = line.split(None, 2)
        if len(p) == 3 and p[2].startswith('iou-'):
            if int(p[0]) in pids: mine.append(line.strip())
            else: others += 1
    return mine, others

def verify(d, i):
    """Returns (records verified, error or None, DONE line or None)."""
    logp, datp = os.path.join(d, f'w{i}.log'), os.path.join(d, f'w{i}.dat')
    try:
        text = open(logp, 'rb').read().decode()
    except OSError as e:
        return 0, f'no log: {e}', None
    lines = text.split('\n')
    if lines and lines[-1] != '':
        lines = lines[:-1]          # a partial last line: that write was not reported complete
    done, n = None, 0
    with open(datp, 'rb') as f:
        for ln in lines:
            if not ln: continue
            if ln.startswith('DONE'):
                done = ln; continue
            seq, off, ln_, h = ln.split()
            f.seek(int(off)); buf = f.read(int(ln_))
            if len(buf) != int(ln_) or hashlib.sha256(buf).hexdigest() != h:
                return n, f'record {seq} at {off} (+{ln_}) does not match its checksum', done
            n += 1
    return n, None, done

def writer_cmd(node, env_extra, d, i):
    """The writer's command line and environment (paths as the writer sees them)."""
    if CHROOT:
        env = {'PATH': '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'HOME': '/root', 'LANG': 'C.UTF-8'}
        env.update(env_extra)
        return (['chroot', CHROOT, 'env', '-i'] + [f'{k}={v}' for k, v in env.items()]
                + [node, '/uvr/test/storm-writer.js', d, str(i), str(SECS)]), None
    env = dict(os.environ); env.pop('UV_USE_IO_URING', None)
    env.update(env_extra)
    return [node, os.path.join(HERE, 'storm-writer.js'), d, str(i), str(SECS)], env

def rings_expected(env_extra):
    """Whether each process must hold io_uring instances: EXPECT_RINGS=1|0 when the config says so
    (libuv 1.50 always makes one to batch epoll_ctl), else UV_USE_IO_URING=1 (uvring)."""
    return env_extra.get('EXPECT_RINGS', env_extra.get('UV_USE_IO_URING')) == '1'

def outside(p):
    """Where a path the writers see is for this script."""
    return CHROOT + p if CHROOT else p

def resume_rounds(procs, ports, errors):
    """Ctrl+Z rounds: SIGTSTP to all, wait until all are stopped, ping each (the datagram waits in
    its socket), SIGCONT each; latency = SIGCONT to the pong. Returns the latencies (s)."""
    lat = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    try:
        for r in range(RESUMES):
            for p in procs: os.kill(p.pid, signal.SIGTSTP)
            end = time.monotonic() + 5
            while time.monotonic() < end and any(proc_state(p.pid) != 'T' for p in procs):
                time.sleep(0.002)
            running = [i for i, p in enumerate(procs) if proc_state(p.pid) != 'T']
            if running:
                errors.append(f'resume round {r}: writers {running} not stopped 5 s after SIGTSTP')
                for p in procs: os.kill(p.pid, signal.SIGCONT)
                return lat
            t0 = {}
            for i, p in enumerate(procs):
                sock.sendto(f'ping {r}'.encode(), ('127.0.0.1', ports[i]))
            for i, p in enumerate(procs):
                t0[i] = time.monotonic(); os.kill(p.pid, signal.SIGCONT)
            pending = set(t0)
            end = time.monotonic() + 15
            while pending and time.monotonic() < end:
                sock.settimeout(max(0.001, end - time.monotonic()))
                try:
                    msg = sock.recv(64).decode().split()
                except socket.timeout:
                    break
                if len(msg) == 3 and msg[0] == 'pong' and msg[2] == str(r) and int(msg[1]) in pending:
                    lat.append(time.monotonic() - t0[int(msg[1])]); pending.discard(int(msg[1]))
            if pending:
                errors.append(f'resume round {r}: writers {sorted(pending)} did not answer within 15 s of SIGCONT '
                              f'(states {[proc_state(procs[i].pid) for i in sorted(pending)]})')
                return lat
    finally:
        sock.close()
    return lat

def stop_writers(procs, ports):
    """Tells every writer still running to finish (write its DONE line and exit 0)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i, p in enumerate(procs):
        if p.poll() is None and ports.get(i): sock.sendto(b'stop', ('127.0.0.1', ports[i]))
    sock.close()

def run_config(node, name, env_extra):
    d = tempfile.mkdtemp(prefix=f'uvr-node-storm-{name}-', dir=outside('/tmp') if CHROOT else None)
    d_in = d[len(CHROOT):] if CHROOT else d
    procs = []
    for i in range(N):
        cmd, env = writer_cmd(node, env_extra, d_in, i)
        # Each writer in a process group of its own, as a shell's job is: the kernel drops SIGTSTP
        # sent to an orphaned group, which ours would be when this script's parent has gone.
        procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0))
    pids = {p.pid for p in procs}
    prober = Prober(); prober.start()
    t0 = time.monotonic()
    time.sleep(0.5)
    errors, sigs, dmid, iou_mid = [], 0, [], 0
    want = os.path.realpath(outside(env_extra.get('EXPECT_LIBUV', '')))
    for p in procs:  # prove the libuv each writer runs on
        maps = open(f'/proc/{p.pid}/maps').read()
        libs = {l.split()[-1] for l in maps.splitlines() if '/libuv.so' in l}
        if {os.path.realpath(x) for x in libs} != {want}:
            errors.append(f'writer {p.pid} maps {libs}, expected {want}')
    # The loops run once a writer has written its control port (under load node may take a while).
    ports = {}
    wait_end = time.monotonic() + 15
    while time.monotonic() < wait_end and len(ports) < N:
        for i in range(N):
            if i not in ports:
                try: ports[i] = int(open(os.path.join(d, f'w{i}.port')).read())
                except (OSError, ValueError): pass
        time.sleep(0.01)
    if len(ports) < N: errors.append(f'writers {sorted(set(range(N)) - set(ports))} did not start their loop within 15 s')
    rings = [ring_fds(p.pid) for p in procs]
    if rings_expected(env_extra) != all(rings) or any(rings) != all(rings):
        errors.append(f'io_uring instances per writer {rings} do not fit UV_USE_IO_URING={env_extra.get("UV_USE_IO_URING")}'
                      f' EXPECT_RINGS={env_extra.get("EXPECT_RINGS")}')
    rnd = random.Random(1234)
    t_storm = time.monotonic()
    while time.monotonic() - t_storm < STORM:
        if rnd.random() < 0.05:   # everybody at once
            for p in procs: os.kill(p.pid, signal.SIGSTOP)
            time.sleep(0.05)
            for p in procs: os.kill(p.pid, signal.SIGCONT)
            sigs += 2 * N
        else:
            p = rnd.choice(procs)
            os.kill(p.pid, rnd.choice([signal.SIGTSTP, signal.SIGSTOP, signal.SIGCONT, signal.SIGCONT]))
            sigs += 1
        if rnd.random() < 0.02:
            dmid += d_state(pids)
            iou_mid = max(iou_mid, len(iou_threads(pids)[0]))
        time.sleep(rnd.uniform(0.002, 0.02))
    lat = resume_rounds(procs, ports, errors) if len(ports) == N else []
    # Kill half mid-write: the first while stopped, the others while running.
    killed = procs[: N // 2]
    for k, p in enumerate(killed):
        os.kill(p.pid, signal.SIGSTOP if k == 0 else signal.SIGCONT)
        time.sleep(rnd.uniform(0.01, 0.1))
        os.kill(p.pid, signal.SIGKILL)
    for p in procs: os.kill(p.pid, signal.SIGCONT) if p.poll() is None else None
    stop_writers(procs, ports)  # the killed ones are gone or going
    hung = []
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hung.append(p.pid); st = proc_state(p.pid); p.kill(); p.wait()
            errors.append(f'writer {p.pid} hung (state {st})')
    wall = time.monotonic() - t0
    prober.stop = True; prober.join()
    total = 0
    for i, p in enumerate(procs):
        n, err, done = verify(d, i)
        total += n
        err_txt = p.stderr.read().decode().strip()
        fallbacks = [l for l in err_txt.splitlines() if 'falling back' in l]
        if fallbacks: errors.append(f'writer {i}: {len(fallbacks)} loop(s) fell back: {fallbacks[0]}')
        err_txt = '\n'.join(l for l in err_txt.splitlines() if not l.startswith('uvring: loop backend'))
        if err and not (p in killed and err.startswith('no log')):  # killed before it opened its log
            errors.append(f'writer {i}: {err}')
        if p in killed:
            if p.returncode != -signal.SIGKILL: errors.append(f'writer {i}: exit {p.returncode}, expected SIGKILL')
        else:
            if n == 0: errors.append(f'writer {i}: no record completed')
            if p.returncode != 0: errors.append(f'writer {i}: exit {p.returncode}: {err_txt}')
            if not done or not done.startswith(f'DONE {n} '): errors.append(f'writer {i}: DONE line {done!r} with {n} records')
            elif 'tcp=0' in done or 'udp=0' in done: errors.append(f'writer {i}: no socket traffic: {done}')
    dend = d_state(pids)
    mine, others = iou_threads(pids)
    # A process sampled in D mid-storm (fdatasync sleeps in D) is reported, not failed; one still in
    # D once everything has exited or been killed is a failure.
    if dend: errors.append(f'processes in D state: {dend}')
    if mine: errors.append(f'iou threads left: {mine}')
    if prober.worst > 2.0: errors.append(f'a fresh shell command took {prober.worst:.2f}s during the storm')
    subprocess.run(['rm', '-rf', d])
    status = 'PASS' if not errors else 'FAIL'
    if lat:
        q = f'resume latency median {statistics.median(lat) * 1000:.1f} ms, worst {max(lat) * 1000:.1f} ms over {len(lat)} resumes'
    else:
        q = 'no resume measured'
    log(f'{name}: {status}: {q}; io_uring fds per writer {rings}; {N} writers, {sigs} signals, {len(killed)} SIGKILLed, {total} records verified, '
        f'shell probe worst {prober.worst * 1000:.0f} ms over {prober.n}, {wall:.1f}s, '
        f'iou threads of ours mid-storm (max) {iou_mid}, after: {len(mine)}; others on the machine: {others}; '
        f'transient D samples mid-storm: {len(dmid)}')
    for e in errors: log(f'  {name}: {e}')
    return not errors

def main():
    node = sys.argv[1]
    ok = fail = 0
    for spec in sys.argv[2:]:
        name, _, envs = spec.partition('=')
        env = dict(kv.split('=', 1) for kv in envs.split(',') if kv)
        if run_config(node, name, env): ok += 1
        else: fail += 1
    print(f'{TAG}: {ok} passed, {fail} failed', flush=True)
    sys.exit(0 if fail == 0 else 1)

main()
