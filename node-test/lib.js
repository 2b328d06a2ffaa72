'use strict';
// Shared helpers for the scenarios. On load, proves which libuv.so.1 this process runs on:
// EXPECT_LIBUV (a path) must be the libuv.so.1 mapped in /proc/self/maps, or the scenario fails.
const fs = require('fs');
const crypto = require('crypto');
const os = require('os');
const path = require('path');

function fail(msg) {
  process.stderr.write(`FAIL: ${msg}\n`);
  process.exit(1);
}
function check(cond, msg) { if (!cond) fail(msg); }
function eq(a, b, msg) { if (a !== b) fail(`${msg}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`); }
function sha(buf) { return crypto.createHash('sha256').update(buf).digest('hex'); }
function tmpdir(tag) { return fs.mkdtempSync(path.join(process.env.SCRATCH || os.tmpdir(), `uvr-${tag}-`)); }
function deadline(ms, what) {
  const t = setTimeout(() => fail(`timeout after ${ms} ms: ${what}`), ms);
  t.unref();
  return t;
}
function libuvMapsLine() {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => /\/libuv\.so/.test(l));
}
function mappedLibuv() {
  const hit = libuvMapsLine();
  return hit ? hit.slice(hit.indexOf('/')) : null;
}
// The inode of the mapped libuv.so.1 (the maps line's fifth field): the same file seen from a chroot.
function mappedInode() {
  const hit = libuvMapsLine();
  return hit ? hit.split(/\s+/)[4] : null;
}
if (process.env.EXPECT_LIBUV) {
  const got = mappedLibuv();
  const want = fs.realpathSync(process.env.EXPECT_LIBUV);
  if (!got || fs.realpathSync(got) !== want) fail(`libuv mapped is ${got}, expected ${want}`);
}
module.exports = { fail, check, eq, sha, tmpdir, deadline, mappedLibuv, mappedInode };
