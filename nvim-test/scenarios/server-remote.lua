-- Neovim 0.10's remote client against a --listen server (both on the same libuv): --remote-expr
-- prints the value, --remote-send types keys, --remote opens a file in the server; each checked
-- by asking the server over RPC (sockconnect + rpcrequest).
if vim.fn.has('nvim-0.10') == 0 then T.skip('--remote-expr/--remote-send as tested here are Neovim 0.10\'s') end
local dir = T.tmpdir('remote')
local sock = dir .. '/server.sock'
local job = vim.fn.jobstart({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--listen', sock })
-- connected once the server listens (it binds the socket file first)
local ch
T.wait(10000, function()
  local ok, r = pcall(vim.fn.sockconnect, 'pipe', sock, { rpc = true })
  if ok and r > 0 then ch = r end
  return ch ~= nil
end, 'the server to listen')
local function remote(...)
  local r = vim.system({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--server', sock, ... }, { text = true }):wait()
  return r.stdout, r.code
end
local out, code = remote('--remote-expr', '6 * 7')
T.eq(code, 0, '--remote-expr exit code'); T.eq(out, '42', '--remote-expr output')
out, code = remote('--remote-send', ':let g:uvr_sent = 5 * 5<CR>')
T.eq(code, 0, '--remote-send exit code')
T.wait(5000, function() return vim.fn.rpcrequest(ch, 'nvim_eval', "get(g:, 'uvr_sent', 0)") == 25 end, 'keys sent arrive')
vim.fn.writefile({ 'remote file' }, dir .. '/f.txt')
out, code = remote('--remote', dir .. '/f.txt')
T.eq(code, 0, '--remote exit code')
T.wait(5000, function() return vim.fn.rpcrequest(ch, 'nvim_eval', 'getline(1)') == 'remote file' end, 'file opened in the server')
T.eq(vim.fn.rpcrequest(ch, 'nvim_eval', "expand('%:t')"), 'f.txt', 'buffer name in the server')
vim.fn.rpcnotify(ch, 'nvim_command', 'qa!')
T.eq(vim.fn.jobwait({ job }, 10000)[1], 0, 'server exit code')
T.rmrf(dir)
