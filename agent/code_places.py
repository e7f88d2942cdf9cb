"""Every definition of a project's source files (not its tests) as a place to score, with
its words for BM25 (agent.localize, agent.scorers)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from agent.env.test_files import is_test_path
from agent.env.worktree import files_under
from indexing.languages import language_for
from indexing.parsing import parse
from indexing.symbols import Symbol, definitions, flatten

SMALL_FILE_LINES = 40  # a file up to this size is rewritten whole (agent.localize)
MAX_FILES = 3000
MAX_FILE_BYTES = 400_000
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class _Place:
    path: str
    symbol: Symbol | None  # None: the module level of the file
    lines: int
    words: Counter[str]
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    missing: str = ""  # a name the tests import from this module and it lacks
    source: list[str] = field(default_factory=list, repr=False)  # the file's lines, shared

    def add(self, points: float, reason: str) -> None:
        self.score += points
        if reason not in self.reasons:
            self.reasons.append(reason)


def stem(word: str) -> str:
    """A light stem, so that "parsed", "parses" and "parse" meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)].rstrip("e") if suffix == "ing" else word[: -len(suffix)]
    return word.rstrip("e") if len(word) > 4 else word


def words_of(text: str) -> list[str]:
    """Identifier parts, lowercased and stemmed: `parse_date` and `parseDate` both give
    pars, dat; "parsed dates" gives the same."""
    found = []
    for word in WORD.findall(text):
        for part in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", word):
            if len(part) > 1:
                found.append(stem(part.lower()).rstrip("e"))
    return found


def _places(root: Path) -> list[_Place]:
    places = []
    for relative, path in sorted(files_under(root).items())[:MAX_FILES]:
        language = language_for(None, relative)
        if language is None or is_test_path(relative):
            continue
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.split("\n")
        tree = parse(text.encode("utf-8"), language)
        symbols = definitions(tree, language) if tree is not None else []
        places.append(_Place(relative, None, len(lines), Counter(words_of(text)), source=lines))
        for symbol in flatten(symbols):
            body = "\n".join(lines[symbol.start[0] : symbol.end[0] + 1])
            words = Counter(words_of(body))
            places.append(_Place(relative, symbol, len(lines), words, source=lines))
    return places


def _bm25(places: list[_Place], query: list[str]) -> list[float]:
    n = len(places) or 1
    average = sum(sum(p.words.values()) for p in places) / n or 1
    frequency = Counter(word for p in places for word in set(p.words))
    scores = []
    for place in places:
        length = sum(place.words.values())
        score = 0.0
        for word in set(query):
            tf = place.words.get(word, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - frequency[word] + 0.5) / (frequency[word] + 0.5))
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))
        scores.append(score)
    return scores


def _innermost(places: list[_Place], path: str, line: int) -> _Place | None:
    best = None
    for place in places:
        if place.path != path or place.symbol is None:
            continue
        if place.symbol.start[0] <= line <= place.symbol.end[0] and (
            best is None or place.symbol.start[0] >= best.symbol.start[0]  # type: ignore[union-attr]
        ):
            best = place
    return best


def _module(places: list[_Place], path: str) -> _Place | None:
    return next((p for p in places if p.path == path and p.symbol is None), None)


def _members(places: list[_Place], owner: _Place) -> list[_Place]:
    """The methods of a class (none for a function)."""
    symbol = owner.symbol
    if symbol is None or symbol.kind not in ("class", "struct", "interface", "impl"):
        return []
    return [
        p for p in places
        if p.path == owner.path and p.symbol is not None and p is not owner
        and symbol.start[0] < p.symbol.start[0] and p.symbol.end[0] <= symbol.end[0]
    ]  # fmt: skip


def _without_imports(code: str) -> str:
    code = PARENTHESIZED_IMPORT.sub("", code)
    return "\n".join(
        line for line in code.split("\n") if not line.lstrip().startswith(("import ", "from "))
    )


def _normal(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix().lstrip("./")


PARENTHESIZED_IMPORT = re.compile(r"^[ \t]*from[ \t]+\S+[ \t]+import[ \t]*\([^)]*\)", re.M)
