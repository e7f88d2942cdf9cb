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

With --verify, "rewrite" and "fix" check their change with the project's tests as the product
does (agent.verify, in the sandbox; a red change is resampled once with the failure, then
labelled "tests fail"). Then also: first_green (the first change was green: what the actions
gave without the check), labelled_fail (offered, labelled "tests fail"), and offered_red (offered
as fine although this benchmark's own test run is red: what the check must keep at 0).

    python -m bench.refactoring [--models ...] [--functions 30] [--actions ...] [--verify]
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
from typing import Any

from agent import refactor
from agent.editing.edits import EditRejected, syntax_errors
from agent.model import WorkerChatModel
from agent.settings import AgentSettings
from agent.verify import SuiteVerdict, SuiteVerifier, sandbox_report
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


def run_action(
    model: WorkerChatModel, action: str, text: str, name: str, verify: Any = None
) -> tuple[str, str, refactor.Refactoring | None]:
    """(text to test, outcome, result); outcome is "applied", "rejected" (the text is then the
    reason) or "skipped"."""
    first, last = span(text, name)
    try:
        if action == "docstring":
            start = without_docstring(text, name)
            result = refactor.add_docstring(model, SOURCE, start, "python", span(start, name)[0])
        elif action == "rewrite":
            result = refactor.rewrite(
                model, SOURCE, text, "python", first, last, INSTRUCTION, verify=verify
            )
        else:
            broken = misspell(text, name)
            if broken is None:
                return text, "skipped", None
            broken_text, row, message = broken
            result = refactor.fix_diagnostic(
                model, SOURCE, broken_text, "python", row, message, verify=verify
            )
    except EditRejected as exc:
        return str(exc), "rejected", None
    return result.changes[0].new_text, "applied", result


def evaluate(
    model_name: str, root: Path, names: list[str], actions: list[str], check: bool
) -> dict:
    worker = start_worker(model_name)
    verdicts: list[SuiteVerdict] = []
    verifier = SuiteVerifier(
        root,
        AgentSettings(test_command=f"{sys.executable} -m pytest -q -x -p no:cacheprovider {TESTS}"),
        sandbox_report("auto"),
        cap_s=120,
    )

    def verify(base: dict[str, str], changed: dict[str, str]) -> SuiteVerdict:
        verdicts.append(verifier.check(base, changed))
        return verdicts[-1]

    model = WorkerChatModel(worker)
    source = root / SOURCE
    original = source.read_text()
    rows = []
    started = time.monotonic()
    try:
        for number, name in enumerate(names, 1):
            for action in actions:
                verdicts.clear()
                checked = verify if check and action != "docstring" else None
                text, outcome, result = run_action(model, action, original, name, checked)
                row: dict[str, Any] = {"function": name, "action": action, "outcome": outcome}
                if outcome == "rejected":
                    row["reason"] = text
                if outcome == "applied":
                    row["parses"] = syntax_errors(text, "python") == []
                    source.write_text(text)
                    row["tests_green"] = tests_pass(root)
                    source.write_text(original)
                if checked is not None and result is not None:
                    row["checked"] = result.tests
                    row["verdicts"] = [v.status for v in verdicts]
                rows.append(row)
            if number % 5 == 0:
                print(
                    f"    {model_name}: {number}/{len(names)} ({time.monotonic() - started:.0f} s)"
                )
    finally:
        source.write_text(original)
        worker.stop()
    summary: dict = {}
    for action in actions:
        subset = [r for r in rows if r["action"] == action and r["outcome"] != "skipped"]
        total = len(subset) or 1

        def rate(test: Any, rows: list[dict[str, Any]] = subset, total: int = total) -> float:
            return round(sum(bool(test(r)) for r in rows) / total, 3)

        summary[action] = {
            "functions": len(subset),
            "applied": rate(lambda r: r["outcome"] == "applied"),
            "parses": rate(lambda r: r.get("parses")),
            "tests_green": rate(lambda r: r.get("tests_green")),
        }
        if any("checked" in r for r in subset):
            summary[action] |= {
                "first_green": rate(lambda r: r.get("verdicts", [""])[0] == "pass"),
                "labelled_fail": rate(lambda r: r.get("checked") == "fail"),
                "offered_red": rate(
                    lambda r: (
                        r.get("checked") != "fail"
                        and r["outcome"] == "applied"
                        and not r.get("tests_green")
                    )
                ),
            }
    summary["seconds"] = round(time.monotonic() - started)
    return {"summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--functions", type=int, default=30)
    parser.add_argument("--actions", nargs="+", default=list(ACTIONS), choices=ACTIONS)
    parser.add_argument("--verify", action="store_true", help="rewrite and fix run the tests")
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
            results[model] = evaluate(model, work, names, args.actions, args.verify)
            for action in args.actions:
                row = results[model]["summary"][action]
                checked = "".join(
                    f"  {key} {row[key]:6.1%}"
                    for key in ("first_green", "labelled_fail", "offered_red")
                    if key in row
                )
                print(f"  {model:20} {action:9} applied {row['applied']:6.1%}  parses "
                      f"{row['parses']:6.1%}  tests green {row['tests_green']:6.1%}{checked}"
                      f"  ({row['functions']} functions)")  # fmt: skip
        out = save("refactoring-verified" if args.verify else "refactoring", {
            "functions": names, "models": {m: r["summary"] for m, r in results.items()},
            "rows": {m: r["rows"] for m, r in results.items()},
        })  # fmt: skip
        print(f"results: {out}")
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
