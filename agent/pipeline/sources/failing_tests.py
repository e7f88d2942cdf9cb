"""Prompt section: the failing tests' source and what they print now."""

from __future__ import annotations

from agent.pipeline.subject import Subject
from agent.rewrite import Section

MAX_TEST_CHARS = 2500
MAX_OUTPUT_CHARS = 1500


class FailingTests:
    name = "failing_tests"

    def sections(self, subject: Subject) -> tuple[Section, ...]:
        evidence = subject.evidence
        found: list[Section] = []
        if evidence.source:
            found.append(Section("The tests that must pass", evidence.source[:MAX_TEST_CHARS]))
        if evidence.output:
            found.append(Section("They fail now", evidence.output[:MAX_OUTPUT_CHARS], "plain"))
        return tuple(found)
