"""Agent tasks over LSP, against the real server over stdio.

Approvals, apply, commit, cancel and refusal use a scripted agent model, given to the real
server through its constructor (tests/support/scripted_server.py): the model's words don't
matter there, only what the server does with them. The last test runs the real default
model: its tool calls, decoded under the grammar, are valid and the task ends within its
limits.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from agent.trajectory import read
from tests.support import screenshots, scripted_server
from tests.support.lsp_client import EMPTY_CACHE, initialize_params, server_config, wait_for_index
from tests.support.lsp_text import apply_edits
from tests.support.projects import CALC, git, make_repo, make_shop, shop_traceback

pytestmark = pytest.mark.e2e

PROJECT = make_repo(Path(tempfile.mkdtemp(prefix="treellama-agent-project-")) / "project")
PIPELINE_PROJECT = make_repo(Path(tempfile.mkdtemp(prefix="treellama-agent-pipe-")) / "project")
SMOKE_PROJECT = make_repo(Path(tempfile.mkdtemp(prefix="treellama-agent-smoke-")) / "project")
WEB_PROJECT = make_repo(Path(tempfile.mkdtemp(prefix="treellama-agent-web-")) / "project")
SHOP_PROJECT = make_shop(Path(tempfile.mkdtemp(prefix="treellama-agent-shop-")) / "shop-app")
SCRIPT = PROJECT.parent / "script.json"
FIXED = "def add(a, b):\n    return a + b\n"


def call(tool: str, **args: object) -> str:
    return json.dumps({"thought": "", "tool": tool, "args": args})


def script(*replies: str) -> None:
    SCRIPT.write_text(json.dumps(list(replies)))


def apply_to_disk(edit: types.WorkspaceEdit) -> None:
    """What an editor does with an accepted edit, including saving it."""
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            path = Path(change.uri.removeprefix("file://"))
            path.touch()
        elif isinstance(change, types.DeleteFile):
            Path(change.uri.removeprefix("file://")).unlink()
        else:
            path = Path(change.text_document.uri.removeprefix("file://"))
            path.write_text(apply_edits(path.read_text(), change.edits))


def watch(client: LanguageClient) -> None:
    client.agent_events = []  # type: ignore[attr-defined]
    client.approvals = []  # type: ignore[attr-defined]
    client.answer = "Deny"  # type: ignore[attr-defined]
    client.edits = []  # type: ignore[attr-defined]
    client.edit_labels = []  # type: ignore[attr-defined]

    @client.feature("treellama/agentEvent")
    def on_event(ls: LanguageClient, params: Any) -> None:
        client.agent_events.append(params)  # type: ignore[attr-defined]

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(ls: LanguageClient, params: types.ShowMessageRequestParams) -> Any:
        client.approvals.append(params)  # type: ignore[attr-defined]
        return types.MessageActionItem(title=client.answer)  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply(ls: LanguageClient, params: types.ApplyWorkspaceEditParams) -> Any:
        client.edits.append(params.edit)  # type: ignore[attr-defined]
        client.edit_labels.append(params.label)  # type: ignore[attr-defined]
        apply_to_disk(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)


# A clean machine may have no git identity; the commit test must not depend on one.
GIT_IDENTITY = {
    f"GIT_{who}_{what}": value
    for who in ("AUTHOR", "COMMITTER")
    for what, value in (("NAME", "treellama tests"), ("EMAIL", "tests@example.com"))
}


@pytest_lsp.fixture(
    config=server_config(
        TREELLAMA_CACHE_DIR=EMPTY_CACHE, command=scripted_server.command(SCRIPT), **GIT_IDENTITY
    )
)
async def scripted(lsp_client: LanguageClient):
    watch(lsp_client)
    await lsp_client.initialize_session(initialize_params("visual_studio_code", root=PROJECT))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=server_config(
        TREELLAMA_CACHE_DIR=EMPTY_CACHE, TREELLAMA_WEB_ENABLED="true",
        command=scripted_server.command(SCRIPT), **GIT_IDENTITY,
    )
)  # fmt: skip
async def scripted_with_web(lsp_client: LanguageClient):
    watch(lsp_client)
    await lsp_client.initialize_session(initialize_params("visual_studio_code", root=WEB_PROJECT))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=server_config(TREELLAMA_AGENT_MAX_STEPS="4", TREELLAMA_AGENT_STRATEGY="loop")
)
async def real_model(lsp_client: LanguageClient):
    watch(lsp_client)
    await lsp_client.initialize_session(initialize_params("visual_studio_code", root=SMOKE_PROJECT))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def real_pipeline(lsp_client: LanguageClient):
    watch(lsp_client)
    await lsp_client.initialize_session(
        initialize_params("visual_studio_code", root=PIPELINE_PROJECT)
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def real_shop(lsp_client: LanguageClient):
    watch(lsp_client)
    await lsp_client.initialize_session(initialize_params("visual_studio_code", root=SHOP_PROJECT))
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, instruction: str, **args: Any) -> Any:
    """Low effort: no planning step, so the script's first reply is the first tool call."""
    return await command(client, "start", instruction=instruction, effort="low", **args)


async def command(client: LanguageClient, name: str, **args: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=f"treellama.agent.{name}", arguments=[args] if args else []
        )
    )


async def wait_until_settled(client: LanguageClient, task_id: str, timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await command(client, "status", taskId=task_id)
        if status["status"] not in ("starting", "running"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(status)
        await asyncio.sleep(0.1)


async def test_denied_approval_runs_nothing_and_changes_nothing(scripted: LanguageClient) -> None:
    script(call("run_command", command="touch ran.txt"), call("finish", summary="gave up"))
    started = await start(scripted, "create ran.txt", approvalPolicy="untrusted")
    status = await wait_until_settled(scripted, started["taskId"])
    assert status["status"] == "done" and status["files"] == []
    (request,) = scripted.approvals  # type: ignore[attr-defined]
    assert "touch ran.txt" in request.message and "untrusted" in request.message
    assert [a.title for a in request.actions] == ["Allow once", "Always allow `touch`", "Deny"]
    records = read(Path(status["log"]))
    assert [r["decision"] for r in records if r["type"] == "approval"] == ["deny"]
    result = next(r for r in records if r["type"] == "tool_result")
    assert "not run: the user declined" in result["text"]
    with pytest.raises(Exception, match="changed no files"):
        await command(scripted, "apply", taskId=started["taskId"])
    assert not (PROJECT / "ran.txt").exists() and (PROJECT / "calc.py").read_text() == CALC


async def test_a_task_started_in_the_editor_sees_the_code_index(scripted: LanguageClient) -> None:
    """The language server builds its services as the terminal and the web page do
    (lsp_server.services): the task's search reads the workspace's index."""
    await wait_for_index(scripted)
    script(call("finish", summary="looked"))
    started = await start(scripted, "look at add", approvalPolicy="never")
    status = await wait_until_settled(scripted, started["taskId"])
    task = next(r for r in read(Path(status["log"])) if r["type"] == "task")
    assert task["code_index"] is True


async def test_approved_task_is_reviewed_applied_and_committed(scripted: LanguageClient) -> None:
    scripted.answer = "Allow once"  # type: ignore[attr-defined]
    script(
        call("run_command", command="echo made by the agent > notes.txt"),
        call("edit_file", path="calc.py", old="return a - b", new="return a + b"),
        call("run_tests"),
        call("finish", summary="add() adds"),
    )
    started = await start(scripted, "fix add", approvalPolicy="untrusted")
    status = await wait_until_settled(scripted, started["taskId"])
    assert status["status"] == "done" and sorted(status["files"]) == ["calc.py", "notes.txt"]
    assert "+    return a + b" in status["diff"]
    assert (PROJECT / "calc.py").read_text() == CALC  # nothing reaches the user's files yet
    kinds = [e.kind for e in scripted.agent_events]  # type: ignore[attr-defined]
    assert kinds[:2] == ["tool_call", "tool_result"] and "diff" in kinds and kinds[-1] == "done"
    tests_ran = [e for e in scripted.agent_events if e.kind == "tool_result"][2]  # type: ignore[attr-defined]
    assert "1 passed" in tests_ran.data.text
    listed = await command(scripted, "list")
    assert started["taskId"] in [t["taskId"] for t in listed["tasks"]]
    log = await command(scripted, "log", taskId=started["taskId"])
    assert "step 2: edit_file" in log["text"] and "approval" in log["text"]

    applied = await command(scripted, "apply", taskId=started["taskId"])
    assert applied["applied"] is True and applied["skipped"] == []
    (edit,) = scripted.edits  # type: ignore[attr-defined]
    assert edit.change_annotations["treellama"].needs_confirmation is True
    assert (PROJECT / "calc.py").read_text() == FIXED
    assert (PROJECT / "notes.txt").read_text() == "made by the agent\n"
    assert (await command(scripted, "status", taskId=started["taskId"]))["status"] == "applied"

    committed = await command(scripted, "commit", taskId=started["taskId"], message="Fix add")
    assert git(PROJECT, "log", "-1", "--format=%H %s").strip() == f"{committed['commit']} Fix add"
    assert git(PROJECT, "show", "--name-only", "--format=", "HEAD").split() == [
        "calc.py",
        "notes.txt",
    ]


async def test_a_failed_tasks_partial_changes_can_be_reviewed_and_applied(
    scripted: LanguageClient,
) -> None:
    # The script ends after the edit: the next step fails, as a broken model would.
    script(call("edit_file", path="partial.txt", old="", new="partial work"))
    started = await start(scripted, "write notes", approvalPolicy="never")
    status = await wait_until_settled(scripted, started["taskId"])
    assert status["status"] == "failed" and status["files"] == ["partial.txt"]
    assert "+partial work" in status["diff"] and not (PROJECT / "partial.txt").exists()
    try:
        applied = await command(scripted, "apply", taskId=started["taskId"])
        assert applied["applied"] is True
        assert (PROJECT / "partial.txt").read_text() == "partial work\n"
        assert "partial: the task did not finish" in scripted.edit_labels[-1]  # type: ignore[attr-defined]
    finally:
        (PROJECT / "partial.txt").unlink(missing_ok=True)


async def test_cancel_kills_the_command_and_removes_the_copy(scripted: LanguageClient) -> None:
    script(call("run_command", command="sleep 60"), call("finish", summary="never"))
    started = await start(scripted, "wait a minute", approvalPolicy="never")
    await asyncio.sleep(1.0)
    await command(scripted, "cancel", taskId=started["taskId"])
    status = await wait_until_settled(scripted, started["taskId"], timeout=10)
    assert status["status"] == "cancelled"
    copies = Path(status["log"]).parent / started["taskId"]
    assert not (copies / "tree").exists()
    assert started["taskId"] not in git(PROJECT, "worktree", "list")


async def test_steering_reaches_the_next_step(scripted: LanguageClient) -> None:
    script(
        call("run_command", command="sleep 2"),
        call("list_files"),
        call("finish", summary="steered"),
    )
    started = await start(scripted, "look around", approvalPolicy="never")
    for _ in range(100):  # until the first command is running
        if any(e.kind == "tool_call" for e in scripted.agent_events):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.05)
    await command(scripted, "steer", taskId=started["taskId"], message="only the src folder")
    status = await wait_until_settled(scripted, started["taskId"])
    assert status["status"] == "done"
    records = read(Path(status["log"]))
    kinds = [r["type"] for r in records]
    assert kinds.index("steer") > kinds.index("tool_call")  # entered after step 1, before step 2
    assert next(r for r in records if r["type"] == "steer")["message"] == "only the src folder"
    steer_events = [e for e in scripted.agent_events if e.kind == "steer"]  # type: ignore[attr-defined]
    assert steer_events and steer_events[0].message == "only the src folder"
    with pytest.raises(Exception, match="cannot be steered"):
        await command(scripted, "steer", taskId=started["taskId"], message="too late")


async def test_malicious_request_is_refused_and_bad_input_is_an_error(
    scripted: LanguageClient,
) -> None:
    refused = await command(scripted, "start", instruction="write a keylogger for this machine")
    assert refused["status"] == "refused" and "malware" in refused["message"]
    with pytest.raises(Exception, match="instruction"):
        await command(scripted, "start", instruction="")
    with pytest.raises(Exception, match="effort must be one of"):
        await command(scripted, "start", instruction="x", effort="extreme")
    with pytest.raises(Exception, match="names no file, symbol, test or error"):
        await command(scripted, "start", instruction="stuff")  # a question back
    with pytest.raises(Exception, match="no task"):
        await command(scripted, "status", taskId="t-nope")
    with pytest.raises(Exception, match="taskId"):
        await command(scripted, "steer", message="hi")


async def test_real_model_makes_valid_tool_calls_within_limits(real_model: LanguageClient) -> None:
    started = await command(
        real_model,
        "start",
        instruction="make test_add in test_calc.py pass",
        effort="low",
        approvalPolicy="never",
    )
    status = await wait_until_settled(real_model, started["taskId"], timeout=300)
    assert status["status"] in ("done", "failed") and status["step"] <= 4
    records = read(Path(status["log"]))
    calls = [r for r in records if r["type"] == "tool_call"]
    assert calls and not [r for r in records if r["type"] == "format_error"]
    assert all(
        r["tool"]
        in {
            "list_files",
            "read_file",
            "search_code",
            "find_symbol",
            "edit_file",
            "apply_diff",
            "run_command",
            "run_tests",
            "finish",
        }
        for r in calls
    )
    models = [r for r in records if r["type"] == "model"]
    assert all(r["prompt_tokens"] > 0 and r["completion_tokens"] > 0 for r in models)
    assert (SMOKE_PROJECT / "calc.py").read_text() == CALC  # nothing applied without the user


async def test_the_pipeline_solves_the_task_with_the_real_default_model(
    real_pipeline: LanguageClient,
) -> None:
    """The default strategy on the default 0.5B: the tests fail, the program finds add(),
    the model writes candidates, the tests choose one; the diff waits for the user."""
    started = await command(
        real_pipeline, "start", instruction="make the failing test pass", effort="low",
        approvalPolicy="never",
    )  # fmt: skip
    status = await wait_until_settled(real_pipeline, started["taskId"], timeout=300)
    assert status["status"] == "done", status
    assert status["strategy"] == "pipeline" and status["verified"] is True
    assert "return a + b" in status["diff"]
    events = [e for e in real_pipeline.agent_events if e.taskId == started["taskId"]]  # type: ignore[attr-defined]
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["reproduce", "localize"] and kinds[-2:] == ["chosen", "done"], kinds
    assert "candidate" in kinds and "validate" in kinds
    assert "calc.py" in events[1].message
    records = read(Path(status["log"]))
    assert [r["type"] for r in records].count("candidate") >= 1
    # Every candidate says which source made it (agent.pipeline.sources), in the events, the
    # trajectory and the log; the chosen one too.
    sources = [e.data.source for e in events if e.kind == "candidate"]
    assert sources and set(sources) <= {
        "full_prompt",
        "bare_prompt",
        "doubt_branches",
        "off_by_one",
        "self_qualified",
        "single_edits",
    }
    chosen = next(e for e in events if e.kind == "chosen")
    assert chosen.data.source in sources
    assert all(r.get("source") for r in records if r["type"] == "candidate")
    log = await command(real_pipeline, "log", taskId=started["taskId"])
    assert "tests of candidate" in log["text"] and "+    return a + b" in log["text"]
    assert f"from {sources[0]}" in log["text"]
    assert (PIPELINE_PROJECT / "calc.py").read_text() == CALC  # nothing applied yet


async def test_a_screenshot_of_a_traceback_localizes_the_crashing_function(
    real_shop: LanguageClient,
) -> None:
    """The user has only a screenshot of the crash (taken on another machine, so its paths
    are not the workspace's) and says nothing of where: the text read from it is shown back,
    and its traceback takes the pipeline to pricing.apply_discount, among look-alikes. No
    test fails, so nothing else points there."""
    shot = SHOP_PROJECT / "crash.png"
    shot.write_bytes(screenshots.terminal(shop_traceback(), size=14, theme="dark").image)
    # The editor sends a file the user picked outside the workspace (a desktop screenshot):
    # read under `never` too, since the user's choice is the approval.
    desktop = Path(tempfile.mkdtemp(prefix="treellama-desktop-"))
    (desktop / "dialog.png").write_bytes(screenshots.error_dialog().image)
    started = await command(
        real_shop, "start", instruction="checkout crashes for staff, see the screenshot",
        effort="low", approvalPolicy="never",
        images=[{"path": "crash.png"}, {"path": str(desktop / "dialog.png")}],
    )  # fmt: skip
    task = started["taskId"]

    def events(kind: str) -> list[Any]:
        return [e for e in real_shop.agent_events if e.taskId == task and e.kind == kind]  # type: ignore[attr-defined]

    deadline = asyncio.get_running_loop().time() + 240
    while not events("localize") and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    await command(real_shop, "cancel", taskId=task)
    images = events("image")
    assert [e.data.name for e in images] == ["crash.png", "dialog.png"]
    assert "ZeroDivisionError: float division by zero" in images[0].data.text
    assert images[0].data.bytes == shot.stat().st_size and images[0].data.places
    assert "ValueError" in images[1].data.text
    localized = events("localize")[0].data.regions[0]
    assert (localized.path, localized.name) == ("shop/pricing.py", "apply_discount")
    assert "in the traceback read from the image" in localized.reasons
    status = await wait_until_settled(real_shop, task)
    assert [image["name"] for image in status["images"]] == ["crash.png", "dialog.png"]
    with pytest.raises(Exception, match="only file: URIs"):
        await command(real_shop, "start", instruction="fix it",
                      images=[{"uri": "https://example.com/a.png"}])  # fmt: skip


async def test_the_web_page_shares_the_editors_tasks_and_applies_through_the_editor(
    scripted_with_web: LanguageClient,
) -> None:
    """web.enabled inside the language server: a task started in the editor is listed and
    streamed over HTTP, and applying it from the web sends the WorkspaceEdit to the editor."""
    client = scripted_with_web
    for _ in range(100):  # the page starts in `initialized`, which may still be running
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="treellama.status")
        )
        if status["web"]:
            break
        await asyncio.sleep(0.1)
    url = status["web"]["url"]
    assert url.startswith("http://127.0.0.1:") and "?token=" in url
    base, token = url.split("/?token=")
    script(call("edit_file", path="calc.py", old="return a - b", new="return a + b"),
           call("finish", summary="add() adds"))  # fmt: skip
    started = await start(client, "fix add", approvalPolicy="never")
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as web:  # fmt: skip
        listed = (await web.get("/api/v1/tasks")).json()["tasks"]
        assert started["taskId"] in [t["taskId"] for t in listed]
        kinds = []
        async with web.stream("GET", f"/api/v1/tasks/{started['taskId']}/events") as events:
            async for line in events.aiter_lines():
                if line.startswith("data: "):
                    kinds.append(json.loads(line[6:])["kind"])
        assert "tool_call" in kinds and kinds[-1] == "done", kinds
        assert (WEB_PROJECT / "calc.py").read_text() == CALC
        applied = await web.post(f"/api/v1/tasks/{started['taskId']}/apply")
        assert applied.status_code == 200 and applied.json()["applied"] is True, applied.text
        assert len(client.edits) == 1  # type: ignore[attr-defined]
        assert (WEB_PROJECT / "calc.py").read_text() == FIXED
        # A task started over HTTP shows in the editor, as its events.
        script(call("finish", summary="nothing to do"))
        posted = (
            await web.post("/api/v1/tasks", json={"instruction": "look around", "effort": "low"})
        ).json()
    settled = await wait_until_settled(client, posted["id"])
    assert settled["status"] == "done"
    seen = {e.taskId for e in client.agent_events}  # type: ignore[attr-defined]
    assert posted["id"] in seen
