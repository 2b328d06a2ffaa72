-- Runs one scenario inside headless Neovim: `nvim --headless -u NONE -i NONE -n -c 'luafile harness.lua'`
-- with SCENARIO=<file.lua>. A scenario is a Lua chunk that raises an error on any mismatch and
-- may use the helpers in the global T. On success the harness prints "ok ..." and quits with 0;
-- on error it prints the error and quits with :cq (exit 1). T.skip(why) ends a scenario that needs
-- a newer Neovim: the harness prints "SKIP: why" and quits with 0 (run.sh counts it apart).
-- EXPECT_LIBUV, when set, must be the libuv.so.1 mapped into this process (read from /proc/self/maps).
local uv = vim.loop
T = {}
T.uv = vim.uv or vim.loop -- vim.uv since Neovim 0.10; the same luv module as vim.loop
local SKIP = {}
function T.skip(why) error(setmetatable({ why = why }, SKIP), 0) end
function T.check(cond, msg) if not cond then error(msg, 2) end end
function T.eq(a, b, msg)
  if a ~= b then error(string.format('%s: got %s, expected %s', msg, vim.inspect(a), vim.inspect(b)), 2) end
end
-- T.wait(ms, cond, what): runs the event loop until cond() is true, or fails.
function T.wait(ms, cond, what)
  if not vim.wait(ms, cond, 5) then error('timeout waiting for ' .. what, 2) end
end
function T.tmpdir(tag)
  local base = os.getenv('SCRATCH') or '/tmp'
  return assert(uv.fs_mkdtemp(base .. '/uvr-nvim-' .. tag .. '-XXXXXX'))
end
function T.rmrf(p) vim.fn.delete(p, 'rf') end
T.notes = {}
function T.note(s) table.insert(T.notes, s) end

local function out(s) io.stdout:write(s .. '\n'); io.stdout:flush() end
local function finish(ok, msg)
  if not ok and getmetatable(msg) == SKIP then
    out('\nSKIP: ' .. msg.why)
    vim.cmd('qa!')
  elseif ok then
    out('\nok ' .. table.concat(T.notes, ' '))
    vim.cmd('qa!')
  else
    io.stderr:write('FAIL: ' .. tostring(msg) .. '\n'); io.stderr:flush()
    vim.cmd('cq')
  end
end
local ok, err = pcall(function()
  local want = os.getenv('EXPECT_LIBUV')
  if want then
    local got
    for line in io.lines('/proc/self/maps') do
      local p = line:match('(/%S*/libuv%.so[%S]*)')
      if p then got = p; break end
    end
    T.check(got and uv.fs_realpath(got) == uv.fs_realpath(want),
      string.format('libuv mapped is %s, expected %s', tostring(got), want))
  end
  dofile(assert(os.getenv('SCENARIO'), 'SCENARIO not set'))
end)
finish(ok, err)
