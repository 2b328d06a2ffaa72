'use strict';
// Child processes with stdio pipes, as Node 20 programs use them: 8 children at once each
// echoing 2 MiB through `cat` both ways with back-pressure; an extra pipe on fd 3 and fd 4 in
// both directions; stdin from a file descriptor; 'ignore' and 'inherit'; a child's stdout piped
// straight into another child's stdin (a shell-less pipeline); spawn with AbortSignal, timeout
// and killSignal; fork with serialization 'advanced' (Map, BigInt, typed arrays over IPC);
// execFile maxBuffer. Every output is checked byte for byte.
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { fail, eq, check, sha, tmpdir, deadline } = require('../lib');
if (process.argv[2] === 'adv') {
  process.on('message', (m) => {
    process.send({ map: new Map([...m.map].map(([k, v]) => [k, v * 2n])), arr: m.arr.map((x) => x + 1), buf: m.buf.reverse() });
  });
  return;
}
deadline(90000, 'child-stdio');
const collect = (s) => new Promise((res) => { const b = []; s.on('data', (c) => b.push(c)); s.on('end', () => res(Buffer.concat(b))); });
const exited = (c) => new Promise((res) => c.on('close', (code, sig) => res([code, sig])));
const dir = tmpdir('cstdio');
(async () => {
  // 8 x 2 MiB through cat, written in 64 KiB pieces honouring back-pressure
  const runs = Array.from({ length: 8 }, async (_, i) => {
    const data = crypto.randomBytes(2 << 20);
    const c = cp.spawn('cat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = collect(c.stdout), err = collect(c.stderr);
    let pauses = 0;
    for (let off = 0; off < data.length; off += 65536) {
      if (!c.stdin.write(data.subarray(off, off + 65536))) { pauses++; await new Promise((r) => c.stdin.once('drain', r)); }
    }
    c.stdin.end();
    const [o, e, [code]] = await Promise.all([out, err, exited(c)]);
    eq(code, 0, `cat ${i} exit`); eq(e.length, 0, `cat ${i} stderr`);
    eq(o.length, data.length, `cat ${i} bytes`); eq(sha(o), sha(data), `cat ${i} sha256`);
    return pauses;
  });
  const pauses = (await Promise.all(runs)).reduce((a, b) => a + b, 0);
  check(pauses > 0, 'back-pressure seen on a stdin pipe');
  // extra pipes: the child reads fd 3 and writes what it read, upper-cased, to fd 4
  {
    const c = cp.spawn('sh', ['-c', 'tr a-z A-Z <&3 >&4; echo done'], { stdio: ['ignore', 'pipe', 'inherit', 'pipe', 'pipe'] });
    const out = collect(c.stdout), four = collect(c.stdio[4]);
    const text = 'extra pipes '.repeat(50000);
    c.stdio[3].end(text);
    const [o, f, [code]] = await Promise.all([out, four, exited(c)]);
    eq(code, 0, 'fd3/fd4 exit'); eq(o.toString(), 'done\n', 'fd3/fd4 stdout'); eq(f.toString(), text.toUpperCase(), 'fd 4 content');
  }
  // stdin from a file descriptor
  {
    const f = path.join(dir, 'in');
    const data = crypto.randomBytes(1 << 20);
    fs.writeFileSync(f, data);
    const fd = fs.openSync(f, 'r');
    const c = cp.spawn('sha256sum', [], { stdio: [fd, 'pipe', 'inherit'] });
    fs.closeSync(fd);
    const [o, [code]] = await Promise.all([collect(c.stdout), exited(c)]);
    eq(code, 0, 'fd stdin exit'); eq(o.toString().split(' ')[0], sha(data), 'stdin from a file descriptor');
  }
  // a pipeline without a shell: head -c | sha256sum, the first child's stdout into the second's stdin
  {
    const a = cp.spawn('head', ['-c', String(3 << 20), '/dev/zero'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const b = cp.spawn('sha256sum', [], { stdio: [a.stdout, 'pipe', 'inherit'] });
    a.stdout.destroy(); // ours: b has its own copy (else a's 'close' waits for us to read it)
    const [o, [ca], [cb]] = await Promise.all([collect(b.stdout), exited(a), exited(b)]);
    eq(ca, 0, 'pipeline head'); eq(cb, 0, 'pipeline sha256sum');
    eq(o.toString().split(' ')[0], sha(Buffer.alloc(3 << 20)), 'pipeline content');
  }
  // AbortSignal, timeout + killSignal
  {
    const ac = new AbortController();
    const c = cp.spawn('sleep', ['30'], { signal: ac.signal });
    let abortErr = null;
    c.on('error', (e) => { abortErr = e; });
    setTimeout(() => ac.abort(), 50);
    const [, sig] = await exited(c);
    eq(sig, 'SIGTERM', 'aborted child signal'); eq(abortErr && abortErr.name, 'AbortError', 'abort error');
    const t0 = Date.now();
    const c2 = cp.spawn('sleep', ['30'], { timeout: 200, killSignal: 'SIGUSR2' });
    const [, sig2] = await exited(c2);
    eq(sig2, 'SIGUSR2', 'timeout killSignal');
    check(Date.now() - t0 >= 190 && Date.now() - t0 < 5000, `timeout took ${Date.now() - t0} ms`);
  }
  // 'ignore' everywhere: exit code only
  eq((await exited(cp.spawn('sh', ['-c', 'echo x; exit 9'], { stdio: 'ignore' })))[0], 9, 'ignore stdio exit code');
  // execFile maxBuffer
  const mb = await new Promise((res) => cp.execFile('head', ['-c', '300000', '/dev/zero'], { maxBuffer: 100000, encoding: 'buffer' }, (e, so) => res([e, so])));
  eq(mb[0] && mb[0].code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', 'maxBuffer error'); eq(mb[1].length, 100000, 'maxBuffer kept');
  // fork with serialization 'advanced'
  {
    const f = cp.fork(__filename, ['adv'], { serialization: 'advanced' });
    const reply = await new Promise((res) => { f.once('message', res); f.send({ map: new Map([['a', 1n], ['b', 2n ** 70n]]), arr: new Float64Array([1.5, 2.5]), buf: new Uint8Array([1, 2, 3]) }); });
    check(reply.map instanceof Map && reply.map.get('b') === 2n ** 71n, 'advanced IPC: Map of BigInt');
    check(reply.arr instanceof Float64Array && reply.arr[1] === 3.5, 'advanced IPC: Float64Array');
    eq(Buffer.from(reply.buf).toString('hex'), '030201', 'advanced IPC: Uint8Array');
    // ('exit', not 'close': after disconnect() Node 18 and 20 never emit 'close' for a fork)
    const fexit = new Promise((res) => f.on('exit', (code) => res(code)));
    f.disconnect();
    eq(await fexit, 0, 'forked child exits after disconnect');
  }
  fs.rmSync(dir, { recursive: true });
  console.log(`ok ${pauses} back-pressure pauses`);
})().catch((e) => fail(e.stack));
