"""Prompt section: other definitions of the file that the task names (agent.named_context)."""

from __future__ import annotations

from agent.pipeline.subject import Subject
from agent.rewrite import Section


class NamedDefinitions:
    name = "named_definitions"

    def sections(self, subject: Subject) -> tuple[Section, ...]:
        shown = subject.named
        if not shown.code:
            return ()
        caption = f"Other code from {subject.region.path} that the task names, which stays as it is"
        return (Section(caption, shown.code, shown=shown.shown),)
