"""Where a task's change goes, found by the program, not by the model.

Every definition in the project's source files (not its tests) is scored from evidence:
- the frames of the failing tests' tracebacks that fall inside it (the deepest weighs most);
- the names the failing tests call, and names missing from an import ("cannot import name");
- the names, file names and quoted calls in the instruction;
- BM25 of the instruction's words against the definition's words.
The best place becomes a Region: the whole file when the file is small (a small model then
sees and can add whatever it needs), else the definition. Only when the top places are close
and no traceback points at one does the caller ask the model to pick from a numbered list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.code_places import SMALL_FILE_LINES, _Place, _places
from agent.env.spectrum import Spectrum
from agent.env.test_report import Frame, TestReport
from agent.scorers import SCORERS, Clues, score_places

TAIL_LINES = 30  # what is shown of a large file that gains a new definition


@dataclass(frozen=True)
class Region:
    path: str
    first: int  # 0-based, inclusive
    last: int
    name: str
    kind: str  # "file" or "function"
    score: float
    reasons: tuple[str, ...] = ()

    def describe(self) -> str:
        where = {"file": "the whole file", "tail": "the end of", "add": f"a new `{self.name}`"}.get(
            self.kind, f"`{self.name}`"
        )
        return f"{where} in {self.path} (lines {self.first + 1}-{self.last + 1})"


def localize(
    root: Path,
    instruction: str,
    report: TestReport | None = None,
    tests_source: str = "",
    spectrum: Spectrum | None = None,
    seen: tuple[Frame, ...] = (),
    scorers: tuple[str, ...] = tuple(SCORERS),
) -> list[Region]:
    """The candidate regions, best first (at most 5, one per file for small files).
    `seen`: frames the user showed (read from a screenshot), with the project's paths."""
    places = _places(root)
    score_places(places, Clues.of(places, instruction, report, tests_source, spectrum, seen),
                 scorers)  # fmt: skip
    ranked = sorted((p for p in places if p.score > 0), key=lambda p: -p.score)
    regions: list[Region] = []
    listed: set[tuple[str, int, int]] = set()
    for place in ranked:
        region = _region(place)
        key = (region.path, region.first, region.last)
        if key not in listed:
            listed.add(key)
            regions.append(region)
        if len(regions) == 5:
            break
    return regions


def _region(place: _Place) -> Region:
    reasons = tuple(place.reasons[:4])
    if place.missing:  # only the new definition is asked for, and appended
        last = place.lines - 1
        return Region(place.path, last, last, place.missing, "add", place.score, reasons)
    if place.lines <= SMALL_FILE_LINES:
        return Region(place.path, 0, place.lines - 1, place.path, "file", place.score, reasons)
    if place.symbol is None:  # something to add to a large module: its last lines
        first = max(0, place.lines - 1 - TAIL_LINES)
        return Region(place.path, first, place.lines - 1, place.path, "tail", place.score, reasons)
    symbol = place.symbol
    return Region(
        place.path, symbol.start[0], symbol.end[0], symbol.name, "function", place.score, reasons
    )


def traced(regions: list[Region]) -> bool:
    """Whether a traceback or a missing name points at the best region."""
    if not regions:
        return False
    return any(r.startswith("in the traceback") or " is missing" in r for r in regions[0].reasons)


def ambiguous(regions: list[Region]) -> bool:
    """Whether the model should pick: two or more places, close in score, none traced."""
    if len(regions) < 2 or traced(regions):
        return False
    return regions[1].score >= 0.8 * regions[0].score and regions[0].path != regions[1].path
