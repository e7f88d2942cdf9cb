"""Prompt section, after the code: what the region's class, or else its module, offers
(agent.class_outline), unless the class is shown whole."""

from __future__ import annotations

from agent.class_outline import class_outline, module_outline
from agent.pipeline.subject import Subject
from agent.rewrite import Section


class Outline:
    name = "outline"

    def sections(self, subject: Subject) -> tuple[Section, ...]:
        place = subject.place
        outline = "" if subject.siblings.complete else class_outline(subject.original, place)
        outline = outline or module_outline(subject.original, place)
        return (Section("", outline, "none", after_code=True),) if outline else ()
