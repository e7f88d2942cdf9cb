"""Which files are tests, and whether a task asks to change them.

The pipeline never rewrites a test, and the tool loop may not edit an existing test file,
unless the task asks for test changes: small models otherwise "fix" a failing test by
weakening it (seen in `make demo` before the pipeline existed)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_ASKS_FOR_TESTS = re.compile(
    r"\b(add|write|update|change|edit|rewrite|extend|fix|correct|remove|delete)\s+"
    r"(?:a |an |the |some |new |more |missing |failing |broken )*(?:unit )?tests?\b",
    re.I,
)


def is_test_path(path: str) -> bool:
    pure = PurePosixPath(path)
    name = pure.name
    return (
        name.startswith("test_")
        # unittest suites in one module (agent.env.suite_discovery)
        or name in ("tests.py", "test.py")
        or name.endswith(("_test.py", "_test.go", ".test.js", ".test.ts", ".spec.ts", ".spec.js"))
        or any(part in ("tests", "test", "__tests__") for part in pure.parts[:-1])
    )


def asks_for_test_changes(instruction: str) -> bool:
    """ "add a test for parse_date", "update the tests": yes; "make the failing test pass",
    "fix it so test_lists.py passes": no."""
    return bool(_ASKS_FOR_TESTS.search(instruction))
