#!/usr/bin/env python3
"""Ctrl+Z storm: N Neovim instances (the TUI, not headless), each in its own window of one tmux
server, under an interactive bash. R rounds: every instance is sent C-z (Neovim suspends itself),
and once all are stopped, each is sent `fg` followed by `:call writefile(['<round>'], file)`.
Resume latency = time from sending `fg` to the file holding that round's mark. At the end every
instance must answer once more, then quit. Checks: no wait over 15 s, no process in D state, no
iou-* thread of ours left behind, a fresh shell command answers promptly during the storm.
Usage: storm.py CONFIG [CONFIG...] where CONFIG is name=ENV1=v1,ENV2=v2 (see storm.sh).
With STORM_CHROOT=ROOT, NVIM and EXPECT_LIBUV are paths inside the chroot ROOT (readied by
compat/trixie/mount.sh), each Neovim runs there with a clean environment (ENV only, plus
PATH/HOME/LANG/TERM) and the marks go under ROOT/tmp; tmux and bash are the machine's."""
import os, shlex, statistics, subprocess, sys, tempfile, threading, time

N = int(os.environ.get('STORM_N', '4'))
R = int(os.environ.get('STORM_ROUNDS', '20'))
WAIT = 15.0
NVIM = os.environ.get('NVIM', '/usr/bin/nvim')
CHROOT = os.environ.get('STORM_CHROOT')
TAG = os.environ.get('STORM_TAG', 'nvim-storm')

def log(*a):
    print(f'{TAG}:', *a, flush=True)

def rings_expected(env_extra):
    """Whether each process must hold io_uring instances: EXPECT_RINGS=1|0 when the config says so
    (libuv 1.50 always makes one to batch epoll_ctl), else UV_USE_IO_URING=1 (uvring)."""
    return env_extra.get('EXPECT_RINGS', env_extra.get('UV_USE_IO_URING')) == '1'

class Prober(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True); self.worst = 0.0; self.n = 0; self.stop = False
    def run(self):
        while not self.stop:
            t = time.monotonic()
            subprocess.run(['sh', '-c', 'true'])
            self.worst = max(self.worst, time.monotonic() - t); self.n += 1
            time.sleep(0.1)

def state(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None

def children(pid):
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []

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

def wait_for(cond, timeout=WAIT, step=0.002):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond(): return True
        time.sleep(step)
    return cond()

def read(p):
    try:
        with open(p) as f: return f.read()
    except OSError:
        return ''

def ps_lines(args):
    return subprocess.run(['ps'] + args, capture_output=True, text=True).stdout.splitlines()

def run_config(name, env_extra):
    d = tempfile.mkdtemp(prefix=f'uvr-nvim-storm-{name}-', dir=CHROOT + '/tmp' if CHROOT else None)
    d_in = d[len(CHROOT):] if CHROOT else d  # the folder as Neovim sees it
    sock = os.path.join(d, 'tmux.sock')
    tenv = {k: v for k, v in os.environ.items() if k not in ('UV_USE_IO_URING', 'LD_LIBRARY_PATH', 'TMUX')}
    tenv['TERM'] = 'xterm-256color'
    def tmux(*a, check=True):
        return subprocess.run(['tmux', '-S', sock] + list(a), env=tenv, check=check,
                              capture_output=True, text=True).stdout
    envs = ' '.join(f'{k}={shlex.quote(v)}' for k, v in env_extra.items())
    if CHROOT:
        nv = (f'chroot {shlex.quote(CHROOT)} env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root '
              f'LANG=C.UTF-8 TERM=xterm-256color {envs} {NVIM} -u NONE -i NONE -n --cmd "set noswapfile shortmess+=I"')
    else:
        nv = f'env -u UV_USE_IO_URING -u LD_LIBRARY_PATH {envs} {NVIM} -u NONE -i NONE -n --cmd "set noswapfile shortmess+=I"'
    errors, lat, pids, nvpids, dmid, rings = [], [], set(), [], [], []
    shell = 'bash --norc --noprofile -i'
    tmux('new-session', '-d', '-s', 'storm', '-x', '100', '-y', '30', shell)
    for i in range(1, N):
        tmux('new-window', '-t', 'storm', shell)
    panes = tmux('list-panes', '-s', '-t', 'storm', '-F', '#{pane_id} #{pane_pid}').split('\n')
    panes = [(p.split()[0], int(p.split()[1])) for p in panes if p]
    for pane, bpid in panes:
        pids.add(bpid)
        tmux('send-keys', '-t', pane, nv, 'Enter')
    mark = lambda i: os.path.join(d, f'mark{i}')      # read here
    mark_in = lambda i: os.path.join(d_in, f'mark{i}')  # written by Neovim
    prober = Prober(); prober.start()
    t_start = time.monotonic()
    try:
        for i, (pane, bpid) in enumerate(panes):
            if not wait_for(lambda: children(bpid), 10):
                raise RuntimeError(f'nvim {i} did not start')
            npid = children(bpid)[0]
            nvpids.append(npid); pids.add(npid)
            tmux('send-keys', '-t', pane, f":call writefile(['ready'], '{mark_in(i)}')", 'Enter')
            if not wait_for(lambda: read(mark(i)) == 'ready\n', 10):
                raise RuntimeError(f'nvim {i} did not answer at start: {tmux("capture-pane", "-p", "-t", pane)}')
        want = os.path.realpath((CHROOT or '') + env_extra.get('EXPECT_LIBUV', ''))
        for npid in nvpids:
            libs = {os.path.realpath(l.split()[-1]) for l in read(f'/proc/{npid}/maps').splitlines() if '/libuv.so' in l}
            if libs != {want}:
                raise RuntimeError(f'nvim {npid} maps {libs}, expected {want}')
        rings = [ring_fds(p) for p in nvpids]
        if rings_expected(env_extra) != all(rings) or any(rings) != all(rings):
            raise RuntimeError(f'io_uring instances per nvim {rings} do not fit UV_USE_IO_URING={env_extra.get("UV_USE_IO_URING")}'
                               f' EXPECT_RINGS={env_extra.get("EXPECT_RINGS")}')
        for r in range(R):
            for pane, _ in panes:
                tmux('send-keys', '-t', pane, 'C-z')
            for i, npid in enumerate(nvpids):
                if not wait_for(lambda: state(npid) == 'T'):
                    raise RuntimeError(f'round {r}: nvim {i} not stopped after C-z (state {state(npid)})')
            # bash prints its job notice; make sure it is back at its prompt (nvim is its job)
            t0 = {}
            for i, (pane, _) in enumerate(panes):
                t0[i] = time.monotonic()
                tmux('send-keys', '-t', pane, 'fg', 'Enter', f":call writefile(['r{r}'], '{mark_in(i)}')", 'Enter')
            pending = set(range(len(panes)))
            end = time.monotonic() + WAIT
            while pending and time.monotonic() < end:
                for i in list(pending):
                    if read(mark(i)) == f'r{r}\n':
                        lat.append(time.monotonic() - t0[i]); pending.discard(i)
                time.sleep(0.001)
            if pending:
                i = min(pending)
                raise RuntimeError(f'round {r}: nvim {sorted(pending)} did not answer after fg within {WAIT}s '
                                   f'(state {state(nvpids[i])}); screen: '
                                   + ' | '.join(l for l in tmux('capture-pane', '-p', '-t', panes[i][0]).splitlines() if l.strip()))
            for line in ps_lines(['-o', 'pid=,stat=,comm=', '-p', ','.join(map(str, pids))]):
                if line.split()[1].startswith('D'): dmid.append(line.strip())
        for i, (pane, _) in enumerate(panes):
            tmux('send-keys', '-t', pane, f":call writefile(['final'], '{mark_in(i)}')", 'Enter')
        for i in range(len(panes)):
            if not wait_for(lambda: read(mark(i)) == 'final\n'):
                raise RuntimeError(f'nvim {i} did not answer the final command')
        iou_seen = sum(1 for l in ps_lines(['-eLo', 'pid=,comm=']) if l.split()[1].startswith('iou-') and int(l.split()[0]) in pids)
        for pane, _ in panes:
            tmux('send-keys', '-t', pane, ':qa!', 'Enter')
        for i, npid in enumerate(nvpids):
            if not wait_for(lambda: state(npid) is None or state(npid) == 'Z', 10):
                raise RuntimeError(f'nvim {i} did not quit (state {state(npid)})')
    except RuntimeError as e:
        errors.append(str(e)); iou_seen = -1
    prober.stop = True; prober.join()
    wall = time.monotonic() - t_start
    tmux('kill-server', check=False)
    time.sleep(0.2)
    dend = [l.strip() for l in ps_lines(['-eo', 'pid=,stat=,comm=']) if l.split()[1].startswith('D')
            and (int(l.split()[0]) in pids or l.split()[2] in ('nvim', 'node'))]
    left = [l.strip() for l in ps_lines(['-eLo', 'pid=,tid=,comm=']) if l.split()[2].startswith('iou-') and int(l.split()[0]) in pids]
    alive = [p for p in nvpids if state(p) not in (None, 'Z')]
    # D samples between rounds are reported (a transient D is normal); D at the end is a failure.
    if dend: errors.append(f'processes in D state: {dend}')
    if left: errors.append(f'iou threads left behind: {left}')
    if alive: errors.append(f'nvim processes still alive after the tmux server was killed: {alive}')
    if prober.worst > 2.0: errors.append(f'a fresh shell command took {prober.worst:.2f}s during the storm')
    subprocess.run(['rm', '-rf', d])
    status = 'PASS' if not errors else 'FAIL'
    if lat:
        q = f'resume latency median {statistics.median(lat) * 1000:.1f} ms, worst {max(lat) * 1000:.1f} ms over {len(lat)} resumes'
    else:
        q = 'no resume measured'
    log(f'{name}: {status}: {N} instances x {R} rounds, {q}; shell probe worst {prober.worst * 1000:.0f} ms; '
        f'io_uring fds per nvim {rings}; iou threads of ours before quit {iou_seen}, left after: {len(left)}; transient D samples {len(dmid)}; {wall:.1f}s')
    for e in errors: log(f'  {name}: {e}')
    return not errors

def main():
    ok = fail = 0
    for spec in sys.argv[1:]:
        name, _, envs = spec.partition('=')
        env = dict(kv.split('=', 1) for kv in envs.split(',') if kv)
        if run_config(name, env): ok += 1
        else: fail += 1
    print(f'{TAG}: {ok} passed, {fail} failed', flush=True)
    sys.exit(0 if fail == 0 else 1)

main()
