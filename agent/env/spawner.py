"""The process that starts every sandboxed command: `python -m agent.env.spawner SPEC_JSON`.

Limits are applied here, in a process of its own, never in `preexec_fn` (which runs in a
forked copy of a threaded server and can deadlock). It then either execs bubblewrap, whose PID
namespace takes the whole tree down on timeout, or, as the fallback, locks itself down with
Landlock (files, TCP) and a seccomp filter (no internet sockets) and runs the command as a
child subreaper: processes that detach with setsid are reparented to it, so on SIGTERM it can
find and kill every one of them.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
import resource
import signal
import struct
import sys
import time
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock filesystem rights by the ABI that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_ABI1 = (1 << 13) - 1
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_SECCOMP_ARCH = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}  # (AUDIT_ARCH, socket)
AF_INET, AF_INET6 = 2, 10

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is not available."""
    abi = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET,
        None,
        ctypes.c_size_t(0),
        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION),
    )
    return max(int(abi), 0)


def _fs_rights(abi: int) -> int:
    rights = FS_ABI1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _check(result: int, what: str) -> int:
    if result < 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


def apply_landlock(writable: list[str], abi: int) -> None:
    """Read and execute everywhere; write only beneath `writable`; no TCP at ABI 4 and up."""
    handled = _fs_rights(abi)
    if abi >= 6:
        attr = struct.pack(
            "QQQ",
            handled,
            NET_BIND_TCP | NET_CONNECT_TCP,
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL,
        )
    elif abi >= 4:
        attr = struct.pack("QQ", handled, NET_BIND_TCP | NET_CONNECT_TCP)
    else:
        attr = struct.pack("Q", handled)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(
        _libc.syscall(
            SYS_LANDLOCK_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)
        ),
        "landlock_create_ruleset",
    )
    read = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
    device = read | FS_WRITE_FILE | (FS_IOCTL_DEV if abi >= 5 else 0)
    if abi >= 3:
        device |= FS_TRUNCATE
    rules = [("/", read), ("/dev", device)] + [(path, handled) for path in writable]
    for path, rights in rules:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
            _check(
                _libc.syscall(
                    SYS_LANDLOCK_ADD_RULE,
                    ctypes.c_int(ruleset),
                    ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                    rule,
                    ctypes.c_uint32(0),
                ),
                f"landlock_add_rule {path}",
            )
        finally:
            os.close(fd)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(
        _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
        "landlock_restrict_self",
    )
    os.close(ruleset)


def seccomp_supported() -> bool:
    return platform.machine() in _SECCOMP_ARCH


def apply_seccomp_no_internet() -> None:
    """socket(AF_INET or AF_INET6, ...) fails with EPERM: no TCP, no UDP, no DNS."""
    arch, socket_nr = _SECCOMP_ARCH[platform.machine()]
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [  # (code, jt, jf, k)
        (0x20, 0, 0, 4),  # load arch
        (0x15, 0, 5, arch),
        (0x20, 0, 0, 0),  # load syscall number
        (0x15, 0, 3, socket_nr),
        (0x20, 0, 0, 16),  # load args[0] (the address family)
        (0x15, 2, 0, AF_INET),
        (0x15, 1, 0, AF_INET6),
        (0x06, 0, 0, allow),
        (0x06, 0, 0, deny),
    ]
    filters = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(filters, len(filters))
    prog = struct.pack("HxxxxxxP", len(program), ctypes.addressof(buffer))
    prog_buffer = ctypes.create_string_buffer(prog, len(prog))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog_buffer, 0, 0), "seccomp")


def set_limits(limits: dict[str, int]) -> None:
    names = {
        "cpu_s": resource.RLIMIT_CPU,
        "memory_bytes": resource.RLIMIT_AS,
        "file_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
    }
    for key, which in names.items():
        if key in limits:
            value = limits[key]
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_descendants() -> None:
    me = os.getpid()
    for _ in range(50):
        pids = _descendants(me)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.01)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_reaping(argv: list[str]) -> int:
    """Runs `argv` as our child; orphans of its tree become ours, and die with it on SIGTERM."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def stop(signum: int, frame: object) -> None:
        kill_descendants()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(2, f"treellama sandbox: cannot run {argv[0]}: {exc}\n".encode())
            os._exit(127)
    _, status = os.waitpid(child, 0)
    kill_descendants()  # nothing the command started outlives it
    return os.waitstatus_to_exitcode(status)


def main(spec: dict) -> int:
    set_limits(spec.get("limits", {}))
    argv = spec["argv"]
    landlock = spec.get("landlock")
    if landlock is not None:
        apply_landlock(landlock["writable"], landlock["abi"])
    if spec.get("seccomp_no_internet"):
        apply_seccomp_no_internet()
    if spec.get("reap"):
        return run_reaping(argv)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    try:
        sys.exit(main(json.loads(sys.argv[1])))
    except OSError as exc:
        sys.stderr.write(f"treellama sandbox: {exc}\n")
        sys.exit(126)
