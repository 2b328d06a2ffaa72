-- vim.uv.spawn with a pseudo-terminal as the child's stdio, as plugins that run programs in a
-- terminal do: the pty pair comes from libc through LuaJIT's FFI (posix_openpt/grantpt/
-- unlockpt/ptsname, TIOCSWINSZ for its size), the child gets the slave as fds 0-2 and its own
-- session (detached), the parent reads and writes the master through a vim.uv pipe handle.
-- Checks: the child sees a tty of 31 rows x 97 columns, typed input reaches it and comes back
-- through the line discipline, its exit code and the master's end of output (EOF or EIO).
local uv = T.uv
local okffi, ffi = pcall(require, 'ffi')
if not okffi then T.skip('no LuaJIT FFI in this Neovim') end
pcall(ffi.cdef, [[
  int posix_openpt(int flags);
  int grantpt(int fd);
  int unlockpt(int fd);
  char *ptsname(int fd);
  int ioctl(int fd, unsigned long request, ...);
  int close(int fd);
  struct uvr_winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; };
]])
local O_RDWR, O_NOCTTY, TIOCSWINSZ = 2, 256, 0x5414
local function openpty(rows, cols)
  local m = ffi.C.posix_openpt(O_RDWR + O_NOCTTY)
  assert(m >= 0, 'posix_openpt')
  assert(ffi.C.grantpt(m) == 0 and ffi.C.unlockpt(m) == 0, 'grantpt/unlockpt')
  local name = ffi.string(ffi.C.ptsname(m))
  local ws = ffi.new('struct uvr_winsize', { rows, cols, 0, 0 })
  assert(ffi.C.ioctl(m, TIOCSWINSZ, ws) == 0, 'TIOCSWINSZ')
  local s = assert(uv.fs_open(name, O_RDWR + O_NOCTTY, 0))
  return m, s, name
end
local function run(script, input)
  local m, s, name = openpty(31, 97)
  local out, code, sig, ended = {}, nil, nil, nil
  local h, pid = uv.spawn('sh', { args = { '-c', script }, stdio = { s, s, s }, detached = true },
    function(c, g) code, sig = c, g end)
  assert(h, pid)
  uv.fs_close(s) -- the child holds it now: when it exits the master reads EOF/EIO
  local master = uv.new_pipe(false)
  assert(master:open(m))
  master:read_start(function(err, d)
    if err then ended = err; master:close()
    elseif d then table.insert(out, d)
    else ended = 'EOF'; master:close() end
  end)
  if input then master:write(input) end
  T.wait(10000, function() return code ~= nil and ended ~= nil end, 'pty child ' .. script)
  h:close()
  return table.concat(out):gsub('\r', ''), code, sig, ended, name
end
local text, code, sig, ended, name = run('stty size; test -t 0 && test -t 1 && echo is-a-tty; read x; echo "got:$x"; sleep 0.2; exit 6', 'typed line\n')
T.check(name:match('^/dev/pts/%d+$'), 'pty name ' .. name)
T.check(text:find('31 97', 1, true), 'the child sees 31x97: ' .. vim.inspect(text))
T.check(text:find('is-a-tty', 1, true), 'stdin and stdout are a tty: ' .. vim.inspect(text))
T.check(text:find('typed line\n', 1, true), 'the line discipline echoes input: ' .. vim.inspect(text))
T.check(text:find('got:typed line', 1, true), 'input reaches the child: ' .. vim.inspect(text))
T.eq(code, 6, 'exit code'); T.eq(sig, 0, 'no signal')
T.check(ended == 'EOF' or tostring(ended):match('EIO'), 'end of the master: ' .. tostring(ended))
-- a lot of output through the pty: 2000 numbered lines, every one back in order
local text2, code2 = run('i=1; while [ $i -le 2000 ]; do echo "n$i"; i=$((i+1)); done; sleep 0.2')
T.eq(code2, 0, 'counter exit code')
local n = 0
for l in text2:gmatch('n(%d+)\n') do n = n + 1; if tonumber(l) ~= n then error('line ' .. n .. ' is ' .. l) end end
T.eq(n, 2000, 'lines through the pty')
-- detached: the child leads its own session (`ps -o sid=` of it is its pid)
local text3 = run('echo "sid:$(ps -o sid= -p $$ | tr -d " ") pid:$$"; sleep 0.2')
local sid, cpid = text3:match('sid:(%d+) pid:(%d+)')
T.check(sid and sid == cpid, 'detached child leads its own session: ' .. vim.inspect(text3))
T.note('2000 lines through a pty')
