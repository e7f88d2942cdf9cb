"""Running the agent's commands confined, limited, and with a wall-clock timeout.

Layers, strongest first; `probe` tries each for real at startup and `doctor` reports them:
- bubblewrap: user, network and PID namespaces, all capabilities dropped (without
  `--cap-drop ALL`, root inside can remount `/` read-write: tests/unit/agent/test_sandbox.py shows
  it), read-only `/`, only the task's worktree writable, a private `/tmp`, and the user's
  credential folders hidden;
- Landlock and seccomp, applied in agent.env.spawner: writes only beneath the worktree, no TCP and
  no internet sockets;
- none: the runner still limits and times out commands, but the approval layer then asks
  before every one (fail closed).
Every layer: resource limits, output capped, the environment scrubbed of secrets.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.env.spawner import landlock_abi, seccomp_supported
from agent.safety import redact
from agent.settings import AgentSettings

BWRAP_ISOLATION = [
    "--unshare-user",
    "--unshare-net",
    "--unshare-pid",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
]
HIDDEN_DIRS = (".ssh", ".aws", ".gnupg", ".config", ".docker", ".kube", ".azure")
HIDDEN_FILES = (".netrc", ".git-credentials", ".npmrc", ".pypirc")
KEPT_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "USER",
    "LOGNAME",
    "SHELL",
    "TZ",
    "VIRTUAL_ENV",
)
GRACE_S = 1.0


@dataclass(frozen=True)
class SandboxReport:
    layer: str  # "bubblewrap", "landlock" or "none"
    available: tuple[str, ...]
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    output: str
    duration_s: float
    timed_out: bool = False
    truncated_bytes: int = 0
    layer: str = "none"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def bwrap_argv(
    command: str, worktree: Path, private_tmp: Path, home: Path, needed: tuple[Path, ...] = ()
) -> list[str]:
    """`needed`: folders commands must still see, read-only, although they lie under /tmp,
    which the sandbox replaces with its own (the Python environment, the workspace)."""
    # The private /tmp goes first: the worktree may itself lie under /tmp.
    argv = [
        "bwrap",
        *BWRAP_ISOLATION,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--bind",
        str(private_tmp),
        "/tmp",
    ]
    for path in needed:
        if path.is_dir() and Path("/tmp") in path.parents:
            argv += ["--ro-bind", str(path), str(path)]
    for name in HIDDEN_DIRS:
        if (home / name).is_dir():
            argv += ["--tmpfs", str(home / name)]
    for name in HIDDEN_FILES:
        if (home / name).is_file():
            argv += ["--ro-bind", "/dev/null", str(home / name)]
    argv += [
        "--bind",
        str(worktree),
        str(worktree),
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--chdir",
        str(worktree),
        "/bin/sh",
        "-c",
        command,
    ]
    return argv


def _bubblewrap_works() -> tuple[bool, str]:
    if shutil.which("bwrap") is None:
        return False, "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap)"
    try:
        probe = subprocess.run(
            [
                "bwrap",
                *BWRAP_ISOLATION,
                "--ro-bind",
                "/",
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap failed to start: {exc}"
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or [f"exit {probe.returncode}"]
        return False, f"bubblewrap cannot create namespaces here: {reason[0]}"
    return True, "bubblewrap: namespaces for users, network and PIDs; capabilities dropped"


def probe(preferred: str = "auto") -> SandboxReport:
    """Tries each layer for real; the chosen one is the strongest that works (or the one
    configured, if it works; a configured layer that does not work falls to "none")."""
    available, details = [], []
    works, detail = _bubblewrap_works()
    details.append(detail)
    if works:
        available.append("bubblewrap")
    abi = landlock_abi()
    if abi >= 1 and seccomp_supported():
        available.append("landlock")
        net = "TCP blocked by Landlock and " if abi >= 4 else ""
        details.append(
            f"Landlock ABI {abi}: writes only in the worktree; {net}seccomp blocks internet sockets"
        )
    else:
        details.append(
            "Landlock is not available in this kernel"
            if abi < 1
            else "seccomp filters are not supported on this architecture"
        )
    if preferred == "none":
        layer = "none"
    elif preferred == "auto":
        layer = available[0] if available else "none"
    else:
        layer = preferred if preferred in available else "none"
    if layer == "none":
        details.append("no sandbox layer in use: every command needs approval")
    return SandboxReport(layer, tuple(available), tuple(details))


def scrubbed_environment(environ: dict[str, str], private_tmp: Path) -> dict[str, str]:
    """Only what commands need to run; nothing that looks like a credential."""
    env = {k: v for k, v in environ.items() if k in KEPT_ENV or k.startswith("LC_")}
    env = {k: v for k, v in env.items() if redact(f"{k}={v}") == f"{k}={v}"}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["TMPDIR"] = str(private_tmp)
    env["TREELLAMA_SANDBOX"] = "1"
    # An agent can edit a file twice within one second to the same size; Python's bytecode
    # cache (keyed by whole-second mtime and size) would then run the old code.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class _Capture:
    limit: int
    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            keep = self.limit // 4
            if len(self.tail) > keep:
                self.dropped += len(self.tail) - keep
                del self.tail[: len(self.tail) - keep]

    def text(self) -> str:
        body = self.head.decode("utf-8", errors="replace")
        if self.dropped:
            body += f"\n[... {self.dropped} bytes of output left out ...]\n"
        return body + self.tail.decode("utf-8", errors="replace")


class Sandbox:
    """Runs shell commands for one task, inside its worktree."""

    def __init__(
        self,
        worktree: Path,
        scratch: Path,
        settings: AgentSettings,
        report: SandboxReport,
        needed: tuple[Path, ...] = (),
    ) -> None:
        """`needed`: folders commands read besides the worktree (the user's workspace, for
        its virtual environment); the Python treellama runs on is always added."""
        self.worktree = worktree.resolve()
        self.private_tmp = scratch / "tmp"
        self.private_tmp.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.report = report
        paths = {Path(sys.prefix), Path(sys.base_prefix), *needed}
        self.needed = tuple(sorted(p.resolve() for p in paths))

    @property
    def layer(self) -> str:
        return self.report.layer

    def _spec(self, command: str, confined: bool) -> dict:
        limits = {
            "cpu_s": self.settings.cpu_s,
            "memory_bytes": self.settings.memory_mb << 20,
            "file_bytes": self.settings.max_file_mb << 20,
            "open_files": 1024,
        }
        layer = self.layer if confined else "none"
        if layer == "bubblewrap":
            argv = bwrap_argv(command, self.worktree, self.private_tmp, Path.home(), self.needed)
            return {"limits": limits, "argv": argv}
        spec: dict = {"limits": limits, "argv": ["/bin/sh", "-c", command], "reap": True}
        if layer == "landlock":
            writable = [str(self.worktree), str(self.private_tmp)]
            spec.update(
                landlock={"writable": writable, "abi": landlock_abi()}, seccomp_no_internet=True
            )
        return spec

    def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        confined: bool = True,
        cancel: threading.Event | None = None,
    ) -> CommandResult:
        """Runs `command` with /bin/sh in the worktree; never raises for the command's own
        failures. `confined=False` (only ever after the user approved it) keeps the limits
        and the timeout but not the layer."""
        timeout = timeout_s or self.settings.command_timeout_s
        spec = self._spec(command, confined)
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "agent.env.spawner", json.dumps(spec)],
            cwd=self.worktree,
            env=scrubbed_environment(dict(os.environ), self.private_tmp),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        capture = _Capture(self.settings.output_kb << 10)
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for chunk in iter(lambda: stdout.read1(65536), b""):  # type: ignore[attr-defined]
                capture.add(chunk)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        timed_out = False
        deadline = started + timeout
        while process.poll() is None:
            if time.monotonic() > deadline or (cancel is not None and cancel.is_set()):
                timed_out = time.monotonic() > deadline
                self._stop(process)
                break
            time.sleep(0.02)
        process.wait()
        reader.join(timeout=2)
        output = redact(capture.text())
        if timed_out:
            output += f"\n[killed after {timeout:g} s: the command timed out]"
        return CommandResult(
            exit_code=process.returncode,
            output=output,
            duration_s=time.monotonic() - started,
            timed_out=timed_out,
            truncated_bytes=capture.dropped,
            layer=spec_layer(spec),
        )

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        """SIGTERM lets the spawner kill what it reaped; then the whole group is killed.
        Under bubblewrap, killing it ends its PID namespace and everything inside."""
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def spec_layer(spec: dict) -> str:
    if spec["argv"][0] == "bwrap":
        return "bubblewrap"
    return "landlock" if spec.get("landlock") else "none"
