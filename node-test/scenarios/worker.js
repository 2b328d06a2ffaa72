'use strict';
// worker_threads: 4 workers (each its own uv loop) doing fs, timers and a TCP round trip,
// messages both ways, SharedArrayBuffer + Atomics, terminate() of a busy worker.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const { fail, eq, deadline } = require('../lib');
if (isMainThread) {
  deadline(30000, 'worker');
  const sab = new SharedArrayBuffer(4 * 4);
  const counts = new Int32Array(sab);
  let done = 0;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(__filename, { workerData: { i, sab } });
    w.on('message', (m) => {
      eq(m, `worker ${i} done`, 'worker message');
      w.postMessage('bye');
    });
    w.on('error', (e) => fail(`worker ${i}: ${e.stack}`));
    w.on('exit', (code) => {
      eq(code, 0, `worker ${i} exit`);
      if (++done === 4) {
        for (let j = 0; j < 4; j++) eq(Atomics.load(counts, j), 1000, `atomic count ${j}`);
        const busy = new Worker('while (true) {}', { eval: true });
        busy.on('online', () => setTimeout(() => busy.terminate().then((c) => { eq(c, 1, 'terminated exit code'); console.log('ok'); }), 50));
      }
    });
  }
} else {
  const fs = require('fs');
  const net = require('net');
  const os = require('os');
  const path = require('path');
  const { i, sab } = workerData;
  const counts = new Int32Array(sab);
  for (let k = 0; k < 1000; k++) Atomics.add(counts, i, 1);
  const f = path.join(os.tmpdir(), `uvr-worker-${process.pid}-${i}`);
  fs.writeFile(f, `data${i}`, (err) => {
    if (err) throw err;
    fs.readFile(f, 'utf8', (err, s) => {
      if (err) throw err;
      fs.unlinkSync(f);
      if (s !== `data${i}`) throw new Error('worker fs mismatch');
      setTimeout(() => {
        const srv = net.createServer((c) => c.end('pong')).listen(0, '127.0.0.1', () => {
          net.connect(srv.address().port, '127.0.0.1').on('data', (d) => {
            if (d.toString() !== 'pong') throw new Error('worker tcp');
            srv.close();
            parentPort.postMessage(`worker ${i} done`);
            parentPort.once('message', () => parentPort.close());
          });
        });
      }, 10);
    });
  });
}
