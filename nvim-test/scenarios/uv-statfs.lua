-- vim.uv.fs_statfs (uv_fs_statfs), synchronous and with a callback, on the scenario's folder (a
-- tmpfs in the Debian 13 chroot, the machine's /tmp on Debian 12), /proc and /dev: type, bsize,
-- blocks and files must be what `stat -f` (coreutils, its own statfs call) reports; free blocks
-- drop as 4 MiB are written on a tmpfs; ENOENT and ENOTDIR; 200 requests in flight at once.
local uv = T.uv
if not uv.fs_statfs then T.skip('no fs_statfs in this luv') end
local dir = T.tmpdir('statfs')
local function statf(p)
  local out = vim.fn.system({ 'stat', '-f', '-c', '%t %S %b %c', p })
  T.eq(vim.v.shell_error, 0, 'stat -f ' .. p)
  local t, S, b, c = out:match('^(%x+) (%d+) (%d+) (%d+)')
  return { type = tonumber(t, 16), bsize = tonumber(S), blocks = tonumber(b), files = tonumber(c) }
end
local function same(s, ref, what)
  T.eq(s.type, ref.type, what .. ': type')
  T.eq(s.bsize, ref.bsize, what .. ': bsize')
  T.eq(s.blocks, ref.blocks, what .. ': blocks')
  T.eq(s.files, ref.files, what .. ': files')
  T.check(s.bfree <= s.blocks and s.bavail <= s.bfree and s.ffree <= s.files, what .. ': free counts in range')
end
for _, p in ipairs({ dir, '/proc', '/dev' }) do
  local ref = statf(p)
  same(assert(uv.fs_statfs(p)), ref, 'sync ' .. p)
  local got
  uv.fs_statfs(p, function(err, s) assert(not err, err); got = s end)
  T.wait(5000, function() return got ~= nil end, 'async statfs of ' .. p)
  same(got, ref, 'async ' .. p)
end
T.eq(uv.fs_statfs('/proc').type, 0x9fa0, '/proc is PROC_SUPER_MAGIC')
local before = uv.fs_statfs(dir)
local fd = assert(uv.fs_open(dir .. '/fill', 'w', 420))
assert(uv.fs_write(fd, string.rep('x', 4 * 1024 * 1024), 0))
uv.fs_fsync(fd); uv.fs_close(fd)
local after = uv.fs_statfs(dir)
if before.type == 0x01021994 then
  T.check(before.bfree - after.bfree >= 4 * 1024 * 1024 / before.bsize,
    string.format('tmpfs bfree %d -> %d after 4 MiB', before.bfree, after.bfree))
end
local _, e1, n1 = uv.fs_statfs(dir .. '/missing')
T.eq(n1, 'ENOENT', 'statfs of a missing path (' .. tostring(e1) .. ')')
local _, e2, n2 = uv.fs_statfs(dir .. '/fill/x')
T.eq(n2, 'ENOTDIR', 'statfs below a file (' .. tostring(e2) .. ')')
local aerr
uv.fs_statfs(dir .. '/missing', function(err) aerr = err end)
T.wait(5000, function() return aerr ~= nil end, 'async statfs error')
T.check(aerr:match('^ENOENT'), 'async error: ' .. aerr)
local ref, n = statf(dir), 0
for _ = 1, 200 do
  uv.fs_statfs(dir, function(err, s)
    assert(not err, err)
    assert(s.type == ref.type and s.blocks == ref.blocks, 'parallel statfs value')
    n = n + 1
  end)
end
T.wait(10000, function() return n == 200 end, '200 statfs in flight')
T.rmrf(dir)
T.note(string.format('type 0x%x', ref.type))
