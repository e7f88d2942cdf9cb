"""Agent tasks as the server and the terminal see them: start, steer, cancel, review, apply.

Each task runs its loop on a thread of its own, in an isolated copy of the workspace; the
model calls inside it wait at the lowest priority on the model worker. A cancelled task's copy
is removed at once; a finished or failed one that changed files is kept until its diff is
applied or discarded.
The user's files change only through `apply` (the server sends a WorkspaceEdit for review).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.approvals import ApprovalRequest, ApprovalRules, Approver, Decision
from agent.env.sandbox import Sandbox, SandboxReport, probe
from agent.env.test_files import asks_for_test_changes
from agent.env.test_report import Frame
from agent.env.worktree import TaskTree, files_under
from agent.images import (
    ImageInput,
    ImageReading,
    ImageRefused,
    needs_approval,
    prompt_text,
    read,
    resolve_places,
    shown_to,
)
from agent.instructions import project_instructions
from agent.loop.agent_loop import BUDGETS, AgentLoop, Budget, Event, Outcome
from agent.loop.tools import CodeSearch, ToolContext, first_test_run
from agent.model import AgentModel
from agent.pipeline import PIPELINE_CONFIGS, Pipeline, PipelineOutcome
from agent.safety import refusal
from agent.settings import APPROVAL_POLICIES, EFFORTS, AgentSettings
from agent.task_review import TaskReview
from agent.task_state import (  # the names front ends import from here too
    FINAL,
    LIVE,
    REVIEWABLE,
    TaskError,
    TaskState,
    UnknownTask,
    VagueInstruction,
    _Running,
    apply_label,
    workspace_key,
)  # fmt: skip  # fmt: skip
from agent.trajectory import Trajectory, agent_dir, log_path
from agent.vague import question_for

log = logging.getLogger(__name__)
OVERVIEW_FILES = 60


def overview(root: Path) -> str:
    files = sorted(files_under(root))
    shown = files[:OVERVIEW_FILES]
    if len(files) > len(shown):
        shown.append(f"(and {len(files) - len(shown)} more; list_files shows them)")
    return "\n".join(shown)


class TaskManager(TaskReview):
    def __init__(
        self,
        workspace: Path,
        model_for: Callable[[threading.Event], AgentModel],
        settings: AgentSettings,
        approver: Approver,
        on_event: Callable[[TaskState, Event], None] = lambda state, event: None,
        index: CodeSearch | None = None,
        sandbox: SandboxReport | None = None,
    ) -> None:
        self.workspace = workspace.resolve()
        self.model_for = model_for
        self.settings = settings
        self.approver = approver
        self.on_event = on_event
        self.index = index
        self.sandbox = sandbox or probe(settings.sandbox)
        self.remembered: set[str] = set()  # "always allow" prefixes, for this session
        self.key = workspace_key(self.workspace)
        self._tasks: dict[str, _Running] = {}
        self._lock = threading.Lock()

    def budget(self, effort: str) -> Budget:
        budget = BUDGETS[effort]
        if 0 < self.settings.max_steps < budget.max_steps:
            budget = replace(budget, max_steps=self.settings.max_steps)
        return budget

    def start(
        self,
        instruction: str,
        effort: str | None = None,
        approval_policy: str | None = None,
        images: list[ImageInput] | None = None,
    ) -> TaskState:
        """Starts a task on its own thread; its images are read there, off the caller's."""
        if not instruction.strip():
            raise TaskError("give the agent an instruction")
        effort = effort or self.settings.effort
        policy = approval_policy or self.settings.approval_policy
        if effort not in EFFORTS:
            raise TaskError(f"effort must be one of {', '.join(EFFORTS)}, not {effort!r}")
        if policy not in APPROVAL_POLICIES:
            raise TaskError(f"approvalPolicy must be one of {', '.join(APPROVAL_POLICIES)}")
        question = question_for(instruction, self.workspace)
        if question is not None:
            raise VagueInstruction(question)
        budget = self.budget(effort)
        state = TaskState(
            f"t{secrets.token_hex(4)}",
            instruction.strip(),
            effort,
            policy,
            max_steps=budget.max_steps,
        )
        state.log = str(log_path(self.key, state.id))
        running = _Running(state, images=list(images or []))
        with self._lock:
            self._tasks[state.id] = running
        trajectory = Trajectory(Path(state.log))
        reason = refusal(instruction)
        if reason is not None:
            state.status, state.message = "refused", f"{reason}; the task was not started"
            trajectory.write("refused", instruction=state.instruction, reason=reason)
            self.on_event(state, Event("failed", 0, state.message, {"reason": "refused"}))
            return replace(state)
        running.thread = threading.Thread(
            target=self._run, args=(running, trajectory), name=f"agent-{state.id}", daemon=True
        )
        running.thread.start()
        return replace(state)

    def _run(self, running: _Running, trajectory: Trajectory) -> None:
        state = running.state
        scratch = agent_dir() / self.key / state.id
        final: list[Event] = []
        try:
            running.tree = tree = TaskTree.create(self.workspace, scratch / "tree")
            sandbox = Sandbox(tree.root, scratch, self.settings, self.sandbox, (self.workspace,))
            rules = ApprovalRules(state.approval_policy, sandbox.layer, self.remembered)

            context = self._context(running, tree, sandbox, rules, trajectory)
            trajectory.write(
                "task",
                task_id=state.id,
                instruction=state.instruction,
                effort=state.effort,
                approval_policy=state.approval_policy,
                sandbox=sandbox.layer,
                tree=tree.kind,
                workspace=str(self.workspace),
                code_index=self.index is not None and getattr(self.index, "is_open", True),
            )

            def event(e: Event) -> None:
                state.step, state.message = e.step, e.message
                state.tokens = running.loop.tokens if running.loop else state.tokens
                if e.kind in ("done", "failed"):
                    final.append(e)  # sent once the task's status and result are settled
                    return
                self.on_event(replace(state), e)

            model = self.model_for(running.cancel)
            readings = self._read_images(running, rules, context.on_approval, trajectory, model)
            task = "\n\n".join(part for part in (state.instruction, prompt_text(readings)) if part)
            seen = resolve_places(tuple(f for r in readings for f in r.frames),
                                  sorted(files_under(tree.root)))  # fmt: skip
            outcome = self._strategies(running, model, context, trajectory, event, task, seen)
        except Exception as exc:  # a bug or a broken model must end the task, not the server
            log.exception("agent task %s crashed", state.id)
            trajectory.write("failed", reason="error", message=str(exc))
            outcome = Outcome("failed", f"the task stopped on an error: {exc}", state.step, 0, 0)
            final[:] = [Event("failed", state.step, outcome.summary)]
        self._settle(running, outcome)
        for e in final:
            self.on_event(replace(state), e)

    def _context(
        self,
        running: _Running,
        tree: TaskTree,
        sandbox: Sandbox,
        rules: ApprovalRules,
        trajectory: Trajectory,
    ) -> ToolContext:
        state = running.state

        def approved(request: ApprovalRequest, decision: Decision) -> None:
            trajectory.write(
                "approval",
                command=request.command,
                reason=request.reason,
                decision=decision.value,
            )

        return ToolContext(
            state.id,
            tree,
            sandbox,
            rules,
            self.approver,
            self.settings.test_command,
            self.index,
            running.cancel,
            approved,
            tests_editable=asks_for_test_changes(state.instruction),
        )

    def _start(self, running: _Running, runner: AgentLoop | Pipeline) -> None:
        with self._lock:
            for message in running.early_steers:
                runner.steer(message)
            running.early_steers.clear()
            running.loop = runner
        running.state.status = "running"

    def _strategies(
        self,
        running: _Running,
        model: Any,
        context: ToolContext,
        trajectory: Trajectory,
        event: Callable[[Event], None],
        task: str,
        seen: tuple[Frame, ...] = (),
    ) -> Outcome:
        """The pipeline first (unless the loop is asked for, or the model cannot write
        candidates); then, under `auto`, the loop where the model can use one."""
        state = running.state
        strategy = self.settings.strategy
        result: PipelineOutcome | None = None
        if strategy != "loop" and hasattr(model, "candidates"):
            pipeline = Pipeline(model, context, task, PIPELINE_CONFIGS[state.effort],
                                trajectory, event, scope=self.settings.rewrite_scope,
                                seen=seen)  # fmt: skip
            state.strategy, state.max_steps = "pipeline", pipeline.max_steps
            trajectory.write("strategy", strategy="pipeline", setting=strategy)
            self._start(running, pipeline)
            result = pipeline.run()
            state.verified = result.verified
            more = strategy == "auto" and result.status == "failed" and result.chosen is not None
            if not (more and getattr(model, "drives_tools", False)):
                return Outcome(result.status, result.summary, result.steps, result.tokens,
                               result.seconds)  # fmt: skip
            state.strategy = "pipeline+loop"
        else:
            state.strategy = "loop"
        trajectory.write("strategy", strategy=state.strategy, setting=strategy)
        tests = first_test_run(context)
        if result is not None:
            tests = f"{result.summary}\n{result.report.output if result.report else ''}"
        if tests:
            trajectory.write("observation", source="run_tests", text=tests)
        loop = AgentLoop(
            model,
            context,
            task,
            budget=self.budget(state.effort),
            project_instructions=project_instructions(context.root),
            overview=overview(context.root) + (f"\n\nThe tests now:\n{tests}" if tests else ""),
            trajectory=trajectory,
            on_event=event,
        )
        state.max_steps = loop.budget.max_steps
        self._start(running, loop)
        return loop.run()

    def _read_images(
        self,
        running: _Running,
        rules: ApprovalRules,
        approved: Callable[[ApprovalRequest, Decision], None],
        trajectory: Trajectory,
        model: Any = None,
    ) -> list[ImageReading]:
        """Each image read in turn, each shown back as an `image` event; one that cannot be
        taken is named in its event and the task goes on without it. A model that sees
        images is shown each one, with its text read beside it."""
        state, readings = running.state, []
        for image in running.images:
            if running.cancel.is_set():
                break
            data: dict[str, Any] = {"name": image.name}
            try:
                if needs_approval(image, self.workspace) and not self._may_read(state, image, rules,
                                                                         approved):  # fmt: skip
                    raise ImageRefused(f"{image.name} is outside the workspace and was not "
                                       "approved for reading")  # fmt: skip
                reading = shown_to(model, read(image), state.instruction)
                readings.append(reading)
                data = reading.public()
                message = reading.summary()
            except ImageRefused as exc:
                message, data["refused"] = f"image refused: {exc}", str(exc)
            state.images.append(data)
            trajectory.write("image", message=message, **data)
            self.on_event(replace(state), Event("image", state.step, message, data))
        return readings

    def _may_read(
        self,
        state: TaskState,
        image: ImageInput,
        rules: ApprovalRules,
        approved: Callable[[ApprovalRequest, Decision], None],
    ) -> bool:
        if rules.policy == "never":
            return False
        request = ApprovalRequest(state.id, f"read {image.path}",
                                  "the image is outside the workspace", "read",
                                  outside_sandbox=True)  # fmt: skip
        decision = self.approver.ask(request)
        approved(request, decision)
        return decision is not Decision.DENY

    def _settle(self, running: _Running, outcome: Outcome) -> None:
        state = running.state
        state.summary = state.message = outcome.summary
        state.tokens, state.seconds = outcome.tokens, time.time() - state.started
        tree = running.tree
        if outcome.status in REVIEWABLE and tree is not None:
            state.changes = tree.changes()
        if tree is not None and (outcome.status not in REVIEWABLE or not state.changes):
            tree.remove()  # nothing of a cancelled task, or of one that changed nothing, stays
            running.tree = None
        state.status = outcome.status

    def steer(self, task_id: str, message: str) -> None:
        running = self._get(task_id)
        if running.state.status not in LIVE:
            raise TaskError(f"task {task_id} is {running.state.status}; it cannot be steered")
        with self._lock:
            if running.loop is None:
                running.early_steers.append(message)
                return
        running.loop.steer(message)

    def cancel(self, task_id: str) -> TaskState:
        running = self._get(task_id)
        running.cancel.set()
        if running.state.status == "done":
            self.discard(task_id)
        return replace(running.state)

    def close(self) -> None:
        """Stops every task and removes every copy (at server exit)."""
        with self._lock:
            tasks = list(self._tasks.values())
        for running in tasks:
            running.cancel.set()
        for running in tasks:
            if running.thread is not None:
                running.thread.join(timeout=5)
            if running.tree is not None:
                running.tree.remove()


__all__ = [
    "FINAL", "TaskError", "TaskManager", "TaskState", "UnknownTask", "VagueInstruction",
    "apply_label", "workspace_key",
]  # fmt: skip
