"""Who decides whether a command runs: the approval policy, the deny-list, and the user.

Policies keep Codex's names and meanings (see agent.settings). On top of any policy:
destructive commands always ask, and with no sandbox layer every command asks; under
"never", whatever would ask is refused instead. A user may answer "always allow" for a
command prefix; that holds for the rest of the session, but never for a destructive command.
"""

from __future__ import annotations

import shlex
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from agent.safety import destructive, read_only, simple_commands


class Decision(str, Enum):
    ALLOW = "allow"
    ALWAYS = "always"  # allow, and remember the command's prefix
    DENY = "deny"


@dataclass(frozen=True)
class ApprovalRequest:
    task_id: str
    command: str
    reason: str
    prefix: str
    outside_sandbox: bool = False


class Approver(Protocol):
    def ask(self, request: ApprovalRequest) -> Decision:
        """Blocks until the user answers."""
        ...


@dataclass(frozen=True)
class Verdict:
    run: bool
    confined: bool = True
    ask: str | None = None  # why the user must be asked first
    refused: str | None = None  # why it will not run at all


def command_prefix(command: str) -> str:
    """The part a user allows "always": the program, plus the subcommand for tools that have
    them (`git status`, `npm test`, `python -m pytest`)."""
    commands = simple_commands(command)
    if not commands:
        return command.strip()
    argv = commands[0]
    if len(argv) > 2 and argv[1] == "-m":
        return shlex.join(argv[:3])
    if (
        argv[0] in {"git", "npm", "npx", "cargo", "go", "uv", "pip", "make", "yarn", "pnpm"}
        and len(argv) > 1
    ):
        return shlex.join(argv[:2])
    return argv[0]


@dataclass
class ApprovalRules:
    policy: str
    layer: str  # the sandbox layer in use
    remembered: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, prefix: str) -> None:
        with self._lock:
            self.remembered.add(prefix)

    def _allowed_always(self, command: str) -> bool:
        with self._lock:
            remembered = set(self.remembered)
        commands = simple_commands(command)
        return bool(commands) and all(
            any(shlex.join(argv).startswith(prefix) for prefix in remembered) for argv in commands
        )

    def verdict(self, command: str, *, escalate: bool = False) -> Verdict:
        """Before running: may it run, confined or not, and must the user be asked?"""
        danger = destructive(command)
        if danger is not None:
            return self._ask_or_refuse(f"{danger}", confined=True)
        if self._allowed_always(command):
            return Verdict(run=True, confined=self.layer != "none")
        if self.layer == "none":
            return self._ask_or_refuse(
                "no sandbox is available, so every command is checked", confined=False
            )
        if escalate and self.policy == "on-request":
            return self._ask_or_refuse(
                "the agent asks to run this outside the sandbox", confined=False
            )
        if self.policy == "untrusted" and not read_only(command):
            return self._ask_or_refuse(
                "policy `untrusted` asks before commands that may write", confined=True
            )
        return Verdict(run=True, confined=True)

    def after_failure(self, command: str) -> Verdict | None:
        """Under `on-failure`, a command that failed in the sandbox may be retried outside it,
        if the user agrees."""
        if self.policy != "on-failure" or self.layer == "none" or destructive(command):
            return None
        return Verdict(
            run=False,
            confined=False,
            ask="it failed in the sandbox; run it again outside the sandbox?",
        )

    def _ask_or_refuse(self, why: str, *, confined: bool) -> Verdict:
        if self.policy == "never":
            return Verdict(run=False, refused=f"{why}, and the approval policy is `never`")
        return Verdict(run=False, confined=confined, ask=why)


class AllowAll:
    """Answers yes to everything: for benchmarks and tests that run in a throwaway copy."""

    def ask(self, request: ApprovalRequest) -> Decision:
        return Decision.ALLOW


class DenyAll:
    def ask(self, request: ApprovalRequest) -> Decision:
        return Decision.DENY
