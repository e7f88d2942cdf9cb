from agent.editing.python_imports import (
    add_imports,
    bound_names,
    imports_used_by,
    needed_imports,
    trim_leading_imports,
)

# The 1.5B's reply for toolz's `tail`, shown the failing test: the test file's imports, one of
# them cut off, then the right fix.
REPLY = """from itertools import starmap
from toolz.utils import raises
from toolz.itertoolz import (remove, groupby, merge_sorted,
from operator import add, mul
from collections import deque

def tail(n, seq):
    try:
        return seq[-n:]
    except (TypeError, KeyError):
        return tuple(deque(seq, n))"""

MODULE = '''"""Iterators."""
import collections
import itertools
from functools import partial


def take(n, seq):
    return itertools.islice(seq, n)


def tail(n, seq):
    try:
        return seq[:-n]
    except (TypeError, KeyError):
        return tuple(collections.deque(seq, n))
'''


def test_the_import_lines_above_the_definition_are_cut_and_the_broken_one_dropped():
    trimmed = trim_leading_imports(REPLY)
    assert trimmed.code.startswith("def tail(n, seq):")
    assert trimmed.imports == (
        "from itertools import starmap",
        "from toolz.utils import raises",
        "from operator import add, mul",
        "from collections import deque",
    )


def test_a_parenthesized_import_over_several_lines_is_one_statement():
    reply = "from os.path import (\n    join,\n    dirname,\n)\n\ndef f():\n    return join('a')"
    trimmed = trim_leading_imports(reply)
    assert trimmed.code == "def f():\n    return join('a')"
    assert trimmed.imports == ("from os.path import (\njoin,\ndirname,\n)",)
    assert bound_names(trimmed.imports[0]) == ["join", "dirname"]


def test_a_reply_with_anything_else_above_its_definition_is_left_as_it_is():
    for reply in ("X = 1\ndef f():\n    pass", "def f():\n    pass", "import os\nprint(1)"):
        assert trim_leading_imports(reply) == (reply, ())


def test_only_imports_the_definition_uses_and_the_module_lacks_are_kept():
    trimmed = trim_leading_imports(REPLY)
    needed = needed_imports(trimmed.imports, trimmed.code, MODULE, "toolz.itertoolz")
    assert needed == ["from collections import deque"]


def test_imports_from_the_module_s_own_package_or_its_tests_are_never_kept():
    imports = ("from toolz import countby", "from tests.helpers import raises", "import json")
    code = "def f(x):\n    return countby(x), raises, json.dumps(x)"
    assert needed_imports(imports, code, MODULE, "toolz.itertoolz") == ["import json"]
    assert needed_imports(("from pkg import a",), "def f():\n    a()", "", "src.pkg.mod") == []


def test_added_imports_go_after_the_module_s_last_import_above_the_definition():
    row = MODULE[: MODULE.index("def tail")].count("\n")
    text = add_imports(MODULE, ["from collections import deque"], row)
    lines = text.split("\n")
    assert lines[4] == "from collections import deque"
    assert lines[3] == "from functools import partial"
    no_imports = "X = 1\n\n\ndef f():\n    pass\n"
    assert add_imports(no_imports, ["import json"], 3).split("\n")[3:7] == [
        "import json",
        "",
        "",
        "def f():",
    ]


def test_a_failing_test_is_shown_with_whole_imports_of_only_the_names_it_uses():
    test_file = (
        "import itertools\nfrom itertools import starmap\nimport numpy as np\n"
        "from toolz.itertoolz import (remove, groupby, merge_sorted,\n"
        "                             unique, interleave)\n\n\n"
        "def test_unique():\n    assert tuple(unique((1, 2, 1))) == (1, 2)\n"
        "    assert np.all(list(itertools.chain([1])))\n"
    )
    body = test_file[test_file.index("def test_unique") :]
    assert imports_used_by(test_file, body) == [
        "import itertools",
        "import numpy as np",
        "from toolz.itertoolz import unique",
    ]
