"""The scorers that localize runs, by name (an effort's config lists the ones it runs):
each adds points and a reason to the places its evidence points at.

- traceback: the frames of the failing tests' tracebacks in project code, the deepest most;
- missing_names: names a failure says are missing from a module or a class;
- spectrum: what only the failing tests run (Ochiai);
- image_frames: frames read from the task's screenshots;
- tests_calls: the names the failing tests call;
- task_names: names, `Owner.member`s and file names in the task;
- bm25: the task's words against each definition's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.code_places import (
    SMALL_FILE_LINES,
    WORD,
    _bm25,
    _innermost,
    _members,
    _module,
    _normal,
    _Place,
    _without_imports,
    words_of,
)  # fmt: skip
from agent.env.spectrum import CodeUnit, Spectrum
from agent.env.test_files import is_test_path
from agent.env.test_report import Frame, TestReport

MISSING_NAME = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
NO_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")
QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")  # Owner.member
FILE_NAME = re.compile(r"[\w./-]+\.(?:py|js|ts|tsx|rs|go)\b")


def _units_by_place(places: list[_Place], spectrum: Spectrum) -> dict[int, list[CodeUnit]]:
    """Each function's code units: its own (found by name, at its line or just above it,
    where its decorators start) and those of the lambdas and comprehensions inside it."""
    found: dict[int, list[CodeUnit]] = {}
    for unit in spectrum.units:
        if is_test_path(unit.path):
            continue
        line = unit.line - 1
        owner = None
        if unit.name.isidentifier():
            owner = next(
                (p for p in places if p.path == unit.path and p.symbol is not None
                 and p.symbol.name == unit.name
                 and p.symbol.start[0] - 1 <= line <= p.symbol.start[0] + 8),
                None,
            )  # fmt: skip
        owner = owner or _innermost(places, unit.path, line)
        if owner is not None:
            found.setdefault(id(owner), []).append(unit)
    return found


@dataclass(frozen=True)
class Clues:
    """What the scorers read: the task, the failing tests and what they ran or showed."""

    instruction: str
    report: TestReport | None
    tests: str  # the failing tests' source
    spectrum: Spectrum | None
    seen: tuple[Frame, ...]  # frames read from the task's images
    names: dict[str, list[_Place]]  # every definition, by name
    suspicion: dict[int, float]  # Ochiai, by place id

    @staticmethod
    def of(
        places: list[_Place], instruction: str, report: TestReport | None, tests: str,
        spectrum: Spectrum | None, seen: tuple[Frame, ...],
    ) -> Clues:  # fmt: skip
        # A name may be defined many times (`pop` in every cache class): each definition
        # gets the name's evidence, and the other evidence tells them apart.
        names: dict[str, list[_Place]] = {}
        for place in places:
            if place.symbol is not None:
                names.setdefault(place.symbol.name, []).append(place)
        suspicion = _suspicion(places, spectrum)
        return Clues(instruction, report, tests, spectrum, seen, names, suspicion)


def _suspicion(places: list[_Place], spectrum: Spectrum | None) -> dict[int, float]:
    if spectrum is None:
        return {}
    units = _units_by_place(places, spectrum)
    return {key: spectrum.ochiai(found) for key, found in units.items()}


def score_spectrum(places: list[_Place], clues: Clues) -> None:
    top = max(clues.suspicion.values(), default=0.0) or 1.0
    for place in places:
        score = clues.suspicion.get(id(place), 0.0)
        if score > 0 and place.symbol is not None:
            # Relative to the most suspicious function: what only the failing tests run.
            place.add(12 * score / top, f"run by the failing tests (Ochiai {score:.2f})")


def score_traceback(places: list[_Place], clues: Clues) -> None:
    """The frames of each failing test's traceback in project code, the deepest most."""
    top = max(clues.suspicion.values(), default=0.0) or 1.0
    for failure in clues.report.failures if clues.report else ():
        frames = [f for f in failure.frames if not is_test_path(f.path)]
        # A function that raises on purpose (`raise KeyError(key)`) only reports what its
        # caller got wrong: the frame above it counts as the deepest.
        while len(frames) > 1 and _deliberate_raise(places, frames[-1]):
            frames = frames[:-1]
        reached = _reached(places, frames)
        crash = reached[-1] if reached else None
        # An override that hands on to the method it overrides (`Cache.__getitem__(self,
        # key)`) is the specific code; the base method serves every subclass.
        if len(reached) > 1 and _same_name(reached[-1], reached[-2]):
            crash = reached[-2]
        for place in reached:
            points = 10.0 + 5 * (place is crash)
            if clues.suspicion:  # a frame in code that passing tests run as much weighs less
                points *= 0.5 + 0.5 * clues.suspicion.get(id(place), 0.0) / top
            place.add(points, f"in the traceback of {failure.name}")


def score_missing_names(places: list[_Place], clues: Clues) -> None:
    """Names a failing test's message says are missing: from a module, or from a class."""
    for failure in clues.report.failures if clues.report else ():
        for name, module in MISSING_NAME.findall(failure.text + failure.message):
            path = module.replace(".", "/") + ".py"
            target = _module(places, path)
            if target is not None and name not in clues.names:
                target.add(14, f"{name} is missing from {path}")
                target.missing = name
        for name in NO_ATTRIBUTE.findall(failure.text + failure.message):
            if name not in clues.names:  # a method to add: the class's file
                for place in places:
                    symbol = place.symbol
                    kind = symbol.kind if symbol else ""
                    if symbol and kind in ("class", "struct") and symbol.name in failure.text:
                        place.add(8, f"{name} is missing from {symbol.name}")


def score_tests_calls(places: list[_Place], clues: Clues) -> None:
    # The names the tests' bodies use; their imports name every function a test file covers.
    called = set(WORD.findall(_without_imports(clues.tests)))
    for name in called & clues.names.keys():
        for place in clues.names[name]:
            place.add(6, "called by the failing tests")
            for member in _members(places, place):
                member.add(3, f"a part of {name}, which the failing tests use")


def score_task_names(places: list[_Place], clues: Clues) -> None:
    """Names, `Owner.member`s and file names in the task."""
    instruction, names = clues.instruction, clues.names
    for name in set(WORD.findall(instruction)) & names.keys():
        for place in names[name]:
            place.add(5, "named in the task")
    for owner, name in set(QUALIFIED.findall(instruction)):
        for place in names.get(owner, ()):
            for member in _members(places, place):
                if member.symbol is not None and member.symbol.name == name:
                    member.add(4, f"named in the task as {owner}.{name}")
    for mentioned in FILE_NAME.findall(instruction):
        for place in places:
            if place.path == mentioned or place.path.endswith("/" + mentioned.lstrip("./")):
                place.add(3, "its file is named in the task")


def score_bm25(places: list[_Place], clues: Clues) -> None:
    scores = _bm25(places, words_of(clues.instruction))
    top = max(scores, default=0) or 1
    for place, score in zip(places, scores, strict=True):
        # A large module's own words are all its functions' words: only its parts compete.
        if place.symbol is None and place.lines > SMALL_FILE_LINES:
            continue
        if score > 0:
            place.add(4 * score / top, "matches the task's words")


def score_image_frames(places: list[_Place], clues: Clues) -> None:
    _score_seen(places, clues.seen)


SCORERS: dict[str, Callable[[list[_Place], Clues], None]] = {
    "spectrum": score_spectrum,
    "image_frames": score_image_frames,
    "traceback": score_traceback,
    "missing_names": score_missing_names,
    "tests_calls": score_tests_calls,
    "task_names": score_task_names,
    "bm25": score_bm25,
}


def _score_seen(places: list[_Place], frames: tuple[Frame, ...]) -> None:
    """Places the user showed (a screenshot's traceback or file:line): like a failing test's
    frames, and the deepest in the project's own code, where it crashed, weighs most (no
    passing test is there to show that the frames above it are fine)."""
    frames = tuple(f for f in frames if not is_test_path(f.path))
    for depth, frame in enumerate(frames):
        place = _innermost(places, _normal(frame.path), frame.line - 1)
        by_name = [p for p in places if p.path == _normal(frame.path) and p.symbol is not None
                   and p.symbol.name == frame.function]  # fmt: skip
        if by_name and (place is None or place.symbol is None
                        or place.symbol.name != frame.function):  # fmt: skip
            place = by_name[0]  # a misread line number: the function's name decides
        if place is not None:
            place.add(10.0 + 8 * (depth == len(frames) - 1), "in the traceback read from the image")


def _reached(places: list[_Place], frames: list[Frame]) -> list[_Place]:
    """The places a traceback runs through, each once, by its last frame there (a chained
    exception repeats the function that caught it)."""
    reached: dict[int, _Place] = {}
    for frame in frames:
        place = _innermost(places, _normal(frame.path), frame.line - 1)
        if place is not None:
            reached.pop(id(place), None)
            reached[id(place)] = place
    return list(reached.values())


def _same_name(one: _Place, other: _Place) -> bool:
    if one.symbol is None or other.symbol is None:
        return False
    return one.symbol.name == other.symbol.name


def _deliberate_raise(places: list[_Place], frame: Frame) -> bool:
    module = _module(places, _normal(frame.path))
    if module is None or not 0 < frame.line <= len(module.source):
        return False
    line = module.source[frame.line - 1].strip()
    return line.startswith("raise ") and "NotImplemented" not in line


def score_places(places: list[_Place], clues: Clues, scorers: tuple[str, ...]) -> None:
    for name, scorer in SCORERS.items():  # in their own order: the reasons read best first
        if name in scorers:
            scorer(places, clues)
