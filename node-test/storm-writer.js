'use strict';
// One worker of the SIGTSTP/SIGSTOP/SIGCONT storm (driven by storm.py).
// Usage: node storm-writer.js DIR ID SECONDS
// Writes records of random size at increasing offsets into DIR/w<ID>.dat (fs.promises, datasync),
// and only then appends "seq offset length sha256" to DIR/w<ID>.log and fsyncs it: a line in the
// log is a write this process reports as completed. Meanwhile a TCP echo pair on 127.0.0.1 and a
// UDP pair exchange checksummed messages, and timers tick. A control UDP socket on 127.0.0.1,
// whose port it writes to DIR/w<ID>.port once its loop runs, answers "ping N" with "pong N" (how
// storm.py times a resume) and takes "stop". On "stop", or after SECONDS at the most, it writes
// "DONE <records> tcp=<n> udp=<n>" to the log and exits 0; any mismatch exits 2.
const fs = require('fs');
const fsp = require('fs/promises');
const net = require('net');
const dgram = require('dgram');
const crypto = require('crypto');
const path = require('path');
const [dir, id, secs] = process.argv.slice(2);
const die = (m) => { process.stderr.write(`writer ${id}: ${m}\n`); process.exit(2); };
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const endAt = Date.now() + Number(secs) * 1000;
let tcpRounds = 0, udpRounds = 0, stop = false, stopAsked = false;

async function writer() {
  const data = await fsp.open(path.join(dir, `w${id}.dat`), 'w');
  const log = await fsp.open(path.join(dir, `w${id}.log`), 'w');
  let off = 0, seq = 0;
  while (!stopAsked && Date.now() < endAt) {
    const len = 1 + crypto.randomInt(128 * 1024);
    const buf = crypto.randomBytes(len);
    let done = 0;
    while (done < len) done += (await data.write(buf, done, len - done, off + done)).bytesWritten;
    await data.datasync();
    await log.write(`${seq} ${off} ${len} ${sha(buf)}\n`);
    await log.sync();
    off += len; seq++;
  }
  stop = true;
  await new Promise((r) => setTimeout(r, 50));
  await log.write(`DONE ${seq} tcp=${tcpRounds} udp=${udpRounds}\n`);
  await log.sync();
  await data.close(); await log.close();
  process.exit(0);
}

function tcp() {
  const srv = net.createServer((s) => s.pipe(s));
  srv.listen(0, '127.0.0.1', () => {
    const c = net.connect(srv.address().port, '127.0.0.1');
    let want = null, got = [], n = 0;
    const send = () => {
      if (stop) return;
      want = crypto.randomBytes(64 * 1024); got = []; n = 0;
      c.write(want);
    };
    c.on('data', (b) => {
      got.push(b); n += b.length;
      if (n === want.length) {
        if (sha(Buffer.concat(got)) !== sha(want)) die('tcp echo mismatch');
        tcpRounds++; send();
      } else if (n > want.length) die('tcp echo too long');
    });
    c.on('error', (e) => die(`tcp: ${e}`));
    c.on('connect', send);
  });
}

function udp() {
  const a = dgram.createSocket('udp4'), b = dgram.createSocket('udp4');
  b.on('message', (m, r) => b.send(m, r.port, r.address));
  let seq = 0;
  const send = () => { if (!stop) a.send(`${id}:${seq}`, b.address().port, '127.0.0.1'); };
  a.on('message', (m) => {
    if (m.toString() !== `${id}:${seq}`) return; // a late duplicate after a resend
    seq++; udpRounds++; send();
  });
  // UDP may drop under pressure on loopback only in theory; resend if no answer in 200 ms.
  setInterval(send, 200).unref();
  b.bind(0, '127.0.0.1', () => a.bind(0, '127.0.0.1', send));
}

function control() {
  const ctl = dgram.createSocket('udp4');
  ctl.on('message', (m, r) => {
    const s = m.toString();
    if (s.startsWith('ping ')) ctl.send(`pong ${id} ${s.slice(5)}`, r.port, r.address);
    else if (s === 'stop') stopAsked = true;
  });
  ctl.on('error', (e) => die(`control: ${e}`));
  ctl.bind(0, '127.0.0.1', () => {
    const p = path.join(dir, `w${id}.port`);
    fs.writeFileSync(`${p}.tmp`, String(ctl.address().port));
    fs.renameSync(`${p}.tmp`, p);
  });
  ctl.unref();
}

setInterval(() => {}, 10);
control();
tcp();
udp();
writer().catch((e) => die(e.stack));
