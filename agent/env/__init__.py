"""Where a task's code runs: its copy of the workspace (worktree), the sandbox and the process
that starts every command in it (spawner), the project's test runners and their reports, and
what the failing tests ran (spectrum, line_trace)."""
