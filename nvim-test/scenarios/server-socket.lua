-- Neovim's server socket: a second Neovim started with --listen on a Unix socket, and the clients
-- are ours, speaking msgpack-RPC over raw vim.uv handles (vim.mpack): 5 connections at once, each
-- with 60 requests written in one go (pipelined) whose answers must all come back, matched by
-- msgid; a notification the server sends us (rpcnotify to our channel); serverstart() on TCP
-- loopback asked of the server over RPC, then the same protocol over vim.uv TCP; and the server
-- told to quit over RPC exits 0 while our connections see EOF.
local uv = T.uv
local mpack = vim.mpack
local dir = T.tmpdir('server')
local sock = dir .. '/server.sock'
local job = vim.fn.jobstart({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--listen', sock })
T.check(job > 0, 'server started')
T.wait(10000, function() return uv.fs_stat(sock) ~= nil end, 'server socket ' .. sock)
-- client(handle): an RPC connection on a connected stream handle
local function client(h)
  local c = { h = h, replies = {}, notes = {}, eof = false, unpack = mpack.Unpacker(), nextid = 0 }
  h:read_start(function(err, d)
    assert(not err, err)
    if not d then c.eof = true; return end
    -- the unpacker streams: it keeps what it consumed of an incomplete message
    local pos = 1
    while pos <= #d do
      local obj, npos = c.unpack(d, pos)
      pos = npos
      if obj == nil then break end
      if obj[1] == 1 then c.replies[obj[2]] = { err = obj[3], res = obj[4] }
      elseif obj[1] == 2 then table.insert(c.notes, { obj[2], obj[3] }) end
    end
  end)
  function c.send(method, params)
    c.nextid = c.nextid + 1
    return c.nextid, mpack.encode({ 0, c.nextid, method, params })
  end
  function c.call(method, params)
    local id, msg = c.send(method, params)
    h:write(msg)
    T.wait(10000, function() return c.replies[id] ~= nil end, 'reply to ' .. method)
    local r = c.replies[id]
    T.check(r.err == nil or r.err == vim.NIL, method .. ' error: ' .. vim.inspect(r.err))
    return r.res
  end
  return c
end
local function connect_pipe(path)
  local p, done = uv.new_pipe(false), nil
  p:connect(path, function(err) done = err or true end)
  T.wait(5000, function() return done ~= nil end, 'connect to ' .. path)
  if done ~= true then p:close() end
  return done == true and client(p) or nil, done
end
-- The server binds its socket before it listens: until then a connection is refused.
local first, why
local until_ms = uv.now() + 10000
repeat
  first, why = connect_pipe(sock)
  local refused = not first and tostring(why):match('^ECONNREFUSED')
  if refused then vim.wait(20) end
until not refused or uv.now() > until_ms
T.check(first, 'connect to the server: ' .. tostring(why))
-- 5 connections, 60 pipelined requests each
local clients = { first }
for k = 2, 5 do clients[k] = assert(connect_pipe(sock)) end
local want = {}
for k, c in ipairs(clients) do
  local parts = {}
  want[k] = {}
  for i = 1, 60 do
    local id, msg = c.send('nvim_eval', { string.format('%d * 1000 + %d', k, i) })
    parts[#parts + 1] = msg
    want[k][id] = k * 1000 + i
  end
  c.h:write(table.concat(parts))
end
T.wait(15000, function()
  for k, c in ipairs(clients) do for id in pairs(want[k]) do if not c.replies[id] then return false end end end
  return true
end, '300 pipelined replies')
for k, c in ipairs(clients) do
  for id, v in pairs(want[k]) do T.eq(c.replies[id].res, v, string.format('reply %d on connection %d', id, k)) end
end
-- a notification from the server to one client
local chan = clients[1].call('nvim_get_api_info', {})[1]
T.check(type(chan) == 'number' and chan > 0, 'our channel id: ' .. vim.inspect(chan))
clients[1].call('nvim_command', { string.format("call rpcnotify(%d, 'tick', 42, 'x')", chan) })
T.wait(5000, function() return #clients[1].notes > 0 end, 'notification')
T.eq(clients[1].notes[1][1], 'tick', 'notification name')
T.eq(vim.inspect(clients[1].notes[1][2]), vim.inspect({ 42, 'x' }), 'notification arguments')
-- serverstart() on TCP in the server, then RPC over vim.uv TCP
local addr = clients[2].call('nvim_call_function', { 'serverstart', { '127.0.0.1:0' } })
local port = tonumber(addr:match('^127%.0%.0%.1:(%d+)$'))
T.check(port and port > 0, 'serverstart tcp: ' .. tostring(addr))
local list = clients[2].call('nvim_call_function', { 'serverlist', {} })
T.check(vim.tbl_contains(list, sock) and vim.tbl_contains(list, addr), 'serverlist: ' .. vim.inspect(list))
local tcp, tdone = uv.new_tcp(), nil
tcp:connect('127.0.0.1', port, function(err) tdone = err or true end)
T.wait(5000, function() return tdone ~= nil end, 'tcp connect')
T.eq(tdone, true, 'tcp connect')
local tc = client(tcp)
T.eq(tc.call('nvim_eval', { '"over " . "tcp"' }), 'over tcp', 'rpc over tcp')
-- a large argument and result: 1 MiB string both ways
local big = string.rep('0123456789abcdef', 65536)
local up = tc.call('nvim_call_function', { 'toupper', { big } })
if up ~= big:upper() then
  local i = 1
  while i <= #up and up:byte(i) == big:upper():byte(i) do i = i + 1 end
  error(string.format('1 MiB through rpc: %d bytes back, first difference at byte %d', #up, i))
end
-- quit the server: it exits 0 and every connection reads EOF
local _, msg = clients[3].send('nvim_command', { 'qa!' })
clients[3].h:write(msg)
T.eq(vim.fn.jobwait({ job }, 10000)[1], 0, 'server exit code')
T.wait(5000, function()
  for _, c in ipairs(clients) do if not c.eof then return false end end
  return tc.eof
end, 'EOF on every connection')
for _, c in ipairs(clients) do c.h:close() end
tcp:close()
T.rmrf(dir)
T.note('300 pipelined requests')
