"""When nothing is green: the best candidate whose tests failed on a bare class attribute
(`NameError: name '__marker'`), with the name read as `self.name` (agent.near_miss)."""

from __future__ import annotations

from agent.judge import Judged
from agent.near_miss import self_qualified
from agent.pipeline.config import SourceSpec
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject


class SelfQualified:
    name = "self_qualified"
    writes = False

    def applies(self, subject: Subject, history: History) -> bool:
        return not history.green and bool(history.written)

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        for candidate in sorted(history.written, key=Judged.rank, reverse=True):
            report = candidate.report
            messages = [f.message for f in report.failures] if report else []
            found = self_qualified(subject.original, candidate.text, messages, subject.language)
            if found is not None:
                code = candidate.code.replace(found.before.strip(), found.after.strip(), 1)
                params = {"line": found.row + 1, "after": found.after.strip(),
                          "of": candidate.source}  # fmt: skip
                return [Proposal(self.name, params, code, found.text)]
        return []
