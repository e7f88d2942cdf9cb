-- Driven by tests/editors/test_neovim.py: :checkhealth treellama, its report written out.
vim.opt.rtp:prepend(vim.env.TREELLAMA_TEST_PLUGIN)
vim.cmd('runtime plugin/treellama.lua')
require('treellama').setup({ cmd = vim.split(vim.env.TREELLAMA_SERVER_CMD, ' ', { plain = true }) })
vim.cmd('checkhealth treellama')
local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
local h = io.open(vim.env.TREELLAMA_TEST_RESULT, 'w'); h:write(table.concat(lines, '\n')); h:close()
vim.cmd('qall!')
