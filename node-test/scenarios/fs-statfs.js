'use strict';
// fs.statfs (uv_fs_statfs): callback, promise and sync forms, with and without bigint, on the
// scenario's folder (a tmpfs in the Debian 13 chroot, the machine's /tmp on Debian 12), /proc and
// /dev; the values must be the ones `stat -f` (coreutils, its own statfs call) reports: type,
// block size, blocks, inodes; on the run's own tmpfs the free blocks drop as it writes 4 MiB. Errors:
// ENOENT (syscall 'statfs'), ENOTDIR; 200 calls in flight at once.
const fs = require('fs');
const cp = require('child_process');
const path = require('path');
const { fail, eq, check, tmpdir, deadline } = require('../lib');
deadline(30000, 'fs-statfs');
if (typeof fs.statfs !== 'function') { console.log(`SKIP: no fs.statfs in Node ${process.version}`); process.exit(77); }
const TMPFS_MAGIC = 0x01021994;
const dir = tmpdir('statfs');
// stat -f: %t type (hex), %S fundamental block size, %b blocks, %f free, %a avail, %c files, %d free files
const statf = (p) => {
  const [t, S, b, f, a, c, d] = cp.execFileSync('stat', ['-f', '-c', '%t %S %b %f %a %c %d', p]).toString().trim().split(' ');
  return { type: parseInt(t, 16), bsize: Number(S), blocks: Number(b), bfree: Number(f), bavail: Number(a), files: Number(c), ffree: Number(d) };
};
const statfsCb = (p, opts) => new Promise((res, rej) => fs.statfs(p, opts || {}, (e, s) => (e ? rej(e) : res(s))));
(async () => {
  // On this test's folder: type, bsize, blocks and files are fixed; free counts may move a little.
  const ref = statf(dir);
  for (const [how, s] of [['callback', await statfsCb(dir)], ['promise', await fs.promises.statfs(dir)], ['sync', fs.statfsSync(dir)]]) {
    eq(s.type, ref.type, `${how}: type`);
    eq(s.bsize, ref.bsize, `${how}: bsize`);
    eq(s.blocks, ref.blocks, `${how}: blocks`);
    eq(s.files, ref.files, `${how}: files`);
    check(s.bfree <= s.blocks && s.bavail <= s.bfree && s.ffree <= s.files, `${how}: free counts in range: ${JSON.stringify(s)}`);
  }
  const big = await fs.promises.statfs(dir, { bigint: true });
  eq(typeof big.blocks, 'bigint', 'bigint: blocks');
  eq(big.blocks, BigInt(ref.blocks), 'bigint: blocks value');
  eq(big.type, BigInt(ref.type), 'bigint: type value');
  // /proc (type 0x9fa0) and /dev: the types must match stat -f.
  for (const p of ['/proc', '/dev']) eq((await statfsCb(p)).type, statf(p).type, `type of ${p}`);
  eq((await statfsCb('/proc')).type, 0x9fa0, 'type of /proc is PROC_SUPER_MAGIC');
  const onTmpfs = ref.type === TMPFS_MAGIC;
  // Fill: writing 4 MiB to this folder lowers bfree by at least 4 MiB worth of blocks on the
  // run's own tmpfs (Debian 13). On Debian 12 the folder is on the machine's shared disk, whose
  // free count anybody may move meanwhile: not checked there.
  const before = await fs.promises.statfs(dir);
  fs.writeFileSync(path.join(dir, 'fill'), Buffer.alloc(4 << 20, 1));
  fs.fsyncSync(fs.openSync(path.join(dir, 'fill'), 'r'));
  const after = await fs.promises.statfs(dir);
  if (onTmpfs) check(before.bfree - after.bfree >= (4 << 20) / before.bsize, `tmpfs bfree ${before.bfree} -> ${after.bfree} after 4 MiB`);
  // Errors.
  const e1 = await statfsCb(path.join(dir, 'missing')).then(() => null, (e) => e);
  check(e1 && e1.code === 'ENOENT' && e1.syscall === 'statfs', `statfs of a missing path: ${e1 && e1.code} ${e1 && e1.syscall}`);
  const e2 = await fs.promises.statfs(path.join(dir, 'fill', 'x')).then(() => null, (e) => e);
  eq(e2 && e2.code, 'ENOTDIR', 'statfs below a file');
  let e3 = null;
  try { fs.statfsSync(''); } catch (e) { e3 = e; }
  eq(e3 && e3.code, 'ENOENT', 'statfsSync of ""');
  // 200 at once through the pool (or the ring).
  const all = await Promise.all(Array.from({ length: 200 }, () => fs.promises.statfs(dir)));
  all.forEach((s, i) => { eq(s.type, ref.type, `parallel ${i}: type`); eq(s.blocks, ref.blocks, `parallel ${i}: blocks`); });
  fs.rmSync(dir, { recursive: true });
  console.log(`ok type 0x${ref.type.toString(16)}${onTmpfs ? ' (tmpfs)' : ''}`);
})().catch((e) => fail(e.stack));
