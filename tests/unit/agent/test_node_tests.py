"""A node project's failing tests, run for real by `npm test` (node's own runner, which prints
TAP when its output is not a terminal), become failures with ids, messages and frames in the
project's own paths; localization and the rewrite prompt read them as they read pytest's."""

from __future__ import annotations

import shutil
from pathlib import Path

from agent.env import test_report
from agent.env.sandbox import Sandbox, probe
from agent.env.test_report import parse_tap, run_suite
from agent.env.test_source import failing_test_source, failing_tests_source
from agent.localize import localize
from agent.model import ScriptedCandidateModel
from agent.pipeline import Pipeline, config_of
from agent.settings import AgentSettings
from tests.support.agent_context import context_for
from tests.support.projects import commit_all
from tests.support.requirements import requirement

CALC = (
    "function add(a, b) {\n  return a - b;\n}\n\n"
    "function parse(s) {\n  return s.value.trim();\n}\n\n"
    "module.exports = { add, parse };\n"
)
FLAT_TESTS = (
    "const test = require('node:test');\nconst assert = require('node:assert');\n"
    "const { add, parse } = require('../lib/calc');\n\n"
    "test('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});\n\n"
    "test('parses', () => {\n  assert.strictEqual(parse({}), 'x');\n});\n"
)
SUITE_TESTS = (
    "const { describe, it } = require('node:test');\nconst assert = require('node:assert');\n"
    "const { add } = require('../lib/calc');\n\n"
    "describe('calc', () => {\n"
    "  it('adds zero', () => {\n    assert.strictEqual(add(1, 0), 1);\n  });\n"
    "  it('adds two', () => {\n    assert.strictEqual(add(1, 2), 3);\n  });\n"
    "});\n"
)


def node_project(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "package.json").write_text('{"name": "calc", "scripts": {"test": "node --test"}}')
    (root / "lib" / "calc.js").write_text(CALC)
    (root / "test" / "calc.test.js").write_text(FLAT_TESTS)
    (root / "test" / "suite.test.js").write_text(SUITE_TESTS)
    return root


def test_npm_test_failures_become_data_in_the_project_s_paths(tmp_path):
    requirement(shutil.which("node"), "node")
    repo = node_project(tmp_path / "calc")
    report = run_suite(Sandbox(repo, tmp_path / "scratch", AgentSettings(), probe()), repo)
    assert report.runner == "npm" and report.passed == 1
    assert report.passed_ids == {"calc > adds zero"}
    by_id = {f.test_id: f for f in report.failures}
    assert set(by_id) == {"adds", "parses", "calc > adds two"}
    assert by_id["adds"].message.startswith("Expected values to be strictly equal")
    assert by_id["adds"].file == "test/calc.test.js"
    crash = by_id["parses"].frames[-1]  # outermost first, as Python's tracebacks
    assert (crash.path, crash.line, crash.function) == ("lib/calc.js", 6, "parse")
    assert "reading 'trim'" in by_id["parses"].message

    source = failing_tests_source(repo, report)
    assert "test('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});" in source
    assert "  it('adds two', () => {\n    assert.strictEqual(add(1, 2), 3);\n  });" in source
    assert "const { add, parse } = require('../lib/calc');" in source
    assert "adds zero" not in source  # the passing test beside it is not shown

    best = localize(repo, "the tests fail", report)[0]
    assert best.path == "lib/calc.js" and any("traceback" in r for r in best.reasons)


def test_a_suite_s_own_result_is_not_a_test_and_skips_are_not_passes():
    tap = (
        "TAP version 13\n# Subtest: math\n    # Subtest: inner\n        # Subtest: deep\n"
        "        ok 1 - deep\n          ---\n          duration_ms: 0.1\n          ...\n"
        "        1..1\n    ok 1 - inner\n      ---\n      type: 'suite'\n      ...\n"
        "    # Subtest: halves\n    not ok 2 - halves\n      ---\n"
        "      location: '/p/test/math.test.js:4:3'\n      error: 'expected 2, got 3'\n"
        "      stack: |-\n        half (/p/lib/math.js:2:9)\n"
        "        TestContext.<anonymous> (file:///p/test/math.test.js:5:12)\n      ...\n"
        "    1..2\nnot ok 1 - math\n  ---\n  failureType: 'subtestsFailed'\n  ...\n"
        "# Subtest: later\nok 2 - later # SKIP not now\n1..2\n"
    )
    passed, failures, ids = parse_tap(tap)
    assert ids == {"math > inner > deep"} and passed == 1
    (failure,) = failures
    assert failure.test_id == "math > halves" and failure.message == "expected 2, got 3"
    assert [(f.path, f.function) for f in failure.frames] == [
        ("/p/test/math.test.js", "<anonymous>"),
        ("/p/lib/math.js", "half"),
    ]


def test_the_pipeline_fixes_a_node_project_and_its_own_tests_judge(tmp_path):
    """The scripted model's words are given: what is tested is that the pipeline reproduces,
    localizes and judges through npm's TAP as it does through pytest's report."""
    requirement(shutil.which("node"), "node")
    repo = node_project(tmp_path / "calc")
    commit_all(repo)
    context = context_for(repo, tmp_path)
    context.test_command = "npm test --silent"
    fixed = CALC.replace("a - b", "a + b").replace("s.value.trim()", "(s.value || 'x').trim()")
    model = ScriptedCandidateModel([CALC.replace("a - b", "a * b") + "```", fixed + "```"])
    events: list = []
    pipeline = Pipeline(model, context, "make the failing tests pass",
                        config_of(candidates=2, rounds=1), on_event=events.append)  # fmt: skip
    outcome = pipeline.run()
    assert outcome.verified and (context.root / "lib" / "calc.js").read_text() == fixed
    assert sorted(events[0].data["failing"]) == ["adds", "calc > adds two", "parses"]
    assert "lib/calc.js" in events[1].message
    prompt = model.prompts[0][-1]["content"]
    assert "test('parses', () => {" in prompt and "reading 'trim'" in prompt
    validated = [(e.data["green"], e.data["fixed"]) for e in events if e.kind == "validate"]
    assert validated == [(False, 0), (True, 3)]


def test_a_go_test_is_found_by_its_function_name(tmp_path):
    """`go test -json` names the failing test, not its file."""
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "calc_test.go").write_text(
        'package calc\n\nimport "testing"\n\nfunc TestOther(t *testing.T) {}\n\n'
        'func TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("2 + 3")\n\t}\n}\n'
    )
    failure = test_report.TestFailure("example.com/calc::TestAdd", "", "TestAdd", "2 + 3", "")
    source = failing_test_source(tmp_path, failure)
    assert source.startswith("# calc/calc_test.go\n")
    assert source.endswith(
        'func TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("2 + 3")\n\t}\n}'
    )
