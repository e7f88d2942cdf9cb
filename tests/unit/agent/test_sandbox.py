"""The sandbox layers, for real: each test runs actual commands under bubblewrap or Landlock
(skipped where the layer cannot work on this machine; `make test` installs bubblewrap)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from agent.approvals import ApprovalRules, DenyAll
from agent.env.sandbox import BWRAP_ISOLATION, Sandbox, probe
from agent.env.worktree import TaskTree
from agent.loop.tools import ToolContext, run_command
from agent.settings import AgentSettings

REPORT = probe()
LAYERS = [
    pytest.param(
        layer,
        marks=pytest.mark.skipif(
            layer not in REPORT.available, reason=f"{layer} does not work here"
        ),
    )
    for layer in ("bubblewrap", "landlock")
]


def sandbox(tmp_path: Path, layer: str, **settings: int) -> Sandbox:
    worktree = tmp_path / "worktree"
    worktree.mkdir(exist_ok=True)
    report = probe(layer)
    assert report.layer == layer
    return Sandbox(worktree, tmp_path / "scratch", AgentSettings(**settings), report)


@pytest.mark.parametrize("layer", LAYERS)
def test_writes_only_inside_the_worktree(tmp_path: Path, layer: str) -> None:
    outside = Path(__file__).parent / "sandbox-escape.txt"  # the real, writable checkout
    beside = tmp_path / "beside.txt"  # under /tmp, which the sandbox replaces with its own
    box = sandbox(tmp_path, layer)
    result = box.run(f"echo in > inside.txt && echo out > {outside}")
    box.run(f"echo out > {beside}")
    assert result.exit_code != 0
    assert (box.worktree / "inside.txt").read_text() == "in\n"
    assert not outside.exists() and not beside.exists()
    assert box.run("echo scratch > $TMPDIR/x && cat $TMPDIR/x").output.strip() == "scratch"


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_network_is_blocked(tmp_path: Path, layer: str) -> None:
    """A server on the host's loopback: sandboxed commands must not reach it (under "none"
    they do, which shows the test can tell)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    box = (
        sandbox(tmp_path, layer)
        if layer != "none"
        else Sandbox(tmp_path, tmp_path / "scratch", AgentSettings(), probe("none"))
    )
    script = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('connected')\n"
        "except OSError as exc:\n"
        "    print('blocked', exc)\n"
    )
    (box.worktree / "net.py").write_text(script)
    result = box.run("python3 net.py")
    try:
        server.accept()[0].close()
        reached = True
    except TimeoutError:
        reached = False
    server.close()
    if layer == "none":
        assert reached and "connected" in result.output
    else:
        assert not reached and "blocked" in result.output, result.output


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_timeout_kills_a_setsid_grandchild(tmp_path: Path, layer: str) -> None:
    box = (
        sandbox(tmp_path, layer, command_timeout_s=1)
        if layer != "none"
        else Sandbox(
            (tmp_path / "worktree"),
            tmp_path / "scratch",
            AgentSettings(command_timeout_s=1),
            probe("none"),
        )
    )
    box.worktree.mkdir(exist_ok=True)
    marker = box.worktree / "survived"
    started = time.monotonic()
    result = box.run(f"setsid sh -c 'sleep 2; touch {marker}' & sleep 30")
    assert result.timed_out and time.monotonic() - started < 5
    time.sleep(2.5)
    assert not marker.exists(), "a detached grandchild outlived the timeout"


@pytest.mark.skipif("bubblewrap" not in REPORT.available, reason="bubblewrap does not work here")
def test_cap_drop_prevents_remounting_read_only_paths(tmp_path: Path) -> None:
    protected = tmp_path / "protected"
    protected.mkdir()
    remount = "mount -o remount,bind,rw /mnt && touch /mnt/written"

    def bwrap(isolation: list[str]) -> None:
        subprocess.run(
            [
                "bwrap",
                *isolation,
                "--ro-bind",
                "/",
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--ro-bind",
                str(protected),
                "/mnt",
                "sh",
                "-c",
                remount,
            ],
            capture_output=True,
            timeout=30,
        )

    without_cap_drop = [a for a in BWRAP_ISOLATION if a not in ("--cap-drop", "ALL")]
    bwrap(without_cap_drop)
    assert (protected / "written").exists(), "expected: without --cap-drop the remount works"
    (protected / "written").unlink()
    bwrap(BWRAP_ISOLATION)
    assert not (protected / "written").exists()
    # And our own command line, as the agent runs it:
    box = sandbox(tmp_path, "bubblewrap")
    result = box.run("mount -o remount,bind,rw / && touch /remounted")
    assert result.exit_code != 0 and not Path("/remounted").exists()


@pytest.mark.parametrize("layer", LAYERS)
def test_limits_output_and_environment(tmp_path: Path, layer: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "a" * 36)
    box = sandbox(tmp_path, layer, max_file_mb=1, output_kb=4)
    env = box.run("env").output
    assert "AWS_SECRET" not in env and "GITHUB_TOKEN" not in env and "PATH=" in env
    big = box.run("head -c 3000000 /dev/zero > big.bin")
    assert big.exit_code != 0 and (box.worktree / "big.bin").stat().st_size <= 1 << 20
    assert box.run("ulimit -c").output.strip() == "0"
    chatty = box.run("seq 1 100000")
    assert chatty.truncated_bytes > 0 and len(chatty.output) < 8 * 1024
    assert chatty.output.startswith("1\n2\n") and chatty.output.rstrip().endswith("100000")


@pytest.mark.parametrize("layer", LAYERS)
def test_python_runs_a_same_size_edit_made_in_the_same_second(tmp_path: Path, layer: str) -> None:
    """Bytecode caches are keyed by whole-second mtime and size: a cached .pyc would run the
    code from before the edit."""
    box = sandbox(tmp_path, layer)
    module = box.worktree / "calc.py"
    module.write_text("def add(a, b):\n    return a - b\n")
    run = "python3 -c 'import calc; print(calc.add(2, 1))'"
    assert box.run(run).output.strip() == "1"
    stamp = module.stat().st_mtime_ns
    module.write_text("def add(a, b):\n    return a + b\n")
    os.utime(module, ns=(stamp, stamp))  # as if both edits fell in the same second
    assert box.run(run).output.strip() == "3"


def test_with_no_layer_every_command_needs_approval(tmp_path: Path) -> None:
    rules = ApprovalRules("on-request", "none")
    assert rules.verdict("ls").ask and rules.verdict("python -m pytest").ask
    assert ApprovalRules("never", "none").verdict("ls").refused
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "a.txt").write_text("a\n")
    tree = TaskTree.create(workspace, tmp_path / "task" / "tree")
    box = Sandbox(tree.root, tmp_path / "task", AgentSettings(), probe("none"))
    context = ToolContext("t1", tree, box, rules, DenyAll())
    result = run_command(context, "touch ran.txt")
    assert not result.ok and "declined" in result.text
    assert not (tree.root / "ran.txt").exists() and not (workspace / "ran.txt").exists()


def test_probe_reports_every_layer() -> None:
    report = probe()
    assert report.layer in ("bubblewrap", "landlock", "none")
    assert len(report.details) >= 2
    if os.environ.get("CI") and report.layer == "none":
        pytest.fail(f"no sandbox layer works in CI: {report.details}")
