-- vim.loop fs_event on a folder (create, rename, delete) and on a file (change), and fs_poll.
local uv = vim.loop
local dir = T.tmpdir('fsev')
local seen = {}
local ev = uv.new_fs_event()
ev:start(dir, {}, function(err, name, events)
  assert(not err, err)
  seen[name] = (seen[name] or '') .. (events.rename and 'R' or '') .. (events.change and 'C' or '')
end)
vim.wait(50)
vim.fn.writefile({ 'a' }, dir .. '/new.txt')
uv.fs_rename(dir .. '/new.txt', dir .. '/moved.txt')
T.wait(5000, function() return seen['new.txt'] and seen['moved.txt'] end, 'fs_event create/rename')
ev:stop(); ev:close()
local f = dir .. '/watched'
vim.fn.writefile({ 'x' }, f)
local changed = false
local ev2 = uv.new_fs_event()
ev2:start(f, {}, function(err, _, events) assert(not err, err); if events.change then changed = true end end)
vim.wait(50)
vim.fn.writefile({ 'y' }, f, 'a')
T.wait(5000, function() return changed end, 'fs_event change on a file')
ev2:stop(); ev2:close()
local polled = false
local fp = uv.new_fs_poll()
fp:start(f, 50, function(err, prev, curr)
  assert(not err, err)
  if curr.size ~= prev.size then polled = true end
end)
vim.wait(120)
vim.fn.writefile({ 'zzzz' }, f, 'a')
T.wait(5000, function() return polled end, 'fs_poll size change')
fp:stop(); fp:close()
T.rmrf(dir)
