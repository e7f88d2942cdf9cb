"""The agent loop with a scripted model (its words don't matter here, only what the loop does
with them): edit, test fails, fix, test passes; limits; format errors; cancel; steer;
compaction. Commands run for real, in the sandbox, in an isolated copy."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from agent.loop.agent_loop import AgentLoop, Budget, Event
from agent.loop.tool_calls import call_grammar
from agent.loop.tools import ToolContext
from agent.model import ModelReply, ScriptedAgentModel
from agent.trajectory import Trajectory, read, render
from tests.support.projects import CALC


def call(tool: str, thought: str = "", **args: object) -> str:
    return json.dumps({"thought": thought, "tool": tool, "args": args})


BUDGET = Budget(max_steps=10, max_tokens=100_000, max_wall_s=120, plan_steps=0)


def run(
    model: ScriptedAgentModel,
    context: ToolContext,
    tmp_path: Path,
    budget: Budget = BUDGET,
    **kwargs: object,
) -> tuple[object, list[Event], AgentLoop]:
    events: list[Event] = []
    loop = AgentLoop(
        model,
        context,
        "make test_add pass",
        budget=budget,
        trajectory=Trajectory(tmp_path / "log.jsonl"),
        on_event=events.append,
        **kwargs,
    )  # type: ignore[arg-type]
    return loop.run(), events, loop


def test_edit_fails_then_fix_passes(context: ToolContext, repo: Path, tmp_path: Path) -> None:
    model = ScriptedAgentModel(
        [
            call("read_file", "look at the code", path="calc.py"),
            call("edit_file", "wrong", path="calc.py", old="return a - b", new="return a * b"),
            call("run_tests"),
            call("edit_file", "right", path="calc.py", old="return a * b", new="return a + b"),
            call("run_tests"),
            call("finish", summary="add() adds"),
        ]
    )
    outcome, events, _ = run(model, context, tmp_path)
    assert outcome.status == "done" and outcome.summary == "add() adds"
    results = [e for e in events if e.kind == "tool_result"]
    assert [e.data["tool"] for e in results] == [
        "read_file",
        "edit_file",
        "run_tests",
        "edit_file",
        "run_tests",
    ]
    assert results[2].data["ok"] is False and "1 failed" in results[2].data["text"]
    assert results[4].data["ok"] is True and "1 passed" in results[4].data["text"]
    # The model saw each result; tool steps were decoded under the tool-call grammar.
    assert "1 failed" in model.prompts[3][-1]["content"]
    assert model.grammars == [call_grammar()] * 6
    diffs = [e for e in events if e.kind == "diff"]
    assert "+    return a + b" in diffs[-1].data["diff"]
    # The user's file is untouched: only the task's copy changed.
    assert (repo / "calc.py").read_text() == CALC
    assert (context.tree.root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    changes = context.tree.changes()
    assert [c.path for c in changes] == ["calc.py"]
    assert changes[0].before == CALC
    # Every model call and tool call is in the log, readably.
    records = read(tmp_path / "log.jsonl")
    assert sum(r["type"] == "model" for r in records) == 6
    assert all("prompt_tokens" in r for r in records if r["type"] == "model")
    text = render(records)
    assert "step 2: edit_file" in text and "result (failed)" in text


def test_step_limit(context: ToolContext, tmp_path: Path) -> None:
    model = ScriptedAgentModel([call("list_files")] * 3 + [call("finish", summary="never")])
    budget = Budget(max_steps=3, max_tokens=100_000, max_wall_s=120, plan_steps=0)
    outcome, events, _ = run(model, context, tmp_path, budget)
    assert outcome.status == "failed" and "step limit (3)" in outcome.summary
    assert events[-1].kind == "failed" and len(model.replies) == 1


def test_token_and_time_limits(context: ToolContext, tmp_path: Path) -> None:
    model = ScriptedAgentModel([call("list_files")] * 5)
    budget = Budget(max_steps=10, max_tokens=1, max_wall_s=120, plan_steps=0)
    outcome, _, _ = run(model, context, tmp_path, budget)
    assert outcome.status == "failed" and "token limit" in outcome.summary
    ticks = iter(range(0, 1000, 100))
    model = ScriptedAgentModel([call("list_files")] * 5)
    budget = Budget(max_steps=10, max_tokens=100_000, max_wall_s=250, plan_steps=0)
    outcome, _, _ = run(model, context, tmp_path, budget, clock=lambda: float(next(ticks)))
    assert outcome.status == "failed" and "time limit (250 s)" in outcome.summary


def test_format_errors_are_feedback_then_a_limit(context: ToolContext, tmp_path: Path) -> None:
    model = ScriptedAgentModel(["I think we should edit calc.py", call("finish", summary="ok")])
    outcome, events, _ = run(model, context, tmp_path)
    assert outcome.status == "done"
    assert events[0].kind == "format_error"
    assert "not a valid tool call: no JSON object found" in model.prompts[1][-1]["content"]
    model = ScriptedAgentModel(['{"tool": "nope", "args": {}}'] * 4)
    outcome, events, _ = run(model, context, tmp_path)
    assert outcome.status == "failed" and "4 replies in a row" in outcome.summary
    assert "unknown tool 'nope'" in events[0].message


class CancellingModel(ScriptedAgentModel):
    def __init__(self, replies: list[str], cancel: threading.Event) -> None:
        super().__init__(replies)
        self.cancel = cancel

    def reply(self, messages, *, grammar=None, max_tokens=512) -> ModelReply:  # type: ignore[no-untyped-def]
        if len(self.prompts) == 1:
            self.cancel.set()  # the user cancels while the second step is generating
        return super().reply(messages, grammar=grammar, max_tokens=max_tokens)


def test_cancel_stops_at_once(context: ToolContext, tmp_path: Path) -> None:
    model = CancellingModel([call("list_files")] * 5, context.cancel)
    outcome, events, _ = run(model, context, tmp_path)
    assert outcome.status == "cancelled"
    assert [e.kind for e in events] == ["tool_call", "tool_result", "failed"]


class SteeredModel(ScriptedAgentModel):
    loop: AgentLoop | None = None

    def reply(self, messages, *, grammar=None, max_tokens=512) -> ModelReply:  # type: ignore[no-untyped-def]
        if len(self.prompts) == 0 and self.loop is not None:
            self.loop.steer("use the + operator, not sum()")
        return super().reply(messages, grammar=grammar, max_tokens=max_tokens)


def test_steering_enters_at_the_next_step(context: ToolContext, tmp_path: Path) -> None:
    model = SteeredModel([call("list_files"), call("finish", summary="ok")])
    loop = AgentLoop(model, context, "fix add", budget=BUDGET)
    model.loop = loop
    assert loop.run().status == "done"
    assert "steers the task: use the + operator" not in str(model.prompts[0])
    assert "steers the task: use the + operator, not sum()" in model.prompts[1][-1]["content"]


class SummarizingModel(ScriptedAgentModel):
    """Answers a request for a hand-off summary whenever it comes; otherwise the script."""

    def reply(self, messages, *, grammar=None, max_tokens=512) -> ModelReply:  # type: ignore[no-untyped-def]
        if "hand-off summary for whoever continues" in messages[-1]["content"]:
            self.prompts.append(list(messages))
            return ModelReply("Summary: read calc.py; add() subtracts.", 500, 10, 1.0)
        return super().reply(messages, grammar=grammar, max_tokens=max_tokens)


def test_compaction_keeps_task_summary_and_latest(context: ToolContext, tmp_path: Path) -> None:
    replies = [call("read_file", path="calc.py", start_line=n) for n in (1, 2, 1, 2, 1)]
    model = SummarizingModel([*replies, call("finish", summary="ok")], context_tokens=900)
    budget = Budget(
        max_steps=10, max_tokens=100_000, max_wall_s=120, plan_steps=0, reply_tokens=100
    )
    outcome, events, _ = run(model, context, tmp_path, budget)
    assert outcome.status == "done"
    compactions = [e for e in events if e.kind == "compaction"]
    assert compactions and "hand-off summary" in compactions[0].message
    after = model.prompts[-1]
    assert after[1]["content"].startswith("The task:\nmake test_add pass")
    assert any(
        "Hand-off summary of the earlier steps:\nSummary: read calc.py" in m["content"]
        for m in after
    )
    results = [m for m in after if m["content"].startswith("Result of read_file")]
    assert len(results) < 5  # the oldest exchanges live on only in the summary
    assert any(r["type"] == "compaction" for r in read(tmp_path / "log.jsonl"))


def test_a_repeated_call_is_pointed_out(context: ToolContext, tmp_path: Path) -> None:
    model = ScriptedAgentModel([call("run_tests")] * 2 + [call("finish", summary="ok")])
    outcome, events, _ = run(model, context, tmp_path)
    assert outcome.status == "done"
    assert [e.kind for e in events].count("repeat") == 1
    assert "You made this same call last step" in model.prompts[2][-1]["content"]
    assert "You made this same call" not in model.prompts[1][-1]["content"]
    # The step after the repeat is decoded under a grammar without the repeated tool.
    assert "run_tests" in model.grammars[1] and "run_tests" not in model.grammars[2]
    assert "read_file" in model.grammars[2]


def test_plan_comes_first_when_the_effort_asks(context: ToolContext, tmp_path: Path) -> None:
    model = ScriptedAgentModel(["1. read calc.py\n2. fix add", call("finish", summary="ok")])
    budget = Budget(max_steps=5, max_tokens=100_000, max_wall_s=120, plan_steps=3)
    outcome, events, _ = run(model, context, tmp_path, budget)
    assert outcome.status == "done" and events[0].kind == "plan"
    assert model.grammars[0] is None  # the plan is free text
    assert "Plan:\n1. read calc.py" in model.prompts[1][-1]["content"]
