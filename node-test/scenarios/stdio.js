'use strict';
// stdin/stdout as pipe, file and tty. The parent re-runs this file as a child with:
//  - pipes: 8 MiB in through stdin, out again through stdout (checksummed);
//  - files: stdin from a file, stdout to a file;
//  - a tty: under `script` (a pseudo-terminal of 80x24): isTTY, columns/rows, raw mode.
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { fail, eq, sha, tmpdir, deadline } = require('../lib');
const mode = process.argv[2];
if (mode === 'cat') {
  // copy stdin to stdout, report what stdin and stdout are on stderr
  const kind = (fd) => { const st = fs.fstatSync(fd); return st.isFIFO() || st.isSocket() ? 'pipe' : st.isFile() ? 'file' : 'other'; };
  process.stderr.write(`${kind(0)} ${kind(1)}\n`);
  process.stdin.pipe(process.stdout);
  return;
}
if (mode === 'tty') {
  const out = [];
  out.push(`isTTY=${process.stdout.isTTY},${process.stdin.isTTY}`);
  out.push(`size=${process.stdout.columns}x${process.stdout.rows}`);
  process.stdin.setRawMode(true);
  out.push(`raw=${process.stdin.isRaw}`);
  process.stdin.setRawMode(false);
  process.stdout.write(out.join(' ') + '\n', () => process.exit(0));
  return;
}
deadline(30000, 'stdio');
const dir = tmpdir('stdio');
const data = crypto.randomBytes(8 << 20);
const c = cp.spawn(process.execPath, [__filename, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
const out = [];
let err = '';
c.stdout.on('data', (b) => out.push(b));
c.stderr.on('data', (b) => { err += b; });
c.stdin.end(data);
c.on('close', (code) => {
  eq(code, 0, 'pipe child exit');
  eq(err, 'pipe pipe\n', 'pipe child sees pipes');
  eq(sha(Buffer.concat(out)), sha(data), 'pipe round trip');
  const inF = path.join(dir, 'in'), outF = path.join(dir, 'out');
  fs.writeFileSync(inF, data);
  const fin = fs.openSync(inF, 'r'), fout = fs.openSync(outF, 'w');
  const r = cp.spawnSync(process.execPath, [__filename, 'cat'], { stdio: [fin, fout, 'pipe'] });
  fs.closeSync(fin); fs.closeSync(fout);
  eq(r.status, 0, 'file child exit');
  eq(r.stderr.toString(), 'file file\n', 'file child sees files');
  eq(sha(fs.readFileSync(outF)), sha(data), 'file round trip');
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const t = cp.spawnSync('script', ['-qec', `stty cols 80 rows 24; exec ${q(process.execPath)} ${q(__filename)} tty`, '/dev/null'], { encoding: 'utf8' });
  eq(t.status, 0, `tty child exit (${t.stderr})`);
  eq(t.stdout.replace(/\r/g, '').trim(), 'isTTY=true,true size=80x24 raw=true', 'tty child');
  fs.rmSync(dir, { recursive: true });
  console.log('ok');
});
