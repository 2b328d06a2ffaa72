-- :terminal runs a shell command in a pty buffer; its output lands in the buffer, TermClose
-- fires with the exit status, and input sent to the terminal job reaches it. The job lingers a
-- moment before it exits: Linux may report the pty hung up before the master has read the last
-- output (seen here on Debian's libuv as on uvring), and that race is not what this tests.
local status
vim.api.nvim_create_autocmd('TermClose', { callback = function() status = vim.v.event.status end })
vim.cmd([[terminal sh -c 'echo hello-from-term; read x; echo "typed:$x"; sleep 0.3; exit 7']])
local buf = vim.api.nvim_get_current_buf()
T.eq(vim.bo[buf].buftype, 'terminal', 'buftype')
local job = vim.b[buf].terminal_job_id
local function text() return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') end
T.wait(5000, function() return text():find('hello-from-term', 1, true) ~= nil end, 'terminal output')
vim.fn.chansend(job, 'abc\r')
T.wait(5000, function() return status ~= nil end, 'TermClose')
T.eq(status, 7, 'TermClose status')
T.wait(2000, function() return text():find('typed:abc', 1, true) ~= nil end, 'typed input echoed')
T.check(vim.fn.jobwait({ job }, 0)[1] == 7 or vim.fn.jobwait({ job }, 0)[1] == -3, 'job finished')
vim.cmd('bwipeout!')
