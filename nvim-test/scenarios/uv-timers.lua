-- vim.uv timers as newer plugins drive them: get_due_in (libuv 1.40) counting down exactly with
-- the loop time, again() / set_repeat / get_repeat, a timer restarted from its own callback, 100
-- repeating timers of different periods, none early, none firing too often in a fixed window, uv.now() against
-- uv.hrtime(), and (libuv 1.45, luv 1.45+) uv.metrics_info(): loop_count and events moving.
local uv = T.uv
-- get_due_in is the timer's due time minus the loop's time (uv.now()), exactly
local t = uv.new_timer()
local now0 = uv.now()
t:start(300, 0, function() end)
T.eq(t:get_due_in(), 300, 'get_due_in right after start')
vim.wait(100)
local d1 = t:get_due_in()
T.eq(d1, math.max(0, 300 - (uv.now() - now0)), 'get_due_in after ' .. (uv.now() - now0) .. ' ms')
T.check(uv.now() - now0 >= 100, 'the loop time moved by at least 100 ms')
t:stop()
T.eq(t:get_due_in(), d1, 'get_due_in of a stopped timer (libuv keeps its due time)')
-- set_repeat / get_repeat / again
T.eq(t:get_repeat(), 0, 'get_repeat of a one-shot')
t:set_repeat(40)
T.eq(t:get_repeat(), 40, 'set_repeat')
local fired = 0
t:start(1000, 40, function() fired = fired + 1 end)
T.eq(t:get_due_in() > 900, true, 'due in about 1000 ms')
t:again() -- restarts with the repeat (40 ms) as the timeout
T.check(t:get_due_in() <= 40, 'again() uses the repeat: ' .. t:get_due_in())
T.wait(2000, function() return fired >= 3 end, 'repeats after again()')
t:stop(); t:close()
-- a timer restarted from its own callback, 20 times, each at least 10 ms of loop time (uv.now(),
-- what timers count in) after the last
local r, times = uv.new_timer(), {}
local function arm() r:start(10, 0, function() table.insert(times, uv.now()); if #times < 20 then arm() end end) end
arm()
T.wait(5000, function() return #times == 20 end, 'self-restarting timer')
for i = 2, 20 do T.check(times[i] - times[i - 1] >= 10, string.format('restart %d after %d ms', i, times[i] - times[i - 1])) end
r:close()
-- 100 repeating timers with periods 20..119 ms over a window of 1200 ms: none fires early (a
-- repeat is due `period` after the loop time of the previous call), so each fires at most
-- floor(1200 / period) times, and at least a third of that (a late loop delays the repeats)
local counts, last, early, timers = {}, {}, {}, {}
local t0 = uv.now()
for i = 1, 100 do
  local period = 19 + i
  counts[i], last[i] = 0, t0
  timers[i] = uv.new_timer()
  timers[i]:start(period, period, function()
    local now = uv.now()
    if now - last[i] < period then early[#early + 1] = string.format('%d ms after %d ms', period, now - last[i]) end
    last[i] = now
    if now - t0 <= 1200 then counts[i] = counts[i] + 1 end
  end)
end
vim.wait(1300)
T.eq(#early, 0, 'repeats early: ' .. table.concat(early, ', '))
for i = 1, 100 do
  local period, max = 19 + i, math.floor(1200 / (19 + i))
  T.check(counts[i] <= max and counts[i] >= max / 3, string.format('timer of %d ms fired %d times in 1200 ms', period, counts[i]))
  timers[i]:close()
end
-- uv.now() follows uv.hrtime()
uv.update_time()
local n0, h0 = uv.now(), uv.hrtime()
vim.wait(200)
uv.update_time()
local dn, dh = uv.now() - n0, (uv.hrtime() - h0) / 1e6
T.check(math.abs(dn - dh) <= 5, string.format('now moved %d ms, hrtime %.1f ms', dn, dh))
if uv.metrics_info then
  local m0 = uv.metrics_info()
  local tick = uv.new_timer()
  tick:start(1, 1, function() end)
  vim.wait(100)
  tick:close()
  local m1 = uv.metrics_info()
  T.check(m1.loop_count > m0.loop_count + 10, string.format('metrics loop_count %d -> %d', m0.loop_count, m1.loop_count))
  T.check(m1.events >= m0.events, string.format('metrics events %d -> %d', m0.events, m1.events))
  T.note('metrics_info loop_count +' .. (m1.loop_count - m0.loop_count))
else
  T.note('no uv.metrics_info in this luv (luv 1.45+)')
end
