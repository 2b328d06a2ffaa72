'use strict';
// fs streams: 32 MiB through createWriteStream, read back through createReadStream and a
// pipeline with a Transform; small highWaterMark to force many ops.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { pipeline, Transform } = require('stream');
const { fail, eq, tmpdir, deadline } = require('../lib');
deadline(60000, 'fs-streams');
const dir = tmpdir('fss');
const src = path.join(dir, 'src');
const h = crypto.createHash('sha256');
const ws = fs.createWriteStream(src, { highWaterMark: 64 * 1024 });
let i = 0;
const TOTAL = 512; // x 64 KiB = 32 MiB
function writeMore() {
  while (i < TOTAL) {
    const b = crypto.randomBytes(64 * 1024);
    h.update(b);
    i++;
    if (!ws.write(b)) return ws.once('drain', writeMore);
  }
  ws.end();
}
ws.on('finish', () => {
  const want = h.digest('hex');
  const dst = path.join(dir, 'dst');
  const up = new Transform({ transform(chunk, _e, cb) { cb(null, Buffer.from(chunk.map((x) => x ^ 0x5a))); } });
  const down = new Transform({ transform(chunk, _e, cb) { cb(null, Buffer.from(chunk.map((x) => x ^ 0x5a))); } });
  pipeline(fs.createReadStream(src, { highWaterMark: 16 * 1024 }), up, down, fs.createWriteStream(dst), (err) => {
    if (err) fail(`pipeline: ${err}`);
    const h2 = crypto.createHash('sha256');
    let n = 0;
    fs.createReadStream(dst, { start: 0 })
      .on('data', (c) => { h2.update(c); n += c.length; })
      .on('error', (e) => fail(`read: ${e}`))
      .on('end', () => {
        eq(n, TOTAL * 64 * 1024, 'bytes read back');
        eq(h2.digest('hex'), want, 'checksum after pipeline');
        // ranged read
        const chunks = [];
        fs.createReadStream(src, { start: 100, end: 199 }).on('data', (c) => chunks.push(c)).on('end', () => {
          eq(Buffer.concat(chunks).length, 100, 'ranged read length');
          fs.rmSync(dir, { recursive: true });
          console.log('ok');
        });
      });
  });
});
ws.on('error', (e) => fail(`write stream: ${e}`));
writeMore();
