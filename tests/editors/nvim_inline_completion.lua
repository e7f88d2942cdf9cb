-- Driven by tests/editors/test_neovim.py in a real headless Neovim:
--   nvim --headless --clean -c "luafile this.lua"   with TREELLAMA_TEST_* in the environment.
-- The steps run in a coroutine resumed by timers, so that Neovim's main loop really enters
-- insert mode and the real autocommands (InsertEnter, CursorMovedI) fire in between.
-- Writes what it observed to TREELLAMA_TEST_RESULT; the Python test makes the assertions.
local env = vim.env
local mode = env.TREELLAMA_TEST_MODE -- 'native' (vim.lsp.inline_completion) or 'virtual'

local result = { mode = mode, nvim = tostring(vim.version()) }
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local finish = function()
  driver.finish(result)
end
local sleep, wait_until = driver.sleep, driver.wait_until

local treellama = require('treellama')
treellama.setup({
  cmd = driver.server_cmd(),
  ghost_text = mode,
  settings = { completion = { maxTokens = 40 } },
})
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()

local function shown_text()
  if result.native then
    local native_ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion'] or -1
    local marks = vim.api.nvim_buf_get_extmarks(bufnr, native_ns, 0, -1, { details = true })
    if #marks == 0 then
      return nil
    end
    local pieces = {}
    for _, mark in ipairs(marks) do
      for _, chunk in ipairs(mark[4].virt_text or {}) do
        pieces[#pieces + 1] = chunk[1]
      end
      for _, line in ipairs(mark[4].virt_lines or {}) do
        pieces[#pieces + 1] = '\n'
        for _, chunk in ipairs(line) do
          pieces[#pieces + 1] = chunk[1]
        end
      end
    end
    return table.concat(pieces)
  end
  return treellama.current_suggestion()
end

local steps = coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if not result.attached then
    return finish()
  end
  result.native = treellama.uses_native()
  result.status = treellama.status(20000)

  -- Into the empty body of fibonacci() (line 5), at the end of its indentation, typing.
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.cmd('startinsert!')
  sleep(100)
  result.editor_mode = vim.api.nvim_get_mode().mode
  result.cursor = vim.api.nvim_win_get_cursor(0)

  result.shown = wait_until(function()
    return shown_text() ~= nil
  end, 60000)
  result.suggestion = shown_text()
  result.before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  result.accepted = treellama.accept()
  sleep(300)
  result.after = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  -- Again from the same place, now taking only the next word.
  vim.cmd('stopinsert')
  sleep(200) -- leaving insert mode takes effect once this callback yields
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, result.before)
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  sleep(200)
  vim.cmd('startinsert!')
  sleep(100)
  result.mode_again = vim.api.nvim_get_mode().mode
  result.shown_again = wait_until(function()
    return shown_text() ~= nil
  end, 60000)
  result.suggestion_again = shown_text()
  result.word = treellama.part_of(result.suggestion_again or '', 'word')
  result.accepted_word = treellama.accept_part('word')
  sleep(300)
  result.after_word = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  finish()
end)

vim.defer_fn(steps, 0)
