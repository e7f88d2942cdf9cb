"""The test-driven pipeline with a scripted model (the model's words are given; what is
tested is how the pipeline reproduces, localizes, validates and chooses) on real tiny
projects, with the real test runner in the real sandbox."""

from __future__ import annotations

import re
import threading

import pytest

from agent.env.sandbox import Sandbox, probe
from agent.env.test_report import parse_junit, run_suite
from agent.localize import Region, localize
from agent.model import ScriptedCandidateModel
from agent.pipeline import GENERATED_TEST, Pipeline, config_of
from agent.pipeline.config import split_candidates
from agent.rewrite import splice, splice_code
from agent.settings import AgentSettings
from agent.trajectory import Trajectory, read
from tests.support.agent_context import context_for
from tests.support.projects import TEST_COMMAND, commit_all, make_repo, module_project

RIGHT = "def add(a, b):\n    return a + b\n```"
WRONG = "def add(a, b):\n    return a * b\n```"
COPIES_TEST = (
    "def add(a, b):\n    return a - b\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```"
)


EDITS = ("off_by_one", "self_qualified", "single_edits")


def run(
    model, context, instruction="make the failing test pass", n=3, rounds=1, log=None, edits=0,
    edit_seconds=0.0,
):  # fmt: skip
    events = []
    pipeline = Pipeline(
        model,
        context,
        instruction,
        config_of(candidates=n, rounds=rounds, edits=edits, edit_seconds=edit_seconds),
        Trajectory(log) if log else None,
        events.append,
    )
    return pipeline.run(), events


def test_the_failing_test_chooses_among_candidates(tmp_path):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path)
    model = ScriptedCandidateModel([COPIES_TEST, WRONG, RIGHT])
    outcome, events = run(model, context, log=tmp_path / "log.jsonl")
    assert outcome.status == "done" and outcome.verified
    assert (context.root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["reproduce", "localize"] and kinds[-2:] == ["chosen", "done"]
    assert "1 failed" in events[0].message and events[0].data["failing"] == [
        "test_calc.py::test_add"
    ]
    assert "calc.py" in events[1].message
    problems = [e.data["problem"] for e in events if e.kind == "candidate"]
    assert problems[0].startswith("it copies the tests") and problems[1:] == ["", ""]
    validated = [e for e in events if e.kind == "validate"]
    assert [v.data["green"] for v in validated] == [False, True]
    # The model saw the failing test's source and its output, and the code to rewrite.
    prompt = model.prompts[0][-1]["content"]
    assert "def test_add():" in prompt and "assert -1 == 5" in prompt and "return a - b" in prompt
    logged = [r["type"] for r in read(tmp_path / "log.jsonl")]
    assert logged.count("candidate") == 3 and logged.count("validate") == 2


def test_agreeing_samples_win_between_equally_green_candidates(tmp_path):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path)
    other = "def add(a, b):\n    return sum((a, b))\n```"
    outcome, _ = run(ScriptedCandidateModel([other, RIGHT, RIGHT + "\n"]), context)
    assert outcome.chosen is not None and outcome.chosen.votes == 2
    assert "a + b" in outcome.chosen.text


def test_an_answer_holding_only_the_changed_function_is_merged_into_the_file(tmp_path):
    repo = make_repo(tmp_path / "project")
    calc = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
    (repo / "calc.py").write_text(calc)
    context = context_for(repo, tmp_path)
    outcome, events = run(ScriptedCandidateModel([RIGHT]), context, n=1)
    assert outcome.verified
    assert (context.root / "calc.py").read_text() == calc.replace("a - b", "a + b")
    assert [e.data["problem"] for e in events if e.kind == "candidate"] == [""]


def test_a_repair_round_sees_the_failure_of_the_best_attempt(tmp_path):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path)
    model = ScriptedCandidateModel([WRONG, RIGHT])
    outcome, _ = run(model, context, n=1, rounds=2)
    assert outcome.verified
    repair = model.prompts[1][-1]["content"]
    assert "An earlier rewrite was wrong" in repair and "return a * b" in repair


def test_after_a_round_of_unchanged_copies_the_repair_asks_for_a_change_without_the_copy(
    tmp_path,
):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path)
    unchanged = "def add(a, b):\n    return a - b\n```"
    model = ScriptedCandidateModel([unchanged, RIGHT])
    outcome, _ = run(model, context, n=1, rounds=2)
    assert outcome.verified
    repair = model.prompts[1][-1]["content"]
    assert "gave the code back unchanged" in repair
    assert repair.count("return a - b") == 1  # the code shown, not the copy again


def test_a_hanging_or_import_breaking_candidate_is_red(tmp_path):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path, timeout_s=5)
    hangs = "def add(a, b):\n    while True:\n        pass\n```"
    breaks = "import no_such_module\n\n\ndef add(a, b):\n    return a + b\n```"
    outcome, events = run(ScriptedCandidateModel([hangs, breaks]), context, n=2)
    assert outcome.status == "failed" and not outcome.verified
    summaries = [e.message for e in events if e.kind == "validate"]
    assert "timed out" in summaries[0] and "1 failed" in summaries[1]


def test_a_candidate_s_suite_is_cut_off_at_a_few_times_the_original_s(tmp_path, monkeypatch):
    """When the suite ran on the original code with most tests passing, a looping candidate
    is killed long before the command timeout (the floor lowered here for speed)."""
    import agent.pipeline.stages

    monkeypatch.setattr(agent.pipeline.stages, "CANDIDATE_TIMEOUT_FLOOR_S", 2.0)
    repo = make_repo(tmp_path / "project")
    (repo / "test_more.py").write_text(
        "".join(f"def test_{i}():\n    assert {i} == {i}\n\n\n" for i in range(3))
    )
    context = context_for(repo, tmp_path, timeout_s=60)
    hangs = "def add(a, b):\n    while True:\n        pass\n```"
    outcome, events = run(ScriptedCandidateModel([hangs]), context, n=1)
    assert not outcome.verified
    (validated,) = [e for e in events if e.kind == "validate"]
    assert "timed out" in validated.message
    killed_after = re.search(r"killed after ([\d.]+) s", validated.data["output"])
    assert killed_after and float(killed_after.group(1)) < 30


def test_with_no_failing_test_a_written_test_must_fail_first(tmp_path):
    repo = make_repo(tmp_path / "project")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    context = context_for(repo, tmp_path)
    test = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n```"
    fix = "def sub(a, b):\n    return a - b\n```"
    outcome, events = run(ScriptedCandidateModel([test, fix]), context, "add sub(a, b)", n=1)
    assert outcome.verified and (context.root / GENERATED_TEST).exists()
    assert any(e.kind == "test_written" and "fails now" in e.message for e in events)
    # A test that already passes proves nothing: it is dropped and the result is unverified.
    repo2 = make_repo(tmp_path / "project2")
    (repo2 / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    context2 = context_for(repo2, tmp_path / "2")
    passing = "from calc import add\n\n\ndef test_add2():\n    assert add(1, 1) == 2\n```"
    whole = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n```"
    outcome2, _ = run(ScriptedCandidateModel([passing, whole]), context2, "add sub", n=1)
    assert outcome2.status == "done" and outcome2.verified is False
    assert not (context2.root / GENERATED_TEST).exists()
    assert "UNVERIFIED" in outcome2.summary


def test_cancel_stops_between_candidates(tmp_path):
    repo = make_repo(tmp_path / "project")
    context = context_for(repo, tmp_path)
    context.cancel = threading.Event()
    context.cancel.set()
    outcome, events = run(ScriptedCandidateModel([RIGHT]), context)
    assert outcome.status == "cancelled" and events[-1].data["reason"] == "cancelled"


def test_junit_reports_become_failures_with_frames(tmp_path):
    xml = (
        '<testsuites><testsuite><testcase classname="test_calc" name="test_add" '
        'file="test_calc.py" line="3"><failure message="assert -1 == 5">'
        "test_calc.py:5: in test_add\n    assert add(2, 3) == 5\ncalc.py:2: in add\n"
        "    return a - b\nE   assert -1 == 5</failure></testcase>"
        '<testcase classname="test_calc" name="test_ok" file="test_calc.py"/>'
        "</testsuite></testsuites>"
    )
    passed, failures, ids = parse_junit(xml)
    assert passed == 1 and ids == {"test_calc.py::test_ok"}
    (failure,) = failures
    assert failure.test_id == "test_calc.py::test_add"
    assert [(f.path, f.line, f.function) for f in failure.frames][:2] == [
        ("test_calc.py", 5, "test_add"),
        ("calc.py", 2, "add"),
    ]


def test_tracebacks_localize_the_function_in_a_large_file(tmp_path):
    repo = tmp_path / "big"
    repo.mkdir()
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
    (repo / "lib.py").write_text(filler + "def parse_date(text):\n    return text.split('/')\n")
    (repo / "test_lib.py").write_text(
        "from lib import parse_date\n\n\ndef test_iso():\n    assert parse_date('2024-01-02')"
        " == ['2024', '01', '02']\n"
    )
    sandbox = Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe())
    report = run_suite(sandbox, repo, TEST_COMMAND)
    assert report.runner == "pytest" and len(report.failures) == 1
    # The traceback stops in the test; its calls and the report's words find the function.
    (best, *_) = localize(repo, "dates in ISO format are not parsed", report)
    assert (best.path, best.name, best.kind) == ("lib.py", "parse_date", "function")
    assert splice((repo / "lib.py").read_text(), best, "def parse_date(text):\n    return 1\n```")


def test_a_method_rewritten_without_its_indentation_is_put_back_in_place():
    from agent.localize import Region

    text = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    region = Region("a.py", 1, 2, "f", "function", 1.0)
    result = splice(text, region, "def f(self):\n    return 10\n```")
    assert result == text.replace("return 1\n", "return 10\n")


def _reply_cap(region, code, most):
    from agent.pipeline.subject import Evidence, Subject

    whole = code if region.kind != "add" else code + "\n" * 10
    config = config_of(1, 1, max_tokens=most)
    return Subject(region, whole, "x", Evidence("", True, True), config, scope="body").reply_cap


def test_a_rewrite_is_capped_by_its_region_and_new_code_is_not():
    small = "def f(x):\n    return x + 1\n"
    function = Region("lib.py", 0, 1, "f", "function", 1.0)
    assert _reply_cap(function, small, 1024) == 256  # a few lines: the floor
    large = "def f(x):\n" + "    x = compute(x)\n" * 200
    assert _reply_cap(Region("lib.py", 0, 200, "f", "function", 1.0), large, 1024) == 1024
    middle = "def f(x):\n" + "    x = compute(x)\n" * 30  # 570 characters
    assert 256 < _reply_cap(Region("lib.py", 0, 30, "f", "function", 1.0), middle, 1024) < 1024
    added = Region("lib.py", 9, 9, "g", "add", 1.0)
    assert _reply_cap(added, small, 1024) == 1024


def test_a_small_models_round_splits_between_the_full_prompt_and_a_bare_one(tmp_path):
    """A model under a billion parameters gets half of each round's candidates from a prompt
    with only the task and the code; a bigger one, or one of unknown size, none."""
    assert split_candidates(6, 494_000_000) == (3, 3)
    assert split_candidates(3, 494_000_000) == (2, 1)
    assert split_candidates(1, 494_000_000) == (1, 0)
    assert split_candidates(6, 1_540_000_000) == (6, 0)
    assert split_candidates(6, 0) == (6, 0)
    repo = make_repo(tmp_path / "project")
    model = ScriptedCandidateModel([WRONG, WRONG, RIGHT])
    model.n_params = 494_000_000  # type: ignore[attr-defined]
    outcome, _ = run(model, context_for(repo, tmp_path))
    assert outcome.verified
    full, bare = (prompt[-1]["content"] for prompt in model.prompts)
    assert "def test_add():" in full and "assert -1 == 5" in full and "return a - b" in full
    assert "def test_add():" not in bare and "assert -1" not in bare and "return a - b" in bare


def _tail_project(tmp_path):
    repo = tmp_path / "big"
    repo.mkdir()
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
    buggy = "def tail(n, seq):\n    return list(seq)[:-n]\n"
    (repo / "lib.py").write_text("import itertools\n\n\n" + filler + buggy)
    (repo / "test_lib.py").write_text(
        "from lib import tail\n\n\ndef test_tail():\n"
        "    assert tail(2, iter([1, 2, 3])) == [2, 3]\n"
    )
    commit_all(repo)
    return repo


def test_a_function_s_rewrite_starts_at_its_definition_line(tmp_path):
    """Shown a failing test, small models often open a rewrite with the test's imports or
    the test itself: the reply is forced to start with the function's own `def` line."""
    context = context_for(_tail_project(tmp_path), tmp_path)
    model = ScriptedCandidateModel(["    return list(seq)[-n:]\n```"])
    outcome, _ = run(model, context, n=1)
    assert model.prefixes == ["```python\ndef tail(n, seq):\n"]
    assert outcome.verified
    assert (
        (context.root / "lib.py")
        .read_text()
        .endswith("def tail(n, seq):\n    return list(seq)[-n:]\n")
    )


def test_test_imports_above_a_rewritten_function_are_cut_and_a_needed_one_hoisted(tmp_path):
    """A task that may change the parameters leaves the reply free: the 1.5B then often
    opens it with the test file's imports (a self-import among them) before the right fix."""
    reply = (
        "from lib import tail\nfrom lib import (helper_1,\nfrom collections import deque\n\n"
        "def tail(n, seq):\n    return list(deque(seq, n))\n```"
    )
    context = context_for(_tail_project(tmp_path), tmp_path)
    task = "tail counts its n argument from the wrong end"
    model = ScriptedCandidateModel([reply])
    outcome, events = run(model, context, task, n=1)
    assert model.prefixes == ["```python\n"]
    assert [e.data["problem"] for e in events if e.kind == "candidate"] == [""]
    assert outcome.verified
    fixed = (context.root / "lib.py").read_text()
    assert fixed.startswith("import itertools\nfrom collections import deque\n\n\n")
    assert "from lib import" not in fixed
    assert fixed.endswith("def tail(n, seq):\n    return list(deque(seq, n))\n")


def test_a_definition_s_head_is_its_decorators_and_def_line_or_nothing():
    from agent.rewrite import definition_head

    method = "    @staticmethod\n    def f(x,\n          y):\n        return x\n"
    assert definition_head(method, "f") == "    @staticmethod\n    def f(x,\n"
    assert definition_head("async def g():\n    pass", "g") == "async def g():\n"
    assert definition_head("def g():\n    pass", "f") == ""
    assert definition_head("class A:\n    pass", "A") == ""
    assert definition_head("@decorate(\n    1)\ndef f():\n    pass", "f") == ""


def test_a_thin_wrapper_that_fixed_nothing_hands_on_to_what_it_calls(tmp_path):
    """The report names `backoff`; the work is in `backoff_iter`, which scored far lower."""
    from agent.pipeline.places import calls_next, try_next_place

    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "lib.py").write_text(
        "def backoff_iter(start, stop):\n    yield start\n\n\n"
        "def backoff(start, stop):\n    '''backoff_iter(...) as a list'''\n"
        "    return list(backoff_iter(start, stop))\n"
    )
    wrapper = Region("lib.py", 4, 6, "backoff", "function", 20.0)
    worker = Region("lib.py", 0, 1, "backoff_iter", "function", 5.0)
    pipeline = Pipeline(ScriptedCandidateModel([]), context_for(repo, tmp_path), "x",
                        config_of(1, 2))  # fmt: skip
    text = (pipeline.context.root / "lib.py").read_text()
    assert calls_next(text, [wrapper, worker], 0)
    assert not calls_next(text, [worker, wrapper], 0)
    assert try_next_place([], [wrapper, worker], 0, calls_next=True)
    assert not try_next_place([], [wrapper, worker], 0, calls_next=False)
    # A stub whose docstring shows the call (toolz's `accumulate`, before its curried alias)
    # calls nothing.
    (pipeline.context.root / "lib.py").write_text(
        "def backoff_iter(start, stop):\n    yield start\n\n\n"
        'def backoff(start, stop):\n    """>>> list(backoff_iter(1, 2))"""\n'
        "    # backoff_iter(start, stop), some day\n    raise NotImplementedError\n"
    )
    stub = Region("lib.py", 4, 7, "backoff", "function", 20.0)
    text = (pipeline.context.root / "lib.py").read_text()
    assert not calls_next(text, [stub, worker], 0)


def test_a_function_too_long_for_a_reply_is_rewritten_without_its_docstring(tmp_path):
    repo = tmp_path / "big"
    repo.mkdir()
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
    docstring = '    """The last n items.\n\n' + "    A long explanation.\n" * 8 + '    """\n'
    (repo / "lib.py").write_text(filler + "def tail(n, seq):\n" + docstring
                                 + "    return list(seq)[:-n]\n")  # fmt: skip
    (repo / "test_lib.py").write_text(
        "from lib import tail\n\n\ndef test_tail():\n    assert tail(2, [1, 2, 3]) == [2, 3]\n"
    )
    commit_all(repo)
    context = context_for(repo, tmp_path)
    model = ScriptedCandidateModel(["    return list(seq)[-n:]\n```"])
    budget = config_of(candidates=1, rounds=1, max_tokens=64)  # 0.8 x 64 x 3 characters
    outcome = Pipeline(model, context, "make the failing test pass", budget).run()
    assert "The docstring of `tail`, which stays as it is" in model.prompts[0][-1]["content"]
    assert outcome.verified
    assert (
        (context.root / "lib.py")
        .read_text()
        .endswith("def tail(n, seq):\n" + docstring + "    return list(seq)[-n:]\n")
    )


def test_a_copied_rewrite_branches_at_the_token_the_model_doubts(tmp_path):
    """The greedy rewrite gives the code back unchanged; the model's scores say it doubted
    `:-`, where it would rather write `-`: a rewrite forced to take that alternative, decoded
    on from there, is tested like any candidate, and fixes the bug."""
    from inference.doubts import TokenDoubt

    context = context_for(_tail_project(tmp_path), tmp_path)
    pieces = [("    return", 0.97), (" list", 0.9), ("(seq", 0.95), (")[", 0.9), (":-", 0.2),
              ("n", 0.99), ("]", 0.99)]  # fmt: skip
    doubts, offset = [], 0
    for text, probability in pieces:
        doubts.append(TokenDoubt(offset, text, probability, (("-", 0.7), ("#", 0.05))))
        offset += len(text)
    model = ScriptedCandidateModel(["    return list(seq)[:-n]\n```", "n:]\n```"], scored=[doubts])
    budget = config_of(candidates=1, rounds=1, doubts=1)
    log = tmp_path / "log.jsonl"
    outcome = Pipeline(model, context, "make the failing test pass", budget, Trajectory(log)).run()
    head = "```python\ndef tail(n, seq):\n"
    assert model.prefixes == [head, head + "    return list(seq)[-"]
    assert outcome.verified
    assert (context.root / "lib.py").read_text().endswith("    return list(seq)[-n:]\n")
    (logged,) = [r for r in read(log) if r["type"] == "doubts"]
    assert logged["branches"][0]["original"] == ":-" and logged["branches"][0]["line"] == 2


def test_no_branches_when_the_greedy_rewrite_changes_the_code(tmp_path):
    context = context_for(_tail_project(tmp_path), tmp_path)
    model = ScriptedCandidateModel(["    return list(seq)[-n:]\n```"], scored=[[]])
    budget = config_of(candidates=1, rounds=1, doubts=2)
    assert Pipeline(model, context, "make the failing test pass", budget).run().verified
    assert model.scored == [[]]  # never asked


COUNTER = (
    "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(12))
    + "class Counter:\n    start = 0\n\n    def __init__(self):\n        self.counts = {}\n\n"
    "    def add(self, key):\n        self.counts[key] = self.counts.get(key, 0) - 1\n\n"
    "    def get(self, key):\n        return self.counts.get(key, self.start)\n\n"
    "    def drop(self, key):\n        del self.counts[key]\n"
)


def test_a_method_is_shown_its_siblings_and_a_copy_of_them_in_the_reply_is_dropped(tmp_path):
    """The bug is a disagreement with a sibling (`get` counts up, `add` counts down): the
    prompt shows the class, and the sibling the reply copies after the method stays as it is."""
    repo = module_project(
        tmp_path,
        "counter",
        COUNTER,
        "from counter import Counter\n\n\ndef test_add_counts():\n    c = Counter()\n"
        "    c.add('a')\n    c.add('a')\n    assert c.get('a') == 2\n",
    )
    context = context_for(repo, tmp_path)
    reply = (
        "        return -self.counts.get(key, self.start)\n\n"
        "    def drop(self, key):\n        self.counts.pop(key)\n```"
    )
    model = ScriptedCandidateModel([reply])
    outcome, _ = run(model, context, "Counter.get gives negative counts", n=1)
    assert outcome.verified
    prompt = model.prompts[0][-1]["content"]
    assert "The rest of the class of `get`, which stays as it is" in prompt
    assert "    start = 0\n" in prompt and "self.counts.get(key, 0) - 1" in prompt
    fixed = (context.root / "counter.py").read_text()
    assert fixed == COUNTER.replace("return self.counts", "return -self.counts")


def test_a_candidate_one_number_off_gets_its_off_by_one_neighbours_judged(tmp_path):
    repo = module_project(
        tmp_path,
        "words",
        "def drop_id(word):\n    return word\n",
        "from words import drop_id\n\n\ndef test_drops_id():\n"
        "    assert drop_id('author_id') == 'author'\n\n\n"
        "def test_keeps_plain():\n    assert drop_id('author') == 'author'\n",
    )
    context = context_for(repo, tmp_path)
    close = "def drop_id(word):\n    if word.endswith('_id'):\n        return word[:-4]\n"
    model = ScriptedCandidateModel([close + "    return word\n```"])
    outcome, events = run(model, context, "drop_id should drop a trailing _id", n=1)
    assert outcome.verified
    assert "return word[:-3]" in (context.root / "words.py").read_text()
    sources = [e.data["source"] for e in events if e.kind == "candidate"]
    assert sources == ["full_prompt", "off_by_one"]  # -3 was green: -5 is not judged
    labels = [e.message for e in events if e.kind == "candidate"]
    assert labels[1] == (
        "candidate 1/2 from off_by_one (line=3, after=return word[:-3], of=full_prompt)"
    )
    chosen = next(e for e in events if e.kind == "chosen")
    assert chosen.data["source"] == "off_by_one" and chosen.data["params"]["line"] == 3
    validated = [e.data["green"] for e in events if e.kind == "validate"]
    assert validated[0] is False and validated[1] is True


def test_a_line_the_candidates_rewrote_gets_its_single_token_edits_judged(tmp_path):
    repo = module_project(
        tmp_path,
        "nth",
        "def take_nth(n, seq):\n    return list(seq)[1::n]\n",
        "from nth import take_nth\n\n\ndef test_every_second():\n"
        "    assert take_nth(2, [10, 20, 30, 40, 50]) == [10, 30, 50]\n",
    )
    context = context_for(repo, tmp_path)
    # The right line, the wrong token: [30, 50]. No number of its own to move by one.
    model = ScriptedCandidateModel(["def take_nth(n, seq):\n    return list(seq)[n::n]\n```"])
    outcome, events = run(model, context, "take_nth should take every nth item", n=1, edits=6)
    assert outcome.verified
    assert "return list(seq)[0::n]" in (context.root / "nth.py").read_text()
    sources = [e.data["source"] for e in events if e.kind == "candidate"]
    assert sources[:2] == ["full_prompt", "single_edits"]
    validated = [e.data["green"] for e in events if e.kind == "validate"]
    assert validated == [False, True]  # the first edit, 1 -> 0, was green: no other is judged
    # Without edits in the budget, the round ends red.
    other = context_for(repo, tmp_path / "again")
    model = ScriptedCandidateModel(["def take_nth(n, seq):\n    return list(seq)[n::n]\n```"])
    assert not run(model, other, "take_nth should take every nth item", n=1)[0].verified


CHUNKS = (
    "def chunks(items, size, align=False):\n"
    "    if align:\n"
    "        size = size + 1\n"
    "    for start in range(0, len(items), size + 1):\n"
    "        yield items[start:start + size]\n"
)


def test_edits_go_to_the_rows_the_failing_test_ran_and_a_quick_suite_gets_more(tmp_path):
    """The candidate rewrites the `align` branch, which the failing test never runs; the
    step that is wrong is on a row no candidate touched."""
    tests = (
        "from chunks import chunks\n\n\ndef test_pairs():\n"
        "    assert list(chunks([1, 2, 3, 4], 2)) == [[1, 2], [3, 4]]\n"
    )
    repo = module_project(tmp_path, "chunks", CHUNKS, tests)
    branch = CHUNKS.replace("size = size + 1", "size = size + 2") + "```"
    context = context_for(repo, tmp_path)
    outcome, events = run(ScriptedCandidateModel([branch]), context, "chunks skips items", n=1,
                          edits=2, edit_seconds=600.0)  # fmt: skip
    assert outcome.verified
    assert "range(0, len(items), size + 0)" in (context.root / "chunks.py").read_text()
    near = [e.data["diff"] for e in events if e.kind == "candidate" and e.data["source"] in EDITS]
    # `align=True`, then the loop row's tokens in order: `0` to `1`, `+` to `-`, `1` to `0`.
    assert len(near) == 4 and "align=True" in near[0] and "size + 0" in near[3]
    changed = [line for diff in near for line in diff.splitlines()[2:] if line[:1] in "+-"]
    assert not any("size = size" in line for line in changed)  # the branch never ran
    # The budget's two edits alone, with no time for more, stop short of the fix.
    other = context_for(repo, tmp_path / "again")
    model = ScriptedCandidateModel([branch])
    assert not run(model, other, "chunks skips items", n=1, edits=2)[0].verified


def test_a_later_round_judges_the_edits_an_earlier_one_did_not(tmp_path):
    repo = module_project(
        tmp_path,
        "last",
        "def last(seq):\n    return seq[len(seq) - 2]\n",
        "from last import last\n\n\ndef test_last():\n    assert last([1, 2, 3]) == 3\n",
    )
    context = context_for(repo, tmp_path)
    # Both rewrite the line and return what it returned: nothing for the near misses to move.
    same = [
        "def last(seq):\n    return seq[-2]\n```",
        "def last(seq):\n    return seq[::-1][1]\n```",
    ]
    outcome, events = run(ScriptedCandidateModel(same), context, n=1, rounds=2, edits=1)
    assert outcome.verified
    assert "return seq[len(seq) - 1]" in (context.root / "last.py").read_text()
    near = [e.data["diff"] for e in events if e.kind == "candidate" and e.data["source"] in EDITS]
    assert len(near) == 2  # one edit a round: `-` to `+` first, then the 2 moved by one
    assert "+    return seq[len(seq) + 2]" in near[0] and "+    return seq[len(seq) - 1]" in near[1]


FENCED_DOC = (
    "def shout(text):\n"
    '    """Upper-case a text.\n\n'
    "    Examples:\n"
    "        ```pycon\n"
    "        >>> shout('a')\n"
    "        'A!'\n"
    "        ```\n"
    '    """\n'
    "    return text.lower() + '!'\n"
    "\n\n"
    "def whisper(text):\n"
    "    return text.lower()\n"
)


@pytest.mark.parametrize("closing", ["````", "```"])
def test_a_docstring_with_a_code_fence_reaches_the_tests_whole(tmp_path, closing):
    """mkdocs-style examples in a docstring: the prompt shows the function in a longer fence,
    generation runs past the docstring's own fence, and the reply is cut at its closing fence
    (the model's own shorter one too: the parser checks the cut)."""
    repo = module_project(tmp_path, "shout", FENCED_DOC,
                          "from shout import shout\n\n\ndef test_shout():\n"
                          "    assert shout('a') == 'A!'\n")  # fmt: skip
    context = context_for(repo, tmp_path)
    fixed = FENCED_DOC.replace("text.lower() + '!'", "text.upper() + '!'")  # the whole file
    reply = fixed + f"{closing}\nThat upper-cases it.\n"
    model = ScriptedCandidateModel([reply])
    outcome, events = run(model, context, n=1)
    assert [e.data["problem"] for e in events if e.kind == "candidate"] == [""]
    assert outcome.verified
    assert (context.root / "shout.py").read_text() == FENCED_DOC.replace(
        "text.lower() + '!'", "text.upper() + '!'"
    )
    assert model.prefixes == ["````python\n"]
    assert "````python\ndef shout(text):" in model.prompts[0][-1]["content"]


def test_candidates_that_all_break_more_than_the_original_leave_no_change(tmp_path):
    """The original passes two of three tests; every candidate breaks more. The task fails
    with no diff, says what it tried, and the log keeps the closest candidate."""
    repo = module_project(
        tmp_path, "adder", "def add(a, b):\n    return a - b\n",
        "from adder import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n\n\ndef test_right_zero():\n"
        "    assert add(4, 0) == 4\n",
    )  # fmt: skip
    context = context_for(repo, tmp_path)
    worse = ["def add(a, b):\n    return a * b + 1\n```", "def add(a, b):\n    return b - a\n```"]
    outcome, events = run(ScriptedCandidateModel(worse), context, n=2, log=tmp_path / "log.jsonl")
    assert outcome.status == "failed" and outcome.chosen is None and not outcome.verified
    assert (context.root / "adder.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert "no change" in outcome.summary and "2 passed, 1 failed" in outcome.summary
    assert "adder.py" in outcome.summary  # where it tried
    (closest,) = [e for e in events if e.kind == "closest"]
    assert "return b - a" in closest.data["diff"]  # 1 passed beats 0 passed
    assert [e.kind for e in events][-1] == "failed" and "chosen" not in [e.kind for e in events]
    logged = [r for r in read(tmp_path / "log.jsonl") if r["type"] == "closest"]
    assert logged and "+    return b - a" in logged[0]["diff"]


def test_a_red_candidate_no_worse_than_the_original_is_still_offered(tmp_path):
    repo = module_project(
        tmp_path, "adder", "def add(a, b):\n    return a - b\n",
        "from adder import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n",
    )  # fmt: skip
    context = context_for(repo, tmp_path)
    model = ScriptedCandidateModel(["def add(a, b):\n    return (a - b) * 1\n```"])
    outcome, _ = run(model, context, n=1)
    assert outcome.status == "failed" and outcome.chosen is not None
    assert "but tests still fail" in outcome.summary


PY_THREE = (
    "def first():\n    return 1\n\n\ndef middle(x):\n    return x - 1\n\n\ndef last():\n"
    "    return 3\n"
)
JS_THREE = (
    "function first() {\n  return 1;\n}\n\nfunction middle(x) {\n  return x - 1;\n}\n\n"
    "function last() {\n  return 3;\n}\n"
)


def test_a_spliced_rewrite_keeps_the_blank_lines_around_it():
    """A function between two others, rewritten with blank lines of the model's own around
    it, in Python and in a brace language; and a whole file whose reply joined two blank
    lines into one: only the change the model made shows in the file."""
    region = Region("m.py", 4, 5, "middle", "function", 1.0)
    reply = "\n\ndef middle(x):\n    return x + 1\n\n"
    assert splice_code(PY_THREE, region, reply) == PY_THREE.replace("x - 1", "x + 1")
    region = Region("m.js", 4, 6, "middle", "function", 1.0)
    reply = "\nfunction middle(x) {\n  return x + 1;\n}\n\n\n"
    assert splice_code(JS_THREE, region, reply) == JS_THREE.replace("x - 1", "x + 1")
    whole = Region("m.py", 0, PY_THREE.count("\n"), "m.py", "file", 1.0)
    reply = PY_THREE.replace("\n\n\n", "\n\n").replace("x - 1", "x + 1")
    assert splice_code(PY_THREE, whole, reply) == PY_THREE.replace("x - 1", "x + 1")
    added = (
        "def first():\n    return 1\n\ndef extra():\n    return 2\n"  # new code stays as written
    )
    assert "def extra():\n    return 2\n" in splice_code(PY_THREE, whole, added + PY_THREE[26:])
    tail = Region("m.py", 8, PY_THREE.count("\n"), "m.py", "tail", 1.0)
    reply = "def last():\n    return 3\n\n\ndef more():\n    return 4\n"
    assert splice_code(PY_THREE, tail, reply) == PY_THREE + "\n\ndef more():\n    return 4\n"


def test_a_unittest_suite_in_tests_py_is_found_and_judges_the_candidates(tmp_path):
    """A package that keeps its unittest suite in a top-level tests.py, which pytest's own
    pattern skips: the suite is found as the project runs it, fails on the original, and
    the candidate is verified by it."""
    from dataclasses import replace

    from agent.env.suite_discovery import Suite, find_suite, unittest_modules
    from agent.loop.tools import detect_test_command

    repo = tmp_path / "pkg"
    repo.mkdir()
    (repo / "slug.py").write_text("def slug(text):\n    return text.lower()\n")
    (repo / "tests.py").write_text(
        "import unittest\n\nfrom slug import slug\n\n\nclass SlugTest(unittest.TestCase):\n"
        "    def test_spaces(self):\n        self.assertEqual(slug('A b'), 'a-b')\n"
    )
    commit_all(repo)
    assert unittest_modules(repo) == ["tests.py"]
    context = context_for(repo, tmp_path)
    context = replace(context, test_command=detect_test_command(repo))
    fixed = "def slug(text):\n    return text.lower().replace(' ', '-')\n```"
    outcome, events = run(ScriptedCandidateModel([fixed]), context, n=1)
    assert "0 passed, 1 failed" in events[0].message, events[0].message
    assert outcome.status == "done" and outcome.verified, [(e.kind, e.message) for e in events]
    (repo / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
    assert find_suite(repo) == Suite()  # the project's own configuration says
