'use strict';
// child_process: spawn with stdio pipes (8 MiB through `sha256sum`), large stdout, stderr,
// exit codes, exec/execFile, spawnSync, kill with SIGTERM/SIGKILL, 20 children at once,
// fork with IPC (1000 round trips and a passed server handle).
const cp = require('child_process');
const net = require('net');
const crypto = require('crypto');
const { fail, eq, check, sha, deadline } = require('../lib');
if (process.argv[2] === 'child') {
  process.on('message', (m, handle) => {
    if (m.cmd === 'echo') process.send({ cmd: 'echo', n: m.n + 1 });
    else if (m.cmd === 'server') {
      handle.on('connection', (s) => s.end(`child ${process.pid}`));
      process.send({ cmd: 'server-ready' });
    } else if (m.cmd === 'exit') process.exit(5);
  });
  return;
}
deadline(60000, 'child-process');
const run = (cmd, args, opts = {}) => new Promise((resolve) => {
  const c = cp.spawn(cmd, args, opts);
  const out = [], err = [];
  if (c.stdout) c.stdout.on('data', (b) => out.push(b));
  if (c.stderr) c.stderr.on('data', (b) => err.push(b));
  c.on('error', (e) => fail(`spawn ${cmd}: ${e}`));
  c.on('close', (code, sig) => resolve({ c, code, sig, out: Buffer.concat(out), err: Buffer.concat(err) }));
  if (opts.input !== undefined) c.stdin.end(opts.input);
});
(async () => {
  const data = crypto.randomBytes(8 << 20);
  const r1 = await run('sha256sum', [], { input: data });
  eq(r1.out.toString().split(' ')[0], sha(data), 'sha256sum through stdin pipe');
  const r2 = await run('head', ['-c', String(20 << 20), '/dev/zero']);
  eq(r2.out.length, 20 << 20, 'large stdout');
  const r3 = await run('sh', ['-c', 'echo to-err >&2; exit 3']);
  eq(r3.code, 3, 'exit code');
  eq(r3.err.toString(), 'to-err\n', 'stderr pipe');
  const r4 = cp.spawn('sleep', ['30']);
  setTimeout(() => r4.kill('SIGTERM'), 50);
  const [code4, sig4] = await new Promise((res) => r4.on('exit', (c, s) => res([c, s])));
  eq(sig4, 'SIGTERM', 'killed by SIGTERM');
  check(code4 === null, 'no exit code when signalled');
  const r5 = cp.spawn('sh', ['-c', 'trap "" TERM; exec sleep 30']);
  setTimeout(() => r5.kill('SIGKILL'), 50);
  eq(await new Promise((res) => r5.on('exit', (_c, s) => res(s))), 'SIGKILL', 'SIGKILL');
  const e1 = await new Promise((res) => cp.exec('echo $((6*7))', (err, so) => res([err, so])));
  eq(e1[1], '42\n', 'exec');
  const e2 = await new Promise((res) => cp.execFile('false', (err) => res(err)));
  eq(e2 && e2.code, 1, 'execFile error code');
  const e3 = await new Promise((res) => cp.execFile('/nonexistent/prog', (err) => res(err)));
  eq(e3 && e3.code, 'ENOENT', 'spawn ENOENT');
  const s1 = cp.spawnSync('sh', ['-c', 'cat; echo done'], { input: 'abc' });
  eq(s1.stdout.toString(), 'abcdone\n', 'spawnSync');
  const env = await run('sh', ['-c', 'echo "$FOO:$PWD"'], { env: { ...process.env, FOO: 'bar' }, cwd: '/tmp' });
  eq(env.out.toString(), 'bar:/tmp\n', 'env and cwd');
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => run('sh', ['-c', `echo ${i}; exit ${i % 7}`])));
  many.forEach((r, i) => { eq(r.out.toString(), `${i}\n`, `child ${i} out`); eq(r.code, i % 7, `child ${i} code`); });
  // fork + IPC
  const f = cp.fork(__filename, ['child']);
  let n = 0;
  await new Promise((res) => {
    f.on('message', (m) => {
      if (m.cmd !== 'echo') return;
      eq(m.n, n + 1, 'ipc echo');
      n = m.n;
      if (n >= 1000) res(); else f.send({ cmd: 'echo', n });
    });
    f.send({ cmd: 'echo', n: 0 });
  });
  const srv = net.createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const port = srv.address().port;
  await new Promise((res) => { f.once('message', (m) => { eq(m.cmd, 'server-ready', 'handle passed'); res(); }); f.send({ cmd: 'server' }, srv); });
  srv.close();
  const reply = await new Promise((res) => {
    let s = '';
    net.connect(port, '127.0.0.1').on('data', (b) => { s += b; }).on('close', () => res(s));
  });
  eq(reply, `child ${f.pid}`, 'connection served by the forked child');
  f.send({ cmd: 'exit' });
  eq(await new Promise((res) => f.on('exit', res)), 5, 'fork exit code');
  console.log('ok');
})().catch((e) => fail(e.stack));
