-- Driven by tests/editors/test_neovim.py: an agent task through the plugin in a real headless
-- Neovim, with a scripted agent model. Writes what it observed to TREELLAMA_TEST_RESULT.
local env = vim.env

local result = { nvim = tostring(vim.version()) }
local driver = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/driver.lua')
local finish = function()
  driver.finish(result)
end
local sleep, wait_until = driver.sleep, driver.wait_until

local function steps_text()
  local buf = vim.fn.bufnr('treellama://agent')
  return buf == -1 and '' or table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

local treellama = require('treellama')
local agent = require('treellama.agent')
treellama.setup({ cmd = driver.server_cmd() })
vim.cmd.edit(env.TREELLAMA_TEST_FILE)
local bufnr = vim.api.nvim_get_current_buf()

local steps = coroutine.wrap(function()
  result.attached = driver.wait_attached(bufnr)
  if not result.attached then
    return finish()
  end
  -- As a user types it, with a screenshot attached.
  vim.cmd('TreellamaAgent --image ' .. env.TREELLAMA_TEST_IMAGE .. ' --effort low --approval never fix add')
  result.done = wait_until(function()
    return steps_text():find('**done**', 1, true) ~= nil
  end, 60000)
  result.steps = steps_text()

  local shown
  agent.diff(function(status)
    shown = status
  end)
  wait_until(function()
    return shown ~= nil
  end, 10000)
  result.tabs = #vim.api.nvim_list_tabpages()
  result.diff_mode = vim.wo.diff
  result.after_buffer = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('tabonly')

  local applied
  agent.apply(function(answer)
    applied = answer
  end)
  wait_until(function()
    return applied ~= nil
  end, 10000)
  result.applied = applied and applied.applied
  vim.api.nvim_set_current_buf(bufnr)
  result.file_buffer = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')

  -- A second task that would run for a minute, cancelled from the editor.
  local handle = assert(io.open(env.TREELLAMA_TEST_AGENT_SCRIPT, 'w'))
  handle:write(vim.json.encode({
    vim.json.encode({ thought = '', tool = 'run_command', args = { command = 'sleep 60' } }),
  }))
  handle:close()
  local started
  agent.start('wait a minute', { effort = 'low', approvalPolicy = 'never' }, function(answer)
    started = answer
  end)
  wait_until(function()
    return started ~= nil and steps_text():find('sleep 60', 1, true) ~= nil
  end, 20000)
  local began = vim.uv.now()
  agent.cancel()
  local status
  wait_until(function()
    agent.status(function(answer)
      status = answer
    end)
    sleep(100)
    return status ~= nil and status.status == 'cancelled'
  end, 20000)
  result.cancelled = status and status.status
  result.cancel_ms = vim.uv.now() - began
  result.second_steps = steps_text()

  local stats
  treellama.stats(function(answer)
    stats = answer
  end)
  wait_until(function()
    return stats ~= nil
  end, 10000)
  local buf = vim.fn.bufnr('treellama://stats')
  result.stats = buf ~= -1 and table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') or nil
  finish()
end)

steps()
