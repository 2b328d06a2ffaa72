'use strict';
// net: a TCP echo server on 127.0.0.1 with 200 concurrent clients, each sending 256 KiB and
// checking the echo; a client that half-closes; a Unix-socket server; connection refused.
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const fs = require('fs');
const { fail, eq, sha, tmpdir, deadline } = require('../lib');
deadline(60000, 'net');
const server = net.createServer((s) => s.pipe(s));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const N = 200, SIZE = 256 * 1024;
  let done = 0;
  for (let i = 0; i < N; i++) {
    const data = crypto.randomBytes(SIZE);
    const c = net.connect(port, '127.0.0.1');
    const got = [];
    let n = 0;
    c.on('data', (b) => { got.push(b); n += b.length; if (n === SIZE) c.end(); });
    c.on('error', (e) => fail(`client ${i}: ${e}`));
    c.on('close', () => {
      eq(sha(Buffer.concat(got)), sha(data), `echo ${i}`);
      if (++done === N) { server.close(); halfClose(); }
    });
    c.write(data);
  }
});
function halfClose() {
  // The server counts bytes until the client's FIN, then answers and closes.
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (b) => { n += b.length; });
    s.on('end', () => s.end(`count=${n}`));
  });
  srv.listen(0, '127.0.0.1', () => {
    const c = net.connect({ port: srv.address().port, host: '127.0.0.1', allowHalfOpen: true });
    let reply = '';
    c.on('data', (b) => { reply += b; });
    c.on('end', () => {
      eq(reply, 'count=1000000', 'half-close reply');
      c.end();
      srv.close();
      unix();
    });
    c.end(Buffer.alloc(1000000, 7));
  });
}
function unix() {
  const dir = tmpdir('net');
  const sock = path.join(dir, 's.sock');
  const srv = net.createServer((s) => s.end('hello over unix'));
  srv.listen(sock, () => {
    const c = net.connect(sock);
    let r = '';
    c.on('data', (b) => { r += b; });
    c.on('close', () => {
      eq(r, 'hello over unix', 'unix socket');
      srv.close(() => {
        fs.rmSync(dir, { recursive: true });
        refused();
      });
    });
  });
}
function refused() {
  const probe = net.createServer().listen(0, '127.0.0.1', () => {
    const port = probe.address().port;
    probe.close(() => {
      net.connect(port, '127.0.0.1').on('error', (e) => {
        eq(e.code, 'ECONNREFUSED', 'connect to a closed port');
        console.log('ok');
      }).on('connect', () => fail('connected to a closed port'));
    });
  });
}
