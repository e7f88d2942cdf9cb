"""Prompt section: the rest of a method's class (agent.class_context)."""

from __future__ import annotations

from agent.pipeline.subject import Subject
from agent.rewrite import Section


class ClassMembers:
    name = "class_context"

    def sections(self, subject: Subject) -> tuple[Section, ...]:
        shown = subject.siblings
        if not shown.code:
            return ()
        caption = f"The rest of the class of `{subject.place.name}`, which stays as it is"
        return (Section(caption, shown.code, shown=shown.shown),)
