-- vim.loop signal handles: SIGUSR1 sent to ourselves and by a child, a check handle, an idle
-- handle, an async handle, a thread-pool work item.
local uv = vim.loop
local n = 0
local sig = uv.new_signal()
sig:start('sigusr1', function() n = n + 1 end)
uv.kill(uv.os_getpid(), 'sigusr1')
T.wait(2000, function() return n == 1 end, 'self SIGUSR1')
vim.fn.jobstart({ 'sh', '-c', 'kill -USR1 ' .. uv.os_getpid() })
T.wait(5000, function() return n == 2 end, 'SIGUSR1 from a child')
sig:stop(); sig:close()
local idles = 0
local idle = uv.new_idle()
idle:start(function() idles = idles + 1; if idles == 100 then idle:stop() end end)
T.wait(2000, function() return idles == 100 end, 'idle')
local woke, worked
local async = uv.new_async(function(v) woke = v end)
async:send(42)
T.wait(2000, function() return woke == 42 end, 'async send')
async:close()
local work = uv.new_work(function(x) return x * 2 end, function(r) worked = r end)
work:queue(21)
T.wait(5000, function() return worked == 42 end, 'thread-pool work')
