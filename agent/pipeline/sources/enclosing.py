"""Prompt section for a window (agent.pipeline.places.window): the function's signature and
the lines around the window, with a marker where the window's lines go."""

from __future__ import annotations

from agent.pipeline.subject import Subject
from agent.rewrite import Section

AROUND = 8  # lines shown on each side of the window
MARKER = "# <<< the lines shown below go here >>>"


class Enclosing:
    name = "enclosing"

    def sections(self, subject: Subject) -> tuple[Section, ...]:
        outer, window = subject.outer, subject.region
        if outer is None:
            return ()
        lines = subject.original.split("\n")
        head_end = next((row for row in range(outer.first, window.first)
                         if lines[row].rstrip().endswith(":")), outer.first)  # fmt: skip
        start = max(head_end + 1, window.first - AROUND)
        end = min(outer.last + 1, window.last + 1 + AROUND)
        first_line = lines[window.first]
        indent = first_line[: len(first_line) - len(first_line.lstrip())]
        shown = lines[outer.first : head_end + 1]
        shown += ["    ..."] if start > head_end + 1 else []
        shown += [*lines[start : window.first], indent + MARKER, *lines[window.last + 1 : end]]
        shown += ["    ..."] if end < outer.last + 1 else []
        caption = (f"Where those lines sit in `{outer.name}` ({outer.last - outer.first + 1} "
                   "lines in all; everything else stays as it is)")  # fmt: skip
        return (Section(caption, "\n".join(shown)),)
