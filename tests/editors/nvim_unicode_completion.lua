-- Driven by tests/editors/test_neovim.py in a real headless Neovim 0.12, with the client's own
-- default capabilities (no position encoding forced: Neovim offers utf-8 first). On a line with
-- é, ß, ö, € and 😀 before the cursor it types, then checks that the server's copy of the
-- document equals the buffer, that the ghost text sits at the cursor, and that Tab inserts it
-- there. Writes what it observed to TREELLAMA_TEST_RESULT; the Python test makes the assertions.
local env = vim.env
local result = { nvim = tostring(vim.version()) }
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local finish = function()
  driver.finish(result)
end
local sleep, wait_until = driver.sleep, driver.wait_until

local treellama = require('treellama')
treellama.setup({ cmd = driver.server_cmd(), settings = { completion = { maxTokens = 40 } } })
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()
local target = tonumber(env.TREELLAMA_TEST_LINE) -- 1-based
local typed = env.TREELLAMA_TEST_TYPED

local function buffer_text()
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') .. '\n'
end

local function server_document()
  local client = treellama.client(bufnr)
  local response = client:request_sync('workspace/executeCommand', {
    command = 'treellama.documentState',
    arguments = { { uri = vim.uri_from_bufnr(bufnr) } },
  }, 5000, bufnr)
  return response and response.result or { error = response and response.err }
end

local function ghost_marks()
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion'] or -1
  return vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
end

local function last_prompt(client)
  local last = client:request_sync(
    'workspace/executeCommand',
    { command = 'treellama.showLastPrompt', arguments = {} },
    5000,
    bufnr
  )
  return last and last.result or {}
end

local steps = coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if not result.attached then
    return finish()
  end
  local client = treellama.client(bufnr)
  result.offset_encoding = client.offset_encoding
  result.native = treellama.uses_native()
  result.status = treellama.status(20000)
  wait_until(function()
    local status = treellama.status(2000)
    return status and status.model.state ~= 'loading' and status.model.state ~= 'not_loaded'
  end, 60000)

  -- The cursor goes to the end of the line's `return `: columns are bytes in Neovim.
  local line = vim.api.nvim_buf_get_lines(bufnr, target - 1, target, false)[1]
  local byte_col = line:find('return ', 1, true) + #'return ' - 1
  vim.api.nvim_win_set_cursor(0, { target, byte_col })
  vim.cmd('startinsert')
  sleep(200)
  -- Typed as a user types: each key is an incremental didChange after the non-ASCII text.
  vim.api.nvim_feedkeys(typed, 't', false)
  sleep(300)
  result.editor_mode = vim.api.nvim_get_mode().mode
  result.cursor = vim.api.nvim_win_get_cursor(0)
  result.line_typed = vim.api.nvim_buf_get_lines(bufnr, target - 1, target, false)[1]
  result.buffer_sha256 = vim.fn.sha256(buffer_text())
  result.server = server_document()

  result.shown = wait_until(function()
    return #ghost_marks() > 0
  end, 60000)
  local marks = ghost_marks()
  if marks[1] then
    result.ghost_row, result.ghost_col = marks[1][2], marks[1][3]
    local pieces = {}
    for _, chunk in ipairs(marks[1][4].virt_text or {}) do
      pieces[#pieces + 1] = chunk[1]
    end
    result.ghost_text = table.concat(pieces)
  end
  result.cursor_at_ghost = vim.api.nvim_win_get_cursor(0)
  local shown = last_prompt(client) -- the request whose suggestion is on screen
  result.prompt, result.completion = shown.prompt, shown.completion
  -- Tab, through the plugin's real insert-mode mapping.
  vim.api.nvim_feedkeys(vim.keycode('<Tab>'), 'mt', false)
  sleep(500)
  result.line_after_tab = vim.api.nvim_buf_get_lines(bufnr, target - 1, target, false)[1]
  result.buffer_sha256_after = vim.fn.sha256(buffer_text())
  sleep(300)
  result.server_after = server_document()
  vim.cmd('stopinsert')
  finish()
end)

vim.defer_fn(steps, 0)
