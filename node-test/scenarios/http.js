'use strict';
// http on loopback: 300 keep-alive requests with 50 sockets, a 16 MiB upload and download with
// checksums, chunked encoding, and a server-side timeout.
const http = require('http');
const crypto = require('crypto');
const { fail, eq, sha, deadline } = require('../lib');
deadline(60000, 'http');
const BIG = crypto.randomBytes(16 << 20);
const server = http.createServer((req, res) => {
  if (req.url === '/upload') {
    const h = crypto.createHash('sha256');
    let n = 0;
    req.on('data', (c) => { h.update(c); n += c.length; });
    req.on('end', () => res.end(`${n} ${h.digest('hex')}`));
  } else if (req.url === '/download') {
    res.setHeader('content-length', BIG.length);
    res.end(BIG);
  } else if (req.url === '/chunked') {
    let i = 0;
    const t = setInterval(() => { res.write(`chunk${i}\n`); if (++i === 20) { clearInterval(t); res.end(); } }, 5);
  } else {
    res.end(`echo ${req.url}`);
  }
});
function get(agent, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.address().port, path: p, agent }, (res) => {
      const bufs = [];
      res.on('data', (c) => bufs.push(c));
      res.on('end', () => resolve(Buffer.concat(bufs)));
    }).on('error', reject);
  });
}
server.listen(0, '127.0.0.1', async () => {
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => get(agent, `/r${i}`)));
    rs.forEach((b, i) => eq(b.toString(), `echo /r${i}`, `request ${i}`));
    const up = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.address().port, path: '/upload', method: 'POST', agent }, (res) => {
        let s = '';
        res.on('data', (c) => { s += c; });
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      for (let off = 0; off < BIG.length; off += 1 << 20) req.write(BIG.subarray(off, off + (1 << 20)));
      req.end();
    });
    eq(up, `${BIG.length} ${sha(BIG)}`, 'upload');
    const down = await get(agent, '/download');
    eq(sha(down), sha(BIG), 'download');
    const ch = (await get(agent, '/chunked')).toString();
    eq(ch.split('\n').length, 21, 'chunked lines');
    agent.destroy();
    server.close(() => console.log('ok'));
  } catch (e) { fail(e.stack); }
});
