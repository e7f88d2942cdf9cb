"""The task API and its guard, with a real HTTP client (httpx) against the real server
(uvicorn on a loopback port). Agent tasks use a scripted agent model, given through the
constructor: its words don't matter here, only what the server does with them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.trajectory import read as read_log
from lsp_server.config import Config
from lsp_server.web.server import WebServer, standalone_core
from tests.support.projects import make_repo, write_fix_add_script
from tests.support.scripted_server import scripted_model_from

CAP = 16 << 10  # a small body cap, so the oversize bodies fit in the sockets' buffers


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[WebServer, Path, httpx.Client]]:
    repo = make_repo(tmp_path / "project")
    script = write_fix_add_script(tmp_path / "script.json")
    core, services = standalone_core(repo, Config(), model_for=scripted_model_from(script))
    server = WebServer(core, max_body=CAP, max_task_body=CAP)
    server.start_in_thread()
    base = f"http://127.0.0.1:{server.port}"
    headers = {"Authorization": f"Bearer {server.guard.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        yield server, repo, client
    server.stop()
    services.close()


def read_events(client: httpx.Client, task_id: str, last: int = 0) -> list[tuple[int, dict]]:
    """The task's SSE stream to its end: (id, event) pairs."""
    events: list[tuple[int, dict]] = []
    headers = {"Last-Event-ID": str(last)} if last else {}
    with client.stream("GET", f"/api/v1/tasks/{task_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        ident = 0
        for line in response.iter_lines():
            if line.startswith("id: "):
                ident = int(line[4:])
            elif line.startswith("data: "):
                events.append((ident, json.loads(line[6:])))
    return events


def test_a_standalone_web_task_sees_the_code_index(web):
    """`treellama web` builds its services as the editor does (lsp_server.services)."""
    server, _repo, client = web
    started = client.post("/api/v1/tasks", json={"instruction": "make add() add", "effort": "low"})
    task_id = started.json()["id"]
    read_events(client, task_id)
    state = server.core.manager.status(task_id)
    task = next(r for r in read_log(Path(state.log)) if r["type"] == "task")
    assert task["code_index"] is True


def test_a_task_runs_streams_its_steps_and_is_applied(web):
    _server, repo, client = web
    started = client.post("/api/v1/tasks", json={"instruction": "make add() add", "effort": "low"})
    assert started.status_code == 201, started.text
    task_id = started.json()["id"]
    events = read_events(client, task_id)
    kinds = [event["kind"] for _, event in events]
    assert "tool_call" in kinds and kinds[-1] == "done", kinds
    ids = [ident for ident, _ in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Resuming after an event gets only what came after it.
    resumed = read_events(client, task_id, last=ids[2])
    assert [ident for ident, _ in resumed] == ids[3:]

    listed = client.get("/api/v1/tasks").json()["tasks"]
    assert [t["taskId"] for t in listed] == [task_id]
    status = client.get(f"/api/v1/tasks/{task_id}").json()
    assert status["status"] == "done" and status["changes"][0]["path"] == "calc.py"
    diff = client.get(f"/api/v1/tasks/{task_id}/diff").json()["diff"]
    assert "-    return a - b" in diff and "+    return a + b" in diff
    log = client.get(f"/api/v1/tasks/{task_id}/log").json()
    assert "edit_file" in log["text"] and log["records"]
    assert (repo / "calc.py").read_text().count("a - b") == 1  # nothing applied yet

    applied = client.post(f"/api/v1/tasks/{task_id}/apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["files"] == ["calc.py"]
    assert "return a + b" in (repo / "calc.py").read_text()
    again = client.post(f"/api/v1/tasks/{task_id}/apply")
    assert again.status_code == 409 and again.json()["error"]["message"]


def test_a_file_changed_since_the_task_started_is_never_overwritten(web):
    _server, repo, client = web
    started = client.post("/api/v1/tasks", json={"instruction": "make add() add", "effort": "low"})
    task_id = started.json()["id"]
    read_events(client, task_id)
    (repo / "calc.py").write_text("# mine\ndef add(a, b):\n    return b - a\n")
    refused = client.post(f"/api/v1/tasks/{task_id}/apply")
    assert refused.status_code == 409
    assert "calc.py (changed since the task started)" in refused.json()["error"]["message"]
    assert (repo / "calc.py").read_text().startswith("# mine")
    discarded = client.post(f"/api/v1/tasks/{task_id}/discard")
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"


def test_bad_requests_get_clear_errors_and_the_server_stays_up(web):
    server, _, client = web
    base, token = f"http://127.0.0.1:{server.port}", server.guard.token
    cases = [
        (httpx.get(f"{base}/api/v1/tasks"), 401, "invalid_api_key"),
        (httpx.get(f"{base}/api/v1/tasks", headers={"Authorization": "Bearer nope"}), 401, ""),
        (client.post("/api/v1/tasks", json={"instruction": "x"},
                     headers={"Origin": "http://evil.example"}), 403, "bad_origin"),
        (client.get("/api/v1/tasks/t1/events", headers={"Origin": "http://evil.example"}),
         403, "bad_origin"),
        (client.get("/api/v1/tasks", headers={"Host": f"rebind.example:{server.port}"}),
         403, "bad_host"),
        (client.get("/api/v1/tasks", headers={"Host": "127.0.0.1.rebind.example"}), 403, ""),
        # Another page on this machine (another local port) cannot act through the cookie.
        (client.post("/api/v1/tasks/t1/cancel", headers={"Origin": "http://127.0.0.1:3000"}),
         403, "bad_origin"),
        (client.post("/api/v1/tasks", content=b"x" * (2 * CAP)), 413, "body_too_large"),
        (client.post("/api/v1/tasks", content=(b"x" * 4096 for _ in range(8))), 413, ""),
        (client.post("/api/v1/tasks", content=b"{not json"), 400, "invalid_json"),
        (client.post("/api/v1/tasks", json=["a list"]), 400, "invalid_json"),
        (client.post("/api/v1/tasks", json={"effort": "low"}), 400, "missing_field"),
        (client.post("/api/v1/tasks", json={"instruction": "x", "effort": "huge"}), 400, ""),
        (client.post("/api/v1/tasks", json={"instruction": "stuff"}), 400,
         "instruction_needs_detail"),
        (client.get("/api/v1/tasks/t404"), 404, "task_not_found"),
        (client.post("/api/v1/tasks/t404/steer", json={"message": "hi"}), 404, ""),
        (client.get("/api/v1/tasks/t404/events"), 404, ""),
        (client.get("/api/v1/nothing-here"), 404, "not_found"),
        (client.post("/v1/chat/completions", json={"messages": [{"role": "user",
                                                                  "content": "hi"}]}),
         503, "model_not_loaded"),
    ]  # fmt: skip
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        error = response.json()["error"]
        assert error["message"] and error["type"], error
        if code:
            assert error["code"] == code, error
    # Still up, and the same-origin page and token-less curl-style clients work as before.
    assert client.get("/api/v1/tasks").status_code == 200
    same_origin = {"Origin": base}
    assert client.post("/api/v1/tasks/t404/cancel", headers=same_origin).status_code == 404
    assert (
        httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {token}"}).json()["data"][
            0
        ]["owned_by"]
        == "treellama"
    )


def test_the_page_takes_its_token_once_then_works_from_the_cookie(web):
    server, _, _ = web
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=base, follow_redirects=True) as browser:
        assert browser.get("/").status_code == 401
        first = browser.get(f"/?token={server.guard.token}")  # follows the redirect
        assert first.status_code == 200 and "<title>treellama</title>" in first.text
        assert first.history and first.history[0].status_code == 303
        assert "token=" not in str(first.url)
        assert browser.get("/static/app.js").status_code == 200
        assert browser.get("/api/v1/tasks").json() == {"tasks": []}
        document = browser.get("/api/v1/openapi.json").json()
        assert {"/api/v1/tasks", "/api/v1/tasks/{task_id}/events", "/v1/chat/completions",
                "/v1/responses"} <= set(document["paths"])  # fmt: skip
        assert set(document["paths"]["/api/v1/tasks"]) == {"get", "post"}
    assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")


def test_steer_and_cancel_reach_a_running_task(tmp_path):
    repo = make_repo(tmp_path / "project")
    script = tmp_path / "script.json"
    slow = '{"thought": "", "tool": "run_command", "args": {"command": "sleep 30"}}'
    script.write_text(json.dumps([slow]))
    core, services = standalone_core(repo, Config(), model_for=scripted_model_from(script))
    server = WebServer(core)
    server.start_in_thread()
    headers = {"Authorization": f"Bearer {server.guard.token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers,
                          timeout=30) as client:  # fmt: skip
            task_id = client.post("/api/v1/tasks", json={"instruction": "wait a minute"}).json()[
                "id"
            ]
            assert client.get(f"/api/v1/tasks/{task_id}").json()["live"] is True
            steered = client.post(f"/api/v1/tasks/{task_id}/steer", json={"message": "hurry"})
            assert steered.status_code == 200, steered.text
            assert client.post(f"/api/v1/tasks/{task_id}/steer", json={}).status_code == 400
            cancelled = client.post(f"/api/v1/tasks/{task_id}/cancel")
            assert cancelled.status_code == 200
            kinds = [event["kind"] for _, event in read_events(client, task_id)]
            assert kinds[-1] == "failed"
            ended = client.get(f"/api/v1/tasks/{task_id}").json()
            assert ended["status"] == "cancelled" and ended["live"] is False
    finally:
        server.stop()
        services.close()


def test_the_page_works_behind_a_local_proxys_path(web):
    """code-server's /proxy/PORT/ (where VS Code's asExternalUri sends the browser) passes its
    own loopback Host, serves the page under a path, and sends its own Origin."""
    server, _, client = web
    proxy = {"Host": "127.0.0.1:8080"}
    first = client.get(f"/?token={server.guard.token}", headers=proxy)
    assert first.status_code == 303 and first.headers["location"] == "./"
    page = client.get("/", headers=proxy).text
    assert 'src="static/app.js"' in page and '"/static' not in page
    origin = {**proxy, "Origin": "http://127.0.0.1:8080"}
    assert client.post("/api/v1/tasks/t404/cancel", headers=origin).status_code == 404
    assert client.get("/api/v1/tasks/t404/events", headers=origin).status_code == 404


def test_cors_only_for_configured_origins(tmp_path: Path):
    repo = make_repo(tmp_path / "project")
    core, services = standalone_core(
        repo, Config(), model_for=scripted_model_from(tmp_path / "none")
    )
    server = WebServer(core, allowed_origins=("https://tools.example",))
    server.start_in_thread()
    base = f"http://127.0.0.1:{server.port}"
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"}  # fmt: skip
    try:
        tasks = f"{base}/api/v1/tasks"
        allowed = httpx.options(tasks, headers={**preflight, "Origin": "https://tools.example"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://tools.example"
        other = httpx.options(tasks, headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        token = {"Authorization": f"Bearer {server.guard.token}"}
        cancel = f"{base}/api/v1/tasks/t404/cancel"
        ok = httpx.post(cancel, headers={**token, "Origin": "https://tools.example"})
        assert ok.status_code == 404  # through the guard, to the route
        assert ok.headers["access-control-allow-origin"] == "https://tools.example"
        refused = httpx.post(cancel, headers={**token, "Origin": "https://evil.example"})
        assert refused.status_code == 403
        assert httpx.post(cancel, headers={"Origin": "https://tools.example"}).status_code == 401
    finally:
        server.stop()
        services.close()


def test_standalone_approvals_are_asked_and_answered_in_the_page(tmp_path: Path) -> None:
    """Under `untrusted`, a command waits for the user's yes: the page is told (an `approval`
    event, the list), its answer lets the command run; a deny, or a cancel, does not."""
    from agent.settings import AgentSettings
    from tests.support.projects import TEST_COMMAND

    repo = make_repo(tmp_path / "project")
    script = tmp_path / "script.json"
    calls = [{"tool": "run_command", "args": {"command": "touch made-by-the-agent.txt"}},
             {"tool": "finish", "args": {"summary": "touched"}}]  # fmt: skip
    script.write_text(json.dumps([json.dumps({"thought": "", **c}) for c in calls]))
    config = Config(agent=AgentSettings(approval_policy="untrusted", strategy="loop",
                                        test_command=TEST_COMMAND))  # fmt: skip
    core, services = standalone_core(repo, config, model_for=scripted_model_from(script))
    server = WebServer(core)
    server.start_in_thread()
    headers = {"Authorization": f"Bearer {server.guard.token}"}
    try:
        with httpx.Client(base_url=server.url.split("?")[0], headers=headers, timeout=30) as client:
            for decision, ran in (("allow", True), ("deny", False)):
                body = {"instruction": "touch it", "effort": "low"}
                task = client.post("/api/v1/tasks", json=body).json()["id"]
                for _ in range(200):
                    open_ = client.get(f"/api/v1/tasks/{task}/approvals").json()["approvals"]
                    if open_:
                        break
                    threading.Event().wait(0.05)
                (question,) = open_
                assert question["command"] == "touch made-by-the-agent.txt", question
                wrong = client.post(f"/api/v1/tasks/{task}/approvals/{question['id']}",
                                    json={"decision": "maybe"})  # fmt: skip
                assert wrong.status_code == 400
                assert client.post(f"/api/v1/tasks/{task}/approvals/999",
                                   json={"decision": "allow"}).status_code == 404  # fmt: skip
                answered = client.post(f"/api/v1/tasks/{task}/approvals/{question['id']}",
                                       json={"decision": decision})  # fmt: skip
                assert answered.status_code == 200, answered.text
                events = read_events(client, task)
                kinds = [event["kind"] for _, event in events]
                assert "approval" in kinds and kinds[-1] == "done", kinds
                result = next(e for _, e in events if e["kind"] == "tool_result")
                assert result["data"]["ok"] is ran, result
                tree_file = client.get(f"/api/v1/tasks/{task}").json()
                assert ("made-by-the-agent.txt" in tree_file["files"]) is ran, tree_file
                assert client.get(f"/api/v1/tasks/{task}/approvals").json()["approvals"] == []
    finally:
        server.stop()
        services.close()


def test_an_image_path_outside_the_workspace_sent_by_the_user_is_read(web, tmp_path):
    """The page (or a local tool with the token) sends a path the user picked outside the
    project: the user's choice is the approval, so it is read, and nobody is asked."""
    from tests.support import screenshots

    _server, _repo, client = web
    shot = tmp_path / "Desktop" / "dialog.png"
    shot.parent.mkdir()
    shot.write_bytes(screenshots.error_dialog().image)
    body = {"instruction": "make add() add", "effort": "low", "images": [{"path": str(shot)}]}
    started = client.post("/api/v1/tasks", json=body)
    assert started.status_code == 201, started.text
    events = [event for _, event in read_events(client, started.json()["id"])]
    (image,) = [event for event in events if event["kind"] == "image"]
    assert "refused" not in image["data"], image
    assert image["data"]["name"] == "dialog.png" and "ValueError" in image["data"]["text"]
    assert "approval" not in [event["kind"] for event in events]
