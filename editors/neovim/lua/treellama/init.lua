-- treellama for Neovim: starts `treellama serve` through vim.lsp.config/vim.lsp.enable
-- (Neovim >= 0.11) and shows its inline completions as ghost text.
--
-- On Neovim 0.12+ the built-in vim.lsp.inline_completion renders the suggestions; on 0.11
-- the plugin's own ghost text (lua/treellama/ghost.lua) does, with the same keys.

local M = {}

local defaults = {
  -- The server command; a list, as vim.lsp.config expects.
  cmd = { 'treellama', 'serve' },
  -- nil attaches to every file type.
  filetypes = nil,
  root_markers = { 'treellama.toml', '.git' },
  -- Sent as initializationOptions, e.g. { completion = { maxLines = 4 }, model = { name = '...' } }.
  settings = {},
  -- 'auto' uses vim.lsp.inline_completion when Neovim has it; 'virtual' forces the plugin's own.
  ghost_text = 'auto',
  -- Debounce for the plugin's own ghost text, in milliseconds.
  debounce_ms = 150,
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    dismiss = '<C-]>',
    trigger = '<M-\\>',
    -- Show the next / previous suggestion; the first press asks for several (as VS Code's
    -- Alt+] does), the server decoding them side by side from one prompt.
    next = '<M-]>',
    previous = '<M-[>',
  },
}

M.config = vim.deepcopy(defaults)

local function native_available()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

function M.uses_native()
  if M.config.ghost_text == 'virtual' then
    return false
  end
  return native_available()
end

--- The treellama client attached to a buffer, if any.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'treellama' })[1]
end

--- Accepts the suggestion shown in the current buffer. Returns true if one was accepted.
function M.accept()
  if M.uses_native() and vim.lsp.inline_completion.get() then
    return true
  end
  return require('treellama.ghost').accept() -- also what the cycle keys showed
end

--- Shows the next (step 1) or previous (step -1) of several suggestions at the cursor.
function M.cycle(step)
  local bufnr = vim.api.nvim_get_current_buf()
  local ghost = require('treellama.ghost')
  if M.uses_native() and ghost.current_text(bufnr) == nil then
    M.dismiss() -- Neovim's own shows one; the plugin's shows the several in turn
  end
  return ghost.cycle(bufnr, step or 1)
end

--- The part of a suggestion that accepting a 'word', a 'line' or 'all' of it takes.
function M.part_of(text, unit)
  if unit == 'word' then
    return text:match('^%s*[^%s]+') or text
  elseif unit == 'line' then
    local newline = text:find('\n', 1, true)
    return newline and text:sub(1, newline) or text
  end
  return text
end

--- Accepts the next word or line of the suggestion, and tells the server how much was kept.
function M.accept_part(unit)
  local ghost = require('treellama.ghost')
  if not M.uses_native() or ghost.current_text(vim.api.nvim_get_current_buf()) then
    return ghost.accept(unit)
  end
  return vim.lsp.inline_completion.get({
    on_accept = function(item)
      local text = type(item.insert_text) == 'string' and item.insert_text or item.insert_text.value
      local part = M.part_of(text, unit)
      local lines = vim.split(part, '\n', { plain = true })
      local bufnr = vim.api.nvim_get_current_buf()
      local row, col
      if item.range then
        row, col = item.range.start.row, item.range.start.col
        vim.api.nvim_buf_set_text(bufnr, row, col, item.range.end_.row, item.range.end_.col, lines)
      else
        local cursor = vim.api.nvim_win_get_cursor(0)
        row, col = cursor[1] - 1, cursor[2]
        vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
      end
      vim.api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
      local id = item.command and item.command.arguments and item.command.arguments[1]
      local client = vim.lsp.get_client_by_id(item.client_id)
      if client and id then
        -- In the client's position encoding's units, as the server reads them.
        local length = vim.str_utfindex(part, client.offset_encoding)
        client:notify('treellama/didAcceptCompletion', { id = id, acceptedLength = length })
      end
    end,
  })
end

--- Hides the suggestion shown in the current buffer.
function M.dismiss()
  local had_ghost = require('treellama.ghost').dismiss()
  if M.uses_native() then
    local bufnr = vim.api.nvim_get_current_buf()
    -- Disabling clears the shown item; enabling again resumes suggestions on the next keystroke.
    vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    return true
  end
  return had_ghost
end

--- Asks for suggestions at the cursor now (several, as the user asked).
function M.trigger()
  return require('treellama.ghost').request(vim.api.nvim_get_current_buf(), { invoked = true })
end

--- The suggestion text currently shown by the plugin's own ghost text, or nil.
function M.current_suggestion()
  return require('treellama.ghost').current_text(vim.api.nvim_get_current_buf())
end

--- The web page's URL with its token, or nil and why (web.enabled must be set).
function M.web_url()
  local status, err = M.status()
  if not status then
    return nil, err
  end
  if status.web == nil or status.web == vim.NIL then
    return nil, 'the web page is off: set web.enabled = true (treellama.toml or setup{settings})'
  end
  return status.web.url
end

--- Runs `treellama.status` on the server and returns the result (synchronously).
function M.status(timeout_ms)
  local client = M.client(0)
  if not client then
    return nil, 'treellama is not attached to this buffer'
  end
  local response = client:request_sync(
    'workspace/executeCommand',
    { command = 'treellama.status', arguments = {} },
    timeout_ms or 2000,
    0
  )
  if not response then
    return nil, 'no answer from treellama'
  end
  if response.err then
    return nil, response.err.message
  end
  return response.result
end

--- Runs a treellama command on the server; `on_result(result)` gets its answer.
function M.execute(command, arguments, on_result)
  -- From a scratch buffer (the agent's steps, say) any treellama client will do.
  local client = M.client(0) or vim.lsp.get_clients({ name = 'treellama' })[1]
  if not client then
    vim.notify('treellama is not attached to this buffer', vim.log.levels.WARN)
    return
  end
  client:request('workspace/executeCommand', { command = command, arguments = arguments },
    function(err, result)
      if err then
        vim.notify('treellama: ' .. err.message, vim.log.levels.WARN)
        return
      end
      on_result(result)
    end, 0)
end

local function selection_arg(line1, line2)
  return {
    uri = vim.uri_from_bufnr(0),
    range = { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = 0 } },
  }
end

--- Shows lines in a scratch buffer in a split, reusing it by name.
function M.show_scratch(name, lines, filetype)
  local buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].filetype = filetype or 'markdown'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  if vim.fn.bufwinid(buf) == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  end
  return buf
end

--- Explains lines line1..line2 of the current buffer in a floating window.
function M.explain(line1, line2)
  M.execute('treellama.explain', { selection_arg(line1, line2) }, function(result)
    local lines = vim.split(result.markdown or '', '\n')
    vim.lsp.util.open_floating_preview(lines, 'markdown', { border = 'rounded', focus_id = 'treellama' })
  end)
end

--- Rewrites lines line1..line2 by an instruction; the edit comes back as workspace/applyEdit.
function M.rewrite(line1, line2, instruction)
  if not instruction or instruction == '' then
    instruction = vim.fn.input('treellama rewrite: ')
  end
  if instruction == '' then
    return
  end
  local arg = selection_arg(line1, line2)
  arg.instruction = instruction
  M.execute('treellama.rewrite', { arg }, function(result)
    if not result.applied then
      vim.notify('treellama: the rewrite was not applied', vim.log.levels.INFO)
    end
  end)
end

--- What retrieval would put in the prompt at the cursor, and why, in a scratch buffer.
function M.context(on_shown)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local arg = { uri = vim.uri_from_bufnr(0), position = { line = cursor[1] - 1, character = cursor[2] } }
  M.execute('treellama.showContext', { arg }, function(result)
    local lines = {
      ('# treellama context (%s ms%s; in the prompt: %s)'):format(
        result.elapsedMs, result.timedOut and ', cut at the time cap' or '',
        result.retrievalInPrompt and 'yes' or 'no'),
    }
    for _, snippet in ipairs(result.snippets or {}) do
      table.insert(lines, '')
      table.insert(lines, ('## %s:%d  %s  (score %s)'):format(
        snippet.path, snippet.startLine + 1, snippet.kind, snippet.score))
      table.insert(lines, '_' .. snippet.reason .. '_')
      table.insert(lines, '```')
      vim.list_extend(lines, vim.split(snippet.text, '\n'))
      table.insert(lines, '```')
    end
    for _, chunk in ipairs(result.recent or {}) do
      table.insert(lines, '')
      table.insert(lines, ('## %s  (recently %s)'):format(chunk.path, chunk.source))
    end
    M.show_scratch('treellama://context', lines, 'markdown')
    if on_shown then
      on_shown(result)
    end
  end)
end

--- Local completion statistics (`treellama.stats`) in a scratch buffer.
function M.stats(on_shown)
  M.execute('treellama.stats', {}, function(result)
    local lines = { '# treellama statistics (kept on this machine only)', '' }
    local rate = result.acceptanceRate ~= vim.NIL and result.acceptanceRate or nil -- JSON null
    table.insert(lines, ('- completions: %d (%d with a suggestion), shown %d, accepted %d (%d partly)%s'):format(
      result.completions or 0, result.nonEmpty or 0, result.shown or 0, result.accepted or 0,
      result.partialAccepts or 0, rate and (', acceptance rate %d%%'):format(math.floor(rate * 100 + 0.5)) or ''))
    for source, latency in pairs(result.latencyMs or {}) do
      table.insert(lines, ('- latency %s: n=%d, p50 %s ms, p95 %s ms'):format(source, latency.n, latency.p50, latency.p95))
    end
    M.show_scratch('treellama://stats', lines, 'markdown')
    if on_shown then
      on_shown(result)
    end
  end)
end

local function map_keys(bufnr)
  local keys = M.config.keymaps
  local function map(lhs, fn, desc, fallback)
    if not lhs or lhs == '' then
      return
    end
    vim.keymap.set('i', lhs, function()
      if fn() then
        return ''
      end
      return fallback and vim.api.nvim_replace_termcodes(lhs, true, false, true) or ''
    end, { buffer = bufnr, expr = true, desc = desc })
  end
  map(keys.accept, M.accept, 'treellama: accept the suggestion', true)
  map(keys.accept_word, function()
    return M.accept_part('word')
  end, 'treellama: accept the next word of the suggestion', true)
  map(keys.accept_line, function()
    return M.accept_part('line')
  end, 'treellama: accept the next line of the suggestion', true)
  map(keys.dismiss, M.dismiss, 'treellama: dismiss the suggestion', true)
  -- Not <expr> mappings: those run under textlock, where sending an LSP request fails.
  local function command(lhs, fn, desc)
    if lhs and lhs ~= '' then
      vim.keymap.set('i', lhs, fn, { buffer = bufnr, desc = desc })
    end
  end
  command(keys.trigger, M.trigger, 'treellama: suggest now')
  command(keys.next, function()
    M.cycle(1)
  end, 'treellama: show the next suggestion')
  command(keys.previous, function()
    M.cycle(-1)
  end, 'treellama: show the previous suggestion')
end

local function send_yanks(client, bufnr)
  vim.api.nvim_create_autocmd('TextYankPost', {
    group = vim.api.nvim_create_augroup('treellama.yank.' .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      local text = table.concat(vim.v.event.regcontents or {}, '\n')
      if text:find('%S') then
        client:notify('treellama/didYank', { uri = vim.uri_from_bufnr(bufnr), text = text })
      end
    end,
  })
end

-- Where the cursor rests (a moment after it stops, and on entering the buffer): the server
-- reads that prompt into the model's cache before the first keystroke there.
local REST_MS = 400

local function send_rests(client, bufnr)
  local timer = vim.uv.new_timer()
  vim.api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'BufEnter' }, {
    group = vim.api.nvim_create_augroup('treellama.rest.' .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      timer:stop()
      timer:start(REST_MS, 0, vim.schedule_wrap(function()
        if vim.api.nvim_get_current_buf() ~= bufnr or client:is_stopped() then
          return
        end
        local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
        client:notify('treellama/didRestCursor', { uri = params.textDocument.uri, position = params.position })
      end))
    end,
  })
end

local function on_attach(client, bufnr)
  send_yanks(client, bufnr)
  send_rests(client, bufnr)
  if M.uses_native() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
    require('treellama.ghost').clear_on_change(bufnr)
  else
    require('treellama.ghost').attach(bufnr, M.config.debounce_ms)
  end
  map_keys(bufnr)
end

function M.setup(opts)
  if vim.fn.has('nvim-0.11') ~= 1 then
    vim.notify('treellama needs Neovim 0.11 or newer', vim.log.levels.ERROR)
    return
  end
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  vim.lsp.config('treellama', {
    cmd = M.config.cmd,
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = { treellama = M.config.settings },
    settings = { treellama = M.config.settings },
    on_attach = on_attach,
    handlers = { ['treellama/agentEvent'] = require('treellama.agent').on_event },
  })
  vim.lsp.enable('treellama')
end

return M
