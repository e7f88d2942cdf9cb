"""A function too long to rewrite whole is edited through a window of whole statements
around its suspect rows, with a scripted model (it edits the draft it is handed: what is
tested is where the window falls, what the prompt shows and the splice back)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from agent.localize import Region
from agent.model import Candidates, ScriptedCandidateModel
from agent.pipeline import Pipeline, config_of
from agent.pipeline.places import MAX_REGION_LINES, WINDOW_LINES, needs_window, window
from agent.trajectory import Trajectory, read
from indexing.parsing import parse
from tests.support.agent_context import context_for
from tests.support.projects import module_project

FILLER = "".join(f"    n{i} = {i}\n" for i in range(100))
LONG = (
    "def tally(items):\n"
    '    """Sum the items."""\n'
    + FILLER
    + "    for item in items:\n        if item is None:\n            continue\n"
    + "    if not items:\n        raise ValueError('no items')\n"
    + "    return sum(items) + n0\n\n\ndef other():\n    return 1\n"
)  # fmt: skip
TESTS = (
    "from tally import tally\n\n\ndef test_empty():\n    assert tally([]) == 0\n\n\n"
    "def test_some():\n    assert tally([1, 2]) == 3\n"
)


@dataclass
class DraftEditingModel(ScriptedCandidateModel):
    """Replies with the draft it is handed (the code it is shown), one line replaced."""

    before: str = ""
    after: str = ""

    def candidates(self, messages, *, reply_prefix, temperatures, stop=(), max_tokens=1024,
                   draft="", seed=0):  # fmt: skip
        self.prompts.append([dict(m) for m in messages])
        self.prefixes.append(reply_prefix)
        return Candidates([draft.replace(self.before, self.after)] * len(temperatures), 10, 10, 1)


def test_a_window_is_whole_statements_around_the_suspect_row():
    last = LONG.split("\n").index("    return sum(items) + n0")
    region = Region("tally.py", 0, last, "tally", "function", 1.0)
    assert needs_window(region) and region.last - region.first + 1 > MAX_REGION_LINES
    raise_row = LONG.split("\n").index("        raise ValueError('no items')")
    cut = window(LONG, region, [raise_row], "python")
    assert cut.kind == "window" and cut.first <= raise_row <= cut.last
    assert cut.last - cut.first + 1 <= WINDOW_LINES and cut.last <= region.last
    shown = textwrap.dedent("\n".join(LONG.split("\n")[cut.first : cut.last + 1]))
    assert not parse(shown.encode(), "python").root_node.has_error  # whole statements
    # No anchor inside the function: the top of its body, after the docstring.
    top = window(LONG, region, [], "python")
    assert top.first == 2 and top.last - top.first + 1 <= WINDOW_LINES


def test_a_long_function_is_fixed_through_its_window(tmp_path):
    repo = module_project(tmp_path, "tally", LONG, TESTS)
    context = context_for(repo, tmp_path)
    model = DraftEditingModel([], before="raise ValueError('no items')", after="return 0")
    log = tmp_path / "log.jsonl"
    events = []
    outcome = Pipeline(model, context, "tally of nothing should be 0", config_of(1, 1),
                       Trajectory(log), events.append).run()  # fmt: skip
    assert outcome.verified, outcome.summary
    fixed = (context.root / "tally.py").read_text()
    assert fixed == LONG.replace("raise ValueError('no items')", "return 0")
    user = model.prompts[0][-1]["content"]
    shown = user.split("Here is lines ", 1)[1]
    assert shown.count("\n") < WINDOW_LINES + 8  # the window, not the 110-line function
    assert "def tally(items):" in user and "the lines shown below go here" in user
    windows = [r for r in read(log) if r["type"] == "window"]
    assert windows and windows[0]["function"][0] == 1
    assert next(e for e in events if e.kind == "chosen").data["source"] == "full_prompt"


def test_a_row_of_the_signature_is_no_anchor():
    """The rows the failing tests ran include the `def` line and its parameters; a window
    around them would be the whole function."""
    text = "def f(\n    a,\n    b,\n):\n" + FILLER + "    return a\n"
    region = Region("f.py", 0, text.count("\n") - 1, "f", "function", 1.0)
    cut = window(text, region, [1, 2, 60], "python")
    assert cut.kind == "window" and cut.first <= 60 <= cut.last
    assert cut.last - cut.first + 1 <= WINDOW_LINES
