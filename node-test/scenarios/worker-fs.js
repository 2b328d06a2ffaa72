'use strict';
// worker_threads with many fs operations in flight: 4 workers (each its own uv loop, all sharing
// the one thread pool) each keep 64 fs.promises operations in flight on 100 files of their own
// (open/write/datasync/stat/read/rename/close/unlink), while the main thread does the same on its
// own files (320 operations in flight); every file's content is checked by sha256, and every worker reports its counts,
// which must add up exactly. A worker exits in the middle of its operations when told to.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
const crypto = require('crypto');
const { fail, eq, check, sha, tmpdir, deadline } = require('../lib');
const FILES = 100, INFLIGHT = 64;

// Runs the whole life of FILES files in dir with INFLIGHT of them at a time; returns the counts.
async function churn(dir, tag) {
  const counts = { open: 0, write: 0, sync: 0, stat: 0, read: 0, rename: 0, close: 0, unlink: 0, bytes: 0 };
  let next = 0;
  const one = async (i) => {
    const p = path.join(dir, `${tag}-${i}`);
    const data = crypto.randomBytes(1 + ((i * 7919) % 65536));
    let fh = await fsp.open(p, 'w+'); counts.open++;
    let off = 0;
    while (off < data.length) { off += (await fh.write(data, off, Math.min(4096 * (1 + (i % 5)), data.length - off), off)).bytesWritten; counts.write++; }
    await fh.datasync(); counts.sync++;
    const st = await fh.stat(); counts.stat++;
    if (st.size !== data.length) throw new Error(`${p}: size ${st.size}, expected ${data.length}`);
    await fh.close(); counts.close++;
    await fsp.rename(p, `${p}.r`); counts.rename++;
    fh = await fsp.open(`${p}.r`, 'r'); counts.open++;
    const back = Buffer.alloc(data.length);
    let got = 0;
    while (got < data.length) { const { bytesRead } = await fh.read(back, got, data.length - got, got); if (!bytesRead) break; got += bytesRead; counts.read++; }
    await fh.close(); counts.close++;
    if (sha(back) !== sha(data)) throw new Error(`${p}: content differs`);
    await fsp.unlink(`${p}.r`); counts.unlink++;
    counts.bytes += data.length;
  };
  const lane = async () => { while (next < FILES) await one(next++); };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
  return counts;
}
function expected(n) {
  // what churn must have counted for files 0..n-1 (writes/reads depend on each file's size)
  const c = { open: 2 * n, sync: n, stat: n, rename: n, close: 2 * n, unlink: n, bytes: 0, write: 0 };
  for (let i = 0; i < n; i++) {
    const len = 1 + ((i * 7919) % 65536);
    c.bytes += len; c.write += Math.ceil(len / (4096 * (1 + (i % 5))));
  }
  return c;
}

if (isMainThread) {
  deadline(90000, 'worker-fs');
  const dir = tmpdir('wfs');
  const W = 4;
  const want = expected(FILES);
  (async () => {
    const results = await Promise.all([
      ...Array.from({ length: W }, (_, i) => new Promise((res, rej) => {
        const w = new Worker(__filename, { workerData: { dir, tag: `w${i}` } });
        let msg = null;
        w.on('message', (m) => { msg = m; });
        w.on('error', rej);
        w.on('exit', (code) => (code === 0 && msg ? res(msg) : rej(new Error(`worker ${i}: exit ${code}, message ${JSON.stringify(msg)}`))));
      })),
      churn(dir, 'main'),
    ]);
    results.forEach((c, i) => {
      for (const k of Object.keys(want)) if (k !== 'read') eq(c[k], want[k], `${i < W ? `worker ${i}` : 'main'}: ${k}`);
      check(c.read >= FILES, `${i < W ? `worker ${i}` : 'main'}: reads ${c.read}`);
    });
    eq(fs.readdirSync(dir).length, 0, 'every file unlinked');
    // A worker stopped with terminate() while its operations are in flight: its loop closes, the
    // process goes on, and what is left in the folder is only that worker's own files.
    const w = new Worker(__filename, { workerData: { dir, tag: 'term', forever: true } });
    await new Promise((r) => w.once('message', r));
    await new Promise((r) => setTimeout(r, 100));
    eq(await w.terminate(), 1, 'terminate exit code');
    const left = fs.readdirSync(dir);
    check(left.every((n) => n.startsWith('term-')), `left: ${left.slice(0, 3)}`);
    // Then one more worker works normally after that.
    const again = await new Promise((res, rej) => {
      const w2 = new Worker(__filename, { workerData: { dir, tag: 'again' } });
      w2.on('message', res); w2.on('error', rej);
    });
    eq(again.unlink, FILES, 'a worker after a terminated one');
    fs.rmSync(dir, { recursive: true });
    console.log(`ok ${W + 1} loops x ${FILES} files, ${INFLIGHT} in flight each`);
  })().catch((e) => fail(e.stack));
} else {
  (async () => {
    const { dir, tag, forever } = workerData;
    if (forever) {
      parentPort.postMessage('started');
      for (let r = 0; ; r++) await churn(dir, `${tag}-${r}`);
    }
    parentPort.postMessage(await churn(dir, tag));
  })().catch((e) => { throw e; });
}
