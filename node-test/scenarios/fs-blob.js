'use strict';
// fs.openAsBlob (Node 19.8+, uv_fs_open/read underneath) on a 24 MiB file: size, type, slices at
// odd offsets, arrayBuffer(), text(), stream() (web stream) — every byte checked by sha256;
// a blob of a file changed after opening fails to read (NotReadableError), as Node documents;
// 16 blobs read at once.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { fail, eq, check, sha, tmpdir, deadline } = require('../lib');
deadline(60000, 'fs-blob');
if (typeof fs.openAsBlob !== 'function') { console.log(`SKIP: no fs.openAsBlob in Node ${process.version} (added in 19.8)`); process.exit(77); }
const dir = tmpdir('blob');
const f = path.join(dir, 'big');
const data = crypto.randomBytes(24 << 20);
fs.writeFileSync(f, data);
(async () => {
  const blob = await fs.openAsBlob(f, { type: 'application/x-test' });
  eq(blob.size, data.length, 'size');
  eq(blob.type, 'application/x-test', 'type');
  eq(sha(Buffer.from(await blob.arrayBuffer())), sha(data), 'arrayBuffer');
  // stream(): the whole file through a web ReadableStream, in chunks
  let n = 0, chunks = 0;
  const h = crypto.createHash('sha256');
  for await (const c of blob.stream()) { h.update(c); n += c.length; chunks++; }
  eq(n, data.length, 'stream bytes');
  eq(h.digest('hex'), sha(data), 'stream sha256');
  check(chunks > 1, `stream in chunks (${chunks})`);
  // slices at odd offsets, nested slices
  for (const [a, b] of [[0, 1], [1, 65537], [12345678, 23456789], [data.length - 3, data.length], [7, 7]]) {
    eq(sha(Buffer.from(await blob.slice(a, b).arrayBuffer())), sha(data.subarray(a, b)), `slice ${a}..${b}`);
  }
  const s2 = blob.slice(1000, 5000000).slice(999, 1999);
  eq(Buffer.from(await s2.arrayBuffer()).toString('hex'), data.subarray(1999, 2999).toString('hex'), 'nested slice');
  // text() of a small file
  fs.writeFileSync(path.join(dir, 'small'), 'héllo wörld\n');
  eq(await (await fs.openAsBlob(path.join(dir, 'small'))).text(), 'héllo wörld\n', 'text()');
  // 16 at once
  const all = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
    const b = await fs.openAsBlob(f);
    return sha(Buffer.from(await b.slice(i << 20, (i + 1) << 20).arrayBuffer()));
  }));
  all.forEach((x, i) => eq(x, sha(data.subarray(i << 20, (i + 1) << 20)), `parallel slice ${i}`));
  // A file changed (truncated) after the blob was made is not read as something else.
  const changed = await fs.openAsBlob(f);
  fs.truncateSync(f, 10);
  const e = await changed.arrayBuffer().then(() => null, (x) => x);
  check(e && e.name === 'NotReadableError', `blob of a changed file: ${e && e.name}`);
  // A missing file: Node 20 throws at once ("Unable to open file as blob"); later ones reject, ENOENT.
  let missing = null;
  try { await fs.openAsBlob(path.join(dir, 'missing')); } catch (x) { missing = x; }
  check(missing && (missing.code === 'ENOENT' || /Unable to open file as blob/.test(missing.message)), `openAsBlob of a missing file: ${missing}`);
  fs.rmSync(dir, { recursive: true });
  console.log(`ok ${chunks} stream chunks`);
})().catch((e) => fail(e.stack));
