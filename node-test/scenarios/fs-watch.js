'use strict';
// fs.watch (uv_fs_event) on a folder and on a file, fs.watchFile (uv_fs_poll).
const fs = require('fs');
const path = require('path');
const { fail, check, tmpdir, deadline } = require('../lib');
deadline(20000, 'fs-watch');
const dir = tmpdir('fsw');
const seen = new Set();
const w = fs.watch(dir, (ev, name) => {
  seen.add(`${ev}:${name}`);
  if (seen.has('rename:created') && [...seen].some((s) => s.endsWith(':created')) && seen.has('rename:gone')) {
    w.close();
    step2();
  }
});
setTimeout(() => {
  fs.writeFileSync(path.join(dir, 'created'), 'x');
  fs.writeFileSync(path.join(dir, 'gone'), 'x');
  fs.unlinkSync(path.join(dir, 'gone'));
}, 100);
function step2() {
  const f = path.join(dir, 'watched');
  fs.writeFileSync(f, 'a');
  let changes = 0;
  const w2 = fs.watch(f, (ev) => {
    if (ev === 'change' && ++changes === 1) {
      w2.close();
      step3(f);
    }
  });
  setTimeout(() => fs.appendFileSync(f, 'b'), 100);
}
function step3(f) {
  fs.watchFile(f, { interval: 50 }, (cur, prev) => {
    if (cur.size === 5) {
      fs.unwatchFile(f);
      check(prev.size === 2, `watchFile prev size ${prev.size}`);
      fs.rmSync(dir, { recursive: true });
      console.log('ok');
    }
  });
  setTimeout(() => fs.appendFileSync(f, 'cde'), 200);
}
