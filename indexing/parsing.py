"""Parsing with tree-sitter (grammars from tree-sitter-language-pack, bundled and offline).

Parsers are not thread-safe, so each thread keeps its own. A file over MAX_PARSE_BYTES, or a
grammar that fails, yields None: callers degrade to plain text, and the server never crashes.
Tags queries are data files, `queries/<language>-tags.scm`, compiled once per language.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)

MAX_PARSE_BYTES = 4 * 1024 * 1024

_local = threading.local()


def parser_for(language: str) -> Any | None:
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    if language not in parsers:
        try:
            from tree_sitter_language_pack import get_parser

            parsers[language] = get_parser(language)  # type: ignore[arg-type]
        except Exception as exc:
            log.warning("no tree-sitter grammar for %s: %s", language, exc)
            parsers[language] = None
    return parsers[language]


def parse(source: bytes, language: str) -> Any | None:
    """The syntax tree of `source`, or None when it is too large or cannot be parsed."""
    if len(source) > MAX_PARSE_BYTES:
        return None
    parser = parser_for(language)
    if parser is None:
        return None
    try:
        return parser.parse(source)
    except Exception as exc:  # a grammar bug must not take the server down
        log.warning("tree-sitter failed on a %s file: %s", language, exc)
        return None


# Grammars that extend another one share its tags query.
QUERY_OF = {"tsx": "typescript"}


@cache
def tags_query(language: str) -> Any | None:
    """The compiled tags query for `language`, or None if there is none or it does not compile."""
    name = QUERY_OF.get(language, language)
    try:
        source = resources.files("indexing.queries").joinpath(f"{name}-tags.scm").read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    try:
        import tree_sitter
        from tree_sitter_language_pack import get_language

        return tree_sitter.Query(get_language(language), source)  # type: ignore[arg-type]
    except Exception as exc:
        log.warning("the %s tags query does not compile: %s", language, exc)
        return None
