-- vim.loop timers (one-shot, repeating, stop/close, again), timer_start() of the editor,
-- ordering, none firing early; vim.defer_fn; uv.hrtime and uv.now moving.
local uv = vim.loop
local fired = {}
local t0 = uv.now()
for i = 1, 200 do
  local ms = (i * 37) % 150
  local t = uv.new_timer()
  t:start(ms, 0, function()
    T.check(uv.now() - t0 >= ms, 'timer fired early')
    table.insert(fired, ms)
    t:close()
  end)
end
local ticks = 0
local rep = uv.new_timer()
rep:start(10, 10, function() ticks = ticks + 1; if ticks == 10 then rep:stop(); rep:close() end end)
local cancelled = uv.new_timer()
cancelled:start(20, 0, function() error('stopped timer fired') end)
cancelled:stop()
cancelled:close()
local vt = 0
local id = vim.fn.timer_start(15, function() vt = vt + 1 end, { ['repeat'] = 5 })
local deferred = false
vim.defer_fn(function() deferred = true end, 30)
T.wait(5000, function() return #fired == 200 and ticks == 10 and vt == 5 and deferred end, 'timers')
for i = 2, #fired do T.check(fired[i - 1] <= fired[i], 'timer order') end
T.eq(#vim.fn.timer_info(id), 0, 'timer_start timer gone after its repeats')
local h0 = uv.hrtime()
vim.wait(50)
T.check(uv.hrtime() - h0 >= 45e6, 'hrtime advanced')
T.note('200 timers')
