"""Retrieval value: does code from other files make cross-file completions better?

Cases are built the way llm-ls's testbed builds them, from real packages (PyPI sdists): in a
package's source, find a call to a name that the file imports from another module of the same
package; put the cursor at the start of that call and remove the rest of the line. The answer
is the removed text, and a case counts as an exact match when the suggestion's first line
equals it (trailing whitespace ignored).

Each case is completed by the product's completion service (prompt format, windows, budget and
post-processing) with the index of the whole package, under several context conditions:

  none         no extra context;
  retrieval    what the index retrieves for the cursor, ranked, as the server would send it;
  definitions  only the definitions of names near the cursor (whole bodies, capped);
  signatures   only those definitions' signatures;
  imported     only the signatures of what the file imports from the workspace;
  similar      only BM25-similar chunks;
  callee       an upper bound, not a retrieval: the definition of the function the answer
               calls (known only from the answer), as the one context chunk;
  guided       two passes (RepoCoder's iterative retrieval): the definitions of what the
               model's own answer without context calls, resolved through the file's imports,
               then the completion again with them.

The file's own part of the prompt is identical across conditions, so the KV cache keeps it and
only the context chunks are evaluated again. Greedy decoding, no time caps.

    python -m bench.retrieval_value [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b]
                                    [--cases 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.common import save, start_worker
from bench.indexing import fetch_sdist
from indexing.facts import _python_imports
from indexing.navigation import Navigator
from indexing.parsing import parse
from indexing.retrieval import Retriever
from indexing.settings import IndexSettings
from indexing.workspace import WorkspaceIndex
from inference.completion import CompletionRequest, CompletionService
from inference.context import ContextRing
from inference.fim import ContextChunk
from inference.settings import CompletionSettings

PACKAGES = (
    ("rich", "13.9.4", "rich"),
    ("httpx", "0.28.1", "httpx"),
    ("jinja2", "3.1.4", "src/jinja2"),
    ("click", "8.1.7", "src/click"),
    ("flask", "3.1.0", "src/flask"),
)
CONDITIONS = (
    "none", "retrieval", "definitions", "signatures", "imported", "similar", "callee", "guided",
)  # fmt: skip
KINDS = {
    "retrieval": None,  # the product's default
    "definitions": frozenset({"definition", "definition-by-name"}),
    "signatures": frozenset({"definition", "definition-by-name"}),
    "imported": frozenset({"imported"}),
    "similar": frozenset({"similar"}),
}
SETTINGS = CompletionSettings(
    max_tokens=48,
    max_lines=1,
    max_prompt_ms=0,
    max_predict_ms=120_000,
    cache=False,
    speculative=False,
)


@dataclass(frozen=True)
class Case:
    package: str
    root: Path
    path: str  # relative to the package root
    text: str  # the file with the rest of the line removed
    line: int
    column: int
    expected: str
    callee: str
    defined_in: str


def find_cases(package: str, root: Path, source_dir: str, index: WorkspaceIndex) -> list[Case]:
    """Every single-line call, in the package's source, of a name imported from a sibling
    module that the index resolves to a definition in another file."""
    navigator = Navigator(index)
    cases = []
    for path in sorted((root / source_dir).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        tree = parse(text.encode("utf-8"), "python")
        if tree is None:
            continue
        imports = _python_imports(tree.root_node)
        imported: dict[str, str] = {}
        for item in imports:
            rows = navigator._through_imports(relative, imports, item.local_name)
            rows = [r for r in rows if r.path != relative and r.kind in ("function", "class")]
            if rows:
                imported[item.local_name] = rows[0].path
        if not imported:
            continue
        lines = text.split("\n")
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type != "call":
                continue
            function = node.child_by_field_name("function")
            if function is None or function.type != "identifier":
                continue
            name = (function.text or b"").decode()
            row, byte_col = node.start_point
            if name not in imported or node.end_point[0] != row:
                continue
            line = lines[row]
            column = len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))
            expected = line[column:].rstrip()
            if not 8 <= len(expected) <= 90 or expected.count("(") != expected.count(")"):
                continue
            if "#" in expected or expected.endswith(("\\", ",")):
                continue  # a trailing comment or a continued line is not a fair answer
            lines_without = [*lines[:row], line[:column], *lines[row + 1 :]]
            cases.append(
                Case(package, root, relative, "\n".join(lines_without), row, column, expected,
                     name, imported[name])
            )  # fmt: skip
    return cases


class ConditionSource:
    """The context the current condition allows, from the package's index."""

    def __init__(self, retrievers: dict[str, Retriever]) -> None:
        self.retrievers = retrievers
        self.condition = "none"
        self.case: Case | None = None
        self.last: list[ContextChunk] = []
        self.first_answer = ""  # the answer without context, for "guided"

    def chunks_for(
        self, uri: str, path: str, text: str, line: int, window_start: int
    ) -> Sequence[ContextChunk]:
        case = self.case
        if self.condition == "none" or case is None:
            self.last = []
            return ()
        retriever = self.retrievers[self.condition]
        if self.condition == "callee":
            self.last = self.callee_chunks(retriever, case)
            return self.last
        if self.condition == "guided":
            self.last = self.guided_chunks(retriever, case, text, self.first_answer)
            return self.last
        kinds = KINDS[self.condition]
        found = retriever.retrieve(
            case.root / case.path, text, line, window_start=window_start, budget_ms=10_000,
            **({"kinds": kinds} if kinds else {}),
        )  # fmt: skip
        self.last = [ContextChunk(s.path, s.text, "index") for s in reversed(found.snippets)]
        return self.last

    @staticmethod
    def callee_chunks(retriever: Retriever, case: Case) -> list[ContextChunk]:
        rows = [
            row for row in retriever.index.store.definitions_named(case.callee, 20)
            if row.path == case.defined_in and row.kind in ("function", "class")
        ]  # fmt: skip
        text = retriever._definition_text(rows[0]) if rows else None
        return [ContextChunk(case.defined_in, text, "index")] if text else []

    @staticmethod
    def guided_chunks(
        retriever: Retriever, case: Case, text: str, answer: str
    ) -> list[ContextChunk]:
        tree = parse(text.encode("utf-8"), "python")
        imports = _python_imports(tree.root_node) if tree is not None else []
        chunks = []
        for name in dict.fromkeys(re.findall(r"([A-Za-z_]\w*)\s*\(", answer)):
            rows = retriever.navigator._through_imports(case.path, imports, name)
            rows = [r for r in rows if r.path != case.path and r.kind in ("function", "class")]
            chunk_text = retriever._definition_text(rows[0]) if rows else None
            if chunk_text:
                chunks.append(ContextChunk(rows[0].path, chunk_text, "index"))
        return chunks


def variant_settings(variant: str) -> CompletionSettings:
    """A variant is "default", or "<layout>/<suffix tokens>" (e.g. line/256, cursor/256)."""
    if variant == "default":
        return SETTINGS
    layout, _, suffix_tokens = variant.partition("/")
    return replace(SETTINGS, prompt_layout=layout, suffix_tokens=int(suffix_tokens or 256))


def evaluate(
    model: str, cases: list[Case], indexes: dict[str, WorkspaceIndex], conditions: Sequence[str],
    variants: Sequence[str] = ("default",),
) -> dict:  # fmt: skip
    worker = start_worker(model)
    sources = {
        package: ConditionSource({
            "retrieval": Retriever(index), "definitions": Retriever(index),
            "signatures": Retriever(index, definition_style="signature"),
            "imported": Retriever(index), "similar": Retriever(index),
            "callee": Retriever(index), "guided": Retriever(index),
        })
        for package, index in indexes.items()
    }  # fmt: skip
    rows = []
    started = time.monotonic()
    for number, case in enumerate(cases, 1):
        source = sources[case.package]
        source.case = case
        service = CompletionService(worker, ring=ContextRing(capacity=0), sources=[source])
        row: dict = {"package": case.package, "path": case.path, "line": case.line + 1,
                     "expected": case.expected, "defined_in": case.defined_in}  # fmt: skip
        for variant, condition in itertools.product(variants, conditions):
            source.condition = condition
            request = CompletionRequest(
                (case.root / case.path).as_uri(), case.text, case.line, case.column,
                path=case.path, repo=case.package, language="python",
            )  # fmt: skip
            future, _ = service.submit(request, variant_settings(variant))
            answer = future.result().text.split("\n")[0].rstrip()
            if condition == "none":
                source.first_answer = answer
            key = condition if variant == "default" else f"{condition}@{variant}"
            row[key] = answer == case.expected
            row[f"{key}_chunks"] = len(source.last)
            row[f"{key}_has_definition"] = any(c.path == case.defined_in for c in source.last)
        rows.append(row)
        if number % 10 == 0:
            print(f"    {model}: {number}/{len(cases)} ({time.monotonic() - started:.0f} s)")
    worker.stop()
    keys = [c if v == "default" else f"{c}@{v}" for v in variants for c in conditions]
    summary = {key: round(sum(r[key] for r in rows) / len(rows), 3) for key in keys}
    summary["seconds"] = round(time.monotonic() - started)
    return {"summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["default"],
        help="prompt layouts and suffix caps, e.g. cursor/256 line/256 line/4096",
    )
    parser.add_argument("--save", default="retrieval-value", help="the results file's name")
    args = parser.parse_args()
    if "guided" in args.conditions and "none" not in args.conditions:
        parser.error("guided needs the answer without context: add the condition none")
    args.conditions = sorted(set(args.conditions), key=CONDITIONS.index)  # none before guided
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-retrieval-"))
    indexes: dict[str, WorkspaceIndex] = {}
    pools: list[list[Case]] = []
    try:
        for name, version, source_dir in PACKAGES:
            root = fetch_sdist(name, version)
            index = WorkspaceIndex(root, IndexSettings(), work / f"{name}.sqlite3")
            index.scan()
            indexes[name] = index
            found = find_cases(name, root, source_dir, index)
            rng.shuffle(found)
            pools.append(found)
            print(f"  {name}-{version}: {len(found)} candidate cases")
        # Round robin over the packages, at most one case per file.
        cases: list[Case] = []
        used: set[tuple[str, str]] = set()
        while len(cases) < args.cases and any(pools):
            for pool in pools:
                while pool:
                    case = pool.pop()
                    if (case.package, case.path) not in used:
                        used.add((case.package, case.path))
                        cases.append(case)
                        break
                if len(cases) >= args.cases:
                    break
        print(f"Retrieval value: {len(cases)} cross-file cases from {len(PACKAGES)} packages")
        results = {}
        for model in args.models:
            results[model] = evaluate(model, cases, indexes, args.conditions, args.variants)
            summary = results[model]["summary"]
            cells = "  ".join(f"{c} {v:6.1%}" for c, v in summary.items() if c != "seconds")
            print(f"  {model:20} {cells}")
        out = save(args.save, {
            "cases": len(cases), "seed": args.seed, "variants": args.variants,
            "packages": [f"{n}-{v}" for n, v, _ in PACKAGES],
            "models": {model: r["summary"] for model, r in results.items()},
            "rows": {model: r["rows"] for model, r in results.items()},
        })  # fmt: skip
        print(f"results: {out}")
    finally:
        for index in indexes.values():
            index.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
