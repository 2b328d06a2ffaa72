'use strict';
// Large files through streams and positioned I/O: a 6 GiB sparse file (offsets past 2^31 and
// 2^32, where a 32-bit offset would wrap) written and read at those offsets through fs.write/read,
// createReadStream/createWriteStream with start; 32 MiB of random data through a write stream,
// a pipeline to a copy and FileHandle.readableWebStream / readLines, each checked by sha256.
const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
const crypto = require('crypto');
const { pipeline } = require('stream/promises');
const { fail, eq, check, sha, tmpdir, deadline } = require('../lib');
deadline(90000, 'fs-large');
const dir = tmpdir('large');
const GiB = 1024 ** 3;
const readAt = (fd, len, pos) => new Promise((res, rej) => {
  const b = Buffer.alloc(len);
  fs.read(fd, b, 0, len, pos, (e, n) => (e ? rej(e) : res(b.subarray(0, n))));
});
const streamSha = (s) => new Promise((res, rej) => {
  const h = crypto.createHash('sha256'); let n = 0;
  s.on('data', (c) => { h.update(c); n += c.length; }).on('error', rej).on('end', () => res([n, h.digest('hex')]));
});
(async () => {
  // Sparse: marks at 2^31 - 3, 2^32 + 5 and 6 GiB - 1 MiB (writes that straddle the boundaries).
  const sp = path.join(dir, 'sparse');
  const marks = [[2 ** 31 - 3, crypto.randomBytes(4099)], [2 ** 32 + 5, crypto.randomBytes(70000)], [6 * GiB - (1 << 20), crypto.randomBytes(1 << 20)]];
  const fd = fs.openSync(sp, 'w+');
  await Promise.all(marks.map(([pos, b]) => new Promise((res, rej) => fs.write(fd, b, 0, b.length, pos, (e, n) => (e ? rej(e) : n === b.length ? res() : rej(new Error(`short write ${n}`)))))));
  eq(fs.fstatSync(fd).size, 6 * GiB, 'sparse size');
  for (const [pos, b] of marks) eq(sha(await readAt(fd, b.length, pos)), sha(b), `read back at ${pos}`);
  eq((await readAt(fd, 16, 3 * GiB)).toString('hex'), '00'.repeat(16), 'a hole reads as zeros');
  eq((await readAt(fd, 100, 6 * GiB - 10)).length, 10, 'short read at the end');
  eq((await readAt(fd, 100, 6 * GiB + 10)).length, 0, 'read past the end');
  // streams with start past 4 GiB
  const [n1, h1] = await streamSha(fs.createReadStream(sp, { start: marks[1][0], end: marks[1][0] + marks[1][1].length - 1 }));
  eq(n1, marks[1][1].length, 'ranged stream past 4 GiB: bytes'); eq(h1, sha(marks[1][1]), 'ranged stream past 4 GiB: sha256');
  const [n2, h2] = await streamSha(fs.createReadStream(sp, { start: 6 * GiB - (1 << 20), highWaterMark: 4096 }));
  eq(n2, 1 << 20, 'tail stream bytes'); eq(h2, sha(marks[2][1]), 'tail stream sha256');
  const patch = crypto.randomBytes(10000);
  await new Promise((res, rej) => fs.createWriteStream(sp, { flags: 'r+', start: 5 * GiB + 1 }).on('error', rej).on('finish', res).end(patch));
  eq(sha(await readAt(fd, patch.length, 5 * GiB + 1)), sha(patch), 'write stream at 5 GiB');
  const fh = await fsp.open(sp, 'r');
  const { bytesRead, buffer } = await fh.read({ buffer: Buffer.alloc(4099), position: 2 ** 31 - 3 });
  eq(bytesRead, 4099, 'FileHandle.read at 2^31-3'); eq(sha(buffer), sha(marks[0][1]), 'FileHandle.read content');
  await fh.close();
  fs.closeSync(fd);
  // 32 MiB of random data: write stream, pipeline copy, web stream, readLines
  const big = path.join(dir, 'big');
  const h = crypto.createHash('sha256');
  const ws = fs.createWriteStream(big);
  for (let i = 0; i < 32; i++) {
    const b = crypto.randomBytes(1 << 20); h.update(b);
    if (!ws.write(b)) await new Promise((r) => ws.once('drain', r));
  }
  await new Promise((r) => ws.end(r));
  const want = h.digest('hex');
  await pipeline(fs.createReadStream(big), fs.createWriteStream(path.join(dir, 'copy')));
  const [n3, h3] = await streamSha(fs.createReadStream(path.join(dir, 'copy')));
  eq(n3, 32 << 20, 'pipeline copy bytes'); eq(h3, want, 'pipeline copy sha256');
  const fh2 = await fsp.open(big, 'r');
  if (typeof fh2.readableWebStream === 'function') {
    const h4 = crypto.createHash('sha256'); let n4 = 0;
    for await (const c of fh2.readableWebStream()) { const b = Buffer.from(c); h4.update(b); n4 += b.length; }
    eq(n4, 32 << 20, 'readableWebStream bytes'); eq(h4.digest('hex'), want, 'readableWebStream sha256');
  } else fail('no FileHandle.readableWebStream');
  await fh2.close();
  // readLines over 200k numbered lines
  const lines = path.join(dir, 'lines');
  fs.writeFileSync(lines, Array.from({ length: 200000 }, (_, i) => `line ${i}`).join('\n') + '\n');
  const fh3 = await fsp.open(lines, 'r');
  let k = 0;
  for await (const l of fh3.readLines()) { if (l !== `line ${k}`) fail(`readLines: line ${k} is ${l}`); k++; }
  eq(k, 200000, 'readLines count');
  fs.rmSync(dir, { recursive: true });
  console.log('ok 6 GiB sparse, 32 MiB streamed');
})().catch((e) => fail(e.stack));
