"""The real-repository suite, in the manner of SWE-smith: realistic bugs injected into real
functions of pinned PyPI packages (or a function's body removed), each checked by the package's
own test file, restored before the check.

Built at benchmark time from the sdists (`pip download`, verified by sha256, cached under
~/.cache/treellama/bench-sdists). A task's repository holds the package's code and its tests,
committed with the bug in place. Each task is checked while building it: the package's test
file passes on the original code and fails on the injected bug; a task that does not is left
out, loudly. A third or more are phrased as bug reports that name no file and no test.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from indexing.parsing import parse
from indexing.symbols import definitions, flatten

SDIST_CACHE = Path.home() / ".cache" / "treellama" / "bench-sdists"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str
    layout: tuple[tuple[str, str], ...]  # (path in the sdist, path in the task's repository)
    exclude: tuple[str, ...] = ()  # repository paths left out (tests that need other packages)

    @property
    def sdist(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"


@dataclass(frozen=True)
class RealTask:
    name: str
    package: Package
    path: str  # the file the bug is injected into
    original: str  # exact text, once in the file
    buggy: str
    instruction: str
    check: str  # the package's own test file that decides success
    kind: str  # "report" (names no file, no test), "tests" (points at failing tests), "body"


INFLECTION = Package(
    "inflection", "0.5.1", "1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417",
    (("inflection/__init__.py", "inflection/__init__.py"),
     ("test_inflection.py", "test_inflection.py")),
)  # fmt: skip
TOOLZ = Package(
    "toolz", "1.0.0", "2c86e3d9a04798ac556793bced838816296a2f085017664e4995cb40a1047a02",
    (("toolz", "toolz"),), exclude=("toolz/tests/test_tlz.py",),
)  # fmt: skip
BOLTONS = Package(
    "boltons", "24.1.0", "4a49b7d57ee055b83a458c8682a2a6f199d263a8aa517098bda9bab813554b87",
    (("boltons", "boltons"), ("tests/__init__.py", "tests/__init__.py"),
     ("tests/test_strutils.py", "tests/test_strutils.py"),
     ("tests/test_iterutils.py", "tests/test_iterutils.py")),
)  # fmt: skip
CACHETOOLS = Package(
    "cachetools", "5.5.0", "2cc24fb4cbe39633fb7badd9db9ca6295d766d9c2995f245725a46715d050f2a",
    (("src/cachetools", "cachetools"), ("tests", "tests")),
)  # fmt: skip

_INF, _TZ = "inflection/__init__.py", "toolz/itertoolz.py"
_INF_TEST, _TZ_TEST = "test_inflection.py", "toolz/tests/test_itertoolz.py"
_BS, _BI = "boltons/strutils.py", "boltons/iterutils.py"
_CT = "cachetools/__init__.py"
_FIX_TESTS = "Some of the project's tests fail. Fix the library code so that they pass."

REAL_TASKS = [
    RealTask(
        "inflection_ordinal", INFLECTION, _INF,
        "if number % 100 in (11, 12, 13):", "if number % 10 in (11, 12, 13):",
        "ordinalize(11) gives '11st' and ordinalize(112) gives '112nd'. Numbers that end in "
        "11, 12 or 13 should get 'th': '11th', '112th'.",
        _INF_TEST, "report",
    ),
    RealTask(
        "inflection_underscore", INFLECTION, _INF,
        "    word = re.sub(r\"([a-z\\d])([A-Z])\", r'\\1_\\2', word)\n", "",
        f"{_FIX_TESTS} The failures are in test_inflection.py.", _INF_TEST, "tests",
    ),
    RealTask(
        "inflection_parameterize", INFLECTION, _INF,
        "    return string.lower()\n\n\ndef pluralize", "    return string\n\n\ndef pluralize",
        "parameterize(\"Donald E. Knuth\") returns 'Donald-E-Knuth', but URL slugs should be "
        "all lowercase: 'donald-e-knuth'.",
        _INF_TEST, "report",
    ),
    RealTask(
        "inflection_humanize", INFLECTION, _INF,
        '    word = re.sub(r"_id$", "", word)\n', "",
        "humanize('author_id') returns 'Author id'. A trailing '_id' should be dropped, so it "
        "should return 'Author'.",
        _INF_TEST, "report",
    ),
    RealTask(
        "inflection_camelize", INFLECTION, _INF,
        "lambda m: m.group(1).upper(), string)", "lambda m: m.group(1), string)",
        "camelize is broken; test_inflection.py shows how it should behave.",
        _INF_TEST, "tests",
    ),
    RealTask(
        "inflection_dasherize", INFLECTION, _INF,
        "return word.replace('_', '-')", "return word.replace('-', '_')",
        "dasherize('puni_puni') returns 'puni_puni' unchanged; it should return 'puni-puni'.",
        _INF_TEST, "report",
    ),
    RealTask(
        "inflection_singularize", INFLECTION, _INF,
        "    for inflection in UNCOUNTABLES:\n"
        "        if re.search(r'(?i)\\b(%s)\\Z' % inflection, word):\n"
        "            return word\n\n"
        "    for rule, replacement in SINGULARS:\n"
        "        if re.search(rule, word):\n"
        "            return re.sub(rule, replacement, word)\n"
        "    return word\n",
        "    raise NotImplementedError\n",
        "singularize has lost its implementation. Implement it again, the reverse of "
        "pluralize, so that test_inflection.py passes.",
        _INF_TEST, "body",
    ),
    RealTask(
        "toolz_tail", TOOLZ, _TZ,
        "        return seq[-n:]\n", "        return seq[:-n]\n",
        "tail(2, [10, 20, 30, 40, 50]) returns [10, 20, 30] instead of the last two "
        "elements, [40, 50].",
        _TZ_TEST, "report",
    ),
    RealTask(
        "toolz_take_nth", TOOLZ, _TZ,
        "return itertools.islice(seq, 0, None, n)", "return itertools.islice(seq, 1, None, n)",
        f"{_FIX_TESTS} See toolz/tests/test_itertoolz.py.", _TZ_TEST, "tests",
    ),
    RealTask(
        "toolz_unique_key", TOOLZ, _TZ,
        "            val = key(item)\n            if val not in seen:\n"
        "                seen_add(val)\n",
        "            val = key(item)\n            if val not in seen:\n"
        "                seen_add(item)\n",
        "unique(['cat', 'mouse', 'dog', 'hen'], key=len) yields every word; it should yield "
        "only the first word of each length: ('cat', 'mouse').",
        _TZ_TEST, "report",
    ),
    RealTask(
        "toolz_isdistinct", TOOLZ, _TZ,
        "return len(seq) == len(set(seq))", "return len(seq) >= len(set(seq))",
        f"{_FIX_TESTS} The isdistinct tests in toolz/tests/test_itertoolz.py fail.",
        _TZ_TEST, "tests",
    ),
    RealTask(
        "toolz_accumulate", TOOLZ, _TZ,
        "    seq = iter(seq)\n    if initial == no_default:\n        try:\n"
        "            result = next(seq)\n        except StopIteration:\n            return\n"
        "    else:\n        result = initial\n    yield result\n    for elem in seq:\n"
        "        result = binop(result, elem)\n        yield result\n",
        "    raise NotImplementedError\n",
        "accumulate in toolz/itertoolz.py raises NotImplementedError. Implement it; its "
        "docstring shows what it does.",
        _TZ_TEST, "body",
    ),
    RealTask(
        "toolz_frequencies", TOOLZ, _TZ,
        "        d[item] += 1\n", "        d[item] = 1\n",
        "frequencies(['cat', 'cat', 'ox', 'pig', 'pig', 'cat']) returns "
        "{'cat': 1, 'ox': 1, 'pig': 1}; it should count them: {'cat': 3, 'ox': 1, 'pig': 2}.",
        _TZ_TEST, "report",
    ),
    RealTask(
        "toolz_interpose", TOOLZ, _TZ,
        "    next(inposed)\n", "",
        f"{_FIX_TESTS} The interpose test fails.", _TZ_TEST, "tests",
    ),
    RealTask(
        "toolz_groupby", TOOLZ, _TZ,
        "    d = collections.defaultdict(lambda: [].append)\n    for item in seq:\n"
        "        d[key(item)](item)\n    rv = {}\n    for k, v in d.items():\n"
        "        rv[k] = v.__self__\n    return rv\n",
        "    raise NotImplementedError\n",
        "groupby in toolz/itertoolz.py has no implementation left after its key handling. "
        "Finish it so that toolz/tests/test_itertoolz.py passes.",
        _TZ_TEST, "body",
    ),
    RealTask(
        "boltons_parse_int_list", BOLTONS, _BS,
        "max(range_limits)+1))", "max(range_limits)))",
        "parse_int_list('5-8') returns [5, 6, 7]. A range should include its upper end: "
        "[5, 6, 7, 8].",
        "tests/test_strutils.py", "report",
    ),
    RealTask(
        "boltons_chunk_ranges", BOLTONS, _BI,
        "for i in range(input_offset, input_stop, chunk_size - overlap_size):",
        "for i in range(input_offset, input_stop, chunk_size + overlap_size):",
        f"{_FIX_TESTS} The chunk_ranges test in tests/test_iterutils.py fails.",
        "tests/test_iterutils.py", "tests",
    ),
    RealTask(
        "boltons_backoff", BOLTONS, _BI,
        "        if cur > stop:\n            cur = stop\n", "",
        "backoff(2, 15) returns [2.0, 4.0, 8.0, 16.0]: the last value overshoots. Values "
        "should be capped at stop: [2.0, 4.0, 8.0, 15.0].",
        "tests/test_iterutils.py", "report",
    ),
    RealTask(
        "cachetools_lru", CACHETOOLS, _CT,
        "        value = cache_getitem(self, key)\n"
        "        if key in self:  # __missing__ may not store item\n"
        "            self.__update(key)\n        return value\n\n"
        "    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):\n"
        "        cache_setitem(self, key, value)\n        self.__update(key)\n\n"
        "    def __delitem__(self, key, cache_delitem=Cache.__delitem__):\n"
        "        cache_delitem(self, key)\n        del self.__order[key]\n\n"
        "    def popitem(self):\n"
        '        """Remove and return the `(key, value)` pair least recently used."""',
        "        value = cache_getitem(self, key)\n        return value\n\n"
        "    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):\n"
        "        cache_setitem(self, key, value)\n        self.__update(key)\n\n"
        "    def __delitem__(self, key, cache_delitem=Cache.__delitem__):\n"
        "        cache_delitem(self, key)\n        del self.__order[key]\n\n"
        "    def popitem(self):\n"
        '        """Remove and return the `(key, value)` pair least recently used."""',
        "An LRUCache evicts an item that was just read: reading a key should make it the most "
        "recently used, so that adding new items evicts the others first.",
        "tests/test_lru.py", "report",
    ),
    RealTask(
        "cachetools_lfu", CACHETOOLS, _CT,
        "        if key in self:  # __missing__ may not store item\n"
        "            self.__counter[key] -= 1\n",
        "        if key in self:  # __missing__ may not store item\n"
        "            self.__counter[key] += 1\n",
        f"{_FIX_TESTS} tests/test_lfu.py fails.", "tests/test_lfu.py", "tests",
    ),
    RealTask(
        "cachetools_pop", CACHETOOLS, _CT,
        "        elif default is self.__marker:\n            raise KeyError(key)\n", "",
        "Cache.pop(key) on a missing key, called without a default, returns an internal "
        "marker object instead of raising KeyError.",
        "tests/test_cache.py", "report",
    ),
    RealTask(
        "cachetools_setitem", CACHETOOLS, _CT,
        "        if size > maxsize:\n", "        if size >= maxsize:\n",
        f"{_FIX_TESTS} tests/test_cache.py shows the failures.", "tests/test_cache.py", "tests",
    ),
    RealTask(
        "cachetools_typedkey", CACHETOOLS, "cachetools/keys.py",
        "    key += tuple(type(v) for v in args)\n", "",
        "typedkey(1) and typedkey(1.0) return equal keys, so a typed cache mixes up ints and "
        "floats. Keys of arguments of different types should differ.",
        "tests/test_keys.py", "report",
    ),
    RealTask(
        "cachetools_fifo", CACHETOOLS, _CT,
        "            key = next(iter(self.__order))\n        except StopIteration:\n"
        '            raise KeyError("%s is empty" % type(self).__name__) from None\n'
        "        else:\n            return (key, self.pop(key))\n\n\nclass LFUCache",
        "            key = next(reversed(self.__order))\n        except StopIteration:\n"
        '            raise KeyError("%s is empty" % type(self).__name__) from None\n'
        "        else:\n            return (key, self.pop(key))\n\n\nclass LFUCache",
        f"{_FIX_TESTS} tests/test_fifo.py fails.", "tests/test_fifo.py", "tests",
    ),
]  # fmt: skip


def sdist(package: Package) -> Path:
    """The package's sdist, downloaded once and verified by its pinned sha256."""
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    path = SDIST_CACHE / package.sdist
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"{package.name}=={package.version}", "-d", str(SDIST_CACHE)],
            check=True, capture_output=True,
        )  # fmt: skip
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != package.sha256:
        path.unlink()
        raise RuntimeError(f"{package.sdist}: sha256 {digest}, pinned {package.sha256}")
    return path


def unpack(package: Package, root: Path) -> None:
    """The package's layout, copied out of its sdist into root."""
    with tempfile_dir() as scratch:
        with tarfile.open(sdist(package)) as archive:
            archive.extractall(scratch, filter="data")
        top = scratch / f"{package.name}-{package.version}"
        for source, target in package.layout:
            if (top / source).is_dir():
                shutil.copytree(top / source, root / target, dirs_exist_ok=True)
            else:
                (root / target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(top / source, root / target)
    for path in package.exclude:
        (root / path).unlink(missing_ok=True)
    for cache in root.rglob("__pycache__"):
        shutil.rmtree(cache)


class tempfile_dir:
    def __enter__(self) -> Path:
        import tempfile

        self.path = Path(tempfile.mkdtemp(prefix="treellama-sdist-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _commit(root: Path, message: str) -> None:
    git = ["git", "-C", str(root), "-c", "user.email=b@example.com", "-c", "user.name=bench"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", message], check=True)


def run_check(root: Path, task: RealTask, timeout: float = 120) -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
             "-p", "no:warnings", task.check],
            cwd=root, capture_output=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def build(task: RealTask, root: Path) -> Path:
    """The task's repository at root, the bug committed; raises when the task is not valid."""
    root.mkdir(parents=True)
    unpack(task.package, root)
    target = root / task.path
    text = target.read_text(encoding="utf-8")
    if text.count(task.original) != 1:
        raise ValueError(f"{task.name}: the original text occurs {text.count(task.original)} times")
    if not run_check(root, task):
        raise ValueError(f"{task.name}: {task.check} fails on the original code")
    target.write_text(text.replace(task.original, task.buggy), encoding="utf-8")
    if run_check(root, task):
        raise ValueError(f"{task.name}: {task.check} still passes with the bug")
    _commit(root, task.package.sdist)
    return root


def check(root: Path, task: RealTask) -> bool:
    """The package's own test file, restored as it was, passes on the result."""
    pristine = tempfile_dir()
    with pristine as scratch:
        unpack(task.package, scratch)
        shutil.copy2(scratch / task.check, root / task.check)
    return run_check(root, task)


def buggy_function(task: RealTask) -> tuple[int, int, str]:
    """(first line, last line, name) of the innermost function that holds the bug, 0-based:
    what the oracle row is given. The text before the bug is the same in both versions."""
    with tempfile_dir() as scratch:
        unpack(task.package, scratch)
        original = (scratch / task.path).read_text(encoding="utf-8")
    line = original[: original.index(task.original)].count("\n")
    line += len(task.original) - len(task.original.lstrip("\n")) if task.buggy else 0
    tree = parse(original.replace(task.original, task.buggy).encode(), "python")
    holding = [
        s for s in flatten(definitions(tree, "python"))
        if s.start[0] <= line <= s.end[0] and s.kind in ("function", "method")
    ]  # fmt: skip
    if not holding:
        raise ValueError(f"{task.name}: no function holds the bug")
    inner = min(holding, key=lambda s: s.end[0] - s.start[0])
    return inner.start[0], inner.end[0], inner.name
