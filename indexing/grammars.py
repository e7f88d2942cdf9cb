"""Which tree-sitter grammars are available, from tree-sitter-language-pack (bundled, offline)."""

from __future__ import annotations

# The languages the index promises to understand.
CORE_LANGUAGES = (
    "python", "javascript", "typescript", "tsx", "rust", "go", "java", "c", "cpp",
    "csharp", "ruby", "php", "bash", "sql", "lua",
)  # fmt: skip


def grammar_status(languages: tuple[str, ...] = CORE_LANGUAGES) -> dict[str, str | None]:
    """Maps each language to None when its grammar loads, or to the reason it does not."""
    try:
        from tree_sitter_language_pack import get_parser
    except ImportError as exc:
        return {
            language: f"tree-sitter-language-pack is not installed ({exc})"
            for language in languages
        }
    status: dict[str, str | None] = {}
    for language in languages:
        try:
            get_parser(language)  # type: ignore[arg-type]
            status[language] = None
        except Exception as exc:
            status[language] = str(exc) or type(exc).__name__
    return status
