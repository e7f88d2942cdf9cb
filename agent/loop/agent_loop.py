"""The agent loop, small on purpose (after mini-swe-agent): ask the model for one tool call,
run it, show the result, repeat, until the model calls `finish` or a limit is reached.

Control flow uses typed exceptions: Submitted (done), LimitExceeded, TaskCancelled, and
FormatError for a reply that is not a valid call (fed back to the model; not fatal).
Steering messages enter at the next step. Near the context limit the conversation is
compacted: the task, the plan, a hand-off summary written by the model, and the latest
exchanges are kept.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.loop.tool_calls import TOOLS, FormatError, call_grammar, parse_call
from agent.loop.tools import Submitted, ToolContext, run_tool
from agent.model import AgentModel
from agent.task_run import Event, TaskCancelled, TaskRun
from agent.trajectory import Trajectory


class LimitExceeded(Exception):
    """A step, token or wall-time budget ran out."""


@dataclass(frozen=True)
class Budget:
    max_steps: int
    max_tokens: int
    max_wall_s: float
    plan_steps: int  # 0: no planning step
    reply_tokens: int = 768


BUDGETS = {
    "low": Budget(max_steps=12, max_tokens=60_000, max_wall_s=600, plan_steps=0),
    "medium": Budget(max_steps=25, max_tokens=150_000, max_wall_s=1800, plan_steps=4),
    "high": Budget(max_steps=50, max_tokens=400_000, max_wall_s=3600, plan_steps=8),
}
REPEATED = (
    "\n\nYou made this same call last step and got the same result. Do something different "
    "(the next step cannot use {tool}): read the code involved, change it with edit_file, or "
    "finish."
)
COMPACT_AT = 0.7  # of the model's context
KEEP_EXCHANGES = 2
MAX_FORMAT_ERRORS = 4


@dataclass(frozen=True)
class Outcome:
    status: str  # done, failed, cancelled
    summary: str
    steps: int
    tokens: int
    seconds: float


SYSTEM = """You are treellama's coding agent. You work in an isolated copy of the user's project \
and change it to complete the user's task, one tool call at a time.

Reply with exactly one JSON object and nothing else:
{{"thought": "<one short sentence: what you do next and why>", "tool": "<tool>", "args": {{...}}}}
For example:
{{"thought": "Look at the function the failing test calls.", "tool": "find_symbol", "args": {{"name": "parse_date"}}}}
Code never goes inside the JSON. An edit names the file in the JSON, then gives the lines to replace and their replacement in two fenced blocks:
{{"thought": "Subtract instead of adding.", "tool": "edit_file", "args": {{"path": "calc.py"}}}}
```old
    return a + b
```
```new
    return a - b
```

Tools:
{tools}

How to work:
- Start from the test results below, or read the files the task names.
- Look before you change: read the files involved (read_file) and find definitions (find_symbol).
- Change code with edit_file: the old block must be lines copied exactly from the file, a few whole lines.
- After changing code, run the tests (run_tests) and fix what fails.
- Make the smallest change that does the task. Keep the project's style.
- Never weaken or delete a test to make it pass: fix the code it tests.
- When the task is done and the tests pass, call finish with a short summary."""  # noqa: E501


def system_prompt(project_instructions: str) -> str:
    text = SYSTEM.format(tools="\n".join(tool.usage() for tool in TOOLS))
    if project_instructions:
        text += f"\n\nThe project's instructions (AGENTS.md):\n{project_instructions}"
    return text


class AgentLoop(TaskRun):
    def __init__(
        self,
        model: AgentModel,
        context: ToolContext,
        instruction: str,
        *,
        budget: Budget,
        project_instructions: str = "",
        overview: str = "",
        trajectory: Trajectory | None = None,
        on_event: Callable[[Event], None] = lambda event: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._init_run(trajectory, on_event, context.cancel)
        self.model = model
        self.context = context
        self.budget = budget
        self.clock = clock
        self.tokens = 0
        self.last_prompt_tokens = 0
        self.format_errors = 0
        self.last_signature: tuple[str, str, str] | None = None
        self.stuck_tool = ""  # a tool whose call just repeated with the same result
        task = f"The task:\n{instruction.strip()}"
        if overview:
            task += f"\n\nThe project's files:\n{overview}"
        self.head = [
            {"role": "system", "content": system_prompt(project_instructions)},
            {"role": "user", "content": task},
        ]
        self.messages: list[dict[str, str]] = list(self.head)
        self.compacted_length = len(self.head)

    def _ask(self, messages: list[dict[str, str]], grammar: str | None, max_tokens: int) -> str:
        if self.cancel.is_set():
            raise TaskCancelled
        reply = self.model.reply(messages, grammar=grammar, max_tokens=max_tokens)
        if self.cancel.is_set():
            raise TaskCancelled
        self.tokens += reply.prompt_tokens + reply.completion_tokens
        self.last_prompt_tokens = reply.prompt_tokens + reply.completion_tokens
        if self.trajectory is not None:
            self.trajectory.write(
                "model",
                step=self.step,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                duration_ms=round(reply.duration_ms, 1),
                reply=reply.text,
            )
        return reply.text

    def _check_limits(self, started: float) -> None:
        if self.cancel.is_set():
            raise TaskCancelled
        if self.step >= self.budget.max_steps:
            raise LimitExceeded(f"the step limit ({self.budget.max_steps}) was reached")
        if self.tokens >= self.budget.max_tokens:
            raise LimitExceeded(f"the token limit ({self.budget.max_tokens}) was reached")
        if self.clock() - started >= self.budget.max_wall_s:
            raise LimitExceeded(f"the time limit ({self.budget.max_wall_s:g} s) was reached")

    def _plan(self) -> None:
        request = {
            "role": "user",
            "content": (
                f"Before you start, write a plan of at most {self.budget.plan_steps} short "
                "numbered steps. No code, no JSON; the plan only."
            ),
        }
        text = self._ask([*self.messages, request], None, 200).strip()
        self.messages += [request, {"role": "assistant", "content": f"Plan:\n{text}"}]
        self.head = list(self.messages)
        self.compacted_length = len(self.head)
        self._emit("plan", text, text=text)

    def _take_steering(self) -> None:
        for message in self.steering_messages():
            self.messages.append(
                {
                    "role": "user",
                    "content": (
                        f"The user steers the task: {message}\nTake this into account from now on."
                    ),
                }
            )
            self._emit("steer", message)

    def _compact_if_needed(self) -> None:
        limit = self.model.context_tokens * COMPACT_AT
        if self.last_prompt_tokens + self.budget.reply_tokens < limit:
            return
        if len(self.messages) - self.compacted_length < 2 * KEEP_EXCHANGES:
            return  # too little new since the start or the last compaction
        recent = self.messages[len(self.head) :][-2 * KEEP_EXCHANGES :]
        request = {
            "role": "user",
            "content": (
                "The conversation is getting long. Write a hand-off summary for whoever continues "
                "this task: what it is, what was done (files changed, commands run, test results), "
                "what was learned, and what remains. Plain text, at most 150 words."
            ),
        }
        summary = self._ask([*self.messages, request], None, 300).strip()
        dropped = len(self.messages) - len(self.head) - len(recent)
        self.messages = [
            *self.head,
            {"role": "user", "content": f"Hand-off summary of the earlier steps:\n{summary}"},
            {"role": "assistant", "content": "Understood. I continue from there."},
            *recent,
        ]
        self.last_prompt_tokens = 0
        self.compacted_length = len(self.messages)
        self._emit(
            "compaction",
            f"compacted {dropped} messages into a hand-off summary",
            summary=summary,
            dropped=dropped,
        )

    def _format_error(self, text: str, exc: FormatError) -> None:
        self.format_errors += 1
        self.messages += [
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": (
                    f"That was not a valid tool call: {exc}. Reply with one JSON object: "
                    '{"thought": ..., "tool": ..., "args": {...}}, followed by the code '
                    "blocks for edit_file (```old, ```new) or apply_diff (```diff)."
                ),
            },
        ]
        self._emit("format_error", str(exc), reply=text[:500])
        if self.format_errors >= MAX_FORMAT_ERRORS:
            raise LimitExceeded(f"{self.format_errors} replies in a row were not tool calls")

    def _report_diff(self, changed: tuple[str, ...]) -> None:
        if changed:
            changes = self.context.tree.changes()
            diff = "".join(change.unified() for change in changes if change.path in changed)
            self._emit("diff", f"changed {', '.join(changed)}", diff=diff)

    def run_step(self) -> None:
        self._take_steering()
        self._compact_if_needed()
        self.step += 1
        # After a call repeated with the same result, its tool is left out of the next
        # step's grammar: telling small models was not enough (measured: the 0.5B ran the same
        # failing command 8 times in a row), and a grammar makes them do something else.
        grammar = call_grammar(
            escalate=self.context.rules.policy == "on-request", without=self.stuck_tool
        )
        text = self._ask(self.messages, grammar, self.budget.reply_tokens)
        try:
            call = parse_call(text)
        except FormatError as exc:
            self._format_error(text, exc)
            return
        self.format_errors = 0
        self._emit(
            "tool_call",
            f"{call.tool} {_brief(call.args)}",
            tool=call.tool,
            args=call.args,
            thought=call.thought,
        )
        result = run_tool(self.context, call.tool, call.args)  # Submitted ends the task here
        self._emit("tool_result", result.text[:300], tool=call.tool, ok=result.ok, text=result.text)
        self._report_diff(result.changed_files)
        feedback = f"Result of {call.tool}:\n{result.text}"
        outcome = re.sub(r"\d+\.\d+ ?m?s\b", "", result.text)  # timings differ from run to run
        signature = (call.tool, json.dumps(call.args, sort_keys=True), outcome)
        self.stuck_tool = ""
        if signature == self.last_signature:
            feedback += REPEATED.format(tool=call.tool)
            self.stuck_tool = call.tool if call.tool != "finish" else ""
            self._emit("repeat", f"{call.tool} repeated with the same result")
        self.last_signature = signature
        self.messages += [
            {"role": "assistant", "content": call.render()},
            {"role": "user", "content": feedback},
        ]

    def run(self) -> Outcome:
        started = self.clock()

        def outcome(status: str, summary: str) -> Outcome:
            return Outcome(status, summary, self.step, self.tokens, self.clock() - started)

        try:
            if self.budget.plan_steps:
                self._plan()
            while True:
                self._check_limits(started)
                self.run_step()
        except Submitted as done:
            self._emit("done", done.summary, summary=done.summary)
            return outcome("done", done.summary)
        except LimitExceeded as exc:
            self._emit("failed", str(exc), reason="limit")
            return outcome("failed", str(exc))
        except TaskCancelled:
            self._emit("failed", "cancelled by the user", reason="cancelled")
            return outcome("cancelled", "cancelled by the user")


def _brief(args: dict[str, Any]) -> str:
    parts = []
    for key, value in args.items():
        text = str(value).replace("\n", "⏎")
        parts.append(f"{key}={text[:60]}{'…' if len(text) > 60 else ''}")
    return ", ".join(parts)
