-- Driven by tests/editors/test_neovim.py: with web.enabled, :TreellamaWeb finds the page's URL
-- with its token (vim.ui.open is replaced, so no browser starts; the test fetches the URL).
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local env = vim.env
local result = {}
local treellama = require('treellama')
treellama.setup({ cmd = driver.server_cmd() })
vim.ui.open = function(url)
  result.opened = url
end
-- The server says at start that the (deliberately) empty cache has no model. Shown by the
-- default vim.notify while :TreellamaWeb waits for its answer, that error message aborted
-- the command under load in CI; it is recorded instead.
result.notes = {}
vim.notify = function(message)
  table.insert(result.notes, message)
end
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()

coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if result.attached then
    driver.wait_until(function()
      return (treellama.web_url()) ~= nil
    end, 20000)
    vim.cmd('TreellamaWeb')
    if result.opened then -- what the browser would get: the redirect, the cookie, the page
      -- Asynchronously, with time limits: a blocking :wait() once hung the whole run in CI.
      local co = coroutine.running()
      local fetch = { 'curl', '-s', '--max-time', '20', '-L', '-b', '', result.opened }
      vim.system(fetch, { timeout = 30000 }, function(page)
        vim.schedule(function()
          driver.resume(co, page)
        end)
      end)
      result.page = coroutine.yield().stdout
    end
  end
  driver.finish(result)
end)()
