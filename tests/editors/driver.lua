-- What every Neovim test driver needs: the plugin on the runtime path, coroutine-friendly
-- sleeps and waits (timers resume the steps, so Neovim's main loop runs in between), and
-- writing the observations to TREELLAMA_TEST_RESULT for the Python test to check.
local M = {}

vim.opt.rtp:prepend(vim.env.TREELLAMA_TEST_PLUGIN)
vim.cmd('runtime plugin/treellama.lua')

function M.finish(result)
  result.messages = result.messages or vim.fn.execute('messages')
  local handle = assert(io.open(vim.env.TREELLAMA_TEST_RESULT, 'w'))
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd('qall!')
end

-- Resumes a driver's coroutine from a callback. coroutine.resume returns an error rather than
-- raising it, and a driver that died there left Neovim running until the test's 180 s timeout:
-- the error is written as the result instead, and Neovim quits.
function M.resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    M.finish({ error = debug.traceback(co, tostring(err)) })
  end
end

function M.sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function()
    M.resume(co)
  end, ms)
  coroutine.yield()
end

function M.wait_until(predicate, timeout_ms)
  local waited = 0
  while not predicate() do
    if waited >= timeout_ms then
      return false
    end
    M.sleep(50)
    waited = waited + 50
  end
  return true
end

-- The server command the Python test chose (TREELLAMA_SERVER_CMD), as the plugin's `cmd`.
function M.server_cmd()
  return vim.split(vim.env.TREELLAMA_SERVER_CMD, ' ', { plain = true })
end

-- Inside the steps: waits until the server has attached to `bufnr` (30 s at most).
function M.wait_attached(bufnr)
  return M.wait_until(function()
    return require('treellama').client(bufnr) ~= nil
  end, 30000)
end

return M
