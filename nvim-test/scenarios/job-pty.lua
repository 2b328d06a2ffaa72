-- jobstart() with a pty: the child sees a terminal of the requested size, output comes back,
-- input typed into the pty reaches it, exit code is reported. The children linger 0.3 s before
-- exiting: a pty master can see the hang-up before the last output line is pushed to it (the
-- race behind the terminal scenario's linger, seen on Debian's libuv as well), and the line is lost.
local out, code = {}, nil
local job = vim.fn.jobstart({ 'sh', '-c', 'stty size; test -t 0 && echo is-a-tty; read x; echo "got:$x"; sleep 0.3; exit 4' }, {
  pty = true, width = 77, height = 21,
  on_stdout = function(_, d) vim.list_extend(out, d) end,
  on_exit = function(_, c) code = c end,
})
T.check(job > 0, 'jobstart pty')
T.wait(5000, function() return table.concat(out, '\n'):find('is%-a%-tty') ~= nil end, 'pty output')
vim.fn.chansend(job, 'typed\n')
T.wait(5000, function() return code ~= nil end, 'pty job exit')
local s = table.concat(out, '\n'):gsub('\r', '')
T.check(s:find('21 77', 1, true), 'stty size in pty: ' .. s)
T.check(s:find('got:typed', 1, true), 'input through pty: ' .. s)
T.eq(code, 4, 'pty job exit code')
-- resize while running
local out2, code2 = {}, nil
local j2 = vim.fn.jobstart({ 'sh', '-c', 'read x; stty size; sleep 0.3' }, {
  pty = true, width = 80, height = 24,
  on_stdout = function(_, d) vim.list_extend(out2, d) end,
  on_exit = function(_, c) code2 = c end,
})
vim.wait(100)
vim.fn.jobresize(j2, 100, 30)
vim.fn.chansend(j2, '\n')
T.wait(5000, function() return code2 ~= nil end, 'resized pty job')
T.check(table.concat(out2, '\n'):find('30 100', 1, true), 'size after jobresize')
