-- lua with luv on the system's libuv: a timer, async fs, TCP on loopback.
local uv = require('luv')
local ok = 0
local function done(what) ok = ok + 1; print('ok: luv ' .. what) end

local t = uv.new_timer()
local t0 = uv.now()
t:start(50, 0, function()
  if uv.now() - t0 >= 45 then done('timer 50 ms') end
  t:close()
end)

uv.fs_open('/tmp/luv-fs.txt', 'w', 420, function(err, fd)
  assert(not err, err)
  uv.fs_write(fd, 'uvring', 0, function(err2, n)
    assert(not err2, err2)
    uv.fs_close(fd, function()
      uv.fs_stat('/tmp/luv-fs.txt', function(err3, st)
        if not err3 and n == 6 and st.size == 6 then done('fs open/write/close/stat') end
      end)
    end)
  end)
end)

local server = uv.new_tcp()
server:bind('127.0.0.1', 0)
server:listen(8, function()
  local c = uv.new_tcp()
  server:accept(c)
  c:read_start(function(_, data)
    if data then c:write(data) else c:close() end
  end)
end)
local port = server:getsockname().port
local client = uv.new_tcp()
client:connect('127.0.0.1', port, function(err)
  assert(not err, err)
  client:write('ping')
  client:read_start(function(_, data)
    if data == 'ping' then done('tcp echo on 127.0.0.1') end
    client:close()
    server:close()
  end)
end)

uv.run()
for l in io.lines('/proc/self/maps') do
  if l:find('libuv%.so') then
    local f = {}
    for w in l:gmatch('%S+') do f[#f + 1] = w end
    print('MAPS ' .. f[6] .. ' ' .. f[5])
    break
  end
end
print(ok == 3 and 'luv: all 3 ok' or ('luv: only ' .. ok .. ' of 3'))
os.exit(ok == 3 and 0 or 1)
