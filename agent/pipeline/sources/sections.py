"""The prompt sections, by name: a new one is a module and a line here."""

from __future__ import annotations

from agent.pipeline.sources.class_members import ClassMembers
from agent.pipeline.sources.enclosing import Enclosing
from agent.pipeline.sources.failing_tests import FailingTests
from agent.pipeline.sources.named_definitions import NamedDefinitions
from agent.pipeline.sources.outline import Outline
from agent.pipeline.subject import ContextSource

CONTEXT_SOURCES: dict[str, ContextSource] = {
    source.name: source
    for source in (FailingTests(), ClassMembers(), NamedDefinitions(), Enclosing(), Outline())
}
