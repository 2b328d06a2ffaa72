-- vim.uv pipe bind2/connect2 (uv_pipe_bind2/uv_pipe_connect2: luv 1.46+, Neovim 0.10): Linux abstract names ("\0..."), returned whole by getsockname/getpeername; an
-- empty name (the kernel picks an abstract one: "\0" and 5 hex digits); {no_truncate = true}
-- refusing a name longer than sun_path (108 bytes) with EINVAL, while without it the name is cut
-- to 108 bytes, for bind and connect alike (no_truncate on connect: see below); an embedded NUL is EINVAL; the same abstract name
-- twice is EADDRINUSE. Each name is used by a real echo round trip.
local uv = T.uv
if not uv.pipe_bind2 then T.skip('no pipe:bind2 / pipe:connect2 in this luv (luv 1.46+)') end
local dir = T.tmpdir('bind2')
local function server(name, flags)
  local s = uv.new_pipe(false)
  local r, err, ename = s:bind2(name, flags)
  if not r then s:close(); return nil, ename or err end
  assert(s:listen(8, function(e)
    assert(not e, e)
    local c = uv.new_pipe(false); s:accept(c)
    c:read_start(function(_, d) if d then c:write('re:' .. d) else c:close() end end)
  end))
  return s
end
-- round trip to name: returns the reply and the client's getpeername, or nil and the error
local function roundtrip(name, flags)
  local c, reply, peer, cerr = uv.new_pipe(false), nil, nil, nil
  local ok, e = pcall(c.connect2, c, name, flags, function(err)
    if err then cerr = err; c:close(); return end
    peer = c:getpeername()
    c:read_start(function(_, d) if d then reply = d; c:close() end end)
    c:write('ping')
  end)
  if not ok then c:close(); return nil, tostring(e) end
  T.wait(5000, function() return reply ~= nil or cerr ~= nil end, 'round trip on ' .. vim.inspect(name))
  return reply, peer or cerr
end
-- abstract
local abs = '\0uvr-bind2-' .. uv.os_getpid()
local s1 = assert(server(abs, { no_truncate = true }))
T.eq(s1:getsockname(), abs, 'getsockname of an abstract name (leading NUL kept)')
local reply, peer = roundtrip(abs, { no_truncate = true })
T.eq(reply, 're:ping', 'echo over an abstract name')
T.eq(peer, abs, 'getpeername of an abstract name')
local dup, derr = server(abs)
T.check(not dup and tostring(derr):match('EADDRINUSE'), 'the same abstract name twice: ' .. tostring(derr))
s1:close()
-- autobind: an empty name
local s2 = assert(server(''))
local auto = s2:getsockname()
T.check(#auto == 6 and auto:sub(1, 1) == '\0' and auto:sub(2):match('^%x%x%x%x%x$'), 'autobound name: ' .. vim.inspect(auto))
T.eq((roundtrip(auto)), 're:ping', 'echo over the autobound name')
s2:close()
-- long names: 130 bytes; without no_truncate the first 108 are used
local long = dir .. '/' .. string.rep('n', 130 - #dir - 1)
T.eq(#long, 130, 'long name length')
local cut = long:sub(1, 108)
local bad, berr = server(long, { no_truncate = true })
T.check(not bad and tostring(berr):match('EINVAL'), 'bind of a long name with no_truncate: ' .. tostring(berr))
T.check(uv.fs_stat(cut) == nil, 'nothing made by the refused bind')
local s3 = assert(server(long))
T.eq(s3:getsockname(), cut, 'getsockname of a cut name')
T.eq(uv.fs_stat(cut).type, 'socket', 'the socket is at the cut name')
T.eq((roundtrip(cut)), 're:ping', 'echo over the cut name')
T.eq((roundtrip(long)), 're:ping', 'connect with the long name, cut the same way')
-- (connect with a long name and no_truncate is not tried: luv 1.48 drops uv_pipe_connect2's
-- EINVAL and never calls back, luvit/luv#779.)
s3:close()
-- an embedded NUL
local bad2, nerr = server(dir .. '/a\0b')
T.check(not bad2 and tostring(nerr):match('EINVAL'), 'bind of a name with a NUL inside: ' .. tostring(nerr))
T.rmrf(dir)
