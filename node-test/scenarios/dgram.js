'use strict';
// dgram: 500 UDP datagrams between two sockets on 127.0.0.1 (acknowledged one by one),
// a connected socket, and ::1 when IPv6 loopback is up.
const dgram = require('dgram');
const os = require('os');
const { fail, eq, deadline } = require('../lib');
deadline(30000, 'dgram');
function pingpong(type, addr, N) {
  return new Promise((resolve) => {
    const a = dgram.createSocket(type), b = dgram.createSocket(type);
    b.on('message', (m, rinfo) => b.send(Buffer.concat([Buffer.from('ack:'), m]), rinfo.port, rinfo.address));
    let i = 0;
    a.on('message', (m) => {
      eq(m.toString(), `ack:msg${i}`, `${type} reply ${i}`);
      if (++i === N) { a.close(); b.close(); resolve(); } else a.send(`msg${i}`, b.address().port, addr);
    });
    a.on('error', (e) => fail(`${type}: ${e}`));
    b.bind(0, addr, () => a.bind(0, addr, () => a.send(`msg0`, b.address().port, addr)));
  });
}
function connected() {
  return new Promise((resolve) => {
    const srv = dgram.createSocket('udp4');
    srv.on('message', (m, r) => srv.send(m.toString().toUpperCase(), r.port, r.address));
    srv.bind(0, '127.0.0.1', () => {
      const c = dgram.createSocket('udp4');
      c.connect(srv.address().port, '127.0.0.1', () => {
        eq(c.remoteAddress().port, srv.address().port, 'remoteAddress');
        c.on('message', (m) => { eq(m.toString(), 'HELLO', 'connected reply'); c.close(); srv.close(); resolve(); });
        c.send('hello');
      });
    });
  });
}
(async () => {
  await pingpong('udp4', '127.0.0.1', 500);
  await connected();
  const v6 = Object.values(os.networkInterfaces()).flat().some((i) => i.address === '::1');
  if (v6) await pingpong('udp6', '::1', 100);
  console.log(`ok${v6 ? ' (+udp6)' : ''}`);
})().catch((e) => fail(e.stack));
