"""Refactoring success rate on real functions, checked by their project's own tests.

The suite: the first 30 public functions of `more_itertools/recipes.py` from the
more-itertools 10.5.0 sdist, whose `tests/test_recipes.py` covers them. For each function and
model, three actions run through the product's refactoring code and safe edit pipeline:

  docstring  the function's docstring is removed, then "add docstring" puts one back;
  rewrite    "rewrite by instruction": make it clearer without changing its behaviour;
  fix        one use of a parameter in the body is misspelled, and "fix the diagnostic"
             gets pyflakes' message for it (`undefined name '...'`).

Rates per action: applied (the pipeline accepted a result, possibly after its one retry, so no
manual fix was needed), parses (the applied file parses), tests green (the project's tests pass
on the applied file). The unmodified file passes the tests first, in the same run.

    python -m bench.refactoring [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--functions 30]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent import refactor
from agent.edits import EditRejected, syntax_errors
from agent.model import WorkerChatModel
from bench.common import save, start_worker
from bench.indexing import fetch_sdist
from indexing.parsing import parse
from indexing.symbols import definitions

SOURCE = "more_itertools/recipes.py"
TESTS = "tests/test_recipes.py"
ACTIONS = ("docstring", "rewrite", "fix")
INSTRUCTION = "make it clearer and simpler without changing its behaviour"


def tests_pass(root: Path) -> bool:
    """A rewrite that makes the tests hang (an endless loop, say) counts as red."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", TESTS],
            cwd=root, capture_output=True, timeout=120,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def public_functions(text: str, count: int) -> list[str]:
    tree = parse(text.encode("utf-8"), "python")
    names = [
        s.name for s in definitions(tree, "python")
        if s.kind == "function" and s.start[1] == 0 and not s.name.startswith("_")
        and s.end[0] - s.start[0] >= 3
    ]  # fmt: skip
    return names[:count]


def span(text: str, name: str) -> tuple[int, int]:
    tree = parse(text.encode("utf-8"), "python")
    (symbol,) = [s for s in definitions(tree, "python") if s.name == name and s.start[1] == 0]
    return symbol.start[0], symbol.end[0]


def without_docstring(text: str, name: str) -> str:
    first, last = span(text, name)
    lines = text.split("\n")
    body = lines[first + 1 : last + 1]
    for index, line in enumerate(body):
        if line.strip().startswith(('"""', 'r"""')):
            end = index
            if line.strip().count('"""') < 2:
                end = next(i for i in range(index + 1, len(body)) if '"""' in body[i])
            return "\n".join(
                [*lines[: first + 1], *body[:index], *body[end + 1 :], *lines[last + 1 :]]
            )
        if line.strip() and not line.strip().startswith("#"):
            break
    return text


def misspell(text: str, name: str) -> tuple[str, int, str] | None:
    """The text with the last use of a parameter in the body misspelled: (text, line, message)."""
    first, last = span(text, name)
    lines = text.split("\n")
    signature = lines[first]
    params = [p.strip().split("=")[0].split(":")[0].strip("* ") for p in
              signature[signature.index("(") + 1 : signature.rindex(")")].split(",")]  # fmt: skip
    for param in params:
        if len(param) < 2:
            continue
        wrong = param[:-2] + param[-1] + param[-2] if len(param) >= 3 else param + "x"
        for row in range(last, first, -1):
            line = lines[row]
            tokens = re.findall(r"\w+", line.split("#")[0])
            if param in tokens and not line.strip().startswith(('"', "'")):
                column = re.search(rf"\b{param}\b", line)
                assert column is not None
                lines[row] = line[: column.start()] + wrong + line[column.end() :]
                return "\n".join(lines), row, f"undefined name '{wrong}'"
    return None


def run_action(model: WorkerChatModel, action: str, text: str, name: str) -> tuple[str, str]:
    """(text to test, outcome); outcome is "applied", "rejected" (the text is then the
    reason) or "skipped"."""
    first, last = span(text, name)
    try:
        if action == "docstring":
            start = without_docstring(text, name)
            result = refactor.add_docstring(model, SOURCE, start, "python", span(start, name)[0])
        elif action == "rewrite":
            result = refactor.rewrite(model, SOURCE, text, "python", first, last, INSTRUCTION)
        else:
            broken = misspell(text, name)
            if broken is None:
                return text, "skipped"
            broken_text, row, message = broken
            result = refactor.fix_diagnostic(model, SOURCE, broken_text, "python", row, message)
    except EditRejected as exc:
        return str(exc), "rejected"
    return result.changes[0].new_text, "applied"


def evaluate(model_name: str, root: Path, names: list[str]) -> dict:
    worker = start_worker(model_name)
    model = WorkerChatModel(worker)
    source = root / SOURCE
    original = source.read_text()
    rows = []
    started = time.monotonic()
    try:
        for number, name in enumerate(names, 1):
            for action in ACTIONS:
                text, outcome = run_action(model, action, original, name)
                row = {"function": name, "action": action, "outcome": outcome}
                if outcome == "rejected":
                    row["reason"] = text
                if outcome == "applied":
                    row["parses"] = syntax_errors(text, "python") == []
                    source.write_text(text)
                    row["tests_green"] = tests_pass(root)
                    source.write_text(original)
                rows.append(row)
            if number % 5 == 0:
                print(
                    f"    {model_name}: {number}/{len(names)} ({time.monotonic() - started:.0f} s)"
                )
    finally:
        source.write_text(original)
        worker.stop()
    summary: dict = {}
    for action in ACTIONS:
        subset = [r for r in rows if r["action"] == action and r["outcome"] != "skipped"]
        total = len(subset) or 1
        summary[action] = {
            "functions": len(subset),
            "applied": round(sum(r["outcome"] == "applied" for r in subset) / total, 3),
            "parses": round(sum(r.get("parses", False) for r in subset) / total, 3),
            "tests_green": round(sum(r.get("tests_green", False) for r in subset) / total, 3),
        }
    summary["seconds"] = round(time.monotonic() - started)
    return {"summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--functions", type=int, default=30)
    args = parser.parse_args()
    pristine = fetch_sdist("more-itertools", "10.5.0")
    work = Path(tempfile.mkdtemp(prefix="treellama-bench-refactor-")) / "more-itertools"
    shutil.copytree(pristine, work)
    try:
        if not tests_pass(work):
            raise SystemExit("the project's tests fail before any change; nothing to measure")
        names = public_functions((work / SOURCE).read_text(), args.functions)
        print(
            f"Refactoring: {len(names)} functions of {SOURCE} (more-itertools 10.5.0), tests green"
        )
        results = {}
        for model in args.models:
            results[model] = evaluate(model, work, names)
            for action in ACTIONS:
                row = results[model]["summary"][action]
                print(f"  {model:20} {action:9} applied {row['applied']:6.1%}  parses "
                      f"{row['parses']:6.1%}  tests green {row['tests_green']:6.1%}"
                      f"  ({row['functions']} functions)")  # fmt: skip
        out = save("refactoring", {
            "functions": names, "models": {m: r["summary"] for m, r in results.items()},
            "rows": {m: r["rows"] for m, r in results.items()},
        })  # fmt: skip
        print(f"results: {out}")
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
