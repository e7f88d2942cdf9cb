-- Driven by tests/editors/test_neovim.py: the cycle keys in a real headless Neovim. The first
-- press asks the server for several suggestions (an invoked request); the next ones move
-- through them; Tab accepts the one shown. Observations go to TREELLAMA_TEST_RESULT.
local env = vim.env
local mode = env.TREELLAMA_TEST_MODE

local result = { mode = mode }
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local sleep, wait_until = driver.sleep, driver.wait_until

local treellama = require('treellama')
local ghost = require('treellama.ghost')
treellama.setup({
  cmd = driver.server_cmd(),
  ghost_text = mode,
  settings = { completion = { maxTokens = 32, suggestions = 3, maxPredictMs = 8000 } },
})
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()

-- Typed as a user types them: queued input that the main loop reads once this step yields.
local function press(keys)
  vim.api.nvim_input(keys)
  sleep(50)
end

local steps = coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if not result.attached then
    return driver.finish(result)
  end
  result.status = treellama.status(20000)
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('startinsert!')
  sleep(100)
  sleep(300) -- as a user would: the request that entering insert mode started has gone out
  press('<M-]>')
  result.shown = wait_until(function()
    return ghost.current_text(bufnr) ~= nil
  end, 90000)
  result.count, result.first_index = ghost.position(bufnr)
  result.seen = { ghost.current_text(bufnr) }
  for _ = 2, result.count do
    press('<M-]>')
    sleep(100)
    result.seen[#result.seen + 1] = ghost.current_text(bufnr)
  end
  press('<M-[>')
  sleep(100)
  local _, back_index = ghost.position(bufnr)
  result.back_index = back_index
  result.shown_text = ghost.current_text(bufnr)
  result.before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  press('<Tab>')
  sleep(300)
  result.after = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  driver.finish(result)
end)
steps()
