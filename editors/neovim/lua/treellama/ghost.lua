-- The plugin's own ghost text, for Neovim without vim.lsp.inline_completion (0.11):
-- debounced textDocument/inlineCompletion requests, stale ones cancelled, the suggestion shown
-- as virtual text (first line inline, the rest as virtual lines). It also shows the several
-- suggestions that the cycle keys ask for, with either kind of ghost text: typing sends an
-- automatic request (one suggestion, as fast as it comes); asking sends an invoked one, which
-- the server answers with up to completion.suggestions of them.

local M = {}

local ns = vim.api.nvim_create_namespace('treellama.ghost')
-- Per buffer: { timer, request_id, client, suggestion = { text, row, col, changedtick } }
local state = {}

local function buf_state(bufnr)
  state[bufnr] = state[bufnr] or {}
  return state[bufnr]
end

local function cancel_pending(s)
  if s.client and s.request_id then
    s.client:cancel_request(s.request_id)
  end
  s.request_id = nil
end

local function clear(bufnr)
  local s = buf_state(bufnr)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  s.suggestion = nil
end

local function show(bufnr, suggestion)
  clear(bufnr)
  local lines = vim.split(suggestion.text, '\n', { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], 'Comment' } }
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, suggestion.row, suggestion.col, {
    virt_text = { { lines[1], 'Comment' } },
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
  buf_state(bufnr).suggestion = suggestion
end

local AUTOMATIC, INVOKED = 2, 1 -- LSP InlineCompletionTriggerKind

local function item_text(item)
  return type(item.insertText) == 'table' and item.insertText.value or item.insertText
end

--- Requests suggestions for the cursor position in `bufnr`, replacing any pending request.
--- opts.invoked asks for several (the user asked); opts.index picks the one shown first.
function M.request(bufnr, opts)
  opts = opts or {}
  local client = require('treellama').client(bufnr)
  if not client then
    return false
  end
  local s = buf_state(bufnr)
  cancel_pending(s)
  if s.timer then
    s.timer:stop() -- a debounced request from typing would replace this one
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = opts.invoked and INVOKED or AUTOMATIC }
  local ok, request_id
  ok, request_id = client:request('textDocument/inlineCompletion', params, function(err, result)
    if s.request_id ~= nil and s.request_id ~= request_id then
      return
    end
    s.request_id = nil
    if err or not result then
      return
    end
    local items = {}
    for _, item in ipairs(result.items or result) do
      local text = item_text(item)
      if text and text ~= '' then
        items[#items + 1] = item
      end
    end
    if #items == 0 or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then
      return -- nothing to show, or the buffer changed meanwhile: this suggestion is stale
    end
    local index = ((opts.index or 1) - 1) % #items + 1
    local item = items[index]
    local id = item.command and item.command.arguments and item.command.arguments[1]
    show(bufnr, {
      text = item_text(item), row = row, col = col, changedtick = tick, id = id,
      items = items, index = index,
    })
    if id then
      client:notify('treellama/didShowCompletion', { id = id })
    end
  end, bufnr)
  if ok then
    s.client, s.request_id = client, request_id
  end
  return ok
end

--- Shows the next (step 1) or previous (step -1) suggestion at the cursor. The first press
--- asks the server for several; the next ones move through what it answered.
function M.cycle(bufnr, step)
  local suggestion = buf_state(bufnr).suggestion
  local fresh = suggestion and vim.api.nvim_buf_get_changedtick(bufnr) == suggestion.changedtick
  if fresh and suggestion.items and #suggestion.items > 1 then
    local index = (suggestion.index - 1 + step) % #suggestion.items + 1
    local item = suggestion.items[index]
    show(bufnr, vim.tbl_extend('force', suggestion, { text = item_text(item), index = index }))
    return true
  end
  return M.request(bufnr, { invoked = true, index = step > 0 and 2 or 0 })
end

--- How many suggestions are shown in turn at the cursor, and which one is shown.
function M.position(bufnr)
  local suggestion = buf_state(bufnr).suggestion
  if not suggestion then
    return 0, 0
  end
  return #(suggestion.items or { suggestion }), suggestion.index or 1
end

--- With Neovim's own ghost text the plugin's shows only what the cycle keys asked for; it
--- goes when the user types or leaves insert mode.
function M.clear_on_change(bufnr)
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'InsertLeave', 'BufLeave' }, {
    group = vim.api.nvim_create_augroup('treellama.ghost.clear.' .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      clear(bufnr)
    end,
  })
end

function M.current_text(bufnr)
  local suggestion = buf_state(bufnr).suggestion
  return suggestion and suggestion.text or nil
end

--- Accepts 'all' of the suggestion (the default), or its next 'word' or 'line'.
function M.accept(unit)
  local bufnr = vim.api.nvim_get_current_buf()
  local suggestion = buf_state(bufnr).suggestion
  if not suggestion or vim.api.nvim_buf_get_changedtick(bufnr) ~= suggestion.changedtick then
    return false
  end
  clear(bufnr)
  local text = require('treellama').part_of(suggestion.text, unit or 'all')
  local lines = vim.split(text, '\n', { plain = true })
  local client = require('treellama').client(bufnr)
  if client and suggestion.id then
    -- In the client's position encoding's units, as the server reads them.
    local length = vim.str_utfindex(text, client.offset_encoding)
    client:notify('treellama/didAcceptCompletion', { id = suggestion.id, acceptedLength = length })
  end
  vim.schedule(function()
    vim.api.nvim_buf_set_text(bufnr, suggestion.row, suggestion.col, suggestion.row, suggestion.col, lines)
    local last_row = suggestion.row + #lines
    local last_col = (#lines == 1 and suggestion.col or 0) + #lines[#lines]
    vim.api.nvim_win_set_cursor(0, { last_row, last_col })
  end)
  return true
end

function M.dismiss()
  local bufnr = vim.api.nvim_get_current_buf()
  local had = buf_state(bufnr).suggestion ~= nil
  cancel_pending(buf_state(bufnr))
  clear(bufnr)
  return had
end

function M.attach(bufnr, debounce_ms)
  local group = vim.api.nvim_create_augroup('treellama.ghost.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'InsertEnter' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local s = buf_state(bufnr)
      clear(bufnr)
      cancel_pending(s)
      if s.timer then
        s.timer:stop()
      end
      s.timer = s.timer or vim.uv.new_timer()
      s.timer:start(debounce_ms, 0, vim.schedule_wrap(function()
        if vim.api.nvim_get_mode().mode:sub(1, 1) == 'i' then
          M.request(bufnr)
        end
      end))
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss()
    end,
  })
end

return M
