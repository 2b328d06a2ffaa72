-- vim.uv pipes: new_pipe bind/listen/connect on a path (getsockname/getpeername, chmod, 20 clients
-- each echoing 256 KiB), the errors (ENOENT, EADDRINUSE), uv.pipe() (an anonymous pipe opened
-- with pipe:open), uv.socketpair() as two IPC pipes carrying a handle (write2 / pending_count /
-- pending_type / accept) whose stream is then read on the far side.
local uv = T.uv
local dir = T.tmpdir('uvpipe')
local path = dir .. '/srv.sock'
local srv = uv.new_pipe(false)
assert(srv:bind(path))
T.eq(srv:getsockname(), path, 'getsockname')
assert(srv:listen(32, function(err)
  assert(not err, err)
  local c = uv.new_pipe(false)
  srv:accept(c)
  c:read_start(function(e, d)
    assert(not e, e)
    if d then c:write(d) else c:shutdown(function() c:close() end) end
  end)
end))
-- pipe:chmod adds read (or write) for everyone to the socket's mode
assert(uv.fs_chmod(path, tonumber('600', 8)))
T.check(srv:chmod('r'), 'chmod r')
T.eq(uv.fs_stat(path).mode % 512, tonumber('644', 8), 'socket mode after 0600 and chmod r')
T.check(srv:chmod('w'), 'chmod w')
T.eq(uv.fs_stat(path).mode % 512, tonumber('666', 8), 'socket mode after chmod w')
local N, SIZE, ok, peers = 20, 256 * 1024, 0, 0
math.randomseed(7)
for i = 1, N do
  local t = {}
  for k = 1, SIZE / 64 do t[k] = string.format('%02d:%060d\n', i, math.random(0, 2 ^ 31)) end
  local payload = table.concat(t)
  local c, buf = uv.new_pipe(false), {}
  c:connect(path, function(err)
    assert(not err, err)
    if c:getpeername() == path then peers = peers + 1 end
    c:read_start(function(e, d)
      assert(not e, e)
      if d then table.insert(buf, d)
      else
        assert(table.concat(buf) == payload, 'echo mismatch on client ' .. i)
        ok = ok + 1; c:close()
      end
    end)
    c:write(payload, function(e) assert(not e, e); c:shutdown() end)
  end)
end
T.wait(20000, function() return ok == N end, N .. ' pipe clients')
T.eq(peers, N, 'getpeername on each client')
local cerr
local bad = uv.new_pipe(false)
bad:connect(dir .. '/nobody.sock', function(err) cerr = err or 'none'; bad:close() end)
T.wait(5000, function() return cerr ~= nil end, 'connect to a missing path')
T.check(cerr:match('^ENOENT'), 'connect to a missing path: ' .. cerr)
local again = uv.new_pipe(false)
local r, _, name = again:bind(path)
T.check(not r and name == 'EADDRINUSE', 'bind on a used path: ' .. tostring(name))
again:close()
srv:close()
-- uv.pipe(): an anonymous pipe, both ends opened as pipe handles
local fds = assert(uv.pipe({ nonblock = true }, { nonblock = true }))
local rd, wr = uv.new_pipe(false), uv.new_pipe(false)
assert(rd:open(fds.read)); assert(wr:open(fds.write))
local got = {}
rd:read_start(function(e, d) assert(not e, e); if d then table.insert(got, d) else rd:close() end end)
wr:write(string.rep('anon', 100000), function() wr:close() end)
T.wait(5000, function() return rd:is_closing() end, 'anonymous pipe EOF')
T.eq(table.concat(got), string.rep('anon', 100000), 'anonymous pipe content')
-- socketpair as two IPC pipes; pass the read end of a new anonymous pipe through it
local sp = assert(uv.socketpair(nil, nil, { nonblock = true }, { nonblock = true }))
local a, b = uv.new_pipe(true), uv.new_pipe(true)
assert(a:open(sp[1])); assert(b:open(sp[2]))
local fds2 = assert(uv.pipe({ nonblock = true }, { nonblock = true }))
local passed, pw = uv.new_pipe(false), uv.new_pipe(false)
assert(passed:open(fds2.read)); assert(pw:open(fds2.write))
local recv, msg, ptype, pcount = nil, nil, nil, nil
b:read_start(function(e, d)
  assert(not e, e)
  if d and not recv then
    msg, pcount, ptype = d, b:pending_count(), b:pending_type()
    recv = uv.new_pipe(false)
    b:accept(recv)
  end
end)
a:write2('here it comes', passed, function(e) assert(not e, e) end)
T.wait(5000, function() return recv ~= nil end, 'handle passed over the IPC pipe')
T.eq(msg, 'here it comes', 'message with the handle')
T.eq(pcount, 1, 'pending_count')
T.eq(ptype, 'pipe', 'pending_type')
local through = {}
recv:read_start(function(e, d) assert(not e, e); if d then table.insert(through, d) end end)
passed:close()
pw:write('through the passed pipe')
T.wait(5000, function() return table.concat(through) == 'through the passed pipe' end, 'read on the passed pipe')
for _, h in ipairs({ recv, pw, a, b }) do h:close() end
T.rmrf(dir)
T.note(N .. ' clients')
