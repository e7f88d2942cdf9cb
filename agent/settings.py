"""Typed settings for agent tasks (the `[agent]` section of the configuration)."""

from __future__ import annotations

from dataclasses import dataclass, field

APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
SANDBOXES = ("auto", "bubblewrap", "landlock", "none")
EFFORTS = ("low", "medium", "high")
STRATEGIES = ("auto", "pipeline", "loop")


@dataclass(frozen=True)
class AgentSettings:
    # Codex's names: "untrusted" asks before anything but read-only commands, "on-failure"
    # asks to retry a failed command outside the sandbox, "on-request" asks when the model
    # asks to leave the sandbox, "never" never asks (what would need approval is refused).
    approval_policy: str = field(default="on-request", metadata={"choices": APPROVAL_POLICIES})
    # "auto" takes the strongest layer that works here; with none, every command needs approval.
    sandbox: str = field(default="auto", metadata={"choices": SANDBOXES})
    effort: str = field(default="medium", metadata={"choices": EFFORTS})
    # "pipeline": code finds the place and runs the tests, the model only writes candidates;
    # "loop": the model drives a tool loop; "auto": the pipeline, then the loop where the
    # model can use one (7B or more, or over HTTP) and budget remains.
    strategy: str = field(default="auto", metadata={"choices": STRATEGIES})
    # What the pipeline's candidates rewrite of a located Python function: "function", all
    # of it, or "body", the code without its docstring (shown apart and put back). Measured
    # on real library functions, the whole function does better (README, agent benchmark).
    rewrite_scope: str = field(default="function", metadata={"choices": ("body", "function")})
    # The "rewrite" and "fix" refactorings run the project's tests on their change (in the
    # sandbox) when the tests finish within this many seconds; 0: never.
    refactor_test_cap_s: int = field(default=60, metadata={"min": 0, "max": 3600})
    # A cap on steps below the effort's own (low 12, medium 25, high 50); 0: the effort's.
    max_steps: int = field(default=0, metadata={"min": 0, "max": 1000})
    # The command `run_tests` runs; empty: detected from the project (pytest, npm, cargo, go).
    test_command: str = ""
    command_timeout_s: int = field(default=120, metadata={"min": 1, "max": 3600})
    memory_mb: int = field(default=4096, metadata={"min": 64, "max": 1 << 20})
    cpu_s: int = field(default=300, metadata={"min": 1, "max": 86_400})
    max_file_mb: int = field(default=256, metadata={"min": 1, "max": 1 << 20})
    output_kb: int = field(default=16, metadata={"min": 1, "max": 1 << 16})
