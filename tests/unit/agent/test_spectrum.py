"""Spectrum-based localization: the real pytest plugin in the real sandbox on tiny projects,
and the scoring rules that read tracebacks and the tests' source (no model)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from agent.env import test_report
from agent.env.sandbox import Sandbox, probe
from agent.env.spectrum import CodeUnit, measure, parse_spectrum
from agent.env.test_report import Frame, run_suite
from agent.localize import localize
from agent.model import ScriptedCandidateModel
from agent.pipeline import Pipeline, config_of
from agent.settings import AgentSettings
from tests.support.agent_context import context_for
from tests.support.projects import TEST_COMMAND, commit_all

FILLER = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
LIBRARY = FILLER + (
    "def normalize(text):\n    return ' '.join(text.split())\n\n\n"
    "def slugify(text):\n    return normalize(text).replace(' ', '_')\n\n\n"
    "def shout(text):\n    return normalize(text).upper()\n"
)
TESTS = (
    "from lib import normalize, shout, slugify\n\n\n"
    "def test_normalize():\n    assert normalize(' a  b ') == 'a b'\n\n\n"
    "def test_shout():\n    assert shout(' a b') == 'A B'\n\n\n"
    "def test_shout_twice():\n    assert shout(shout('x')) == 'X'\n\n\n"
    "def test_slug():\n    assert normalize(slugify(' A b ')) == 'a-b'\n"
)


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lib.py").write_text(LIBRARY)
    (root / "test_lib.py").write_text(TESTS)
    return root


def test_the_failing_tests_spectrum_ranks_what_only_they_run(tmp_path):
    repo = project(tmp_path / "p")
    sandbox = Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe())
    report = run_suite(sandbox, repo, TEST_COMMAND)
    assert report.failed_ids == {"test_lib.py::test_slug"}
    before = sorted(p.name for p in repo.rglob("*") if "__pycache__" not in p.parts)
    spectrum = measure(sandbox, repo, TEST_COMMAND, ["test_lib.py"])
    assert spectrum is not None and spectrum.total_failed == 1
    slugify = next(u for u in spectrum.units if u.name == "slugify")
    normalize = next(u for u in spectrum.units if u.name == "normalize")
    assert (slugify.path, spectrum.failed[slugify], spectrum.passed.get(slugify, 0)) == (
        "lib.py", 1, 0,
    )  # fmt: skip
    assert spectrum.passed[normalize] == 3  # every test runs it
    assert spectrum.ochiai([slugify]) == 1.0 and spectrum.ochiai([normalize]) == 0.5
    assert all((repo / u.path).is_file() for u in spectrum.units)  # the project's own code
    # The plugin and its output are gone: nothing is left in the task's copy.
    after = sorted(p.name for p in repo.rglob("*") if "__pycache__" not in p.parts)
    assert after == before
    assert not list(repo.rglob("_treellama_spectrum*"))
    # The test calls both; only the spectrum tells them apart.
    source = TESTS.split("\n\n\n")[-1]
    first = localize(repo, "the slug test fails", report, source, spectrum)[0]
    assert first.name == "slugify" and any("Ochiai 1.00" in r for r in first.reasons)


def test_a_spectrum_that_cannot_be_measured_is_none(tmp_path):
    repo = tmp_path / "p"
    repo.mkdir()
    (repo / "test_x.py").write_text("def test_x():\n    assert True\n")
    sandbox = Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe())
    assert measure(sandbox, repo, TEST_COMMAND, ["test_x.py"]) is None  # nothing failed
    assert parse_spectrum("{not json") is None
    text = json.dumps({"t::a": {"outcome": "failed", "entered": [["m.py", 3, "f"]]},
                       "t::b": {"outcome": "passed", "entered": [["m.py", 3, "f"]]}})  # fmt: skip
    spectrum = parse_spectrum(text)
    assert spectrum is not None
    assert round(spectrum.ochiai([CodeUnit("m.py", 3, "f")]), 3) == round(1 / 2**0.5, 3)


def test_a_deliberate_raise_passes_the_blame_to_its_caller(tmp_path):
    repo = tmp_path / "p"
    repo.mkdir()
    code = FILLER + (
        "def fail(key):\n    raise KeyError(key)\n\n\n"
        "def lookup(table, key):\n    if key not in table:\n        return fail(key)\n"
        "    return table[key]\n"
    )
    (repo / "lib.py").write_text(code)
    lines = code.split("\n")
    raise_line = lines.index("    raise KeyError(key)") + 1
    call_line = lines.index("        return fail(key)") + 1
    frames = (Frame("test_lib.py", 4, "test_x"), Frame("lib.py", call_line, "lookup"),
              Frame("lib.py", raise_line, "fail"))  # fmt: skip
    failure = test_report.TestFailure(
        "test_lib.py::test_x", "test_lib.py", "test_x", "KeyError: 2", "", frames
    )
    report = test_report.TestReport("pytest", TEST_COMMAND, 1, 0, (failure,))
    assert localize(repo, "it fails", report)[0].name == "lookup"
    # NotImplementedError is where the work is missing: that raise is the place.
    (repo / "lib.py").write_text(code.replace("KeyError(key)", "NotImplementedError"))
    assert localize(repo, "it fails", report)[0].name == "fail"


def test_the_tests_imports_do_not_count_as_calls(tmp_path):
    repo = tmp_path / "p"
    repo.mkdir()
    (repo / "lib.py").write_text(FILLER + "def alpha():\n    return 1\n\n\ndef beta():\n"
                                 "    return 1\n")  # fmt: skip
    source = (
        "from lib import (\n    alpha,\n    beta,\n)\n\n\ndef test_beta():\n"
        "    assert beta() == 2\n"
    )
    first = localize(repo, "a test fails", None, source)[0]
    assert first.name == "beta" and "called by the failing tests" in first.reasons


def test_a_round_that_fixes_nothing_moves_to_the_next_place(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "a.py").write_text("def f():\n    return 1\n")
    (repo / "b.py").write_text("def g():\n    return 1\n")
    (repo / "test_ab.py").write_text(
        "from a import f\nfrom b import g\n\n\ndef test_sum():\n    assert f() + g() == 3\n"
    )
    commit_all(repo)
    context = context_for(repo, tmp_path)
    # The places tie: the model picks a.py first; its candidate fixes nothing.
    model = ScriptedCandidateModel(
        ["def f():\n    return 0\n```", "def g():\n    return 2\n```"], choices=[1]
    )
    events: list = []
    pipeline = Pipeline(model, context, "make the test pass", config_of(1, 2),
                        on_event=events.append)  # fmt: skip
    outcome = pipeline.run()
    assert outcome.verified and (context.root / "b.py").read_text() == "def g():\n    return 2\n"
    moved = [e.message for e in events if e.kind == "localize"]
    assert len(moved) == 2 and "trying the whole file in b.py" in moved[1]
    assert "b.py" in model.prompts[-1][-1]["content"]
    assert subprocess.run(["git", "-C", str(repo), "status", "--porcelain"],
                          capture_output=True, text=True).stdout == ""  # fmt: skip


STORE = FILLER + (
    "class Store:\n"
    "    def __init__(self, size):\n        self.data = {}\n        self.size = size\n\n"
    "    def __getitem__(self, key):\n        try:\n            return self.data[key]\n"
    "        except KeyError:\n            return self.__missing__(key)\n\n"
    "    def __setitem__(self, key, value):\n        while len(self.data) >= self.size:\n"
    "            self.evict()\n        self.data[key] = value\n\n"
    "    def __missing__(self, key):\n        raise KeyError(key)\n\n"
    "    def evict(self):\n        del self.data[next(iter(self.data))]\n\n\n"
    "class Recent(Store):\n"
    "    def __init__(self, size):\n        Store.__init__(self, size)\n        self.order = []\n\n"
    "    def __getitem__(self, key, base_getitem=Store.__getitem__):\n"
    "        value = base_getitem(self, key)\n        return value\n\n"
    "    def __setitem__(self, key, value, base_setitem=Store.__setitem__):\n"
    "        base_setitem(self, key, value)\n        if key in self.order:\n"
    "            self.order.remove(key)\n        self.order.append(key)\n\n"
    "    def evict(self):\n        del self.data[self.order.pop(0)]\n"
)
STORE_TESTS = (
    "import pytest\nfrom store import Store\n\n\n"
    "def test_get():\n    s = Store(2)\n    s['a'] = 1\n    assert s['a'] == 1\n\n\n"
    "def test_missing():\n    with pytest.raises(KeyError):\n        Store(2)['x']\n\n\n"
    "def test_evict():\n    s = Store(1)\n    s['a'] = 1\n    s['b'] = 2\n"
    "    assert s['b'] == 2\n\n\n"
    "def test_overwrite():\n    s = Store(2)\n    s['a'] = 1\n    s['a'] = 2\n"
    "    assert s['a'] == 2\n"
)
RECENT_TESTS = (
    "from store import Recent\n\n\n"
    "def test_set():\n    r = Recent(2)\n    r['a'] = 1\n    assert r['a'] == 1\n\n\n"
    "def test_read_keeps_it():\n    r = Recent(2)\n    r['a'] = 1\n    r['b'] = 2\n"
    "    assert r['a'] == 1\n    r['c'] = 3\n    assert r['a'] == 1\n"
)


def test_an_override_that_hands_on_to_its_base_is_blamed_before_the_base(tmp_path):
    """The traceback ends in the base class's `__getitem__` (through `__missing__`); the
    bug is the subclass's, which never marks a key as read. The whole (quick) suite's passing
    tests show the base method is shared and sound."""
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "store.py").write_text(STORE)
    (repo / "test_store.py").write_text(STORE_TESTS)
    (repo / "test_recent.py").write_text(RECENT_TESTS)
    commit_all(repo)
    context = context_for(repo, tmp_path)
    events: list = []
    Pipeline(ScriptedCandidateModel([]), context, "A Recent store evicts the key just read",
             config_of(1, 1), on_event=events.append).run()  # fmt: skip
    regions = next(e for e in events if e.kind == "localize").data["regions"]
    override_line = STORE.split("\n").index(
        "    def __getitem__(self, key, base_getitem=Store.__getitem__):"
    )  # fmt: skip
    assert (regions[0]["name"], regions[0]["first"]) == ("__getitem__", override_line + 1)
    base = next(r for r in regions if r["name"] == "__getitem__" and r is not regions[0])

    def ochiai(region: dict) -> float:
        reason = next(r for r in region["reasons"] if "Ochiai" in r)
        return float(reason.split("Ochiai ")[1].rstrip(")"))

    # Only the other test file's passing tests make the base method less suspicious.
    assert ochiai(base) < ochiai(regions[0])


def test_every_definition_of_a_name_gets_its_evidence_and_a_qualified_name_picks(tmp_path):
    repo = tmp_path / "p"
    repo.mkdir()
    (repo / "lib.py").write_text(FILLER + (
        "class Cache:\n    def pop(self, key, default=None):\n        return default\n\n"
        "    def get(self, key):\n        return None\n\n\n"
        "class Timed(Cache):\n    def pop(self, key, default=None):\n"
        "        return Cache.pop(self, key, default)\n"
    ))  # fmt: skip
    regions = localize(repo, "Cache.pop(key) returns None for a missing key; raise KeyError")
    pops = [r for r in regions if r.name == "pop"]
    assert len(pops) == 2 and all("named in the task" in r.reasons for r in pops)
    assert regions[0] == pops[0] and "named in the task as Cache.pop" in regions[0].reasons
    assert regions[0].first == (FILLER + "class Cache:\n").count("\n")


def test_a_round_that_moved_the_crash_where_the_tests_crash_stays_there(tmp_path):
    """`total` is a stub; its first rewrite turns the NotImplementedError into a wrong sum
    and breaks nothing else: the repair round stays at `total`, though `mean`, which the
    traceback also runs through, scored close."""
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "a.py").write_text("def total(xs):\n    raise NotImplementedError\n")
    (repo / "b.py").write_text("from a import total\n\n\ndef mean(xs):\n"
                               "    return total(xs) / len(xs)\n")  # fmt: skip
    (repo / "test_b.py").write_text(
        "from b import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
    )
    commit_all(repo)
    context = context_for(repo, tmp_path)
    model = ScriptedCandidateModel(
        ["def total(xs):\n    return 0\n```", "def total(xs):\n    return sum(xs)\n```"]
    )
    events: list = []
    pipeline = Pipeline(model, context, "mean fails: total in a.py is not implemented",
                        config_of(1, 2), on_event=events.append)  # fmt: skip
    outcome = pipeline.run()
    places = [e for e in events if e.kind == "localize"]
    scores = {r["path"]: r["score"] for r in places[0].data["regions"]}
    assert scores["b.py"] >= 0.6 * scores["a.py"]  # close enough to move on to, otherwise
    assert len(places) == 1 and outcome.verified
    assert (context.root / "a.py").read_text() == "def total(xs):\n    return sum(xs)\n"
