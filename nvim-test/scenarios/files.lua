-- Files: writefile()/readfile() of 100k lines, the editor's :edit / :write / :saveas, and
-- vim.loop's async fs (open/write/read/fstat/close, scandir, rename, unlink) on 300 files.
local uv = vim.loop
local dir = T.tmpdir('files')
local lines = {}
for i = 1, 100000 do lines[i] = 'row ' .. i end
T.eq(vim.fn.writefile(lines, dir .. '/big.txt'), 0, 'writefile')
local back = vim.fn.readfile(dir .. '/big.txt')
T.eq(#back, 100000, 'readfile count')
T.eq(back[99999], 'row 99999', 'readfile content')
-- the editor: edit, change, write, saveas
vim.cmd('edit ' .. dir .. '/big.txt')
vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'changed first line' })
vim.cmd('write')
T.eq(vim.fn.readfile(dir .. '/big.txt', '', 1)[1], 'changed first line', ':write')
vim.cmd('saveas ' .. dir .. '/copy.txt')
T.eq(#vim.fn.readfile(dir .. '/copy.txt'), 100000, ':saveas')
vim.cmd('bwipeout!')
-- async fs via vim.loop, 300 files in parallel
local N, done = 300, 0
for i = 1, N do
  local p = string.format('%s/f%03d', dir, i)
  uv.fs_open(p, 'w', 420, function(err, fd)
    assert(not err, err)
    local data = string.rep(tostring(i), 1000)
    uv.fs_write(fd, data, 0, function(err2, n)
      assert(not err2 and n == #data, err2)
      uv.fs_close(fd, function()
        uv.fs_open(p, 'r', 0, function(err3, fd2)
          assert(not err3, err3)
          uv.fs_fstat(fd2, function(_, st)
            uv.fs_read(fd2, st.size, 0, function(err4, s)
              assert(not err4 and s == data, 'read back ' .. p)
              uv.fs_close(fd2, function()
                uv.fs_rename(p, p .. '.done', function(err5)
                  assert(not err5, err5)
                  done = done + 1
                end)
              end)
            end)
          end)
        end)
      end)
    end)
  end)
end
T.wait(20000, function() return done == N end, 'async fs on ' .. N .. ' files')
local count = 0
local sc = assert(uv.fs_scandir(dir))
while true do
  local name = uv.fs_scandir_next(sc)
  if not name then break end
  if name:match('%.done$') then count = count + 1 end
end
T.eq(count, N, 'scandir count')
local e1 = select(2, uv.fs_stat(dir .. '/missing'))
T.check(e1 and e1:match('ENOENT'), 'stat of a missing file: ' .. tostring(e1))
local unlinked = 0
for i = 1, N do uv.fs_unlink(string.format('%s/f%03d.done', dir, i), function(e) assert(not e, e); unlinked = unlinked + 1 end) end
T.wait(10000, function() return unlinked == N end, 'unlink')
T.rmrf(dir)
T.note(N .. ' async files')
