-- Agent tasks from Neovim: start, watch the live steps in a scratch buffer, steer, cancel,
-- review the result in diff mode, apply or discard it, read the log.
-- Approvals arrive as window/showMessageRequest, which Neovim shows with vim.ui.select.

local M = { task = nil }

local STEPS = 'treellama://agent'

local function treellama()
  return require('treellama')
end

local function steps_buffer()
  local buf = vim.fn.bufnr(STEPS)
  if buf == -1 then
    buf = treellama().show_scratch(STEPS, {}, 'markdown')
  end
  return buf
end

--- Appends lines to the steps buffer, and keeps its windows scrolled to the end.
function M.append(lines)
  local buf = steps_buffer()
  local count = vim.api.nvim_buf_line_count(buf)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ''
  vim.api.nvim_buf_set_lines(buf, empty and 0 or count, -1, false, lines)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

local function first_line(text)
  return (tostring(text or ''):gsub('\n.*', ''))
end

--- The handler for the server's `treellama/agentEvent` notifications.
function M.on_event(_, event)
  if type(event) ~= 'table' then
    return
  end
  local kind, step = event.kind, event.step or 0
  if kind == 'tool_call' then
    M.append({ ('- [%d/%d] `%s`'):format(step, event.maxSteps or 0, first_line(event.message)) })
  elseif kind == 'tool_result' then
    local ok = event.data and event.data.ok
    local text = (event.data and event.data.text) or event.message or ''
    local summary = first_line(text)
    if summary:sub(1, 3) == '$ (' then -- a command: its status line and its last line of output
      local lines = vim.tbl_filter(function(line)
        return line:find('%S') ~= nil
      end, vim.split(text, '\n'))
      summary = summary .. ' ' .. (lines[#lines] or '')
    end
    M.append({ ('    %s %s'):format(ok and '✓' or '✗', summary:sub(1, 160)) })
  elseif kind == 'image' then
    -- An image handed to the task, and the text read from it, as a quote.
    M.append({ '- image: ' .. first_line(event.message) })
    local text = event.data and event.data.text
    if type(text) == 'string' and text ~= '' then
      for _, line in ipairs(vim.split(text, '\n')) do
        M.append({ '    > ' .. line })
      end
    end
  elseif kind == 'reproduce' or kind == 'localize' or kind == 'candidate' or kind == 'chosen' then
    -- The pipeline's stages: what the tests say, where the change goes, each candidate.
    M.append({ ('- [%d/%d] %s: %s'):format(step, event.maxSteps or 0, kind, first_line(event.message)) })
  elseif kind == 'validate' then
    local green = event.data and event.data.green
    M.append({ ('    %s %s'):format(green and '✓' or '✗', first_line(event.message)) })
  elseif kind == 'diff' then
    M.append({ '    ' .. first_line(event.message) })
  elseif kind == 'done' or kind == 'failed' then
    M.append({ '', ('**%s**: %s'):format(kind, event.message or ''),
      kind == 'done' and 'Review with :TreellamaDiff, then :TreellamaApply or :TreellamaDiscard.'
        or 'Partial changes, if any: :TreellamaDiff, then :TreellamaApply or :TreellamaDiscard.' })
  else
    M.append({ ('  _%s_: %s'):format(kind, first_line(event.message)) })
  end
end

local function need_task()
  if not M.task then
    vim.notify('treellama: no agent task yet; start one with :TreellamaAgent', vim.log.levels.WARN)
    return false
  end
  return true
end

--- Starts a task; `opts` may carry effort and approvalPolicy.
function M.start(instruction, opts, on_started)
  if not instruction or instruction == '' then
    instruction = vim.fn.input('treellama agent: ')
  end
  if instruction == '' then
    return
  end
  local arg = vim.tbl_extend('force', { instruction = instruction }, opts or {})
  -- The buffer is ready before the request: the first steps may arrive before its answer.
  treellama().show_scratch(STEPS, { '# treellama agent: ' .. instruction, '' }, 'markdown')
  treellama().execute('treellama.agent.start', { arg }, function(result)
    M.task = result.taskId
    vim.api.nvim_buf_set_lines(steps_buffer(), 0, 1, false,
      { ('# treellama agent %s: %s'):format(result.taskId, instruction) })
    if result.status == 'refused' then
      M.append({ '**refused**: ' .. (result.message or '') })
    end
    if on_started then
      on_started(result)
    end
  end)
end

-- `:TreellamaAgent [--image PATH]... [--effort E] [--approval POLICY] instruction`.
function M.parse_command(args)
  local words, opts, images = vim.split(vim.trim(args or ''), '%s+', { trimempty = true }), {}, {}
  local rest, i = {}, 1
  while i <= #words do
    local word, value = words[i], words[i + 1]
    if word == '--image' and value then
      table.insert(images, { path = vim.fn.fnamemodify(vim.fn.expand(value), ':p') })
      i = i + 2
    elseif word == '--effort' and value then
      opts.effort, i = value, i + 2
    elseif word == '--approval' and value then
      opts.approvalPolicy, i = value, i + 2
    else
      table.insert(rest, word)
      i = i + 1
    end
  end
  if #images > 0 then
    opts.images = images
  end
  return table.concat(rest, ' '), opts
end

function M.command(args)
  local instruction, opts = M.parse_command(args)
  M.start(instruction, opts)
end

function M.steer(message)
  if not need_task() then
    return
  end
  if not message or message == '' then
    message = vim.fn.input('treellama steer: ')
  end
  treellama().execute('treellama.agent.steer', { { taskId = M.task, message = message } }, function()
    M.append({ '  _you_: ' .. message })
  end)
end

function M.cancel(on_cancelled)
  if not need_task() then
    return
  end
  treellama().execute('treellama.agent.cancel', { { taskId = M.task } }, function(result)
    M.append({ '', '**cancelled**' })
    if on_cancelled then
      on_cancelled(result)
    end
  end)
end

function M.status(on_status)
  if not need_task() then
    return
  end
  treellama().execute('treellama.agent.status', { { taskId = M.task } }, on_status)
end

--- Shows each changed file against the task's version of it, in diff mode, one tab each.
function M.diff(on_shown)
  M.status(function(status)
    if #(status.changes or {}) == 0 then
      vim.notify('treellama: the task changed no files (' .. status.status .. ')', vim.log.levels.INFO)
      return
    end
    for _, change in ipairs(status.changes) do
      vim.cmd('tabnew')
      local before = vim.api.nvim_get_current_buf()
      vim.bo[before].buftype = 'nofile'
      vim.api.nvim_buf_set_name(before, 'treellama://before/' .. change.path)
      vim.api.nvim_buf_set_lines(before, 0, -1, false, vim.split(change.before or '', '\n'))
      vim.cmd('diffthis')
      vim.cmd('vsplit')
      local after = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(after, 'treellama://after/' .. change.path)
      vim.api.nvim_buf_set_lines(after, 0, -1, false, vim.split(change.after or '', '\n'))
      vim.api.nvim_win_set_buf(0, after)
      vim.bo[after].filetype = vim.filetype.match({ filename = change.path }) or ''
      vim.bo[before].filetype = vim.bo[after].filetype
      vim.cmd('diffthis')
    end
    if on_shown then
      on_shown(status)
    end
  end)
end

--- Applies the result: the server sends it as workspace/applyEdit, which Neovim applies.
function M.apply(on_applied)
  if not need_task() then
    return
  end
  treellama().execute('treellama.agent.apply', { { taskId = M.task } }, function(result)
    local skipped = #(result.skipped or {}) > 0 and (' (skipped: ' .. table.concat(result.skipped, ', ') .. ')') or ''
    vim.notify(('treellama: %s%s'):format(result.applied and 'applied' or 'not applied', skipped))
    if on_applied then
      on_applied(result)
    end
  end)
end

function M.discard()
  if not need_task() then
    return
  end
  treellama().execute('treellama.agent.discard', { { taskId = M.task } }, function()
    vim.notify('treellama: discarded; your files are unchanged')
  end)
end

function M.log(on_shown)
  if not need_task() then
    return
  end
  treellama().execute('treellama.agent.log', { { taskId = M.task } }, function(result)
    treellama().show_scratch('treellama://agent-log', vim.split(result.text or '', '\n'), 'text')
    if on_shown then
      on_shown(result)
    end
  end)
end

return M
