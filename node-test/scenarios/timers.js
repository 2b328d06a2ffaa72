'use strict';
// timers: ordering of 1000 timeouts, setInterval, clearTimeout, nextTick/setImmediate/timeout
// order, unref'd timers not keeping the loop alive, and no timer firing early.
const { fail, eq, check, deadline } = require('../lib');
deadline(20000, 'timers');
const order = [];
process.nextTick(() => order.push('tick'));
setImmediate(() => order.push('immediate'));
Promise.resolve().then(() => order.push('micro'));
const fired = [];
const start = Date.now();
const { performance } = require('perf_hooks');
const t0 = performance.now();
for (let i = 0; i < 1000; i++) {
  const ms = (i * 7919) % 200;
  setTimeout(() => {
    check(Date.now() - start >= ms - 1, `timer ${ms} fired early at ${Date.now() - start}`);
    fired.push([Math.max(ms, 1), i]); // node runs setTimeout(0) as setTimeout(1)
  }, ms);
}
// Arming them all can take over 10 ms on a busy machine: a timer armed that much later may rightly
// fire after a longer one armed first. Node keeps one list per duration, run in the order armed.
const spread = performance.now() - t0;
const cancelled = setTimeout(() => fail('cleared timer fired'), 50);
clearTimeout(cancelled);
setTimeout(() => fail('unref timer kept running'), 60000).unref();
let ticks = 0;
const iv = setInterval(() => { if (++ticks === 10) clearInterval(iv); }, 10);
setTimeout(() => {
  eq(order.slice(0, 2).join(','), 'tick,micro', 'nextTick before microtask');
  check(order.includes('immediate'), 'immediate ran');
  eq(fired.length, 1000, 'timers fired');
  // Node does not order timers of nearly equal expiry; 10 ms apart (plus the time taken to arm
  // them) they must be in order, and timers of one duration in the order they were armed.
  let max = 0;
  const last = new Map();
  for (const [ms, i] of fired) {
    check(ms >= max - 10 - spread, `timer order: ${ms} ms after ${max} ms (armed within ${spread.toFixed(1)} ms)`);
    check(!(last.get(ms) > i), `timers of ${ms} ms out of the order armed: #${i} after #${last.get(ms)}`);
    max = Math.max(max, ms); last.set(ms, i);
  }
  eq(ticks, 10, 'interval ticks');
  // nested: a timer armed inside a timer callback, and setTimeout(0) vs setImmediate in I/O
  require('fs').stat(__filename, () => {
    const o = [];
    setTimeout(() => o.push('timeout'), 0);
    setImmediate(() => o.push('immediate'));
    setTimeout(() => { eq(o.join(','), 'immediate,timeout', 'immediate first inside I/O callback'); console.log('ok'); }, 20);
  });
}, 400);
