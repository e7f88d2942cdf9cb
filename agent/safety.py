"""What the agent refuses, what always needs approval, and what never reaches the model.

- Clearly malicious requests (malware, credential theft, destroying data outside the task) are
  refused before any model call.
- Destructive commands need approval whatever the approval policy.
- Secrets: files that hold them are never read or copied into the task's workspace, and text
  that looks like a secret is redacted before it goes to the model or into a log.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath

_MALICIOUS = [
    (
        r"\b(keylogger|ransomware|rootkit|botnet|cryptojack\w*|computer virus|write (a )?virus|"
        r"worm that spreads)\b",
        "writing malware",
    ),
    (
        r"\b(steal|exfiltrat\w*|harvest|dump|grab)\b.{0,40}\b(passwords?|credentials?|cookies?|tokens?|"
        r"ssh keys?|private keys?|api keys?|wallets?)\b",
        "stealing credentials",
    ),
    (r"\b(reverse shell|bind shell|backdoor)\b", "opening a backdoor"),
    (r"\b(ddos|denial[- ]of[- ]service attack|flood (the|a) server)\b", "attacking a service"),
    (
        r"\b(wipe|destroy|erase|delete)\b.{0,30}\b(the )?(whole |entire )?(disk|hard drive|"
        r"home directory|file ?system|every file on|all files on|system files)\b",
        "destroying data outside the task",
    ),
    (r"rm\s+-rf\s+(/|~|\$HOME)(\s|$)", "destroying data outside the task"),
]


def refusal(instruction: str) -> str | None:
    """Why the request is refused, or None. Deliberately narrow: only the clear-cut cases."""
    lowered = instruction.lower()
    for pattern, what in _MALICIOUS:
        if re.search(pattern, lowered):
            return f"treellama does not help with {what}"
    return None


# Each entry is a command word and the arguments that make it destructive ("" = always).
_DESTRUCTIVE: dict[str, tuple[str, ...]] = {
    "rm": ("-r", "-R", "-rf", "-fr", "--recursive", "-Rf", "-fR"),
    "git": ("push", "reset --hard", "clean", "checkout --", "branch -D", "filter-branch", "rebase"),
    "dd": ("",),
    "mkfs": ("",),
    "shred": ("",),
    "shutdown": ("",),
    "reboot": ("",),
    "sudo": ("",),
    "su": ("",),
    "chmod": ("-R",),
    "chown": ("",),
    "kill": ("-9 -1", "-1"),
    "truncate": ("",),
    "find": ("-delete", "-exec rm"),
}
_PIPE_TO_SHELL = re.compile(r"(curl|wget)\b[^|]*\|\s*(sudo\s+)?(ba|z|da)?sh\b")
_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\||\n)\s*")


def simple_commands(command: str) -> list[list[str]]:
    words = []
    for part in _SPLIT.split(command):
        try:
            argv = shlex.split(part)
        except ValueError:
            argv = part.split()
        if argv:
            words.append(argv)
    return words


def destructive(command: str) -> str | None:
    """Why `command` is on the deny-list (it always needs approval), or None."""
    if _PIPE_TO_SHELL.search(command):
        return "pipes a download into a shell"
    if re.search(r">\s*/dev/(sd|nvme|hd)", command) or ":(){" in command.replace(" ", ""):
        return "can destroy the system"
    for argv in simple_commands(command):
        name = PurePosixPath(argv[0]).name
        triggers = _DESTRUCTIVE.get(name)
        if triggers is None:
            continue
        rest = " ".join(argv[1:])
        for trigger in triggers:
            if trigger == "" or f" {trigger} " in f" {rest} " or _has_flag(argv[1:], trigger):
                return f"`{name} {trigger}`".replace(" `", "`") + " is destructive"
    return None


def _has_flag(args: list[str], flag: str) -> bool:
    """`-r` is in `-rf` too: short flags combine."""
    if len(flag) != 2 or not flag.startswith("-"):
        return False
    return any(a.startswith("-") and not a.startswith("--") and flag[1] in a[1:] for a in args)


_READ_ONLY = {
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "grep",
    "rg",
    "pwd",
    "echo",
    "tree",
    "file",
    "stat",
    "diff",
    "which",
    "sort",
    "uniq",
    "cut",
    "true",
}
_READ_ONLY_GIT = {"status", "diff", "log", "show", "blame", "ls-files", "grep"}


def read_only(command: str) -> bool:
    """Commands that `untrusted` runs without asking: they only read."""
    if re.search(r"[<>`]|\$\(", command):
        return False
    for argv in simple_commands(command):
        name = PurePosixPath(argv[0]).name
        if name == "git" and len(argv) > 1 and argv[1] in _READ_ONLY_GIT:
            continue
        if name == "find" and not {"-exec", "-execdir", "-delete", "-ok"} & set(argv):
            continue
        if name not in _READ_ONLY:
            return False
    return True


_SECRET_NAMES = re.compile(
    r"(^|/)(\.env(\.[^/]*)?|\.envrc|\.netrc|\.npmrc|\.pypirc|\.git-credentials|credentials(\.json)?|"
    r"secrets?\.(json|ya?ml|toml)|id_(rsa|dsa|ecdsa|ed25519)(\.pub)?|[^/]*\.(pem|key|p12|pfx|jks|keystore))$"
)
_EXAMPLES = re.compile(r"\.(example|sample|template|dist)$")


def secret_path(path: str) -> bool:
    """Files that hold secrets: never read, copied or shown to the model."""
    return bool(_SECRET_NAMES.search(path)) and not _EXAMPLES.search(path)


_SECRET_TEXT = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\bsk-(proj-|ant-)?[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
]
_ASSIGNED = re.compile(
    r"""(?i)\b([A-Z0-9_]*(password|passwd|secret|token|api_?key|access_?key|private_?key))\b(\s*[:=]\s*)(["']?)([^\s"',;]{6,})"""
)
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    for pattern in _SECRET_TEXT:
        text = pattern.sub(REDACTED, text)
    return _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(3)}{m.group(4)}{REDACTED}", text)
