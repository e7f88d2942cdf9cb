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
      local page = vim.system({ 'curl', '-s', '-L', '-b', '', result.opened }):wait()
      result.page = page.stdout
    end
  end
  driver.finish(result)
end)()
