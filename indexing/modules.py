"""Resolving an import to the workspace file it names, for Python and JavaScript/TypeScript.

Best effort by design: Python modules are looked up relative to the importing package (for
`from .x import y`) or from any directory that could be a source root (`pkg.mod` matches
`pkg/mod.py`, `src/pkg/mod.py`, ...); JavaScript/TypeScript relative specifiers try the usual
extensions and `index` files. Packages from outside the workspace resolve to nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection

JS_SUFFIXES = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", "/index.ts", "/index.tsx",
               "/index.js", "/index.jsx")  # fmt: skip


def _python_candidates(importer: str, module: str) -> list[str]:
    if module.startswith("."):
        level = len(module) - len(module.lstrip("."))
        base = posixpath.dirname(importer)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        rest = module.lstrip(".").replace(".", "/")
        stem = posixpath.join(base, rest) if rest else base
        return [f"{stem}.py", f"{stem}/__init__.py", f"{stem}.pyi"]
    stem = module.replace(".", "/")
    return [f"{stem}.py", f"{stem}/__init__.py", f"{stem}.pyi"]


def resolve_module(
    importer: str, module: str, language: str | None, paths: Collection[str]
) -> list[str]:
    """Workspace files (root-relative) that `module`, imported from `importer`, may name."""
    if language == "python":
        candidates = _python_candidates(importer, module)
        found = [c for c in candidates if c in paths]
        if found or module.startswith("."):
            return found
        # An absolute import from a source root below the workspace root (src/ layouts, monorepos).
        suffixes = tuple("/" + c for c in candidates)
        return sorted((p for p in paths if p.endswith(suffixes)), key=len)[:3]
    if language in ("javascript", "typescript", "tsx"):
        if not module.startswith("."):
            return []
        stem = posixpath.normpath(posixpath.join(posixpath.dirname(importer), module))
        return [stem + suffix for suffix in JS_SUFFIXES if stem + suffix in paths][:1]
    return []


def submodule(module: str, name: str) -> str:
    """`from pkg import mod` may import a module rather than a name: pkg.mod."""
    if module.endswith("."):
        return module + name
    return f"{module}.{name}"
