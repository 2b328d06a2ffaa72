-- jobstart() with pipes: 2 MiB through `cat` (stdin→stdout), stderr, exit codes, jobstop(),
-- jobwait(), 20 jobs at once, system(), and vim.loop.spawn with pipes directly.
local uv = vim.loop
local lines = {}
for i = 1, 20000 do lines[i] = string.format('line %05d %s', i, string.rep('x', 90)) end
local got, code = {}, nil
local job = vim.fn.jobstart({ 'cat' }, {
  on_stdout = function(_, data) vim.list_extend(got, data) end,
  on_exit = function(_, c) code = c end,
  stdout_buffered = true,
})
T.check(job > 0, 'jobstart cat')
vim.fn.chansend(job, lines)
vim.fn.chanclose(job, 'stdin')
T.wait(10000, function() return code ~= nil end, 'cat to exit')
T.eq(code, 0, 'cat exit code')
T.eq(#got, 20000, 'lines back (chansend adds no final newline)')
T.eq(got[20000], lines[20000], 'last line')
T.eq(table.concat(got, '\n', 1, 20000), table.concat(lines, '\n'), 'all lines')
-- stderr + exit code
local err, c2 = {}, nil
vim.fn.jobstart({ 'sh', '-c', 'echo oops >&2; exit 7' }, {
  on_stderr = function(_, d) vim.list_extend(err, d) end,
  on_exit = function(_, c) c2 = c end,
})
T.wait(5000, function() return c2 ~= nil end, 'sh exit')
T.eq(c2, 7, 'exit code 7')
T.eq(err[1], 'oops', 'stderr')
-- jobstop
local j3 = vim.fn.jobstart({ 'sleep', '30' })
vim.fn.jobstop(j3)
local r = vim.fn.jobwait({ j3 }, 5000)
T.check(r[1] ~= -1, 'jobwait after jobstop did not time out')
-- many jobs at once, exit codes through on_exit
local codes, nexit = {}, 0
for i = 1, 20 do
  vim.fn.jobstart({ 'sh', '-c', 'exit ' .. (i % 5) }, { on_exit = function(_, c) codes[i] = c; nexit = nexit + 1 end })
end
T.wait(10000, function() return nexit == 20 end, '20 jobs to exit')
for i = 1, 20 do T.eq(codes[i], i % 5, 'exit code of job ' .. i) end
-- system()
T.eq(vim.fn.system({ 'sh', '-c', 'echo $((6*7))' }), '42\n', 'system()')
T.eq(vim.v.shell_error, 0, 'shell_error')
-- vim.loop.spawn
local stdin, stdout = uv.new_pipe(false), uv.new_pipe(false)
local out, exitcode, closed = {}, nil, false
local h
h = uv.spawn('tr', { args = { 'a-z', 'A-Z' }, stdio = { stdin, stdout, nil } }, function(c)
  exitcode = c
  h:close()
end)
stdout:read_start(function(e, d)
  assert(not e, e)
  if d then table.insert(out, d) else stdout:close(); closed = true end
end)
stdin:write(string.rep('hello ', 10000))
stdin:shutdown(function() stdin:close() end)
T.wait(5000, function() return exitcode ~= nil and closed end, 'uv.spawn tr')
T.eq(exitcode, 0, 'tr exit')
T.eq(table.concat(out), string.rep('HELLO ', 10000), 'tr output')
T.note('20000 lines')
