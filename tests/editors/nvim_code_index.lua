-- Driven by tests/editors/test_neovim.py: the code index through the plugin in a real headless
-- Neovim, with no model installed. Writes what it observed to TREELLAMA_TEST_RESULT.
local env = vim.env

local result = { nvim = tostring(vim.version()) }
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local finish = function()
  driver.finish(result)
end
local sleep, wait_until = driver.sleep, driver.wait_until

local treellama = require('treellama')
treellama.setup({ cmd = driver.server_cmd() })
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()

local steps = coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if not result.attached then
    return finish()
  end
  result.index_ready = wait_until(function()
    local status = treellama.status(2000)
    return status ~= nil and status.index.state == 'ready'
  end, 30000)

  -- Go to definition, through Neovim's own LSP client.
  local line = vim.fn.search('price = apply_discount') -- 1-based
  vim.api.nvim_win_set_cursor(0, { line, 16 })
  local params = vim.lsp.util.make_position_params(0, 'utf-16')
  local answers = vim.lsp.buf_request_sync(bufnr, 'textDocument/definition', params, 10000) or {}
  for _, answer in pairs(answers) do
    for _, location in ipairs(answer.result or {}) do
      result.definition = vim.uri_to_fname(location.uri) .. ':' .. location.range.start.line
    end
  end

  -- :TreellamaContext shows the ranked snippets in a scratch buffer.
  local shown = false
  treellama.context(function()
    shown = true
  end)
  wait_until(function()
    return shown
  end, 10000)
  local scratch = vim.fn.bufnr('treellama://context')
  result.context = scratch ~= -1 and table.concat(vim.api.nvim_buf_get_lines(scratch, 0, -1, false), '\n') or nil

  -- Rename across files, applied by Neovim.
  vim.cmd.wincmd('p')
  vim.api.nvim_win_set_cursor(0, { line, 16 })
  vim.lsp.buf.rename('discounted')
  wait_until(function()
    return vim.api.nvim_buf_get_lines(bufnr, line - 1, line, false)[1]:find('discounted') ~= nil
  end, 10000)
  result.renamed_line = vim.api.nvim_buf_get_lines(bufnr, line - 1, line, false)[1]
  local pricing = vim.fn.bufnr(env.TREELLAMA_TEST_PRICING)
  result.pricing_renamed = pricing ~= -1
    and table.concat(vim.api.nvim_buf_get_lines(pricing, 0, -1, false), '\n'):find('def discounted') ~= nil
  finish()
end)

vim.defer_fn(steps, 10)
vim.defer_fn(function()
  result.timed_out = true
  finish()
end, 90000)
