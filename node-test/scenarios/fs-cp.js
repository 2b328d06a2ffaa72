'use strict';
// fs.cp / fs.promises.cp / fs.cpSync with recursion (a tree of 20 folders, 128 files, symlinks,
// an empty folder, modes), preserveTimestamps, filter, force:false + errorOnExist, dereference,
// and copying a folder into itself (refused). Every copy is compared with its source: the same
// names, kinds, sizes, sha256 of contents, modes and link targets.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { fail, eq, check, sha, tmpdir, deadline } = require('../lib');
deadline(60000, 'fs-cp');
if (typeof fs.cp !== 'function') { console.log(`SKIP: no fs.cp in Node ${process.version}`); process.exit(77); }
const root = tmpdir('cp');
const src = path.join(root, 'src');
// The tree: src/d<i>/e<j>/f<k> with random contents; modes vary; links relative and absolute.
let nfiles = 0;
for (let i = 0; i < 4; i++) {
  for (let j = 0; j < 4; j++) {
    const d = path.join(src, `d${i}`, `e${j}`);
    fs.mkdirSync(d, { recursive: true });
    for (let k = 0; k < 8; k++) {
      const f = path.join(d, `f${k}`);
      fs.writeFileSync(f, crypto.randomBytes((i * 4 + j) * 3989 + k * 131));
      fs.chmodSync(f, [0o644, 0o600, 0o755, 0o640][k % 4]);
      nfiles++;
    }
  }
}
fs.mkdirSync(path.join(src, 'empty'));
fs.symlinkSync('d0/e0/f1', path.join(src, 'rel-link'));
fs.symlinkSync(path.join(src, 'd1', 'e1', 'f2'), path.join(src, 'abs-link'));
fs.symlinkSync('d2', path.join(src, 'dir-link'));
const old = new Date('2001-02-03T04:05:06Z');
fs.utimesSync(path.join(src, 'd3', 'e3', 'f3'), old, old);

// walk(p) -> sorted [relpath, kind, size, sha|target, mode] of everything below p (links not
// followed; a link's target resolved: fs.cp makes relative targets absolute, into the source)
function walk(top) {
  const out = [];
  (function rec(rel) {
    for (const name of fs.readdirSync(path.join(top, rel)).sort()) {
      const r = path.join(rel, name), full = path.join(top, r), st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out.push([r, 'link', 0, path.resolve(path.dirname(full), fs.readlinkSync(full)), 0]);
      else if (st.isDirectory()) { out.push([r, 'dir', 0, '', st.mode & 0o777]); rec(r); }
      else out.push([r, 'file', st.size, sha(fs.readFileSync(full)), st.mode & 0o777]);
    }
  })('');
  return out;
}
const want = walk(src);
eq(want.filter((e) => e[1] === 'file').length, nfiles, 'files made');
const same = (dst, what) => {
  const got = walk(dst);
  eq(got.length, want.length, `${what}: entries`);
  for (let i = 0; i < want.length; i++) eq(JSON.stringify(got[i]), JSON.stringify(want[i]), `${what}: entry ${i}`);
};
const cpCb = (a, b, o) => new Promise((res, rej) => fs.cp(a, b, o, (e) => (e ? rej(e) : res())));
(async () => {
  await cpCb(src, path.join(root, 'cb'), { recursive: true });
  same(path.join(root, 'cb'), 'fs.cp');
  // symlinks are copied as links; a relative target becomes absolute, into src (Node's rule)...
  eq(fs.readlinkSync(path.join(root, 'cb', 'abs-link')), path.join(src, 'd1', 'e1', 'f2'), 'absolute link target');
  eq(fs.readlinkSync(path.join(root, 'cb', 'dir-link')), path.join(src, 'd2'), 'relative link target made absolute');
  // ...unless verbatimSymlinks
  await cpCb(src, path.join(root, 'vb'), { recursive: true, verbatimSymlinks: true });
  eq(fs.readlinkSync(path.join(root, 'vb', 'dir-link')), 'd2', 'verbatimSymlinks');
  eq(fs.readdirSync(path.join(root, 'vb', 'dir-link')).length, 4, 'verbatim link into the copy');
  await fs.promises.cp(src, path.join(root, 'pr'), { recursive: true, preserveTimestamps: true });
  same(path.join(root, 'pr'), 'fs.promises.cp');
  eq(fs.statSync(path.join(root, 'pr', 'd3', 'e3', 'f3')).mtime.getTime(), old.getTime(), 'preserveTimestamps');
  check(fs.statSync(path.join(root, 'cb', 'd3', 'e3', 'f3')).mtime.getTime() !== old.getTime(), 'mtime not preserved without the option');
  fs.cpSync(src, path.join(root, 'sy'), { recursive: true });
  same(path.join(root, 'sy'), 'fs.cpSync');
  // filter: only d0 (and the root)
  await fs.promises.cp(src, path.join(root, 'fi'), {
    recursive: true,
    filter: (s) => s === src || path.relative(src, s).split(path.sep)[0] === 'd0',
  });
  eq(fs.readdirSync(path.join(root, 'fi')).join(','), 'd0', 'filter kept d0 only');
  eq(walk(path.join(root, 'fi')).filter((e) => e[1] === 'file').length, 32, 'filter: files of d0');
  // force:false + errorOnExist: an existing file is an error, and is left as it was; force (the
  // default) overwrites it. (On src/d0, which holds no links: over a copy of a link Node refuses
  // with ERR_FS_CP_EINVAL, whatever the libuv.)
  const d0 = path.join(src, 'd0'), fo = path.join(root, 'fo');
  await cpCb(d0, fo, { recursive: true });
  fs.writeFileSync(path.join(fo, 'e0', 'f0'), 'mine');
  const e1 = await cpCb(d0, fo, { recursive: true, force: false, errorOnExist: true }).then(() => null, (e) => e);
  eq(e1 && e1.code, 'ERR_FS_CP_EEXIST', 'errorOnExist');
  eq(fs.readFileSync(path.join(fo, 'e0', 'f0'), 'utf8'), 'mine', 'existing file untouched');
  await cpCb(d0, fo, { recursive: true, force: false });
  eq(fs.readFileSync(path.join(fo, 'e0', 'f0'), 'utf8'), 'mine', 'force:false without errorOnExist: untouched, no error');
  await cpCb(d0, fo, { recursive: true });
  eq(sha(fs.readFileSync(path.join(fo, 'e0', 'f0'))), sha(fs.readFileSync(path.join(d0, 'e0', 'f0'))), 'force overwrote');
  // dereference: links become what they point at
  await fs.promises.cp(src, path.join(root, 'de'), { recursive: true, dereference: true });
  check(fs.lstatSync(path.join(root, 'de', 'rel-link')).isFile(), 'dereference: file link copied as a file');
  eq(sha(fs.readFileSync(path.join(root, 'de', 'rel-link'))), sha(fs.readFileSync(path.join(src, 'd0', 'e0', 'f1'))), 'dereference: contents');
  check(fs.lstatSync(path.join(root, 'de', 'dir-link')).isDirectory(), 'dereference: folder link copied as a folder');
  eq(fs.readdirSync(path.join(root, 'de', 'dir-link')).length, 4, 'dereference: its entries');
  // a folder without recursive, and into itself
  const e2 = await cpCb(src, path.join(root, 'nr'), {}).then(() => null, (e) => e);
  eq(e2 && e2.code, 'ERR_FS_EISDIR', 'folder without recursive');
  const e3 = await cpCb(src, path.join(src, 'd0', 'inside'), { recursive: true }).then(() => null, (e) => e);
  eq(e3 && e3.code, 'ERR_FS_CP_EINVAL', 'copy into itself');
  const e4 = await cpCb(path.join(root, 'missing'), path.join(root, 'x'), { recursive: true }).then(() => null, (e) => e);
  eq(e4 && e4.code, 'ENOENT', 'missing source');
  // Four copies at once.
  await Promise.all(Array.from({ length: 4 }, (_, i) => fs.promises.cp(src, path.join(root, `par${i}`), { recursive: true })));
  for (let i = 0; i < 4; i++) same(path.join(root, `par${i}`), `parallel copy ${i}`);
  fs.rmSync(root, { recursive: true });
  console.log(`ok ${nfiles} files x 10 copies`);
})().catch((e) => fail(e.stack));
