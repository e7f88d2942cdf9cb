"""Which tree-sitter grammar reads a document: from the editor's languageId, else the file name."""

from __future__ import annotations

from pathlib import PurePath

EXTENSIONS = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript",
    ".cts": "typescript", ".tsx": "tsx", ".rs": "rust", ".go": "go", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".sh": "bash", ".bash": "bash", ".sql": "sql", ".lua": "lua",
}  # fmt: skip

# LSP languageIds that differ from the grammar's name.
LANGUAGE_IDS = {
    "javascriptreact": "javascript",
    "typescriptreact": "tsx",
    "shellscript": "bash",
    "sh": "bash",
    "c++": "cpp",
    "cs": "csharp",
}

SUPPORTED = frozenset(EXTENSIONS.values())


def language_for(language_id: str | None, path: str) -> str | None:
    if language_id:
        name = LANGUAGE_IDS.get(language_id, language_id)
        if name in SUPPORTED:
            return name
    return EXTENSIONS.get(PurePath(path).suffix.lower())
