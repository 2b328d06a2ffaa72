-- serverstart() on a Unix socket; a second Neovim (same libuv, via LD_LIBRARY_PATH) started with
-- jobstart() connects to it with sockconnect('pipe', rpc) and evaluates in our instance; and
-- we connect to the second instance's --listen socket. Also a raw vim.loop pipe server.
local uv = vim.loop
local dir = T.tmpdir('pipe')
local sock = dir .. '/ours.sock'
T.eq(vim.fn.serverstart(sock), sock, 'serverstart pipe')
vim.g.marker = 0
local other = dir .. '/other.sock'
local job = vim.fn.jobstart({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--listen', other,
  '-c', string.format("call rpcrequest(sockconnect('pipe', '%s', {'rpc': v:true}), 'nvim_set_var', 'marker', 42)", sock) })
T.check(job > 0, 'second nvim started')
T.wait(10000, function() return vim.g.marker == 42 end, 'second nvim to call us over the pipe')
local ch
T.wait(5000, function()
  local ok, r = pcall(vim.fn.sockconnect, 'pipe', other, { rpc = true })
  if ok and r > 0 then ch = r end
  return ch ~= nil
end, 'connect to the second nvim')
T.eq(vim.fn.rpcrequest(ch, 'nvim_eval', '6*7'), 42, 'rpc to second nvim')
vim.fn.rpcnotify(ch, 'nvim_command', 'qa!')
T.eq(vim.fn.jobwait({ job }, 10000)[1], 0, 'second nvim exit code')
vim.fn.serverstop(sock)
-- raw pipe server
local ps = uv.new_pipe(false)
assert(ps:bind(dir .. '/raw.sock'))
assert(ps:listen(8, function()
  local c = uv.new_pipe(false); ps:accept(c)
  c:read_start(function(_, d) if d then c:write('re:' .. d) else c:close() end end)
end))
local reply
local cl = uv.new_pipe(false)
cl:connect(dir .. '/raw.sock', function(err)
  assert(not err, err)
  cl:read_start(function(_, d) if d then reply = d; cl:close() end end)
  cl:write('ping')
end)
T.wait(5000, function() return reply == 're:ping' end, 'raw pipe echo')
ps:close()
T.rmrf(dir)
