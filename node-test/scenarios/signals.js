'use strict';
// process signals: SIGUSR1/SIGUSR2/SIGHUP handlers (self-sent and sent by a child), 100 signals
// in a burst, removing a handler restores the default (checked in a child), SIGINT handler.
const cp = require('child_process');
const { fail, eq, check, deadline } = require('../lib');
if (process.argv[2] === 'default') {
  process.on('SIGUSR2', () => {});
  process.removeAllListeners('SIGUSR2');
  process.kill(process.pid, 'SIGUSR2');
  setTimeout(() => process.exit(0), 2000);
  return;
}
if (process.argv[2] === 'int') {
  process.on('SIGINT', () => { process.stdout.write('got SIGINT\n'); process.exit(0); });
  process.stdout.write('ready\n');
  setInterval(() => {}, 1000);
  return;
}
deadline(20000, 'signals');
const got = { SIGUSR1: 0, SIGUSR2: 0, SIGHUP: 0 };
for (const s of Object.keys(got)) process.on(s, () => { got[s]++; });
process.kill(process.pid, 'SIGUSR1');
setTimeout(() => {
  eq(got.SIGUSR1, 1, 'self SIGUSR1');
  cp.exec(`kill -USR2 ${process.pid}; kill -HUP ${process.pid}`, (err) => {
    if (err) fail(`exec kill: ${err}`);
    setTimeout(() => {
      eq(got.SIGUSR2, 1, 'SIGUSR2 from a child');
      eq(got.SIGHUP, 1, 'SIGHUP from a child');
      let burst = 0;
      for (let i = 0; i < 100; i++) { process.kill(process.pid, 'SIGUSR1'); burst++; }
      setTimeout(() => {
        // Signals coalesce; at least one more must arrive, never more than sent.
        check(got.SIGUSR1 >= 2 && got.SIGUSR1 <= 1 + burst, `burst delivered ${got.SIGUSR1 - 1}`);
        const d = cp.spawnSync(process.execPath, [__filename, 'default']);
        eq(d.signal, 'SIGUSR2', 'default action after removing the handler');
        const c = cp.spawn(process.execPath, [__filename, 'int']);
        let out = '';
        c.stdout.on('data', (b) => {
          out += b;
          if (out === 'ready\n') c.kill('SIGINT');
        });
        c.on('exit', (code) => {
          eq(out, 'ready\ngot SIGINT\n', 'SIGINT handler in child');
          eq(code, 0, 'child exit after SIGINT');
          console.log('ok');
        });
      }, 100);
    }, 200);
  });
}, 100);
