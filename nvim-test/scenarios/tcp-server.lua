-- serverstart() on TCP loopback; a second Neovim and we call each other over TCP (rpc); a raw
-- vim.loop TCP echo server with 50 clients x 64 KiB; a raw (non-rpc) sockconnect.
local uv = vim.loop
local addr = vim.fn.serverstart('127.0.0.1:0')
T.check(addr:match('^127%.0%.0%.1:%d+$') and not addr:match(':0$'), 'serverstart tcp: ' .. addr)
-- A second Neovim (same libuv) calls us over TCP; we call it over TCP on its --listen port.
local probe = uv.new_tcp()
assert(probe:bind('127.0.0.1', 0))
local oport = probe:getsockname().port
probe:close()
vim.g.marker = 0
local job = vim.fn.jobstart({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--listen', '127.0.0.1:' .. oport,
  '-c', string.format("call rpcrequest(sockconnect('tcp', '%s', {'rpc': v:true}), 'nvim_set_var', 'marker', 42)", addr) })
T.check(job > 0, 'second nvim started')
T.wait(10000, function() return vim.g.marker == 42 end, 'second nvim to call us over TCP')
local ch
T.wait(5000, function()
  local ok, r = pcall(vim.fn.sockconnect, 'tcp', '127.0.0.1:' .. oport, { rpc = true })
  if ok and r > 0 then ch = r end
  return ch ~= nil
end, 'connect to the second nvim over TCP')
for i = 1, 50 do T.eq(vim.fn.rpcrequest(ch, 'nvim_eval', i .. '*2'), i * 2, 'rpc round trip') end
vim.fn.rpcnotify(ch, 'nvim_command', 'qa!')
T.eq(vim.fn.jobwait({ job }, 10000)[1], 0, 'second nvim exit code')
T.eq(vim.fn.serverstop(addr), 1, 'serverstop')
-- raw echo server through vim.loop
local srv = uv.new_tcp()
assert(srv:bind('127.0.0.1', 0))
local port = srv:getsockname().port
assert(srv:listen(128, function(err)
  assert(not err, err)
  local c = uv.new_tcp()
  srv:accept(c)
  c:read_start(function(e, d)
    assert(not e, e)
    if d then c:write(d) else c:shutdown(function() c:close() end) end
  end)
end))
local N, SIZE, ok = 50, 65536, 0
for i = 1, N do
  local payload = string.rep(string.char(65 + i % 26), SIZE)
  local c = uv.new_tcp()
  local buf = {}
  c:connect('127.0.0.1', port, function(err)
    assert(not err, err)
    c:read_start(function(e, d)
      assert(not e, e)
      if d then table.insert(buf, d)
      else
        assert(table.concat(buf) == payload, 'echo mismatch')
        ok = ok + 1
        c:close()
      end
    end)
    c:write(payload, function() c:shutdown() end)
  end)
end
T.wait(20000, function() return ok == N end, 'tcp echo clients')
srv:close()
-- raw sockconnect (no rpc) to a vim.loop server that greets
local g = uv.new_tcp()
assert(g:bind('127.0.0.1', 0))
assert(g:listen(8, function() local c = uv.new_tcp(); g:accept(c); c:write('hello raw\n', function() c:close() end) end))
local got = {}
local rc = vim.fn.sockconnect('tcp', '127.0.0.1:' .. g:getsockname().port, { on_data = function(_, d) vim.list_extend(got, d) end })
T.check(rc > 0, 'raw sockconnect')
T.wait(5000, function() return got[1] == 'hello raw' end, 'raw sockconnect data')
g:close()
T.note(N .. ' echo clients')
