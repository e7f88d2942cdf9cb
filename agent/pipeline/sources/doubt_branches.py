"""When the full prompt's greedy rewrite copied the code: rewrites that each take the model's
own alternative at one of the code tokens it found least likely (agent.doubt_branches)."""

from __future__ import annotations

from agent.doubt_branches import branches
from agent.judge import normalized
from agent.pipeline.config import SourceSpec
from agent.pipeline.sources.prompted import ask, sample
from agent.pipeline.subject import History, Proposal, SourceEnv, Subject
from agent.rewrite import docstring_lines


class DoubtBranches:
    name = "doubt_branches"
    writes = True

    def applies(self, subject: Subject, history: History) -> bool:
        greedy = next((p for p in history.proposals if p.source == "full_prompt"), None)
        return greedy is not None and normalized(greedy.code) == normalized(subject.code)

    def propose(
        self, subject: Subject, history: History, spec: SourceSpec, env: SourceEnv
    ) -> list[Proposal]:
        if spec.count <= 0:
            return []
        asked = ask(subject, subject.config.sections)
        messages, prefix = asked
        code, head = subject.code, subject.head
        text = code[len(head) :]
        doubts = env.model.doubts(messages, reply_prefix=prefix + head, text=text)
        shift = head.count("\n")
        where = docstring_lines(code)
        skip = frozenset(range(where[0] - shift, where[1] - shift + 1)) if where else frozenset()
        chosen = branches(text, doubts, spec.count, skip)
        env.record("doubts", branches=[
            {"line": b.line + shift + 1, "original": b.original, "alternative": b.alternative,
             "probability": round(b.probability, 3)} for b in chosen])  # fmt: skip
        found: list[Proposal] = []
        for branch in chosen:
            env.checkpoint()
            found += sample(
                subject, env, asked, 1, self.name, 0, start=branch.start, draft=branch.rest,
                line=branch.line + shift + 1, original=branch.original,
                alternative=branch.alternative,
            )[:1]  # fmt: skip
        return found
