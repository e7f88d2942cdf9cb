"""Context retrieval for a cursor: the code elsewhere in the workspace that the model should see.

Candidates, each with the reason it was chosen:
- definitions of the identifiers used near the cursor, resolved through the file's imports
  (or, failing that, by a name defined in at most two files);
- the signatures of the enclosing scopes when they lie above the prompt's prefix window;
- chunks that BM25 finds similar to the lines before the cursor.

They are ranked by their kind's weight, times their own relevance, times the personalised
PageRank of their file from the current file and the recently edited ones (indexing.graph).
Near-duplicates of each other or of the local window are dropped. Gathering stops at a hard
deadline and returns what it has. This is also the agent's `search_code`/`find_symbol` API.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexing.facts import IMPORT_READERS, Import, signature_of
from indexing.graph import build_file_graph, personalized_pagerank
from indexing.languages import language_for
from indexing.navigation import Navigator, SymbolHit
from indexing.parsing import parse
from indexing.store import DefinitionRow
from indexing.symbols import definitions as tree_definitions
from indexing.workspace import WorkspaceIndex

IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
NEAR_BEFORE = 12
NEAR_AFTER = 3
MAX_NAMES = 16
MAX_SNIPPET_LINES = 30
SIMILAR_DUPLICATE = 0.8

KIND_WEIGHT = {"definition": 1.0, "enclosing": 0.9, "imported": 0.7, "definition-by-name": 0.6,
               "similar": 0.4}  # fmt: skip

KEYWORDS = frozenset((
    "and", "as", "assert", "async", "await", "break", "case", "catch", "class", "const",
    "continue", "def", "default", "del", "do", "elif", "else", "enum", "except", "export",
    "extends", "false", "False", "final", "finally", "fn", "for", "from", "func", "function",
    "go", "if", "impl", "import", "in", "interface", "is", "lambda", "let", "match", "mod",
    "new", "nil", "None", "nonlocal", "not", "null", "or", "package", "pass", "pub", "raise",
    "return", "self", "Self", "static", "struct", "super", "switch", "this", "throw", "true",
    "True", "try", "type", "typeof", "use", "var", "void", "while", "with", "yield", "int",
    "str", "float", "bool", "list", "dict", "tuple", "set", "bytes", "object", "string",
    "number", "any", "print", "len", "range", "isinstance",
))  # fmt: skip


@dataclass(frozen=True)
class Snippet:
    path: str  # root-relative
    start_row: int
    end_row: int
    text: str
    kind: str  # definition, definition-by-name, enclosing, similar
    reason: str
    score: float = 0.0


@dataclass
class Retrieved:
    snippets: list[Snippet] = field(default_factory=list)  # best first
    elapsed_ms: float = 0.0
    timed_out: bool = False


def _line_words(text: str) -> frozenset[str]:
    return frozenset(IDENTIFIER.findall(text))


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def names_near(lines: list[str], line: int) -> list[str]:
    """Identifiers around the cursor, nearest first, without keywords and duplicates."""
    order: dict[str, float] = {}
    for row in range(max(0, line - NEAR_BEFORE), min(len(lines), line + NEAR_AFTER + 1)):
        text = lines[row]
        for match in IDENTIFIER.finditer(text):
            name = match.group()
            if name in KEYWORDS or len(name) < 2:
                continue
            # Rows away from the cursor; on a row, nearer its end (where typing happens).
            distance = abs(line - row) + (0.5 if row > line else 0)
            distance += 0.1 * (1 - match.start() / max(1, len(text)))
            if name not in order or distance < order[name]:
                order[name] = distance
    return sorted(order, key=lambda name: order[name])


class Retriever:
    def __init__(
        self,
        index: WorkspaceIndex,
        navigator: Navigator | None = None,
        definition_style: str = "body",  # or "signature": only the header of a definition
    ) -> None:
        self.index = index
        self.definition_style = definition_style
        self.navigator = navigator or Navigator(index)
        self._graph: tuple[int, dict[str, dict[str, float]]] = (-1, {})
        self._graph_lock = threading.Lock()

    # -- the file graph, rebuilt lazily on the indexer thread --------------------------------

    def graph(self) -> dict[str, dict[str, float]]:
        """The latest file graph; a stale one is used while a fresh one is built."""
        generation = self.index.generation
        with self._graph_lock:
            built_at, graph = self._graph
            if built_at != generation and built_at != -2:
                self._graph = (-2, graph)  # building
                self.index.submit(lambda: self._rebuild(generation))
        return graph

    def _rebuild(self, generation: int) -> None:
        graph = build_file_graph(self.index.store)
        with self._graph_lock:
            self._graph = (generation, graph)

    # -- snippets --------------------------------------------------------------------------

    def _definition_text(self, row: DefinitionRow) -> str | None:
        text = self.navigator.read_text(self.index.absolute(row.path))
        if text is None:
            return None
        lines = text.split("\n")
        last = min(row.end_row, row.start_row + MAX_SNIPPET_LINES - 1)
        if self.definition_style == "signature":
            last = row.start_row  # below: the header, and a class's member signatures
        body = lines[row.start_row : last + 1]
        if row.kind in ("class", "struct", "interface", "impl") and row.end_row > last:
            # A big class: its header and its members' signatures, not half of its body.
            members = [
                d for d in self.index.store.definitions_in(row.path)
                if d.container == row.name and row.start_row < d.start_row <= row.end_row
            ]  # fmt: skip
            body = [signature_of(lines, row.start_row, row.end_row)]
            body += [d.signature for d in members[:MAX_SNIPPET_LINES]]
        elif self.definition_style == "signature":
            body = [signature_of(lines, row.start_row, row.end_row)]
        return "\n".join(body)

    def _definitions(
        self, relative: str, imports: list[Import], names: list[str], deadline: float
    ) -> list[Snippet]:
        found: list[Snippet] = []
        for rank, name in enumerate(names[:MAX_NAMES]):
            if time.monotonic() > deadline:
                break
            nearness = 1.0 / (1 + 0.15 * rank)
            rows = self.navigator._through_imports(relative, imports, name)
            kind = "definition"
            how = "imported"
            if not rows:
                rows = [
                    r for r in self.index.store.definitions_named(name, 3) if r.path != relative
                ]
                if len({r.path for r in rows}) > 2:
                    continue  # a common name: which one is meant is a guess
                kind, how = "definition-by-name", "same name"
            for row in rows[:2]:
                if row.path == relative or row.kind == "module":
                    continue
                text = self._definition_text(row)
                if text:
                    where = f"{row.path}:{row.start_row + 1}"
                    reason = f"definition of {name} used near the cursor ({how}, {where})"
                    found.append(
                        Snippet(row.path, row.start_row, row.end_row, text, kind, reason, nearness)
                    )
        return found

    def _enclosing(self, relative: str, text: str, language: str, line: int,
                   window_start: int) -> list[Snippet]:  # fmt: skip
        tree = parse(text.encode("utf-8"), language)
        if tree is None:
            return []
        lines = text.split("\n")
        found = []
        for symbol in tree_definitions(tree, language):
            if symbol.start[0] < window_start <= line <= symbol.end[0]:
                signature = signature_of(lines, symbol.start[0], symbol.end[0])
                reason = f"signature of the enclosing {symbol.kind} {symbol.name}, above the window"
                found.append(Snippet(relative, symbol.start[0], symbol.start[0], signature,
                                     "enclosing", reason, 1.0))  # fmt: skip
        return found

    def _imported(self, relative: str, imports: list[Import], deadline: float) -> list[Snippet]:
        """The signatures of everything the file imports from the workspace, one snippet per
        module: what the user is about to call is usually among them, even when nothing near
        the cursor names it yet."""
        by_module: dict[str, list[DefinitionRow]] = {}
        for item in imports:
            if time.monotonic() > deadline:
                break
            for row in self.navigator._through_imports(relative, imports, item.local_name)[:1]:
                if row.path != relative and row.kind != "module":
                    by_module.setdefault(row.path, []).append(row)
        found = []
        for rank, (path, rows) in enumerate(by_module.items()):
            signatures = [r.signature.split("\n")[0].strip() if r.kind in ("class", "struct")
                          else r.signature.strip() for r in rows]  # fmt: skip
            names = ", ".join(r.name for r in rows[:6])
            reason = f"signatures of what this file imports from {path} ({names})"
            # A synthetic row span (-1): it summarises the module and overlaps no real snippet.
            found.append(Snippet(path, -1, -1, "\n".join(dict.fromkeys(signatures)), "imported",
                                 reason, 1.0 / (1 + 0.1 * rank)))  # fmt: skip
        return found

    def _similar(self, relative: str, lines: list[str], line: int) -> list[Snippet]:
        recent = "\n".join(lines[max(0, line - 8) : line + 1])
        words = [w for w in IDENTIFIER.findall(recent) if w not in KEYWORDS and len(w) > 2]
        # The words nearest the cursor; more terms cost more BM25 scoring than they add.
        terms = list(dict.fromkeys(reversed(words)))[:12]
        rows = self.index.store.search_chunks(terms, limit=6, exclude_path=relative)
        if not rows:
            return []
        best = min(row.score for row in rows)  # BM25 scores are negative; lower is better
        found = []
        for place, row in enumerate(rows, 1):
            shared = sorted(set(words) & _line_words(row.text))[:4]
            reason = f"similar code, BM25 rank {place} (shares {', '.join(shared) or 'words'})"
            relevance = row.score / best if best else 0.0
            found.append(Snippet(row.path, row.start_row, row.end_row, row.text, "similar",
                                 reason, relevance))  # fmt: skip
        return found

    # -- the whole retrieval ----------------------------------------------------------------

    def retrieve(
        self,
        path: Path,
        text: str,
        line: int,
        *,
        window_start: int | None = None,
        recent_paths: Sequence[str] = (),
        budget_ms: float = 60,
        kinds: frozenset[str] = frozenset(KIND_WEIGHT),
        limit: int = 8,
    ) -> Retrieved:
        started = time.monotonic()
        deadline = started + budget_ms / 1000
        result = Retrieved()
        relative = self.index.relative(path)
        language = language_for(None, str(path))
        if relative is None or language is None or not self.index.ready.is_set():
            return result
        lines = text.split("\n")
        line = min(max(0, line), len(lines) - 1)
        candidates: list[Snippet] = []
        names = names_near(lines, line)
        reader = IMPORT_READERS.get(language)
        imports: list[Import] = []
        if reader is not None and kinds & {"definition", "definition-by-name", "imported"}:
            tree = parse(text.encode("utf-8"), language)
            imports = reader(tree.root_node) if tree is not None else []
        if kinds & {"definition", "definition-by-name"}:
            candidates += [
                s for s in self._definitions(relative, imports, names, deadline) if s.kind in kinds
            ]
        if "imported" in kinds and time.monotonic() < deadline:
            candidates += self._imported(relative, imports, deadline)
        if "enclosing" in kinds and window_start is not None and time.monotonic() < deadline:
            candidates += self._enclosing(relative, text, language, line, window_start)
        if "similar" in kinds and time.monotonic() < deadline:
            candidates += self._similar(relative, lines, line)
        result.timed_out = time.monotonic() > deadline
        scored = self._rank(candidates, relative, recent_paths)
        kept = _distinct(scored, lines, line, limit)
        result.snippets = kept
        result.elapsed_ms = (time.monotonic() - started) * 1000
        return result

    def _rank(
        self, candidates: list[Snippet], relative: str, recent_paths: Sequence[str]
    ) -> list[Snippet]:
        """Scores by kind and by the file graph's personalised PageRank from the current file
        (and, less, the recent ones), best first."""
        seeds = {relative: 1.0}
        for recent in recent_paths:
            if recent != relative:
                seeds[recent] = seeds.get(recent, 0.0) + 0.5 / max(1, len(recent_paths))
        ranks = personalized_pagerank(self.graph(), seeds)
        top = max((r for p, r in ranks.items() if p != relative), default=0.0)
        scored = []
        for snippet in candidates:
            graph_rank = ranks.get(snippet.path, 0.0) / top if top else 0.0
            score = KIND_WEIGHT[snippet.kind] * snippet.score * (0.5 + 0.5 * graph_rank)
            scored.append(Snippet(**{**snippet.__dict__, "score": round(score, 4)}))
        scored.sort(key=lambda s: -s.score)
        return scored

    # -- the agent's tools ------------------------------------------------------------------

    def search_code(self, query: str, limit: int = 10) -> list[Snippet]:
        words = [w for w in IDENTIFIER.findall(query) if len(w) > 1]
        rows = self.index.store.search_chunks(words, limit=limit)
        return [
            Snippet(
                r.path, r.start_row, r.end_row, r.text, "similar", f"BM25 {r.score:.2f}", -r.score
            )
            for r in rows
        ]

    def find_symbol(self, query: str, limit: int = 20) -> list[SymbolHit]:
        return self.navigator.workspace_symbols(query, limit)


def _distinct(scored: list[Snippet], lines: list[str], line: int, limit: int) -> list[Snippet]:
    """The best snippets that neither overlap each other nor repeat what is around the cursor."""
    window = _line_words("\n".join(lines[max(0, line - 40) : line + 10]))
    kept: list[Snippet] = []
    for snippet in scored:
        words = _line_words(snippet.text)
        if snippet.kind == "similar" and _similarity(words, window) > SIMILAR_DUPLICATE:
            continue
        if any(
            other.path == snippet.path
            and other.start_row <= snippet.end_row
            and snippet.start_row <= other.end_row
            for other in kept
        ):
            continue
        kept.append(snippet)
        if len(kept) >= limit:
            break
    return kept
