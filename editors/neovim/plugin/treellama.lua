-- Commands that work once `require('treellama').setup{}` has run.
if vim.g.loaded_treellama then
  return
end
vim.g.loaded_treellama = true

vim.api.nvim_create_user_command('TreellamaStatus', function()
  local status, err = require('treellama').status()
  if not status then
    vim.notify('treellama: ' .. err, vim.log.levels.WARN)
    return
  end
  local model = status.model
  local line = ('treellama %s, model %s: %s'):format(status.version, model.name, model.state)
  if model.fix and model.fix ~= '' then
    line = line .. ' (fix: ' .. model.fix .. ')'
  end
  vim.notify(line)
end, { desc = 'Show the treellama server and model status' })

vim.api.nvim_create_user_command('TreellamaWeb', function()
  local url, err = require('treellama').web_url()
  if not url then
    vim.notify('treellama: ' .. err, vim.log.levels.WARN)
    return
  end
  if vim.ui.open then
    vim.ui.open(url)
  end
  vim.notify('treellama web: ' .. url)
end, { desc = "Open treellama's web page (agent tasks, statistics) with its token" })

vim.api.nvim_create_user_command('TreellamaExplain', function(opts)
  require('treellama').explain(opts.line1, opts.line2)
end, { range = true, desc = 'Explain the selected lines with the model' })

vim.api.nvim_create_user_command('TreellamaRewrite', function(opts)
  require('treellama').rewrite(opts.line1, opts.line2, opts.args)
end, { range = true, nargs = '*', desc = 'Rewrite the selected lines by an instruction' })

vim.api.nvim_create_user_command('TreellamaContext', function()
  require('treellama').context()
end, { desc = 'Show what retrieval puts in the prompt at the cursor, and why' })

vim.api.nvim_create_user_command('TreellamaStats', function()
  require('treellama').stats()
end, { desc = 'Show local completion statistics' })

local function agent()
  return require('treellama.agent')
end

vim.api.nvim_create_user_command('TreellamaAgent', function(opts)
  agent().command(opts.args)
end, {
  nargs = '*',
  complete = 'file',
  desc = 'Start an agent task ([--image PATH]... [--effort E] [--approval P] instruction); '
    .. 'its steps show in a scratch buffer',
})

vim.api.nvim_create_user_command('TreellamaSteer', function(opts)
  agent().steer(opts.args)
end, { nargs = '*', desc = 'Send the running agent task a message' })

vim.api.nvim_create_user_command('TreellamaCancel', function()
  agent().cancel()
end, { desc = 'Cancel the agent task' })

vim.api.nvim_create_user_command('TreellamaDiff', function()
  agent().diff()
end, { desc = "Review the agent task's changes in diff mode" })

vim.api.nvim_create_user_command('TreellamaApply', function()
  agent().apply()
end, { desc = "Apply the agent task's changes to your files" })

vim.api.nvim_create_user_command('TreellamaDiscard', function()
  agent().discard()
end, { desc = "Discard the agent task's changes" })

vim.api.nvim_create_user_command('TreellamaLog', function()
  agent().log()
end, { desc = "Show the agent task's log" })
