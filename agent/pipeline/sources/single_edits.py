"""When nothing is green: single-token edits of the original (a number moved by one, an
operator swapped, a boolean flipped) at the rows the tracebacks reach, then those the
candidates rewrote, among the rows the failing tests ran (agent.suspect_edits)."""

from __future__ import annotations

from agent.judge import normalized
from agent.pipeline.config import SourceSpec
from agent.pipeline.subject import Evidence, History, Proposal, SourceEnv, Subject
from agent.rewrite import region_text
from agent.suspect_edits import single_edits, suspect_rows


class SingleEdits:
    name = "single_edits"
    writes = False

    def applies(self, subject: Subject, history: History) -> bool:
        return not history.green

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        cap = edit_cap(spec, subject.evidence)
        if not cap:
            return []
        region = subject.region
        rows = suspect_rows(
            subject.original, (j.text for j in history.written if j.code.strip()),
            traced_rows(subject), region.first, region.last, env.executed_rows(subject),
        )  # fmt: skip
        # All of them, so that a later round's budget goes to edits not judged before.
        seen = history.seen()
        fresh = [n for n in single_edits(subject.original, rows, subject.language)
                 if normalized(n.text) not in seen][:cap]  # fmt: skip
        return [
            Proposal(self.name, {"line": n.row + 1, "after": n.after.strip()},
                     region_text(n.text, region), n.text)
            for n in fresh
        ]  # fmt: skip


def edit_cap(spec: SourceSpec, evidence: Evidence) -> int:
    """How many edits a round may judge: the budget's, or more when the suite is quick
    enough that they take about the budget's seconds in all."""
    if not spec.count:
        return 0
    quick = int(spec.seconds / max(evidence.seconds, 0.5))
    return min(spec.factor * spec.count, max(spec.count, quick))


def traced_rows(subject: Subject) -> list[int]:
    report = subject.evidence.report
    return [
        frame.line - 1
        for failure in (report.failures if report else ())
        for frame in failure.frames
        if same_file(frame.path, subject.region.path)
    ]


def same_file(traced: str, path: str) -> bool:
    """Whether a traceback's path (absolute, relative, with either slash) is the project's
    relative `path`."""
    return ("/" + traced.replace("\\", "/")).endswith("/" + path)
