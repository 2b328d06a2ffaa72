'use strict';
// fs with callbacks: mkdir/open/write/read/stat/rename/readdir/unlink/rmdir, many files at once.
const fs = require('fs');
const path = require('path');
const { fail, check, eq, sha, tmpdir, deadline } = require('../lib');
deadline(30000, 'fs-callbacks');
const dir = tmpdir('fscb');
const N = 400;
let done = 0;
const payload = (i) => Buffer.from(`file ${i} `.repeat(1 + (i % 50)));
for (let i = 0; i < N; i++) {
  const p = path.join(dir, `f${i}`);
  fs.writeFile(p, payload(i), (err) => {
    if (err) fail(`writeFile ${p}: ${err}`);
    fs.stat(p, (err, st) => {
      if (err) fail(`stat: ${err}`);
      eq(st.size, payload(i).length, `size of ${p}`);
      fs.rename(p, p + '.r', (err) => {
        if (err) fail(`rename: ${err}`);
        fs.readFile(p + '.r', (err, buf) => {
          if (err) fail(`readFile: ${err}`);
          eq(sha(buf), sha(payload(i)), `content of ${p}`);
          if (++done === N) phase2();
        });
      });
    });
  });
}
function phase2() {
  fs.readdir(dir, (err, names) => {
    if (err) fail(`readdir: ${err}`);
    eq(names.length, N, 'readdir count');
    check(names.every((n) => n.endsWith('.r')), 'all renamed');
    // open/write at positions/read back/ftruncate/fsync/close
    const p = path.join(dir, 'pos');
    fs.open(p, 'w+', (err, fd) => {
      if (err) fail(`open: ${err}`);
      fs.write(fd, Buffer.from('world'), 0, 5, 6, (err, n) => {
        if (err || n !== 5) fail(`write: ${err} ${n}`);
        fs.write(fd, Buffer.from('hello '), 0, 6, 0, (err) => {
          if (err) fail(`write2: ${err}`);
          fs.fsync(fd, (err) => {
            if (err) fail(`fsync: ${err}`);
            const b = Buffer.alloc(11);
            fs.read(fd, b, 0, 11, 0, (err, n) => {
              if (err) fail(`read: ${err}`);
              eq(b.toString('utf8', 0, n), 'hello world', 'positional io');
              fs.ftruncate(fd, 5, (err) => {
                if (err) fail(`ftruncate: ${err}`);
                fs.fstat(fd, (err, st) => {
                  if (err) fail(`fstat: ${err}`);
                  eq(st.size, 5, 'size after ftruncate');
                  fs.close(fd, (err) => {
                    if (err) fail(`close: ${err}`);
                    fs.open(path.join(dir, 'nope', 'x'), 'r', (err) => {
                      eq(err && err.code, 'ENOENT', 'open missing');
                      fs.rm(dir, { recursive: true }, (err) => {
                        if (err) fail(`rm: ${err}`);
                        check(!fs.existsSync(dir), 'dir removed');
                        console.log(`ok: ${N} files`);
                      });
                    });
                  });
                });
              });
            });
          });
        });
      });
    });
  });
}
