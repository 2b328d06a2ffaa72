-- vim.system (Neovim 0.10; vim.uv.spawn with pipes underneath): text and bytes output, stdin as a
-- string, as a list and written later, stderr apart, env and clear_env, cwd, exit codes, a
-- signal, timeout (SIGTERM, code 124), wait() and on_exit, 30 at once, 4 MiB of output, kill().
local uv = T.uv
if not vim.system then T.skip('no vim.system in Neovim ' .. vim.fn.matchstr(vim.fn.execute('version'), 'NVIM v\\S*')) end
local r = vim.system({ 'sh', '-c', 'echo out; echo err >&2; exit 3' }, { text = true }):wait()
T.eq(r.code, 3, 'exit code'); T.eq(r.signal, 0, 'no signal')
T.eq(r.stdout, 'out\n', 'stdout'); T.eq(r.stderr, 'err\n', 'stderr')
T.eq(vim.system({ 'tr', 'a-z', 'A-Z' }, { stdin = 'hello system' }):wait().stdout, 'HELLO SYSTEM', 'stdin as a string')
T.eq(vim.system({ 'cat' }, { stdin = { 'a', 'b', 'c' } }):wait().stdout, 'a\nb\nc\n', 'stdin as a list (each item a line)')
local job = vim.system({ 'sha256sum' }, { stdin = true })
local chunk = string.rep('0123456789abcdef', 4096)
for _ = 1, 64 do job:write(chunk) end
job:write(nil)
local rw = job:wait()
local want = vim.fn.sha256(string.rep(chunk, 64))
T.eq(rw.stdout:match('^(%x+)'), want, 'stdin written in 64 pieces, then closed')
-- clear_env: nothing inherited (Neovim 0.10.4 also drops the env given with it, so only the
-- inherited HOME is checked)
local re = vim.system({ 'sh', '-c', 'echo "${HOME-unset}"' }, { env = { UVR_A = 'x' }, clear_env = true, text = true }):wait()
T.eq(re.stdout, 'unset\n', 'clear_env')
local re2 = vim.system({ 'sh', '-c', 'echo "$UVR_A:$UVR_B"' }, { env = { UVR_B = 'y' }, text = true }):wait()
T.eq(re2.stdout, ':y\n', 'env added to the inherited one')
T.eq(vim.system({ 'pwd' }, { cwd = '/proc', text = true }):wait().stdout, '/proc\n', 'cwd')
local t0 = uv.hrtime()
local rt = vim.system({ 'sleep', '10' }, { timeout = 200 }):wait()
T.eq(rt.code, 124, 'timeout exit code'); T.eq(rt.signal, 15, 'timeout signal (SIGTERM)')
T.check((uv.hrtime() - t0) / 1e6 < 5000, 'timeout took ' .. (uv.hrtime() - t0) / 1e6 .. ' ms')
local sk = vim.system({ 'sleep', '10' })
sk:kill(9)
local rk = sk:wait()
T.eq(rk.signal, 9, 'kill(9)')
-- 30 at once with on_exit. Each lingers after its output: Neovim 0.10.4's vim.system closes the
-- stdout pipe as soon as the exit is seen (runtime/lua/vim/_system.lua, _on_exit ->
-- close_handles), so when one SIGCHLD reaps a child that wrote and exited after the loop last
-- polled, its unread output is dropped, on Debian's libuv as on uvring.
local done, results = 0, {}
for i = 1, 30 do
  vim.system({ 'sh', '-c', 'echo $0; sleep 0.2; exit $(($0 % 4))', tostring(i) }, { text = true }, function(o)
    results[i] = o; done = done + 1
  end)
end
T.wait(20000, function() return done == 30 end, '30 vim.system on_exit')
for i = 1, 30 do T.eq(results[i].stdout, i .. '\n', 'out of ' .. i); T.eq(results[i].code, i % 4, 'code of ' .. i) end
-- 4 MiB of output, bytes kept exactly
local dir = T.tmpdir('system')
local rb = vim.system({ 'sh', '-c', 'head -c 4194304 /dev/urandom > r; cat r' }, { cwd = dir }):wait()
T.eq(#rb.stdout, 4 * 1024 * 1024, '4 MiB of output')
local fd = assert(uv.fs_open(dir .. '/r', 'r', 0))
T.check(rb.stdout == uv.fs_read(fd, 4 * 1024 * 1024, 0), 'the 4 MiB are the bytes of the file')
uv.fs_close(fd)
local rs = vim.system({ 'cmp', '-', dir .. '/r' }, { stdin = rb.stdout }):wait()
T.eq(rs.code, 0, 'the 4 MiB back through stdin are the same bytes (cmp)')
T.rmrf(dir)
-- streamed stdout through a callback
local lines = {}
vim.system({ 'sh', '-c', 'for i in 1 2 3 4 5; do echo l$i; sleep 0.02; done' }, {
  stdout = function(err, d) assert(not err, err); if d then table.insert(lines, d) end end,
}):wait()
T.eq(table.concat(lines), 'l1\nl2\nl3\nl4\nl5\n', 'streamed stdout')
local ok, err = pcall(vim.system, { '/nonexistent/prog' })
T.check(not ok and tostring(err):match('ENOENT'), 'a missing program: ' .. tostring(err))
T.note('30 parallel')
