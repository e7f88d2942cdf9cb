-- :checkhealth treellama: Neovim, the server command, `treellama doctor`, and the client.
local M = {}

function M.check()
  local health = vim.health
  health.start('treellama')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11 or newer is needed', { 'upgrade Neovim' })
  end
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    health.ok('ghost text: Neovim\'s own vim.lsp.inline_completion')
  else
    health.info('ghost text: the plugin\'s own (Neovim 0.12 has a built-in one)')
  end

  local cmd = require('treellama').config.cmd
  local exe = cmd[1]
  if vim.fn.executable(exe) ~= 1 then
    health.error(('server command not found: %s'):format(exe), {
      'install treellama (`make model` in its checkout, or `pip install`), then set `cmd` in setup()',
    })
    return
  end
  health.ok('server command: ' .. table.concat(cmd, ' '))

  -- `treellama doctor` checks Python, llama.cpp, the model, the grammars and the sandbox.
  local doctor = { exe }
  for i = 2, #cmd - 1 do -- keep e.g. `python -m lsp_server`, drop the final `serve`
    doctor[#doctor + 1] = cmd[i]
  end
  doctor[#doctor + 1] = 'doctor'
  local done = vim.system(doctor, { text = true }):wait(60000)
  for line in ((done.stdout or '') .. (done.stderr or '')):gmatch('[^\n]+') do
    local mark, rest = line:match('^%[(%S+)%s*%]%s*(.*)$')
    if mark == 'ok' then
      health.ok(rest)
    elseif mark == 'FAIL' then
      health.error(rest)
    elseif line:match('^%s+fix:') then
      health.info(vim.trim(line))
    elseif line:match('^%[warn%]') then
      health.warn(line)
    end
  end

  local client = vim.lsp.get_clients({ name = 'treellama' })[1]
  if client then
    health.ok(('client attached (id %d), root %s'):format(client.id, client.root_dir or '?'))
  else
    health.info('no treellama client attached yet: open a file in a project')
  end
end

return M
