'use strict';
// fs.promises: a large file (48 MiB) written in chunks and read back, copyFile, many files in
// parallel, mkdir -p, symlink/readlink, utimes, access errors.
const fsp = require('fs/promises');
const path = require('path');
const crypto = require('crypto');
const { fail, check, eq, sha, tmpdir, deadline } = require('../lib');
deadline(60000, 'fs-promises');
(async () => {
  const dir = tmpdir('fsp');
  const big = path.join(dir, 'big');
  const h = crypto.createHash('sha256');
  const fh = await fsp.open(big, 'w');
  const CH = 1 << 20;
  for (let i = 0; i < 48; i++) {
    const b = crypto.randomBytes(CH);
    h.update(b);
    const { bytesWritten } = await fh.write(b, 0, CH, i * CH);
    eq(bytesWritten, CH, 'bytesWritten');
  }
  await fh.sync();
  await fh.close();
  const want = h.digest('hex');
  eq(sha(await fsp.readFile(big)), want, 'big file readFile');
  await fsp.copyFile(big, big + '.copy');
  eq(sha(await fsp.readFile(big + '.copy')), want, 'copyFile');
  eq((await fsp.stat(big)).size, 48 * CH, 'stat size');
  // many files in parallel
  const N = 1000;
  await fsp.mkdir(path.join(dir, 'a/b/c'), { recursive: true });
  await Promise.all(Array.from({ length: N }, (_, i) => fsp.writeFile(path.join(dir, 'a/b/c', `n${i}`), `v${i}`)));
  const names = await fsp.readdir(path.join(dir, 'a/b/c'));
  eq(names.length, N, 'many files readdir');
  const vals = await Promise.all(names.map((n) => fsp.readFile(path.join(dir, 'a/b/c', n), 'utf8')));
  check(vals.every((v, i) => v === 'v' + names[i].slice(1)), 'many files contents');
  // symlink, readlink, realpath, utimes, access
  await fsp.symlink(big, path.join(dir, 'link'));
  eq(await fsp.readlink(path.join(dir, 'link')), big, 'readlink');
  eq(await fsp.realpath(path.join(dir, 'link')), await fsp.realpath(big), 'realpath');
  await fsp.utimes(big, 1000, 2000);
  eq((await fsp.stat(big)).mtimeMs, 2000000, 'utimes mtime');
  try { await fsp.access(path.join(dir, 'missing')); fail('access of missing file succeeded'); }
  catch (e) { eq(e.code, 'ENOENT', 'access missing'); }
  const d = await fsp.opendir(path.join(dir, 'a/b/c'));
  let count = 0;
  for await (const _ of d) count++;
  eq(count, N, 'opendir iteration');
  await fsp.rm(dir, { recursive: true });
  console.log('ok');
})().catch((e) => fail(e.stack));
