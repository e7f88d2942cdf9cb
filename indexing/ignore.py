"""Which workspace files the index skips: `.gitignore` rules, the configured excludes, binary
files and files over the size cap.

Matching is pathspec's git-wildmatch implementation (GitIgnoreSpec), not a home-made one. Each
`.gitignore` applies to its own directory and below, as in git; `.git/info/exclude` and the
configured patterns apply from the root.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

log = logging.getLogger(__name__)

ALWAYS_EXCLUDED = (".git/", ".hg/", ".svn/")
BINARY_SNIFF_BYTES = 8192


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


@dataclass
class IgnoreRules:
    root: Path
    excludes: tuple[str, ...] = ()
    _specs: dict[str, pathspec.PathSpec] = field(default_factory=dict)  # directory -> its rules

    def __post_init__(self) -> None:
        lines = [*ALWAYS_EXCLUDED, *self.excludes, *_read_lines(self.root / ".git/info/exclude")]
        self._specs[""] = pathspec.GitIgnoreSpec.from_lines(lines)
        self.load_gitignore("")

    def load_gitignore(self, directory: str) -> None:
        """Reads `<directory>/.gitignore` (relative to the root), if there is one."""
        gitignore = self.root / directory / ".gitignore"
        lines = _read_lines(gitignore)
        key = f"{directory}/.gitignore" if directory else ".gitignore"
        if lines:
            self._specs[key] = pathspec.GitIgnoreSpec.from_lines(lines)
        else:
            self._specs.pop(key, None)

    def ignored(self, relative: str, is_dir: bool = False) -> bool:
        """Whether a root-relative path ('a/b.py', with '/' separators) is excluded."""
        candidate = relative + "/" if is_dir else relative
        for key, spec in self._specs.items():
            if key == "":
                if spec.match_file(candidate):
                    return True
                continue
            directory = key[: -len(".gitignore")]  # "" for the root's, else "sub/dir/"
            if candidate.startswith(directory) and spec.match_file(candidate[len(directory) :]):
                return True
        return False


def looks_binary(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"\0" in handle.read(BINARY_SNIFF_BYTES)
    except OSError:
        return True


def walk(
    rules: IgnoreRules, languages_of: dict[str, str] | None = None
) -> list[tuple[str, os.stat_result]]:
    """Every file under the root that is not ignored (and, given `languages_of`, has one of its
    extensions) as (relative path, stat), skipping ignored directories without descending
    into them. Nested .gitignore files are read on the way."""
    found: list[tuple[str, os.stat_result]] = []
    stack = [""]
    while stack:
        directory = stack.pop()
        if directory:
            rules.load_gitignore(directory)
        try:
            entries = list(os.scandir(rules.root / directory))
        except OSError as exc:
            log.info("cannot list %s: %s", directory or ".", exc)
            continue
        for entry in entries:
            relative = f"{directory}/{entry.name}" if directory else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not rules.ignored(relative, is_dir=True):
                        stack.append(relative)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                extension = os.path.splitext(entry.name)[1].lower()
                if languages_of is not None and extension not in languages_of:
                    continue
                if rules.ignored(relative):
                    continue
                found.append((relative, entry.stat(follow_symlinks=False)))
            except OSError:
                continue
    return found
