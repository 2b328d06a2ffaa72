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
for (let i = 0; i < 1000; i++) {
  const ms = (i * 7919) % 200;
  setTimeout(() => {
    check(Date.now() - start >= ms - 1, `timer ${ms} fired early at ${Date.now() - start}`);
    fired.push(Math.max(ms, 1)); // node runs setTimeout(0) as setTimeout(1)
  }, ms);
}
const cancelled = setTimeout(() => fail('cleared timer fired'), 50);
clearTimeout(cancelled);
setTimeout(() => fail('unref timer kept running'), 60000).unref();
let ticks = 0;
const iv = setInterval(() => { if (++ticks === 10) clearInterval(iv); }, 10);
setTimeout(() => {
  eq(order.slice(0, 2).join(','), 'tick,micro', 'nextTick before microtask');
  check(order.includes('immediate'), 'immediate ran');
  eq(fired.length, 1000, 'timers fired');
  // Node does not order timers of nearly equal expiry; 10 ms apart they must be in order.
  let max = 0;
  for (const ms of fired) { check(ms >= max - 10, `timer order: ${ms} ms after ${max} ms`); max = Math.max(max, ms); }
  eq(ticks, 10, 'interval ticks');
  // nested: a timer armed inside a timer callback, and setTimeout(0) vs setImmediate in I/O
  require('fs').stat(__filename, () => {
    const o = [];
    setTimeout(() => o.push('timeout'), 0);
    setImmediate(() => o.push('immediate'));
    setTimeout(() => { eq(o.join(','), 'immediate,timeout', 'immediate first inside I/O callback'); console.log('ok'); }, 20);
  });
}, 400);
