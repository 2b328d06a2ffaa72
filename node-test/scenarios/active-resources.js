'use strict';
// process.getActiveResourcesInfo() (Node 17.3+): what keeps the loop alive, named. Node lists a
// handle while libuv says it is referenced (uv_has_ref) and until its close callback has run, so
// this checks uvring's handle bookkeeping as Node sees it: exact counts per kind after creating
// timers, an immediate, fs requests (callback and promise), a UDP socket, a child with 3 pipes, an
// fs watcher, a stat watcher, a TCP server and a connection; unref() hides each, ref() brings it
// back; after everything is closed the list is empty again.
const fs = require('fs');
const net = require('net');
const dgram = require('dgram');
const cp = require('child_process');
const { fail, eq, tmpdir, deadline } = require('../lib');
deadline(30000, 'active-resources');
if (typeof process.getActiveResourcesInfo !== 'function') { console.log(`SKIP: no process.getActiveResourcesInfo in Node ${process.version}`); process.exit(77); }
const counts = () => {
  const m = {};
  for (const n of process.getActiveResourcesInfo()) m[n] = (m[n] || 0) + 1;
  return JSON.stringify(Object.keys(m).sort().map((k) => `${k}=${m[k]}`));
};
const want = (o) => JSON.stringify(Object.keys(o).filter((k) => o[k]).sort().map((k) => `${k}=${o[k]}`));
const expect = (o, what) => eq(counts(), want(o), what);
// waitFor: until counts() is o, or fails; polls from a timer, which Node still lists while its
// callback runs (it counts a timer down after the callback).
const waitFor = (o, what, ms = 3000) => new Promise((res) => {
  const end = Date.now() + ms;
  const inTimer = { ...o, Timeout: (o.Timeout || 0) + 1 };
  const poll = (w) => (counts() === want(w) ? res() : Date.now() > end ? fail(`${what}: got ${counts()}, expected ${want(w)}`) : setTimeout(poll, 5, inTimer));
  poll(o);
});
expect({}, 'nothing at start (the unref\'d deadline timer is not listed)');
const dir = tmpdir('active');
const t = [setTimeout(() => {}, 20000), setTimeout(() => {}, 20000), setInterval(() => {}, 20000)];
const im = setImmediate(() => {});
fs.readFile(__filename, () => {});
const statP = fs.promises.stat(__filename);
const u = dgram.createSocket('udp4');
const child = cp.spawn('sleep', ['20']);
const w = fs.watch(dir);
fs.watchFile(__filename, { interval: 50 }, () => {});
const base = { Timeout: 3, Immediate: 1, UDPWrap: 1, ProcessWrap: 1, PipeWrap: 3, FSEventWrap: 1, StatWatcher: 1 };
expect({ ...base, FSReqCallback: 1, FSReqPromise: 1 }, 'after creating them');
clearImmediate(im);
(async () => {
  await statP;
  const b = { ...base, Immediate: 0 };
  await waitFor(b, 'fs requests done, immediate cleared');
  // unref() hides, ref() shows again
  t[0].unref(); expect({ ...b, Timeout: 2 }, 'timer unref'); t[0].ref(); expect(b, 'timer ref');
  u.unref(); expect({ ...b, UDPWrap: 0 }, 'udp unref'); u.ref(); expect(b, 'udp ref');
  child.unref(); expect({ ...b, ProcessWrap: 0 }, 'child unref'); child.ref(); expect(b, 'child ref');
  w.unref(); expect({ ...b, FSEventWrap: 0 }, 'fs.watch unref'); w.ref(); expect(b, 'fs.watch ref');
  // a TCP server, then a connection: its two ends
  const srv = net.createServer((s) => s.pipe(s));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  expect({ ...b, TCPServerWrap: 1 }, 'listening');
  srv.unref(); expect(b, 'server unref'); srv.ref();
  const c = net.connect(srv.address().port, '127.0.0.1');
  await new Promise((r) => c.on('connect', r));
  await new Promise((r) => { c.once('data', r); c.write('x'); });
  expect({ ...b, TCPServerWrap: 1, TCPSocketWrap: 2 }, 'connected');
  // close everything (listening for each end before it can happen)
  const closed = [new Promise((r) => c.on('close', r)), new Promise((r) => child.on('close', (x, y) => r([x, y])))];
  c.end(); t.forEach((x) => clearTimeout(x)); u.close(); w.close(); fs.unwatchFile(__filename); child.kill();
  await closed[0];
  await new Promise((r) => srv.close(r));
  const [code, sig] = await closed[1];
  eq(sig, 'SIGTERM', 'child killed');
  eq(code, null, 'child exit code');
  await waitFor({}, 'everything closed');
  fs.rmSync(dir, { recursive: true });
  console.log('ok');
})().catch((e) => fail(e.stack));
