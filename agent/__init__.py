"""Agent tasks: the Codex-style loop, its tools, sandbox and approvals."""
