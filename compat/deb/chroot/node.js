// Node on the system's libuv: fs, timers, TCP on loopback, a child process.
'use strict';
const fs = require('fs');
const net = require('net');
const cp = require('child_process');
const results = [];
const done = (what) => { results.push(what); console.log('ok: node ' + what); };

function maps() {
  const line = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => /libuv\.so/.test(l));
  const f = line.trim().split(/\s+/);
  console.log('MAPS ' + f[5] + ' ' + f[4]);
}

const timer0 = Date.now();
setTimeout(() => {
  if (Date.now() - timer0 >= 45) done('timer 50 ms');
  fs.writeFile('/tmp/node-fs.txt', 'uvring', (err) => {
    if (err) throw err;
    fs.readFile('/tmp/node-fs.txt', 'utf8', (err2, data) => {
      if (err2) throw err2;
      if (data === 'uvring') done('fs write+read');
      fs.stat('/tmp/node-fs.txt', (err3, st) => {
        if (!err3 && st.size === 6) done('fs stat');
        tcp();
      });
    });
  });
}, 50);

function tcp() {
  const server = net.createServer((sock) => sock.pipe(sock));
  server.listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.end('ping'));
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('close', () => {
      if (got === 'ping') done('tcp echo on 127.0.0.1');
      server.close(child);
    });
  });
}

function child() {
  cp.execFile('/bin/sh', ['-c', 'echo child-$((6*7))'], (err, out) => {
    if (!err && out.trim() === 'child-42') done('child process');
    const p = cp.spawn(process.execPath, ['-e', 'process.exit(3)']);
    p.on('exit', (code) => {
      if (code === 3) done('spawn exit code');
      maps();
      console.log(results.length === 6 ? 'node: all 6 ok' : 'node: only ' + results.length + ' of 6');
      process.exitCode = results.length === 6 ? 0 : 1;
    });
  });
}
