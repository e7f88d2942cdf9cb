"""When nothing is green: the best candidate that changed how the failing tests fail and
broke nothing else, with one number on a line it wrote moved by one (agent.near_miss)."""

from __future__ import annotations

from agent.judge import Judged
from agent.near_miss import off_by_one
from agent.pipeline.config import SourceSpec
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject


class OffByOne:
    name = "off_by_one"
    writes = False

    def applies(self, subject: Subject, history: History) -> bool:
        return not history.green and any(j.reached for j in history.written)

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        base = max((j for j in history.written if j.reached), key=Judged.rank)
        return [
            Proposal(self.name, {"line": n.row + 1, "after": n.after.strip(), "of": base.source},
                     base.code.replace(n.before.strip(), n.after.strip(), 1), n.text)
            for n in off_by_one(subject.original, base.text, subject.language)
        ]  # fmt: skip
