-- Neovim headless on the system's libuv: a job and a timer; results written to /tmp/nvim.out.
local out = {}
local job_out = ''
local job_exit = nil
local timer_fired = false
local job = vim.fn.jobstart({ 'sh', '-c', 'echo job-$((6*7))' }, {
  stdout_buffered = true,
  on_stdout = function(_, data) job_out = table.concat(data, '') end,
  on_exit = function(_, code) job_exit = code end,
})
vim.fn.timer_start(50, function() timer_fired = true end)
local uvt = vim.loop.new_timer()
local uv_timer_fired = false
uvt:start(30, 0, function() uv_timer_fired = true; uvt:close() end)
vim.wait(5000, function() return timer_fired and uv_timer_fired and job_exit ~= nil end, 10)
if job > 0 and job_exit == 0 and job_out == 'job-42' then table.insert(out, 'ok: nvim job') end
if timer_fired then table.insert(out, 'ok: nvim timer_start') end
if uv_timer_fired then table.insert(out, 'ok: nvim vim.loop timer') end
for _, l in ipairs(vim.fn.readfile('/proc/self/maps')) do
  if l:find('libuv%.so') then
    local f = vim.split(vim.trim(l), '%s+')
    table.insert(out, 'MAPS ' .. f[6] .. ' ' .. f[5])
    break
  end
end
table.insert(out, #out == 4 and 'nvim: all 3 ok' or 'nvim: not all ok')
vim.fn.writefile(out, '/tmp/nvim.out')
vim.cmd('qa!')
